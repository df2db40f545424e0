/* The convex lab's non-GLM problems: a quadratic with a prescribed spectrum, and the nonconvex
 * test problems (Rosenbrock, strict saddle, phase retrieval, matrix factorization / completion /
 * low-rank sensing, deep linear network). Each gives f_i, grad f_i and the Hessian-vector product
 * of f_i analytically; conventions and constants: docs/CONVEX.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convex/convex_internal.h"
#include "descent/rng.h"
#include "descent/spec.h"

static dsc_status set_Li(dsc_convex_problem *p, double L)
{
    p->impl->Li = malloc(sizeof(double));
    if (!p->impl->Li)
        return DSC_ERROR(DSC_ERR_NOMEM, "convex %s: constants", p->name);
    p->impl->Li[0] = L;
    p->L_i = p->impl->Li;
    p->L = p->L_max = p->L_mean = L;
    return DSC_OK;
}

static dsc_status get_seed(const dsc_kvspec *kv, uint64_t seed, uint64_t *out)
{
    int64_t s;
    DSC_TRY(dsc_kvspec_int(kv, "seed", (int64_t)(seed & 0x7fffffffffffffffULL), 0, INT64_MAX, &s));
    *out = (uint64_t)s;
    return DSC_OK;
}

void cvx_matmul(int64_t m, int64_t p, int64_t k, const double *A, int ta, const double *B, int tb, double *C)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < p; j++) {
            double s = 0.0;
            for (int64_t t = 0; t < k; t++)
                s += (ta ? A[t * m + i] : A[i * k + t]) * (tb ? B[j * k + t] : B[t * p + j]);
            C[i * p + j] = s;
        }
}

/* ------------------------------------------------------------------------------------------ */
/* Quadratic (1/2)(w - w*)^T A (w - w*), A = Q diag(lambda) Q^T, Q a seeded random orthogonal
 * matrix (Gram-Schmidt of a Gaussian matrix), lambda spaced from mu to mu*kappa. */

static double quad_example(const dsc_convex_problem *p, int64_t i, const double *w, double *grad)
{
    (void)i;
    const dsc_convex_impl *m = p->impl;
    int64_t d = p->dim;
    double f = 0.0;
    for (int64_t j = 0; j < d; j++) {
        double s = 0.0;
        for (int64_t k = 0; k < d; k++)
            s += m->A[j * d + k] * (w[k] - m->wstar[k]);
        f += 0.5 * (w[j] - m->wstar[j]) * s;
        if (grad)
            grad[j] += s;
    }
    return f;
}

static void quad_hvp(const dsc_convex_problem *p, int64_t i, const double *w, const double *v, double *out)
{
    (void)i;
    (void)w;
    int64_t d = p->dim;
    for (int64_t j = 0; j < d; j++)
        out[j] += cvx_dot(d, p->impl->A + j * d, v);
}

