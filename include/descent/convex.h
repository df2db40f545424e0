/* descent — the convex (and finite-sum) lab: problems with exact optima.
 *
 * A problem is made from a spec string and (for data-driven problems) a data set:
 *     "logreg:l2=1e-3"      "lasso:l1=0.05"      "quadratic:d=10,kappa=100"      "rosenbrock:d=2"
 * Names: lsq, ridge, lasso, logreg, logreg_l1, sqhinge, smoothhinge, softmax, huber, quadratic,
 * rosenbrock, matrix_factorization (alias matfac; "sensing" for low-rank sensing),
 * phase_retrieval (phase), saddle (strict_saddle), deep_linear (deeplinear).
 * Every problem is float64 and minimizes
 *
 *     F(w) = g(w) + h(w),      g(w) = (1/n) sum_{i<n} f_i(w)   (smooth),   h(w) = l1 * ||w||_1
 *
 * where h is nonzero only for the L1 problems (lasso, logreg_l1) and is handled through its
 * proximal operator; the smooth ridge term (l2/2)||w||^2 is part of every f_i (so that the mean
 * of the f_i is g, as SAG/SAGA/SVRG assume). Deterministic problems (quadratic, rosenbrock,
 * saddle) have n == 1 and f_0 == g. The objective of each problem (1/n vs 1/(2n), how lambda
 * enters, what sklearn's C is) is documented in docs/CONVEX.md and in dsc_convex_help().
 *
 * Parameter vector layout (p->dim doubles):
 *   - linear models with one output (lsq, ridge, lasso, logreg, logreg_l1, sqhinge, smoothhinge,
 *     huber): w[0..d-1] feature weights, then w[d] the intercept when intercept=1.
 *   - softmax (K classes): W is d x K row-major, w[j*K + k]; then K intercepts when intercept=1.
 *   - the intercept is never regularized (neither l2 nor l1).
 *   - other problems: see docs/CONVEX.md (matrix factorization: U (m x r) then V (q x r), row-major;
 *     deep linear network: W_1, ..., W_depth, each row-major [out x in]).
 *
 * Linear models (p->linear == 1) expose their structure so that SAG can keep O(n) memory: with
 * the augmented row x~_i = (x_i, 1 if intercept) and the margins z_i = W^T x~_i (K values),
 *     f_i(w) = phi_i(z_i) + (l2/2) ||w_reg||^2,     grad f_i = x~_i (outer) phi_i'(z_i) + l2 * w_reg
 * where w_reg is w with the intercept entries zeroed. dsc_convex_margin, dsc_convex_dloss and
 * dsc_convex_row_axpy give these pieces; dsc_convex_row gives the raw feature row (dense or CSR).
 *
 * Thread safety: a problem is read-only after creation; all functions below may be called
 * concurrently on the same problem (they use only the caller's buffers). Full-gradient functions
 * may use OpenMP internally with a fixed chunking, so results are bit-identical for any number
 * of threads. */
#ifndef DESCENT_CONVEX_H
#define DESCENT_CONVEX_H

#include <stddef.h>
#include <stdint.h>

#include "descent/data.h"
#include "descent/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dsc_convex_kind {
    DSC_CVX_LSQ = 0,        /* (1/(2n)) ||Xw - y||^2 (+ (l2/2)||w||^2) */
    DSC_CVX_RIDGE,          /* lsq with l2 (default 1e-2) */
    DSC_CVX_LOGREG,         /* (1/n) sum log(1 + exp(-y_i x_i^T w)) + (l2/2)||w||^2, y in {-1,+1} */
    DSC_CVX_LASSO,          /* (1/(2n)) ||Xw - y||^2 + l1 ||w||_1  (sklearn Lasso: alpha = l1) */
    DSC_CVX_LOGREG_L1,      /* logistic + l1 ||w||_1 (+ optional l2) */
    DSC_CVX_SQHINGE,        /* (1/n) sum (1/2) max(0, 1 - y_i z_i)^2 + (l2/2)||w||^2 */
    DSC_CVX_SMOOTHHINGE,    /* smoothed hinge with parameter gamma (Shalev-Shwartz & Zhang) */
    DSC_CVX_SOFTMAX,        /* (1/n) sum [logsumexp(z_i) - z_i[c_i]] + (l2/2)||W||_F^2 */
    DSC_CVX_HUBER,          /* (1/n) sum huber_delta(x_i^T w - y_i) + (l2/2)||w||^2 */
    DSC_CVX_QUADRATIC,      /* (1/2)(w - w*)^T A (w - w*), spectrum in [mu, mu*kappa]; n = 1 */
    DSC_CVX_ROSENBROCK,     /* sum_j b (w_{j+1} - w_j^2)^2 + (a - w_j)^2; n = 1; nonconvex */
    DSC_CVX_MATFAC,         /* low-rank matrix factorization / sensing; nonconvex */
    DSC_CVX_PHASE,          /* phase retrieval (1/(4n)) sum ((a_i^T w)^2 - y_i)^2; nonconvex */
    DSC_CVX_SADDLE,         /* strict saddle (1/2) sum_{j<d-1} w_j^2 + w_{d-1}^4/4 - w_{d-1}^2/2; n = 1 */
    DSC_CVX_DEEPLINEAR,     /* deep linear network (1/(2n)) sum ||W_L...W_1 x_i - y_i||^2; nonconvex */
    DSC_CVX_KIND_COUNT
} dsc_convex_kind;

