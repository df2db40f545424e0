/* Private parts of the convex lab's problems (src/convex/problem*.c, exact*.c, linalg*.c). */
#ifndef DSC_CONVEX_INTERNAL_H
#define DSC_CONVEX_INTERNAL_H

#include "descent/convex.h"

/* Loss of a linear model as a function of the margin(s). */
typedef enum cvx_loss { LOSS_SQUARE = 0, LOSS_LOGISTIC, LOSS_SQHINGE, LOSS_SMOOTHHINGE, LOSS_HUBER, LOSS_SOFTMAX } cvx_loss;

/* Per-example value/gradient and Hessian-vector product of a non-linear problem (f_i includes
 * everything: g = mean f_i). */
typedef double (*cvx_example_fn)(const dsc_convex_problem *p, int64_t i, const double *w, double *grad);
typedef void (*cvx_example_hvp_fn)(const dsc_convex_problem *p, int64_t i, const double *w, const double *v,
                                   double *out);

struct dsc_convex_impl {
    /* linear models */
    cvx_loss loss;
    double *X;        /* dense n x d */
    int64_t *rp;      /* CSR */
    int32_t *ci;
    double *val;
    double *y;        /* +-1 (margin losses), class index (softmax), target (regression) */
    double *Li;       /* n */
    double *sqn;      /* n: ||x~_i||^2 */
    double curv;      /* upper bound of the loss curvature phi'' */
    double delta;     /* huber */
    double gamma;     /* smoothed hinge */

    /* non-linear problems */
    cvx_example_fn example;
    cvx_example_hvp_fn example_hvp;
    double *A;        /* quadratic: d x d; phase retrieval: n x d sensing vectors; matfac: target M */
    double *wstar;    /* known optimum */
    double ra, rb;    /* rosenbrock a, b */
    int64_t m, q, r;  /* matrix factorization: M is m x q, rank r; deep linear: in, out, width */
    int64_t depth;
    int64_t *obs;     /* matrix factorization: observed entries (a*q + b), n of them */
    double *C, *B;    /* deep linear: input covariance (in x in), cross-covariance (out x in) */
    double c0;        /* deep linear: (1/(2n)) sum ||y_i||^2 */
    double *Yd;       /* deep linear: targets n x out */
};

/* linalg helpers */
double cvx_dot(int64_t n, const double *a, const double *b);
double cvx_nrm2(int64_t n, const double *a);
/* C (m x p) = A (m x k) B (k x p), row-major; ta/tb transpose the stored A (k x m) / B (p x k). */
void cvx_matmul(int64_t m, int64_t p, int64_t k, const double *A, int ta, const double *B, int tb, double *C);

/* problem_nonconvex.c: constructors of the non-GLM problems. */
dsc_status cvx_make_quadratic(dsc_convex_problem *p, const void *kv, uint64_t seed);
dsc_status cvx_make_rosenbrock(dsc_convex_problem *p, const void *kv);
dsc_status cvx_make_saddle(dsc_convex_problem *p, const void *kv);
dsc_status cvx_make_phase(dsc_convex_problem *p, const void *kv, uint64_t seed);
dsc_status cvx_make_matfac(dsc_convex_problem *p, const void *kv, uint64_t seed, int sensing);
dsc_status cvx_make_deeplinear(dsc_convex_problem *p, const void *kv, const dsc_dataset *ds, uint64_t seed);
void cvx_free_impl(dsc_convex_impl *m);

#endif
