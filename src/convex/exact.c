/* The exact optimum of a convex-lab problem, to about 1e-12 relative in F:
 *   - smooth problems, dim <= max_newton_dim: Newton's method with the dense Hessian (Cholesky;
 *     a Levenberg shift when the factorization fails) and Armijo backtracking; least squares and
 *     the quadratic are the same iteration, which converges in one step from any point (a
 *     singular least-squares Hessian falls back to conjugate gradients from 0, which converges to
 *     the minimum-norm solution);
 *   - smooth problems with larger dim: L-BFGS (memory 20) with Armijo backtracking;
 *   - L1 problems, dim <= max_newton_dim: proximal Newton (Lee, Sun & Saunders 2014): the
 *     quadratic model plus l1 is minimized by cyclic coordinate descent to machine precision,
 *     then a backtracking line search on F; for the lasso the model is exact, so this is
 *     coordinate descent on the Gram matrix;
 *   - L1 problems with larger dim: FISTA with gradient restart (O'Donoghue & Candes 2015) to gtol.
 * Each stops when the gradient-mapping norm (t = 1/L) <= gtol, or when F stops decreasing after
 * the norm is already small (the floating-point floor). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convex/convex_internal.h"

void dsc_convex_exact_opts_init(dsc_convex_exact_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->method = DSC_EXACT_AUTO;
    o->max_iter = 0;
    o->gtol = 1e-11;
    o->max_newton_dim = 2000;
}

static double gmap(const dsc_convex_problem *p, const double *w)
{
    return dsc_convex_grad_mapping_norm(p, w, 0.0);
}

/* CG on H x = b (x starts at 0): for the least-squares fallback. */
static void cg_solve(const dsc_convex_problem *p, const double *w0, const double *b, double *x, int iters, double tol)
{
    int64_t n = p->dim;
    double *r = malloc((size_t)(3 * n) * sizeof(double));
    if (!r)
        return;
    double *d = r + n, *Hd = r + 2 * n;
    memset(x, 0, (size_t)n * sizeof(double));
    memcpy(r, b, (size_t)n * sizeof(double));
    memcpy(d, b, (size_t)n * sizeof(double));
    double rr = cvx_dot(n, r, r), r0 = sqrt(rr);
    for (int it = 0; it < iters && sqrt(rr) > tol * r0 && rr > 0; it++) {
        dsc_convex_hvp(p, w0, d, Hd);
        double dHd = cvx_dot(n, d, Hd);
        if (!(dHd > 0))
            break;
        double a = rr / dHd;
        for (int64_t j = 0; j < n; j++) {
            x[j] += a * d[j];
            r[j] -= a * Hd[j];
        }
        double rr2 = cvx_dot(n, r, r);
        for (int64_t j = 0; j < n; j++)
            d[j] = r[j] + rr2 / rr * d[j];
        rr = rr2;
    }
    free(r);
}

