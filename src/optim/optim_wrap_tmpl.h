/* Wrapper optimizers (SAM, Lookahead), one source for float and double (see
 * optim_tmpl_begin.h). Included by optim_wrap.c with T and SFX defined. */
#include "optim/optim_tmpl_begin.h"

#define FN(name) OPT_CAT(name, SFX)

/* SAM (Foret et al. 2021; adaptive: ASAM, Kwon et al. 2021), as the authors' reference code
 * (davda54/sam): s = a*g with a = |p| (adaptive) or 1; e = (p^2 or 1)*g*rho/(||s|| + eps);
 * gradient at p + e (second closure call), p restored, then the base optimizer's step with
 * that gradient. The loss reported is the one at p. */
static dsc_status FN(sam_step)(dsc_optim *o, void *pv, void *gv, dsc_closure closure, void *ctx, double *loss)
{
    if (!closure)
        return DSC_ERROR(DSC_ERR_INVALID, "sam evaluates the gradient twice per step: use dsc_optim_step_closure");
    const double *h = o->groups[0].hp;
    const size_t n = o->n;
    T *p = pv, *g = gv, *saved = o->scratch;
    const int adaptive = h[SAM_ADAPTIVE] != 0;
    *loss = closure(ctx, pv, gv);
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        const double v = (double)g[i] * (adaptive ? fabs((double)p[i]) : 1.0);
        s += v * v;
    }
    const T scale = (T)(h[SAM_RHO] / (sqrt(s) + h[SAM_EPS]));
    for (size_t i = 0; i < n; i++) {
        saved[i] = p[i];
        p[i] = p[i] + (adaptive ? p[i] * p[i] : (T)1) * g[i] * scale;
    }
    closure(ctx, pv, gv);
    memcpy(p, saved, n * sizeof *p);
    return dsc_optim_step(o->inner, pv, gv);
}

/* Lookahead (Zhang et al. 2019): the base optimizer updates the fast weights p; every k steps
 * slow = slow + alpha*(p - slow), p = slow (slow = p before the first step). */
static dsc_status FN(lookahead_step)(dsc_optim *o, void *pv, void *gv, dsc_closure closure, void *ctx, double *loss)
{
    const double *h = o->groups[0].hp;
    const size_t n = o->n;
    T *p = pv, *slow = o->buf[0];
    if (o->steps == 1)
        memcpy(slow, p, n * sizeof *p);
    if (closure)
        DSC_TRY(dsc_optim_step_closure(o->inner, pv, gv, closure, ctx, loss));
    else
        DSC_TRY(dsc_optim_step(o->inner, pv, gv));
    if (o->steps % (int64_t)h[LA_K] == 0) {
        const T alpha = (T)h[LA_ALPHA];
        for (size_t i = 0; i < n; i++) {
            slow[i] = slow[i] + alpha * (p[i] - slow[i]);
            p[i] = slow[i];
        }
    }
    return DSC_OK;
}

/* Zeroth-order gradient estimators (the loss only; the closure's gradient output goes to a
 * scratch buffer and is ignored), then the base optimizer's step with the estimate:
 *   gauss:  g = 1/K sum_k (f(p + mu u_k) - f(p))/mu u_k,  u_k ~ N(0, I)   (Nesterov & Spokoiny
 *           2017; catalog-000 A12); symmetric=1: (f(p + mu u) - f(p - mu u))/(2 mu)
 *   sphere: the same with u uniform on the unit sphere and a factor n (catalog-000 erratum 5)
 *   spsa:   g_i = 1/K sum_k (f(p + mu D_k) - f(p - mu D_k))/(2 mu D_k,i), D Rademacher (Spall 1992)
 *   coord:  g_i = (f(p + mu e_i) - f(p - mu e_i))/(2 mu)  (2n evaluations; K ignored)
 * Random directions come from the counter-based generator (seed); its counter is scalar 0 so
 * that checkpoints continue the same stream; scalar 1 counts loss evaluations. */
