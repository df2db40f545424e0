/* Adaptive optimizers: AdaGrad, AdaGrad-norm, RMSprop, Adadelta, Adam, AdamW, Adamax, NAdam,
 * RAdam, Rprop, ASGD. The update rules live in optim_adaptive_tmpl.h (one source for both
 * dtypes); this file holds their options (torch's names, defaults and checks). */
#include "optim/optim_internal.h"

/* Bit-exactness with torch needs every a*b + c rounded twice: no FMA contraction (GCC in ISO C
 * mode does not contract; clang would, within an expression, without this pragma). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* Option indices: the order of each key table below. */
enum { AG_LR, AG_LR_DECAY, AG_WD, AG_IAV, AG_EPS, AG_MAXIMIZE, AG_EPS_INSIDE };
enum { AGN_LR, AGN_WD, AGN_IAV, AGN_EPS, AGN_MAXIMIZE };
enum { RMS_LR, RMS_ALPHA, RMS_EPS, RMS_WD, RMS_MOMENTUM, RMS_CENTERED, RMS_MAXIMIZE, RMS_EPS_INSIDE };
enum { ADD_LR, ADD_RHO, ADD_EPS, ADD_WD, ADD_MAXIMIZE };
enum { ADAM_LR, ADAM_BETA1, ADAM_BETA2, ADAM_EPS, ADAM_WD, ADAM_AMSGRAD, ADAM_MAXIMIZE, ADAM_EPS_ROOT, ADAM_AMSGRAD_BC };
enum { AMX_LR, AMX_BETA1, AMX_BETA2, AMX_EPS, AMX_WD, AMX_MAXIMIZE };
enum { NAD_LR, NAD_BETA1, NAD_BETA2, NAD_EPS, NAD_WD, NAD_MOMENTUM_DECAY, NAD_DECOUPLED, NAD_FIX };
enum { RAD_LR, RAD_BETA1, RAD_BETA2, RAD_EPS, RAD_WD, RAD_DECOUPLED };
enum { RP_LR, RP_ETA_MINUS, RP_ETA_PLUS, RP_STEP_MIN, RP_STEP_MAX, RP_MAXIMIZE };
enum { LAMB_LR, LAMB_BETA1, LAMB_BETA2, LAMB_EPS, LAMB_WD, LAMB_BIAS_CORRECTION, LAMB_MAXIMIZE };
enum { ASGD_LR, ASGD_LAMBD, ASGD_ALPHA, ASGD_T0, ASGD_WD, ASGD_MAXIMIZE };

#define T float
#define SFX _f32
#include "optim/optim_adaptive_tmpl.h"
#undef T
#undef SFX
#define T double
#define SFX _f64
#include "optim/optim_adaptive_tmpl.h"
#undef T
#undef SFX

#define NKEYS(k) ((int)(sizeof k / sizeof k[0]))
#define K_NONNEG(nm, d) KREAL(nm, d, 0, OPT_INF, 0, 1)

/* ---- AdaGrad ---- */
static const optim_key adagrad_keys[] = {
    K_LR(1e-2), K_NONNEG("lr_decay", 0), K_WD(0), K_NONNEG("initial_accumulator_value", 0), K_EPS(1e-10), K_MAXIMIZE,
    KBOOL("eps_inside", 0),
};

static void adagrad_init(const optim_group *g, void (*fill)(void *ctx, int i, double v), void *ctx)
{
    fill(ctx, 0, g->hp[AG_IAV]);
}

const optim_algo dsc_optim_algo_adagrad = {
    .name = "adagrad",
    .summary = "AdaGrad (torch.optim.Adagrad): per-coordinate steps lr/(sqrt(sum g^2) + eps)",
    .keys = adagrad_keys,
    .n_keys = NKEYS(adagrad_keys),
    .state_names = {"sum"},
    .n_state = 1,
    .init = adagrad_init,
    .step = {adagrad_step_f32, adagrad_step_f64},
};

static const optim_key adagrad_norm_keys[] = {
    K_LR(1e-2), K_WD(0), K_NONNEG("initial_accumulator_value", 0), K_EPS(1e-10), K_MAXIMIZE,
};

static void adagrad_norm_init(const optim_group *g, void (*fill)(void *ctx, int i, double v), void *ctx)
{
    (void)fill;
    (void)ctx;
    g->scal[0] = g->hp[AGN_IAV];
}

const optim_algo dsc_optim_algo_adagrad_norm = {
    .name = "adagrad_norm",
    .summary = "AdaGrad-norm (Ward et al. 2019): one step size lr/(sqrt(sum ||g||^2) + eps) per group",
    .keys = adagrad_norm_keys,
    .n_keys = NKEYS(adagrad_norm_keys),
    .n_state = 0,
    .n_scalars = 1,
    .init = adagrad_norm_init,
    .step = {adagrad_norm_step_f32, adagrad_norm_step_f64},
};

