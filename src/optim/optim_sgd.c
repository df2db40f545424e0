/* SGD family: torch's SGD, heavy ball (Polyak), Nesterov's accelerated gradient, signSGD /
 * Signum, Lion. The update rules live in optim_sgd_tmpl.h (one source for both dtypes). */
#include "optim/optim_internal.h"

/* Bit-exactness with torch needs every a*b + c rounded twice: no FMA contraction (GCC in ISO C
 * mode does not contract; clang would, within an expression, without this pragma). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* Option indices: the order of each key table below. */
enum { SGD_LR, SGD_MOMENTUM, SGD_DAMPENING, SGD_WD, SGD_NESTEROV, SGD_MAXIMIZE };
enum { HB_LR, HB_MOMENTUM, HB_WD, HB_MAXIMIZE };
enum { NAG_LR, NAG_KAPPA, NAG_SEQUENCE, NAG_WD, NAG_MAXIMIZE };
enum { SIGNUM_LR, SIGNUM_MOMENTUM, SIGNUM_WD, SIGNUM_MAXIMIZE };
enum { LION_LR, LION_BETA1, LION_BETA2, LION_WD, LION_MAXIMIZE };
enum { LARS_LR, LARS_MOMENTUM, LARS_WD, LARS_TRUST, LARS_EPS, LARS_MAXIMIZE };

#define T float
#define SFX _f32
#include "optim/optim_sgd_tmpl.h"
#undef T
#undef SFX
#define T double
#define SFX _f64
#include "optim/optim_sgd_tmpl.h"
#undef T
#undef SFX

/* torch 1.13's SGD has no default lr (it is required); 1e-3 is torch 2.x's default. */
static const optim_key sgd_keys[] = {
    K_LR(1e-3),
    KREAL("momentum", 0, 0, OPT_INF, 0, 1),
    KREAL("dampening", 0, -OPT_INF, OPT_INF, 1, 1),
    K_WD(0),
    KBOOL("nesterov", 0),
    K_MAXIMIZE,
};

static int sgd_uses(const double *hp, int i)
{
    (void)i;
    return hp[SGD_MOMENTUM] != 0;
}

static dsc_status sgd_check(const double *hp)
{
    if (hp[SGD_NESTEROV] != 0 && (hp[SGD_MOMENTUM] <= 0 || hp[SGD_DAMPENING] != 0))
        return DSC_ERROR(DSC_ERR_INVALID, "sgd: nesterov=1 requires momentum > 0 and dampening = 0 (got momentum %g, "
                                          "dampening %g)",
                         hp[SGD_MOMENTUM], hp[SGD_DAMPENING]);
    return DSC_OK;
}

const optim_algo dsc_optim_algo_sgd = {
    .name = "sgd",
    .summary = "stochastic gradient descent with momentum, dampening, Nesterov (torch.optim.SGD)",
    .keys = sgd_keys,
    .n_keys = (int)(sizeof sgd_keys / sizeof sgd_keys[0]),
    .state_names = {"momentum_buffer"},
    .n_state = 1,
    .uses = sgd_uses,
    .check = sgd_check,
    .step = {sgd_step_f32, sgd_step_f64},
};

static const optim_key hb_keys[] = {
    K_LR(1e-3),
    KREAL("momentum", 0.9, 0, 1, 0, 1),
    K_WD(0),
    K_MAXIMIZE,
};

const optim_algo dsc_optim_algo_heavyball = {
    .name = "heavyball",
    .summary = "Polyak's heavy ball: x+ = x - lr*g + momentum*(x - x_prev)",
    .keys = hb_keys,
    .n_keys = (int)(sizeof hb_keys / sizeof hb_keys[0]),
    .state_names = {"prev"},
    .n_state = 1,
    .step = {heavyball_step_f32, heavyball_step_f64},
};

static const char *const nag_sequences[] = {"fista", "k", NULL};
static const optim_key nag_keys[] = {
    K_LR(1e-3),
    KREAL("kappa", 0, 0, OPT_INF, 0, 1),
    KENUM("sequence", 0, nag_sequences),
    K_WD(0),
    K_MAXIMIZE,
};

static dsc_status nag_check(const double *hp)
{
    if (hp[NAG_KAPPA] != 0 && hp[NAG_KAPPA] < 1)
        return DSC_ERROR(DSC_ERR_RANGE, "nag: kappa must be 0 (convex form) or >= 1 (condition number), got %g",
                         hp[NAG_KAPPA]);
    return DSC_OK;
}

static void nag_init(const optim_group *g, void (*fill)(void *ctx, int i, double v), void *ctx)
{
    (void)fill;
    (void)ctx;
    g->scal[0] = 1; /* t_1 */
}

const optim_algo dsc_optim_algo_nag = {
    .name = "nag",
    .summary = "Nesterov's accelerated gradient: convex (t_k sequence) or strongly convex (kappa) form; "
               "params hold the extrapolated point y_k",
    .keys = nag_keys,
    .n_keys = (int)(sizeof nag_keys / sizeof nag_keys[0]),
    .state_names = {"x"},
    .n_state = 1,
    .n_scalars = 1,
    .init = nag_init,
    .check = nag_check,
    .step = {nag_step_f32, nag_step_f64},
};

static const optim_key signum_keys[] = {
    K_LR(1e-3),
    KREAL("momentum", 0, 0, 1, 0, 1),
    K_WD(0),
    K_MAXIMIZE,
};

static int signum_uses(const double *hp, int i)
{
    (void)i;
    return hp[SIGNUM_MOMENTUM] != 0;
}

const optim_algo dsc_optim_algo_signum = {
    .name = "signum",
    .summary = "signSGD (momentum=0) / Signum: p -= lr*sign(EMA of gradients)",
    .keys = signum_keys,
    .n_keys = (int)(sizeof signum_keys / sizeof signum_keys[0]),
    .state_names = {"momentum_buffer"},
    .n_state = 1,
    .uses = signum_uses,
    .step = {signum_step_f32, signum_step_f64},
};

static const optim_key lion_keys[] = {
    K_LR(1e-4), K_BETA("beta1", 0.9), K_BETA("beta2", 0.99), K_WD(0), K_MAXIMIZE,
};

const optim_algo dsc_optim_algo_lion = {
    .name = "lion",
    .summary = "Lion (Chen et al. 2023): sign of an interpolated momentum, decoupled weight decay",
    .keys = lion_keys,
    .n_keys = (int)(sizeof lion_keys / sizeof lion_keys[0]),
    .state_names = {"exp_avg"},
    .n_state = 1,
    .step = {lion_step_f32, lion_step_f64},
};

static const optim_key lars_keys[] = {
    K_LR(0.1),
    KREAL("momentum", 0.9, 0, 1, 0, 1),
    K_WD(0),
    KREAL("trust_coefficient", 1e-3, 0, OPT_INF, 1, 1),
    K_EPS(1e-8),
    K_MAXIMIZE,
};

const optim_algo dsc_optim_algo_lars = {
    .name = "lars",
    .summary = "LARS (You et al. 2017): momentum SGD with a per-group trust ratio ||p||/(||g|| + wd||p||)",
    .keys = lars_keys,
    .n_keys = (int)(sizeof lars_keys / sizeof lars_keys[0]),
    .state_names = {"momentum_buffer"},
    .n_state = 1,
    .step = {lars_step_f32, lars_step_f64},
};
