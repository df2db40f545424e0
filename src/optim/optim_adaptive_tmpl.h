/* Adaptive update rules, one source for float and double (see optim_tmpl_begin.h).
 * Included by optim_adaptive.c with T and SFX defined. Each rule follows torch 1.13's
 * _single_tensor_<name> operation by operation (same association order), so that float64
 * trajectories match torch's to the last bits where torch does not fuse multiply-adds. */
#include "optim/optim_tmpl_begin.h"

#define FN(name) OPT_CAT(name, SFX)
#define SQRT(x) _Generic((x), float: sqrtf, default: sqrt)(x)
/* torch.sign: -1, 0, 1 (NaN -> 0 here). */
#define SIGN(x) ((T)(((x) > 0) - ((x) < 0)))

/* torch.optim.Adagrad:
 *   clr = lr / (1 + (t - 1)*lr_decay);  d = g + wd*p;  sum = sum + d*d  (sum_0 = initial_accumulator_value)
 *   p = p - clr*d / (sqrt(sum) + eps)    (eps_inside=1: sqrt(sum + eps), Duchi et al. / the texts) */
static void FN(adagrad_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    T *p = pv, *sum = st[0];
    const T *gr = gv;
    const double *h = g->hp;
    const double clr = h[AG_LR] / (1 + ((double)t - 1) * h[AG_LR_DECAY]);
    const T nclr = (T)(-clr), wd = (T)h[AG_WD], eps = (T)h[AG_EPS];
    const int use_wd = h[AG_WD] != 0, maxi = h[AG_MAXIMIZE] != 0, inside = h[AG_EPS_INSIDE] != 0;
    OPT_FOR_EACH(T d = maxi ? -gr[i] : gr[i];
                 if (use_wd) d = d + wd * p[i];
                 sum[i] = sum[i] + d * d;
                 const T std = inside ? SQRT(sum[i] + eps) : SQRT(sum[i]) + eps;
                 p[i] = p[i] + nclr * d / std;)
}

/* AdaGrad-norm (Ward, Wu, Bottou 2019; catalog A13): one step size per group,
 *   d = g + wd*p;  s = s + ||d||^2 (s_0 = initial_accumulator_value = kappa^2)
 *   p = p - lr*d / (sqrt(s) + eps)
 * The norm is summed in float64 in a fixed order (slices in order, elements in order). */
static void FN(adagrad_norm_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    T *p = pv;
    const T *gr = gv;
    const double *h = g->hp;
    const T wd = (T)h[AGN_WD];
    const int use_wd = h[AGN_WD] != 0, maxi = h[AGN_MAXIMIZE] != 0;
    double s = 0;
    (void)t;
    (void)st;
    for (int k = 0; k < g->nseg; k++)
        for (size_t i = g->segs[k].off; i < g->segs[k].off + g->segs[k].len; i++) {
            T d = maxi ? -gr[i] : gr[i];
            if (use_wd)
                d = d + wd * p[i];
            s += (double)d * (double)d;
        }
    g->scal[0] += s;
    const T scale = (T)(-h[AGN_LR] / (sqrt(g->scal[0]) + h[AGN_EPS]));
    OPT_FOR_EACH(T d = maxi ? -gr[i] : gr[i];
                 if (use_wd) d = d + wd * p[i];
                 p[i] = p[i] + scale * d;)
}

/* torch.optim.RMSprop:
 *   d = g + wd*p;  v = alpha*v + (1 - alpha)*d*d
 *   centered: a = alpha*a + (1 - alpha)*d, avg = sqrt(v - a*a) + eps;  else avg = sqrt(v) + eps
 *   momentum > 0: b = momentum*b + d/avg, p = p - lr*b;  else p = p - lr*d/avg
 *   (eps_inside=1: avg = sqrt(v + eps), as Tieleman & Hinton / the texts) */