/* ---- RMSprop ---- */
static const optim_key rmsprop_keys[] = {
    K_LR(1e-2), KREAL("alpha", 0.99, 0, 1, 0, 0), K_EPS(1e-8), K_WD(0), K_NONNEG("momentum", 0),
    KBOOL("centered", 0), K_MAXIMIZE, KBOOL("eps_inside", 0),
};

static int rmsprop_uses(const double *hp, int i)
{
    return i == 0 || (i == 1 && hp[RMS_MOMENTUM] > 0) || (i == 2 && hp[RMS_CENTERED] != 0);
}

const optim_algo dsc_optim_algo_rmsprop = {
    .name = "rmsprop",
    .summary = "RMSprop (torch.optim.RMSprop): centered and momentum variants, eps outside the root",
    .keys = rmsprop_keys,
    .n_keys = NKEYS(rmsprop_keys),
    .state_names = {"square_avg", "momentum_buffer", "grad_avg"},
    .n_state = 3,
    .uses = rmsprop_uses,
    .step = {rmsprop_step_f32, rmsprop_step_f64},
};

/* ---- Adadelta ---- */
static const optim_key adadelta_keys[] = {
    K_LR(1.0), KREAL("rho", 0.9, 0, 1, 0, 0), K_EPS(1e-6), K_WD(0), K_MAXIMIZE,
};

const optim_algo dsc_optim_algo_adadelta = {
    .name = "adadelta",
    .summary = "Adadelta (torch.optim.Adadelta, Zeiler 2012) with torch's extra lr factor",
    .keys = adadelta_keys,
    .n_keys = NKEYS(adadelta_keys),
    .state_names = {"square_avg", "acc_delta"},
    .n_state = 2,
    .step = {adadelta_step_f32, adadelta_step_f64},
};

/* ---- Adam, AdamW ---- */
static const optim_key adam_keys[] = {
    K_LR(1e-3), K_BETA("beta1", 0.9), K_BETA("beta2", 0.999), K_EPS(1e-8), K_WD(0), KBOOL("amsgrad", 0), K_MAXIMIZE,
    K_NONNEG("eps_root", 0), KBOOL("amsgrad_after_bc", 0),
};
static const optim_key adamw_keys[] = {
    K_LR(1e-3), K_BETA("beta1", 0.9), K_BETA("beta2", 0.999), K_EPS(1e-8), K_WD(1e-2), KBOOL("amsgrad", 0), K_MAXIMIZE,
    K_NONNEG("eps_root", 0), KBOOL("amsgrad_after_bc", 0),
};

static int adam_uses(const double *hp, int i)
{
    return i < 2 || hp[ADAM_AMSGRAD] != 0;
}