dsc_status cvx_make_quadratic(dsc_convex_problem *p, const void *kvp, uint64_t seed)
{
    const dsc_kvspec *kv = kvp;
    dsc_convex_impl *m = p->impl;
    static const char *const keys[] = {"d", "kappa", "mu", "spectrum", "seed", NULL};
    static const char *const spectra[] = {"log", "linear", NULL};
    DSC_TRY(dsc_kvspec_check(kv, keys, 0));
    int64_t d;
    double kappa, mu;
    int spec;
    DSC_TRY(dsc_kvspec_int(kv, "d", 10, 1, 4096, &d));
    DSC_TRY(dsc_kvspec_double(kv, "kappa", 100.0, 1.0, 1e16, &kappa));
    DSC_TRY(dsc_kvspec_double(kv, "mu", 1.0, 1e-300, 1e300, &mu));
    DSC_TRY(dsc_kvspec_choice(kv, "spectrum", spectra, 0, &spec));
    DSC_TRY(get_seed(kv, seed, &seed));
    p->n = 1;
    p->d = p->dim = d;
    m->A = calloc((size_t)(d * d), sizeof(double));
    m->wstar = calloc((size_t)d, sizeof(double));
    double *Q = calloc((size_t)(d * d), sizeof(double));
    if (!m->A || !m->wstar || !Q) {
        free(Q);
        return DSC_ERROR(DSC_ERR_NOMEM, "convex quadratic: d=%lld", (long long)d);
    }
    dsc_rng r = dsc_rng_seed(seed);
    dsc_rng rq = dsc_rng_fork(&r, 1), rw = dsc_rng_fork(&r, 2);
    /* rows of Q: Gaussian vectors orthonormalized by modified Gram-Schmidt (twice, for accuracy) */
    for (int64_t j = 0; j < d; j++) {
        double *q = Q + j * d;
        for (;;) {
            for (int64_t k = 0; k < d; k++)
                q[k] = dsc_rng_normal(&rq);
            for (int pass = 0; pass < 2; pass++)
                for (int64_t l = 0; l < j; l++) {
                    double c = cvx_dot(d, q, Q + l * d);
                    for (int64_t k = 0; k < d; k++)
                        q[k] -= c * Q[l * d + k];
                }
            double nq = cvx_nrm2(d, q);
            if (nq > 1e-8) {
                for (int64_t k = 0; k < d; k++)
                    q[k] /= nq;
                break;
            }
        }
    }
    for (int64_t j = 0; j < d; j++) {
        double t = d > 1 ? (double)j / (double)(d - 1) : 0.0;
        double lam = spec == 0 ? mu * pow(kappa, t) : mu + (mu * kappa - mu) * t;
        if (j == d - 1)
            lam = mu * kappa;
        for (int64_t a = 0; a < d; a++)
            for (int64_t b = 0; b < d; b++)
                m->A[a * d + b] += lam * Q[j * d + a] * Q[j * d + b];
    }
    for (int64_t a = 0; a < d; a++)
        for (int64_t b = a + 1; b < d; b++)
            m->A[a * d + b] = m->A[b * d + a] = 0.5 * (m->A[a * d + b] + m->A[b * d + a]);
    free(Q);
    for (int64_t k = 0; k < d; k++)
        m->wstar[k] = dsc_rng_normal(&rw);
    m->example = quad_example;
    m->example_hvp = quad_hvp;
    p->convex = 1;
    p->mu = mu;
    p->has_known_optimum = 1;
    p->f_star_known = 0.0;
    return set_Li(p, mu * kappa);
}

/* ------------------------------------------------------------------------------------------ */
/* Rosenbrock sum_{j<d-1} b (w_{j+1} - w_j^2)^2 + (a - w_j)^2 */

static double rosen_example(const dsc_convex_problem *p, int64_t i, const double *w, double *grad)
{
    (void)i;
    double a = p->impl->ra, b = p->impl->rb, f = 0.0;
    for (int64_t j = 0; j + 1 < p->dim; j++) {
        double t = w[j + 1] - w[j] * w[j], s = a - w[j];
        f += b * t * t + s * s;
        if (grad) {
            grad[j] += -4.0 * b * w[j] * t - 2.0 * s;
            grad[j + 1] += 2.0 * b * t;
        }
    }
    return f;
}

static void rosen_hvp(const dsc_convex_problem *p, int64_t i, const double *w, const double *v, double *out)
{
    (void)i;
    double b = p->impl->rb;
    for (int64_t j = 0; j + 1 < p->dim; j++) {
        /* Hessian of the j-th term on (w_j, w_{j+1}):
         * [[-4b(w_{j+1} - 3 w_j^2) + 2, -4b w_j], [-4b w_j, 2b]] */
        double h00 = -4.0 * b * (w[j + 1] - 3.0 * w[j] * w[j]) + 2.0, h01 = -4.0 * b * w[j], h11 = 2.0 * b;
        out[j] += h00 * v[j] + h01 * v[j + 1];
        out[j + 1] += h01 * v[j] + h11 * v[j + 1];
    }
}

