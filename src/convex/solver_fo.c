/* Deterministic solvers of the convex lab: gradient descent (fixed, 2/(mu+L), Armijo, exact line
 * search), Polyak's step, Nesterov, heavy ball, conjugate gradient, Newton, BFGS, L-BFGS, projected
 * and proximal gradient (ISTA, FISTA with restart), Frank-Wolfe, entropic mirror descent, randomized
 * coordinate descent and perturbed gradient descent. Formulas, sources and rates:
 * docs/ALGORITHMS.md. Each full gradient (or function value in a line search, Hessian,
 * Hessian-vector product) counts n per-example evaluations. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "convex/solver_internal.h"

static dsc_status need_smooth(slv *s)
{
    if (!s->p->smooth)
        return DSC_ERROR(DSC_ERR_UNSUPPORTED,
                         "%s: problem '%s' has an l1 term (nonsmooth); use ista, fista, or a stochastic solver "
                         "(they take proximal steps)",
                         s->name, s->p->spec);
    return DSC_OK;
}

/* Armijo backtracking along direction d from w (F(w) = f0, slope = grad'd < 0):
 * the largest t = t0 beta^k with F(w + t d) <= f0 + c t slope. Writes the new point to wn and
 * returns t, or 0 when no t > 1e-20 t0 satisfies it (no progress possible at machine precision). */
static double armijo(slv *s, const double *w, const double *d, double f0, double slope, double t0, double c,
                     double beta, double *wn, double *fn)
{
    double t = t0;
    for (int k = 0; k < 80; k++) {
        for (int64_t j = 0; j < s->dim; j++)
            wn[j] = w[j] + t * d[j];
        double f = slv_value(s, wn);
        if (isfinite(f) && f <= f0 + c * t * slope) {
            *fn = f;
            return t;
        }
        t *= beta;
        if (t < 1e-20 * t0)
            break;
    }
    return 0.0;
}