typedef struct dsc_convex_impl dsc_convex_impl;

/* All fields are read-only for callers. */
typedef struct dsc_convex_problem {
    dsc_convex_kind kind;
    char spec[256];        /* the spec string as given */
    char name[32];         /* "logreg", "lasso", ... */

    int64_t n;             /* examples (terms of the finite sum); 1 for deterministic problems */
    int64_t d;             /* features (linear models); for others the natural size parameter */
    int64_t K;             /* outputs per example of a linear model (softmax: classes; else 1) */
    int64_t dim;           /* length of the parameter vector w */
    int intercept;         /* linear models: 1 if an unregularized intercept is appended */
    int linear;            /* 1: generalized linear model (margin / dloss / row_axpy available) */
    int convex;            /* 1 if F is convex */
    int smooth;            /* 1 if h == 0 (no l1 term) */
    int sparse;            /* 1 if the feature matrix is stored as CSR */

    double l2;             /* ridge weight lambda in (lambda/2)||w||^2 (0 if none) */
    double l1;             /* l1 weight in h(w) = l1 ||w||_1 (0 if none) */

    /* Constants (0 when not known / not applicable):
     *   L     smoothness of g (upper bound on the largest Hessian eigenvalue; for the linear
     *         models computed from lambda_max(X~^T X~)/n times the loss curvature bound, + l2)
     *   L_i   smoothness of f_i (array of n; NULL for non-finite-sum problems), L_max = max L_i,
     *         L_mean = mean L_i
     *   mu    strong convexity of g (l2 for the regularized GLMs without intercept, 0 with one;
     *         least squares: L and mu are the extreme eigenvalues of X~^T X~/n + l2 I_reg, exact
     *         when d + intercept <= 400; 0 if unknown)
     *   rho   Lipschitz constant of the Hessian where known (nonconvex test functions, on the
     *         region documented in docs/CONVEX.md), else 0 */
    double L, L_max, L_mean, mu, rho;
    const double *L_i;

    /* A known optimum (quadratic, rosenbrock, saddle, phase retrieval, matrix factorization): */
    int has_known_optimum; /* 1: f_star_known is the optimal value, dsc_convex_known_optimum works */
    double f_star_known;

    uint64_t fingerprint;  /* hash of the spec and the data: the key of a cached optimum */
    dsc_convex_impl *impl; /* private */
} dsc_convex_problem;

/* Creates a problem from a spec and a data set (copied; any dtype and layout, CSR kept as CSR).
 * Problems that generate their own data (quadratic, rosenbrock, saddle, phase_retrieval,
 * matrix_factorization / sensing, deep_linear without data) accept ds == NULL; seed is used by
 * their generators (and the spec may override it with seed=). Binary margin losses need labels
 * of two classes (mapped to -1 / +1) or class=k for one-vs-rest; regression losses use the label
 * value (the class index for classification sets). Errors name the spec, the option and the data. */
dsc_status dsc_convex_problem_new(const char *spec, const dsc_dataset *ds, uint64_t seed, dsc_convex_problem **out);
void dsc_convex_problem_free(dsc_convex_problem *p);

/* A help text listing the problems, their options and objectives. */
const char *dsc_convex_help(void);

/* ------------------------------------------------------------------------------------------
 * Evaluation. w, grad, v, out have p->dim doubles. */

