/* Schedule-Free SGD and AdamW (Defazio et al. 2024). Update rules in optim_sf_tmpl.h. */
#include "optim/optim_internal.h"

/* No FMA contraction (see optim_sgd.c). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* Shared option indices (SGD uses the first ones; its momentum is SF_BETA). */
enum { SF_LR, SF_BETA, SF_WD, SF_WARMUP, SF_R, SF_POWER, SF_BETA2, SF_EPS };

#define SQRT_T(x) _Generic((x), float: sqrtf, default: sqrt)(x)
#define T float
#define SFX _f32
#include "optim/optim_sf_tmpl.h"
#undef T
#undef SFX
#define T double
#define SFX _f64
#include "optim/optim_sf_tmpl.h"
#undef T
#undef SFX

static const optim_key sgd_sf_keys[] = {
    K_LR(1.0),
    KREAL("momentum", 0.9, 0, 1, 0, 1),
    K_WD(0),
    KREAL("warmup_steps", 0, 0, 1e18, 0, 0),
    KREAL("r", 0, 0, OPT_INF, 0, 1),
    KREAL("weight_lr_power", 2, 0, OPT_INF, 0, 1),
};

static const optim_key adamw_sf_keys[] = {
    K_LR(0.0025),
    K_BETA("beta1", 0.9),
    K_WD(0),
    KREAL("warmup_steps", 0, 0, 1e18, 0, 0),
    KREAL("r", 0, 0, OPT_INF, 0, 1),
    KREAL("weight_lr_power", 2, 0, OPT_INF, 0, 1),
    K_BETA("beta2", 0.999),
    K_EPS(1e-8),
};

const optim_algo dsc_optim_algo_sgd_schedulefree = {
    .name = "sgd_schedulefree",
    .summary = "Schedule-Free SGD (Defazio et al. 2024): params hold y; x (evaluation weights) via "
               "dsc_optim_swap_average",
    .keys = sgd_sf_keys,
    .n_keys = (int)(sizeof sgd_sf_keys / sizeof sgd_sf_keys[0]),
    .state_names = {"z", "x"},
    .n_state = 2,
    .n_scalars = 2,
    .step = {sgd_sf_step_f32, sgd_sf_step_f64},
    .eval_buf = 2,
};

const optim_algo dsc_optim_algo_adamw_schedulefree = {
    .name = "adamw_schedulefree",
    .summary = "Schedule-Free AdamW (Defazio et al. 2024): params hold y; x (evaluation weights) via "
               "dsc_optim_swap_average",
    .keys = adamw_sf_keys,
    .n_keys = (int)(sizeof adamw_sf_keys / sizeof adamw_sf_keys[0]),
    .state_names = {"z", "x", "exp_avg_sq"},
    .n_state = 3,
    .n_scalars = 2,
    .step = {adamw_sf_step_f32, adamw_sf_step_f64},
    .eval_buf = 2,
};
