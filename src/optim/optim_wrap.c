/* Optimizers that wrap another one (spec option base=...): SAM and Lookahead. Groups, lr and
 * the base's options are forwarded to the wrapped optimizer (optim.c). */
#include <string.h>

#include "descent/rng.h"
#include "optim/optim_internal.h"

/* No FMA contraction (see optim_sgd.c). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

enum { SAM_RHO, SAM_ADAPTIVE, SAM_EPS };
enum { LA_K, LA_ALPHA };
enum { AVG_MODE, AVG_DECAY, AVG_START, AVG_EVERY };
enum { ZO_METHOD, ZO_DIRECTIONS, ZO_MU, ZO_SYMMETRIC, ZO_SEED };

#define T float
#define SFX _f32
#include "optim/optim_wrap_tmpl.h"
#undef T
#undef SFX
#define T double
#define SFX _f64
#include "optim/optim_wrap_tmpl.h"
#undef T
#undef SFX

static dsc_status sam_step(dsc_optim *o, void *p, void *g, dsc_closure c, void *ctx, double *loss)
{
    return o->dtype == DSC_FLOAT64 ? sam_step_f64(o, p, g, c, ctx, loss) : sam_step_f32(o, p, g, c, ctx, loss);
}

static dsc_status lookahead_step(dsc_optim *o, void *p, void *g, dsc_closure c, void *ctx, double *loss)
{
    return o->dtype == DSC_FLOAT64 ? lookahead_step_f64(o, p, g, c, ctx, loss)
                                   : lookahead_step_f32(o, p, g, c, ctx, loss);
}

static dsc_status average_step(dsc_optim *o, void *p, void *g, dsc_closure c, void *ctx, double *loss)
{
    return o->dtype == DSC_FLOAT64 ? average_step_f64(o, p, g, c, ctx, loss) : average_step_f32(o, p, g, c, ctx, loss);
}

static dsc_status zo_step(dsc_optim *o, void *p, void *g, dsc_closure c, void *ctx, double *loss)
{
    return o->dtype == DSC_FLOAT64 ? zo_step_f64(o, p, g, c, ctx, loss) : zo_step_f32(o, p, g, c, ctx, loss);
}

static const optim_key sam_keys[] = {
    KREAL("rho", 0.05, 0, OPT_INF, 0, 1),
    KBOOL("adaptive", 0),
    K_EPS(1e-12),
};

static size_t sam_scratch(const double *hp, size_t n)
{
    (void)hp;
    return n;
}

const optim_algo dsc_optim_algo_sam = {
    .name = "sam",
    .summary = "SAM (Foret et al. 2021; adaptive=1: ASAM): base step with the gradient at p + rho*g/||g||; "
               "needs a closure",
    .keys = sam_keys,
    .n_keys = (int)(sizeof sam_keys / sizeof sam_keys[0]),
    .n_state = 0,
    .scratch_len = sam_scratch,
    .single_group = 1,
    .wrap_step = sam_step,
};

static const optim_key lookahead_keys[] = {
    KREAL("k", 5, 1, 1e9, 0, 0),
    KREAL("alpha", 0.5, 0, 1, 0, 0),
};

static dsc_status lookahead_check(const double *hp)
{
    if (hp[LA_K] != floor(hp[LA_K]))
        return DSC_ERROR(DSC_ERR_RANGE, "lookahead: option 'k' must be an integer, got %g", hp[LA_K]);
    return DSC_OK;
}

const optim_algo dsc_optim_algo_lookahead = {
    .name = "lookahead",
    .summary = "Lookahead (Zhang et al. 2019): every k steps slow += alpha*(fast - slow), fast = slow",
    .keys = lookahead_keys,
    .n_keys = (int)(sizeof lookahead_keys / sizeof lookahead_keys[0]),
    .state_names = {"slow"},
    .n_state = 1,
    .check = lookahead_check,
    .single_group = 1,
    .wrap_step = lookahead_step,
};

static const char *const avg_modes[] = {"mean", "ema", NULL};
static const optim_key average_keys[] = {
    KENUM("mode", 0, avg_modes),
    KREAL("decay", 0.999, 0, 1, 0, 0),
    KREAL("start", 0, 0, 1e18, 0, 0),
    KREAL("every", 1, 1, 1e18, 0, 0),
};

static dsc_status average_check(const double *hp)
{
    if (hp[AVG_START] != floor(hp[AVG_START]) || hp[AVG_EVERY] != floor(hp[AVG_EVERY]))
        return DSC_ERROR(DSC_ERR_RANGE, "average: options 'start' and 'every' must be integers (got %g, %g)",
                         hp[AVG_START], hp[AVG_EVERY]);
    return DSC_OK;
}

const optim_algo dsc_optim_algo_average = {
    .name = "average",
    .summary = "iterate averaging over a base optimizer (mode=mean: SWA / Polyak-Ruppert as torch's "
               "AveragedModel; ema); dsc_optim_swap_average for evaluation",
    .keys = average_keys,
    .n_keys = (int)(sizeof average_keys / sizeof average_keys[0]),
    .state_names = {"average"},
    .n_state = 1,
    .n_scalars = 1,
    .check = average_check,
    .single_group = 1,
    .wrap_step = average_step,
    .eval_buf = 1,
};

dsc_status dsc_optim_swap_average(dsc_optim *opt, void *params)
{
    if (!opt || (!params && opt->n))
        return DSC_ERROR(DSC_ERR_INVALID, "dsc_optim_swap_average: NULL argument");
    if (!opt->algo->eval_buf)
        return DSC_ERROR(DSC_ERR_UNSUPPORTED,
                         "%s has no separate evaluation weights: use average:...,base=[%s...] (or a schedule-free "
                         "optimizer)",
                         opt->algo->name, opt->algo->name);
    const int b = opt->algo->eval_buf - 1;
    if (opt->algo == &dsc_optim_algo_average ? !opt->groups[0].scal || opt->groups[0].scal[0] == 0 : opt->steps == 0)
        return DSC_ERROR(DSC_ERR_STATE, "%s: no evaluation weights yet (%s)", opt->algo->name,
                         opt->algo == &dsc_optim_algo_average ? "no iterate has been averaged" : "before the first step");
    if (!opt->buf[b])
        return DSC_ERROR(DSC_ERR_STATE, "%s: state not created", opt->algo->name);
    const size_t es = opt->dtype == DSC_FLOAT64 ? sizeof(double) : sizeof(float);
    unsigned char *a = opt->buf[b], *p = params;
    for (size_t i = 0; i < opt->n * es; i++) {
        const unsigned char tmp = a[i];
        a[i] = p[i];
        p[i] = tmp;
    }
    return DSC_OK;
}

static const char *const zo_methods[] = {"gauss", "sphere", "spsa", "coord", NULL};
static const optim_key zo_keys[] = {
    KENUM("method", 0, zo_methods),
    KREAL("directions", 1, 1, 1e6, 0, 0),
    KREAL("mu", 1e-3, 0, OPT_INF, 1, 1),
    KBOOL("symmetric", 0),
    KREAL("seed", 0, 0, 9007199254740992.0, 0, 0),
};

static dsc_status zo_check(const double *hp)
{
    if (hp[ZO_DIRECTIONS] != floor(hp[ZO_DIRECTIONS]) || hp[ZO_SEED] != floor(hp[ZO_SEED]))
        return DSC_ERROR(DSC_ERR_RANGE, "zo: options 'directions' and 'seed' must be integers");
    return DSC_OK;
}

static size_t zo_scratch(const double *hp, size_t len)
{
    (void)hp;
    return 4 * len;
}

const optim_algo dsc_optim_algo_zo = {
    .name = "zo",
    .summary = "zeroth-order gradient estimate (gauss, sphere, spsa, coord) from loss values, then the base "
               "step; needs a closure",
    .keys = zo_keys,
    .n_keys = (int)(sizeof zo_keys / sizeof zo_keys[0]),
    .n_scalars = 2,
    .check = zo_check,
    .scratch_len = zo_scratch,
    .single_group = 1,
    .wrap_step = zo_step,
};
