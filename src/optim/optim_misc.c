/* Normalized SGD (with momentum), Polyak's step size and Armijo backtracking (the last two
 * evaluate the loss through a closure). Update rules in optim_misc_tmpl.h. */
#include <string.h>

#include "optim/optim_internal.h"

/* No FMA contraction (see optim_sgd.c). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

enum { NSGD_LR, NSGD_MOMENTUM, NSGD_EPS, NSGD_WD, NSGD_MAXIMIZE };
enum { POL_F_STAR, POL_C, POL_MAX_LR };
enum { ARM_LR, ARM_C, ARM_BETA, ARM_MAX_BACKTRACKS };

#define T float
#define SFX _f32
#include "optim/optim_misc_tmpl.h"
#undef T
#undef SFX
#define T double
#define SFX _f64
#include "optim/optim_misc_tmpl.h"
#undef T
#undef SFX

static const optim_key nsgd_keys[] = {
    K_LR(1e-3), KREAL("momentum", 0, 0, 1, 0, 1), K_EPS(1e-8), K_WD(0), K_MAXIMIZE,
};

const optim_algo dsc_optim_algo_nsgd = {
    .name = "nsgd",
    .summary = "normalized SGD with momentum: p -= lr*m/(||m|| + eps), m an EMA of gradients",
    .keys = nsgd_keys,
    .n_keys = (int)(sizeof nsgd_keys / sizeof nsgd_keys[0]),
    .state_names = {"momentum_buffer"},
    .n_state = 1,
    .step = {nsgd_step_f32, nsgd_step_f64},
};

/* Polyak's step has no lr (dsc_optim_set_lr refuses it; dsc_optim_get_lr gives NaN). */
static const optim_key polyak_keys[] = {
    KREAL("f_star", 0, -OPT_INF, OPT_INF, 1, 1),
    KREAL("c", 1, 0, OPT_INF, 1, 1),
    KREAL("max_lr", 0, 0, OPT_INF, 0, 1), /* 0: no cap */
};

static size_t misc_scratch_armijo(const double *hp, size_t n)
{
    (void)hp;
    return 2 * n;
}

const optim_algo dsc_optim_algo_polyak = {
    .name = "polyak",
    .summary = "Polyak's step size (f - f_star)/(c ||g||^2), optionally capped (SPS_max); needs a closure",
    .keys = polyak_keys,
    .n_keys = (int)(sizeof polyak_keys / sizeof polyak_keys[0]),
    .n_state = 0,
    .n_scalars = 1,
    .closure_step = {polyak_closure_step_f32, polyak_closure_step_f64},
    .single_group = 1,
};

static const optim_key armijo_keys[] = {
    K_LR(1.0),
    KREAL("c", 1e-4, 0, 1, 1, 1),
    KREAL("beta", 0.5, 0, 1, 1, 1),
    KREAL("max_backtracks", 50, 0, 1000, 0, 0),
};

static dsc_status armijo_check(const double *hp)
{
    if (hp[ARM_MAX_BACKTRACKS] != floor(hp[ARM_MAX_BACKTRACKS]))
        return DSC_ERROR(DSC_ERR_RANGE, "armijo: option 'max_backtracks' must be an integer, got %g",
                         hp[ARM_MAX_BACKTRACKS]);
    return DSC_OK;
}

const optim_algo dsc_optim_algo_armijo = {
    .name = "armijo",
    .summary = "gradient descent with Armijo backtracking from lr (shrink beta, sufficient decrease c); "
               "needs a closure",
    .keys = armijo_keys,
    .n_keys = (int)(sizeof armijo_keys / sizeof armijo_keys[0]),
    .n_state = 0,
    .n_scalars = 2,
    .check = armijo_check,
    .closure_step = {armijo_closure_step_f32, armijo_closure_step_f64},
    .scratch_len = misc_scratch_armijo,
    .single_group = 1,
};