/* F(w) = g(w) + h(w). */
double dsc_convex_value(const dsc_convex_problem *p, const double *w);
/* g(w) and grad g(w) (grad may be NULL). */
double dsc_convex_grad(const dsc_convex_problem *p, const double *w, double *grad);
/* h(w) (0 for smooth problems). */
double dsc_convex_reg_value(const dsc_convex_problem *p, const double *w);
/* f_i(w) and grad f_i(w) (grad may be NULL; it is overwritten, not accumulated). 0 <= i < n. */
double dsc_convex_example_grad(const dsc_convex_problem *p, int64_t i, const double *w, double *grad);
/* Mean of f_i and grad f_i over idx[0..k-1] (repeats allowed; grad overwritten). */
double dsc_convex_batch_grad(const dsc_convex_problem *p, const int64_t *idx, int64_t k, const double *w,
                             double *grad);
/* out = Hessian of g at w times v. */
void dsc_convex_hvp(const dsc_convex_problem *p, const double *w, const double *v, double *out);
/* H (dim x dim, row-major, the caller's buffer) = Hessian of g at w. DSC_ERR_UNSUPPORTED if
 * dim > DSC_CONVEX_MAX_DENSE_DIM; DSC_ERR_NOMEM if a workspace cannot be allocated. */
#define DSC_CONVEX_MAX_DENSE_DIM 4096
dsc_status dsc_convex_hessian(const dsc_convex_problem *p, const double *w, double *H);

/* out = prox_{t h}(in) = argmin_u h(u) + ||u - in||^2 / (2t): soft thresholding at t*l1 of the
 * regularized entries (intercepts copied); the identity for smooth problems. in == out allowed. */
void dsc_convex_prox(const dsc_convex_problem *p, double t, const double *in, double *out);
/* Standalone proximal operators on n entries (in == out allowed):
 *   prox of thr*||.||_1:       out_j = sign(in_j) max(|in_j| - thr, 0)      (soft threshold)
 *   prox of (c/2)||.||^2:      out_j = in_j / (1 + c)                        (ridge shrinkage) */
void dsc_prox_l1(size_t n, double thr, const double *in, double *out);
void dsc_prox_l2sq(size_t n, double c, const double *in, double *out);
/* Norm of the gradient mapping G_t(w) = (w - prox_{t h}(w - t grad g(w))) / t (= ||grad g|| for
 * smooth problems); t <= 0 means t = 1/L. The first-order optimality measure of F. */
double dsc_convex_grad_mapping_norm(const dsc_convex_problem *p, const double *w, double t);

/* A standard starting point: zeros for the convex problems; (-1.2, 1, -1.2, ...) for Rosenbrock;
 * the saddle point 0 for the saddle; small seeded random values for the factorized problems. */
void dsc_convex_initial_point(const dsc_convex_problem *p, uint64_t seed, double *w);
/* The known optimum (has_known_optimum): w* into w, returns f*. DSC_ERR_UNSUPPORTED otherwise. */
dsc_status dsc_convex_known_optimum(const dsc_convex_problem *p, double *w, double *f);

/* ------------------------------------------------------------------------------------------
 * Linear-model fast path (p->linear == 1; undefined otherwise). 0 <= i < n. */

/* The raw feature row i (without the intercept's 1): returns its number of stored entries; *idx
 * gets the column indices (NULL for dense rows, whose entries are 0..d-1), *val the values. */
int64_t dsc_convex_row(const dsc_convex_problem *p, int64_t i, const int32_t **idx, const double **val);
/* Asks the cache for row i (values, CSR indices, label) without waiting: a solver that draws its
 * next example one step ahead hides the memory latency of a random row of a large data set. */
void dsc_convex_row_prefetch(const dsc_convex_problem *p, int64_t i);
/* Squared norm of the augmented row x~_i (includes the intercept's 1). */
double dsc_convex_row_sqnorm(const dsc_convex_problem *p, int64_t i);
/* z[0..K-1] = W^T x~_i (the margins / scores of example i, intercept included). */
void dsc_convex_margin(const dsc_convex_problem *p, int64_t i, const double *w, double *z);
/* Loss of example i at margins z (without the l2 term): returns phi_i(z), writes dphi_i/dz (K
 * values) into dz if non-NULL, and the curvature d2phi_i/dz2 into d2z if non-NULL (K values: for
 * softmax the diagonal of the K x K Hessian; use dsc_convex_hvp for the full one). */
