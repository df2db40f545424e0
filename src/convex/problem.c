/* The convex lab's problems: spec parsing, the generalized linear models (least squares, ridge,
 * lasso, logistic with L2/L1, squared and smoothed hinge, Huber, softmax) and the generic
 * evaluation entry points. Objective conventions: docs/CONVEX.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convex/convex_internal.h"
#include "descent/rng.h"
#include "descent/spec.h"

/* ------------------------------------------------------------------------------------------ */
/* Small helpers */

double cvx_dot(int64_t n, const double *a, const double *b)
{
    double s = 0.0;
    for (int64_t j = 0; j < n; j++)
        s += a[j] * b[j];
    return s;
}

double cvx_nrm2(int64_t n, const double *a)
{
    double scale = 0.0, ssq = 1.0;
    for (int64_t j = 0; j < n; j++) {
        double v = fabs(a[j]);
        if (v == 0.0)
            continue;
        if (scale < v) {
            ssq = 1.0 + ssq * (scale / v) * (scale / v);
            scale = v;
        } else {
            ssq += (v / scale) * (v / scale);
        }
    }
    return scale * sqrt(ssq);
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *c = data;
    for (size_t k = 0; k < len; k++) {
        h ^= c[k];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Rows are grouped in fixed chunks (independent of the thread count) so that the full gradient's
 * summation order, hence its bits, never depend on OpenMP's schedule. */
#define CVX_CHUNK 4096
static int64_t n_chunks(int64_t n)
{
    int64_t c = (n + CVX_CHUNK - 1) / CVX_CHUNK;
    return c < 1 ? 1 : c;
}

/* ------------------------------------------------------------------------------------------ */
/* Linear models: rows, margins, losses */

int64_t dsc_convex_row(const dsc_convex_problem *p, int64_t i, const int32_t **idx, const double **val)
{
    const dsc_convex_impl *m = p->impl;
    if (p->sparse) {
        *idx = m->ci + m->rp[i];
        *val = m->val + m->rp[i];
        return m->rp[i + 1] - m->rp[i];
    }
    *idx = NULL;
    *val = m->X + i * p->d;
    return p->d;
}

void dsc_convex_row_prefetch(const dsc_convex_problem *p, int64_t i)
{
#if defined(__GNUC__)
    const dsc_convex_impl *m = p->impl;
    const char *v, *c = NULL;
    size_t vb, cb = 0;
    if (p->sparse) {
        int64_t a = m->rp[i], nnz = m->rp[i + 1] - a;
        v = (const char *)(m->val + a);
        c = (const char *)(m->ci + a);
        vb = (size_t)nnz * sizeof *m->val;
        cb = (size_t)nnz * sizeof *m->ci;
    } else {
        v = (const char *)(m->X + i * p->d);
        vb = (size_t)p->d * sizeof *m->X;
    }
    /* one hint per 64-byte line, including a partial last line */
    for (size_t o = 0; o < vb; o += 64)
        __builtin_prefetch(v + o);
    if (vb)
        __builtin_prefetch(v + vb - 1);
    for (size_t o = 0; o < cb; o += 64)
        __builtin_prefetch(c + o);
    if (cb)
        __builtin_prefetch(c + cb - 1);
    __builtin_prefetch(m->y + i);
#else
    (void)p;
    (void)i;
#endif
}

double dsc_convex_row_sqnorm(const dsc_convex_problem *p, int64_t i)
{
    return p->impl->sqn[i];
}

/* Dot products with 8 independent partial sums (a fixed order, so deterministic): one running
 * sum would make the loop latency-bound on the FMA chain. */
static double dot_dense(int64_t n, const double *a, const double *b)
{
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (int k = 0; k < 8; k++)
            s[k] += a[j + k] * b[j + k];
    for (; j < n; j++)
        s[0] += a[j] * b[j];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

static double dot_sparse(int64_t nnz, const int32_t *idx, const double *val, const double *w)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    int64_t t = 0;
    for (; t + 4 <= nnz; t += 4) {
        s0 += val[t] * w[idx[t]];
        s1 += val[t + 1] * w[idx[t + 1]];
        s2 += val[t + 2] * w[idx[t + 2]];
        s3 += val[t + 3] * w[idx[t + 3]];
    }
    for (; t < nnz; t++)
        s0 += val[t] * w[idx[t]];
    return (s0 + s1) + (s2 + s3);
}

void dsc_convex_margin(const dsc_convex_problem *p, int64_t i, const double *w, double *z)
{
    const int32_t *idx;
    const double *val;
    int64_t nnz = dsc_convex_row(p, i, &idx, &val);
    int64_t K = p->K;
    if (K == 1) {
        double s = idx ? dot_sparse(nnz, idx, val, w) : dot_dense(nnz, val, w);
        if (p->intercept)
            s += w[p->d];
        z[0] = s;
        return;
    }
    for (int64_t k = 0; k < K; k++)
        z[k] = p->intercept ? w[p->d * K + k] : 0.0;
    for (int64_t t = 0; t < nnz; t++) {
        int64_t j = idx ? idx[t] : t;
        const double *wj = w + j * K;
        for (int64_t k = 0; k < K; k++)
            z[k] += val[t] * wj[k];
    }
}

void dsc_convex_row_axpy(const dsc_convex_problem *p, int64_t i, const double *a, double *out)
{
    const int32_t *idx;
    const double *val;
    int64_t nnz = dsc_convex_row(p, i, &idx, &val);
    int64_t K = p->K;
    if (K == 1) {
        double a0 = a[0];
        if (idx)
            for (int64_t t = 0; t < nnz; t++)
                out[idx[t]] += a0 * val[t];
        else
            for (int64_t t = 0; t < nnz; t++)
                out[t] += a0 * val[t];
        if (p->intercept)
            out[p->d] += a0;
        return;
    }
    for (int64_t t = 0; t < nnz; t++) {
        int64_t j = idx ? idx[t] : t;
        double *oj = out + j * K;
        for (int64_t k = 0; k < K; k++)
            oj[k] += val[t] * a[k];
    }
    if (p->intercept)
        for (int64_t k = 0; k < K; k++)
            out[p->d * K + k] += a[k];
}

void dsc_convex_add_l2(const dsc_convex_problem *p, const double *w, double *grad)
{
    if (p->l2 == 0.0)
        return;
    int64_t nreg = p->linear ? p->d * p->K : p->dim;
    for (int64_t j = 0; j < nreg; j++)
        grad[j] += p->l2 * w[j];
}

static double reg_sqnorm(const dsc_convex_problem *p, const double *w)
{
    int64_t nreg = p->linear ? p->d * p->K : p->dim;
    return cvx_dot(nreg, w, w);
}

/* log(1 + exp(-m)) without overflow: log1p(exp(-|m|)) + max(-m, 0). */
static double log1pexp_neg(double m)
{
    return log1p(exp(-fabs(m))) + (m < 0 ? -m : 0.0);
}

/* 1 / (1 + exp(m)) = sigma(-m), evaluated on the side where exp does not overflow. */
static double sigma_neg(double m)
{
    if (m >= 0) {
        double e = exp(-m);
        return e / (1.0 + e);
    }
    return 1.0 / (1.0 + exp(m));
}

double dsc_convex_dloss(const dsc_convex_problem *p, int64_t i, const double *z, double *dz, double *d2z)
{
    const dsc_convex_impl *m = p->impl;
    double y = m->y[i];
    switch (m->loss) {
    case LOSS_SQUARE: { /* (1/2)(z - y)^2 */
        double r = z[0] - y;
        if (dz)
            dz[0] = r;
        if (d2z)
            d2z[0] = 1.0;
        return 0.5 * r * r;
    }
    case LOSS_LOGISTIC: { /* log(1 + exp(-y z)) */
        double mg = y * z[0];
        double s = sigma_neg(mg);
        if (dz)
            dz[0] = -y * s;
        if (d2z)
            d2z[0] = s * (1.0 - s);
        return log1pexp_neg(mg);
    }
    case LOSS_SQHINGE: { /* (1/2) max(0, 1 - y z)^2 */
        double h = 1.0 - y * z[0];
        if (h <= 0) {
            if (dz)
                dz[0] = 0.0;
            if (d2z)
                d2z[0] = 0.0;
            return 0.0;
        }
        if (dz)
            dz[0] = -y * h;
        if (d2z)
            d2z[0] = 1.0;
        return 0.5 * h * h;
    }
    case LOSS_SMOOTHHINGE: { /* 0 (m >= 1); 1 - m - gamma/2 (m <= 1 - gamma); (1 - m)^2 / (2 gamma) */
        double mg = y * z[0], g = m->gamma;
        if (mg >= 1.0) {
            if (dz)
                dz[0] = 0.0;
            if (d2z)
                d2z[0] = 0.0;
            return 0.0;
        }
        if (mg <= 1.0 - g) {
            if (dz)
                dz[0] = -y;
            if (d2z)
                d2z[0] = 0.0;
            return 1.0 - mg - 0.5 * g;
        }
        double h = 1.0 - mg;
        if (dz)
            dz[0] = -y * h / g;
        if (d2z)
            d2z[0] = 1.0 / g;
        return h * h / (2.0 * g);
    }
    case LOSS_HUBER: { /* r^2/2 (|r| <= delta), delta (|r| - delta/2) */
        double r = z[0] - y, dl = m->delta;
        if (fabs(r) <= dl) {
            if (dz)
                dz[0] = r;
            if (d2z)
                d2z[0] = 1.0;
            return 0.5 * r * r;
        }
        if (dz)
            dz[0] = r > 0 ? dl : -dl;
        if (d2z)
            d2z[0] = 0.0;
        return dl * (fabs(r) - 0.5 * dl);
    }
    case LOSS_SOFTMAX: { /* logsumexp(z) - z[c] */
        int64_t K = p->K, c = (int64_t)y;
        double zmax = z[0];
        for (int64_t k = 1; k < K; k++)
            if (z[k] > zmax)
                zmax = z[k];
        double s = 0.0;
        for (int64_t k = 0; k < K; k++)
            s += exp(z[k] - zmax);
        double lse = zmax + log(s);
        for (int64_t k = 0; k < K; k++) {
            double pk = exp(z[k] - lse);
            if (dz)
                dz[k] = pk - (k == c ? 1.0 : 0.0);
            if (d2z)
                d2z[k] = pk * (1.0 - pk);
        }
        return lse - z[c];
    }
    }
    return 0.0;
}

double dsc_convex_dloss1(const dsc_convex_problem *p, int64_t i, double z)
{
    const dsc_convex_impl *m = p->impl;
    if (m->loss == LOSS_LOGISTIC) { /* the common case without log1p: -y sigma(-y z) */
        double y = m->y[i];
        return -y * sigma_neg(y * z);
    }
    double dz;
    dsc_convex_dloss(p, i, &z, &dz, NULL);
    return dz;
}

/* Softmax probabilities of scores z (K values). */
static void softmax_probs(int64_t K, const double *z, double *pr)
{
    double zmax = z[0];
    for (int64_t k = 1; k < K; k++)
        if (z[k] > zmax)
            zmax = z[k];
    double s = 0.0;
    for (int64_t k = 0; k < K; k++) {
        pr[k] = exp(z[k] - zmax);
        s += pr[k];
    }
    for (int64_t k = 0; k < K; k++)
        pr[k] /= s;
}

#define CVX_KMAX 256

/* ------------------------------------------------------------------------------------------ */
/* Per-example and full evaluations */

double dsc_convex_example_grad(const dsc_convex_problem *p, int64_t i, const double *w, double *grad)
{
    const dsc_convex_impl *m = p->impl;
    if (!p->linear) {
        if (grad)
            memset(grad, 0, (size_t)p->dim * sizeof(double));
        double f = m->example(p, i, w, grad);
        if (p->l2 != 0.0) {
            f += 0.5 * p->l2 * reg_sqnorm(p, w);
            if (grad)
                dsc_convex_add_l2(p, w, grad);
        }
        return f;
    }
    double z[CVX_KMAX], dz[CVX_KMAX];
    dsc_convex_margin(p, i, w, z);
    double f = dsc_convex_dloss(p, i, z, grad ? dz : NULL, NULL);
    if (p->l2 != 0.0)
        f += 0.5 * p->l2 * reg_sqnorm(p, w);
    if (grad) {
        memset(grad, 0, (size_t)p->dim * sizeof(double));
        dsc_convex_row_axpy(p, i, dz, grad);
        dsc_convex_add_l2(p, w, grad);
    }
    return f;
}

double dsc_convex_batch_grad(const dsc_convex_problem *p, const int64_t *idx, int64_t k, const double *w,
                             double *grad)
{
    const dsc_convex_impl *m = p->impl;
    double f = 0.0;
    if (grad)
        memset(grad, 0, (size_t)p->dim * sizeof(double));
    if (k <= 0)
        return 0.0;
    if (p->linear) {
        double z[CVX_KMAX], dz[CVX_KMAX];
        for (int64_t t = 0; t < k; t++) {
            dsc_convex_margin(p, idx[t], w, z);
            f += dsc_convex_dloss(p, idx[t], z, grad ? dz : NULL, NULL);
            if (grad)
                dsc_convex_row_axpy(p, idx[t], dz, grad);
        }
    } else {
        for (int64_t t = 0; t < k; t++)
            f += m->example(p, idx[t], w, grad);
    }
    double inv = 1.0 / (double)k;
    f *= inv;
    if (grad)
        for (int64_t j = 0; j < p->dim; j++)
            grad[j] *= inv;
    if (p->l2 != 0.0) {
        f += 0.5 * p->l2 * reg_sqnorm(p, w);
        if (grad)
            dsc_convex_add_l2(p, w, grad);
    }
    return f;
}

/* Sum over examples of the data term (no l2) and its gradient, chunked for determinism. */
static double data_sum(const dsc_convex_problem *p, const double *w, double *grad)
{
    const dsc_convex_impl *m = p->impl;
    int64_t nc = n_chunks(p->n), dim = p->dim;
    double *fs = calloc((size_t)nc, sizeof(double));
    double *gs = grad && nc > 1 ? calloc((size_t)(nc - 1) * (size_t)dim, sizeof(double)) : NULL;
    if (!fs || (grad && nc > 1 && !gs)) {
        free(fs);
        free(gs);
        return NAN;
    }
    if (grad)
        memset(grad, 0, (size_t)dim * sizeof(double));
#pragma omp parallel for schedule(static) if (nc > 1)
    for (int64_t c = 0; c < nc; c++) {
        double *g = !grad ? NULL : (c == 0 ? grad : gs + (c - 1) * dim);
        int64_t i0 = c * CVX_CHUNK, i1 = i0 + CVX_CHUNK < p->n ? i0 + CVX_CHUNK : p->n;
        double f = 0.0;
        if (p->linear) {
            double z[CVX_KMAX], dz[CVX_KMAX];
            for (int64_t i = i0; i < i1; i++) {
                dsc_convex_margin(p, i, w, z);
                f += dsc_convex_dloss(p, i, z, g ? dz : NULL, NULL);
                if (g)
                    dsc_convex_row_axpy(p, i, dz, g);
            }
        } else {
            for (int64_t i = i0; i < i1; i++)
                f += m->example(p, i, w, g);
        }
        fs[c] = f;
    }
    double f = 0.0;
    for (int64_t c = 0; c < nc; c++)
        f += fs[c];
    if (grad)
        for (int64_t c = 1; c < nc; c++) {
            const double *gc = gs + (c - 1) * dim;
            for (int64_t j = 0; j < dim; j++)
                grad[j] += gc[j];
        }
    free(fs);
    free(gs);
    return f;
}

double dsc_convex_grad(const dsc_convex_problem *p, const double *w, double *grad)
{
    double f = data_sum(p, w, grad) / (double)p->n;
    if (grad) {
        double inv = 1.0 / (double)p->n;
        for (int64_t j = 0; j < p->dim; j++)
            grad[j] *= inv;
    }
    if (p->l2 != 0.0) {
        f += 0.5 * p->l2 * reg_sqnorm(p, w);
        if (grad)
            dsc_convex_add_l2(p, w, grad);
    }
    return f;
}

double dsc_convex_reg_value(const dsc_convex_problem *p, const double *w)
{
    if (p->l1 == 0.0)
        return 0.0;
    int64_t nreg = p->linear ? p->d * p->K : p->dim;
    double s = 0.0;
    for (int64_t j = 0; j < nreg; j++)
        s += fabs(w[j]);
    return p->l1 * s;
}

double dsc_convex_value(const dsc_convex_problem *p, const double *w)
{
    return dsc_convex_grad(p, w, NULL) + dsc_convex_reg_value(p, w);
}

void dsc_convex_hvp(const dsc_convex_problem *p, const double *w, const double *v, double *out)
{
    const dsc_convex_impl *m = p->impl;
    int64_t nc = n_chunks(p->n), dim = p->dim;
    double *gs = nc > 1 ? calloc((size_t)(nc - 1) * (size_t)dim, sizeof(double)) : NULL;
    memset(out, 0, (size_t)dim * sizeof(double));
    if (nc > 1 && !gs) {
        for (int64_t j = 0; j < dim; j++)
            out[j] = NAN;
        return;
    }
#pragma omp parallel for schedule(static) if (nc > 1)
    for (int64_t c = 0; c < nc; c++) {
        double *g = c == 0 ? out : gs + (c - 1) * dim;
        int64_t i0 = c * CVX_CHUNK, i1 = i0 + CVX_CHUNK < p->n ? i0 + CVX_CHUNK : p->n;
        if (p->linear) {
            double z[CVX_KMAX], u[CVX_KMAX], s[CVX_KMAX], d2[CVX_KMAX], pr[CVX_KMAX];
            for (int64_t i = i0; i < i1; i++) {
                /* H_i v = x~_i (outer) (phi_i''(z_i) (V^T x~_i)) */
                dsc_convex_margin(p, i, v, u);
                if (m->loss == LOSS_SOFTMAX) {
                    /* Hessian of logsumexp: diag(pr) - pr pr^T */
                    dsc_convex_margin(p, i, w, z);
                    softmax_probs(p->K, z, pr);
                    double pu = cvx_dot(p->K, pr, u);
                    for (int64_t k = 0; k < p->K; k++)
                        s[k] = pr[k] * (u[k] - pu);
                } else {
                    dsc_convex_margin(p, i, w, z);
                    dsc_convex_dloss(p, i, z, NULL, d2);
                    s[0] = d2[0] * u[0];
                }
                dsc_convex_row_axpy(p, i, s, g);
            }
        } else {
            for (int64_t i = i0; i < i1; i++)
                m->example_hvp(p, i, w, v, g);
        }
    }
    for (int64_t c = 1; c < nc; c++) {
        const double *gc = gs + (c - 1) * dim;
        for (int64_t j = 0; j < dim; j++)
            out[j] += gc[j];
    }
    free(gs);
    double inv = 1.0 / (double)p->n;
    for (int64_t j = 0; j < dim; j++)
        out[j] *= inv;
    dsc_convex_add_l2(p, v, out);
}

/* G += sum_i a_i x~_i x~_i^T (dt x dt, dt = d + intercept), for one-output models and the Gram
 * matrix. Each entry is summed over i in order; OpenMP splits the rows of G (independent
 * outputs), so the result does not depend on the thread count. Upper triangle, then mirrored. */
static void weighted_gram(const dsc_convex_problem *p, const double *a, double *G)
{
    const dsc_convex_impl *m = p->impl;
    int64_t d = p->d, dt = d + (p->intercept ? 1 : 0), n = p->n;
    if (!p->sparse) {
        /* blocks of 128 rows stay in cache while every row j of G is updated from them */
        for (int64_t i0 = 0; i0 < n; i0 += 128) {
            int64_t i1 = i0 + 128 < n ? i0 + 128 : n;
#pragma omp parallel for schedule(dynamic, 4) if (dt >= 32)
        for (int64_t j = 0; j < dt; j++) {
            double *gj = G + j * dt;
            for (int64_t i = i0; i < i1; i++) {
                const double *x = m->X + i * d;
                double xj = j < d ? x[j] : 1.0, c = (a ? a[i] : 1.0) * xj;
                if (c == 0.0)
                    continue;
                for (int64_t k = j; k < d; k++)
                    gj[k] += c * x[k];
                if (p->intercept)
                    gj[d] += c;
            }
        }
        }
    } else {
        /* CSR: scatter each row's outer product (single thread; sparse rows are short) */
        for (int64_t i = 0; i < n; i++) {
            int64_t r0 = m->rp[i], r1 = m->rp[i + 1];
            double ai = a ? a[i] : 1.0;
            if (ai == 0.0)
                continue;
            for (int64_t s = r0; s < r1; s++) {
                int64_t j = m->ci[s];
                double c = ai * m->val[s];
                for (int64_t t = s; t < r1; t++)
                    G[j * dt + m->ci[t]] += c * m->val[t];
                if (p->intercept)
                    G[j * dt + d] += c;
            }
            if (p->intercept)
                G[d * dt + d] += ai;
        }
    }
    for (int64_t j = 0; j < dt; j++)
        for (int64_t k = j + 1; k < dt; k++)
            G[k * dt + j] = G[j * dt + k];
}

dsc_status dsc_convex_hessian(const dsc_convex_problem *p, const double *w, double *H)
{
    int64_t dim = p->dim;
    if (dim > DSC_CONVEX_MAX_DENSE_DIM)
        return DSC_ERROR(DSC_ERR_UNSUPPORTED, "convex %s: dense Hessian of dim %lld > %d", p->name, (long long)dim,
                         DSC_CONVEX_MAX_DENSE_DIM);
    memset(H, 0, (size_t)(dim * dim) * sizeof(double));
    if (!p->linear) {
        /* Columns by Hessian-vector products with the unit vectors (the problems are small). */
        double *e = calloc((size_t)dim * 2, sizeof(double));
        if (!e)
            return DSC_ERROR(DSC_ERR_NOMEM, "convex %s: Hessian workspace", p->name);
        double *col = e + dim;
        for (int64_t j = 0; j < dim; j++) {
            e[j] = 1.0;
            dsc_convex_hvp(p, w, e, col);
            e[j] = 0.0;
            for (int64_t k = 0; k < dim; k++)
                H[k * dim + j] = col[k];
        }
        free(e);
        /* symmetrize against rounding */
        for (int64_t j = 0; j < dim; j++)
            for (int64_t k = j + 1; k < dim; k++) {
                double a = 0.5 * (H[j * dim + k] + H[k * dim + j]);
                H[j * dim + k] = H[k * dim + j] = a;
            }
        return DSC_OK;
    }
    /* H = (1/n) sum_i (x~_i x~_i^T) (kron) A_i + l2 I_reg, A_i = phi_i''(z_i) (K x K). Rows of H
     * are independent outputs, each summed over i in order: deterministic for any thread count. */
    int64_t K = p->K, dt = p->d + (p->intercept ? 1 : 0);
    if (K == 1) {
        double *a = malloc((size_t)p->n * sizeof(double));
        if (!a)
            return DSC_ERROR(DSC_ERR_NOMEM, "convex %s: Hessian workspace (n=%lld)", p->name, (long long)p->n);
        for (int64_t i = 0; i < p->n; i++) {
            double z, d2;
            dsc_convex_margin(p, i, w, &z);
            dsc_convex_dloss(p, i, &z, NULL, &d2);
            a[i] = d2;
        }
        weighted_gram(p, a, H);
        free(a);
        double inv = 1.0 / (double)p->n;
        for (int64_t j = 0; j < dim * dim; j++)
            H[j] *= inv;
        for (int64_t j = 0; j < p->d; j++)
            H[j * dim + j] += p->l2;
        return DSC_OK;
    }
    double *Ai = malloc((size_t)(p->n * K * K) * sizeof(double));
    if (!Ai) {
        return DSC_ERROR(DSC_ERR_NOMEM, "convex %s: Hessian workspace (n=%lld, K=%lld)", p->name, (long long)p->n,
                         (long long)K);
    }
    for (int64_t i = 0; i < p->n; i++) {
        double z[CVX_KMAX], pr[CVX_KMAX], d2[CVX_KMAX];
        double *a = Ai + i * K * K;
        dsc_convex_margin(p, i, w, z);
        if (p->impl->loss == LOSS_SOFTMAX) {
            softmax_probs(K, z, pr);
            for (int64_t k = 0; k < K; k++)
                for (int64_t l = 0; l < K; l++)
                    a[k * K + l] = (k == l ? pr[k] : 0.0) - pr[k] * pr[l];
        } else {
            dsc_convex_dloss(p, i, z, NULL, d2);
            a[0] = d2[0];
        }
    }
    /* Accumulate by example into H (single thread; Newton is for small problems). */
    double *xf = malloc((size_t)dt * sizeof(double));
    if (!xf) {
        free(Ai);
        return DSC_ERROR(DSC_ERR_NOMEM, "convex %s: Hessian workspace", p->name);
    }
    for (int64_t i = 0; i < p->n; i++) {
        const int32_t *idx;
        const double *val;
        int64_t nnz = dsc_convex_row(p, i, &idx, &val);
        const double *a = Ai + i * K * K;
        /* gather the augmented row as (index, value) */
        int64_t cnt = 0;
        for (int64_t t = 0; t < nnz; t++)
            xf[cnt++] = val[t];
        if (p->intercept)
            xf[cnt++] = 1.0;
        for (int64_t s1 = 0; s1 < cnt; s1++) {
            int64_t j1 = s1 < nnz ? (idx ? idx[s1] : s1) : p->d;
            for (int64_t s2 = 0; s2 < cnt; s2++) {
                int64_t j2 = s2 < nnz ? (idx ? idx[s2] : s2) : p->d;
                double xx = xf[s1] * xf[s2];
                if (xx == 0.0)
                    continue;
                for (int64_t k = 0; k < K; k++) {
                    double *hrow = H + (j1 * K + k) * dim + j2 * K;
                    for (int64_t l = 0; l < K; l++)
                        hrow[l] += xx * a[k * K + l];
                }
            }
        }
    }
    free(xf);
    free(Ai);
    double inv = 1.0 / (double)p->n;
    for (int64_t j = 0; j < dim * dim; j++)
        H[j] *= inv;
    int64_t nreg = p->d * K;
    for (int64_t j = 0; j < nreg; j++)
        H[j * dim + j] += p->l2;
    return DSC_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Proximal operators */

void dsc_prox_l1(size_t n, double thr, const double *in, double *out)
{
    for (size_t j = 0; j < n; j++) {
        double v = in[j];
        out[j] = v > thr ? v - thr : (v < -thr ? v + thr : 0.0);
    }
}

void dsc_prox_l2sq(size_t n, double c, const double *in, double *out)
{
    double s = 1.0 / (1.0 + c);
    for (size_t j = 0; j < n; j++)
        out[j] = in[j] * s;
}

void dsc_convex_prox(const dsc_convex_problem *p, double t, const double *in, double *out)
{
    int64_t nreg = p->linear ? p->d * p->K : p->dim;
    if (p->l1 == 0.0) {
        if (in != out)
            memmove(out, in, (size_t)p->dim * sizeof(double));
        return;
    }
    dsc_prox_l1((size_t)nreg, t * p->l1, in, out);
    if (in != out && p->dim > nreg)
        memmove(out + nreg, in + nreg, (size_t)(p->dim - nreg) * sizeof(double));
}

double dsc_convex_grad_mapping_norm(const dsc_convex_problem *p, const double *w, double t)
{
    int64_t dim = p->dim;
    double *g = malloc((size_t)dim * 2 * sizeof(double));
    if (!g)
        return NAN;
    double *u = g + dim;
    dsc_convex_grad(p, w, g);
    if (p->l1 == 0.0) {
        double r = cvx_nrm2(dim, g);
        free(g);
        return r;
    }
    if (!(t > 0))
        t = p->L > 0 ? 1.0 / p->L : 1.0;
    for (int64_t j = 0; j < dim; j++)
        u[j] = w[j] - t * g[j];
    dsc_convex_prox(p, t, u, u);
    for (int64_t j = 0; j < dim; j++)
        u[j] = (w[j] - u[j]) / t;
    double r = cvx_nrm2(dim, u);
    free(g);
    return r;
}

/* ------------------------------------------------------------------------------------------ */
/* Construction */

typedef struct kind_info {
    const char *name;
    dsc_convex_kind kind;
    const char *opts; /* for the help text */
    const char *objective;
} kind_info;

static const kind_info kinds[] = {
    {"lsq", DSC_CVX_LSQ, "l2=0,intercept=0", "(1/(2n)) sum (x_i^T w - y_i)^2 + (l2/2)||w||^2"},
    {"ridge", DSC_CVX_RIDGE, "l2=1e-2,intercept=0", "(1/(2n)) sum (x_i^T w - y_i)^2 + (l2/2)||w||^2"},
    {"lasso", DSC_CVX_LASSO, "l1=1e-2,l2=0,intercept=0", "(1/(2n)) sum (x_i^T w - y_i)^2 + l1 ||w||_1 (sklearn alpha = l1)"},
    {"logreg", DSC_CVX_LOGREG, "l2=1e-3,intercept=0,class=-1",
     "(1/n) sum log(1 + exp(-y_i x_i^T w)) + (l2/2)||w||^2 (sklearn C = 1/(n l2))"},
    {"logreg_l1", DSC_CVX_LOGREG_L1, "l1=1e-3,l2=0,intercept=0,class=-1",
     "(1/n) sum log(1 + exp(-y_i x_i^T w)) + l1 ||w||_1 (sklearn C = 1/(n l1))"},
    {"sqhinge", DSC_CVX_SQHINGE, "l2=1e-3,intercept=0,class=-1",
     "(1/n) sum (1/2) max(0, 1 - y_i x_i^T w)^2 + (l2/2)||w||^2 (sklearn LinearSVC C = 1/(2 n l2))"},
    {"smoothhinge", DSC_CVX_SMOOTHHINGE, "l2=1e-3,gamma=1,intercept=0,class=-1",
     "(1/n) sum h_gamma(y_i x_i^T w) + (l2/2)||w||^2, h = 0 | (1-m)^2/(2 gamma) | 1 - m - gamma/2"},
    {"softmax", DSC_CVX_SOFTMAX, "l2=1e-3,intercept=0",
     "(1/n) sum [logsumexp(W^T x_i) - (W^T x_i)_{c_i}] + (l2/2)||W||_F^2"},
    {"huber", DSC_CVX_HUBER, "delta=1,l2=1e-3,intercept=0",
     "(1/n) sum huber_delta(x_i^T w - y_i) + (l2/2)||w||^2"},
    {"quadratic", DSC_CVX_QUADRATIC, "d=10,kappa=100,mu=1,spectrum=log,seed",
     "(1/2)(w - w*)^T A (w - w*), eig(A) in [mu, mu kappa], f* = 0"},
    {"rosenbrock", DSC_CVX_ROSENBROCK, "d=2,a=1,b=100",
     "sum_{j<d-1} b (w_{j+1} - w_j^2)^2 + (a - w_j)^2, w* = (a, a^2, ...) for a=1: ones"},
    {"matrix_factorization", DSC_CVX_MATFAC, "m=20,q=15,r=3,rank=r,obs=1,seed",
     "(1/(2|O|)) sum_{(a,b) in O} (u_a^T v_b - M_ab)^2, M = U* V*^T of rank r, f* = 0"},
    {"phase_retrieval", DSC_CVX_PHASE, "d=10,n=200,seed",
     "(1/(4n)) sum ((a_i^T w)^2 - y_i)^2, y_i = (a_i^T x*)^2, f* = 0"},
    {"saddle", DSC_CVX_SADDLE, "d=2",
     "(1/2) sum_{j<d-1} w_j^2 + w_{d-1}^4/4 - w_{d-1}^2/2: strict saddle at 0, f* = -1/4"},
    {"deep_linear", DSC_CVX_DEEPLINEAR, "depth=3,width=0,n=200,in=5,out=5,seed",
     "(1/(2n)) sum ||W_L ... W_1 x_i - y_i||^2"},
};
#define N_KINDS ((int)(sizeof(kinds) / sizeof(kinds[0])))

const char *dsc_convex_help(void)
{
    static char buf[6000];
    if (buf[0])
        return buf;
    size_t off = 0;
    off += (size_t)snprintf(buf + off, sizeof(buf) - off,
                            "convex problems (F = g + h, g = mean of f_i, h = l1 ||w||_1; docs/CONVEX.md):\n");
    for (int k = 0; k < N_KINDS && off < sizeof(buf); k++)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "  %-21s %s\n  %-21s   %s\n", kinds[k].name,
                                kinds[k].opts, "", kinds[k].objective);
    return buf;
}

void cvx_free_impl(dsc_convex_impl *m)
{
    if (!m)
        return;
    free(m->X);
    free(m->rp);
    free(m->ci);
    free(m->val);
    free(m->y);
    free(m->Li);
    free(m->sqn);
    free(m->A);
    free(m->wstar);
    free(m->obs);
    free(m->C);
    free(m->B);
    free(m->Yd);
    free(m);
}

void dsc_convex_problem_free(dsc_convex_problem *p)
{
    if (!p)
        return;
    cvx_free_impl(p->impl);
    free(p);
}

/* X~^T X~ / n applied to v (for power iteration of the linear models' L). */
static void gram_apply(void *ctx, const double *v, double *out)
{
    const dsc_convex_problem *p = ctx;
    int64_t dt = p->d + (p->intercept ? 1 : 0);
    memset(out, 0, (size_t)dt * sizeof(double));
    /* K == 1 view of the rows, whatever p->K is */
    dsc_convex_problem q = *p;
    q.K = 1;
    for (int64_t i = 0; i < p->n; i++) {
        double z;
        dsc_convex_margin(&q, i, v, &z);
        z /= (double)p->n;
        dsc_convex_row_axpy(&q, i, &z, out);
    }
}

/* lambda_max (and lambda_min when small) of X~^T X~ / n. */
/* Extreme eigenvalues of X~^T X~ / n + shift * I_reg (I_reg: the identity without the intercept
 * entry). Exact (Jacobi) when d + intercept <= 400; else lambda_max by Lanczos, shifted, and
 * lmin = 0 (unknown). */
static dsc_status gram_extremes(const dsc_convex_problem *p, double shift, double *lmax, double *lmin)
{
    int64_t dt = p->d + (p->intercept ? 1 : 0);
    *lmin = 0.0;
    if (dt <= 400) {
        double *G = calloc((size_t)(dt * dt + dt), sizeof(double));
        if (!G)
            return DSC_ERROR(DSC_ERR_NOMEM, "convex %s: Gram matrix %lld x %lld", p->name, (long long)dt,
                             (long long)dt);
        double *ev = G + dt * dt;
        weighted_gram(p, NULL, G);
        for (int64_t j = 0; j < dt * dt; j++)
            G[j] /= (double)p->n;
        for (int64_t j = 0; j < p->d; j++)
            G[j * dt + j] += shift;
        dsc_status st = dsc_sym_eig(dt, G, ev, NULL);
        if (st == DSC_OK) {
            *lmin = ev[0] > 0 ? ev[0] : 0.0;
            *lmax = ev[dt - 1];
        }
        free(G);
        return st;
    }
    dsc_convex_problem q = *p;
    q.K = 1;
    q.dim = dt;
    *lmax = dsc_lanczos_max(dt, gram_apply, &q, 300, 1e-12) + shift;
    return DSC_OK;
}

static dsc_status copy_data(dsc_convex_problem *p, const dsc_dataset *ds)
{
    dsc_convex_impl *m = p->impl;
    int64_t n = ds->n, d = ds->d;
    p->n = n;
    p->d = d;
    p->sparse = ds->sparse;
    if (ds->sparse) {
        /* The solvers index w by the column indices and their just-in-time updates visit each
         * coordinate of a row once: a row's indices must lie in [0, d) and increase strictly
         * (as the LIBSVM reader and the generators guarantee; a hand-built data set may not). */
        if (!ds->row_ptr || !ds->col_idx || ds->row_ptr[0] != 0 || ds->row_ptr[n] != ds->nnz)
            return DSC_ERROR(DSC_ERR_FORMAT, "convex %s: data '%s': malformed CSR arrays (row_ptr[0] must be 0 "
                             "and row_ptr[n] = nnz = %lld)", p->name, ds->name, (long long)ds->nnz);
        for (int64_t i = 0; i < n; i++) {
            if (ds->row_ptr[i + 1] < ds->row_ptr[i])
                return DSC_ERROR(DSC_ERR_FORMAT, "convex %s: data '%s': row_ptr decreases at row %lld", p->name,
                                 ds->name, (long long)i);
            for (int64_t t = ds->row_ptr[i]; t < ds->row_ptr[i + 1]; t++) {
                const int64_t j = ds->col_idx[t];
                if (j < 0 || j >= d || (t > ds->row_ptr[i] && j <= ds->col_idx[t - 1]))
                    return DSC_ERROR(DSC_ERR_FORMAT, "convex %s: data '%s': row %lld has column index %lld %s",
                                     p->name, ds->name, (long long)i, (long long)j,
                                     j < 0 || j >= d ? "outside [0, d)" : "not above the previous one");
            }
        }
        m->rp = malloc((size_t)(n + 1) * sizeof(int64_t));
        m->ci = malloc((size_t)(ds->nnz > 0 ? ds->nnz : 1) * sizeof(int32_t));
        m->val = malloc((size_t)(ds->nnz > 0 ? ds->nnz : 1) * sizeof(double));
        if (!m->rp || !m->ci || !m->val)
            return DSC_ERROR(DSC_ERR_NOMEM, "convex %s: copy of data '%s' (nnz %lld)", p->name, ds->name,
                             (long long)ds->nnz);
        memcpy(m->rp, ds->row_ptr, (size_t)(n + 1) * sizeof(int64_t));
        memcpy(m->ci, ds->col_idx, (size_t)ds->nnz * sizeof(int32_t));
        for (int64_t t = 0; t < ds->nnz; t++)
            m->val[t] = ds->dtype == DSC_DATA_F64 ? ds->val64[t] : (double)ds->val[t];
    } else {
        m->X = malloc((size_t)(n * d > 0 ? n * d : 1) * sizeof(double));
        if (!m->X)
            return DSC_ERROR(DSC_ERR_NOMEM, "convex %s: copy of data '%s' (%lld x %lld)", p->name, ds->name,
                             (long long)n, (long long)d);
        for (int64_t t = 0; t < n * d; t++)
            m->X[t] = ds->dtype == DSC_DATA_F64 ? ds->x64[t] : (double)ds->x[t];
    }
    return DSC_OK;
}

static dsc_status make_linear(dsc_convex_problem *p, const dsc_kvspec *kv, const dsc_dataset *ds)
{
    dsc_convex_impl *m = p->impl;
    dsc_convex_kind k = p->kind;
    if (!ds)
        return DSC_ERROR(DSC_ERR_INVALID, "convex %s: needs a data set (--data)", p->name);
    if (ds->n < 1 || ds->d < 1)
        return DSC_ERROR(DSC_ERR_INVALID, "convex %s: data '%s' is empty (n=%lld, d=%lld)", p->name, ds->name,
                         (long long)ds->n, (long long)ds->d);
    if (ds->d > INT32_MAX / 4)
        return DSC_ERROR(DSC_ERR_RANGE, "convex %s: d=%lld too large", p->name, (long long)ds->d);
    if (!ds->y && !ds->y64)
        return DSC_ERROR(DSC_ERR_INVALID, "convex %s: data '%s' has no labels", p->name, ds->name);
    static const char *const keys[] = {"l1", "l2", "intercept", "class", "delta", "gamma", NULL};
    DSC_TRY(dsc_kvspec_check(kv, keys, 0));
    double l2def = k == DSC_CVX_RIDGE ? 1e-2 : (k == DSC_CVX_LSQ || k == DSC_CVX_LASSO || k == DSC_CVX_LOGREG_L1) ? 0.0 : 1e-3;
    double l1def = k == DSC_CVX_LASSO ? 1e-2 : k == DSC_CVX_LOGREG_L1 ? 1e-3 : 0.0;
    DSC_TRY(dsc_kvspec_double(kv, "l2", l2def, 0.0, 1e12, &p->l2));
    DSC_TRY(dsc_kvspec_double(kv, "l1", l1def, 0.0, 1e12, &p->l1));
    if (p->l1 != 0.0 && k != DSC_CVX_LASSO && k != DSC_CVX_LOGREG_L1)
        return DSC_ERROR(DSC_ERR_INVALID, "convex %s: l1=%g is only for lasso and logreg_l1", p->name, p->l1);
    DSC_TRY(dsc_kvspec_bool(kv, "intercept", 0, &p->intercept));
    int64_t cls;
    DSC_TRY(dsc_kvspec_int(kv, "class", -1, -1, 1000000, &cls));
    DSC_TRY(dsc_kvspec_double(kv, "delta", 1.0, 1e-12, 1e12, &m->delta));
    DSC_TRY(dsc_kvspec_double(kv, "gamma", 1.0, 1e-12, 1e12, &m->gamma));
    if (dsc_kvspec_has(kv, "delta") && k != DSC_CVX_HUBER)
        return DSC_ERROR(DSC_ERR_INVALID, "convex %s: delta= is an option of huber", p->name);
    if (dsc_kvspec_has(kv, "gamma") && k != DSC_CVX_SMOOTHHINGE)
        return DSC_ERROR(DSC_ERR_INVALID, "convex %s: gamma= is an option of smoothhinge", p->name);

    switch (k) {
    case DSC_CVX_LSQ:
    case DSC_CVX_RIDGE:
    case DSC_CVX_LASSO: m->loss = LOSS_SQUARE; m->curv = 1.0; break;
    case DSC_CVX_LOGREG:
    case DSC_CVX_LOGREG_L1: m->loss = LOSS_LOGISTIC; m->curv = 0.25; break;
    case DSC_CVX_SQHINGE: m->loss = LOSS_SQHINGE; m->curv = 1.0; break;
    case DSC_CVX_SMOOTHHINGE: m->loss = LOSS_SMOOTHHINGE; m->curv = 1.0 / m->gamma; break;
    case DSC_CVX_HUBER: m->loss = LOSS_HUBER; m->curv = 1.0; break;
    case DSC_CVX_SOFTMAX: m->loss = LOSS_SOFTMAX; m->curv = 0.5; break; /* Hessian of lse <= I/2 */
    default: break;
    }
    int margin = m->loss == LOSS_LOGISTIC || m->loss == LOSS_SQHINGE || m->loss == LOSS_SMOOTHHINGE;
    if (cls >= 0 && !margin)
        return DSC_ERROR(DSC_ERR_INVALID, "convex %s: class= is for the binary margin losses", p->name);

    DSC_TRY(copy_data(p, ds));
    int64_t n = p->n;
    m->y = malloc((size_t)n * sizeof(double));
    if (!m->y)
        return DSC_ERROR(DSC_ERR_NOMEM, "convex %s: labels", p->name);
    for (int64_t i = 0; i < n; i++)
        m->y[i] = dsc_dataset_label(ds, i);
    p->K = 1;
    if (margin) {
        if (ds->num_classes < 2)
            return DSC_ERROR(DSC_ERR_INVALID, "convex %s: data '%s' is a regression set; needs two classes (labels -1/+1)",
                             p->name, ds->name);
        if (cls >= ds->num_classes)
            return DSC_ERROR(DSC_ERR_RANGE, "convex %s: class=%lld but data '%s' has %lld classes", p->name,
                             (long long)cls, ds->name, (long long)ds->num_classes);
        if (cls < 0 && ds->num_classes != 2)
            return DSC_ERROR(DSC_ERR_INVALID,
                             "convex %s: data '%s' has %lld classes; a binary loss needs 2 (or class=k: k vs the rest)",
                             p->name, ds->name, (long long)ds->num_classes);
        double pos = cls < 0 ? 1.0 : (double)cls;
        for (int64_t i = 0; i < n; i++)
            m->y[i] = m->y[i] == pos ? 1.0 : -1.0;
    } else if (m->loss == LOSS_SOFTMAX) {
        if (ds->num_classes < 2)
            return DSC_ERROR(DSC_ERR_INVALID, "convex softmax: data '%s' is a regression set; needs classes", ds->name);
        if (ds->num_classes > CVX_KMAX)
            return DSC_ERROR(DSC_ERR_RANGE, "convex softmax: %lld classes > %d", (long long)ds->num_classes, CVX_KMAX);
        p->K = ds->num_classes;
    }
    p->dim = p->d * p->K + (p->intercept ? p->K : 0);
    p->linear = 1;
    p->convex = 1;
    p->smooth = p->l1 == 0.0;

    /* Constants: L_i = curv ||x~_i||^2 + l2, L = curv lambda_max(X~^T X~)/n + l2. */
    m->sqn = malloc((size_t)n * sizeof(double));
    m->Li = malloc((size_t)n * sizeof(double));
    if (!m->sqn || !m->Li)
        return DSC_ERROR(DSC_ERR_NOMEM, "convex %s: constants", p->name);
    p->L_max = 0.0;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const int32_t *idx;
        const double *val;
        int64_t nnz = dsc_convex_row(p, i, &idx, &val);
        double s = cvx_dot(nnz, val, val) + (p->intercept ? 1.0 : 0.0);
        m->sqn[i] = s;
        m->Li[i] = m->curv * s + p->l2;
        sum += m->Li[i];
        if (m->Li[i] > p->L_max)
            p->L_max = m->Li[i];
    }
    p->L_i = m->Li;
    p->L_mean = sum / (double)n;
    double lmax = 0.0, lmin = 0.0;
    if (m->loss == LOSS_SQUARE) {
        /* the Hessian is constant: X~^T X~ / n + l2 I_reg, its extreme eigenvalues are L and mu
         * (exact when d + intercept <= 400; else mu = l2 without intercept, 0 with one) */
        DSC_TRY(gram_extremes(p, p->l2, &lmax, &lmin));
        p->L = lmax;
        p->mu = lmin > 0 ? lmin : (p->intercept ? 0.0 : p->l2);
    } else {
        DSC_TRY(gram_extremes(p, 0.0, &lmax, &lmin));
        p->L = m->curv * lmax + p->l2;
        p->mu = p->intercept ? 0.0 : p->l2;
    }
    return DSC_OK;
}

dsc_status dsc_convex_problem_new(const char *spec, const dsc_dataset *ds, uint64_t seed, dsc_convex_problem **out)
{
    *out = NULL;
    if (!spec || !*spec)
        return DSC_ERROR(DSC_ERR_INVALID, "convex: empty problem spec (try logreg:l2=1e-3)");
    dsc_kvspec kv;
    dsc_status st = dsc_kvspec_parse(spec, &kv);
    if (st != DSC_OK) {
        dsc_kvspec_free(&kv);
        return st;
    }
    int ki = -1;
    for (int k = 0; k < N_KINDS; k++)
        if (strcmp(kinds[k].name, kv.name) == 0)
            ki = k;
    if (ki < 0) {
        /* aliases */
        if (strcmp(kv.name, "matfac") == 0 || strcmp(kv.name, "sensing") == 0)
            ki = 11;
        else if (strcmp(kv.name, "phase") == 0)
            ki = 12;
        else if (strcmp(kv.name, "strict_saddle") == 0)
            ki = 13;
        else if (strcmp(kv.name, "deeplinear") == 0)
            ki = 14;
    }
    if (ki < 0) {
        char names[512];
        size_t off = 0;
        for (int k = 0; k < N_KINDS; k++)
            off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s", k ? ", " : "", kinds[k].name);
        st = DSC_ERROR(DSC_ERR_INVALID, "convex: unknown problem '%s' (valid: %s)", kv.name, names);
        dsc_kvspec_free(&kv);
        return st;
    }
    dsc_convex_problem *p = calloc(1, sizeof(*p));
    if (!p || !(p->impl = calloc(1, sizeof(dsc_convex_impl)))) {
        free(p);
        dsc_kvspec_free(&kv);
        return DSC_ERROR(DSC_ERR_NOMEM, "convex: problem '%s'", spec);
    }
    p->kind = kinds[ki].kind;
    snprintf(p->spec, sizeof(p->spec), "%s", spec);
    snprintf(p->name, sizeof(p->name), "%s", kinds[ki].name);
    p->K = 1;
    p->smooth = 1;
    switch (p->kind) {
    case DSC_CVX_QUADRATIC: st = cvx_make_quadratic(p, &kv, seed); break;
    case DSC_CVX_ROSENBROCK: st = cvx_make_rosenbrock(p, &kv); break;
    case DSC_CVX_SADDLE: st = cvx_make_saddle(p, &kv); break;
    case DSC_CVX_PHASE: st = cvx_make_phase(p, &kv, seed); break;
    case DSC_CVX_MATFAC: st = cvx_make_matfac(p, &kv, seed, strcmp(kv.name, "sensing") == 0); break;
    case DSC_CVX_DEEPLINEAR: st = cvx_make_deeplinear(p, &kv, ds, seed); break;
    default: st = make_linear(p, &kv, ds); break;
    }
    dsc_kvspec_free(&kv);
    if (st != DSC_OK) {
        dsc_convex_problem_free(p);
        return st;
    }
    /* Fingerprint: spec, shapes, then the data the problem holds. */
    uint64_t h = 1469598103934665603ULL;
    h = fnv1a(h, p->spec, strlen(p->spec));
    int64_t shp[4] = {p->n, p->d, p->K, p->dim};
    h = fnv1a(h, shp, sizeof(shp));
    dsc_convex_impl *m = p->impl;
    if (m->X)
        h = fnv1a(h, m->X, (size_t)(p->n * p->d) * sizeof(double));
    if (m->val && m->rp) {
        h = fnv1a(h, m->rp, (size_t)(p->n + 1) * sizeof(int64_t));
        h = fnv1a(h, m->ci, (size_t)m->rp[p->n] * sizeof(int32_t));
        h = fnv1a(h, m->val, (size_t)m->rp[p->n] * sizeof(double));
    }
    if (m->y && p->linear)
        h = fnv1a(h, m->y, (size_t)p->n * sizeof(double));
    if (!p->linear)
        h = fnv1a(h, &seed, sizeof(seed));
    p->fingerprint = h;
    if (p->kind == DSC_CVX_DEEPLINEAR && p->has_known_optimum)
        p->f_star_known = dsc_convex_value(p, m->wstar); /* more accurate than the closed form */
    *out = p;
    return DSC_OK;
}

void dsc_convex_initial_point(const dsc_convex_problem *p, uint64_t seed, double *w)
{
    memset(w, 0, (size_t)p->dim * sizeof(double));
    if (p->kind == DSC_CVX_ROSENBROCK) {
        for (int64_t j = 0; j < p->dim; j++)
            w[j] = (j % 2 == 0) ? -1.2 : 1.0;
    } else if (p->kind == DSC_CVX_MATFAC || p->kind == DSC_CVX_DEEPLINEAR || p->kind == DSC_CVX_PHASE) {
        dsc_rng r = dsc_rng_seed(seed);
        double s = p->kind == DSC_CVX_PHASE ? 1.0 / sqrt((double)p->dim) : 0.1;
        if (p->kind == DSC_CVX_DEEPLINEAR)
            s = 0.5 / sqrt((double)(p->impl->r > 0 ? p->impl->r : 1));
        for (int64_t j = 0; j < p->dim; j++)
            w[j] = s * dsc_rng_normal(&r);
    }
}

dsc_status dsc_convex_known_optimum(const dsc_convex_problem *p, double *w, double *f)
{
    if (!p->has_known_optimum || !p->impl->wstar)
        return DSC_ERROR(DSC_ERR_UNSUPPORTED, "convex %s: no closed-form optimum (use dsc_convex_solve_exact)", p->name);
    memcpy(w, p->impl->wstar, (size_t)p->dim * sizeof(double));
    if (f)
        *f = p->f_star_known;
    return DSC_OK;
}