static void FN(rmsprop_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    T *p = pv, *v = st[0], *b = st[1], *a = st[2];
    const T *gr = gv;
    const double *h = g->hp;
    const T nlr = (T)(-h[RMS_LR]), al = (T)h[RMS_ALPHA], al1 = (T)(1.0 - h[RMS_ALPHA]), eps = (T)h[RMS_EPS],
            wd = (T)h[RMS_WD], mom = (T)h[RMS_MOMENTUM];
    const int use_wd = h[RMS_WD] != 0, cen = h[RMS_CENTERED] != 0, use_mom = h[RMS_MOMENTUM] > 0,
              maxi = h[RMS_MAXIMIZE] != 0, inside = h[RMS_EPS_INSIDE] != 0;
    (void)t;
    OPT_FOR_EACH(T d = maxi ? -gr[i] : gr[i];
                 if (use_wd) d = d + wd * p[i];
                 v[i] = v[i] * al + al1 * d * d;
                 T avg;
                 if (cen) {
                     a[i] = a[i] * al + al1 * d;
                     avg = v[i] + (T)(-1) * a[i] * a[i];
                 } else {
                     avg = v[i];
                 }
                 avg = inside ? SQRT(avg + eps) : SQRT(avg) + eps;
                 if (use_mom) {
                     b[i] = b[i] * mom + d / avg;
                     p[i] = p[i] + nlr * b[i];
                 } else {
                     p[i] = p[i] + nlr * d / avg;
                 })
}

/* torch.optim.Adadelta:
 *   d = g + wd*p;  v = rho*v + (1 - rho)*d*d
 *   delta = sqrt(u + eps) / sqrt(v + eps) * d;  u = rho*u + (1 - rho)*delta^2;  p = p - lr*delta */
static void FN(adadelta_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    T *p = pv, *v = st[0], *u = st[1];
    const T *gr = gv;
    const double *h = g->hp;
    const T nlr = (T)(-h[ADD_LR]), rho = (T)h[ADD_RHO], rho1 = (T)(1.0 - h[ADD_RHO]), eps = (T)h[ADD_EPS],
            wd = (T)h[ADD_WD];
    const int use_wd = h[ADD_WD] != 0, maxi = h[ADD_MAXIMIZE] != 0;
    (void)t;
    OPT_FOR_EACH(T d = maxi ? -gr[i] : gr[i];
                 if (use_wd) d = d + wd * p[i];
                 v[i] = v[i] * rho + rho1 * d * d;
                 const T std = SQRT(v[i] + eps);
                 const T delta = SQRT(u[i] + eps) / std * d;
                 u[i] = u[i] * rho + rho1 * delta * delta;
                 p[i] = p[i] + nlr * delta;)
}

/* torch.optim.Adam and AdamW (decoupled: p = p*(1 - lr*wd) first, no wd in d):
 *   d = g + wd*p (Adam);  m = beta1*m + (1 - beta1)*d;  v = beta2*v + (1 - beta2)*d*d
 *   amsgrad: vmax = max(vmax, v), use vmax for v
 *   denom = sqrt(v)/sqrt(1 - beta2^t) + eps;  p = p - (lr/(1 - beta1^t)) * m/denom
 * Options from Optax: eps_root (denom = sqrt(v/(1 - beta2^t) + eps_root) + eps) and
 * amsgrad_after_bc (the max over bias-corrected v/(1 - beta2^t), as optax.amsgrad). */