const optim_algo dsc_optim_algo_adam = {
    .name = "adam",
    .summary = "Adam (torch.optim.Adam): L2 weight decay in the gradient, AMSGrad option",
    .keys = adam_keys,
    .n_keys = NKEYS(adam_keys),
    .state_names = {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
    .n_state = 3,
    .uses = adam_uses,
    .step = {adam_step_f32, adam_step_f64},
};

const optim_algo dsc_optim_algo_adamw = {
    .name = "adamw",
    .summary = "AdamW (torch.optim.AdamW): decoupled weight decay p *= 1 - lr*weight_decay",
    .keys = adamw_keys,
    .n_keys = NKEYS(adamw_keys),
    .state_names = {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
    .n_state = 3,
    .uses = adam_uses,
    .step = {adamw_step_f32, adamw_step_f64},
};

/* ---- Adamax ---- */
static const optim_key adamax_keys[] = {
    K_LR(2e-3), K_BETA("beta1", 0.9), K_BETA("beta2", 0.999), K_EPS(1e-8), K_WD(0), K_MAXIMIZE,
};

const optim_algo dsc_optim_algo_adamax = {
    .name = "adamax",
    .summary = "Adamax (torch.optim.Adamax): infinity-norm variant of Adam",
    .keys = adamax_keys,
    .n_keys = NKEYS(adamax_keys),
    .state_names = {"exp_avg", "exp_inf"},
    .n_state = 2,
    .step = {adamax_step_f32, adamax_step_f64},
};

/* ---- NAdam ---- */
static const optim_key nadam_keys[] = {
    K_LR(2e-3), K_BETA("beta1", 0.9), K_BETA("beta2", 0.999), K_EPS(1e-8), K_WD(0), K_NONNEG("momentum_decay", 4e-3),
    KBOOL("decoupled_weight_decay", 0), KBOOL("fix_mu_product", 0),
};

static void nadam_init(const optim_group *g, void (*fill)(void *ctx, int i, double v), void *ctx)
{
    (void)fill;
    (void)ctx;
    g->scal[0] = 1; /* mu_product */
}

const optim_algo dsc_optim_algo_nadam = {
    .name = "nadam",
    .summary = "NAdam (torch.optim.NAdam): Adam with Nesterov momentum and torch's momentum schedule",
    .keys = nadam_keys,
    .n_keys = NKEYS(nadam_keys),
    .state_names = {"exp_avg", "exp_avg_sq"},
    .n_state = 2,
    .n_scalars = 1,
    .init = nadam_init,
    .step = {nadam_step_f32, nadam_step_f64},
};

/* ---- RAdam ---- */
static const optim_key radam_keys[] = {
    K_LR(1e-3), K_BETA("beta1", 0.9), K_BETA("beta2", 0.999), K_EPS(1e-8), K_WD(0), KBOOL("decoupled_weight_decay", 0),
};

const optim_algo dsc_optim_algo_radam = {
    .name = "radam",
    .summary = "RAdam (torch.optim.RAdam): Adam with variance rectification",
    .keys = radam_keys,
    .n_keys = NKEYS(radam_keys),
    .state_names = {"exp_avg", "exp_avg_sq"},
    .n_state = 2,
    .step = {radam_step_f32, radam_step_f64},
};

/* ---- Rprop ---- */
static const optim_key rprop_keys[] = {
    K_LR(1e-2),
    KREAL("eta_minus", 0.5, 0, 1, 1, 1),
    KREAL("eta_plus", 1.2, 1, OPT_INF, 1, 1),
    K_NONNEG("step_min", 1e-6),
    K_NONNEG("step_max", 50),
    K_MAXIMIZE,
};

static dsc_status rprop_check(const double *hp)
{
    if (hp[RP_STEP_MIN] > hp[RP_STEP_MAX])
        return DSC_ERROR(DSC_ERR_RANGE, "rprop: step_min %g is larger than step_max %g", hp[RP_STEP_MIN],
                         hp[RP_STEP_MAX]);
    return DSC_OK;
}

static void rprop_init(const optim_group *g, void (*fill)(void *ctx, int i, double v), void *ctx)
{
    fill(ctx, 1, g->hp[RP_LR]); /* step_size starts at lr; prev at 0 */
}

const optim_algo dsc_optim_algo_rprop = {
    .name = "rprop",
    .summary = "Rprop (torch.optim.Rprop): sign-based steps with multiplicative step-size adaptation",
    .keys = rprop_keys,
    .n_keys = NKEYS(rprop_keys),
    .state_names = {"prev", "step_size"},
    .n_state = 2,
    .init = rprop_init,
    .check = rprop_check,
    .step = {rprop_step_f32, rprop_step_f64},
};

/* ---- ASGD ---- */
static const optim_key asgd_keys[] = {
    K_LR(1e-2), K_NONNEG("lambd", 1e-4), K_NONNEG("alpha", 0.75), KREAL("t0", 1e6, -OPT_INF, OPT_INF, 1, 1), K_WD(0),
    K_MAXIMIZE,
};

static void asgd_init(const optim_group *g, void (*fill)(void *ctx, int i, double v), void *ctx)
{
    (void)fill;
    (void)ctx;
    g->scal[0] = g->hp[ASGD_LR]; /* eta */
    g->scal[1] = 1;              /* mu */
}

const optim_algo dsc_optim_algo_asgd = {
    .name = "asgd",
    .summary = "ASGD (torch.optim.ASGD): SGD with decaying steps and a Polyak-Ruppert average 'ax'",
    .keys = asgd_keys,
    .n_keys = NKEYS(asgd_keys),
    .state_names = {"ax"},
    .n_state = 1,
    .n_scalars = 2,
    .init = asgd_init,
    .step = {asgd_step_f32, asgd_step_f64},
};

/* ---- LAMB ---- */
static const optim_key lamb_keys[] = {
    K_LR(1e-3), K_BETA("beta1", 0.9), K_BETA("beta2", 0.999), K_EPS(1e-6), K_WD(0.01), KBOOL("bias_correction", 1),
    K_MAXIMIZE,
};

const optim_algo dsc_optim_algo_lamb = {
    .name = "lamb",
    .summary = "LAMB (You et al. 2020): Adam direction plus decoupled decay, scaled by a per-group trust ratio",
    .keys = lamb_keys,
    .n_keys = NKEYS(lamb_keys),
    .state_names = {"exp_avg", "exp_avg_sq"},
    .n_state = 2,
    .step = {lamb_step_f32, lamb_step_f64},
};