dsc_status cvx_make_rosenbrock(dsc_convex_problem *p, const void *kvp)
{
    const dsc_kvspec *kv = kvp;
    dsc_convex_impl *m = p->impl;
    static const char *const keys[] = {"d", "a", "b", NULL};
    DSC_TRY(dsc_kvspec_check(kv, keys, 0));
    int64_t d;
    DSC_TRY(dsc_kvspec_int(kv, "d", 2, 2, 1000000, &d));
    DSC_TRY(dsc_kvspec_double(kv, "a", 1.0, -1e6, 1e6, &m->ra));
    DSC_TRY(dsc_kvspec_double(kv, "b", 100.0, 0.0, 1e12, &m->rb));
    p->n = 1;
    p->d = p->dim = d;
    m->example = rosen_example;
    m->example_hvp = rosen_hvp;
    p->convex = 0;
    if (m->ra == 1.0 || d == 2) {
        /* w* = (a, a^2) for d = 2; all ones for a = 1 */
        m->wstar = malloc((size_t)d * sizeof(double));
        if (!m->wstar)
            return DSC_ERROR(DSC_ERR_NOMEM, "convex rosenbrock: d=%lld", (long long)d);
        for (int64_t j = 0; j < d; j++)
            m->wstar[j] = 1.0;
        if (d == 2) {
            m->wstar[0] = m->ra;
            m->wstar[1] = m->ra * m->ra;
        }
        p->has_known_optimum = 1;
        p->f_star_known = 0.0;
    }
    return set_Li(p, 0.0);
}

/* ------------------------------------------------------------------------------------------ */
/* Strict saddle (1/2) sum_{j<d-1} w_j^2 + w_{d-1}^4/4 - w_{d-1}^2/2 */

static double saddle_example(const dsc_convex_problem *p, int64_t i, const double *w, double *grad)
{
    (void)i;
    int64_t d = p->dim;
    double f = 0.0;
    for (int64_t j = 0; j + 1 < d; j++) {
        f += 0.5 * w[j] * w[j];
        if (grad)
            grad[j] += w[j];
    }
    double x = w[d - 1];
    f += 0.25 * x * x * x * x - 0.5 * x * x;
    if (grad)
        grad[d - 1] += x * x * x - x;
    return f;
}

static void saddle_hvp(const dsc_convex_problem *p, int64_t i, const double *w, const double *v, double *out)
{
    (void)i;
    int64_t d = p->dim;
    for (int64_t j = 0; j + 1 < d; j++)
        out[j] += v[j];
    out[d - 1] += (3.0 * w[d - 1] * w[d - 1] - 1.0) * v[d - 1];
}

dsc_status cvx_make_saddle(dsc_convex_problem *p, const void *kvp)
{
    const dsc_kvspec *kv = kvp;
    dsc_convex_impl *m = p->impl;
    static const char *const keys[] = {"d", NULL};
    DSC_TRY(dsc_kvspec_check(kv, keys, 0));
    int64_t d;
    DSC_TRY(dsc_kvspec_int(kv, "d", 2, 1, 1000000, &d));
    p->n = 1;
    p->d = p->dim = d;
    m->example = saddle_example;
    m->example_hvp = saddle_hvp;
    p->convex = 0;
    m->wstar = calloc((size_t)d, sizeof(double));
    if (!m->wstar)
        return DSC_ERROR(DSC_ERR_NOMEM, "convex saddle: d=%lld", (long long)d);
    m->wstar[d - 1] = 1.0;
    p->has_known_optimum = 1;
    p->f_star_known = -0.25;
    p->rho = 12.0; /* |d^3 f / dw^3| = 6|w| <= 12 on the box |w_j| <= 2 */
    return set_Li(p, 11.0); /* max(1, 3 w^2 - 1) on the box |w_j| <= 2 */
}

/* ------------------------------------------------------------------------------------------ */
/* Phase retrieval (1/(4n)) sum ((a_i^T w)^2 - y_i)^2, y_i = (a_i^T x*)^2, a_i ~ N(0, I) */

static double phase_example(const dsc_convex_problem *p, int64_t i, const double *w, double *grad)
{
    const double *a = p->impl->A + i * p->dim;
    double s = cvx_dot(p->dim, a, w), r = s * s - p->impl->y[i];
    if (grad)
        for (int64_t j = 0; j < p->dim; j++)
            grad[j] += r * s * a[j];
    return 0.25 * r * r;
}

static void phase_hvp(const dsc_convex_problem *p, int64_t i, const double *w, const double *v, double *out)
{
    const double *a = p->impl->A + i * p->dim;
    double s = cvx_dot(p->dim, a, w), av = cvx_dot(p->dim, a, v);
    double c = (3.0 * s * s - p->impl->y[i]) * av; /* H_i = (3 s^2 - y_i) a a^T */
    for (int64_t j = 0; j < p->dim; j++)
        out[j] += c * a[j];
}

