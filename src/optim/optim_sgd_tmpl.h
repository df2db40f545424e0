/* SGD-family update rules, one source for float and double (see optim_tmpl_begin.h).
 * Included by optim_sgd.c with T and SFX defined. */
#include "optim/optim_tmpl_begin.h"

#define FN(name) OPT_CAT(name, SFX)

/* torch.optim.SGD (1.13 _single_tensor_sgd):
 *   d = g (or -g if maximize) + wd*p
 *   b = d at the first step, else b = momentum*b + (1 - dampening)*d
 *   d = d + momentum*b if nesterov, else b          (only when momentum != 0)
 *   p = p - lr*d */
static void FN(sgd_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    T *p = pv, *b = st[0];
    const T *gr = gv;
    const double *h = g->hp;
    const T nlr = (T)(-h[SGD_LR]), mom = (T)h[SGD_MOMENTUM], damp1 = (T)(1.0 - h[SGD_DAMPENING]),
            wd = (T)h[SGD_WD];
    const int use_wd = h[SGD_WD] != 0, use_mom = h[SGD_MOMENTUM] != 0, nest = h[SGD_NESTEROV] != 0,
              maxi = h[SGD_MAXIMIZE] != 0, first = t == 1;
    OPT_FOR_EACH(T d = maxi ? -gr[i] : gr[i];
                 if (use_wd) d = d + wd * p[i];
                 if (use_mom) {
                     b[i] = first ? d : b[i] * mom + damp1 * d;
                     d = nest ? d + mom * b[i] : b[i];
                 }
                 p[i] = p[i] + nlr * d;)
}

/* Heavy ball in Polyak's form: p+ = p - lr*d + momentum*(p - p_prev), p_prev = p at step 1.
 * Equals SGD(lr, momentum, dampening=0) in exact arithmetic (docs/ALGORITHMS.md). */
static void FN(heavyball_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    T *p = pv, *xp = st[0];
    const T *gr = gv;
    const double *h = g->hp;
    const T nlr = (T)(-h[HB_LR]), mom = (T)h[HB_MOMENTUM], wd = (T)h[HB_WD];
    const int use_wd = h[HB_WD] != 0, maxi = h[HB_MAXIMIZE] != 0, first = t == 1;
    OPT_FOR_EACH(T d = maxi ? -gr[i] : gr[i];
                 if (use_wd) d = d + wd * p[i];
                 const T x = p[i], prev = first ? x : xp[i];
                 xp[i] = x;
                 p[i] = x + nlr * d + mom * (x - prev);)
}

/* Nesterov's accelerated gradient, with the parameters holding the extrapolated point y_k
 * (where the gradient is evaluated) and the state "x" the last gradient-step iterate:
 *   x_k = y_{k-1} - lr*grad f(y_{k-1}),  y_k = x_k + beta_k (x_k - x_{k-1}),  x_0 = y_0.
 * beta_k: kappa > 0: (sqrt(kappa)-1)/(sqrt(kappa)+1) (strongly convex form); kappa = 0 and
 * sequence=fista: (t_k - 1)/t_{k+1}, t_1 = 1, t_{k+1} = (1 + sqrt(1 + 4 t_k^2))/2;
 * sequence=k: (k - 1)/(k + 2). */
static void FN(nag_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    T *p = pv, *xs = st[0];
    const T *gr = gv;
    const double *h = g->hp;
    double beta;
    if (h[NAG_KAPPA] > 0) {
        const double sk = sqrt(h[NAG_KAPPA]);
        beta = (sk - 1) / (sk + 1);
    } else if (h[NAG_SEQUENCE] == 0) {
        const double tk = g->scal[0], tk1 = (1 + sqrt(1 + 4 * tk * tk)) / 2;
        beta = (tk - 1) / tk1;
        g->scal[0] = tk1;
    } else {
        beta = (double)(t - 1) / (double)(t + 2);
    }
    const T nlr = (T)(-h[NAG_LR]), bt = (T)beta, wd = (T)h[NAG_WD];
    const int use_wd = h[NAG_WD] != 0, maxi = h[NAG_MAXIMIZE] != 0, first = t == 1;
    OPT_FOR_EACH(T d = maxi ? -gr[i] : gr[i];
                 if (use_wd) d = d + wd * p[i];
                 const T xold = first ? p[i] : xs[i];
                 const T xnew = p[i] + nlr * d;
                 xs[i] = xnew;
                 p[i] = xnew + bt * (xnew - xold);)
}