static void FN(adam_common)(const optim_group *g, int64_t t, T *p, const T *gr, void *const *st, int decoupled)
{
    T *m = st[0], *v = st[1], *vmax = st[2];
    const double *h = g->hp;
    const double lr = h[ADAM_LR], bc1 = 1 - pow(h[ADAM_BETA1], (double)t), bc2 = 1 - pow(h[ADAM_BETA2], (double)t);
    const T nstep = (T)(-(lr / bc1)), bc2s = (T)sqrt(bc2), b1 = (T)h[ADAM_BETA1], b11 = (T)(1.0 - h[ADAM_BETA1]),
            b2 = (T)h[ADAM_BETA2], b21 = (T)(1.0 - h[ADAM_BETA2]), eps = (T)h[ADAM_EPS], wd = (T)h[ADAM_WD],
            decay = (T)(1.0 - lr * h[ADAM_WD]);
    const int use_wd = h[ADAM_WD] != 0, ams = h[ADAM_AMSGRAD] != 0, maxi = h[ADAM_MAXIMIZE] != 0,
              ams_bc = h[ADAM_AMSGRAD_BC] != 0, alt = ams_bc || h[ADAM_EPS_ROOT] != 0;
    /* Optax's forms (eps_root > 0 or amsgrad_after_bc = 1): v^ = v/(1 - beta2^t) first,
     * denom = sqrt(v^ + eps_root) + eps, AMSGrad's max taken over v^. */
    const T bc2t = (T)bc2, eps_root = (T)h[ADAM_EPS_ROOT];
    if (!ams && !alt) {
        /* The common case as its own loop, so that it vectorizes (no conditional state). */
        OPT_FOR_EACH(T d = maxi ? -gr[i] : gr[i];
                     if (use_wd) {
                         if (decoupled)
                             p[i] = p[i] * decay;
                         else
                             d = d + wd * p[i];
                     }
                     m[i] = m[i] * b1 + b11 * d;
                     v[i] = v[i] * b2 + b21 * d * d;
                     const T denom = SQRT(v[i]) / bc2s + eps;
                     p[i] = p[i] + nstep * m[i] / denom;)
        return;
    }
    OPT_FOR_EACH(T d = maxi ? -gr[i] : gr[i];
                 if (use_wd) {
                     if (decoupled)
                         p[i] = p[i] * decay;
                     else
                         d = d + wd * p[i];
                 }
                 m[i] = m[i] * b1 + b11 * d;
                 v[i] = v[i] * b2 + b21 * d * d;
                 T vv = v[i];
                 if (ams && !ams_bc) {
                     if (vv > vmax[i] || vv != vv)
                         vmax[i] = vv;
                     vv = vmax[i];
                 }
                 T denom;
                 if (!alt) {
                     denom = SQRT(vv) / bc2s + eps;
                 } else {
                     T vh = vv / bc2t;
                     if (ams && ams_bc) {
                         if (vh > vmax[i] || vh != vh)
                             vmax[i] = vh;
                         vh = vmax[i];
                     }
                     denom = SQRT(vh + eps_root) + eps;
                 }
                 p[i] = p[i] + nstep * m[i] / denom;)
}

static void FN(adam_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    FN(adam_common)(g, t, pv, gv, st, 0);
}

static void FN(adamw_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    FN(adam_common)(g, t, pv, gv, st, 1);
}

/* torch.optim.Adamax:
 *   d = g + wd*p;  m = beta1*m + (1 - beta1)*d;  u = max(beta2*u, |d| + eps)
 *   p = p - (lr/(1 - beta1^t)) * m/u */
static void FN(adamax_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    T *p = pv, *m = st[0], *u = st[1];
    const T *gr = gv;
    const double *h = g->hp;
    const T nclr = (T)(-(h[AMX_LR] / (1 - pow(h[AMX_BETA1], (double)t)))), b1 = (T)h[AMX_BETA1],
            b11 = (T)(1.0 - h[AMX_BETA1]), b2 = (T)h[AMX_BETA2], eps = (T)h[AMX_EPS], wd = (T)h[AMX_WD];
    const int use_wd = h[AMX_WD] != 0, maxi = h[AMX_MAXIMIZE] != 0;
    OPT_FOR_EACH(T d = maxi ? -gr[i] : gr[i];
                 if (use_wd) d = d + wd * p[i];
                 m[i] = m[i] * b1 + b11 * d;
                 const T a = u[i] * b2, c = (d < 0 ? -d : d) + eps;
                 u[i] = (c > a || c != c) ? c : a;
                 p[i] = p[i] + nclr * m[i] / u[i];)
}

/* torch.optim.NAdam (Dozat 2016 with torch's momentum schedule):
 *   mu_t = beta1*(1 - 0.5*0.96^(t*momentum_decay));  mu_{t+1} likewise
 *   P = P*mu_t (mu_product, P_0 = 1);  P' = P*mu_t*mu_{t+1} (torch 1.13; P*mu_{t+1} with
 *   fix_mu_product=1, as torch >= 2.0);  d = g + wd*p (or p = p*(1 - lr*wd) if decoupled)
 *   m, v as Adam;  denom = sqrt(v/(1 - beta2^t)) + eps
 *   p = p - lr*(1 - mu_t)/(1 - P) * d/denom - lr*mu_{t+1}/(1 - P') * m/denom */
