/* descent — learning-rate schedules (also usable for momentum or weight decay values).
 *
 * A schedule is a function value(base, step) of the step (0, 1, 2, ...; step 0 is what
 * torch.optim.lr_scheduler gives right after construction, i.e. the first epoch) and of a
 * base value (the optimizer's initial lr of a parameter group, or a momentum, ...). Where
 * torch has the schedule, the values are torch 1.13's at every step, bit for bit: torch
 * computes most schedules recursively (lr_k = lr_{k-1} * ratio_k, the "chainable form"), which
 * rounds differently from the closed form, so descent evaluates the same recursion in the
 * same operation order. Evaluation memoizes the last step per base, so stepping forward costs
 * O(1) per call and random access O(step); the memo never changes a value, but it makes a
 * schedule object unsafe to evaluate from two threads at once.
 *
 * Schedules are made from spec strings (grammar and every kind in docs/ALGORITHMS.md):
 *     constant | step:step_size=3,gamma=0.1 | multistep:milestones=30+60+90,gamma=0.1
 *     exponential:gamma=0.9 | cosine:t_max=10,eta_min=0 | warmup:steps=5,then=cosine:t_max=100
 *     sequential:milestones=5,schedules=[linear:start_factor=0.1,total_iters=5]+[cosine:t_max=95]
 *     chain:schedules=[constant:factor=0.1,total_iters=2]+[exponential:gamma=0.9]
 * Lists use '+' as separator; a nested schedule is written in [brackets] (any nesting depth),
 * except that `then=` (warmup, batch_scale) may also take the unbracketed rest of the string.
 *
 * reduce_on_plateau is stateful (it reads a metric each epoch, dsc_schedule_observe); every
 * other kind is a pure function of (base, step). */
#ifndef DESCENT_SCHEDULE_H
#define DESCENT_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "descent/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dsc_schedule dsc_schedule;

/* Parses a schedule spec. Errors (DSC_ERR_INVALID / DSC_ERR_RANGE) name the bad kind, key or
 * value and list the valid choices. *out is NULL on error. */
dsc_status dsc_schedule_new(const char *spec, dsc_schedule **out);
void dsc_schedule_free(dsc_schedule *s);

/* The value at step (>= 0) for a base value (e.g. the group's initial lr). Theory step sizes
 * (inv_l, two_mu_l, dgsqrt, pl_decay, chebyshev) do not use base. Negative steps give base. */
double dsc_schedule_value(dsc_schedule *s, double base, int64_t step);

/* The momentum that one-cycle / cyclic schedules cycle together with the lr (torch's
 * cycle_momentum; inside sequential/warmup the active child's, inside chain the last cycling
 * child's). Returns 1 and sets *momentum if the schedule cycles momentum at that step, else 0. */
int dsc_schedule_momentum(dsc_schedule *s, int64_t step, double *momentum);

/* reduce_on_plateau: report the metric of one epoch (torch's ReduceLROnPlateau.step(metric));
 * afterwards dsc_schedule_value returns the reduced lr for any step. DSC_ERR_STATE for other
 * kinds, DSC_ERR_NUMERIC for a NaN metric (torch would compare it as "not better"; descent
 * refuses it so a diverged run is noticed). */
dsc_status dsc_schedule_observe(dsc_schedule *s, double metric);
/* 1 for kinds that need dsc_schedule_observe (reduce_on_plateau). */
int dsc_schedule_is_stateful(const dsc_schedule *s);

/* State for checkpoints (only reduce_on_plateau has any): DSC_SCHEDULE_STATE_LEN doubles. */
#define DSC_SCHEDULE_STATE_LEN 6
void dsc_schedule_state_save(const dsc_schedule *s, double state[DSC_SCHEDULE_STATE_LEN]);
dsc_status dsc_schedule_state_load(dsc_schedule *s, const double state[DSC_SCHEDULE_STATE_LEN]);

/* The kind of the top-level schedule ("cosine", "warmup", ...). */
const char *dsc_schedule_kind(const dsc_schedule *s);
/* Names of all kinds, comma separated. */
const char *dsc_schedule_names(void);
/* One line per kind with its option keys ("cosine: t_max, eta_min"), into buf; returns buf. */
const char *dsc_schedule_help(char *buf, size_t size);

/* Drives an optimizer (descent/optim.h): sets every group's lr to value(base_lrs[g], step),
 * base_lrs being the groups' initial lrs (torch's initial_lr), and for schedules that cycle
 * momentum, the group's "beta1" (Adam-like) or "momentum" (torch writes betas[0] or momentum).
 * DSC_ERR_INVALID if the schedule cycles momentum and the optimizer has neither. */
typedef struct dsc_optim dsc_optim;
dsc_status dsc_schedule_apply(dsc_schedule *s, dsc_optim *opt, const double *base_lrs, int64_t step);

/* Batch-size scaling rules (Goyal et al. 2017 linear; square root, e.g. Krizhevsky 2014 /
 * Hoffer et al. 2017): lr * B/B0 (rule "linear") or lr * sqrt(B/B0) (rule "sqrt"); "none"
 * returns lr. Also available as the schedule kind batch_scale:rule=,batch=,base_batch=,then=. */
typedef enum dsc_batch_rule { DSC_BATCH_NONE = 0, DSC_BATCH_LINEAR, DSC_BATCH_SQRT } dsc_batch_rule;
double dsc_batch_scale_lr(double lr, dsc_batch_rule rule, double batch, double base_batch);

#ifdef __cplusplus
}
#endif
#endif