static dsc_status newton(const dsc_convex_problem *p, const dsc_convex_exact_opts *o, double *w, dsc_convex_exact_info *info)
{
    int64_t n = p->dim;
    double *H = malloc((size_t)(n * n) * sizeof(double));
    double *g = malloc((size_t)(3 * n) * sizeof(double));
    if (!H || !g) {
        free(H);
        free(g);
        return DSC_ERROR(DSC_ERR_NOMEM, "convex exact: Newton workspace for dim %lld", (long long)n);
    }
    double *dir = g + n, *wt = g + 2 * n;
    int maxit = o->max_iter > 0 ? o->max_iter : 200;
    double f = dsc_convex_grad(p, w, g);
    int it, small = 0;
    dsc_status st = DSC_OK;
    for (it = 0; it < maxit; it++) {
        double gn = cvx_nrm2(n, g);
        if (o->verbose)
            fprintf(stderr, "newton %3d  f=%.17g  |grad|=%.3e\n", it, f, gn);
        if (gn <= o->gtol) {
            /* one polishing step at the floor, then stop */
            if (++small > 1)
                break;
        }
        st = dsc_convex_hessian(p, w, H);
        if (st != DSC_OK)
            break;
        /* Cholesky with a Levenberg shift if needed (rank-deficient least squares, flat logistic
         * directions): H + tau I. */
        double tau = 0.0, hmax = 0.0;
        for (int64_t j = 0; j < n; j++)
            hmax = fmax(hmax, fabs(H[j * n + j]));
        double *Hc = NULL;
        for (;;) {
            Hc = malloc((size_t)(n * n) * sizeof(double));
            if (!Hc) {
                st = DSC_ERROR(DSC_ERR_NOMEM, "convex exact: Hessian copy");
                break;
            }
            memcpy(Hc, H, (size_t)(n * n) * sizeof(double));
            for (int64_t j = 0; j < n; j++)
                Hc[j * n + j] += tau;
            dsc_clear_error();
            if (dsc_cholesky(n, Hc) == DSC_OK)
                break;
            free(Hc);
            Hc = NULL;
            tau = tau == 0.0 ? 1e-12 * (hmax > 0 ? hmax : 1.0) : tau * 10.0;
            if (tau > 1e6 * (hmax > 0 ? hmax : 1.0)) {
                st = DSC_ERROR(DSC_ERR_NUMERIC, "convex exact %s: Hessian is not positive definite", p->name);
                break;
            }
        }
        dsc_clear_error();
        if (st != DSC_OK)
            break;
        if (tau > 0 && p->kind <= DSC_CVX_RIDGE && p->impl->loss == LOSS_SQUARE) {
            /* singular least squares: CG on H x = -g from 0 gives the minimum-norm step */
            free(Hc);
            for (int64_t j = 0; j < n; j++)
                wt[j] = -g[j];
            cg_solve(p, w, wt, dir, (int)(10 * n + 100), 1e-15);
        } else {
            for (int64_t j = 0; j < n; j++)
                dir[j] = -g[j];
            dsc_cholesky_solve(n, Hc, dir);
            free(Hc);
        }
        double slope = cvx_dot(n, g, dir);
        if (!(slope < 0)) {
            if (gn <= 100 * o->gtol || slope == 0.0)
                break;
            for (int64_t j = 0; j < n; j++)
                dir[j] = -g[j];
            slope = -gn * gn;
        }
        double t = 1.0, fn = f;
        int accepted = 0;
        for (int ls = 0; ls < 60; ls++) {
            for (int64_t j = 0; j < n; j++)
                wt[j] = w[j] + t * dir[j];
            fn = dsc_convex_grad(p, wt, NULL);
            if (fn < f && fn <= f + 1e-4 * t * slope) {
                accepted = 1;
                break;
            }
            /* near the optimum F is flat to rounding: accept the full step if it does not increase
             * F beyond the rounding of F and the gradient gets smaller */
            if (t == 1.0 && fn <= f + 1e-15 * fabs(f) + 1e-300) {
                double *g2 = malloc((size_t)n * sizeof(double));
                if (g2) {
                    dsc_convex_grad(p, wt, g2);
                    int better = cvx_nrm2(n, g2) < gn;
                    free(g2);
                    if (better) {
                        accepted = 1;
                        break;
                    }
                }
            }
            t *= 0.5;
        }
        if (!accepted)
            break; /* at the floating-point floor */
        memcpy(w, wt, (size_t)n * sizeof(double));
        f = dsc_convex_grad(p, w, g);
    }
    free(H);
    free(g);
    if (info) {
        info->method = DSC_EXACT_NEWTON;
        info->iters = it;
    }
    return st;
}

