/* Normalized SGD, Polyak step size, Armijo backtracking: one source for float and double (see
 * optim_tmpl_begin.h). Included by optim_misc.c with T and SFX defined. */
#include "optim/optim_tmpl_begin.h"

#define FN(name) OPT_CAT(name, SFX)

/* Normalized SGD with momentum (catalog-000 A22, Cutkosky & Mehta 2020):
 *   d = g + wd*p;  m = momentum*m + (1 - momentum)*d  (m = d when momentum = 0)
 *   p = p - lr * m/(||m|| + eps)   (||m|| over the group, float64, serial) */
static void FN(nsgd_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    T *p = pv, *m = st[0];
    const T *gr = gv;
    const double *h = g->hp;
    const T mom = (T)h[NSGD_MOMENTUM], mom1 = (T)(1.0 - h[NSGD_MOMENTUM]), wd = (T)h[NSGD_WD];
    const int use_wd = h[NSGD_WD] != 0, maxi = h[NSGD_MAXIMIZE] != 0;
    (void)t;
    OPT_FOR_EACH(T d = maxi ? -gr[i] : gr[i];
                 if (use_wd) d = d + wd * p[i];
                 m[i] = m[i] * mom + mom1 * d;)
    double nm = 0;
    for (int k = 0; k < g->nseg; k++)
        for (size_t i = g->segs[k].off; i < g->segs[k].off + g->segs[k].len; i++)
            nm += (double)m[i] * (double)m[i];
    const T scale = (T)(-h[NSGD_LR] / (sqrt(nm) + h[NSGD_EPS]));
    OPT_FOR_EACH(p[i] = p[i] + scale * m[i];)
}

static void FN(lb_copy_misc)(T *dst, const T *src, size_t n)
{
    memcpy(dst, src, n * sizeof *dst);
}

static double FN(misc_sqnorm)(const T *a, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * (double)a[i];
    return s;
}

/* Polyak's step size (Polyak 1987; SPS_max of Loizou et al. 2021 with max_lr > 0):
 *   gamma = (f(p) - f_star) / (c ||g||^2), capped at max_lr when max_lr > 0; p = p - gamma*g.
 * No step when ||g|| = 0 or f(p) <= f_star. */
static dsc_status FN(polyak_closure_step)(const optim_closure_args *a)
{
    const double *h = a->g->hp;
    T *p = a->p;
    const T *g = a->grad;
    const double f = a->closure(a->ctx, a->p, a->grad);
    *a->loss = f;
    const double g2 = FN(misc_sqnorm)(g, a->n);
    double gamma = g2 > 0 && f > h[POL_F_STAR] ? (f - h[POL_F_STAR]) / (h[POL_C] * g2) : 0;
    if (h[POL_MAX_LR] > 0 && gamma > h[POL_MAX_LR])
        gamma = h[POL_MAX_LR];
    a->g->scal[0] = gamma; /* the last step size, for inspection */
    const T ng = (T)(-gamma);
    for (size_t i = 0; i < a->n; i++)
        p[i] = p[i] + ng * g[i];
    return DSC_OK;
}

/* Gradient descent with Armijo backtracking (Armijo 1966; Nocedal & Wright Alg. 3.1):
 *   t = lr; while f(p - t g) > f(p) - c t ||g||^2 and fewer than max_backtracks: t = beta*t
 *   p = p - t g  (the last tried t if the condition never held) */
static dsc_status FN(armijo_closure_step)(const optim_closure_args *a)
{
    const double *h = a->g->hp;
    const size_t n = a->n;
    T *p = a->p, *g0 = a->scratch, *x0 = g0 + n;
    const double f = a->closure(a->ctx, a->p, a->grad);
    *a->loss = f;
    FN(lb_copy_misc)(g0, a->grad, n);
    FN(lb_copy_misc)(x0, p, n);
    const double g2 = FN(misc_sqnorm)(g0, n);
    double t = h[ARM_LR];
    int k = 0;
    for (;;) {
        const T nt = (T)(-t);
        for (size_t i = 0; i < n; i++)
            p[i] = x0[i] + nt * g0[i];
        if (g2 == 0 || k >= (int)h[ARM_MAX_BACKTRACKS])
            break;
        const double ft = a->closure(a->ctx, a->p, a->grad);
        if (ft <= f - h[ARM_C] * t * g2)
            break;
        t *= h[ARM_BETA];
        k++;
    }
    a->g->scal[0] = t; /* the accepted step size */
    a->g->scal[1] += k; /* backtracking steps so far */
    return DSC_OK;
}

#undef FN