dsc_status cvx_make_phase(dsc_convex_problem *p, const void *kvp, uint64_t seed)
{
    const dsc_kvspec *kv = kvp;
    dsc_convex_impl *m = p->impl;
    static const char *const keys[] = {"d", "n", "seed", NULL};
    DSC_TRY(dsc_kvspec_check(kv, keys, 0));
    int64_t d, n;
    DSC_TRY(dsc_kvspec_int(kv, "d", 10, 1, 100000, &d));
    DSC_TRY(dsc_kvspec_int(kv, "n", 200, 1, 100000000, &n));
    DSC_TRY(get_seed(kv, seed, &seed));
    if (n * d > ((int64_t)1 << 28))
        return DSC_ERROR(DSC_ERR_RANGE, "convex phase_retrieval: n*d = %lld too large", (long long)(n * d));
    p->n = n;
    p->d = p->dim = d;
    m->A = malloc((size_t)(n * d) * sizeof(double));
    m->y = malloc((size_t)n * sizeof(double));
    m->wstar = malloc((size_t)d * sizeof(double));
    if (!m->A || !m->y || !m->wstar)
        return DSC_ERROR(DSC_ERR_NOMEM, "convex phase_retrieval: n=%lld d=%lld", (long long)n, (long long)d);
    dsc_rng r = dsc_rng_seed(seed);
    dsc_rng rx = dsc_rng_fork(&r, 1), ra = dsc_rng_fork(&r, 2);
    for (int64_t j = 0; j < d; j++)
        m->wstar[j] = dsc_rng_normal(&rx);
    double nx = cvx_nrm2(d, m->wstar);
    for (int64_t j = 0; j < d; j++)
        m->wstar[j] /= nx;
    for (int64_t t = 0; t < n * d; t++)
        m->A[t] = dsc_rng_normal(&ra);
    for (int64_t i = 0; i < n; i++) {
        double s = cvx_dot(d, m->A + i * d, m->wstar);
        m->y[i] = s * s;
    }
    m->example = phase_example;
    m->example_hvp = phase_hvp;
    p->convex = 0;
    p->has_known_optimum = 1;
    p->f_star_known = 0.0;
    return set_Li(p, 0.0);
}

/* ------------------------------------------------------------------------------------------ */
/* Matrix factorization / completion (1/(2|O|)) sum_{(a,b) in O} (u_a^T v_b - M_ab)^2 and low-rank
 * sensing (1/(2n)) sum_i (<A_i, U V^T> - b_i)^2. w = [U (m x r), V (q x r)], row-major. */

static double mf_example(const dsc_convex_problem *p, int64_t i, const double *w, double *grad)
{
    const dsc_convex_impl *m = p->impl;
    int64_t r = m->r, e = m->obs[i], a = e / m->q, b = e % m->q;
    const double *u = w + a * r, *v = w + m->m * r + b * r;
    double res = cvx_dot(r, u, v) - m->A[e];
    if (grad) {
        double *gu = grad + a * r, *gv = grad + m->m * r + b * r;
        for (int64_t k = 0; k < r; k++) {
            gu[k] += res * v[k];
            gv[k] += res * u[k];
        }
    }
    return 0.5 * res * res;
}

static void mf_hvp(const dsc_convex_problem *p, int64_t i, const double *w, const double *vv, double *out)
{
    const dsc_convex_impl *m = p->impl;
    int64_t r = m->r, e = m->obs[i], a = e / m->q, b = e % m->q;
    const double *u = w + a * r, *v = w + m->m * r + b * r;
    const double *du = vv + a * r, *dv = vv + m->m * r + b * r;
    double res = cvx_dot(r, u, v) - m->A[e];
    double dres = cvx_dot(r, du, v) + cvx_dot(r, u, dv);
    double *ou = out + a * r, *ov = out + m->m * r + b * r;
    for (int64_t k = 0; k < r; k++) {
        ou[k] += dres * v[k] + res * dv[k];
        ov[k] += dres * u[k] + res * du[k];
    }
}