/* L-BFGS (Nocedal & Wright, Alg. 7.4) with Armijo backtracking from the unit step. */
#define LBFGS_M 20
static dsc_status lbfgs(const dsc_convex_problem *p, const dsc_convex_exact_opts *o, double *w, dsc_convex_exact_info *info)
{
    int64_t n = p->dim;
    double *mem = malloc((size_t)((2 * LBFGS_M + 4) * n) * sizeof(double));
    if (!mem)
        return DSC_ERROR(DSC_ERR_NOMEM, "convex exact: L-BFGS workspace for dim %lld", (long long)n);
    double *S = mem, *Y = mem + LBFGS_M * n, *g = mem + 2 * LBFGS_M * n, *d = g + n, *wt = d + n, *gt = wt + n;
    double rho[LBFGS_M], alpha[LBFGS_M];
    int count = 0, head = 0;
    int maxit = o->max_iter > 0 ? o->max_iter : 100000;
    double f = dsc_convex_grad(p, w, g);
    int it, stall = 0;
    for (it = 0; it < maxit; it++) {
        double gn = cvx_nrm2(n, g);
        if (o->verbose && it % 50 == 0)
            fprintf(stderr, "lbfgs %5d  f=%.17g  |grad|=%.3e\n", it, f, gn);
        if (gn <= o->gtol)
            break;
        memcpy(d, g, (size_t)n * sizeof(double));
        for (int k = 0; k < count; k++) {
            int s = (head - 1 - k + LBFGS_M) % LBFGS_M;
            alpha[s] = rho[s] * cvx_dot(n, S + s * n, d);
            for (int64_t j = 0; j < n; j++)
                d[j] -= alpha[s] * Y[s * n + j];
        }
        double gamma = 1.0 / (p->L > 0 ? p->L : 1.0);
        if (count > 0) {
            int s = (head - 1 + LBFGS_M) % LBFGS_M;
            gamma = cvx_dot(n, S + s * n, Y + s * n) / cvx_dot(n, Y + s * n, Y + s * n);
        }
        for (int64_t j = 0; j < n; j++)
            d[j] *= gamma;
        for (int k = count - 1; k >= 0; k--) {
            int s = (head - 1 - k + LBFGS_M) % LBFGS_M;
            double beta = rho[s] * cvx_dot(n, Y + s * n, d);
            for (int64_t j = 0; j < n; j++)
                d[j] += (alpha[s] - beta) * S[s * n + j];
        }
        for (int64_t j = 0; j < n; j++)
            d[j] = -d[j];
        double slope = cvx_dot(n, g, d);
        if (!(slope < 0)) {
            for (int64_t j = 0; j < n; j++)
                d[j] = -g[j] * gamma;
            slope = -gamma * gn * gn;
            count = 0;
        }
        double t = 1.0, ft = f;
        int ok = 0;
        for (int ls = 0; ls < 60; ls++) {
            for (int64_t j = 0; j < n; j++)
                wt[j] = w[j] + t * d[j];
            ft = dsc_convex_grad(p, wt, gt);
            /* Armijo with a real decrease; at the floating-point floor, where F changes less than
             * its rounding, a step that keeps F and shrinks the gradient */
            if ((ft < f && ft <= f + 1e-4 * t * slope) ||
                (fabs(ft - f) <= 8e-16 * fabs(f) && cvx_nrm2(n, gt) < gn)) {
                ok = 1;
                break;
            }
            t *= 0.5;
        }
        if (!ok) {
            if (++stall > 2)
                break;
            count = 0;
            continue;
        }
        stall = 0;
        double sy = 0.0;
        for (int64_t j = 0; j < n; j++) {
            S[head * n + j] = wt[j] - w[j];
            Y[head * n + j] = gt[j] - g[j];
        }
        sy = cvx_dot(n, S + head * n, Y + head * n);
        if (sy > 1e-300) {
            rho[head] = 1.0 / sy;
            head = (head + 1) % LBFGS_M;
            if (count < LBFGS_M)
                count++;
        }
        memcpy(w, wt, (size_t)n * sizeof(double));
        memcpy(g, gt, (size_t)n * sizeof(double));
        f = ft;
    }
    free(mem);
    if (info) {
        info->method = DSC_EXACT_LBFGS;
        info->iters = it;
    }
    return DSC_OK;
}

static int is_reg(const dsc_convex_problem *p, int64_t j)
{
    return !p->linear || j < p->d * p->K;
}

