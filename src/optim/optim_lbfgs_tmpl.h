/* L-BFGS as torch.optim.LBFGS (1.13), one source for float and double (see
 * optim_tmpl_begin.h). Included by optim_lbfgs.c with T and SFX defined. Vectors are T; the
 * scalars (step t, losses, directional derivatives, dot products) are double, which is what
 * torch computes for float64 parameters. Dot products are summed in index order. */
#include "optim/optim_tmpl_begin.h"

#define FN(name) OPT_CAT(name, SFX)

static double FN(lb_dot)(const T *a, const T *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * (double)b[i];
    return s;
}

static double FN(lb_absmax)(const T *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        const double v = fabs((double)a[i]);
        if (v > m || v != v)
            m = v;
    }
    return m;
}

static void FN(lb_copy)(T *dst, const T *src, size_t n)
{
    memcpy(dst, src, n * sizeof *dst);
}

/* p = x + t*d, closure at p, p = x. Returns the loss; the gradient is in a->grad. */
static double FN(lb_directional)(const optim_closure_args *a, const T *x, double t, const T *d)
{
    T *p = a->p;
    const T tt = (T)t;
    for (size_t i = 0; i < a->n; i++)
        p[i] = p[i] + tt * d[i];
    const double f = a->closure(a->ctx, a->p, a->grad);
    FN(lb_copy)(p, x, a->n);
    return f;
}

/* torch.optim.lbfgs._strong_wolfe (ported from minFunc / torch7's lswolfe.lua). On return *f,
 * g (n values), *t are the accepted point's loss, gradient and step; returns the number of
 * evaluations. ws: 4n scratch. */
static int FN(lb_strong_wolfe)(const optim_closure_args *a, const T *x, double *t_io, const T *d, double *f_io, T *g_io,
                               double gtd, double tolerance_change, T *ws)
{
    const double c1 = 1e-4, c2 = 0.9, f = *f_io;
    const int max_ls = 25;
    const size_t n = a->n;
    T *g = ws, *g_prev = ws + n, *bg[2] = {ws + 2 * n, ws + 3 * n};
    const T *g_new = a->grad;
    double t = *t_io;
    const double d_norm = FN(lb_absmax)(d, n);
    FN(lb_copy)(g, g_io, n);
    double f_new = FN(lb_directional)(a, x, t, d);
    int evals = 1;
    double gtd_new = FN(lb_dot)(g_new, d, n);

    double t_prev = 0, f_prev = f, gtd_prev = gtd;
    FN(lb_copy)(g_prev, g, n);
    int done = 0, ls_iter = 0, nb = 0;
    double bt[2] = {0, 0}, bf[2] = {0, 0}, bgtd[2] = {0, 0};
    while (ls_iter < max_ls) {
        if (f_new > (f + c1 * t * gtd) || (ls_iter > 1 && f_new >= f_prev)) {
            nb = 2;
            bt[0] = t_prev, bt[1] = t, bf[0] = f_prev, bf[1] = f_new, bgtd[0] = gtd_prev, bgtd[1] = gtd_new;
            FN(lb_copy)(bg[0], g_prev, n);
            FN(lb_copy)(bg[1], g_new, n);
            break;
        }
        if (fabs(gtd_new) <= -c2 * gtd) {
            nb = 1;
            bt[0] = t, bf[0] = f_new;
            FN(lb_copy)(bg[0], g_new, n);
            done = 1;
            break;
        }
        if (gtd_new >= 0) {
            nb = 2;
            bt[0] = t_prev, bt[1] = t, bf[0] = f_prev, bf[1] = f_new, bgtd[0] = gtd_prev, bgtd[1] = gtd_new;
            FN(lb_copy)(bg[0], g_prev, n);
            FN(lb_copy)(bg[1], g_new, n);
            break;
        }
        /* interpolate */
        const double min_step = t + 0.01 * (t - t_prev), max_step = t * 10, tmp = t;
        t = lb_cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, 1, min_step, max_step);
        t_prev = tmp;
        f_prev = f_new;
        FN(lb_copy)(g_prev, g_new, n);
        gtd_prev = gtd_new;
        f_new = FN(lb_directional)(a, x, t, d);
        evals++;
        gtd_new = FN(lb_dot)(g_new, d, n);
        ls_iter++;
    }
    if (ls_iter == max_ls) {
        /* torch leaves bracket_gtd from an earlier assignment (or undefined); it is not used
         * because the zoom loop below does not run when ls_iter == max_ls. */
        nb = 2;
        bt[0] = 0, bt[1] = t, bf[0] = f, bf[1] = f_new;
        FN(lb_copy)(bg[0], g, n);
        FN(lb_copy)(bg[1], g_new, n);
    }

    /* zoom */
    int insuf_progress = 0;
    int low = bf[0] <= bf[nb - 1] ? 0 : 1, high = 1 - low;
    while (!done && ls_iter < max_ls) {
        if (fabs(bt[1] - bt[0]) * d_norm < tolerance_change)
            break;
        t = lb_cubic_interpolate(bt[0], bf[0], bgtd[0], bt[1], bf[1], bgtd[1], 0, 0, 0);
        const double bmax = py_max(bt[0], bt[1]), bmin = py_min(bt[0], bt[1]);
        const double eps = 0.1 * (bmax - bmin);
        if (py_min(bmax - t, t - bmin) < eps) {
            if (insuf_progress || t >= bmax || t <= bmin) {
                if (fabs(t - bmax) < fabs(t - bmin))
                    t = bmax - eps;
                else
                    t = bmin + eps;
                insuf_progress = 0;
            } else {
                insuf_progress = 1;
            }
        } else {
            insuf_progress = 0;
        }
        f_new = FN(lb_directional)(a, x, t, d);
        evals++;
        gtd_new = FN(lb_dot)(g_new, d, n);
        ls_iter++;
        if (f_new > (f + c1 * t * gtd) || f_new >= bf[low]) {
            bt[high] = t, bf[high] = f_new, bgtd[high] = gtd_new;
            FN(lb_copy)(bg[high], g_new, n);
            low = bf[0] <= bf[1] ? 0 : 1;
            high = 1 - low;
        } else {
            if (fabs(gtd_new) <= -c2 * gtd) {
                done = 1;
            } else if (gtd_new * (bt[high] - bt[low]) >= 0) {
                bt[high] = bt[low], bf[high] = bf[low], bgtd[high] = bgtd[low];
                FN(lb_copy)(bg[high], bg[low], n);
            }
            bt[low] = t, bf[low] = f_new, bgtd[low] = gtd_new;
            FN(lb_copy)(bg[low], g_new, n);
        }
    }
    *t_io = bt[low];
    *f_io = bf[low];
    FN(lb_copy)(g_io, bg[low], n);
    return evals;
}

