/* Stochastic and variance-reduced solvers of the convex lab: SGD (schedules, mini-batches with and
 * without replacement, iterate averaging), SAG, SAGA, SVRG, SARAH, SPIDER, STORM and zeroth-order SGD.
 * Each per-example gradient counts one evaluation. On problems with an l1 term every step is followed
 * by the proximal operator prox_{lr h} (the proximal variants of the methods). Formulas, sources and
 * rates: docs/ALGORITHMS.md; the SAG details follow the catalog of seeds 001/004 (sec. 1.7). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "convex/solver_internal.h"

static double lmax(const dsc_convex_problem *p)
{
    return p->L_max > 0.0 ? p->L_max : p->L;
}

static void prox(slv *s, double lr, double *w)
{
    if (!s->p->smooth)
        dsc_convex_prox(s->p, lr, w, w);
}

/* A full per-example table is n x dim doubles; refuse beyond 4 GiB. */
static dsc_status table_fits(slv *s, int64_t per)
{
    if ((double)s->n * (double)per * 8.0 > 4.0 * 1024 * 1024 * 1024)
        return DSC_ERROR(DSC_ERR_NOMEM, "%s: a table of %lld x %lld doubles exceeds 4 GiB (use storage=glm on a "
                                        "linear model, or svrg)", s->name, (long long)s->n, (long long)per);
    return DSC_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* The next example, drawn one step ahead by the linear-model fast paths: from SAG's non-uniform sampler
 * or uniform; its row (and its entry of tab, if any) prefetched so that the memory latency of a random
 * row overlaps the current step. */
static int64_t draw_ahead(slv *s, const dsc_sum_tree *tree, const double *tab)
{
    int64_t i = tree ? dsc_sum_tree_sample(tree, slv_unif(s)) : slv_below(s, s->n);
    dsc_convex_row_prefetch(s->p, i);
#if defined(__GNUC__)
    if (tab)
        __builtin_prefetch(tab + i);
#else
    (void)tab;
#endif
    return i;
}

/* SGD: w <- w - a_k g_B(w), g_B the mean gradient of a batch B (Robbins & Monro 1951).
 *   const:  a_k = lr (default 1/(2 L_max)): E f - f* decreases linearly to a noise floor O(lr sigma^2 / mu)
 *   sqrt:   a_k = lr / sqrt(k+1): O(log k / sqrt k) for convex f
 *   strong: a_k = (2k+1) / (2 mu (k+1)^2) (Gower et al. 2019 with the catalog's convention): O(1/k) */
dsc_status slv_sgd(slv *s, double *w)
{
    const dsc_convex_problem *p = s->p;
    static const char *const scheds[] = {"const", "sqrt", "strong", NULL};
    int sched = 0, replace = 1, avg = 0;
    int64_t b;
    double lr = NAN, mu, max_lr;
    double *g = NULL, *wa = NULL;
    int64_t *idx = NULL, *perm = NULL;
    dsc_status st = dsc_kvspec_choice(s->spec, "schedule", scheds, 0, &sched);
    if (!st)
        st = dsc_kvspec_int(s->spec, "batch", 1, 1, s->n, &b);
    if (!st)
        st = dsc_kvspec_bool(s->spec, "replace", 1, &replace);
    if (!st)
        st = dsc_kvspec_bool(s->spec, "avg", 0, &avg);
    if (!st)
        st = dsc_kvspec_double(s->spec, "mu", p->mu, 0.0, 1e300, &mu);
    if (!st)
        st = dsc_kvspec_double(s->spec, "max_lr", 0.0, 0.0, 1e300, &max_lr);
    if (!st && sched != 2)
        st = slv_lr(s, 1.0 / (2.0 * lmax(p)), "L_max", &lr);
    if (st)
        return st;
    if (sched == 2 && !(mu > 0.0))
        return DSC_ERROR(DSC_ERR_UNSUPPORTED, "sgd: schedule=strong needs mu > 0 (give mu=)");
    s->res->step = sched == 2 ? 1.0 / (2.0 * mu) : lr;
    ALLOC(g, s->dim);
    ALLOC(idx, b);
    if (avg) {
        ALLOC(wa, s->dim);
        memcpy(wa, w, (size_t)s->dim * sizeof *wa);
        s->report_w = wa;
    }
    if (!replace)
        ALLOC(perm, s->n);
    int64_t pos = s->n; /* position in the current shuffled epoch */
    int64_t ep = 0;
    /* Fast path for single-example steps on smooth one-output linear models: the step
     * w <- (1 - a l2) w - a phi_i'(z_i) x~_i in O(nnz) with w = c v on CSR data (as in glm_fast), one
     * fused loop on dense rows. Same iterates as the generic path up to rounding. */
    int fast = b == 1 && !avg && p->linear && p->K == 1 && p->smooth;
    double cs = 1.0; /* the scale of w = cs v on CSR data */
    if (slv_begin(s, w))
        goto done;
    int64_t inext = fast && replace ? draw_ahead(s, NULL, NULL) : 0;
    for (int64_t k = 0;; k++) {
        if (fast && replace) {
            idx[0] = inext;
            inext = draw_ahead(s, NULL, NULL);
        } else if (replace) {
            for (int64_t q = 0; q < b; q++)
                idx[q] = slv_below(s, s->n);
        } else {
            if (pos + b > s->n) { /* reshuffle; the remainder of the epoch is dropped */
                dsc_rng r = dsc_rng_fork(&s->rng, (uint64_t)ep++);
                dsc_rng_permutation(&r, perm, s->n);
                pos = 0;
            }
            memcpy(idx, perm + pos, (size_t)b * sizeof *idx);
            pos += b;
            if (fast && pos < s->n)
                dsc_convex_row_prefetch(p, perm[pos]);
        }
        double a;
        if (sched == 0)
            a = lr;
        else if (sched == 1)
            a = lr / sqrt((double)k + 1.0);
        else
            a = (2.0 * (double)k + 1.0) / (2.0 * mu * ((double)k + 1.0) * ((double)k + 1.0));
        if (max_lr > 0.0 && a > max_lr)
            a = max_lr;
        if (fast) {
            int64_t i = idx[0], d = p->d;
            const int32_t *ci;
            const double *x;
            int64_t nnz = dsc_convex_row(p, i, &ci, &x);
            s->evals += 1.0;
            double z = 0.0;
            if (!ci) {
                for (int64_t j = 0; j < d; j++)
                    z += x[j] * w[j];
            } else {
                for (int64_t q = 0; q < nnz; q++)
                    z += x[q] * w[ci[q]];
                z *= cs;
            }
            if (p->intercept)
                z += w[d];
            double dz = dsc_convex_dloss1(p, i, z);
            double sh = 1.0 - a * p->l2;
            if (!ci) {
                for (int64_t j = 0; j < d; j++)
                    w[j] = sh * w[j] - a * dz * x[j];
            } else {
                cs *= sh;
                double qv = a * dz / cs;
                for (int64_t q = 0; q < nnz; q++)
                    w[ci[q]] -= qv * x[q];
            }
            if (p->intercept)
                w[d] -= a * dz;
            if (ci && (cs < 1e-100 || slv_will_record(s))) {
                for (int64_t j = 0; j < d; j++)
                    w[j] *= cs;
                cs = 1.0;
            }
            if (slv_step(s, w))
                break;
            continue;
        }
        if (b == 1)
            slv_egrad(s, idx[0], w, g);
        else
            slv_bgrad(s, idx, b, w, g);
        slv_axpy(s->dim, -a, g, w);
        prox(s, a, w);
        if (avg) { /* running mean of x_1..x_{k+1} */
            double c = 1.0 / ((double)k + 1.0);
            for (int64_t j = 0; j < s->dim; j++)
                wa[j] += c * (w[j] - wa[j]);
        }
        if (slv_step(s, w))
            break;
    }
done:
    free(g);
    free(idx);
    free(perm);
    if (st || !avg) {
        free(wa);
        s->report_w = NULL;
    } else {
        /* the caller copies report_w into w before returning; keep it alive until then */
        memcpy(w, wa, (size_t)s->dim * sizeof *w);
        free(wa);
        s->report_w = NULL;
    }
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* The table of stored gradients shared by SAG and SAGA.
 *   glm:  for linear models, grad f_i = x~_i (outer) phi_i'(z_i) + l2 w_reg: the table keeps the K scalars
 *         phi_i' of each example (n K doubles) and sum = sum_i x~_i (outer) phi_i'; the ridge term is applied
 *         exactly at the current w rather than stored (as in Schmidt's C code).
 *   full: the n x dim table of gradients and their sum. */
typedef struct table {
    int glm;
    int64_t K;
    double *tab;   /* glm: n*K scalars; full: n*dim */
    double *sum;   /* dim */
    double *z, *dz, *delta;
    unsigned char *seen;
    int64_t ncov;  /* examples seen (init=zero) */
} table;

static void table_free(table *t)
{
    free(t->tab);
    free(t->sum);
    free(t->z);
    free(t->dz);
    free(t->delta);
    free(t->seen);
}

static dsc_status table_init(slv *s, table *t, int storage, int init, const double *w, double *gi)
{
    const dsc_convex_problem *p = s->p;
    dsc_status st = DSC_OK;
    memset(t, 0, sizeof *t);
    if (storage == 2 && !p->linear)
        return DSC_ERROR(DSC_ERR_UNSUPPORTED, "%s: storage=glm needs a linear model, not '%s'", s->name, p->name);
    t->glm = storage == 0 ? p->linear : storage == 2;
    if (init == 1) /* centered: the table average must be 0, with stored gradients */
        t->glm = 0;
    t->K = p->K > 0 ? p->K : 1;
    int64_t per = t->glm ? t->K : s->dim;
    if ((st = table_fits(s, per)))
        return st;
    ALLOC(t->tab, s->n * per);
    ALLOC(t->sum, s->dim);
    ALLOC(t->z, t->K);
    ALLOC(t->dz, t->K);
    ALLOC(t->delta, t->K);
    ALLOC(t->seen, s->n);
    if (init >= 2) /* zero, seen */
        return DSC_OK;
    t->ncov = s->n;
    memset(t->seen, 1, (size_t)s->n);
    for (int64_t i = 0; i < s->n; i++) {
        if (t->glm) {
            s->evals += 1.0;
            dsc_convex_margin(p, i, w, t->z);
            dsc_convex_dloss(p, i, t->z, t->tab + i * t->K, NULL);
            dsc_convex_row_axpy(p, i, t->tab + i * t->K, t->sum);
        } else {
            slv_egrad(s, i, w, t->tab + i * s->dim);
            slv_axpy(s->dim, 1.0, t->tab + i * s->dim, t->sum);
        }
    }
    if (init == 1) { /* g_i = grad f_i(w0) - grad f(w0): subtract the mean from every row */
        for (int64_t j = 0; j < s->dim; j++)
            gi[j] = t->sum[j] / (double)s->n;
        for (int64_t i = 0; i < s->n; i++)
            slv_axpy(s->dim, -1.0, gi, t->tab + i * s->dim);
        memset(t->sum, 0, (size_t)s->dim * sizeof *t->sum);
    }
done:
    return st;
}

/* Replaces example i's entry by its gradient at w. Writes the change (new - old) of the table's sum into
 * diff (dim doubles, overwritten) unless NULL, and updates the sum. For glm tables, gi receives nothing:
 * the change is x~_i (outer) (phi' new - old). */
static void table_update(slv *s, table *t, int64_t i, const double *w, double *gi, double *diff)
{
    const dsc_convex_problem *p = s->p;
    if (!t->seen[i]) {
        t->seen[i] = 1;
        t->ncov++;
    }
    if (t->glm) {
        s->evals += 1.0;
        dsc_convex_margin(p, i, w, t->z);
        dsc_convex_dloss(p, i, t->z, t->dz, NULL);
        double *old = t->tab + i * t->K;
        for (int64_t k = 0; k < t->K; k++) {
            t->delta[k] = t->dz[k] - old[k];
            old[k] = t->dz[k];
        }
        if (diff) {
            memset(diff, 0, (size_t)s->dim * sizeof *diff);
            dsc_convex_row_axpy(p, i, t->delta, diff);
        }
        dsc_convex_row_axpy(p, i, t->delta, t->sum);
    } else {
        slv_egrad(s, i, w, gi);
        double *old = t->tab + i * s->dim;
        for (int64_t j = 0; j < s->dim; j++) {
            double dj = gi[j] - old[j];
            if (diff)
                diff[j] = dj;
            t->sum[j] += dj;
            old[j] = gi[j];
        }
    }
}

static dsc_status table_opts(slv *s, int *storage, int *init, int allow_centered)
{
    static const char *const stor[] = {"auto", "full", "glm", NULL};
    static const char *const inits[] = {"full", "centered", "zero", "seen", NULL};
    dsc_status st = dsc_kvspec_choice(s->spec, "storage", stor, 0, storage);
    if (!st)
        st = dsc_kvspec_choice(s->spec, "init", inits, 0, init);
    if (!st && *init == 1 && !allow_centered)
        st = DSC_ERROR(DSC_ERR_INVALID, "%s: init=centered is SAG's (choose full, zero or seen)", s->name);
    if (!st && *init == 3 && allow_centered)
        st = DSC_ERROR(DSC_ERR_INVALID, "%s: init=seen is SAGA's (SAG's init=zero already averages over the "
                       "examples seen)", s->name);
    if (!st && *init == 1 && *storage == 2)
        st = DSC_ERROR(DSC_ERR_INVALID, "%s: init=centered needs storage=full (the table is not of GLM form)",
                       s->name);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Fast path of SAG / SAGA for smooth linear models with one output (K = 1) and a GLM table.
 *
 * Dense rows: one fused loop per step over the row, the sum and w (the generic path makes ~7 passes).
 * CSR rows: just-in-time ("lazy") updates, O(nnz of the row) per step. Between two steps that touch
 * coordinate j, its update is w_j <- a w_j - lr sum_j / m_k with a = 1 - lr l2, sum_j fixed (it changes
 * only in steps that touch j) and m_k = n, or SAG's count of examples seen so far with init=zero.
 * Writing w = c v with the scalar c = prod a, a step becomes v_j <- v_j - (lr / (c' m_k)) sum_j (c' the new
 * c), so the untouched coordinates only need the running sum S = sum_k lr / (c'_k m_k): when j is next
 * touched, v_j -= sum_j (S - S_j) with S_j the value of S at j's last update (scikit-learn's sag_fast
 * keeps the same cumulative sums). w is materialized (w = c v, c = 1, S = 0) before every record, at
 * the end, and when c < 1e-100 (so that 1/c cannot overflow). The intercept (in every row, not
 * regularized) is updated eagerly. Same iterates as the generic path up to rounding
 * (test_sag_glm_equiv, test_lazy_sparse).
 *
 * The next example is drawn one step ahead and its row prefetched: on a data set larger than the
 * cache, the random row's memory latency would otherwise dominate the step (the draws, and so the
 * iterates, are the same). */
typedef struct lazy {
    double c, S;
    double *Sj; /* d */
} lazy;

/* Materializes w = c v, applying every coordinate's pending steps -coef_j (S - S_j) (coef: the table sum
 * for SAG/SAGA, the snapshot gradient for SVRG; K entries per feature j for K-output models, which share
 * S_j), and restarts with c = 1, S = 0. */
static void lazy_flush_k(int64_t d, int64_t K, lazy *lz, const double *coef, double *w)
{
    for (int64_t j = 0; j < d; j++) {
        const double pend = lz->S - lz->Sj[j];
        for (int64_t k = j * K; k < (j + 1) * K; k++)
            w[k] = lz->c * (w[k] - coef[k] * pend);
    }
    memset(lz->Sj, 0, (size_t)d * sizeof *lz->Sj);
    lz->c = 1.0;
    lz->S = 0.0;
}

static void lazy_flush(int64_t d, lazy *lz, const double *coef, double *w)
{
    lazy_flush_k(d, 1, lz, coef, w);
}

/* Brings the coordinates of a CSR row up to date (v_j -= coef_j (S - S_j); S_j is left to the caller's
 * update loop, which is correct because a row names each coordinate once: its indices increase
 * strictly, checked when the problem is built) and returns the margin x^T w = c x^T v. */
static double lazy_margin(const lazy *lz, const double *coef, int64_t nnz, const int32_t *ci, const double *x,
                          double *w)
{
    const double S = lz->S, *Sj = lz->Sj;
    double z = 0.0;
    for (int64_t k = 0; k < nnz; k++) {
        int64_t j = ci[k];
        double wj = w[j] - coef[j] * (S - Sj[j]);
        w[j] = wj;
        z += x[k] * wj;
    }
    return z * lz->c;
}

/* l1 problems take the fast path too: eagerly on dense rows (any l2), lazily on CSR rows when l2 = 0
 * (lazy_soft below); CSR data with both l1 and l2 take the generic path, and so does SAG with
 * init=zero and SAGA with init=seen on CSR data with l1 (their pending steps are not of lazy_soft's
 * constant form). */
static int glm_fast_ok(slv *s, const table *t, int saga, int init)
{
    const dsc_convex_problem *p = s->p;
    int seen = saga ? init == 3 : init == 2; /* the average is over the examples seen so far */
    if (!t->glm)
        return 0;
    if (p->smooth)
        return 1; /* K = 1, or K outputs (softmax): glm_fast_multi */
    if (p->K != 1)
        return 0;
    return !p->sparse || (p->l2 == 0.0 && !seen);
}

static double soft(double x, double lam)
{
    return x > lam ? x - lam : x < -lam ? x + lam : 0.0;
}

/* k steps of x <- soft(x - b, lam) (the proximal SAG/SAGA step of a coordinate that no example touched,
 * l2 = 0) in O(1): while x - b > lam the step subtracts b + lam, while x - b < -lam it adds lam - b, and
 * in between it lands on 0, a fixed point when |b| <= lam. Phases are jumped over, leaving the last
 * step or two before a phase change to the exact one-step formula (so rounding cannot skip a change). */
static double lazy_soft(double x, double b, double lam, int64_t k)
{
    while (k > 0) {
        double rate;
        if (x - b > lam)
            rate = b + lam; /* decrement per step */
        else if (x - b < -lam)
            rate = b - lam;
        else {
            x = 0.0;
            k--;
            if (fabs(b) <= lam)
                return 0.0;
            continue;
        }
        int up = x - b > lam;
        /* the region is left when x - t rate crosses b +- lam */
        double edge = up ? b + lam : b - lam;
        if ((up && rate <= 0.0) || (!up && rate >= 0.0))
            return x - (double)k * rate; /* moving away from the edge: stays in the region */
        double m = ceil((x - edge) / rate) - 2.0;
        if (m < 1.0) {
            x -= rate;
            k--;
            continue;
        }
        if (m >= (double)k)
            return x - (double)k * rate;
        x -= m * rate;
        k -= (int64_t)m;
    }
    return x;
}

/* glm_fast on CSR rows with an l1 term and l2 = 0: coordinate j's pending steps (those since it was
 * last touched) are k applications of x <- soft(x - lr avg_j, lr l1) with avg_j constant, done in O(1)
 * by lazy_soft when j is next touched and before every record. */
static dsc_status glm_fast_l1(slv *s, double *w, table *t, double lr, int saga, const dsc_sum_tree *tree)
{
    const dsc_convex_problem *p = s->p;
    int64_t d = p->d, n = s->n, K = 0;
    int icpt = p->intercept;
    double inv = 1.0 / (double)n, lam = lr * p->l1;
    double *sum = t->sum;
    dsc_status st = DSC_OK;
    int64_t *lastk = NULL;
    ALLOC(lastk, d);
    int64_t inext = draw_ahead(s, tree, t->tab);
    for (;;) {
        int64_t i = inext;
        inext = draw_ahead(s, tree, t->tab);
        const int32_t *ci;
        const double *x;
        int64_t nnz = dsc_convex_row(p, i, &ci, &x);
        s->evals += 1.0;
        double z = 0.0, dz;
        for (int64_t k = 0; k < nnz; k++) {
            int64_t j = ci[k];
            if (lastk[j] < K) {
                w[j] = lazy_soft(w[j], lr * sum[j] * inv, lam, K - lastk[j]);
                lastk[j] = K;
            }
            z += x[k] * w[j];
        }
        if (icpt)
            z += w[d];
        dz = dsc_convex_dloss1(p, i, z);
        double delta = dz - t->tab[i];
        t->tab[i] = dz;
        for (int64_t k = 0; k < nnz; k++) {
            int64_t j = ci[k];
            double dx = delta * x[k];
            if (saga) {
                w[j] = soft(w[j] - lr * (dx + sum[j] * inv), lam);
                sum[j] += dx;
            } else {
                sum[j] += dx;
                w[j] = soft(w[j] - lr * sum[j] * inv, lam);
            }
            lastk[j] = K + 1;
        }
        if (icpt) {
            if (saga) {
                w[d] -= lr * (delta + sum[d] * inv);
                sum[d] += delta;
            } else {
                sum[d] += delta;
                w[d] -= lr * sum[d] * inv;
            }
        }
        K++;
        if (slv_will_record(s)) {
            for (int64_t j = 0; j < d; j++)
                if (lastk[j] < K) {
                    w[j] = lazy_soft(w[j], lr * sum[j] * inv, lam, K - lastk[j]);
                    lastk[j] = K;
                }
        }
        if (slv_step(s, w))
            break;
    }
done:
    free(lastk);
    return st;
}

/* saga: 1 for SAGA's step (old average + the new gradient's change), 0 for SAG's (new average);
 * the average is over m = n examples, or with count_seen (SAG's init=zero, SAGA's init=seen) over the
 * examples seen so far, this one included (counted in t->seen / t->ncov).
 * tree: SAG's non-uniform sampler or NULL. */
/* glm_fast for K-output smooth linear models (softmax): the table holds the K values phi_i'(z_i) of each
 * example, w and the sum are d x K (row j = feature j's K weights, then the K intercepts), and on CSR
 * rows feature j's K weights share one S_j. The same steps as glm_fast with a loop over the outputs. */
static dsc_status glm_fast_multi(slv *s, double *w, table *t, double lr, int saga, int count_seen,
                                 const dsc_sum_tree *tree)
{
    const dsc_convex_problem *p = s->p;
    const int64_t d = p->d, n = s->n, K = t->K;
    const int icpt = p->intercept;
    const double a = 1.0 - lr * p->l2;
    double *sum = t->sum, *tab = t->tab, *z = t->z, *dz = t->dz, *delta = t->delta;
    dsc_status st = DSC_OK;
    lazy lz = {1.0, 0.0, NULL};
    if (p->sparse)
        ALLOC(lz.Sj, d);
    int64_t inext = draw_ahead(s, tree, NULL);
    for (;;) {
        const int64_t i = inext;
        inext = draw_ahead(s, tree, NULL);
        const int32_t *ci;
        const double *x;
        const int64_t nnz = dsc_convex_row(p, i, &ci, &x);
        s->evals += 1.0;
        if (count_seen && !t->seen[i]) {
            t->seen[i] = 1;
            t->ncov++;
        }
        const double inv = 1.0 / (double)(count_seen ? t->ncov : n);
        for (int64_t k = 0; k < K; k++)
            z[k] = 0.0;
        for (int64_t q = 0; q < nnz; q++) {
            const int64_t j = ci ? ci[q] : q;
            double *wj = w + j * K;
            if (ci) { /* bring feature j's K weights up to date */
                const double pend = lz.S - lz.Sj[j], *sj = sum + j * K;
                for (int64_t k = 0; k < K; k++)
                    wj[k] -= sj[k] * pend;
            }
            for (int64_t k = 0; k < K; k++)
                z[k] += x[q] * wj[k];
        }
        for (int64_t k = 0; k < K; k++) {
            if (ci)
                z[k] *= lz.c;
            if (icpt)
                z[k] += w[d * K + k];
        }
        dsc_convex_dloss(p, i, z, dz, NULL);
        double *old = tab + i * K;
        for (int64_t k = 0; k < K; k++) {
            delta[k] = dz[k] - old[k];
            old[k] = dz[k];
        }
        /* dense: w <- a w - lr (x delta + sum/m) (SAGA, old sum) or a w - lr sum/m (SAG, new sum);
         * CSR: the same in v-space, q = lr / c', and S grows by q / m for the untouched features */
        const double cn = ci ? lz.c * a : 1.0, qd = ci ? lr / cn : lr, qi = qd * inv, Sn = lz.S + qi;
        for (int64_t q = 0; q < nnz; q++) {
            const int64_t j = ci ? ci[q] : q;
            double *wj = w + j * K, *sj = sum + j * K;
            for (int64_t k = 0; k < K; k++) {
                const double dx = delta[k] * x[q];
                const double wk = ci ? wj[k] : a * wj[k];
                if (saga) {
                    wj[k] = wk - qd * dx - qi * sj[k];
                    sj[k] += dx;
                } else {
                    sj[k] += dx;
                    wj[k] = wk - qi * sj[k];
                }
            }
            if (ci)
                lz.Sj[j] = Sn;
        }
        if (ci) {
            lz.c = cn;
            lz.S = Sn;
        }
        if (icpt) {
            for (int64_t k = 0; k < K; k++) {
                double *wk = w + d * K + k, *sk = sum + d * K + k;
                if (saga) {
                    *wk -= lr * (delta[k] + *sk * inv);
                    *sk += delta[k];
                } else {
                    *sk += delta[k];
                    *wk -= lr * *sk * inv;
                }
            }
        }
        if (ci && (lz.c < 1e-100 || slv_will_record(s)))
            lazy_flush_k(d, K, &lz, sum, w);
        if (slv_step(s, w))
            break;
    }
done:
    free(lz.Sj);
    return st;
}

static dsc_status glm_fast(slv *s, double *w, table *t, double lr, int saga, int count_seen,
                           const dsc_sum_tree *tree)
{
    const dsc_convex_problem *p = s->p;
    int64_t d = p->d, n = s->n;
    int icpt = p->intercept;
    double a = 1.0 - lr * p->l2, lam = lr * p->l1;
    double *sum = t->sum, *tab = t->tab;
    dsc_status st = DSC_OK;
    lazy lz = {1.0, 0.0, NULL};
    if (t->K > 1)
        return glm_fast_multi(s, w, t, lr, saga, count_seen, tree);
    if (p->sparse && lam > 0.0)
        return glm_fast_l1(s, w, t, lr, saga, tree);
    if (p->sparse)
        ALLOC(lz.Sj, d);
    int64_t inext = draw_ahead(s, tree, tab);
    for (;;) {
        int64_t i = inext;
        inext = draw_ahead(s, tree, tab);
        const int32_t *ci;
        const double *x;
        int64_t nnz = dsc_convex_row(p, i, &ci, &x);
        s->evals += 1.0;
        if (count_seen && !t->seen[i]) {
            t->seen[i] = 1;
            t->ncov++;
        }
        double inv = 1.0 / (double)(count_seen ? t->ncov : n);
        double z = 0.0;
        if (!ci) {
            for (int64_t j = 0; j < d; j++)
                z += x[j] * w[j];
        } else {
            z = lazy_margin(&lz, sum, nnz, ci, x, w);
        }
        if (icpt)
            z += w[d];
        double dz = dsc_convex_dloss1(p, i, z);
        double delta = dz - tab[i];
        tab[i] = dz;
        if (!ci) {
            if (saga) {
                for (int64_t j = 0; j < d; j++) {
                    double dx = delta * x[j];
                    w[j] = a * w[j] - lr * (dx + sum[j] * inv);
                    sum[j] += dx;
                }
            } else {
                for (int64_t j = 0; j < d; j++) {
                    sum[j] += delta * x[j];
                    w[j] = a * w[j] - lr * sum[j] * inv;
                }
            }
            if (lam > 0.0) /* the proximal step of l1 ||w||_1 (the intercept is not regularized) */
                for (int64_t j = 0; j < d; j++)
                    w[j] = soft(w[j], lam);
        } else {
            /* q = lr / c' (c' = c a the new scale); every coordinate's pending sum grows by q / m */
            double cn = lz.c * a, q = lr / cn, qi = q * inv, Sn = lz.S + qi;
            double *Sj = lz.Sj;
            if (saga) {
                for (int64_t k = 0; k < nnz; k++) {
                    int64_t j = ci[k];
                    double dx = delta * x[k];
                    w[j] -= q * dx + qi * sum[j];
                    sum[j] += dx;
                    Sj[j] = Sn;
                }
            } else {
                for (int64_t k = 0; k < nnz; k++) {
                    int64_t j = ci[k];
                    sum[j] += delta * x[k];
                    w[j] -= qi * sum[j];
                    Sj[j] = Sn;
                }
            }
            lz.c = cn;
            lz.S = Sn;
        }
        if (icpt) {
            if (saga) {
                w[d] -= lr * (delta + sum[d] * inv);
                sum[d] += delta;
            } else {
                sum[d] += delta;
                w[d] -= lr * sum[d] * inv;
            }
        }
        if (ci && (lz.c < 1e-100 || slv_will_record(s)))
            lazy_flush(d, &lz, sum, w);
        if (slv_step(s, w))
            break;
    }
done:
    free(lz.Sj);
    return st;
}

/* SAG (Schmidt, Le Roux & Bach 2017): pick i, replace g_i by grad f_i(w), w <- w - lr (1/m) sum_i g_i, with
 * the running sum updated in O(dim) (catalog 1.7.2; the seed's g_i reads g_{i_k}). m = n, or the number of
 * examples seen with init=zero. Theorem (each f_i L-smooth, g mu-strongly convex, lr = 1/(16 L), centered
 * init): E f(x_k) - f* <= (1 - min(mu/(16L), 1/(8n)))^k ((3/2)(f(x0) - f*) + (4L/n)||x0 - x*||^2). */
dsc_status slv_sag(slv *s, double *w)
{
    const dsc_convex_problem *p = s->p;
    static const char *const samplings[] = {"uniform", "mixed", NULL};
    int storage, init, sampling = 0, ls;
    double lr = NAN, L0;
    double *gi = NULL, *dir = NULL, *wt = NULL, *pw = NULL;
    table t;
    dsc_sum_tree tree;
    memset(&t, 0, sizeof t);
    memset(&tree, 0, sizeof tree);
    dsc_status st = table_opts(s, &storage, &init, 1);
    if (!st)
        st = dsc_kvspec_choice(s->spec, "sampling", samplings, 0, &sampling);
    if (!st)
        st = dsc_kvspec_bool(s->spec, "ls", 0, &ls);
    if (!st)
        st = dsc_kvspec_double(s->spec, "L0", 1.0, 1e-300, 1e300, &L0);
    if (st)
        return st;
    if (sampling == 1 && !p->L_i)
        return DSC_ERROR(DSC_ERR_UNSUPPORTED, "sag: sampling=mixed needs the per-example constants L_i of '%s'",
                         p->spec);
    double Lr = sampling == 1 ? p->L_mean : lmax(p);
    /* step=theory: 1/(16 L) (the theorem's); step=practical: 1/L (Schmidt et al.'s recommendation in
     * practice, scikit-learn's sag step; catalog C-06 variants) */
    static const char *const steps[] = {"theory", "practical", NULL};
    int practical = 0;
    st = dsc_kvspec_choice(s->spec, "step", steps, 0, &practical);
    if (!st && !ls)
        st = slv_lr(s, (practical ? 1.0 : 1.0 / 16.0) / Lr, sampling == 1 ? "L_mean" : "L_max", &lr);
    if (st)
        return st;
    s->res->step = ls ? 1.0 / L0 : lr;
    ALLOC(gi, s->dim);
    ALLOC(dir, s->dim);
    if (ls)
        ALLOC(wt, s->dim);
    if (sampling == 1) {
        /* p_i = 1/(2n) + L_i / (2 sum L): O(log n) draws from a sum tree */
        ALLOC(pw, s->n);
        double tot = 0.0;
        for (int64_t i = 0; i < s->n; i++)
            tot += p->L_i[i];
        for (int64_t i = 0; i < s->n; i++)
            pw[i] = 0.5 / (double)s->n + 0.5 * p->L_i[i] / tot;
        if ((st = dsc_sum_tree_init(&tree, s->n, pw)))
            goto done;
    }
    if (slv_begin(s, w))
        goto done;
    if ((st = table_init(s, &t, storage, init, w, gi)))
        goto done;
    if (!ls && init != 1 && glm_fast_ok(s, &t, 0, init)) {
        st = glm_fast(s, w, &t, lr, 0, init == 2, sampling == 1 ? &tree : NULL);
        goto done;
    }
    double Lest = L0;
    for (;;) {
        int64_t i = sampling == 1 ? dsc_sum_tree_sample(&tree, slv_unif(s)) : slv_below(s, s->n);
        if (ls) {
            /* backtracking estimate of L (catalog 1.7.3, Schmidt's sag_linesearch.c): double L until
             * f_i(w - g_i/L) <= f_i(w) - ||g_i||^2 / (2L); skipped when ||g_i||^2 <= 1.49e-8 */
            double fi = slv_egrad(s, i, w, gi);
            double gg = slv_dot(s->dim, gi, gi);
            if (gg > 1.49e-8) {
                for (int it = 0; it < 100; it++) {
                    for (int64_t j = 0; j < s->dim; j++)
                        wt[j] = w[j] - gi[j] / Lest;
                    s->evals += 1.0;
                    double ft = dsc_convex_example_grad(p, i, wt, NULL);
                    if (ft <= fi - gg / (2.0 * Lest))
                        break;
                    Lest *= 2.0;
                }
            }
            lr = 1.0 / Lest;
        }
        table_update(s, &t, i, w, gi, NULL);
        double inv = 1.0 / (double)(t.ncov > 0 ? t.ncov : 1);
        for (int64_t j = 0; j < s->dim; j++)
            dir[j] = t.sum[j] * inv;
        if (t.glm)
            dsc_convex_add_l2(p, w, dir);
        slv_axpy(s->dim, -lr, dir, w);
        prox(s, lr, w);
        if (ls)
            Lest *= pow(2.0, -1.0 / (double)s->n);
        if (slv_step(s, w))
            break;
    }
done:
    table_free(&t);
    dsc_sum_tree_free(&tree);
    free(gi);
    free(dir);
    free(wt);
    free(pw);
    return st;
}

/* SAGA (Defazio, Bach & Lacoste-Julien 2014): w <- prox(w - lr (g_i(w) - g_i^old + (1/n) sum_j g_j^old)),
 * an unbiased estimator; lr = 1/(3 L_max): E||w_k - w*||^2 <= (1 - min(1/(4n), mu/(3L)))^k C; with mu > 0
 * also lr = 1/(2(mu n + L)) has a linear rate (Thm 1), and the default is the larger of the two.
 * init=seen: a zero table averaged over the m examples seen so far (1/m instead of 1/n, i included),
 * scikit-learn's saga: biased until every example has been seen. */
dsc_status slv_saga(slv *s, double *w)
{
    const dsc_convex_problem *p = s->p;
    int storage, init;
    double lr;
    double *gi = NULL, *dir = NULL, *avg = NULL;
    table t;
    memset(&t, 0, sizeof t);
    dsc_status st = table_opts(s, &storage, &init, 0);
    /* the larger of Defazio et al.'s two steps: 1/(3 L) (Thm 1's general case) and, for mu-strongly convex
     * problems, 1/(2 (mu n + L)); = 1/(2L + min(2 mu n, L)), as scikit-learn's saga */
    double Lm = lmax(p), mun = p->mu > 0.0 ? fmin(2.0 * p->mu * (double)s->n, Lm) : 0.0;
    if (!st)
        st = slv_lr(s, 1.0 / (p->mu > 0.0 ? 2.0 * Lm + mun : 3.0 * Lm), "L_max", &lr);
    if (st)
        return st;
    s->res->step = lr;
    ALLOC(gi, s->dim);
    ALLOC(dir, s->dim);
    ALLOC(avg, s->dim);
    if (slv_begin(s, w))
        goto done;
    if ((st = table_init(s, &t, storage, init, w, gi)))
        goto done;
    if (glm_fast_ok(s, &t, 1, init)) {
        st = glm_fast(s, w, &t, lr, 1, init == 3, NULL);
        goto done;
    }
    for (;;) {
        int64_t i = slv_below(s, s->n);
        double inv = 1.0 / (double)(init == 3 ? t.ncov + !t.seen[i] : s->n);
        for (int64_t j = 0; j < s->dim; j++)
            avg[j] = t.sum[j] * inv; /* the old table average */
        table_update(s, &t, i, w, gi, dir);
        for (int64_t j = 0; j < s->dim; j++)
            dir[j] += avg[j];
        if (t.glm)
            dsc_convex_add_l2(p, w, dir);
        slv_axpy(s->dim, -lr, dir, w);
        prox(s, lr, w);
        if (slv_step(s, w))
            break;
    }
done:
    table_free(&t);
    free(gi);
    free(dir);
    free(avg);
    return st;
}

/* The loss part of a one-output linear model's full gradient, g = (1/n) sum_i x~_i phi_i'(x~_i.w) (w
 * materialized; the ridge term left out), counted as n evaluations; phis (n values, or NULL) receives
 * the phi_i'. The snapshots of SVRG and SARAH/SPIDER. */
static void glm_loss_grad(slv *s, const double *w, double *g, double *phis)
{
    const dsc_convex_problem *p = s->p;
    memset(g, 0, (size_t)s->dim * sizeof *g);
    for (int64_t i = 0; i < s->n; i++) {
        double z;
        dsc_convex_margin(p, i, w, &z);
        double dz = dsc_convex_dloss1(p, i, z);
        if (phis)
            phis[i] = dz;
        dsc_convex_row_axpy(p, i, &dz, g);
    }
    for (int64_t j = 0; j < s->dim; j++)
        g[j] /= (double)s->n;
    s->evals += (double)s->n;
}

/* SVRG's fast path for smooth one-output linear models. With phi~_i = phi_i'(z~_i) cached at the
 * snapshot (n scalars) and mu = (1/n) sum x~_i phi~_i the loss part of the full gradient, the inner step
 *     w <- w - lr (grad f_i(w) - grad f_i(w~) + grad f(w~)) = (1 - lr l2) w - lr (mu + x~_i (phi_i'(z_i) - phi~_i))
 * (the ridge terms l2 w~ cancel) has the form of glm_fast's, with a constant average mu during a stage:
 * one fused loop on dense rows, just-in-time updates (w = c v) on CSR rows. Evaluations are counted
 * as in the theory (n per snapshot, 2 per inner step) although the snapshot's phi~_i are cached. */
static dsc_status svrg_glm(slv *s, double *w, double lr, int64_t m, int option, double *mu, double *pick)
{
    const dsc_convex_problem *p = s->p;
    int64_t d = p->d, n = s->n;
    int icpt = p->intercept;
    double a = 1.0 - lr * p->l2;
    double *phis = NULL;
    dsc_status st = DSC_OK;
    lazy lz = {1.0, 0.0, NULL};
    ALLOC(phis, n);
    if (p->sparse)
        ALLOC(lz.Sj, d);
    if (slv_begin(s, w))
        goto done;
    int stop = 0;
    while (!stop) {
        /* the snapshot: w is materialized here */
        glm_loss_grad(s, w, mu, phis);
        int64_t tpick = option == 2 ? 1 + slv_below(s, m) : m;
        /* the next inner example is drawn one step ahead, within the stage (the draws keep their order) */
        int64_t inext = draw_ahead(s, NULL, phis);
        for (int64_t t = 1; t <= m; t++) {
            int64_t i = inext;
            if (t < m)
                inext = draw_ahead(s, NULL, phis);
            const int32_t *ci;
            const double *x;
            int64_t nnz = dsc_convex_row(p, i, &ci, &x);
            s->evals += 2.0;
            double z = 0.0;
            if (!ci) {
                for (int64_t j = 0; j < d; j++)
                    z += x[j] * w[j];
            } else {
                z = lazy_margin(&lz, mu, nnz, ci, x, w);
            }
            if (icpt)
                z += w[d];
            double dz = dsc_convex_dloss1(p, i, z);
            double delta = dz - phis[i];
            if (!ci) {
                for (int64_t j = 0; j < d; j++)
                    w[j] = a * w[j] - lr * (mu[j] + delta * x[j]);
            } else {
                double cn = lz.c * a, q = lr / cn, Sn = lz.S + q;
                for (int64_t k = 0; k < nnz; k++) {
                    int64_t j = ci[k];
                    w[j] -= q * (mu[j] + delta * x[k]);
                    lz.Sj[j] = Sn;
                }
                lz.c = cn;
                lz.S = Sn;
            }
            if (icpt)
                w[d] -= lr * (mu[d] + delta);
            int last = t == m;
            if (ci && (lz.c < 1e-100 || last || t == tpick || slv_will_record(s)))
                lazy_flush(d, &lz, mu, w);
            if (t == tpick)
                memcpy(pick, w, (size_t)s->dim * sizeof *pick);
            if (slv_step(s, w)) {
                stop = 1;
                break;
            }
        }
        if (!stop && option == 2)
            memcpy(w, pick, (size_t)s->dim * sizeof *w);
    }
done:
    free(phis);
    free(lz.Sj);
    return st;
}

/* SVRG (Johnson & Zhang 2013): per stage, mu = grad f(w~) (n evaluations), then m inner steps
 * w <- prox(w - lr (g_i(w) - g_i(w~) + mu)) (2 evaluations each); option 1: w~ = the last iterate, option 2:
 * a uniformly drawn inner iterate. With option 2, E f(w~_s) - f* <= r^s (f(w~_0) - f*),
 * r = 1/(mu lr (1 - 2 L lr) m) + 2 L lr / (1 - 2 L lr). */
dsc_status slv_svrg(slv *s, double *w)
{
    const dsc_convex_problem *p = s->p;
    int64_t m, option;
    double lr;
    double *snap = NULL, *mu = NULL, *g1 = NULL, *g0 = NULL, *pick = NULL;
    dsc_status st = dsc_kvspec_int(s->spec, "m", 2 * s->n, 1, INT64_MAX / 4, &m);
    if (!st)
        st = dsc_kvspec_int(s->spec, "option", 1, 1, 2, &option);
    if (!st)
        st = slv_lr(s, 1.0 / (10.0 * lmax(p)), "L_max", &lr);
    if (st)
        return st;
    s->res->step = lr;
    ALLOC(snap, s->dim);
    ALLOC(mu, s->dim);
    ALLOC(g1, s->dim);
    ALLOC(g0, s->dim);
    ALLOC(pick, s->dim);
    if (p->linear && p->K == 1 && p->smooth) {
        st = svrg_glm(s, w, lr, m, (int)option, mu, pick);
        goto done;
    }
    if (slv_begin(s, w))
        goto done;
    int stop = 0;
    while (!stop) {
        memcpy(snap, w, (size_t)s->dim * sizeof *snap);
        slv_grad(s, snap, mu);
        int64_t tpick = option == 2 ? 1 + slv_below(s, m) : m;
        for (int64_t t = 1; t <= m; t++) {
            int64_t i = slv_below(s, s->n);
            slv_egrad(s, i, w, g1);
            slv_egrad(s, i, snap, g0);
            for (int64_t j = 0; j < s->dim; j++)
                w[j] -= lr * (g1[j] - g0[j] + mu[j]);
            prox(s, lr, w);
            if (t == tpick)
                memcpy(pick, w, (size_t)s->dim * sizeof *pick);
            if (slv_step(s, w)) {
                stop = 1;
                break;
            }
        }
        if (!stop && option == 2)
            memcpy(w, pick, (size_t)s->dim * sizeof *w);
    }
done:
    free(snap);
    free(mu);
    free(g1);
    free(g0);
    free(pick);
    return st;
}

/* The recursive gradient estimator shared by SARAH and SPIDER: every `period` steps v = grad f(w),
 * else v += g(w) - g(w_prev) with g the gradient of one sampled example (batch == 0) or the mean
 * over a sampled batch of `batch` examples; then w <- prox(w - lr v). */
/* SARAH / SPIDER's fast path (batch 1) for smooth one-output linear models. With
 * f_i(w) = phi_i(x~_i.w) + (l2/2)||w_reg||^2 the estimator splits as v_t = g_t + l2 w_reg,t: the loss part g
 * starts as the full gradient's and changes by x~_i (phi_i'(z_i(w_t)) - phi_i'(z_i(w_{t-1}))) on row i's
 * coordinates only (the l2 parts of the two example gradients differ by l2 (w_t - w_{t-1}), which the split
 * carries). The step w_{t+1} = a w_t - lr g_t (a = 1 - lr l2; intercept: a = 1) has glm_fast's form, so
 * CSR rows get the just-in-time updates (w = c v, pending steps -g_j (S - S_j)), and the previous
 * iterate's margin needs no copy of w_{t-1}: per coordinate w_{t-1} = (w_t + lr g_{t-1}) / a, so
 * z_i(w_{t-1}) = (x_i.w_t + lr x_i.g) / a + w_d + lr g_d (g before this step's change; intercept w_d).
 * Same iterates as the generic path up to rounding (test_lazy_sparse: path=generic). */
static dsc_status recursive_glm(slv *s, double *w, double lr, int64_t period)
{
    const dsc_convex_problem *p = s->p;
    const int64_t d = p->d;
    const int icpt = p->intercept;
    const double a = 1.0 - lr * p->l2;
    dsc_status st = DSC_OK;
    double *g = NULL;
    lazy lz = {1.0, 0.0, NULL};
    ALLOC(g, s->dim);
    if (p->sparse)
        ALLOC(lz.Sj, d);
    s->res->step = lr;
    if (slv_begin(s, w))
        goto done;
    int64_t inext = 0;
    for (int64_t t = 0;; t++) {
        const int32_t *ci = NULL;
        const double *x = NULL;
        int64_t nnz = 0;
        if (t % period == 0) {
            /* the loss part of the full gradient at the (materialized) iterate */
            if (p->sparse && (lz.c != 1.0 || lz.S != 0.0))
                lazy_flush(d, &lz, g, w);
            glm_loss_grad(s, w, g, NULL);
            if ((t + 1) % period != 0)
                inext = draw_ahead(s, NULL, NULL);
        } else {
            const int64_t i = inext;
            if ((t + 1) % period != 0)
                inext = draw_ahead(s, NULL, NULL); /* the draws keep their order: none at a full gradient */
            nnz = dsc_convex_row(p, i, &ci, &x);
            s->evals += 2.0;
            double z = 0.0, xg = 0.0;
            if (!ci) {
                for (int64_t j = 0; j < d; j++) {
                    z += x[j] * w[j];
                    xg += x[j] * g[j];
                }
            } else {
                z = lazy_margin(&lz, g, nnz, ci, x, w);
                for (int64_t k = 0; k < nnz; k++)
                    xg += x[k] * g[ci[k]];
            }
            double zp = (z + lr * xg) / a;
            if (icpt) {
                z += w[d];
                zp += w[d] + lr * g[d];
            }
            const double delta = dsc_convex_dloss1(p, i, z) - dsc_convex_dloss1(p, i, zp);
            if (!ci) {
                for (int64_t j = 0; j < d; j++)
                    g[j] += x[j] * delta;
            } else {
                for (int64_t k = 0; k < nnz; k++)
                    g[ci[k]] += x[k] * delta;
            }
            if (icpt)
                g[d] += delta;
        }
        /* the step w <- a w - lr g: every coordinate on dense data; on CSR data the row's (or, after a
         * full gradient, none: all are pending) */
        if (!p->sparse) {
            for (int64_t j = 0; j < d; j++)
                w[j] = a * w[j] - lr * g[j];
        } else {
            const double cn = lz.c * a, q = lr / cn, Sn = lz.S + q;
            for (int64_t k = 0; k < nnz; k++) {
                const int64_t j = ci[k];
                w[j] -= q * g[j];
                lz.Sj[j] = Sn;
            }
            lz.c = cn;
            lz.S = Sn;
        }
        if (icpt)
            w[d] -= lr * g[d];
        if (p->sparse && (lz.c < 1e-100 || slv_will_record(s)))
            lazy_flush(d, &lz, g, w);
        if (slv_step(s, w))
            break;
    }
done:
    free(g);
    free(lz.Sj);
    return st;
}

static dsc_status recursive_estimator(slv *s, double *w, double lr, int64_t period, int64_t batch)
{
    const dsc_convex_problem *p = s->p;
    static const char *const paths[] = {"auto", "generic", NULL};
    int path = 0;
    dsc_status st = dsc_kvspec_choice(s->spec, "path", paths, 0, &path);
    if (st)
        return st;
    if (path == 0 && batch <= 1 && p->linear && p->K == 1 && p->smooth && lr * p->l2 < 1.0)
        return recursive_glm(s, w, lr, period);
    double *v = NULL, *wp = NULL, *g1 = NULL, *g0 = NULL;
    int64_t *idx = NULL;
    s->res->step = lr;
    ALLOC(v, s->dim);
    ALLOC(wp, s->dim);
    ALLOC(g1, s->dim);
    ALLOC(g0, s->dim);
    if (batch > 0)
        ALLOC(idx, batch);
    if (slv_begin(s, w))
        goto done;
    for (int64_t t = 0;; t++) {
        if (t % period == 0) {
            slv_grad(s, w, v);
        } else {
            if (batch > 0) {
                for (int64_t k = 0; k < batch; k++)
                    idx[k] = slv_below(s, s->n);
                slv_bgrad(s, idx, batch, w, g1);
                slv_bgrad(s, idx, batch, wp, g0);
            } else {
                int64_t i = slv_below(s, s->n);
                slv_egrad(s, i, w, g1);
                slv_egrad(s, i, wp, g0);
            }
            for (int64_t j = 0; j < s->dim; j++)
                v[j] += g1[j] - g0[j];
        }
        memcpy(wp, w, (size_t)s->dim * sizeof *wp);
        slv_axpy(s->dim, -lr, v, w);
        prox(s, lr, w);
        if (slv_step(s, w))
            break;
    }
done:
    free(v);
    free(wp);
    free(g1);
    free(g0);
    free(idx);
    return st;
}

/* SARAH (Nguyen, Liu, Scheinberg & Takac 2017): v_0 = grad f(w_0), w_1 = w_0 - lr v_0;
 * v_t = g_i(w_t) - g_i(w_{t-1}) + v_{t-1}, w_{t+1} = w_t - lr v_t; restart with a full gradient every m steps.
 * Linear convergence for strongly convex f with lr <= 1/(2L) and m large enough. */
dsc_status slv_sarah(slv *s, double *w)
{
    int64_t m;
    double lr;
    dsc_status st = dsc_kvspec_int(s->spec, "m", s->n, 1, INT64_MAX / 4, &m);
    if (!st)
        st = slv_lr(s, 1.0 / (2.0 * lmax(s->p)), "L_max", &lr);
    if (st)
        return st;
    return recursive_estimator(s, w, lr, m, 0);
}

/* SPIDER (Fang, Li, Lin & Zhang 2018) in the constant-step form of SpiderBoost (Wang et al. 2019): every
 * q steps v = grad f(w), else v += g_B(w) - g_B(w_prev) (|B| = b); w <- w - lr v, lr = 1/(2L).
 * O(n + sqrt(n)/eps^2) gradient evaluations to an eps-stationary point (nonconvex). */
dsc_status slv_spider(slv *s, double *w)
{
    int64_t b, q;
    double lr;
    dsc_status st = dsc_kvspec_int(s->spec, "b", 1, 1, s->n, &b);
    if (!st)
        st = dsc_kvspec_int(s->spec, "q", (s->n + b - 1) / b, 1, INT64_MAX / 4, &q);
    if (!st)
        st = slv_lr(s, 1.0 / (2.0 * lmax(s->p)), "L_max", &lr);
    if (st)
        return st;
    return recursive_estimator(s, w, lr, q, b);
}

/* STORM (Cutkosky & Orabona 2019) with constant parameters: d_t = g_B(w_t) + (1 - a)(d_{t-1} - g_B(w_{t-1}))
 * (the same batch B at both points), w_{t+1} = w_t - lr d_t. */
dsc_status slv_storm(slv *s, double *w)
{
    int64_t b;
    double lr, a;
    double *d = NULL, *wp = NULL, *g1 = NULL, *g0 = NULL;
    int64_t *idx = NULL;
    dsc_status st = dsc_kvspec_int(s->spec, "batch", 1, 1, s->n, &b);
    if (!st)
        st = dsc_kvspec_double(s->spec, "a", 0.1, 0.0, 1.0, &a);
    if (!st)
        st = slv_lr(s, 1.0 / (4.0 * lmax(s->p)), "L_max", &lr);
    if (st)
        return st;
    s->res->step = lr;
    ALLOC(d, s->dim);
    ALLOC(wp, s->dim);
    ALLOC(g1, s->dim);
    ALLOC(g0, s->dim);
    ALLOC(idx, b);
    if (slv_begin(s, w))
        goto done;
    for (int64_t k = 0; k < b; k++)
        idx[k] = slv_below(s, s->n);
    slv_bgrad(s, idx, b, w, d);
    for (;;) {
        memcpy(wp, w, (size_t)s->dim * sizeof *wp);
        slv_axpy(s->dim, -lr, d, w);
        prox(s, lr, w);
        for (int64_t k = 0; k < b; k++)
            idx[k] = slv_below(s, s->n);
        slv_bgrad(s, idx, b, w, g1);
        slv_bgrad(s, idx, b, wp, g0);
        for (int64_t j = 0; j < s->dim; j++)
            d[j] = g1[j] + (1.0 - a) * (d[j] - g0[j]);
        if (slv_step(s, w))
            break;
    }
done:
    free(d);
    free(wp);
    free(g1);
    free(g0);
    free(idx);
    return st;
}

/* Zeroth-order SGD with the two-point Gaussian estimator (Nesterov & Spokoiny 2017; Ghadimi & Lan 2013):
 * g = (f_i(w + delta u) - f_i(w - delta u)) / (2 delta) u, u ~ N(0, I); E g = grad of the Gaussian smoothing
 * of f_i; lr = 1/(4 (dim + 4) L). Two function values count two evaluations. */
dsc_status slv_zo(slv *s, double *w)
{
    int64_t b;
    double lr, delta;
    double *u = NULL, *wt = NULL, *g = NULL;
    dsc_status st = dsc_kvspec_double(s->spec, "delta", 1e-6, 1e-300, 1e300, &delta);
    if (!st)
        st = dsc_kvspec_int(s->spec, "batch", 1, 1, s->n, &b);
    if (!st)
        st = slv_lr(s, 1.0 / (4.0 * ((double)s->dim + 4.0) * lmax(s->p)), "L_max", &lr);
    if (st)
        return st;
    s->res->step = lr;
    ALLOC(u, s->dim);
    ALLOC(wt, s->dim);
    ALLOC(g, s->dim);
    if (slv_begin(s, w))
        goto done;
    for (;;) {
        memset(g, 0, (size_t)s->dim * sizeof *g);
        for (int64_t k = 0; k < b; k++) {
            int64_t i = slv_below(s, s->n);
            for (int64_t j = 0; j < s->dim; j++)
                u[j] = slv_normal(s);
            for (int64_t j = 0; j < s->dim; j++)
                wt[j] = w[j] + delta * u[j];
            double fp = dsc_convex_example_grad(s->p, i, wt, NULL);
            for (int64_t j = 0; j < s->dim; j++)
                wt[j] = w[j] - delta * u[j];
            double fm = dsc_convex_example_grad(s->p, i, wt, NULL);
            s->evals += 2.0;
            slv_axpy(s->dim, (fp - fm) / (2.0 * delta * (double)b), u, g);
        }
        slv_axpy(s->dim, -lr, g, w);
        prox(s, lr, w);
        if (slv_step(s, w))
            break;
    }
done:
    free(u);
    free(wt);
    free(g);
    return st;
}