/* Proximal Newton with a coordinate-descent inner solver on the dense Hessian. */
static dsc_status prox_newton(const dsc_convex_problem *p, const dsc_convex_exact_opts *o, double *w,
                              dsc_convex_exact_info *info)
{
    int64_t n = p->dim;
    double *H = malloc((size_t)(n * n) * sizeof(double));
    double *g = malloc((size_t)(4 * n) * sizeof(double));
    if (!H || !g) {
        free(H);
        free(g);
        return DSC_ERROR(DSC_ERR_NOMEM, "convex exact: proximal Newton workspace for dim %lld", (long long)n);
    }
    double *u = g + n, *r = g + 2 * n, *wt = g + 3 * n;
    int maxit = o->max_iter > 0 ? o->max_iter : 200;
    double l1 = p->l1;
    double f = dsc_convex_grad(p, w, g), F = f + dsc_convex_reg_value(p, w);
    int it, small = 0;
    dsc_status st = DSC_OK;
    for (it = 0; it < maxit; it++) {
        double gm = gmap(p, w);
        if (o->verbose)
            fprintf(stderr, "prox-newton %3d  F=%.17g  |G|=%.3e\n", it, F, gm);
        if (gm <= o->gtol && ++small > 1)
            break;
        st = dsc_convex_hessian(p, w, H);
        if (st != DSC_OK)
            break;
        double hmax = 0.0;
        for (int64_t j = 0; j < n; j++)
            hmax = fmax(hmax, H[j * n + j]);
        /* minimize g^T (u - w) + (1/2)(u - w)^T H (u - w) + l1 ||u_reg||_1 by cyclic CD;
         * r = g + H (u - w) is the model's gradient at u */
        memcpy(u, w, (size_t)n * sizeof(double));
        memcpy(r, g, (size_t)n * sizeof(double));
        for (int sweep = 0; sweep < 100000; sweep++) {
            double maxchg = 0.0, maxu = 0.0;
            for (int64_t j = 0; j < n; j++) {
                double hjj = H[j * n + j] + 1e-14 * hmax + 1e-300;
                double uj = u[j], z = uj - r[j] / hjj, nu;
                if (is_reg(p, j)) {
                    double thr = l1 / hjj;
                    nu = z > thr ? z - thr : (z < -thr ? z + thr : 0.0);
                } else {
                    nu = z;
                }
                double dlt = nu - uj;
                if (dlt != 0.0) {
                    u[j] = nu;
                    const double *hj = H + j * n; /* symmetric: column j = row j */
                    for (int64_t k = 0; k < n; k++)
                        r[k] += dlt * hj[k];
                    maxchg = fmax(maxchg, fabs(dlt) * sqrt(hjj));
                }
                maxu = fmax(maxu, fabs(nu) * sqrt(hjj));
            }
            if (maxchg <= 1e-16 * (maxu > 0 ? maxu : 1.0) || maxchg == 0.0)
                break;
        }
        /* direction and line search: F(w + t D) <= F(w) + sigma t (g^T D + h(w + D) - h(w)) */
        double hw = dsc_convex_reg_value(p, w), hu = dsc_convex_reg_value(p, u);
        double dec = hu - hw;
        for (int64_t j = 0; j < n; j++)
            dec += g[j] * (u[j] - w[j]);
        double t = 1.0, Ft = F;
        int ok = 0;
        for (int ls = 0; ls < 60; ls++) {
            for (int64_t j = 0; j < n; j++)
                wt[j] = w[j] + t * (u[j] - w[j]);
            Ft = dsc_convex_grad(p, wt, NULL) + dsc_convex_reg_value(p, wt);
            if ((Ft < F && Ft <= F + 1e-4 * t * dec) || (t == 1.0 && Ft <= F + 1e-15 * fabs(F) && gmap(p, wt) < gm)) {
                ok = 1;
                break;
            }
            t *= 0.5;
        }
        if (!ok)
            break;
        memcpy(w, wt, (size_t)n * sizeof(double));
        f = dsc_convex_grad(p, w, g);
        F = f + dsc_convex_reg_value(p, w);
    }
    free(H);
    free(g);
    if (info) {
        info->method = DSC_EXACT_PROX_NEWTON;
        info->iters = it;
    }
    return st;
}

