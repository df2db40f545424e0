/* Internal interface between the optimizer driver (optim.c) and the algorithms
 * (optim_sgd.c, optim_adaptive.c). An algorithm is a table of options (name, default,
 * range), the names of its per-coordinate state buffers, a count of per-group float64
 * scalars, an optional initializer and one step kernel per dtype. */
#ifndef DSC_OPTIM_INTERNAL_H
#define DSC_OPTIM_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "descent/optim.h"

#define OPT_MAX_KEYS 16
#define OPT_MAX_STATE 6

typedef enum optim_key_kind { KEY_REAL = 0, KEY_BOOL, KEY_ENUM } optim_key_kind;

typedef struct optim_key {
    const char *name;
    double def;
    optim_key_kind kind;
    double lo, hi;       /* valid range (KEY_REAL) */
    int lo_open, hi_open; /* 1: the bound itself is excluded */
    const char *const *choices; /* KEY_ENUM: NULL-terminated names; the value is the index */
} optim_key;

/* A contiguous slice of the flat vector. */
typedef struct optim_seg {
    size_t off, len;
} optim_seg;

typedef struct optim_group {
    double hp[OPT_MAX_KEYS]; /* option values, in the algorithm's key order */
    double *scal;            /* the group's float64 scalar state (algo->n_scalars) */
    optim_seg *segs;         /* the slices of the group, sorted by offset */
    int nseg, cap;
    void *scratch;           /* algo->scratch_len elements (max over groups), shared by all groups */
} optim_group;

/* One update of every slice of group g; t is the step number (1 for the first step); p and
 * grad are the whole flat vectors; st[i] is state buffer i (whole vector) or NULL when the
 * group's options do not use it. Kernels also update g->scal. */
typedef void (*optim_kernel)(const optim_group *g, int64_t t, void *p, const void *grad, void *const *st);

/* Arguments of a closure step (optimizers that evaluate the loss several times per step). */
typedef struct optim_closure_args {
    const optim_group *g; /* the only group */
    int64_t t;            /* step number (1 for the first step) */
    size_t n;
    void *p, *grad;       /* params; the caller's gradient buffer that the closure writes */
    void *const *st;      /* state buffers */
    void *scratch;        /* algo->scratch_len elements of the dtype */
    dsc_closure closure;
    void *ctx;
    double *loss;         /* out: the loss at the starting point */
} optim_closure_args;
typedef dsc_status (*optim_closure_kernel)(const optim_closure_args *a);

typedef struct optim_algo {
    const char *name;
    const char *summary;
    const optim_key *keys;
    int n_keys;
    const char *state_names[OPT_MAX_STATE];
    int n_state;
    int n_scalars;
    /* Whether buffer i is used under options hp (NULL: all are). */
    int (*uses)(const double *hp, int i);
    /* Initial state of a group at the first step (NULL: zero buffers and scalars). fill(v)
     * sets buffer i on the group's slices to v. */
    void (*init)(const optim_group *g, void (*fill)(void *ctx, int i, double v), void *ctx);
    /* Checks between options (e.g. nesterov needs momentum); NULL if none. */
    dsc_status (*check)(const double *hp);
    optim_kernel step[2]; /* [DSC_FLOAT32], [DSC_FLOAT64] */
    /* Optional, for optimizers that need a closure (then step is NULL): */
    optim_closure_kernel closure_step[2];
    /* Length of buffer i (NULL: n for every buffer) and of the scratch space for a group of
     * len elements (NULL: none; the driver allocates the maximum over groups). */
    size_t (*buf_len)(const double *hp, size_t n, int i);
    size_t (*scratch_len)(const double *hp, size_t len);
    /* Checks a group's options against its slices at the first step (NULL: none). */
    dsc_status (*check_layout)(const optim_group *g, int index);
    int single_group; /* 1: parameter groups are refused (as torch's LBFGS) */
    /* Wrappers (sam, lookahead): the spec's required base=SPEC is the wrapped optimizer
     * (o->inner). wrap_step does the whole step (closure NULL for a plain step); the driver has
     * already counted the step and initialized the wrapper's own state. Groups, lr and unknown
     * options are forwarded to the inner optimizer. */
    dsc_status (*wrap_step)(dsc_optim *o, void *p, void *grad, dsc_closure closure, void *ctx, double *loss);
    /* 1 + the index of the buffer that holds the evaluation weights (the average, schedule-free's
     * x) for dsc_optim_swap_average; 0: none. */
    int eval_buf;
} optim_algo;

struct dsc_optim {
    const optim_algo *algo;
    size_t n;
    dsc_dtype dtype;
    optim_group *groups;
    int ngroups;
    int materialized;         /* buffers allocated (groups frozen) */
    void *buf[OPT_MAX_STATE]; /* per-coordinate state, NULL when no group uses it */
    double *scal;             /* ngroups * n_scalars */
    void *scratch;            /* algo->scratch_len elements (closure optimizers) */
    int64_t steps;
    dsc_optim *inner;         /* wrappers: the wrapped optimizer */
    char names[16][64];       /* wrappers: "base.<name>" of the inner optimizer's buffers */
};

extern const optim_algo dsc_optim_algo_sgd, dsc_optim_algo_heavyball, dsc_optim_algo_nag, dsc_optim_algo_signum,
    dsc_optim_algo_lion, dsc_optim_algo_lars;
extern const optim_algo dsc_optim_algo_adagrad, dsc_optim_algo_adagrad_norm, dsc_optim_algo_rmsprop,
    dsc_optim_algo_adadelta, dsc_optim_algo_adam, dsc_optim_algo_adamw, dsc_optim_algo_adamax, dsc_optim_algo_nadam,
    dsc_optim_algo_radam, dsc_optim_algo_rprop, dsc_optim_algo_asgd, dsc_optim_algo_lamb;
extern const optim_algo dsc_optim_algo_lbfgs, dsc_optim_algo_nsgd, dsc_optim_algo_polyak, dsc_optim_algo_armijo,
    dsc_optim_algo_sam, dsc_optim_algo_lookahead, dsc_optim_algo_average, dsc_optim_algo_sgd_schedulefree,
    dsc_optim_algo_adamw_schedulefree, dsc_optim_algo_muon, dsc_optim_algo_zo,
    dsc_optim_algo_adafactor;

/* Key table helpers. */
#define OPT_INF HUGE_VAL
#define KREAL(nm, d, lo, hi, lo_open, hi_open) {nm, d, KEY_REAL, lo, hi, lo_open, hi_open, NULL}
#define KBOOL(nm, d) {nm, d, KEY_BOOL, 0, 1, 0, 0, NULL}
#define KENUM(nm, d, ch) {nm, d, KEY_ENUM, 0, 0, 0, 0, ch}
/* Common ones. */
#define K_LR(d) KREAL("lr", d, 0, OPT_INF, 0, 1)
#define K_BETA(nm, d) KREAL(nm, d, 0, 1, 0, 1)
#define K_EPS(d) KREAL("eps", d, 0, OPT_INF, 0, 1)
#define K_WD(d) KREAL("weight_decay", d, 0, OPT_INF, 0, 1)
#define K_MAXIMIZE KBOOL("maximize", 0)

/* Elementwise loops run in parallel over large slices (outputs are independent, so the
 * result does not depend on the thread count). */
#define OPT_PAR_MIN 32768

#endif
