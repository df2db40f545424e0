/* descent — solvers of the convex (and finite-sum) lab, float64, on a dsc_convex_problem.
 *
 * A solver is named by a spec string, as the optimizers are:
 *     "gd"  "gd:step=armijo"  "nesterov"  "lbfgs:m=10"  "fista:restart=1"  "sgd:schedule=sqrt,lr=0.1"
 *     "sag:init=centered,sampling=mixed"  "saga"  "svrg:option=2,m=1000"  "pgd:set=simplex,r=1"
 * Defaults follow the theory (step sizes from the problem's L, L_i and mu): GD 1/L, SAG 1/(16 L_max),
 * SAGA max(1/(3 L_max), 1/(2(mu n + L_max))), SVRG 1/(10 L_max) with m = 2n, ... (dsc_solver_help()
 * lists every solver and option; docs/ALGORITHMS.md gives the formulas, sources, rates and tests).
 *
 * Cost accounting: every solver counts per-example gradient evaluations. A full gradient (or a full
 * function value in a line search, or a Hessian / Hessian-vector product) costs n, one example's
 * gradient or value costs 1; passes = grad_evals / n (effective passes over the data). A record is
 * taken each time the pass count crosses a multiple of record_every; taking it (f, ||grad||, ...)
 * is neither counted nor timed. */
#ifndef DESCENT_SOLVERS_H
#define DESCENT_SOLVERS_H

#include <stdint.h>

#include "descent/convex.h"
#include "descent/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One record of a run. subopt = f - f_star and dist = ||w - w*|| are NAN when unknown. grad_norm is
 * ||grad F|| for smooth problems, the gradient-mapping norm (t = 1/L) for problems with an l1 term. */
typedef struct dsc_solver_point {
    double passes;
    double grad_evals;
    double time_s;     /* solver wall time so far (records excluded) */
    double f;
    double subopt;
    double grad_norm;
    double dist;
    int64_t iter;
} dsc_solver_point;

/* Called at each record; a nonzero return stops the run (the record is kept). */
typedef int (*dsc_solver_monitor)(void *ctx, const dsc_solver_point *pt);

typedef struct dsc_solver_opts {
    double epochs;         /* budget in effective passes (default 50) */
    int64_t max_iter;      /* also stop after this many iterations (0: no limit; default 0) */
    uint64_t seed;         /* stochastic solvers and perturbations (default 0) */
    double f_star;         /* the optimal value, NAN if unknown (default NAN) */
    const double *w_star;  /* the optimum (p->dim doubles) or NULL */
    double record_every;   /* passes between records (default 1) */
    double tol;            /* stop once f - f_star <= tol (needs f_star; 0: never; default 0) */
    double gtol;           /* stop once the recorded grad_norm <= gtol (0: never; default 0) */
    int record_iters;      /* 1: record after every iteration instead (deterministic tests) */
    dsc_solver_monitor monitor;
    void *monitor_ctx;
} dsc_solver_opts;

void dsc_solver_opts_init(dsc_solver_opts *o);

typedef struct dsc_solver_result {
    char name[32];         /* the solver's name */
    double f, subopt, grad_norm, dist;   /* at the returned w (the averaged iterate when averaging) */
    double passes, grad_evals, time_s;
    int64_t iters;
    int stopped;           /* 0 budget, 1 tol reached, 2 gtol, 3 monitor, 4 diverged (non-finite f),
                              5 no progress possible (zero gradient, line search failed at machine precision) */
    double step;           /* the (initial) step size used, for reports */
    dsc_solver_point *trace; /* records, first at w0 (passes 0); free with dsc_solver_result_free */
    int n_trace;
} dsc_solver_result;

void dsc_solver_result_free(dsc_solver_result *r);

/* Validates a spec (name and options) without a problem: DSC_ERR_INVALID / DSC_ERR_RANGE naming the
 * option and listing the valid ones. */
dsc_status dsc_solver_check(const char *spec);

/* Runs solver `spec` on p from w (p->dim doubles: the starting point in, the final iterate out).
 * Errors: bad spec; a solver that needs what p lacks (e.g. a finite-sum solver is fine on n == 1,
 * but Polyak needs f_star, cg needs a quadratic, newton/bfgs need dim <= DSC_CONVEX_MAX_DENSE_DIM,
 * sag's GLM storage needs p->linear); a run that diverges returns DSC_OK with stopped == 4. */
dsc_status dsc_solver_run(const char *spec, const dsc_convex_problem *p, const dsc_solver_opts *opts, double *w,
                          dsc_solver_result *res);

/* A help text: the solvers, their options and defaults. */
const char *dsc_solver_help(void);

/* Projections used by pgd / fw (in == out allowed). */
void dsc_project_ball(int64_t n, double r, const double *in, double *out);            /* ||x||_2 <= r */
void dsc_project_box(int64_t n, double lo, double hi, const double *in, double *out); /* lo <= x <= hi */
/* {x >= 0, sum x = r}; O(n log n) (sort); DSC_ERR_NOMEM only on allocation failure. */
dsc_status dsc_project_simplex(int64_t n, double r, const double *in, double *out);
dsc_status dsc_project_l1ball(int64_t n, double r, const double *in, double *out);  /* ||x||_1 <= r */

/* Sampler of i with probability w_i / sum w (O(n) build, O(log n) draw and update): a sum tree. */
typedef struct dsc_sum_tree {
    int64_t n, size; /* size = leaves (power of two) */
    double *t;       /* 2*size nodes, t[1] = total, leaves at t[size + i] */
} dsc_sum_tree;
dsc_status dsc_sum_tree_init(dsc_sum_tree *s, int64_t n, const double *w);
void dsc_sum_tree_set(dsc_sum_tree *s, int64_t i, double w);
/* u in [0, 1): the i with cumsum_{<i} <= u*total < cumsum_{<=i}. */
int64_t dsc_sum_tree_sample(const dsc_sum_tree *s, double u);
void dsc_sum_tree_free(dsc_sum_tree *s);

#ifdef __cplusplus
}
#endif
#endif