/* FISTA with gradient-based restart, step 1/L (backtracking if L is unknown). */
static dsc_status fista(const dsc_convex_problem *p, const dsc_convex_exact_opts *o, double *w, dsc_convex_exact_info *info)
{
    int64_t n = p->dim;
    double *mem = malloc((size_t)(4 * n) * sizeof(double));
    if (!mem)
        return DSC_ERROR(DSC_ERR_NOMEM, "convex exact: FISTA workspace for dim %lld", (long long)n);
    double *y = mem, *g = mem + n, *wn = mem + 2 * n, *wp = mem + 3 * n;
    double L = p->L > 0 ? p->L : 1.0, tk = 1.0;
    int maxit = o->max_iter > 0 ? o->max_iter : 1000000;
    memcpy(y, w, (size_t)n * sizeof(double));
    int it;
    for (it = 0; it < maxit; it++) {
        double fy = dsc_convex_grad(p, y, g);
        for (;;) {
            for (int64_t j = 0; j < n; j++)
                wn[j] = y[j] - g[j] / L;
            dsc_convex_prox(p, 1.0 / L, wn, wn);
            double q = fy, fn = dsc_convex_grad(p, wn, NULL);
            for (int64_t j = 0; j < n; j++) {
                double dl = wn[j] - y[j];
                q += g[j] * dl + 0.5 * L * dl * dl;
            }
            if (fn <= q + 1e-12 * fabs(q) || L > 1e300)
                break;
            L *= 2.0;
        }
        /* restart when the momentum points uphill: (y - w_new)^T (w_new - w) > 0 */
        double dotr = 0.0;
        for (int64_t j = 0; j < n; j++)
            dotr += (y[j] - wn[j]) * (wn[j] - w[j]);
        memcpy(wp, w, (size_t)n * sizeof(double));
        memcpy(w, wn, (size_t)n * sizeof(double));
        double tn = 0.5 * (1.0 + sqrt(1.0 + 4.0 * tk * tk));
        if (dotr > 0) {
            tn = 1.0;
            memcpy(y, w, (size_t)n * sizeof(double));
        } else {
            for (int64_t j = 0; j < n; j++)
                y[j] = w[j] + (tk - 1.0) / tn * (w[j] - wp[j]);
        }
        tk = tn;
        if (it % 20 == 0) {
            double gm = gmap(p, w);
            if (o->verbose && it % 1000 == 0)
                fprintf(stderr, "fista %7d  F=%.17g  |G|=%.3e\n", it, dsc_convex_value(p, w), gm);
            if (gm <= o->gtol)
                break;
        }
    }
    free(mem);
    if (info) {
        info->method = DSC_EXACT_FISTA;
        info->iters = it;
    }
    return DSC_OK;
}

dsc_status dsc_convex_solve_exact_opts(const dsc_convex_problem *p, const dsc_convex_exact_opts *opts, double *w_star,
                                       double *f_star, dsc_convex_exact_info *info)
{
    dsc_convex_exact_opts o;
    if (opts)
        o = *opts;
    else
        dsc_convex_exact_opts_init(&o);
    if (!(o.gtol > 0))
        o.gtol = 1e-11;
    if (o.max_newton_dim <= 0)
        o.max_newton_dim = 2000;
    dsc_convex_exact_info inf;
    memset(&inf, 0, sizeof(inf));
    if (p->has_known_optimum && (!p->convex || p->kind == DSC_CVX_QUADRATIC) && o.method == DSC_EXACT_AUTO) {
        DSC_TRY(dsc_convex_known_optimum(p, w_star, NULL));
        inf.method = DSC_EXACT_CLOSED;
    } else if (!p->convex) {
        return DSC_ERROR(DSC_ERR_UNSUPPORTED, "convex exact: %s is nonconvex and has no known optimum", p->name);
    } else {
        memset(w_star, 0, (size_t)p->dim * sizeof(double));
        dsc_convex_exact_method m = o.method;
        if (m == DSC_EXACT_AUTO || m == DSC_EXACT_CLOSED) {
            if (!p->smooth)
                m = p->dim <= o.max_newton_dim ? DSC_EXACT_PROX_NEWTON : DSC_EXACT_FISTA;
            else
                m = p->dim <= o.max_newton_dim ? DSC_EXACT_NEWTON : DSC_EXACT_LBFGS;
        }
        if (!p->smooth && (m == DSC_EXACT_NEWTON || m == DSC_EXACT_LBFGS))
            return DSC_ERROR(DSC_ERR_INVALID, "convex exact: %s has an l1 term; use prox-newton or fista", p->name);
        dsc_status st;
        switch (m) {
        case DSC_EXACT_NEWTON: st = newton(p, &o, w_star, &inf); break;
        case DSC_EXACT_LBFGS: st = lbfgs(p, &o, w_star, &inf); break;
        case DSC_EXACT_PROX_NEWTON: st = prox_newton(p, &o, w_star, &inf); break;
        default: st = fista(p, &o, w_star, &inf); break;
        }
        if (st != DSC_OK)
            return st;
        if (p->kind == DSC_CVX_SOFTMAX) {
            /* Softmax scores are invariant to adding the same value to every class: the
             * unregularized entries (the intercepts; all of W when l2 = 0) are determined only up
             * to that shift. Report the minimum-norm optimum: those groups centred to mean 0. */
            int64_t K = p->K, rows = p->l2 == 0.0 ? p->d + (p->intercept ? 1 : 0) : 0, r0 = 0;
            if (p->l2 != 0.0 && p->intercept) {
                r0 = p->d;
                rows = p->d + 1;
            }
            for (int64_t j = r0; j < rows; j++) {
                double mean = 0.0;
                for (int64_t k = 0; k < K; k++)
                    mean += w_star[j * K + k];
                mean /= (double)K;
                for (int64_t k = 0; k < K; k++)
                    w_star[j * K + k] -= mean;
            }
        }
    }
    inf.grad_norm = gmap(p, w_star);
    inf.f_star = dsc_convex_value(p, w_star);
    if (info)
        *info = inf;
    if (f_star)
        *f_star = inf.f_star;
    if (!isfinite(inf.f_star))
        return DSC_ERROR(DSC_ERR_NUMERIC, "convex exact %s: F(w*) is not finite", p->name);
    if (p->convex && inf.grad_norm > 100.0 * o.gtol * (1.0 + fabs(inf.f_star)) && inf.grad_norm > 1e-8)
        return DSC_ERROR(DSC_ERR_NUMERIC, "convex exact %s: gradient-mapping norm %.3e after %d iterations (gtol %.1e)",
                         p->name, inf.grad_norm, inf.iters, o.gtol);
    return DSC_OK;
}

