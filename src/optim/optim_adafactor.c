/* Adafactor (Shazeer & Stern 2018) with torch.optim.Adafactor's (torch >= 2.5) options and
 * formulas. A group is factored when it is a matrix (rows = R > 1 and len/R > 1): its state is
 * then the row and column statistics (R + C values at the start of its slice in "variance").
 * Update rule in optim_adafactor_tmpl.h. */
#include "optim/optim_internal.h"

/* No FMA contraction (see optim_sgd.c). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

enum { AF_LR, AF_BETA2_DECAY, AF_EPS1, AF_EPS2, AF_D, AF_WD, AF_MAXIMIZE, AF_ROWS };

#define SQRT_T(x) _Generic((x), float: sqrtf, default: sqrt)(x)
#define T float
#define SFX _f32
#include "optim/optim_adafactor_tmpl.h"
#undef T
#undef SFX
#define T double
#define SFX _f64
#include "optim/optim_adafactor_tmpl.h"
#undef T
#undef SFX

static const optim_key adafactor_keys[] = {
    K_LR(1e-2),
    KREAL("beta2_decay", -0.8, -OPT_INF, 0, 1, 0),
    KREAL("eps1", 0, 0, OPT_INF, 0, 1), /* 0: machine epsilon of the dtype (torch: eps=(None, 1e-3)) */
    KREAL("eps2", 1e-3, 0, OPT_INF, 0, 1),
    KREAL("d", 1, 0, OPT_INF, 1, 1),
    K_WD(0),
    K_MAXIMIZE,
    KREAL("rows", 0, 0, 1e12, 0, 0),
};

static size_t adafactor_scratch(const double *hp, size_t len)
{
    (void)hp;
    return len;
}

static dsc_status adafactor_check(const double *hp)
{
    if (hp[AF_ROWS] != floor(hp[AF_ROWS]))
        return DSC_ERROR(DSC_ERR_RANGE, "adafactor: option 'rows' must be an integer, got %g", hp[AF_ROWS]);
    return DSC_OK;
}

static dsc_status adafactor_layout(const optim_group *g, int index)
{
    if (g->hp[AF_ROWS] <= 1)
        return DSC_OK;
    size_t len = 0;
    for (int s = 0; s < g->nseg; s++)
        len += g->segs[s].len;
    const size_t R = (size_t)g->hp[AF_ROWS];
    if (g->nseg > 1)
        return DSC_ERROR(DSC_ERR_INVALID, "adafactor: group %d (rows=%zu) is split into %d slices by the groups added "
                                          "after it; a factored group must be one matrix",
                         index, R, g->nseg);
    if (len % R)
        return DSC_ERROR(DSC_ERR_SHAPE, "adafactor: group %d has %zu elements, not a multiple of rows=%zu", index, len,
                         R);
    return DSC_OK;
}

const optim_algo dsc_optim_algo_adafactor = {
    .name = "adafactor",
    .summary = "Adafactor (Shazeer & Stern 2018, torch.optim.Adafactor): factored second moments for matrix "
               "groups (rows=R), relative step sizes",
    .keys = adafactor_keys,
    .n_keys = (int)(sizeof adafactor_keys / sizeof adafactor_keys[0]),
    .state_names = {"variance"},
    .n_state = 1,
    .check = adafactor_check,
    .step = {adafactor_step_f32, adafactor_step_f64},
    .scratch_len = adafactor_scratch,
    .check_layout = adafactor_layout,
};
