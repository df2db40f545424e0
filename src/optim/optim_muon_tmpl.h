/* Muon, one source for float and double (see optim_tmpl_begin.h). Included by optim_muon.c
 * with T, SFX and MUON_GEMM (C = alpha op(A) op(B) + beta C, row-major) defined. */
#include "optim/optim_tmpl_begin.h"

#define FN(name) OPT_CAT(name, SFX)

/* Muon (Jordan et al. 2024, the reference muon.py): per group, a rows x (len/rows) matrix
 * (rows = 0: one row).
 *   m = m + (1 - momentum)(g - m);  u = g + momentum (m - g) (nesterov=1) or m
 *   O = NewtonSchulz5(u): X = u (transposed if rows > cols), X /= ||X||_F + 1e-7, ns_steps times
 *       A = X X^T, B = b A + c A A, X = a X + B X with (a, b, c) = (3.4445, -4.7750, 2.0315)
 *   p = p (1 - lr wd);  p = p - lr sqrt(max(1, rows/cols)) O
 * Computed in T (the reference runs Newton-Schulz in bfloat16). */
static void FN(muon_step)(const optim_group *g, int64_t t, void *pv, const void *gv, void *const *st)
{
    T *p = pv, *m = st[0];
    const T *gr = gv;
    const double *h = g->hp;
    if (g->nseg == 0) /* a group 0 fully carved into other groups */
        return;
    const size_t off = g->segs[0].off, len = g->segs[0].len;
    const size_t R = h[MU_ROWS] > 0 ? (size_t)h[MU_ROWS] : 1, C = len / R;
    const int tr = R > C; /* work on the wide orientation: X is mr x kc with mr <= kc */
    const size_t mr = tr ? C : R, kc = tr ? R : C;
    T *X = g->scratch, *Y = X + mr * kc, *A = Y + mr * kc, *B = A + mr * mr, *AA = B + mr * mr;
    const T mom = (T)h[MU_MOMENTUM], mom1 = (T)(1.0 - h[MU_MOMENTUM]);
    const int nest = h[MU_NESTEROV] != 0;
    (void)t;
    double nrm = 0;
    for (size_t r = 0; r < R; r++)
        for (size_t c = 0; c < C; c++) {
            const size_t i = off + r * C + c;
            m[i] = m[i] + mom1 * (gr[i] - m[i]);
            const T u = nest ? gr[i] + mom * (m[i] - gr[i]) : m[i];
            X[tr ? c * kc + r : r * kc + c] = u;
            nrm += (double)u * (double)u;
        }
    const T inv = (T)(1.0 / (sqrt(nrm) + 1e-7));
    for (size_t i = 0; i < mr * kc; i++)
        X[i] = X[i] * inv;
    const T a = (T)3.4445, b = (T)-4.7750, c = (T)2.0315;
    for (int s = 0; s < (int)h[MU_NS_STEPS]; s++) {
        MUON_GEMM(0, 1, mr, mr, kc, (T)1, X, kc, X, kc, (T)0, A, mr);  /* A = X X^T */
        MUON_GEMM(0, 0, mr, mr, mr, (T)1, A, mr, A, mr, (T)0, AA, mr); /* AA = A A */
        for (size_t i = 0; i < mr * mr; i++)
            B[i] = b * A[i] + c * AA[i];
        memcpy(Y, X, mr * kc * sizeof *Y);
        MUON_GEMM(0, 0, mr, kc, mr, (T)1, B, mr, Y, kc, a, X, kc); /* X = a X + B X */
    }
    const double scale = sqrt(R > C ? (double)R / (double)C : 1.0);
    const T decay = (T)(1.0 - h[MU_LR] * h[MU_WD]), nlr = (T)(-h[MU_LR]), tscale = (T)scale;
    const int use_wd = h[MU_WD] != 0;
    for (size_t r = 0; r < R; r++)
        for (size_t cc = 0; cc < C; cc++) {
            const size_t i = off + r * C + cc;
            const T o = X[tr ? cc * kc + r : r * kc + cc] * tscale;
            if (use_wd)
                p[i] = p[i] * decay;
            p[i] = p[i] + nlr * o;
        }
}

#undef FN