/* sensing: A_i stored in m->A + i*m*q (m x q), targets in m->y */
static double sens_example(const dsc_convex_problem *p, int64_t i, const double *w, double *grad)
{
    const dsc_convex_impl *m = p->impl;
    int64_t r = m->r, M = m->m, q = m->q;
    const double *Ai = m->A + i * M * q, *U = w, *V = w + M * r;
    double s = 0.0;
    for (int64_t a = 0; a < M; a++)
        for (int64_t b = 0; b < q; b++)
            s += Ai[a * q + b] * cvx_dot(r, U + a * r, V + b * r);
    double res = s - m->y[i];
    if (grad)
        for (int64_t a = 0; a < M; a++)
            for (int64_t b = 0; b < q; b++) {
                double c = res * Ai[a * q + b];
                for (int64_t k = 0; k < r; k++) {
                    grad[a * r + k] += c * V[b * r + k];
                    grad[M * r + b * r + k] += c * U[a * r + k];
                }
            }
    return 0.5 * res * res;
}

static void sens_hvp(const dsc_convex_problem *p, int64_t i, const double *w, const double *vv, double *out)
{
    const dsc_convex_impl *m = p->impl;
    int64_t r = m->r, M = m->m, q = m->q;
    const double *Ai = m->A + i * M * q, *U = w, *V = w + M * r, *dU = vv, *dV = vv + M * r;
    double s = 0.0, ds = 0.0;
    for (int64_t a = 0; a < M; a++)
        for (int64_t b = 0; b < q; b++) {
            s += Ai[a * q + b] * cvx_dot(r, U + a * r, V + b * r);
            ds += Ai[a * q + b] * (cvx_dot(r, dU + a * r, V + b * r) + cvx_dot(r, U + a * r, dV + b * r));
        }
    double res = s - m->y[i];
    for (int64_t a = 0; a < M; a++)
        for (int64_t b = 0; b < q; b++) {
            double c = Ai[a * q + b];
            for (int64_t k = 0; k < r; k++) {
                out[a * r + k] += c * (ds * V[b * r + k] + res * dV[b * r + k]);
                out[M * r + b * r + k] += c * (ds * U[a * r + k] + res * dU[a * r + k]);
            }
        }
}

dsc_status cvx_make_matfac(dsc_convex_problem *p, const void *kvp, uint64_t seed, int sensing)
{
    const dsc_kvspec *kv = kvp;
    dsc_convex_impl *m = p->impl;
    static const char *const keys[] = {"m", "q", "r", "obs", "n", "seed", NULL};
    DSC_TRY(dsc_kvspec_check(kv, keys, 0));
    int64_t M, q, r, nmeas;
    double obs;
    DSC_TRY(dsc_kvspec_int(kv, "m", 20, 1, 100000, &M));
    DSC_TRY(dsc_kvspec_int(kv, "q", 15, 1, 100000, &q));
    DSC_TRY(dsc_kvspec_int(kv, "r", 3, 1, 10000, &r));
    DSC_TRY(dsc_kvspec_double(kv, "obs", 1.0, 1e-9, 1.0, &obs));
    DSC_TRY(dsc_kvspec_int(kv, "n", 5 * r * (M + q), 1, 100000000, &nmeas));
    DSC_TRY(get_seed(kv, seed, &seed));
    if (M * q > ((int64_t)1 << 26) || (sensing && nmeas * M * q > ((int64_t)1 << 27)))
        return DSC_ERROR(DSC_ERR_RANGE, "convex matrix_factorization: m=%lld q=%lld too large", (long long)M,
                         (long long)q);
    if (sensing && dsc_kvspec_has(kv, "obs"))
        return DSC_ERROR(DSC_ERR_INVALID, "convex sensing: obs= is for matrix_factorization (sensing takes n=)");
    if (!sensing && dsc_kvspec_has(kv, "n"))
        return DSC_ERROR(DSC_ERR_INVALID, "convex matrix_factorization: n= is for sensing (completion takes obs=)");
    if (sensing)
        snprintf(p->name, sizeof(p->name), "sensing");
    m->m = M;
    m->q = q;
    m->r = r;
    p->d = r;
    p->dim = (M + q) * r;
    dsc_rng rg = dsc_rng_seed(seed);
    dsc_rng rf = dsc_rng_fork(&rg, 1), ro = dsc_rng_fork(&rg, 2);
    m->wstar = malloc((size_t)p->dim * sizeof(double));
    if (!m->wstar)
        return DSC_ERROR(DSC_ERR_NOMEM, "convex %s: factors", p->name);
    /* U*, V* with N(0, 1/sqrt(r)) entries so that M has O(1) entries */
    for (int64_t t = 0; t < p->dim; t++)
        m->wstar[t] = dsc_rng_normal(&rf) / pow((double)r, 0.25);
    double *Mt = malloc((size_t)(M * q) * sizeof(double));
    if (!Mt)
        return DSC_ERROR(DSC_ERR_NOMEM, "convex %s: target", p->name);
    cvx_matmul(M, q, r, m->wstar, 0, m->wstar + M * r, 1, Mt);
    if (!sensing) {
        m->A = Mt;
        m->obs = malloc((size_t)(M * q) * sizeof(int64_t));
        if (!m->obs)
            return DSC_ERROR(DSC_ERR_NOMEM, "convex %s: observed entries", p->name);
        int64_t n = 0;
        for (int64_t e = 0; e < M * q; e++)
            if (obs >= 1.0 || dsc_rng_uniform01(&ro) < obs)
                m->obs[n++] = e;
        if (n == 0)
            m->obs[n++] = 0;
        p->n = n;
        m->example = mf_example;
        m->example_hvp = mf_hvp;
    } else {
        m->A = malloc((size_t)(nmeas * M * q) * sizeof(double));
        m->y = malloc((size_t)nmeas * sizeof(double));
        if (!m->A || !m->y) {
            free(Mt);
            return DSC_ERROR(DSC_ERR_NOMEM, "convex sensing: %lld measurements", (long long)nmeas);
        }
        for (int64_t t = 0; t < nmeas * M * q; t++)
            m->A[t] = dsc_rng_normal(&ro);
        for (int64_t i = 0; i < nmeas; i++)
            m->y[i] = cvx_dot(M * q, m->A + i * M * q, Mt);
        free(Mt);
        p->n = nmeas;
        m->example = sens_example;
        m->example_hvp = sens_hvp;
    }
    p->convex = 0;
    p->has_known_optimum = 1;
    p->f_star_known = 0.0;
    return set_Li(p, 0.0);
}

