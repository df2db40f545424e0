/* descent — optimizers over flat parameter vectors.
 *
 * An optimizer updates a flat vector of n parameters in place from a flat gradient of the
 * same length (float32 for training, float64 for the convex lab). It owns named state
 * buffers (momentum, second moments, ...) of n elements each in the same dtype, plus a few
 * float64 scalars per parameter group (e.g. NAdam's mu_product, ASGD's eta and mu), and a
 * step counter. Everything it needs to continue bit-identically after a checkpoint is
 * reachable through dsc_optim_buffer_at() and dsc_optim_steps().
 *
 * Optimizers are made from spec strings with PyTorch's names and defaults:
 *     "sgd:lr=0.1,momentum=0.9,nesterov=1"
 *     "adam:lr=1e-3,beta1=0.9,beta2=0.999,eps=1e-8,weight_decay=0,amsgrad=1"
 * (torch's pairs are split: betas -> beta1, beta2; Rprop's etas -> eta_minus, eta_plus and
 * step_sizes -> step_min, step_max). Booleans take 0/1 (or true/false). The formulas are those
 * of torch 1.13's single-tensor implementations; where torch 2.x or the papers differ, the
 * variant is a named option. See docs/ALGORITHMS.md and dsc_optim_help().
 *
 * Parameter groups: a new optimizer has one group covering [0, n) with the spec's
 * hyperparameters. dsc_optim_add_group carves a slice out of it with overrides (e.g.
 * "weight_decay=0" for biases and normalization weights). State is created lazily at the
 * first step, from each group's hyperparameters at that time, as torch does. */
#ifndef DESCENT_OPTIM_H
#define DESCENT_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "descent/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef DSC_DTYPE_DEFINED
#define DSC_DTYPE_DEFINED
/* Element type of a flat vector. */
typedef enum dsc_dtype { DSC_FLOAT32 = 0, DSC_FLOAT64 = 1 } dsc_dtype;
#endif

typedef struct dsc_optim dsc_optim;

/* Closure for optimizers that re-evaluate the loss (as torch.optim's step(closure)): writes
 * the gradient at params into grads_out (same dtype as the optimizer) and returns the loss. */
typedef double (*dsc_closure)(void *ctx, const void *params, void *grads_out);

/* Creates an optimizer for n parameters of the given dtype from a spec string.
 * Errors: DSC_ERR_INVALID for an unknown optimizer (the message lists the valid names), an
 * unknown option (the message names it and lists that optimizer's options) or a malformed
 * value; DSC_ERR_RANGE for a value outside its range (negative lr, beta outside [0, 1), ...),
 * naming the option. */
dsc_status dsc_optim_new(const char *spec, size_t n, dsc_dtype dtype, dsc_optim **out);
void dsc_optim_free(dsc_optim *opt);

/* Adds a parameter group over [offset, offset + len) with the optimizer's hyperparameters
 * changed by overrides ("weight_decay=0,lr=0.01"; NULL or "" for none). The slice must lie in
 * [0, n) and must not overlap another added group (it is carved out of the default group 0).
 * Only before the first step (DSC_ERR_STATE after). On success *group (if non-NULL) is the new
 * group's index (1, 2, ...). */
dsc_status dsc_optim_add_group(dsc_optim *opt, size_t offset, size_t len, const char *overrides, int *group);

/* One update of params (n elements of the optimizer's dtype) from grads. */
dsc_status dsc_optim_step(dsc_optim *opt, void *params, const void *grads);

/* One step that evaluates the loss through closure (the gradient goes into grads, a caller
 * buffer of n elements). Optimizers that need several evaluations per step call it several
 * times; the others call it once, then step. *loss (if non-NULL) is the loss at the params
 * the step started from. */
dsc_status dsc_optim_step_closure(dsc_optim *opt, void *params, void *grads, dsc_closure closure, void *ctx,
                                  double *loss);

/* 1 if the optimizer must be stepped with dsc_optim_step_closure (lbfgs, polyak, armijo, sam, zo,
 * or a lookahead/average around one of them); dsc_optim_step then fails with DSC_ERR_INVALID. */
int dsc_optim_needs_closure(const dsc_optim *opt);

/* Learning rate of a group (for schedules). set_lr: DSC_ERR_RANGE if lr < 0 or not finite. */
dsc_status dsc_optim_set_lr(dsc_optim *opt, int group, double lr);
double dsc_optim_get_lr(const dsc_optim *opt, int group);
/* Any hyperparameter of a group by its spec name (e.g. "momentum", "weight_decay"). */
dsc_status dsc_optim_set_hparam(dsc_optim *opt, int group, const char *key, double value);
dsc_status dsc_optim_get_hparam(const dsc_optim *opt, int group, const char *key, double *value);