static void FN(nadam_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    T *p = pv, *m = st[0], *v = st[1];
    const T *gr = gv;
    const double *h = g->hp;
    const double lr = h[NAD_LR], b1d = h[NAD_BETA1], md = h[NAD_MOMENTUM_DECAY], td = (double)t;
    const double mu = b1d * (1. - 0.5 * pow(0.96, td * md)), mu_next = b1d * (1. - 0.5 * pow(0.96, (td + 1) * md));
    g->scal[0] *= mu;
    const double mp = g->scal[0], mpn = h[NAD_FIX] != 0 ? mp * mu_next : mp * mu * mu_next;
    const T bc2 = (T)(1 - pow(h[NAD_BETA2], td)), c1 = (T)(-lr * (1. - mu) / (1. - mp)),
            c2 = (T)(-lr * mu_next / (1. - mpn)), b1 = (T)b1d, b11 = (T)(1.0 - b1d), b2 = (T)h[NAD_BETA2],
            b21 = (T)(1.0 - h[NAD_BETA2]), eps = (T)h[NAD_EPS], wd = (T)h[NAD_WD], decay = (T)(1.0 - lr * h[NAD_WD]);
    const int use_wd = h[NAD_WD] != 0, dec = h[NAD_DECOUPLED] != 0;
    OPT_FOR_EACH(T d = gr[i];
                 if (use_wd) {
                     if (dec)
                         p[i] = p[i] * decay;
                     else
                         d = d + wd * p[i];
                 }
                 m[i] = m[i] * b1 + b11 * d;
                 v[i] = v[i] * b2 + b21 * d * d;
                 const T denom = SQRT(v[i] / bc2) + eps;
                 p[i] = p[i] + c1 * d / denom;
                 p[i] = p[i] + c2 * m[i] / denom;)
}

/* torch.optim.RAdam (Liu et al. 2020):
 *   d = g + wd*p (or p = p*(1 - lr*wd) with decoupled_weight_decay=1, torch 2.x);  m, v as Adam
 *   rho_inf = 2/(1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2^t/(1 - beta2^t)
 *   rho_t > 5: r = sqrt((rho_t-4)(rho_t-2)rho_inf / ((rho_inf-4)(rho_inf-2)rho_t)),
 *              p = p - m/(1-beta1^t) * lr * sqrt(1-beta2^t)/(sqrt(v)+eps) * r
 *   else:      p = p - m/(1-beta1^t) * lr */
static void FN(radam_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    T *p = pv, *m = st[0], *v = st[1];
    const T *gr = gv;
    const double *h = g->hp;
    const double lr = h[RAD_LR], td = (double)t, b2d = h[RAD_BETA2];
    const double bc1 = 1 - pow(h[RAD_BETA1], td), bc2 = 1 - pow(b2d, td);
    const double rho_inf = 2 / (1 - b2d) - 1, rho_t = rho_inf - 2 * td * pow(b2d, td) / bc2;
    const int rectify = rho_t > 5.;
    const double rect =
        rectify ? sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) : 0;
    const T tbc1 = (T)bc1, tlr = (T)lr, trect = (T)rect, bc2s = (T)sqrt(bc2), b1 = (T)h[RAD_BETA1],
            b11 = (T)(1.0 - h[RAD_BETA1]), b2 = (T)b2d, b21 = (T)(1.0 - b2d), eps = (T)h[RAD_EPS],
            wd = (T)h[RAD_WD], decay = (T)(1.0 - lr * h[RAD_WD]);
    const int use_wd = h[RAD_WD] != 0, dec = h[RAD_DECOUPLED] != 0;
    OPT_FOR_EACH(T d = gr[i];
                 if (use_wd) {
                     if (dec)
                         p[i] = p[i] * decay;
                     else
                         d = d + wd * p[i];
                 }
                 m[i] = m[i] * b1 + b11 * d;
                 v[i] = v[i] * b2 + b21 * d * d;
                 const T bcm = m[i] / tbc1;
                 if (rectify) {
                     const T alr = bc2s / (SQRT(v[i]) + eps);
                     p[i] = p[i] - bcm * tlr * alr * trect;
                 } else {
                     p[i] = p[i] - bcm * tlr;
                 })
}

/* torch.optim.Rprop (Riedmiller & Braun 1993, without weight backtracking):
 *   s = sign(d*prev): s > 0 -> eta_plus, s < 0 -> eta_minus, 0 -> 1
 *   step = clamp(step*s, step_min, step_max) (step_0 = lr);  d = 0 where s < 0
 *   p = p - sign(d)*step;  prev = d */
static void FN(rprop_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    T *p = pv, *prev = st[0], *ss = st[1];
    const T *gr = gv;
    const double *h = g->hp;
    const T em = (T)h[RP_ETA_MINUS], ep = (T)h[RP_ETA_PLUS], smin = (T)h[RP_STEP_MIN], smax = (T)h[RP_STEP_MAX];
    const int maxi = h[RP_MAXIMIZE] != 0;
    (void)t;
    OPT_FOR_EACH(T d = maxi ? -gr[i] : gr[i];
                 const T s = d * prev[i];
                 const T f = s > 0 ? ep : s < 0 ? em : (T)1;
                 T step = ss[i] * f;
                 step = step < smin ? smin : step;
                 step = step > smax ? smax : step;
                 ss[i] = step;
                 if (s < 0) d = 0;
                 p[i] = p[i] + (T)(-1) * SIGN(d) * step;
                 prev[i] = d;)
}