static dsc_status FN(zo_step)(dsc_optim *o, void *pv, void *gv, dsc_closure closure, void *ctx, double *loss)
{
    if (!closure)
        return DSC_ERROR(DSC_ERR_INVALID, "zo estimates gradients from loss values: use dsc_optim_step_closure");
    const double *h = o->groups[0].hp;
    double *sc = o->groups[0].scal;
    const size_t n = o->n;
    T *p = pv, *g = gv, *x0 = o->scratch, *u = x0 + n, *dummy = u + n, *est = dummy + n;
    const int method = (int)h[ZO_METHOD], K = method == 3 ? 1 : (int)h[ZO_DIRECTIONS];
    const int sym = h[ZO_SYMMETRIC] != 0 || method >= 2;
    const double mu = h[ZO_MU];
    dsc_rng rng = {(uint64_t)h[ZO_SEED], (uint64_t)sc[0]};
    memcpy(x0, p, n * sizeof *p);
    memset(est, 0, n * sizeof *est);
    const double f0 = closure(ctx, pv, dummy);
    sc[1] += 1;
    *loss = f0;
    for (int k = 0; k < K; k++) {
        if (method == 3) { /* coordinates */
            for (size_t i = 0; i < n; i++) {
                p[i] = (T)((double)x0[i] + mu);
                const double fp = closure(ctx, pv, dummy);
                p[i] = (T)((double)x0[i] - mu);
                const double fm = closure(ctx, pv, dummy);
                p[i] = x0[i];
                sc[1] += 2;
                est[i] = (T)((fp - fm) / (2 * mu));
            }
            break;
        }
        double nrm = 0;
        for (size_t i = 0; i < n; i++) {
            const double r = method == 2 ? (dsc_rng_u32(&rng) & 1 ? 1.0 : -1.0) : dsc_rng_normal(&rng);
            u[i] = (T)r;
            nrm += (double)u[i] * (double)u[i];
        }
        if (method == 1 && nrm > 0) { /* uniform on the sphere */
            const T inv = (T)(1 / sqrt(nrm));
            for (size_t i = 0; i < n; i++)
                u[i] = u[i] * inv;
        }
        for (size_t i = 0; i < n; i++)
            p[i] = (T)((double)x0[i] + mu * (double)u[i]);
        const double fp = closure(ctx, pv, dummy);
        double fm = f0;
        if (sym) {
            for (size_t i = 0; i < n; i++)
                p[i] = (T)((double)x0[i] - mu * (double)u[i]);
            fm = closure(ctx, pv, dummy);
        }
        sc[1] += sym ? 2 : 1;
        const double dd = (fp - fm) / (sym ? 2 * mu : mu) / K * (method == 1 ? (double)n : 1.0);
        for (size_t i = 0; i < n; i++)
            est[i] = est[i] + (T)(method == 2 ? dd / (double)u[i] : dd * (double)u[i]);
    }
    memcpy(p, x0, n * sizeof *p);
    memcpy(g, est, n * sizeof *g);
    sc[0] = (double)rng.counter;
    return dsc_optim_step(o->inner, pv, gv);
}

/* Iterate averaging, as torch.optim.swa_utils.AveragedModel.update_parameters after the base
 * step of every step t >= start with (t - start) % every == 0: the first averaged iterate is
 * copied; then mode=mean: avg = avg + (p - avg)/(n + 1) (torch's default avg_fn; SWA and
 * Polyak-Ruppert), mode=ema: avg = avg + (1 - decay)(p - avg). n counts averaged iterates. */
static dsc_status FN(average_step)(dsc_optim *o, void *pv, void *gv, dsc_closure closure, void *ctx, double *loss)
{
    const double *h = o->groups[0].hp;
    const size_t n = o->n;
    T *p = pv, *avg = o->buf[0];
    double *count = &o->groups[0].scal[0];
    if (closure)
        DSC_TRY(dsc_optim_step_closure(o->inner, pv, gv, closure, ctx, loss));
    else
        DSC_TRY(dsc_optim_step(o->inner, pv, gv));
    const int64_t t = o->steps, start = (int64_t)h[AVG_START], every = (int64_t)h[AVG_EVERY];
    if (t < start || (t - start) % every != 0)
        return DSC_OK;
    if (*count == 0) {
        memcpy(avg, p, n * sizeof *p);
    } else if (h[AVG_MODE] == 0) {
        const T div = (T)(*count + 1);
        for (size_t i = 0; i < n; i++)
            avg[i] = avg[i] + (p[i] - avg[i]) / div;
    } else {
        const T w = (T)(1.0 - h[AVG_DECAY]);
        for (size_t i = 0; i < n; i++)
            avg[i] = avg[i] + (p[i] - avg[i]) * w;
    }
    *count += 1;
    return DSC_OK;
}

#undef FN
