/* descent — gradient transforms, chainable (as Optax's chain): each stage takes the flat
 * gradient and changes it in place before the optimizer's step. One source serves float32
 * and float64.
 *
 * Stages (spec strings; a chain is stages joined by ';', e.g.
 * "clip_norm:max_norm=1;noise:eta=0.01,gamma=0.55,seed=1;weight_decay:wd=1e-4,mode=decoupled"):
 *   clip_norm:max_norm=M,norm_type=2|inf,error_if_nonfinite=0
 *       torch.nn.utils.clip_grad_norm_: total = ||g|| over all elements, coef = M / (total + 1e-6),
 *       g *= min(coef, 1). The pre-clip total norm is reported (users log it).
 *   clip_group_norm:max_norm=M,norm_type=2|inf   the same per parameter group
 *   clip_value:clip=C          torch.nn.utils.clip_grad_value_: g = clamp(g, -C, C)
 *   noise:eta=0.01,gamma=0.55,seed=0
 *       annealed Gaussian gradient noise (Neelakantan et al. 2015): g += N(0, sigma_t^2) with
 *       sigma_t^2 = eta / (1 + t)^gamma, t the 0-based step; the noise of step t is a pure
 *       function of (seed, t, element index) (Philox, descent/rng.h), so resuming from a
 *       checkpoint needs no rng state and float32/float64 get the same draws.
 *   weight_decay:wd=W,mode=coupled|decoupled
 *       coupled (L2, torch SGD/Adam weight_decay): g += W * p;
 *       decoupled (Loshchilov & Hutter, torch AdamW): p *= 1 - lr * W (params changed, g not).
 *       Per-group multipliers (dsc_tx_args.group_decay, e.g. 0 for biases and norm weights).
 * Later issues add privatize, compress and all-reduce stages: dsc_transform_add_custom takes
 * any function with the stage signature. */
#ifndef DESCENT_TRANSFORM_H
#define DESCENT_TRANSFORM_H

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

/* What a stage works on. */
typedef struct dsc_tx_args {
    dsc_dtype dtype;
    void *grad;                  /* n elements, changed in place */
    void *params;                /* n elements; needed by weight_decay, else may be NULL */
    size_t n;
    int n_groups;                /* 0: one group [0, n) */
    const size_t *group_offsets; /* n_groups + 1 offsets: group i is [off[i], off[i+1]) */
    const double *group_decay;   /* per-group weight-decay multiplier; NULL: all 1 */
    int64_t step;                /* 0-based optimizer step (noise annealing) */
    double lr;                   /* the step's learning rate (decoupled weight decay) */
} dsc_tx_args;

/* What the chain reports. */
typedef struct dsc_tx_stats {
    double grad_norm;   /* pre-clip norm of the first norm-clipping stage; NAN if none */
    double clip_coef;   /* factor applied by that stage (1 if it did not clip) */
    int clipped;        /* 1 if a norm stage scaled the gradient */
    double noise_std;   /* sigma_t of the noise stage (0 if none) */
    double *group_norms; /* caller-owned, n_groups entries (or NULL): per-group pre-clip norms
                            written by clip_group_norm */
} dsc_tx_stats;

typedef struct dsc_transform dsc_transform;

/* A stage implemented outside (privatize, compress, all-reduce, ...). */
typedef dsc_status (*dsc_tx_fn)(void *ctx, const dsc_tx_args *args, dsc_tx_stats *stats);

/* A chain from a spec (stages joined by ';'; NULL or "" gives an empty chain). Errors name the
 * stage, key or value and list the valid choices. */
dsc_status dsc_transform_new(const char *spec, dsc_transform **out);
void dsc_transform_free(dsc_transform *t);
/* Appends one stage from its spec, or a custom stage (called with ctx; not owned). */
dsc_status dsc_transform_add(dsc_transform *t, const char *stage_spec);
dsc_status dsc_transform_add_custom(dsc_transform *t, const char *name, dsc_tx_fn fn, void *ctx);
int dsc_transform_len(const dsc_transform *t);
const char *dsc_transform_stage_name(const dsc_transform *t, int i);
const char *dsc_transform_names(void);

/* Runs the stages in order. stats may be NULL; its fields are reset first (group_norms kept). */
dsc_status dsc_transform_apply(dsc_transform *t, const dsc_tx_args *args, dsc_tx_stats *stats);

/* The building blocks, usable alone. Norms are summed in float64 over fixed chunks (the result
 * does not depend on the thread count). norm_type: 2 or INFINITY. */
double dsc_grad_norm(dsc_dtype dtype, const void *g, size_t n, double norm_type);
/* torch clip_grad_norm_; returns the pre-clip norm, *coef (if non-NULL) the factor applied. */
double dsc_clip_grad_norm(dsc_dtype dtype, void *g, size_t n, double max_norm, double norm_type, double *coef);
void dsc_clip_grad_value(dsc_dtype dtype, void *g, size_t n, double clip);
/* sigma_t = sqrt(eta / (1 + t)^gamma) */
double dsc_grad_noise_std(double eta, double gamma, int64_t step);

#ifdef __cplusplus
}
#endif
#endif