double dsc_convex_dloss(const dsc_convex_problem *p, int64_t i, const double *z, double *dz, double *d2z);
/* dphi_i/dz at margin z of a one-output model (K = 1): dsc_convex_dloss without the loss value. */
double dsc_convex_dloss1(const dsc_convex_problem *p, int64_t i, double z);
/* out += x~_i (outer) a: out[j*K + k] += x_ij a_k for the stored j, and the intercept entries += a_k. */
void dsc_convex_row_axpy(const dsc_convex_problem *p, int64_t i, const double *a, double *out);
/* Adds l2 * w_reg to grad (the ridge term of every f_i): the intercept entries are untouched. */
void dsc_convex_add_l2(const dsc_convex_problem *p, const double *w, double *grad);

/* ------------------------------------------------------------------------------------------
 * The exact optimum. */

typedef enum dsc_convex_exact_method {
    DSC_EXACT_AUTO = 0,   /* closed form where one exists, else Newton (dim <= max_newton_dim),
                             else L-BFGS; L1 problems: proximal Newton / coordinate descent */
    DSC_EXACT_CLOSED,
    DSC_EXACT_NEWTON,
    DSC_EXACT_LBFGS,
    DSC_EXACT_PROX_NEWTON,
    DSC_EXACT_FISTA
} dsc_convex_exact_method;

typedef struct dsc_convex_exact_opts {
    dsc_convex_exact_method method;
    int max_iter;          /* outer iterations (0: 200 Newton, 100000 L-BFGS, 1000000 FISTA) */
    double gtol;           /* stop when the gradient-mapping norm <= gtol (default 1e-11) */
    int64_t max_newton_dim;/* largest dim for the dense-Hessian Newton (default 2000) */
    int verbose;           /* 1: one line per outer iteration on stderr */
} dsc_convex_exact_opts;

typedef struct dsc_convex_exact_info {
    dsc_convex_exact_method method; /* the method used */
    int iters;
    double grad_norm;      /* gradient-mapping norm at w* */
    double f_star;
} dsc_convex_exact_info;

void dsc_convex_exact_opts_init(dsc_convex_exact_opts *o);

/* w_star (p->dim doubles, caller's buffer) and *f_star = F(w_star) to about 1e-12 relative.
 * Convex problems only, plus the nonconvex problems with a known optimum (returned directly);
 * DSC_ERR_UNSUPPORTED otherwise. DSC_ERR_NUMERIC if the iteration fails to reach gtol*100. */
dsc_status dsc_convex_solve_exact(const dsc_convex_problem *p, double *w_star, double *f_star);
dsc_status dsc_convex_solve_exact_opts(const dsc_convex_problem *p, const dsc_convex_exact_opts *opts,
                                       double *w_star, double *f_star, dsc_convex_exact_info *info);

/* Cache of an optimum in a directory: dir/w_star.npy (float64, dim values) and dir/f_star.txt
 * (f* as %.17g, the spec and the fingerprint). read: DSC_ERR_IO if absent, DSC_ERR_STATE if the
 * cached optimum belongs to another problem or data (fingerprint / dim mismatch). */
dsc_status dsc_convex_optimum_write(const char *dir, const dsc_convex_problem *p, const double *w_star,
                                    double f_star);
dsc_status dsc_convex_optimum_read(const char *dir, const dsc_convex_problem *p, double *w_star, double *f_star);

/* ------------------------------------------------------------------------------------------
 * Small dense linear algebra used by the exact solver (row-major, n x n). */

/* In-place Cholesky A = L L^T (lower triangle written; upper left as is). DSC_ERR_NUMERIC if A is
 * not positive definite (a pivot <= 0). */
dsc_status dsc_cholesky(int64_t n, double *A);
/* Solves L L^T x = b in place (b -> x) with the factor from dsc_cholesky. */
void dsc_cholesky_solve(int64_t n, const double *Lf, double *b);
/* All eigenvalues (ascending) of the symmetric A (n x n, destroyed) by cyclic Jacobi; optional
 * eigenvectors as columns of V (n x n, may be NULL). For n up to a few hundred. */
dsc_status dsc_sym_eig(int64_t n, double *A, double *evals, double *V);
/* Largest eigenvalue of a symmetric positive semidefinite operator by power iteration from a fixed
 * start (deterministic); iters iterations or until relative change < tol. */
double dsc_power_iteration(int64_t n, void (*apply)(void *ctx, const double *v, double *out), void *ctx,
                           int iters, double tol);

/* Largest eigenvalue of the same kind of operator by Lanczos with full reorthogonalization
 * (at most max_k products, stopping when the top Ritz value changes by < tol relative). */
double dsc_lanczos_max(int64_t n, void (*apply)(void *ctx, const double *v, double *out), void *ctx, int max_k,
                       double tol);

#ifdef __cplusplus
}
#endif
#endif