/* ------------------------------------------------------------------------------------------ */
/* Deep linear network (1/(2n)) sum ||W_L ... W_1 x_i - y_i||^2; W_1: width x in, W_l: width x width,
 * W_L: out x width; w = [W_1, ..., W_L] row-major. Per example: forward h_l = W_l h_{l-1},
 * backward g_L = h_L - y, g_{l-1} = W_l^T g_l, grad W_l = g_l h_{l-1}^T. The Hessian-vector
 * product is the R-operator of that pass: dh_l = V_l h_{l-1} + W_l dh_{l-1}, dg_L = dh_L,
 * dg_{l-1} = V_l^T g_l + W_l^T dg_l, (H v)_l = dg_l h_{l-1}^T + g_l dh_{l-1}^T. */

#define DL_MAXDEPTH 16

static void dl_shape(const dsc_convex_impl *m, int64_t l, int64_t *rows, int64_t *cols)
{
    *cols = l == 0 ? m->m : m->r;
    *rows = l == m->depth - 1 ? m->q : m->r;
}

static double dl_pass(const dsc_convex_problem *p, int64_t i, const double *w, const double *v, double *grad,
                      double *hv)
{
    const dsc_convex_impl *m = p->impl;
    int64_t L = m->depth, in = m->m, out = m->q, wd = m->r;
    int64_t mx = in > wd ? in : wd;
    if (out > mx)
        mx = out;
    /* activations h_0..h_L and tangents (stack buffers sized for up to DL_MAXDEPTH layers) */
    double stackbuf[2048];
    size_t need = (size_t)(4 * (L + 1) * mx);
    double *buf = need <= 2048 ? stackbuf : malloc(need * sizeof(double));
    if (!buf)
        return NAN;
    double *h = buf, *dh = buf + (L + 1) * mx, *g = buf + 2 * (L + 1) * mx, *dg = buf + 3 * (L + 1) * mx;
    const double *x = m->X + i * in, *y = m->Yd + i * out;
    memcpy(h, x, (size_t)in * sizeof(double));
    memset(dh, 0, (size_t)mx * sizeof(double));
    const double *Wl[DL_MAXDEPTH], *Vl[DL_MAXDEPTH];
    int64_t off = 0;
    for (int64_t l = 0; l < L; l++) {
        int64_t r, c;
        dl_shape(m, l, &r, &c);
        Wl[l] = w + off;
        Vl[l] = v ? v + off : NULL;
        off += r * c;
        for (int64_t a = 0; a < r; a++) {
            h[(l + 1) * mx + a] = cvx_dot(c, Wl[l] + a * c, h + l * mx);
            if (v)
                dh[(l + 1) * mx + a] = cvx_dot(c, Vl[l] + a * c, h + l * mx) + cvx_dot(c, Wl[l] + a * c, dh + l * mx);
        }
    }
    double f = 0.0;
    for (int64_t a = 0; a < out; a++) {
        double e = h[L * mx + a] - y[a];
        f += 0.5 * e * e;
        g[L * mx + a] = e;
        dg[L * mx + a] = v ? dh[L * mx + a] : 0.0;
    }
    off = p->dim;
    for (int64_t l = L - 1; l >= 0; l--) {
        int64_t r, c;
        dl_shape(m, l, &r, &c);
        off -= r * c;
        const double *gl = g + (l + 1) * mx, *dgl = dg + (l + 1) * mx, *hp = h + l * mx, *dhp = dh + l * mx;
        for (int64_t a = 0; a < r; a++)
            for (int64_t b = 0; b < c; b++) {
                if (grad)
                    grad[off + a * c + b] += gl[a] * hp[b];
                if (hv)
                    hv[off + a * c + b] += dgl[a] * hp[b] + gl[a] * dhp[b];
            }
        for (int64_t b = 0; b < c; b++) {
            double s = 0.0, ds = 0.0;
            for (int64_t a = 0; a < r; a++) {
                s += Wl[l][a * c + b] * gl[a];
                if (v)
                    ds += Vl[l][a * c + b] * gl[a] + Wl[l][a * c + b] * dgl[a];
            }
            g[l * mx + b] = s;
            dg[l * mx + b] = ds;
        }
    }
    if (buf != stackbuf)
        free(buf);
    return f;
}

