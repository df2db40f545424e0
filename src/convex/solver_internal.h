/* Private machinery of the convex lab's solvers (src/convex/solver*.c): the run context that
 * counts gradient evaluations, keeps the solver's clock and takes the per-pass records. */
#ifndef DSC_SOLVER_INTERNAL_H
#define DSC_SOLVER_INTERNAL_H

#include <stdlib.h>

#include "descent/convex.h"
#include "descent/rng.h"
#include "descent/solvers.h"
#include "descent/spec.h"

typedef struct slv {
    const dsc_convex_problem *p;
    const dsc_solver_opts *o;
    const dsc_kvspec *spec;
    dsc_solver_result *res;
    const char *name;
    int64_t dim, n;
    double evals;          /* per-example gradient evaluations so far */
    int64_t iter;
    double next_record;    /* record when passes >= next_record */
    double time_acc;       /* seconds of solver time before t_start */
    double t_start;
    dsc_rng rng;
    double *tmp;           /* dim doubles for records */
    const double *report_w;/* if set, records and the result use this point (iterate averaging) */
    int stop;              /* set by slv_step: the reason (dsc_solver_result.stopped) + 1 */
    int cap;               /* trace capacity */
    dsc_status err;        /* allocation failure while recording */
} slv;

double slv_now(void);

/* Counted evaluations. */
double slv_grad(slv *s, const double *w, double *g);          /* g(w), grad g; n evals */
double slv_value(slv *s, const double *w);                    /* F(w) = g + h; n evals */
double slv_egrad(slv *s, int64_t i, const double *w, double *g); /* f_i, grad f_i; 1 eval */
double slv_bgrad(slv *s, const int64_t *idx, int64_t k, const double *w, double *g); /* k evals */
void slv_hvp(slv *s, const double *w, const double *v, double *out); /* n evals */

/* Takes the record at passes 0 (call once before the loop). Returns nonzero to stop. */
int slv_begin(slv *s, const double *w);
/* After each iteration: counts it, records when due, checks the budget and the stopping tests.
 * Returns nonzero when the run must end (s->stop says why). */
int slv_step(slv *s, const double *w);
/* 1 if the next slv_step (with the evaluations counted so far) will take a record or end the run:
 * solvers that keep w in an implicit form (lazy updates) materialize it first. */
int slv_will_record(const slv *s);
/* Ends with a no-progress stop (line search failure at machine precision etc.). */
void slv_stall(slv *s);

/* Uniform index / normal draws from the run's stream. */
int64_t slv_below(slv *s, int64_t n);
double slv_unif(slv *s);
double slv_normal(slv *s);

/* Step-size options shared by the solvers: lr= if given, else def (error if def is not > 0 and
 * finite, naming what is missing, e.g. "L"). */
dsc_status slv_lr(slv *s, double def, const char *what, double *lr);

/* The solvers (solver_fo.c: deterministic; solver_stoch.c: stochastic and variance-reduced). */
dsc_status slv_gd(slv *s, double *w);
dsc_status slv_polyak(slv *s, double *w);
dsc_status slv_nesterov(slv *s, double *w);
dsc_status slv_heavyball(slv *s, double *w);
dsc_status slv_cg(slv *s, double *w);
dsc_status slv_newton(slv *s, double *w);
dsc_status slv_bfgs(slv *s, double *w);
dsc_status slv_lbfgs(slv *s, double *w);
dsc_status slv_pgd(slv *s, double *w);
dsc_status slv_ista(slv *s, double *w);
dsc_status slv_fista(slv *s, double *w);
dsc_status slv_fw(slv *s, double *w);
dsc_status slv_mirror(slv *s, double *w);
dsc_status slv_cd(slv *s, double *w);
dsc_status slv_perturbed(slv *s, double *w);
dsc_status slv_sd(slv *s, double *w);
dsc_status slv_cubic(slv *s, double *w);

dsc_status slv_sgd(slv *s, double *w);
dsc_status slv_sag(slv *s, double *w);
dsc_status slv_saga(slv *s, double *w);
dsc_status slv_svrg(slv *s, double *w);
dsc_status slv_sarah(slv *s, double *w);
dsc_status slv_spider(slv *s, double *w);
dsc_status slv_storm(slv *s, double *w);
dsc_status slv_zo(slv *s, double *w);

/* vector helpers */
static inline double slv_dot(int64_t n, const double *a, const double *b)
{
    double r = 0.0;
    for (int64_t j = 0; j < n; j++)
        r += a[j] * b[j];
    return r;
}
static inline void slv_axpy(int64_t n, double a, const double *x, double *y)
{
    for (int64_t j = 0; j < n; j++)
        y[j] += a * x[j];
}

/* Allocate `count` zeroed values into ptr, or record an out-of-memory error in `st` and jump to
 * the caller's `done:` label (solvers free everything there). Needs `st` and `s` in scope. */
#define ALLOC(ptr, count)                                                                                           \
    do {                                                                                                        \
        (ptr) = calloc((size_t)((count) > 0 ? (count) : 1), sizeof *(ptr));                                        \
        if (!(ptr)) {                                                                                           \
            st = DSC_ERROR(DSC_ERR_NOMEM, "%s: cannot allocate %lld values", s->name, (long long)(count));        \
            goto done;                                                                                          \
        }                                                                                                       \
    } while (0)

#endif