dsc_status dsc_convex_solve_exact(const dsc_convex_problem *p, double *w_star, double *f_star)
{
    return dsc_convex_solve_exact_opts(p, NULL, w_star, f_star, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Cache next to a run */

dsc_status dsc_convex_optimum_write(const char *dir, const dsc_convex_problem *p, const double *w_star, double f_star)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/w_star.npy", dir);
    DSC_TRY(dsc_npy_write(path, w_star, DSC_DATA_F64, p->dim, 0));
    snprintf(path, sizeof(path), "%s/f_star.txt", dir);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return DSC_ERROR(DSC_ERR_IO, "convex: cannot write %s: %s", path, strerror(errno));
    fprintf(fp, "f_star %.17g\nfingerprint %016llx\ndim %lld\nspec %s\n", f_star, (unsigned long long)p->fingerprint,
            (long long)p->dim, p->spec);
    if (fclose(fp) != 0)
        return DSC_ERROR(DSC_ERR_IO, "convex: cannot write %s", path);
    return DSC_OK;
}

dsc_status dsc_convex_optimum_read(const char *dir, const dsc_convex_problem *p, double *w_star, double *f_star)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/f_star.txt", dir);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return DSC_ERROR(DSC_ERR_IO, "convex: no cached optimum %s", path);
    double f = NAN;
    unsigned long long fpv = 0;
    long long dim = -1;
    int ok = fscanf(fp, "f_star %lf fingerprint %llx dim %lld", &f, &fpv, &dim) == 3;
    fclose(fp);
    if (!ok)
        return DSC_ERROR(DSC_ERR_FORMAT, "convex: %s is malformed", path);
    if ((uint64_t)fpv != p->fingerprint || dim != p->dim)
        return DSC_ERROR(DSC_ERR_STATE, "convex: cached optimum %s is for another problem or data (fingerprint %016llx, dim %lld; this: %016llx, %lld)",
                         path, fpv, dim, (unsigned long long)p->fingerprint, (long long)p->dim);
    snprintf(path, sizeof(path), "%s/w_star.npy", dir);
    dsc_array a;
    memset(&a, 0, sizeof(a));
    DSC_TRY(dsc_npy_read_file(path, DSC_DATA_F64, 0, &a));
    if (a.numel != p->dim) {
        dsc_array_free(&a);
        return DSC_ERROR(DSC_ERR_STATE, "convex: %s has %lld values, the problem has dim %lld", path,
                         (long long)a.numel, (long long)p->dim);
    }
    memcpy(w_star, a.data, (size_t)p->dim * sizeof(double));
    dsc_array_free(&a);
    if (f_star)
        *f_star = f;
    return DSC_OK;
}
