/* Small dense linear algebra for the convex lab: Cholesky factorization and solve, the cyclic
 * Jacobi eigenvalue method for symmetric matrices, and power iteration. Row-major, float64,
 * single-threaded (used on d x d matrices with d up to a few thousand). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "convex/convex_internal.h"

/* A = L L^T, L in the lower triangle (Cholesky-Banachiewicz, row by row). */
dsc_status dsc_cholesky(int64_t n, double *A)
{
    for (int64_t i = 0; i < n; i++) {
        double *ai = A + i * n;
        for (int64_t j = 0; j <= i; j++) {
            const double *aj = A + j * n;
            double s = ai[j];
            for (int64_t k = 0; k < j; k++)
                s -= ai[k] * aj[k];
            if (i == j) {
                if (!(s > 0.0))
                    return DSC_ERROR(DSC_ERR_NUMERIC, "cholesky: matrix not positive definite (pivot %lld = %g, n=%lld)",
                                     (long long)i, s, (long long)n);
                ai[i] = sqrt(s);
            } else {
                ai[j] = s / aj[j];
            }
        }
    }
    return DSC_OK;
}

void dsc_cholesky_solve(int64_t n, const double *Lf, double *b)
{
    for (int64_t i = 0; i < n; i++) { /* L y = b */
        double s = b[i];
        const double *li = Lf + i * n;
        for (int64_t k = 0; k < i; k++)
            s -= li[k] * b[k];
        b[i] = s / li[i];
    }
    for (int64_t i = n - 1; i >= 0; i--) { /* L^T x = y */
        double s = b[i];
        for (int64_t k = i + 1; k < n; k++)
            s -= Lf[k * n + i] * b[k];
        b[i] = s / Lf[i * n + i];
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Cyclic Jacobi (Golub & Van Loan, Alg. 8.5.3): rotations zeroing each off-diagonal entry in
 * turn until the off-diagonal mass is negligible; eigenvalues to full relative accuracy of the
 * larger ones. */
dsc_status dsc_sym_eig(int64_t n, double *A, double *evals, double *V)
{
    if (V) {
        memset(V, 0, (size_t)(n * n) * sizeof(double));
        for (int64_t i = 0; i < n; i++)
            V[i * n + i] = 1.0;
    }
    double fro = 0.0;
    for (int64_t i = 0; i < n * n; i++)
        fro += A[i] * A[i];
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0.0;
        for (int64_t p = 0; p < n; p++)
            for (int64_t q = p + 1; q < n; q++)
                off += A[p * n + q] * A[p * n + q];
        if (off <= 1e-32 * fro || off == 0.0)
            break;
        for (int64_t p = 0; p < n; p++)
            for (int64_t q = p + 1; q < n; q++) {
                double apq = A[p * n + q];
                if (apq == 0.0)
                    continue;
                double app = A[p * n + p], aqq = A[q * n + q];
                double theta = (aqq - app) / (2.0 * apq);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
                for (int64_t k = 0; k < n; k++) { /* A <- A J (columns p, q) */
                    double akp = A[k * n + p], akq = A[k * n + q];
                    A[k * n + p] = c * akp - s * akq;
                    A[k * n + q] = s * akp + c * akq;
                }
                for (int64_t k = 0; k < n; k++) { /* A <- J^T A (rows p, q) */
                    double apk = A[p * n + k], aqk = A[q * n + k];
                    A[p * n + k] = c * apk - s * aqk;
                    A[q * n + k] = s * apk + c * aqk;
                }
                A[p * n + q] = A[q * n + p] = 0.0;
                if (V)
                    for (int64_t k = 0; k < n; k++) {
                        double vkp = V[k * n + p], vkq = V[k * n + q];
                        V[k * n + p] = c * vkp - s * vkq;
                        V[k * n + q] = s * vkp + c * vkq;
                    }
            }
    }
    for (int64_t i = 0; i < n; i++)
        evals[i] = A[i * n + i];
    if (!V) {
        qsort(evals, (size_t)n, sizeof(double), cmp_double);
    } else {
        /* selection sort with the columns of V */
        for (int64_t i = 0; i < n; i++) {
            int64_t b = i;
            for (int64_t k = i + 1; k < n; k++)
                if (evals[k] < evals[b])
                    b = k;
            if (b != i) {
                double t = evals[i];
                evals[i] = evals[b];
                evals[b] = t;
                for (int64_t k = 0; k < n; k++) {
                    t = V[k * n + i];
                    V[k * n + i] = V[k * n + b];
                    V[k * n + b] = t;
                }
            }
        }
    }
    return DSC_OK;
}

double dsc_power_iteration(int64_t n, void (*apply)(void *ctx, const double *v, double *out), void *ctx, int iters,
                           double tol)
{
    if (n <= 0)
        return 0.0;
    double *v = calloc((size_t)(2 * n), sizeof(double));
    if (!v)
        return NAN;
    double *u = v + n;
    /* a fixed start with no special symmetry: 1 + j/n, normalized */
    for (int64_t j = 0; j < n; j++)
        v[j] = 1.0 + (double)j / (double)n;
    double nv = cvx_nrm2(n, v), lam = 0.0;
    for (int64_t j = 0; j < n; j++)
        v[j] /= nv;
    for (int it = 0; it < iters; it++) {
        apply(ctx, v, u);
        double nu = cvx_nrm2(n, u);
        double prev = lam;
        lam = cvx_dot(n, v, u); /* Rayleigh quotient */
        if (nu == 0.0)
            break;
        for (int64_t j = 0; j < n; j++)
            v[j] = u[j] / nu;
        if (it > 2 && fabs(lam - prev) <= tol * fabs(lam))
            break;
    }
    free(v);
    return lam;
}

/* Lanczos with full reorthogonalization (Golub & Van Loan, Sec. 10.1): the largest Ritz value of
 * the Krylov space grows to lambda_max much faster than the power iteration (error ~
 * exp(-4 k sqrt(gap))). The k x k tridiagonal's eigenvalues come from dsc_sym_eig; the space is
 * extended in steps of 10 until the top Ritz value changes by < tol relative. */
double dsc_lanczos_max(int64_t n, void (*apply)(void *ctx, const double *v, double *out), void *ctx, int max_k,
                       double tol)
{
    if (n <= 0)
        return 0.0;
    if (max_k > n)
        max_k = (int)n;
    if (max_k < 1)
        max_k = 1;
    double *V = calloc((size_t)(max_k + 1) * (size_t)n, sizeof(double));
    double *wv = calloc((size_t)n, sizeof(double));
    double *al = calloc((size_t)(max_k + 1), sizeof(double)), *be = calloc((size_t)(max_k + 1), sizeof(double));
    double *T = calloc((size_t)(max_k * max_k), sizeof(double)), *ev = calloc((size_t)max_k, sizeof(double));
    double lam = NAN, prev = 0.0;
    if (!V || !wv || !al || !be || !T || !ev)
        goto done;
    for (int64_t j = 0; j < n; j++)
        V[j] = 1.0 + (double)j / (double)n;
    double nv = cvx_nrm2(n, V);
    for (int64_t j = 0; j < n; j++)
        V[j] /= nv;
    int k;
    for (k = 0; k < max_k; k++) {
        const double *vk = V + (size_t)k * (size_t)n;
        apply(ctx, vk, wv);
        al[k] = cvx_dot(n, wv, vk);
        /* full reorthogonalization, twice */
        for (int pass = 0; pass < 2; pass++)
            for (int l = 0; l <= k; l++) {
                const double *vl = V + (size_t)l * (size_t)n;
                double c = cvx_dot(n, wv, vl);
                for (int64_t j = 0; j < n; j++)
                    wv[j] -= c * vl[j];
            }
        be[k] = cvx_nrm2(n, wv);
        int last = be[k] <= 1e-14 * fabs(al[k]) || k + 1 == max_k;
        if ((k + 1) % 10 == 0 || last) {
            int m = k + 1;
            memset(T, 0, (size_t)(m * m) * sizeof(double));
            for (int i = 0; i < m; i++) {
                T[i * m + i] = al[i];
                if (i + 1 < m)
                    T[i * m + i + 1] = T[(i + 1) * m + i] = be[i];
            }
            dsc_sym_eig(m, T, ev, NULL);
            lam = ev[m - 1];
            if (last || fabs(lam - prev) <= tol * fabs(lam))
                break;
            prev = lam;
        }
        double *vn = V + (size_t)(k + 1) * (size_t)n;
        for (int64_t j = 0; j < n; j++)
            vn[j] = wv[j] / be[k];
    }
done:
    free(V);
    free(wv);
    free(al);
    free(be);
    free(T);
    free(ev);
    return lam;
}