/* torch.optim.LBFGS.step(closure). */
static dsc_status FN(lbfgs_closure_step)(const optim_closure_args *a)
{
    const optim_group *grp = a->g;
    const double *h = grp->hp;
    double *sc = grp->scal;
    const size_t n = a->n, H = (size_t)h[LB_HISTORY];
    const int max_iter = (int)h[LB_MAX_ITER];
    const int max_eval = h[LB_MAX_EVAL] > 0 ? (int)h[LB_MAX_EVAL] : max_iter * 5 / 4;
    const double lr = h[LB_LR], tol_grad = h[LB_TOL_GRAD], tol_change = h[LB_TOL_CHANGE];
    const int wolfe = h[LB_LINE_SEARCH] != 0;
    T *p = a->p, *d = a->st[LBB_D], *prev_g = a->st[LBB_PREV_G], *dirs = a->st[LBB_DIRS], *stps = a->st[LBB_STPS],
      *ro = a->st[LBB_RO];
    T *flat_grad = a->scratch, *x_init = flat_grad + n, *y = x_init + n, *s = y + n, *q = s + n, *ws = q + n,
      *al = ws + 4 * n;
    const T *grad = a->grad;

    double loss = a->closure(a->ctx, a->p, a->grad);
    *a->loss = loss;
    int current_evals = 1;
    sc[LBS_FEVALS] += 1;
    FN(lb_copy)(flat_grad, grad, n);
    int opt_cond = FN(lb_absmax)(flat_grad, n) <= tol_grad;
    if (opt_cond)
        return DSC_OK;

    double t = sc[LBS_T], H_diag = sc[LBS_HDIAG], prev_loss = sc[LBS_PREV_LOSS];
    size_t num_old = (size_t)sc[LBS_NUM_OLD], start = (size_t)sc[LBS_START];
    int n_iter = 0;
    while (n_iter < max_iter) {
        n_iter++;
        sc[LBS_NITER] += 1;
        /* direction */
        if (sc[LBS_NITER] == 1) {
            for (size_t i = 0; i < n; i++)
                d[i] = -flat_grad[i];
            num_old = 0;
            start = 0;
            H_diag = 1;
        } else {
            const T tt = (T)t;
            for (size_t i = 0; i < n; i++) {
                y[i] = flat_grad[i] - prev_g[i];
                s[i] = d[i] * tt;
            }
            const double ys = FN(lb_dot)(y, s, n);
            if (ys > 1e-10) {
                if (num_old == H) { /* drop the oldest */
                    start = (start + 1) % H;
                    num_old--;
                }
                const size_t slot = (start + num_old) % H;
                FN(lb_copy)(dirs + slot * n, y, n);
                FN(lb_copy)(stps + slot * n, s, n);
                ro[slot] = (T)(1. / ys);
                num_old++;
                H_diag = ys / FN(lb_dot)(y, y, n);
            }
            for (size_t i = 0; i < n; i++)
                q[i] = -flat_grad[i];
            for (size_t k = num_old; k-- > 0;) {
                const size_t slot = (start + k) % H;
                const double alk = FN(lb_dot)(stps + slot * n, q, n) * (double)ro[slot];
                al[k] = (T)alk;
                const T nal = (T)(-alk);
                const T *dk = dirs + slot * n;
                for (size_t i = 0; i < n; i++)
                    q[i] = q[i] + nal * dk[i];
            }
            const T hd = (T)H_diag;
            for (size_t i = 0; i < n; i++)
                d[i] = q[i] * hd;
            for (size_t k = 0; k < num_old; k++) {
                const size_t slot = (start + k) % H;
                const double be = FN(lb_dot)(dirs + slot * n, d, n) * (double)ro[slot];
                const T c = (T)((double)al[k] - be);
                const T *sk = stps + slot * n;
                for (size_t i = 0; i < n; i++)
                    d[i] = d[i] + c * sk[i];
            }
        }
        FN(lb_copy)(prev_g, flat_grad, n);
        prev_loss = loss;
        /* step length */
        if (sc[LBS_NITER] == 1) {
            double asum = 0;
            for (size_t i = 0; i < n; i++)
                asum += fabs((double)flat_grad[i]);
            const double inv = 1. / asum;
            t = py_min(1., inv) * lr;
        } else {
            t = lr;
        }
        const double gtd = FN(lb_dot)(flat_grad, d, n);
        if (gtd > -tol_change)
            break;
        int ls_evals = 0;
        if (wolfe) {
            FN(lb_copy)(x_init, p, n);
            ls_evals = FN(lb_strong_wolfe)(a, x_init, &t, d, &loss, flat_grad, gtd, tol_change, ws);
            const T tt = (T)t;
            for (size_t i = 0; i < n; i++)
                p[i] = p[i] + tt * d[i];
            opt_cond = FN(lb_absmax)(flat_grad, n) <= tol_grad;
        } else {
            const T tt = (T)t;
            for (size_t i = 0; i < n; i++)
                p[i] = p[i] + tt * d[i];
            if (n_iter != max_iter) {
                loss = a->closure(a->ctx, a->p, a->grad);
                FN(lb_copy)(flat_grad, grad, n);
                opt_cond = FN(lb_absmax)(flat_grad, n) <= tol_grad;
                ls_evals = 1;
            }
        }
        current_evals += ls_evals;
        sc[LBS_FEVALS] += ls_evals;
        if (n_iter == max_iter || current_evals >= max_eval || opt_cond)
            break;
        double dt = 0;
        for (size_t i = 0; i < n; i++) {
            const double v = fabs((double)(d[i] * (T)t));
            if (v > dt || v != v)
                dt = v;
        }
        if (dt <= tol_change)
            break;
        if (fabs(loss - prev_loss) < tol_change)
            break;
    }
    sc[LBS_T] = t;
    sc[LBS_HDIAG] = H_diag;
    sc[LBS_PREV_LOSS] = prev_loss;
    sc[LBS_NUM_OLD] = (double)num_old;
    sc[LBS_START] = (double)start;
    return DSC_OK;
}

#undef FN
