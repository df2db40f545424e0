/* L-BFGS with torch.optim.LBFGS's options and algorithm (including its strong-Wolfe line
 * search). It needs a closure: dsc_optim_step_closure. The update rule is in
 * optim_lbfgs_tmpl.h (one source for both dtypes). */
#include <string.h>

#include "optim/optim_internal.h"

/* Bit-exactness with torch needs every a*b + c rounded twice: no FMA contraction (GCC in ISO C
 * mode does not contract; clang would, within an expression, without this pragma). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

enum { LB_LR, LB_MAX_ITER, LB_MAX_EVAL, LB_TOL_GRAD, LB_TOL_CHANGE, LB_HISTORY, LB_LINE_SEARCH };
/* State buffers and scalars. */
enum { LBB_D, LBB_PREV_G, LBB_DIRS, LBB_STPS, LBB_RO };
enum { LBS_T, LBS_HDIAG, LBS_PREV_LOSS, LBS_NITER, LBS_FEVALS, LBS_NUM_OLD, LBS_START, LBS_COUNT };

/* Python's max(a, b) / min(a, b): the first argument unless the second is strictly larger /
 * smaller (so a NaN first argument is returned). */
static double py_max(double a, double b)
{
    return b > a ? b : a;
}

static double py_min(double a, double b)
{
    return b < a ? b : a;
}

/* torch.optim.lbfgs._cubic_interpolate (minimizer of the cubic through two points with values
 * and derivatives, clamped to the bounds; the bounds default to [min(x1,x2), max(x1,x2)]). */
static double lb_cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2, int has_bounds,
                                   double lo, double hi)
{
    double xmin_bound, xmax_bound;
    if (has_bounds) {
        xmin_bound = lo;
        xmax_bound = hi;
    } else if (x1 <= x2) {
        xmin_bound = x1;
        xmax_bound = x2;
    } else {
        xmin_bound = x2;
        xmax_bound = x1;
    }
    const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
    const double d2_square = d1 * d1 - g1 * g2;
    if (d2_square >= 0) {
        const double d2 = sqrt(d2_square);
        double min_pos;
        if (x1 <= x2)
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2));
        else
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
        return py_min(py_max(min_pos, xmin_bound), xmax_bound);
    }
    return (xmin_bound + xmax_bound) / 2.;
}

#define T float
#define SFX _f32
#include "optim/optim_lbfgs_tmpl.h"
#undef T
#undef SFX
#define T double
#define SFX _f64
#include "optim/optim_lbfgs_tmpl.h"
#undef T
#undef SFX

static const char *const lb_line_searches[] = {"none", "strong_wolfe", NULL};
static const optim_key lbfgs_keys[] = {
    KREAL("lr", 1, 0, OPT_INF, 0, 1),
    KREAL("max_iter", 20, 1, 1e9, 0, 0),
    KREAL("max_eval", 0, 0, 1e9, 0, 0), /* 0: max_iter*5/4 (torch's default) */
    KREAL("tolerance_grad", 1e-7, 0, OPT_INF, 0, 1),
    KREAL("tolerance_change", 1e-9, 0, OPT_INF, 0, 1),
    KREAL("history_size", 100, 1, 1e6, 0, 0),
    KENUM("line_search_fn", 0, lb_line_searches),
};

static dsc_status lbfgs_check(const double *hp)
{
    const int ints[] = {LB_MAX_ITER, LB_MAX_EVAL, LB_HISTORY};
    for (int i = 0; i < 3; i++)
        if (hp[ints[i]] != floor(hp[ints[i]]))
            return DSC_ERROR(DSC_ERR_RANGE, "lbfgs: option '%s' must be an integer, got %g", lbfgs_keys[ints[i]].name,
                             hp[ints[i]]);
    return DSC_OK;
}

static size_t lbfgs_buf_len(const double *hp, size_t n, int i)
{
    const size_t H = (size_t)hp[LB_HISTORY];
    switch (i) {
    case LBB_DIRS:
    case LBB_STPS:
        return H <= SIZE_MAX / (n ? n : 1) ? H * n : SIZE_MAX;
    case LBB_RO:
        return H;
    default:
        return n;
    }
}

static size_t lbfgs_scratch_len(const double *hp, size_t n)
{
    return 9 * n + (size_t)hp[LB_HISTORY];
}

const optim_algo dsc_optim_algo_lbfgs = {
    .name = "lbfgs",
    .summary = "L-BFGS (torch.optim.LBFGS): needs a closure; line_search_fn none or strong_wolfe; one group",
    .keys = lbfgs_keys,
    .n_keys = (int)(sizeof lbfgs_keys / sizeof lbfgs_keys[0]),
    .state_names = {"d", "prev_flat_grad", "old_dirs", "old_stps", "ro"},
    .n_state = 5,
    .n_scalars = LBS_COUNT,
    .check = lbfgs_check,
    .closure_step = {lbfgs_closure_step_f32, lbfgs_closure_step_f64},
    .buf_len = lbfgs_buf_len,
    .scratch_len = lbfgs_scratch_len,
    .single_group = 1,
};