/* signSGD / Signum (Bernstein et al. 2018): m = momentum*m + (1 - momentum)*d (m_0 = 0),
 * p = p - lr*sign(m); momentum = 0 is signSGD: p = p - lr*sign(d). */
static void FN(signum_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    T *p = pv, *m = st[0];
    const T *gr = gv;
    const double *h = g->hp;
    const T nlr = (T)(-h[SIGNUM_LR]), mom = (T)h[SIGNUM_MOMENTUM], mom1 = (T)(1.0 - h[SIGNUM_MOMENTUM]),
            wd = (T)h[SIGNUM_WD];
    const int use_wd = h[SIGNUM_WD] != 0, use_mom = h[SIGNUM_MOMENTUM] != 0, maxi = h[SIGNUM_MAXIMIZE] != 0;
    (void)t;
    OPT_FOR_EACH(T d = maxi ? -gr[i] : gr[i];
                 if (use_wd) d = d + wd * p[i];
                 if (use_mom) {
                     m[i] = m[i] * mom + mom1 * d;
                     d = m[i];
                 }
                 p[i] = p[i] + nlr * (T)((d > 0) - (d < 0));)
}

/* Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"), decoupled decay:
 *   p = p*(1 - lr*wd);  c = beta1*m + (1 - beta1)*d;  p = p - lr*sign(c);
 *   m = beta2*m + (1 - beta2)*d */
static void FN(lion_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    T *p = pv, *m = st[0];
    const T *gr = gv;
    const double *h = g->hp;
    const T nlr = (T)(-h[LION_LR]), b1 = (T)h[LION_BETA1], b11 = (T)(1.0 - h[LION_BETA1]), b2 = (T)h[LION_BETA2],
            b21 = (T)(1.0 - h[LION_BETA2]), decay = (T)(1.0 - h[LION_LR] * h[LION_WD]);
    const int use_wd = h[LION_WD] != 0, maxi = h[LION_MAXIMIZE] != 0;
    (void)t;
    OPT_FOR_EACH(const T d = maxi ? -gr[i] : gr[i];
                 if (use_wd) p[i] = p[i] * decay;
                 const T c = m[i] * b1 + b11 * d;
                 p[i] = p[i] + nlr * (T)((c > 0) - (c < 0));
                 m[i] = m[i] * b2 + b21 * d;)
}

/* LARS (You, Gitman, Ginsburg 2017, Algorithm 1), per group (one group per tensor gives the
 * paper's layer-wise rates):
 *   local = trust_coefficient*||p|| / (||g|| + wd*||p|| + eps)  (1 if ||p|| or ||g|| is 0)
 *   b = momentum*b + lr*local*(d + wd*p);  p = p - b
 * Norms are summed in float64, serially (fixed order). */
static void FN(lars_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    T *p = pv, *b = st[0];
    const T *gr = gv;
    const double *h = g->hp;
    const int maxi = h[LARS_MAXIMIZE] != 0;
    double pn = 0, gn = 0;
    (void)t;
    for (int k = 0; k < g->nseg; k++)
        for (size_t i = g->segs[k].off; i < g->segs[k].off + g->segs[k].len; i++) {
            pn += (double)p[i] * (double)p[i];
            gn += (double)gr[i] * (double)gr[i];
        }
    pn = sqrt(pn);
    gn = sqrt(gn);
    const double local =
        pn > 0 && gn > 0 ? h[LARS_TRUST] * pn / (gn + h[LARS_WD] * pn + h[LARS_EPS]) : 1;
    const T mom = (T)h[LARS_MOMENTUM], scale = (T)(h[LARS_LR] * local), wd = (T)h[LARS_WD];
    OPT_FOR_EACH(const T d = (maxi ? -gr[i] : gr[i]) + wd * p[i];
                 b[i] = b[i] * mom + scale * d;
                 p[i] = p[i] - b[i];)
}

#undef FN
