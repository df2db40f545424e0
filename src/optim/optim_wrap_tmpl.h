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