int dsc_optim_num_groups(const dsc_optim *opt);
size_t dsc_optim_size(const dsc_optim *opt);
dsc_dtype dsc_optim_dtype(const dsc_optim *opt);
const char *dsc_optim_name(const dsc_optim *opt);
/* Writes the canonical spec of a group (every option with its value) into buf. */
const char *dsc_optim_spec_str(const dsc_optim *opt, int group, char *buf, size_t size);

/* State for checkpoints. Buffers are listed in a fixed order for a given spec; their memory is
 * owned by the optimizer and stays valid until dsc_optim_free. Save: copy out every buffer and
 * the step count. Load: make an optimizer with the same spec and groups, copy every buffer in,
 * then dsc_optim_set_steps. The continuation is then bit-identical to the uninterrupted run. */
typedef struct dsc_optim_buffer {
    const char *name; /* e.g. "exp_avg", "exp_avg_sq", "momentum_buffer", "scalars" */
    dsc_dtype dtype;  /* the optimizer's dtype; "scalars" (per-group scalar state) is float64 */
    size_t len;       /* elements */
    void *data;
} dsc_optim_buffer;
int dsc_optim_num_buffers(const dsc_optim *opt);
dsc_status dsc_optim_buffer_at(dsc_optim *opt, int i, dsc_optim_buffer *out);
int64_t dsc_optim_steps(const dsc_optim *opt);
dsc_status dsc_optim_set_steps(dsc_optim *opt, int64_t steps);

/* Evaluation weights: for iterate averaging ("average:mode=mean|ema,...,base=[SPEC]") the
 * average, for the schedule-free optimizers the x sequence. Swaps params with them (call again
 * to swap back), e.g. around an evaluation; they are also a state buffer ("average", "x") for
 * checkpoints. DSC_ERR_UNSUPPORTED for other optimizers, DSC_ERR_STATE before there are any. */
dsc_status dsc_optim_swap_average(dsc_optim *opt, void *params);

/* Names of all optimizers, comma separated ("sgd, heavyball, nag, ..."). */
const char *dsc_optim_names(void);
/* Writes a help text for one optimizer (its options, defaults and ranges) or, for NULL, all. */
const char *dsc_optim_help(const char *name, char *buf, size_t size);

/* Test functions for the convex lab (`descent optim`), float64, with exact gradients:
 *   rosenbrock[:d=N] (d >= 2, default 2)  sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2
 *   beale, booth, himmelblau, matyas      the classic 2-D functions
 *   rastrigin[:d=N], ackley[:d=N]         (default d = 2)
 *   quadratic[:d=N,kappa=K]               0.5 sum_i lambda_i x_i^2, lambda_i evenly spaced in [1, K]
 *                                         (default d = 10, kappa = 100)
 *   lessard                               1-D piecewise quadratic (mu = 1, L = 25) on which heavy
 *                                         ball with its tuned constants cycles (Lessard et al. 2016)
 *   reddi[:c=C]                           online: f_t(x) = C x (t mod 3 = 1), -x otherwise, on
 *                                         [-1, 1] (C > 2, default 3; Reddi et al. 2018), where Adam
 *                                         with beta1 = 0, beta2 = 1/(1 + C^2) goes to x = +1;
 *                                         dsc_testfn_eval gives the period average (C - 2) x / 3
 * The formulas (and the exact order of operations) are in docs/ALGORITHMS.md;
 * tools/gen_optim_fixtures.py uses the same expressions. */
typedef struct dsc_testfn dsc_testfn;
dsc_status dsc_testfn_new(const char *spec, dsc_testfn **out);
void dsc_testfn_free(dsc_testfn *f);
/* Dimension of the function. */
size_t dsc_testfn_dim(const dsc_testfn *f);
/* f(x); writes the gradient into grad when grad is non-NULL. */
double dsc_testfn_eval(const dsc_testfn *f, const double *x, double *grad);
/* Value and location of the known global minimum (x_min of dim elements; may be NULL). */
double dsc_testfn_min(const dsc_testfn *f, double *x_min);
const char *dsc_testfn_names(void);
/* Online functions (reddi): the loss and gradient of step t (1-based), and the projection onto
 * the domain applied after each step. For the other functions eval_at = eval, project is a no-op. */
double dsc_testfn_eval_at(const dsc_testfn *f, int64_t t, const double *x, double *grad);
void dsc_testfn_project(const dsc_testfn *f, double *x);
int dsc_testfn_is_online(const dsc_testfn *f);

#ifdef __cplusplus
}
#endif
#endif
