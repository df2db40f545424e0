/* Adafactor, one source for float and double (see optim_tmpl_begin.h). Included by
 * optim_adafactor.c with T and SFX defined. */
#include "optim/optim_tmpl_begin.h"

#define FN(name) OPT_CAT(name, SFX)
/* torch.lerp(a, b, w): a + w (b - a) for |w| < 0.5, else b - (b - a)(1 - w). */
#define LERP(a, b, w) ((w) < (T)0.5 && (w) > (T)-0.5 ? (a) + (w) * ((b) - (a)) : (b) - ((b) - (a)) * ((T)1 - (w)))

/* Adafactor (Shazeer & Stern 2018) as torch.optim.Adafactor (torch >= 2.5, _single_tensor_adafactor):
 *   w = t^beta2_decay;  rho = min(lr, 1/sqrt(t));  alpha = max(eps2, RMS(p)) rho
 *   p = p (1 - lr wd)
 *   matrix group (rows = R > 1, C = len/R > 1): r = r + w (mean_c g^2 - r), s = s + w (mean_r g^2 - s),
 *       V = r s^T / max(mean(r), eps1);   otherwise v = v + w (g^2 - v), V = v
 *   u = g / sqrt(max(V, eps1^2));  p = p - alpha/max(1, RMS(u)/d) u
 * eps1 = 0 means the dtype's machine epsilon (torch's eps=(None, ...)). Norms and means are float64
 * sums in a fixed order. */
static void FN(adafactor_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    T *p = pv, *var = st[0], *u = g->scratch;
    const T *gr = gv;
    const double *h = g->hp;
    if (g->nseg == 0)
        return;
    const int maxi = h[AF_MAXIMIZE] != 0;
    const double td = (double)t, w = pow(td, h[AF_BETA2_DECAY]);
    const double rho = fmin(h[AF_LR], 1 / sqrt(td));
    const double eps1 = h[AF_EPS1] > 0 ? h[AF_EPS1] : (sizeof(T) == sizeof(float) ? 1.1920928955078125e-07 : 2.220446049250313e-16);
    size_t len = 0;
    double pn = 0;
    for (int k = 0; k < g->nseg; k++)
        for (size_t i = g->segs[k].off; i < g->segs[k].off + g->segs[k].len; i++, len++)
            pn += (double)p[i] * (double)p[i];
    const double alpha = fmax(h[AF_EPS2], sqrt(pn) / sqrt((double)len)) * rho;
    if (h[AF_WD] != 0) {
        const T decay = (T)(1 - h[AF_LR] * h[AF_WD]);
        OPT_FOR_EACH(p[i] = p[i] * decay;)
    }
    const size_t R = h[AF_ROWS] > 0 ? (size_t)h[AF_ROWS] : 1, C = len / R;
    const T tw = (T)w, floor2 = (T)(eps1 * eps1);
    size_t k = 0;
    if (R > 1 && C > 1) { /* factored: one slice (checked), row/col statistics in var[off ...] */
        const size_t off = g->segs[0].off;
        T *r = var + off, *s = var + off + R;
        double rmean = 0;
        for (size_t a = 0; a < R; a++) {
            double m = 0;
            for (size_t b = 0; b < C; b++) {
                const double x = maxi ? -(double)gr[off + a * C + b] : (double)gr[off + a * C + b];
                m += x * x;
            }
            r[a] = LERP(r[a], (T)(m / (double)C), tw);
            rmean += (double)r[a];
        }
        for (size_t b = 0; b < C; b++) {
            double m = 0;
            for (size_t a = 0; a < R; a++) {
                const double x = (double)gr[off + a * C + b];
                m += x * x;
            }
            s[b] = LERP(s[b], (T)(m / (double)R), tw);
        }
        const T den = (T)fmax(rmean / (double)R, eps1);
        for (size_t a = 0; a < R; a++)
            for (size_t b = 0; b < C; b++, k++) {
                const T x = maxi ? -gr[off + a * C + b] : gr[off + a * C + b];
                T V = r[a] * s[b] / den;
                V = V > floor2 ? V : floor2;
                u[k] = x / SQRT_T(V);
            }
    } else {
        for (int q = 0; q < g->nseg; q++)
            for (size_t i = g->segs[q].off; i < g->segs[q].off + g->segs[q].len; i++, k++) {
                const T x = maxi ? -gr[i] : gr[i];
                var[i] = LERP(var[i], x * x, tw);
                const T V = var[i] > floor2 ? var[i] : floor2;
                u[k] = x / SQRT_T(V);
            }
    }
    double un = 0;
    for (size_t i = 0; i < len; i++)
        un += (double)u[i] * (double)u[i];
    const double denom = fmax(1.0, sqrt(un) / (sqrt((double)len) * h[AF_D]));
    const T step = (T)(-alpha / denom);
    k = 0;
    for (int q = 0; q < g->nseg; q++)
        for (size_t i = g->segs[q].off; i < g->segs[q].off + g->segs[q].len; i++, k++)
            p[i] = p[i] + step * u[k];
}

#undef FN
#undef LERP