/* torch.optim.ASGD (Polyak & Juditsky 1992 averaging, Bottou's step sizes):
 *   d = g + wd*p;  p = p*(1 - lambd*eta);  p = p - eta*d
 *   ax = ax + mu*(p - ax) (ax = p when mu = 1)
 *   eta = lr / (1 + lambd*lr*t)^alpha;  mu = 1/max(1, t - t0)    (eta_0 = lr, mu_0 = 1) */
static void FN(asgd_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    T *p = pv, *ax = st[0];
    const T *gr = gv;
    const double *h = g->hp;
    const double eta = g->scal[0], mu = g->scal[1];
    const T decay = (T)(1 - h[ASGD_LAMBD] * eta), neta = (T)(-eta), tmu = (T)mu, wd = (T)h[ASGD_WD];
    const int use_wd = h[ASGD_WD] != 0, avg = mu != 1, maxi = h[ASGD_MAXIMIZE] != 0;
    OPT_FOR_EACH(T d = maxi ? -gr[i] : gr[i];
                 if (use_wd) d = d + wd * p[i];
                 p[i] = p[i] * decay;
                 p[i] = p[i] + neta * d;
                 ax[i] = avg ? ax[i] + (p[i] - ax[i]) * tmu : p[i];)
    const double lr = h[ASGD_LR], td = (double)t, m = td - h[ASGD_T0];
    g->scal[0] = lr / pow(1 + h[ASGD_LAMBD] * lr * td, h[ASGD_ALPHA]);
    g->scal[1] = 1 / (m > 1 ? m : 1);
}

/* LAMB (You et al. 2020, "Large Batch Optimization for Deep Learning"), per group (one group
 * per tensor gives the paper's layer-wise trust ratio):
 *   m, v as Adam (d = +-g, no L2);  m^ = m/(1 - beta1^t), v^ = v/(1 - beta2^t) (bias_correction=1)
 *   u = m^/(sqrt(v^) + eps) + wd*p
 *   r = ||p|| / ||u|| (1 if either norm is 0);  p = p - lr*r*u
 * Norms are summed in float64, serially (fixed order). */
static void FN(lamb_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    T *p = pv, *m = st[0], *v = st[1];
    const T *gr = gv;
    const double *h = g->hp;
    const int bc = h[LAMB_BIAS_CORRECTION] != 0, maxi = h[LAMB_MAXIMIZE] != 0;
    const T b1 = (T)h[LAMB_BETA1], b11 = (T)(1.0 - h[LAMB_BETA1]), b2 = (T)h[LAMB_BETA2],
            b21 = (T)(1.0 - h[LAMB_BETA2]), eps = (T)h[LAMB_EPS], wd = (T)h[LAMB_WD],
            bc1 = (T)(bc ? 1 - pow(h[LAMB_BETA1], (double)t) : 1),
            bc2 = (T)(bc ? 1 - pow(h[LAMB_BETA2], (double)t) : 1);
    OPT_FOR_EACH(const T d = maxi ? -gr[i] : gr[i];
                 m[i] = m[i] * b1 + b11 * d;
                 v[i] = v[i] * b2 + b21 * d * d;)
    double pn = 0, un = 0;
    for (int k = 0; k < g->nseg; k++)
        for (size_t i = g->segs[k].off; i < g->segs[k].off + g->segs[k].len; i++) {
            const T u = (m[i] / bc1) / (SQRT(v[i] / bc2) + eps) + wd * p[i];
            pn += (double)p[i] * (double)p[i];
            un += (double)u * (double)u;
        }
    const double ratio = pn > 0 && un > 0 ? sqrt(pn) / sqrt(un) : 1;
    const T step = (T)(-h[LAMB_LR] * ratio);
    OPT_FOR_EACH(const T u = (m[i] / bc1) / (SQRT(v[i] / bc2) + eps) + wd * p[i];
                 p[i] = p[i] + step * u;)
}

#undef FN
#undef SQRT
#undef SIGN