static double dl_example(const dsc_convex_problem *p, int64_t i, const double *w, double *grad)
{
    return dl_pass(p, i, w, NULL, grad, NULL);
}

static void dl_hvp(const dsc_convex_problem *p, int64_t i, const double *w, const double *v, double *out)
{
    dl_pass(p, i, w, v, NULL, out);
}

dsc_status cvx_make_deeplinear(dsc_convex_problem *p, const void *kvp, const dsc_dataset *ds, uint64_t seed)
{
    const dsc_kvspec *kv = kvp;
    dsc_convex_impl *m = p->impl;
    static const char *const keys[] = {"depth", "width", "n", "in", "out", "noise", "seed", NULL};
    DSC_TRY(dsc_kvspec_check(kv, keys, 0));
    int64_t depth, width, n, in, out;
    double noise;
    DSC_TRY(dsc_kvspec_int(kv, "depth", 3, 1, DL_MAXDEPTH, &depth));
    DSC_TRY(dsc_kvspec_int(kv, "n", 200, 1, 10000000, &n));
    DSC_TRY(dsc_kvspec_int(kv, "in", 5, 1, 100000, &in));
    DSC_TRY(dsc_kvspec_int(kv, "out", 5, 1, 100000, &out));
    DSC_TRY(dsc_kvspec_double(kv, "noise", 0.1, 0.0, 1e6, &noise));
    DSC_TRY(get_seed(kv, seed, &seed));
    if (ds) {
        if (ds->sparse)
            return DSC_ERROR(DSC_ERR_UNSUPPORTED, "convex deep_linear: sparse data '%s' (densify it)", ds->name);
        if (!ds->y && !ds->y64)
            return DSC_ERROR(DSC_ERR_INVALID, "convex deep_linear: data '%s' has no labels", ds->name);
        n = ds->n;
        in = ds->d;
        out = 1;
    }
    DSC_TRY(dsc_kvspec_int(kv, "width", in > out ? in : out, 1, 100000, &width));
    if (n * in > ((int64_t)1 << 28))
        return DSC_ERROR(DSC_ERR_RANGE, "convex deep_linear: n*in = %lld too large", (long long)(n * in));
    m->depth = depth;
    m->m = in;
    m->q = out;
    m->r = depth == 1 ? out : width;
    p->n = n;
    p->d = in;
    p->dim = 0;
    for (int64_t l = 0; l < depth; l++) {
        int64_t r, c;
        dl_shape(m, l, &r, &c);
        p->dim += r * c;
    }
    m->X = malloc((size_t)(n * in) * sizeof(double));
    m->Yd = malloc((size_t)(n * out) * sizeof(double));
    if (!m->X || !m->Yd)
        return DSC_ERROR(DSC_ERR_NOMEM, "convex deep_linear: data n=%lld", (long long)n);
    if (ds) {
        for (int64_t t = 0; t < n * in; t++)
            m->X[t] = ds->dtype == DSC_DATA_F64 ? ds->x64[t] : (double)ds->x[t];
        for (int64_t i = 0; i < n; i++)
            m->Yd[i] = dsc_dataset_label(ds, i);
    } else {
        dsc_rng rg = dsc_rng_seed(seed);
        dsc_rng rt = dsc_rng_fork(&rg, 1), rx = dsc_rng_fork(&rg, 2);
        double *T = malloc((size_t)(out * in) * sizeof(double));
        if (!T)
            return DSC_ERROR(DSC_ERR_NOMEM, "convex deep_linear: teacher");
        for (int64_t t = 0; t < out * in; t++)
            T[t] = dsc_rng_normal(&rt) / sqrt((double)in);
        for (int64_t t = 0; t < n * in; t++)
            m->X[t] = dsc_rng_normal(&rx);
        for (int64_t i = 0; i < n; i++)
            for (int64_t a = 0; a < out; a++)
                m->Yd[i * out + a] = cvx_dot(in, T + a * in, m->X + i * in) + noise * dsc_rng_normal(&rx);
        free(T);
    }
    m->example = dl_example;
    m->example_hvp = dl_hvp;
    p->convex = depth == 1;
    /* The optimal value is that of linear least squares when the narrowest layer is at least
     * min(in, out) wide: P* = B C^{-1} with C = X^T X / n, B = Y^T X / n, and
     * f* = (1/(2n)) sum ||y_i||^2 - (1/2) tr(B C^{-1} B^T). w* factors P*: W_1 = [P*; 0] (needs
     * width >= out), W_l = [I 0; 0 0], W_L = [I_out 0]. */
    if (m->r >= out || depth == 1) {
        double *C = calloc((size_t)(in * in + out * in), sizeof(double));
        if (!C)
            return DSC_ERROR(DSC_ERR_NOMEM, "convex deep_linear: covariance");
        double *B = C + in * in, c0 = 0.0;
        for (int64_t i = 0; i < n; i++) {
            const double *x = m->X + i * in, *y = m->Yd + i * out;
            for (int64_t a = 0; a < in; a++)
                for (int64_t b = 0; b < in; b++)
                    C[a * in + b] += x[a] * x[b] / (double)n;
            for (int64_t a = 0; a < out; a++) {
                for (int64_t b = 0; b < in; b++)
                    B[a * in + b] += y[a] * x[b] / (double)n;
                c0 += 0.5 * y[a] * y[a] / (double)n;
            }
        }
        if (dsc_cholesky(in, C) == DSC_OK) {
            double *P = malloc((size_t)(out * in) * sizeof(double));
            m->wstar = calloc((size_t)p->dim, sizeof(double));
            if (!P || !m->wstar) {
                free(P);
                free(C);
                return DSC_ERROR(DSC_ERR_NOMEM, "convex deep_linear: optimum");
            }
            double fs = c0;
            for (int64_t a = 0; a < out; a++) {
                memcpy(P + a * in, B + a * in, (size_t)in * sizeof(double));
                dsc_cholesky_solve(in, C, P + a * in); /* row a of P* = C^{-1} b_a */
                fs -= 0.5 * cvx_dot(in, P + a * in, B + a * in);
            }
            int64_t off = 0;
            for (int64_t l = 0; l < depth; l++) {
                int64_t r, c;
                dl_shape(m, l, &r, &c);
                double *Wl = m->wstar + off;
                if (l == 0) {
                    for (int64_t a = 0; a < out && a < r; a++)
                        memcpy(Wl + a * c, P + a * in, (size_t)in * sizeof(double));
                } else {
                    for (int64_t a = 0; a < r && a < c && a < out; a++)
                        Wl[a * c + a] = 1.0;
                }
                off += r * c;
            }
            free(P);
            p->has_known_optimum = 1;
            p->f_star_known = fs;
        }
        free(C);
    }
    return set_Li(p, 0.0);
}