static dsc_status ls_params(slv *s, double *c, double *beta)
{
    dsc_status st = dsc_kvspec_double(s->spec, "c", 1e-4, 1e-12, 0.5, c);
    if (!st)
        st = dsc_kvspec_double(s->spec, "beta", 0.5, 1e-3, 0.999, beta);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Gradient descent: w <- w - t grad f(w). Fixed t = 1/L gives f(w_T) - f* <= (1 - mu/L)^T (f(w_0) - f*)
 * (Nesterov 2004, Thm 2.1.15 / Polyak); t = 2/(mu+L) contracts ||w - w*|| by (k-1)/(k+1). */
dsc_status slv_gd(slv *s, double *w)
{
    const dsc_convex_problem *p = s->p;
    static const char *const steps[] = {"L", "opt", "armijo", "exact", NULL};
    int mode = 0;
    double lr = NAN, c, beta;
    double *g = NULL, *wn = NULL, *hg = NULL;
    dsc_status st = need_smooth(s);
    if (!st)
        st = dsc_kvspec_choice(s->spec, "step", steps, 0, &mode);
    if (!st)
        st = ls_params(s, &c, &beta);
    if (st)
        return st;
    if (mode == 0)
        st = slv_lr(s, 1.0 / p->L, "L", &lr);
    else if (mode == 1)
        st = slv_lr(s, p->mu > 0.0 ? 2.0 / (p->mu + p->L) : NAN, "mu > 0 and L", &lr);
    else
        lr = p->L > 0.0 ? 1.0 / p->L : 1.0;
    if (st)
        return st;
    s->res->step = lr;
    ALLOC(g, s->dim);
    ALLOC(wn, s->dim);
    ALLOC(hg, s->dim);
    if (slv_begin(s, w))
        goto done;
    double t = lr;
    for (;;) {
        double f = slv_grad(s, w, g);
        double gg = slv_dot(s->dim, g, g);
        if (gg == 0.0) {
            slv_stall(s);
            break;
        }
        if (mode == 2) {
            /* start from twice the last accepted step so that the step can grow again */
            double fn;
            for (int64_t j = 0; j < s->dim; j++)
                hg[j] = -g[j];
            double tt = armijo(s, w, hg, f, -gg, 2.0 * t, c, beta, wn, &fn);
            if (tt == 0.0) {
                slv_stall(s);
                break;
            }
            t = tt;
            memcpy(w, wn, (size_t)s->dim * sizeof *w);
        } else {
            if (mode == 3) {
                /* exact minimizer of the quadratic model along -g: t = g'g / g'Hg */
                slv_hvp(s, w, g, hg);
                double ghg = slv_dot(s->dim, g, hg);
                if (!(ghg > 0.0)) {
                    st = DSC_ERROR(DSC_ERR_NUMERIC, "gd: step=exact needs g'Hg > 0 (got %g); the problem is not "
                                                    "strictly convex here", ghg);
                    goto done;
                }
                t = gg / ghg;
            }
            slv_axpy(s->dim, -t, g, w);
        }
        if (slv_step(s, w))
            break;
    }
done:
    free(g);
    free(wn);
    free(hg);
    return st;
}

/* Polyak's step t = gamma (F(w) - f*) / ||g||^2 (Polyak 1987, sec. 5.3). */
dsc_status slv_polyak(slv *s, double *w)
{
    double gamma;
    double *g = NULL;
    dsc_status st = need_smooth(s);
    if (!st)
        st = dsc_kvspec_double(s->spec, "gamma", 1.0, 1e-6, 2.0, &gamma);
    if (st)
        return st;
    if (isnan(s->o->f_star))
        return DSC_ERROR(DSC_ERR_UNSUPPORTED, "polyak: the step needs f* (solve the exact optimum first)");
    ALLOC(g, s->dim);
    if (slv_begin(s, w))
        goto done;
    for (;;) {
        double f = slv_grad(s, w, g);
        double gg = slv_dot(s->dim, g, g);
        double gap = f - s->o->f_star;
        if (gg == 0.0 || !(gap > 0.0)) {
            slv_stall(s);
            break;
        }
        slv_axpy(s->dim, -gamma * gap / gg, g, w);
        if (slv_step(s, w))
            break;
    }
done:
    free(g);
    return st;
}

/* Nesterov's accelerated gradient, y_k = x_k + beta_k (x_k - x_{k-1}), x_{k+1} = y_k - (1/L) grad f(y_k).
 *   convex:  beta_k = (t_k - 1)/t_{k+1}, t_{k+1} = (1 + sqrt(1 + 4 t_k^2))/2, t_0 = 1 (f - f* <= 2L||x0-x*||^2/(k+1)^2)
 *   strong:  beta = (sqrt(kappa) - 1)/(sqrt(kappa) + 1) (f - f* <= (1 - 1/sqrt(kappa))^k (f0 - f* + mu/2 ||x0-x*||^2))
 * (Nesterov 2004, sec. 2.2, constant step scheme III). */
dsc_status slv_nesterov(slv *s, double *w)
{
    const dsc_convex_problem *p = s->p;
    static const char *const variants[] = {"auto", "convex", "strong", NULL};
    int var = 0;
    double lr, mu;
    double *g = NULL, *y = NULL, *xo = NULL;
    dsc_status st = need_smooth(s);
    if (!st)
        st = dsc_kvspec_choice(s->spec, "variant", variants, 0, &var);
    if (!st)
        st = dsc_kvspec_double(s->spec, "mu", p->mu, 0.0, 1e300, &mu);
    if (!st)
        st = slv_lr(s, 1.0 / p->L, "L", &lr);
    if (st)
        return st;
    if (var == 0)
        var = mu > 0.0 ? 2 : 1;
    if (var == 2 && !(mu > 0.0))
        return DSC_ERROR(DSC_ERR_UNSUPPORTED, "nesterov: variant=strong needs mu > 0 (give mu=)");
    double kappa = 1.0 / (lr * mu);
    double beta_s = var == 2 ? (sqrt(kappa) - 1.0) / (sqrt(kappa) + 1.0) : 0.0;
    s->res->step = lr;
    ALLOC(g, s->dim);
    ALLOC(y, s->dim);
    ALLOC(xo, s->dim);
    memcpy(y, w, (size_t)s->dim * sizeof *y);
    memcpy(xo, w, (size_t)s->dim * sizeof *xo);
    if (slv_begin(s, w))
        goto done;
    double tk = 1.0;
    for (;;) {
        slv_grad(s, y, g);
        for (int64_t j = 0; j < s->dim; j++) {
            xo[j] = w[j];
            w[j] = y[j] - lr * g[j];
        }
        double beta;
        if (var == 2) {
            beta = beta_s;
        } else {
            double tn = 0.5 * (1.0 + sqrt(1.0 + 4.0 * tk * tk));
            beta = (tk - 1.0) / tn;
            tk = tn;
        }
        for (int64_t j = 0; j < s->dim; j++)
            y[j] = w[j] + beta * (w[j] - xo[j]);
        if (slv_step(s, w))
            break;
    }
done:
    free(g);
    free(y);
    free(xo);
    return st;
}

/* Heavy ball (Polyak 1964): x_{k+1} = x_k - a grad f(x_k) + b (x_k - x_{k-1}) with a = 4/(sqrt L + sqrt mu)^2,
 * b = ((sqrt L - sqrt mu)/(sqrt L + sqrt mu))^2: rate (sqrt k - 1)/(sqrt k + 1) on quadratics. */
dsc_status slv_heavyball(slv *s, double *w)
{
    const dsc_convex_problem *p = s->p;
    double lr, mom, mu;
    double *g = NULL, *xo = NULL;
    dsc_status st = need_smooth(s);
    if (!st)
        st = dsc_kvspec_double(s->spec, "mu", p->mu, 0.0, 1e300, &mu);
    if (st)
        return st;
    double sl = sqrt(p->L), sm = sqrt(mu);
    st = slv_lr(s, mu > 0.0 ? 4.0 / ((sl + sm) * (sl + sm)) : NAN, "mu > 0 and L (or give lr= and momentum=)", &lr);
    if (!st)
        st = dsc_kvspec_double(s->spec, "momentum", mu > 0.0 ? ((sl - sm) / (sl + sm)) * ((sl - sm) / (sl + sm)) : 0.9,
                               0.0, 1.0, &mom);
    if (st)
        return st;
    s->res->step = lr;
    ALLOC(g, s->dim);
    ALLOC(xo, s->dim);
    memcpy(xo, w, (size_t)s->dim * sizeof *xo);
    if (slv_begin(s, w))
        goto done;
    for (;;) {
        slv_grad(s, w, g);
        for (int64_t j = 0; j < s->dim; j++) {
            double x = w[j];
            w[j] = x - lr * g[j] + mom * (x - xo[j]);
            xo[j] = x;
        }
        if (slv_step(s, w))
            break;
    }
done:
    free(g);
    free(xo);
    return st;
}

/* Linear conjugate gradient on the quadratic g (Hestenes & Stiefel 1952; Nocedal & Wright Alg. 5.2):
 * r = -grad, p = r; a = r'r / p'Ap; w += a p; r -= a Ap; p = r + (r'r_new / r'r) p. Exact in dim steps;
 * ||w - w*||_A <= 2 ((sqrt k - 1)/(sqrt k + 1))^k ||w0 - w*||_A. One Hessian-vector product per step. */
dsc_status slv_cg(slv *s, double *w)
{
    const dsc_convex_problem *p = s->p;
    int64_t restart;
    double *r = NULL, *d = NULL, *ad = NULL;
    dsc_status st = need_smooth(s);
    if (st)
        return st;
    if (p->kind != DSC_CVX_QUADRATIC && p->kind != DSC_CVX_LSQ && p->kind != DSC_CVX_RIDGE)
        return DSC_ERROR(DSC_ERR_UNSUPPORTED, "cg: needs a quadratic objective (quadratic, lsq, ridge), not '%s'",
                         p->name);
    st = dsc_kvspec_int(s->spec, "restart", s->dim, 1, INT64_MAX, &restart);
    if (st)
        return st;
    ALLOC(r, s->dim);
    ALLOC(d, s->dim);
    ALLOC(ad, s->dim);
    if (slv_begin(s, w))
        goto done;
    int64_t k = 0;
    double rr = 0.0;
    for (;;) {
        if (k % restart == 0) {
            slv_grad(s, w, r);
            for (int64_t j = 0; j < s->dim; j++)
                d[j] = r[j] = -r[j];
            rr = slv_dot(s->dim, r, r);
        }
        if (rr == 0.0) {
            slv_stall(s);
            break;
        }
        slv_hvp(s, w, d, ad);
        double dad = slv_dot(s->dim, d, ad);
        if (!(dad > 0.0)) {
            slv_stall(s);
            break;
        }
        double a = rr / dad;
        slv_axpy(s->dim, a, d, w);
        slv_axpy(s->dim, -a, ad, r);
        double rn = slv_dot(s->dim, r, r);
        for (int64_t j = 0; j < s->dim; j++)
            d[j] = r[j] + (rn / rr) * d[j];
        rr = rn;
        k++;
        if (slv_step(s, w))
            break;
    }
done:
    free(r);
    free(d);
    free(ad);
    return st;
}

/* Solves (H + tau I) d = -g by Cholesky, raising tau from 0 (then 1e-8 * max|H_jj|, x10) until H + tau I
 * is positive definite (a Levenberg-Marquardt safeguard for nonconvex problems). H is kept in Hs. */
static dsc_status newton_dir(slv *s, const double *Hs, double *H, const double *g, double *d)
{
    int64_t n = s->dim;
    double diag = 0.0;
    for (int64_t j = 0; j < n; j++)
        diag = fmax(diag, fabs(Hs[j * n + j]));
    double tau = 0.0;
    for (int k = 0; k < 60; k++) {
        memcpy(H, Hs, (size_t)(n * n) * sizeof *H);
        for (int64_t j = 0; j < n; j++)
            H[j * n + j] += tau;
        if (dsc_cholesky(n, H) == DSC_OK) {
            for (int64_t j = 0; j < n; j++)
                d[j] = -g[j];
            dsc_cholesky_solve(n, H, d);
            return DSC_OK;
        }
        tau = tau == 0.0 ? 1e-8 * (diag > 0.0 ? diag : 1.0) : tau * 10.0;
    }
    return DSC_ERROR(DSC_ERR_NUMERIC, "newton: the Hessian could not be made positive definite");
}

/* Truncated CG for H d = -g (Nocedal & Wright alg. 7.1, as in scikit-learn's _newton_cg): stops when
 * ||H d + g|| <= eta ||g|| with the forcing term eta = min(eta_max, sqrt(||g||)) (superlinear, and
 * quadratic near w*, N&W Thm 7.2), after max_cg iterations, or on a direction of nonpositive curvature
 * (then the last iterate, or -g on the first). Uses only Hessian-vector products (each n evaluations):
 * O(n d) per product instead of the O(n d^2) dense Hessian. */
static void newton_cg_dir(slv *s, const double *w, const double *g, double eta_max, int64_t max_cg, double *d,
                          double *r, double *q, double *hq)
{
    int64_t n = s->dim;
    double gn = sqrt(slv_dot(n, g, g));
    double tol = fmin(eta_max, sqrt(gn)) * gn;
    memset(d, 0, (size_t)n * sizeof *d);
    for (int64_t j = 0; j < n; j++) {
        r[j] = g[j]; /* residual H d + g */
        q[j] = -g[j];
    }
    double rr = gn * gn;
    for (int64_t k = 0; k < max_cg; k++) {
        slv_hvp(s, w, q, hq);
        double qhq = slv_dot(n, q, hq);
        if (!(qhq > 0.0)) {
            if (k == 0)
                for (int64_t j = 0; j < n; j++)
                    d[j] = -g[j];
            return;
        }
        double a = rr / qhq;
        slv_axpy(n, a, q, d);
        slv_axpy(n, a, hq, r);
        double rn = slv_dot(n, r, r);
        if (sqrt(rn) <= tol)
            return;
        for (int64_t j = 0; j < n; j++)
            q[j] = -r[j] + (rn / rr) * q[j];
        rr = rn;
    }
}

/* hess=auto picks matrix-free CG for linear models above this dimension. */
#define NEWTON_AUTO_CG_DIM 64

/* Newton's method: d = -H^{-1} g; damped: Armijo backtracking from t = 1 (Boyd & Vandenberghe 9.5):
 * quadratic convergence near w* (||w+ - w*|| <= (rho / (2 mu)) ||w - w*||^2). */
dsc_status slv_newton(slv *s, double *w)
{
    static const char *const hess_modes[] = {"auto", "dense", "cg", NULL};
    int damped, cg = 0, hess = 0;
    int64_t max_cg = 0;
    double c, beta, cg_tol = 0.5;
    double *g = NULL, *H = NULL, *Hs = NULL, *d = NULL, *wn = NULL;
    dsc_status st = need_smooth(s);
    if (!st)
        st = dsc_kvspec_bool(s->spec, "damped", 1, &damped);
    if (!st)
        st = ls_params(s, &c, &beta);
    if (!st)
        st = dsc_kvspec_choice(s->spec, "hess", hess_modes, 0, &hess);
    /* auto: a linear model's dense Hessian X^T D X costs n dim^2 per iteration, a CG step (one HVP) about
     * 2 n nnz(row): matrix-free CG wins once dim exceeds a few dozen (~20 CG steps per iteration) */
    cg = hess == 2 || (hess == 0 && s->p->linear && s->dim > NEWTON_AUTO_CG_DIM);
    if (!st)
        st = dsc_kvspec_double(s->spec, "cg_tol", 0.5, 1e-16, 1.0, &cg_tol);
    if (!st)
        st = dsc_kvspec_int(s->spec, "max_cg", s->dim > 200 ? s->dim : 200, 1, INT64_MAX, &max_cg);
    if (st)
        return st;
    if (!cg && s->dim > DSC_CONVEX_MAX_DENSE_DIM)
        return DSC_ERROR(DSC_ERR_UNSUPPORTED, "newton: dim %lld exceeds the dense-Hessian limit %d; use lbfgs",
                         (long long)s->dim, DSC_CONVEX_MAX_DENSE_DIM);
    ALLOC(g, s->dim);
    ALLOC(d, s->dim);
    ALLOC(wn, s->dim);
    /* hess=cg reuses H and Hs as three d-vectors of CG workspace */
    ALLOC(H, cg ? 2 * s->dim : s->dim * s->dim);
    ALLOC(Hs, cg ? s->dim : s->dim * s->dim);
    s->res->step = 1.0;
    if (slv_begin(s, w))
        goto done;
    for (;;) {
        double f = slv_grad(s, w, g);
        if (slv_dot(s->dim, g, g) == 0.0) {
            slv_stall(s);
            break;
        }
        if (cg) {
            newton_cg_dir(s, w, g, cg_tol, max_cg, d, H, H + s->dim, Hs);
        } else {
            s->evals += (double)s->n;
            if ((st = dsc_convex_hessian(s->p, w, Hs)))
                goto done;
            if ((st = newton_dir(s, Hs, H, g, d)))
                goto done;
        }
        if (damped) {
            double fn, slope = slv_dot(s->dim, g, d);
            double t = armijo(s, w, d, f, slope, 1.0, c, beta, wn, &fn);
            if (t == 0.0) {
                slv_stall(s);
                break;
            }
            memcpy(w, wn, (size_t)s->dim * sizeof *w);
        } else {
            slv_axpy(s->dim, 1.0, d, w);
        }
        if (slv_step(s, w))
            break;
    }
done:
    free(g);
    free(H);
    free(Hs);
    free(d);
    free(wn);
    return st;
}

/* Armijo backtracking that also returns the gradient at the accepted point (one evaluation of
 * value and gradient per trial): for the quasi-Newton methods. */
static double armijo_grad(slv *s, const double *w, const double *d, double f0, double slope, double t0, double c,
                          double beta, double *wn, double *gn, double *fn)
{
    double t = t0;
    for (int k = 0; k < 80; k++) {
        for (int64_t j = 0; j < s->dim; j++)
            wn[j] = w[j] + t * d[j];
        double f = slv_grad(s, wn, gn);
        if (isfinite(f) && f <= f0 + c * t * slope) {
            *fn = f;
            return t;
        }
        t *= beta;
    }
    return 0.0;
}

/* BFGS on the inverse Hessian (Nocedal & Wright eq. 6.17): H+ = (I - r s y') H (I - r y s') + r s s', r = 1/y's;
 * H_0 = (y's / y'y) I after the first step; the update is skipped when y's <= 1e-12 ||s|| ||y||. */
dsc_status slv_bfgs(slv *s, double *w)
{
    int64_t n = s->dim;
    double c, beta;
    double *g = NULL, *gn = NULL, *d = NULL, *wn = NULL, *H = NULL, *sv = NULL, *yv = NULL, *hy = NULL;
    dsc_status st = need_smooth(s);
    if (!st)
        st = ls_params(s, &c, &beta);
    if (st)
        return st;
    if (n > DSC_CONVEX_MAX_DENSE_DIM)
        return DSC_ERROR(DSC_ERR_UNSUPPORTED, "bfgs: dim %lld exceeds the dense limit %d; use lbfgs", (long long)n,
                         DSC_CONVEX_MAX_DENSE_DIM);
    ALLOC(g, n);
    ALLOC(gn, n);
    ALLOC(d, n);
    ALLOC(wn, n);
    ALLOC(sv, n);
    ALLOC(yv, n);
    ALLOC(hy, n);
    ALLOC(H, n * n);
    for (int64_t j = 0; j < n; j++)
        H[j * n + j] = 1.0;
    if (slv_begin(s, w))
        goto done;
    double f = slv_grad(s, w, g);
    int first = 1;
    for (;;) {
        for (int64_t i = 0; i < n; i++)
            d[i] = -slv_dot(n, H + i * n, g);
        double slope = slv_dot(n, g, d);
        if (!(slope < 0.0)) { /* not a descent direction: reset to steepest descent */
            memset(H, 0, (size_t)(n * n) * sizeof *H);
            for (int64_t j = 0; j < n; j++) {
                H[j * n + j] = 1.0;
                d[j] = -g[j];
            }
            slope = -slv_dot(n, g, g);
            if (slope == 0.0) {
                slv_stall(s);
                break;
            }
        }
        double t0 = first ? fmin(1.0, 1.0 / sqrt(-slope)) : 1.0, fn;
        double t = armijo_grad(s, w, d, f, slope, t0, c, beta, wn, gn, &fn);
        if (t == 0.0) {
            slv_stall(s);
            break;
        }
        for (int64_t j = 0; j < n; j++) {
            sv[j] = wn[j] - w[j];
            yv[j] = gn[j] - g[j];
        }
        double ys = slv_dot(n, yv, sv), yy = slv_dot(n, yv, yv), ss = slv_dot(n, sv, sv);
        if (ys > 1e-12 * sqrt(ss * yy)) {
            if (first) {
                for (int64_t j = 0; j < n; j++)
                    H[j * n + j] = ys / yy;
                first = 0;
            }
            double r = 1.0 / ys;
            for (int64_t i = 0; i < n; i++)
                hy[i] = slv_dot(n, H + i * n, yv);
            double yhy = slv_dot(n, yv, hy);
            /* H+ = H - r (hy s' + s hy') + (r^2 y'Hy + r) s s' (H symmetric) */
            for (int64_t i = 0; i < n; i++)
                for (int64_t j = 0; j < n; j++)
                    H[i * n + j] += -r * (hy[i] * sv[j] + sv[i] * hy[j]) + (r * r * yhy + r) * sv[i] * sv[j];
        }
        memcpy(w, wn, (size_t)n * sizeof *w);
        memcpy(g, gn, (size_t)n * sizeof *g);
        f = fn;
        if (slv_step(s, w))
            break;
    }
done:
    free(g);
    free(gn);
    free(d);
    free(wn);
    free(H);
    free(sv);
    free(yv);
    free(hy);
    return st;
}

/* L-BFGS (Nocedal 1980; Nocedal & Wright Alg. 7.4): two-loop recursion over the last m pairs (s, y),
 * H_0 = (s'y / y'y) I; pairs with y's <= 1e-12 ||s|| ||y|| are not stored. */
dsc_status slv_lbfgs(slv *s, double *w)
{
    int64_t n = s->dim, m;
    double c, beta;
    double *g = NULL, *gn = NULL, *d = NULL, *wn = NULL, *S = NULL, *Y = NULL, *rho = NULL, *al = NULL;
    dsc_status st = need_smooth(s);
    if (!st)
        st = ls_params(s, &c, &beta);
    if (!st)
        st = dsc_kvspec_int(s->spec, "m", 10, 1, 1000, &m);
    if (st)
        return st;
    ALLOC(g, n);
    ALLOC(gn, n);
    ALLOC(d, n);
    ALLOC(wn, n);
    ALLOC(S, m * n);
    ALLOC(Y, m * n);
    ALLOC(rho, m);
    ALLOC(al, m);
    if (slv_begin(s, w))
        goto done;
    double f = slv_grad(s, w, g);
    int64_t k = 0; /* pairs stored in total; the newest is at (k-1) % m */
    for (;;) {
        for (int64_t j = 0; j < n; j++)
            d[j] = -g[j];
        int64_t cnt = k < m ? k : m;
        for (int64_t q = 0; q < cnt; q++) {
            int64_t i = (k - 1 - q) % m;
            al[i] = rho[i] * slv_dot(n, S + i * n, d);
            slv_axpy(n, -al[i], Y + i * n, d);
        }
        if (cnt > 0) {
            int64_t i = (k - 1) % m;
            double gam = 1.0 / (rho[i] * slv_dot(n, Y + i * n, Y + i * n));
            for (int64_t j = 0; j < n; j++)
                d[j] *= gam;
        }
        for (int64_t q = cnt - 1; q >= 0; q--) {
            int64_t i = (k - 1 - q) % m;
            double b = rho[i] * slv_dot(n, Y + i * n, d);
            slv_axpy(n, al[i] - b, S + i * n, d);
        }
        double slope = slv_dot(n, g, d);
        if (!(slope < 0.0)) {
            k = 0;
            for (int64_t j = 0; j < n; j++)
                d[j] = -g[j];
            slope = -slv_dot(n, g, g);
            if (slope == 0.0) {
                slv_stall(s);
                break;
            }
        }
        double t0 = k == 0 ? fmin(1.0, 1.0 / sqrt(-slope)) : 1.0, fn;
        double t = armijo_grad(s, w, d, f, slope, t0, c, beta, wn, gn, &fn);
        if (t == 0.0) {
            slv_stall(s);
            break;
        }
        int64_t i = k % m;
        for (int64_t j = 0; j < n; j++) {
            S[i * n + j] = wn[j] - w[j];
            Y[i * n + j] = gn[j] - g[j];
        }
        double ys = slv_dot(n, Y + i * n, S + i * n);
        double yy = slv_dot(n, Y + i * n, Y + i * n), ss = slv_dot(n, S + i * n, S + i * n);
        if (ys > 1e-12 * sqrt(ss * yy)) {
            rho[i] = 1.0 / ys;
            k++;
        }
        memcpy(w, wn, (size_t)n * sizeof *w);
        memcpy(g, gn, (size_t)n * sizeof *g);
        f = fn;
        if (slv_step(s, w))
            break;
    }
done:
    free(g);
    free(gn);
    free(d);
    free(wn);
    free(S);
    free(Y);
    free(rho);
    free(al);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Constraint sets of pgd / fw */

typedef struct cset {
    int kind; /* 0 ball, 1 box, 2 simplex, 3 l1ball */
    double r, lo, hi;
} cset;

static dsc_status parse_set(slv *s, int def, cset *c)
{
    static const char *const sets[] = {"ball", "box", "simplex", "l1ball", NULL};
    dsc_status st = dsc_kvspec_choice(s->spec, "set", sets, def, &c->kind);
    if (!st)
        st = dsc_kvspec_double(s->spec, "r", 1.0, 1e-300, 1e300, &c->r);
    if (!st)
        st = dsc_kvspec_double(s->spec, "lo", -1.0, -1e300, 1e300, &c->lo);
    if (!st)
        st = dsc_kvspec_double(s->spec, "hi", 1.0, -1e300, 1e300, &c->hi);
    if (!st && c->lo > c->hi)
        st = DSC_ERROR(DSC_ERR_RANGE, "%s: box lo=%g > hi=%g", s->name, c->lo, c->hi);
    return st;
}

static dsc_status project(slv *s, const cset *c, const double *in, double *out)
{
    switch (c->kind) {
    case 0: dsc_project_ball(s->dim, c->r, in, out); return DSC_OK;
    case 1: dsc_project_box(s->dim, c->lo, c->hi, in, out); return DSC_OK;
    case 2: return dsc_project_simplex(s->dim, c->r, in, out);
    default: return dsc_project_l1ball(s->dim, c->r, in, out);
    }
}

/* Projected gradient descent: w <- P_C(w - t grad f(w)), t = 1/L (same rates as GD on C). */
dsc_status slv_pgd(slv *s, double *w)
{
    cset c;
    double lr;
    double *g = NULL;
    dsc_status st = need_smooth(s);
    if (!st)
        st = parse_set(s, 0, &c);
    if (!st)
        st = slv_lr(s, 1.0 / s->p->L, "L", &lr);
    if (st)
        return st;
    s->res->step = lr;
    ALLOC(g, s->dim);
    if ((st = project(s, &c, w, w)))
        goto done;
    if (slv_begin(s, w))
        goto done;
    for (;;) {
        slv_grad(s, w, g);
        slv_axpy(s->dim, -lr, g, w);
        if ((st = project(s, &c, w, w)))
            goto done;
        if (slv_step(s, w))
            break;
    }
done:
    free(g);
    return st;
}

/* Proximal gradient step from y with step t: out = prox_{t h}(y - t grad g(y)); gy = grad g(y), fy = g(y).
 * With ls: backtracking on the quadratic upper bound g(out) <= g(y) + grad'(out - y) + ||out - y||^2/(2t)
 * (Beck & Teboulle 2009, sec. 3); t is shrunk by beta in place. */
static int prox_step(slv *s, const double *y, double fy, const double *gy, double *t, int ls, double beta,
                     double *out)
{
    for (int k = 0; k < 80; k++) {
        for (int64_t j = 0; j < s->dim; j++)
            out[j] = y[j] - *t * gy[j];
        dsc_convex_prox(s->p, *t, out, out);
        if (!ls)
            return 1;
        double q = fy, dd = 0.0;
        for (int64_t j = 0; j < s->dim; j++) {
            double dj = out[j] - y[j];
            q += gy[j] * dj;
            dd += dj * dj;
        }
        q += dd / (2.0 * *t);
        s->evals += (double)s->n;
        double fo = dsc_convex_grad(s->p, out, NULL);
        if (fo <= q + 1e-15 * fabs(q))
            return 1;
        *t *= beta;
    }
    return 0;
}

static dsc_status ista_fista(slv *s, double *w, int fast)
{
    int ls, restart = 0;
    double lr, beta;
    double *g = NULL, *y = NULL, *xo = NULL;
    dsc_status st = dsc_kvspec_bool(s->spec, "ls", 0, &ls);
    if (!st)
        st = dsc_kvspec_double(s->spec, "beta", 0.5, 1e-3, 0.999, &beta);
    if (!st && fast)
        st = dsc_kvspec_bool(s->spec, "restart", 0, &restart);
    if (st)
        return st;
    if (ls) {
        st = slv_lr(s, s->p->L > 0.0 ? 1.0 / s->p->L : 1.0, "L", &lr);
        if (!dsc_kvspec_has(s->spec, "lr") && !(s->p->L > 0.0))
            lr = 1.0;
    } else {
        st = slv_lr(s, 1.0 / s->p->L, "L (or use ls=1)", &lr);
    }
    if (st)
        return st;
    s->res->step = lr;
    ALLOC(g, s->dim);
    ALLOC(y, s->dim);
    ALLOC(xo, s->dim);
    memcpy(y, w, (size_t)s->dim * sizeof *y);
    if (slv_begin(s, w))
        goto done;
    double tk = 1.0;
    for (;;) {
        double fy = slv_grad(s, fast ? y : w, g);
        memcpy(xo, w, (size_t)s->dim * sizeof *xo);
        if (!prox_step(s, fast ? y : xo, fy, g, &lr, ls, beta, w)) {
            slv_stall(s);
            break;
        }
        if (fast) {
            double tn = 0.5 * (1.0 + sqrt(1.0 + 4.0 * tk * tk));
            double b = (tk - 1.0) / tn;
            tk = tn;
            /* adaptive restart (O'Donoghue & Candes 2015, gradient scheme): restart the momentum when
             * (y - x_new)'(x_new - x_old) > 0, i.e. the step points against the momentum */
            if (restart) {
                double dotv = 0.0;
                for (int64_t j = 0; j < s->dim; j++)
                    dotv += (y[j] - w[j]) * (w[j] - xo[j]);
                if (dotv > 0.0) {
                    tk = 1.0;
                    b = 0.0;
                }
            }
            for (int64_t j = 0; j < s->dim; j++)
                y[j] = w[j] + b * (w[j] - xo[j]);
        }
        if (slv_step(s, w))
            break;
    }
done:
    free(g);
    free(y);
    free(xo);
    return st;
}

/* ISTA: w <- prox_{t h}(w - t grad g(w)); F - F* <= L ||w0 - w*||^2 / (2k) (Beck & Teboulle 2009, Thm 3.1). */
dsc_status slv_ista(slv *s, double *w)
{
    return ista_fista(s, w, 0);
}

/* FISTA: the same step from y_k = x_k + ((t_{k-1} - 1)/t_k)(x_k - x_{k-1}); F - F* <= 2L ||w0 - w*||^2/(k+1)^2
 * (Beck & Teboulle 2009, Thm 4.4). */
dsc_status slv_fista(slv *s, double *w)
{
    return ista_fista(s, w, 1);
}

/* Frank-Wolfe (conditional gradient; Frank & Wolfe 1956, Jaggi 2013): v = argmin_{v in C} <g, v>,
 * w <- w + gamma (v - w), gamma = 2/(k+2): f - f* <= 2 L diam(C)^2 / (k+2). */
dsc_status slv_fw(slv *s, double *w)
{
    cset c;
    double *g = NULL, *v = NULL;
    int64_t n = s->dim;
    dsc_status st = need_smooth(s);
    if (!st)
        st = parse_set(s, 3, &c);
    if (st)
        return st;
    ALLOC(g, n);
    ALLOC(v, n);
    if ((st = project(s, &c, w, w)))
        goto done;
    if (slv_begin(s, w))
        goto done;
    for (int64_t k = 0;; k++) {
        slv_grad(s, w, g);
        /* the linear minimization oracle of each set */
        memset(v, 0, (size_t)n * sizeof *v);
        if (c.kind == 0) {
            double gn = sqrt(slv_dot(n, g, g));
            for (int64_t j = 0; j < n; j++)
                v[j] = gn > 0.0 ? -c.r * g[j] / gn : 0.0;
        } else if (c.kind == 1) {
            for (int64_t j = 0; j < n; j++)
                v[j] = g[j] > 0.0 ? c.lo : c.hi;
        } else {
            int64_t jb = 0;
            for (int64_t j = 1; j < n; j++)
                if (c.kind == 2 ? g[j] < g[jb] : fabs(g[j]) > fabs(g[jb]))
                    jb = j;
            v[jb] = c.kind == 2 ? c.r : (g[jb] > 0.0 ? -c.r : c.r);
        }
        double gam = 2.0 / ((double)k + 2.0);
        for (int64_t j = 0; j < n; j++)
            w[j] += gam * (v[j] - w[j]);
        if (slv_step(s, w))
            break;
    }
done:
    free(g);
    free(v);
    return st;
}

/* Entropic mirror descent / exponentiated gradient on {w >= 0, sum w = r} (Nemirovski & Yudin; Beck &
 * Teboulle 2003): w_j <- w_j exp(-t g_j) / normalization. Starts at the simplex's centre unless w0 lies in it. */
dsc_status slv_mirror(slv *s, double *w)
{
    int64_t n = s->dim;
    double lr, r;
    double *g = NULL;
    dsc_status st = need_smooth(s);
    if (!st)
        st = dsc_kvspec_double(s->spec, "r", 1.0, 1e-300, 1e300, &r);
    if (!st)
        st = slv_lr(s, 1.0 / s->p->L, "L", &lr);
    if (st)
        return st;
    s->res->step = lr;
    ALLOC(g, n);
    double sum = 0.0;
    int inside = 1;
    for (int64_t j = 0; j < n; j++) {
        sum += w[j];
        if (!(w[j] > 0.0))
            inside = 0;
    }
    if (!inside || fabs(sum - r) > 1e-12 * r)
        for (int64_t j = 0; j < n; j++)
            w[j] = r / (double)n;
    if (slv_begin(s, w))
        goto done;
    for (;;) {
        slv_grad(s, w, g);
        double gmin = g[0];
        for (int64_t j = 1; j < n; j++)
            gmin = fmin(gmin, g[j]);
        double z = 0.0;
        for (int64_t j = 0; j < n; j++) {
            w[j] *= exp(-lr * (g[j] - gmin)); /* shifted by gmin: the normalization cancels it */
            z += w[j];
        }
        for (int64_t j = 0; j < n; j++)
            w[j] *= r / z;
        if (slv_step(s, w))
            break;
    }
done:
    free(g);
    return st;
}

/* Randomized coordinate descent (Nesterov 2012): j uniform, w_j <- w_j - t d_j f(w). Here d_j f comes
 * from a full gradient (the lab's problems have no partial-derivative oracle), but a step is counted
 * as n/dim evaluations, the cost of one coordinate with maintained margins, so that dim steps = one
 * pass as in the theory: E f - f* <= (1 - mu/(dim L_coord))^k (f0 - f*). Time is therefore pessimistic. */
dsc_status slv_cd(slv *s, double *w)
{
    double lr;
    double *g = NULL;
    dsc_status st = need_smooth(s);
    if (!st)
        st = slv_lr(s, 1.0 / s->p->L, "L", &lr);
    if (st)
        return st;
    s->res->step = lr;
    ALLOC(g, s->dim);
    if (slv_begin(s, w))
        goto done;
    for (;;) {
        int64_t j = slv_below(s, s->dim);
        dsc_convex_grad(s->p, w, g);
        s->evals += (double)s->n / (double)s->dim;
        w[j] -= lr * g[j];
        if (slv_step(s, w))
            break;
    }
done:
    free(g);
    return st;
}

/* Perturbed gradient descent (Jin, Ge, Netrapalli, Kakade, Jordan 2017, Algorithm 2):
 *   chi = 3 max(log(dim L df / (c eps^2 delta)), 4), eta = c/L, r = sqrt(c) eps / (chi^2 L),
 *   g_thres = sqrt(c) eps / chi^2, t_thres = chi L / (c^2 sqrt(rho eps)).
 * When ||grad|| <= g_thres and no perturbation happened in the last t_thres steps, w gets a uniform
 * point of the ball of radius r added. (The paper's termination test is not applied: the run goes on
 * to the budget.) Finds an eps-second-order stationary point in O(L df / eps^2 log^4(...)) steps. */
dsc_status slv_perturbed(slv *s, double *w)
{
    const dsc_convex_problem *p = s->p;
    int64_t n = s->dim;
    double eps, c, delta, rho, df, lr;
    double *g = NULL;
    dsc_status st = need_smooth(s);
    if (!st)
        st = dsc_kvspec_double(s->spec, "eps", 1e-3, 1e-300, 1e300, &eps);
    if (!st)
        st = dsc_kvspec_double(s->spec, "c", 1.0, 1e-12, 1.0, &c);
    if (!st)
        st = dsc_kvspec_double(s->spec, "delta", 0.1, 1e-300, 1.0, &delta);
    if (!st)
        st = dsc_kvspec_double(s->spec, "rho", p->rho > 0.0 ? p->rho : 1.0, 1e-300, 1e300, &rho);
    if (!st) {
        double f0 = dsc_convex_value(p, w);
        double dfd = isnan(s->o->f_star) ? 1.0 : fmax(f0 - s->o->f_star, 1e-12);
        st = dsc_kvspec_double(s->spec, "df", dfd, 1e-300, 1e300, &df);
    }
    if (!st)
        st = slv_lr(s, c / p->L, "L", &lr);
    if (st)
        return st;
    double L = p->L > 0.0 ? p->L : c / lr;
    double chi = fmax(3.0 * log((double)n * L * df / (c * eps * eps * delta)), 12.0);
    double radius = sqrt(c) * eps / (chi * chi * L);
    double gthr = sqrt(c) * eps / (chi * chi);
    double tthr = chi * L / (c * c * sqrt(rho * eps));
    s->res->step = lr;
    ALLOC(g, n);
    if (slv_begin(s, w))
        goto done;
    double t_noise = -tthr - 1.0;
    for (int64_t t = 0;; t++) {
        slv_grad(s, w, g);
        if (sqrt(slv_dot(n, g, g)) <= gthr && (double)t - t_noise > tthr) {
            /* uniform in the ball: a Gaussian direction scaled by r u^(1/dim) */
            double nn = 0.0;
            for (int64_t j = 0; j < n; j++) {
                g[j] = slv_normal(s);
                nn += g[j] * g[j];
            }
            double sc = radius * pow(slv_unif(s), 1.0 / (double)n) / sqrt(nn);
            for (int64_t j = 0; j < n; j++)
                w[j] += sc * g[j];
            t_noise = (double)t;
            slv_grad(s, w, g);
        }
        slv_axpy(n, -lr, g, w);
        if (slv_step(s, w))
            break;
    }
done:
    free(g);
    return st;
}

/* Steepest descent with respect to a norm (Boyd & Vandenberghe 9.4.2): the unnormalized direction
 * d = ||g||_* argmin_{||v|| <= 1} g'v:
 *   norm=2:   d = -g
 *   norm=1:   d = -||g||_inf sign(g_j) e_j at j = argmax |g_j|   (greedy coordinate descent)
 *   norm=inf: d = -||g||_1 sign(g)                               (sign descent)
 *   norm=p:   d_j = -sign(g_j) |g_j|^(q-1) ||g||_q^(2-q), 1/p + 1/q = 1
 * and step t: lr= if given, else Armijo backtracking (t0 = 2 * last t, c=1e-4, beta=0.5), since the
 * smoothness constant in the dual norm is not known in general. Converges linearly for strongly
 * convex f, at a rate set by the norms' equivalence constants. */
dsc_status slv_sd(slv *s, double *w)
{
    int64_t n = s->dim;
    static const char *const norms[] = {"2", "1", "inf", "p", NULL};
    int nk = 0;
    double p, lr = NAN, c, beta;
    double *g = NULL, *d = NULL, *wn = NULL;
    dsc_status st = need_smooth(s);
    if (!st)
        st = dsc_kvspec_choice(s->spec, "norm", norms, 0, &nk);
    if (!st)
        st = dsc_kvspec_double(s->spec, "p", 3.0, 1.0 + 1e-9, 1e6, &p);
    if (!st)
        st = dsc_kvspec_double(s->spec, "lr", NAN, 1e-300, 1e300, &lr);
    if (!st)
        st = ls_params(s, &c, &beta);
    if (st)
        return st;
    double q = p / (p - 1.0);
    ALLOC(g, n);
    ALLOC(d, n);
    ALLOC(wn, n);
    if (slv_begin(s, w))
        goto done;
    double t = s->p->L > 0.0 ? 1.0 / s->p->L : 1.0;
    for (;;) {
        double f = slv_grad(s, w, g);
        double gmax = 0.0, g1 = 0.0;
        int64_t jm = 0;
        for (int64_t j = 0; j < n; j++) {
            g1 += fabs(g[j]);
            if (fabs(g[j]) > gmax) {
                gmax = fabs(g[j]);
                jm = j;
            }
        }
        if (gmax == 0.0) {
            slv_stall(s);
            break;
        }
        if (nk == 0) {
            for (int64_t j = 0; j < n; j++)
                d[j] = -g[j];
        } else if (nk == 1) {
            memset(d, 0, (size_t)n * sizeof *d);
            d[jm] = g[jm] > 0.0 ? -gmax : gmax;
        } else if (nk == 2) {
            for (int64_t j = 0; j < n; j++)
                d[j] = g[j] > 0.0 ? -g1 : g[j] < 0.0 ? g1 : 0.0;
        } else {
            double sq = 0.0;
            for (int64_t j = 0; j < n; j++)
                sq += pow(fabs(g[j]) / gmax, q);
            double gq = gmax * pow(sq, 1.0 / q); /* ||g||_q, scaled against overflow */
            for (int64_t j = 0; j < n; j++) {
                double m = pow(fabs(g[j]) / gq, q - 1.0) * gq;
                d[j] = g[j] > 0.0 ? -m : g[j] < 0.0 ? m : 0.0;
            }
        }
        if (!isnan(lr)) {
            slv_axpy(n, lr, d, w);
        } else {
            double fn, slope = slv_dot(n, g, d);
            double tt = armijo(s, w, d, f, slope, 2.0 * t, c, beta, wn, &fn);
            if (tt == 0.0) {
                slv_stall(s);
                break;
            }
            t = tt;
            memcpy(w, wn, (size_t)n * sizeof *w);
        }
        if (slv_step(s, w))
            break;
    }
done:
    free(g);
    free(d);
    free(wn);
    return st;
}

/* Cubic-regularized Newton (Nesterov & Polyak 2006) with the adaptive M of ARC (Cartis, Gould & Toint
 * 2011): s = argmin_s g's + s'Hs/2 + (M/6)||s||^3, found in the eigenbasis of H (H = V diag(l) V'):
 * s = -V diag(1/(l + M r/2)) V'g with r = ||s||, r >= max(0, -2 l_min/M), by bisection on the
 * decreasing function ||s(r)|| - r (the "hard case" g orthogonal to the bottom eigenvector is not
 * treated). The step is accepted when F(w + s) <= F(w) + model(s) * 0.1 (model(s) < 0), then M is
 * halved; otherwise M is doubled. M starts at the problem's rho (Hessian Lipschitz constant) or 1.
 * Global rate O(1/eps^{3/2}) to eps-second-order points; quadratic local convergence. */
dsc_status slv_cubic(slv *s, double *w)
{
    int64_t n = s->dim;
    double M;
    double *g = NULL, *H = NULL, *V = NULL, *lam = NULL, *gh = NULL, *sv = NULL, *wn = NULL;
    dsc_status st = need_smooth(s);
    if (!st)
        st = dsc_kvspec_double(s->spec, "M", s->p->rho > 0.0 ? s->p->rho : 1.0, 1e-300, 1e300, &M);
    if (st)
        return st;
    if (n > 1000)
        return DSC_ERROR(DSC_ERR_UNSUPPORTED, "cubic: dim %lld > 1000 (the subproblem uses a dense eigendecomposition)",
                         (long long)n);
    ALLOC(g, n);
    ALLOC(H, n * n);
    ALLOC(V, n * n);
    ALLOC(lam, n);
    ALLOC(gh, n);
    ALLOC(sv, n);
    ALLOC(wn, n);
    if (slv_begin(s, w))
        goto done;
    double Mmin = 1e-12 * M;
    for (;;) {
        double f = slv_grad(s, w, g);
        if (slv_dot(n, g, g) == 0.0) {
            slv_stall(s);
            break;
        }
        s->evals += (double)s->n;
        if ((st = dsc_convex_hessian(s->p, w, H)))
            goto done;
        if ((st = dsc_sym_eig(n, H, lam, V)))
            goto done;
        /* gh = V'g (eigenvectors are the columns of V) */
        for (int64_t i = 0; i < n; i++) {
            double a = 0.0;
            for (int64_t j = 0; j < n; j++)
                a += V[j * n + i] * g[j];
            gh[i] = a;
        }
        int accepted = 0;
        for (int tries = 0; tries < 60 && !accepted; tries++) {
            double lo = fmax(0.0, -2.0 * lam[0] / M) * (1.0 + 1e-12) + 1e-300, hi = lo + 1.0;
            /* r solves ||s(r)|| = r, s_i = -gh_i / (lam_i + M r / 2): bracket, then bisect */
            double r = lo;
            {
                double nh;
                for (int k = 0; k < 200; k++) {
                    double acc = 0.0;
                    for (int64_t i = 0; i < n; i++) {
                        double qv = gh[i] / (lam[i] + 0.5 * M * hi);
                        acc += qv * qv;
                    }
                    nh = sqrt(acc);
                    if (nh <= hi)
                        break;
                    hi *= 2.0;
                }
                for (int k = 0; k < 200; k++) {
                    r = 0.5 * (lo + hi);
                    double acc = 0.0;
                    for (int64_t i = 0; i < n; i++) {
                        double qv = gh[i] / (lam[i] + 0.5 * M * r);
                        acc += qv * qv;
                    }
                    if (sqrt(acc) > r)
                        lo = r;
                    else
                        hi = r;
                    if (hi - lo <= 1e-15 * hi)
                        break;
                }
                r = hi;
            }
            /* s = V (-gh / (lam + M r/2)); model value m(s) = g's + s'Hs/2 + M r^3/6 */
            double model = M * r * r * r / 6.0;
            for (int64_t i = 0; i < n; i++) {
                double sh = -gh[i] / (lam[i] + 0.5 * M * r);
                model += gh[i] * sh + 0.5 * lam[i] * sh * sh;
            }
            for (int64_t j = 0; j < n; j++) {
                double a = 0.0;
                for (int64_t i = 0; i < n; i++)
                    a += V[j * n + i] * (-gh[i] / (lam[i] + 0.5 * M * r));
                sv[j] = a;
                wn[j] = w[j] + a;
            }
            double fn = slv_value(s, wn);
            if (isfinite(fn) && fn <= f + 0.1 * model && model < 0.0) {
                memcpy(w, wn, (size_t)n * sizeof *w);
                M = fmax(0.5 * M, Mmin);
                accepted = 1;
            } else if (!(model < 0.0)) {
                break; /* no decrease predicted: stationary to machine precision */
            } else {
                M *= 2.0;
            }
        }
        if (!accepted) {
            slv_stall(s);
            break;
        }
        if (slv_step(s, w))
            break;
    }
done:
    free(g);
    free(H);
    free(V);
    free(lam);
    free(gh);
    free(sv);
    free(wn);
    return st;
}
