/* Schedule-Free SGD and AdamW, one source for float and double (see optim_tmpl_begin.h).
 * Included by optim_sf.c with T and SFX defined. */
#include "optim/optim_tmpl_begin.h"

#define FN(name) OPT_CAT(name, SFX)

/* Schedule-Free (Defazio et al. 2024, "The Road Less Scheduled"), the reference implementation's
 * (facebookresearch/schedule_free) weighting, written with explicit sequences: the parameters
 * hold y (where gradients are taken), the state z and x (x: the evaluation weights).
 *   lr_t = lr*min(1, t/warmup_steps);  lr_max = max(lr_max, lr_t)
 *   w = t^r * lr_max^weight_lr_power;  W += w;  c = w/W
 *   SGD:   u = g + wd*y                AdamW: v = beta2 v + (1-beta2) g^2,
 *                                              u = g/(sqrt(v/(1-beta2^t)) + eps) + wd*y
 *   z = z - lr_t u;  x = (1-c) x + c z;  y = (1-beta) z + beta x  (beta: momentum / beta1)
 * z = x = y at the first step. */
static void FN(sf_common)(const optim_group *g, int64_t t, T *y, const T *gr, void *const *st, int adam)
{
    T *z = st[0], *x = st[1], *v = adam ? st[2] : NULL;
    const double *h = g->hp;
    double *sc = g->scal;
    const double td = (double)t, warm = h[SF_WARMUP];
    const double lr_t = h[SF_LR] * (warm > 0 && td < warm ? td / warm : 1);
    sc[0] = lr_t > sc[0] ? lr_t : sc[0]; /* lr_max */
    const double w = pow(td, h[SF_R]) * pow(sc[0], h[SF_POWER]);
    sc[1] += w; /* weight sum */
    const double c = sc[1] != 0 ? w / sc[1] : 0;
    const T nlr = (T)(-lr_t), tc = (T)c, c1 = (T)(1 - c), beta = (T)h[SF_BETA], beta1 = (T)(1 - h[SF_BETA]),
            wd = (T)h[SF_WD], b2 = (T)(adam ? h[SF_BETA2] : 0), b21 = (T)(adam ? 1 - h[SF_BETA2] : 0),
            bc2 = (T)(adam ? 1 - pow(h[SF_BETA2], td) : 1), eps = (T)(adam ? h[SF_EPS] : 0);
    const int first = t == 1, use_wd = h[SF_WD] != 0;
    OPT_FOR_EACH(if (first) z[i] = x[i] = y[i];
                 T u = gr[i];
                 if (adam) {
                     v[i] = v[i] * b2 + b21 * u * u;
                     u = u / (SQRT_T(v[i] / bc2) + eps);
                 }
                 if (use_wd) u = u + wd * y[i];
                 z[i] = z[i] + nlr * u;
                 x[i] = c1 * x[i] + tc * z[i];
                 y[i] = beta1 * z[i] + beta * x[i];)
}

static void FN(sgd_sf_step)(const optim_group *g, int64_t t, void *p, const void *gr, void *const *st)
{
    FN(sf_common)(g, t, p, gr, st, 0);
}

static void FN(adamw_sf_step)(const optim_group *g, int64_t t, void *p, const void *gr, void *const *st)
{
    FN(sf_common)(g, t, p, gr, st, 1);
}

#undef FN
