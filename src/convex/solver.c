/* The convex lab's solvers: spec dispatch, the run context (evaluation counters, the solver's
 * clock, per-pass records), projections and the O(log n) sum-tree sampler.
 * Formulas, sources and rates of each solver: docs/ALGORITHMS.md. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "convex/solver_internal.h"

double slv_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ------------------------------------------------------------------------------------------ */
/* Counted evaluations */

double slv_grad(slv *s, const double *w, double *g)
{
    s->evals += (double)s->n;
    return dsc_convex_grad(s->p, w, g);
}

double slv_value(slv *s, const double *w)
{
    s->evals += (double)s->n;
    return dsc_convex_value(s->p, w);
}

double slv_egrad(slv *s, int64_t i, const double *w, double *g)
{
    s->evals += 1.0;
    return dsc_convex_example_grad(s->p, i, w, g);
}

double slv_bgrad(slv *s, const int64_t *idx, int64_t k, const double *w, double *g)
{
    s->evals += (double)k;
    return dsc_convex_batch_grad(s->p, idx, k, w, g);
}

void slv_hvp(slv *s, const double *w, const double *v, double *out)
{
    s->evals += (double)s->n;
    dsc_convex_hvp(s->p, w, v, out);
}

int64_t slv_below(slv *s, int64_t n)
{
    return (int64_t)dsc_rng_below(&s->rng, (uint64_t)n);
}

double slv_unif(slv *s)
{
    return dsc_rng_uniform01(&s->rng);
}

double slv_normal(slv *s)
{
    return dsc_rng_normal(&s->rng);
}

dsc_status slv_lr(slv *s, double def, const char *what, double *lr)
{
    dsc_status st = dsc_kvspec_double(s->spec, "lr", NAN, 0.0, 1e300, lr);
    if (st)
        return st;
    if (!isnan(*lr)) {
        if (!(*lr > 0.0))
            return DSC_ERROR(DSC_ERR_RANGE, "%s: lr=%g must be > 0", s->name, *lr);
        return DSC_OK;
    }
    if (!(def > 0.0) || !isfinite(def))
        return DSC_ERROR(DSC_ERR_UNSUPPORTED,
                         "%s: the default step needs %s, which problem '%s' does not provide; give lr=", s->name,
                         what, s->p->spec);
    *lr = def;
    return DSC_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Records */

static void record(slv *s, const double *w)
{
    double t1 = slv_now();
    s->time_acc += t1 - s->t_start;
    const dsc_convex_problem *p = s->p;
    const double *x = s->report_w ? s->report_w : w;
    dsc_solver_point pt;
    pt.passes = s->evals / (double)s->n;
    pt.grad_evals = s->evals;
    pt.time_s = s->time_acc;
    pt.iter = s->iter;
    pt.f = dsc_convex_value(p, x);
    if (p->smooth) {
        dsc_convex_grad(p, x, s->tmp);
        pt.grad_norm = sqrt(slv_dot(s->dim, s->tmp, s->tmp));
    } else {
        pt.grad_norm = dsc_convex_grad_mapping_norm(p, x, 0.0);
    }
    pt.subopt = isnan(s->o->f_star) ? NAN : pt.f - s->o->f_star;
    if (s->o->w_star) {
        double d2 = 0.0;
        for (int64_t j = 0; j < s->dim; j++)
            d2 += (x[j] - s->o->w_star[j]) * (x[j] - s->o->w_star[j]);
        pt.dist = sqrt(d2);
    } else {
        pt.dist = NAN;
    }
    dsc_solver_result *r = s->res;
    if (r->n_trace == s->cap) {
        int nc = s->cap ? 2 * s->cap : 64;
        dsc_solver_point *t = realloc(r->trace, (size_t)nc * sizeof *t);
        if (!t) {
            s->err = DSC_ERROR(DSC_ERR_NOMEM, "%s: cannot grow the trace to %d records", s->name, nc);
            s->stop = 6;
            s->t_start = slv_now();
            return;
        }
        r->trace = t;
        s->cap = nc;
    }
    r->trace[r->n_trace++] = pt;
    if (!isfinite(pt.f))
        s->stop = 5;
    else if (s->o->tol > 0.0 && !isnan(pt.subopt) && pt.subopt <= s->o->tol)
        s->stop = 2;
    else if (s->o->gtol > 0.0 && pt.grad_norm <= s->o->gtol)
        s->stop = 3;
    else if (s->o->monitor && s->o->monitor(s->o->monitor_ctx, &pt))
        s->stop = 4;
    s->t_start = slv_now();
}

int slv_begin(slv *s, const double *w)
{
    s->next_record = s->o->record_every;
    s->t_start = slv_now();
    record(s, w);
    return s->stop;
}

int slv_step(slv *s, const double *w)
{
    s->iter++;
    double passes = s->evals / (double)s->n;
    int budget = passes >= s->o->epochs * (1.0 - 1e-12) || (s->o->max_iter > 0 && s->iter >= s->o->max_iter);
    int due = s->o->record_iters || passes >= s->next_record * (1.0 - 1e-12);
    if (due || budget) {
        while (s->next_record <= passes * (1.0 + 1e-12))
            s->next_record += s->o->record_every;
        record(s, w);
    }
    if (!s->stop && budget)
        s->stop = 1;
    return s->stop;
}

int slv_will_record(const slv *s)
{
    double passes = s->evals / (double)s->n;
    return s->o->record_iters || passes >= s->next_record * (1.0 - 1e-12) ||
           passes >= s->o->epochs * (1.0 - 1e-12) || (s->o->max_iter > 0 && s->iter + 1 >= s->o->max_iter);
}

void slv_stall(slv *s)
{
    if (!s->stop)
        s->stop = 7;
}

/* ------------------------------------------------------------------------------------------ */
/* Dispatch */

typedef struct solver_def {
    const char *name;
    dsc_status (*run)(slv *s, double *w);
    const char *const *keys;
    const char *help;
} solver_def;

#define KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const solver_def solvers[] = {
    {"gd", slv_gd, KEYS("lr", "step", "c", "beta"),
     "gradient descent; step=L (1/L, default) | opt (2/(mu+L)) | armijo (backtracking, c=1e-4, beta=0.5)\n"
     "        | exact (exact line search on the quadratic model, t = g'g / g'Hg); lr= a constant step"},
    {"sd", slv_sd, KEYS("norm", "p", "lr", "c", "beta"),
     "steepest descent w.r.t. norm=2 | 1 (greedy coordinate) | inf (sign) | p (p=3); Armijo\n"
     "        backtracking unless lr= is given"},
    {"polyak", slv_polyak, KEYS("gamma"),
     "gradient descent with Polyak's step t = gamma (F - f*) / ||g||^2 (gamma=1; needs f*)"},
    {"nesterov", slv_nesterov, KEYS("lr", "variant", "mu"),
     "Nesterov's accelerated gradient; variant=auto | convex (t_k sequence) | strong (beta = (sqrt k - 1)/\n"
     "        (sqrt k + 1), k = L/mu); lr=1/L; mu= overrides the problem's mu"},
    {"heavyball", slv_heavyball, KEYS("lr", "momentum", "mu"),
     "Polyak's heavy ball: lr = 4/(sqrt L + sqrt mu)^2, momentum = ((sqrt k - 1)/(sqrt k + 1))^2"},
    {"cg", slv_cg, KEYS("restart"),
     "linear conjugate gradient on quadratics (quadratic, lsq, ridge); restart=dim (iterations)"},
    {"newton", slv_newton, KEYS("damped", "c", "beta", "hess", "cg_tol", "max_cg"),
     "Newton's method; hess=dense: the dense Hessian (Cholesky); hess=cg: matrix-free Newton-CG (truncated\n"
     "        CG on Hessian-vector products to ||Hd + g|| <= min(cg_tol=0.5, sqrt||g||) ||g||, max_cg=max(dim,200));\n"
     "        hess=auto (default): cg for linear models with dim > 64, else dense; damped=1: Armijo backtracking\n"
     "        on the Newton direction (c=1e-4, beta=0.5); damped=0: unit steps"},
    {"cubic", slv_cubic, KEYS("M"),
     "cubic-regularized Newton (Nesterov & Polyak) with adaptive M (ARC): M starts at the problem's rho or 1"},
    {"bfgs", slv_bfgs, KEYS("c", "beta"), "BFGS (dense inverse Hessian) with Armijo backtracking"},
    {"lbfgs", slv_lbfgs, KEYS("m", "c", "beta"), "L-BFGS (two-loop recursion, memory m=10) with Armijo backtracking"},
    {"pgd", slv_pgd, KEYS("lr", "set", "r", "lo", "hi"),
     "projected gradient descent onto set=ball (radius r=1) | box [lo=-1, hi=1] | simplex (sum r) |\n"
     "        l1ball (radius r); lr=1/L"},
    {"ista", slv_ista, KEYS("lr", "ls", "beta"),
     "proximal gradient (ISTA); lr=1/L, or ls=1: backtracking on the quadratic upper bound"},
    {"fista", slv_fista, KEYS("lr", "restart", "ls", "beta"),
     "FISTA (Beck & Teboulle); restart=1: gradient-based adaptive restart (O'Donoghue & Candes)"},
    {"fw", slv_fw, KEYS("set", "r", "lo", "hi"),
     "Frank-Wolfe with step 2/(k+2) over set=l1ball (default, radius r=1) | simplex | ball | box"},
    {"mirror", slv_mirror, KEYS("lr", "r"),
     "mirror descent with the entropy on the simplex {w >= 0, sum w = r} (exponentiated gradient); lr=1/L"},
    {"cd", slv_cd, KEYS("lr"),
     "randomized coordinate descent, step lr=1/L on one uniformly drawn coordinate; dim steps = one\n"
     "        gradient (n/dim evaluations per step)"},
    {"perturbed", slv_perturbed, KEYS("eps", "c", "delta", "rho", "df", "lr"),
     "perturbed gradient descent (Jin et al. 2017): eps=1e-3, c=1, delta=0.1, rho (problem's), df=\n"
     "        f(w0) - f* bound (default F(w0) - f* or 1); eta = c/L, perturbation radius sqrt(c) eps/(chi^2 L)"},
    {"sgd", slv_sgd, KEYS("lr", "schedule", "batch", "replace", "avg", "mu", "max_lr"),
     "SGD; schedule=const (lr=1/(2 L_max)) | sqrt (lr/sqrt(t+1)) | strong ((2k+1)/(2 mu (k+1)^2),\n"
     "        capped at max_lr if given); batch=1; replace=1 (iid) | 0 (shuffled epochs); avg=1: uniform\n"
     "        iterate averaging (the average is reported)"},
    {"sag", slv_sag, KEYS("lr", "step", "init", "sampling", "ls", "L0", "storage"),
     "SAG (Schmidt, Le Roux & Bach): lr=1/(16 L) (step=theory) or 1/L (step=practical), L = L_max, or\n"
     "        L_mean with sampling=mixed; init=full |\n"
     "        centered (theorem: table average 0) | zero (average over the examples seen); sampling=uniform |\n"
     "        mixed (1/2 uniform + 1/2 prop. to L_i, sum tree); ls=1: backtracking estimate of L (start L0=1,\n"
     "        lr = 1/L_est); storage=auto (glm for linear models: n*K scalars) | glm | full (n x dim table)"},
    {"saga", slv_saga, KEYS("lr", "init", "storage"),
     "SAGA (Defazio, Bach & Lacoste-Julien): lr=1/(3 L_max), or 1/(2 L_max + min(2 mu n, L_max)) when mu > 0;\n"
     "        init=full | zero (unbiased, 1/n) | seen (average over the examples seen, as scikit-learn);\n"
     "        storage as sag; proximal step for l1 problems"},
    {"svrg", slv_svrg, KEYS("lr", "m", "option"),
     "SVRG (Johnson & Zhang): lr=1/(10 L_max), inner loop m=2n, option=1 (snapshot = last iterate) |\n"
     "        2 (a uniformly random inner iterate)"},
    {"sarah", slv_sarah, KEYS("lr", "m", "path"), "SARAH (Nguyen et al.): lr=1/(2 L_max), inner loop m=n;\n"
     "        path=auto (O(nnz) steps for smooth linear models) | generic"},
    {"spider", slv_spider, KEYS("lr", "b", "q", "path"),
     "SPIDER in its constant-step form (SpiderBoost): full gradient every q=n/b steps, batch b=1,\n"
     "        lr=1/(2 L_max); path as sarah (b=1)"},
    {"storm", slv_storm, KEYS("lr", "a", "batch"),
     "STORM (Cutkosky & Orabona) with constant parameters: d = g_i(w) + (1 - a)(d - g_i(w_prev)),\n"
     "        a=0.1, lr=1/(4 L_max), batch=1"},
    {"zo", slv_zo, KEYS("lr", "delta", "batch"),
     "zeroth-order SGD, two-point Gaussian estimator (f_i(w + delta u) - f_i(w - delta u))/(2 delta) u;\n"
     "        delta=1e-6, lr=1/(4 (dim+4) L_max); counts 2 function values per example"},
};
#define N_SOLVERS ((int)(sizeof solvers / sizeof solvers[0]))

static const solver_def *find_solver(const char *name)
{
    for (int i = 0; i < N_SOLVERS; i++)
        if (!strcmp(solvers[i].name, name))
            return &solvers[i];
    return NULL;
}

static dsc_status parse(const char *spec, dsc_kvspec *ks, const solver_def **def)
{
    dsc_status st = dsc_kvspec_parse(spec, ks);
    if (st)
        return st;
    *def = find_solver(ks->name);
    if (!*def) {
        char list[512];
        size_t len = 0;
        list[0] = 0;
        for (int i = 0; i < N_SOLVERS && len < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", solvers[i].name);
        return DSC_ERROR(DSC_ERR_INVALID, "solver '%s': unknown name '%s' (solvers: %s)", spec, ks->name, list);
    }
    return dsc_kvspec_check(ks, (*def)->keys, 0);
}

dsc_status dsc_solver_check(const char *spec)
{
    dsc_kvspec ks;
    const solver_def *def = NULL;
    dsc_status st = parse(spec ? spec : "", &ks, &def);
    dsc_kvspec_free(&ks);
    return st;
}

const char *dsc_solver_help(void)
{
    static char buf[8192];
    if (buf[0])
        return buf;
    size_t len = 0;
    len += (size_t)snprintf(buf + len, sizeof buf - len, "solvers (spec name:key=value,...):\n");
    for (int i = 0; i < N_SOLVERS && len < sizeof buf; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "  %-9s %s\n", solvers[i].name, solvers[i].help);
    return buf;
}

void dsc_solver_opts_init(dsc_solver_opts *o)
{
    memset(o, 0, sizeof *o);
    o->epochs = 50.0;
    o->f_star = NAN;
    o->record_every = 1.0;
}

void dsc_solver_result_free(dsc_solver_result *r)
{
    if (!r)
        return;
    free(r->trace);
    r->trace = NULL;
    r->n_trace = 0;
}

dsc_status dsc_solver_run(const char *spec, const dsc_convex_problem *p, const dsc_solver_opts *opts, double *w,
                          dsc_solver_result *res)
{
    if (!spec || !p || !w || !res)
        return DSC_ERROR(DSC_ERR_INVALID, "dsc_solver_run: spec, problem, w and result must not be NULL");
    memset(res, 0, sizeof *res);
    dsc_solver_opts o;
    if (opts)
        o = *opts;
    else
        dsc_solver_opts_init(&o);
    if (!(o.epochs > 0.0) || !(o.record_every > 0.0))
        return DSC_ERROR(DSC_ERR_RANGE, "solver '%s': epochs (%g) and record_every (%g) must be > 0", spec, o.epochs,
                         o.record_every);
    dsc_kvspec ks;
    const solver_def *def = NULL;
    dsc_status st = parse(spec, &ks, &def);
    if (st) {
        dsc_kvspec_free(&ks);
        return st;
    }
    snprintf(res->name, sizeof res->name, "%s", def->name);
    slv s;
    memset(&s, 0, sizeof s);
    s.p = p;
    s.o = &o;
    s.spec = &ks;
    s.res = res;
    s.name = def->name;
    s.dim = p->dim;
    s.n = p->n > 0 ? p->n : 1;
    s.rng = dsc_rng_seed(o.seed ^ 0x5eed5017e2ULL);
    s.tmp = malloc((size_t)p->dim * sizeof(double));
    if (!s.tmp) {
        dsc_kvspec_free(&ks);
        return DSC_ERROR(DSC_ERR_NOMEM, "solver '%s': cannot allocate %lld doubles", spec, (long long)p->dim);
    }
    st = def->run(&s, w);
    if (!st && s.err)
        st = s.err;
    if (!st) {
        /* the final record (when the loop ended between records) */
        dsc_solver_point *last = res->n_trace ? &res->trace[res->n_trace - 1] : NULL;
        if (!last || last->grad_evals != s.evals || last->iter != s.iter) {
            s.t_start = slv_now();
            int keep = s.stop;
            record(&s, w);
            if (keep)
                s.stop = keep;
        }
        if (s.err)
            st = s.err;
    }
    if (!st && res->n_trace) {
        dsc_solver_point *last = &res->trace[res->n_trace - 1];
        res->f = last->f;
        res->subopt = last->subopt;
        res->grad_norm = last->grad_norm;
        res->dist = last->dist;
        res->passes = last->passes;
        res->grad_evals = last->grad_evals;
        res->time_s = last->time_s;
        res->iters = s.iter;
        /* stopped: 0 budget, 1 tol, 2 gtol, 3 monitor, 4 diverged, 5 no progress */
        static const int code[] = {0, 0, 1, 2, 3, 4, 0, 5};
        res->stopped = s.stop >= 0 && s.stop <= 7 ? code[s.stop] : 0;
        if (s.report_w && s.report_w != w)
            memcpy(w, s.report_w, (size_t)p->dim * sizeof(double));
    }
    free(s.tmp);
    dsc_kvspec_free(&ks);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Projections */

void dsc_project_ball(int64_t n, double r, const double *in, double *out)
{
    double nr = sqrt(slv_dot(n, in, in));
    double sc = nr > r ? r / nr : 1.0;
    for (int64_t j = 0; j < n; j++)
        out[j] = in[j] * sc;
}

void dsc_project_box(int64_t n, double lo, double hi, const double *in, double *out)
{
    for (int64_t j = 0; j < n; j++)
        out[j] = in[j] < lo ? lo : in[j] > hi ? hi : in[j];
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* Euclidean projection onto {x >= 0, sum x = r} (Held, Wolfe & Crowder 1974; Duchi et al. 2008):
 * sort u descending, rho = max{j : u_j - (sum_{i<=j} u_i - r)/j > 0}, theta = (sum_{i<=rho} u_i - r)/rho,
 * x = max(in - theta, 0). */
dsc_status dsc_project_simplex(int64_t n, double r, const double *in, double *out)
{
    double *u = calloc((size_t)(n > 0 ? n : 1), sizeof *u);
    if (!u)
        return DSC_ERROR(DSC_ERR_NOMEM, "project_simplex: cannot allocate %lld doubles", (long long)n);
    memcpy(u, in, (size_t)n * sizeof *u);
    qsort(u, (size_t)n, sizeof *u, cmp_desc);
    double cum = 0.0, theta = 0.0;
    for (int64_t j = 0; j < n; j++) {
        cum += u[j];
        double t = (cum - r) / (double)(j + 1);
        if (u[j] - t > 0.0)
            theta = t;
    }
    free(u);
    for (int64_t j = 0; j < n; j++)
        out[j] = in[j] - theta > 0.0 ? in[j] - theta : 0.0;
    return DSC_OK;
}

/* Onto {||x||_1 <= r}: x itself if inside, else sign(x) * (projection of |x| onto the r-simplex). */
dsc_status dsc_project_l1ball(int64_t n, double r, const double *in, double *out)
{
    double l1 = 0.0;
    for (int64_t j = 0; j < n; j++)
        l1 += fabs(in[j]);
    if (l1 <= r) {
        if (out != in)
            memcpy(out, in, (size_t)n * sizeof *out);
        return DSC_OK;
    }
    double *a = calloc((size_t)(n > 0 ? n : 1), sizeof *a);
    if (!a)
        return DSC_ERROR(DSC_ERR_NOMEM, "project_l1ball: cannot allocate %lld doubles", (long long)n);
    for (int64_t j = 0; j < n; j++)
        a[j] = fabs(in[j]);
    dsc_status st = dsc_project_simplex(n, r, a, a);
    if (!st)
        for (int64_t j = 0; j < n; j++)
            out[j] = in[j] < 0.0 ? -a[j] : a[j];
    free(a);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Sum tree: leaves hold the weights, each inner node the sum of its two children; a draw walks
 * from the root, going left when u*total < the left child's sum (O(log n)). */

dsc_status dsc_sum_tree_init(dsc_sum_tree *s, int64_t n, const double *w)
{
    memset(s, 0, sizeof *s);
    if (n < 1)
        return DSC_ERROR(DSC_ERR_RANGE, "sum_tree: n=%lld must be >= 1", (long long)n);
    int64_t size = 1;
    while (size < n)
        size *= 2;
    s->t = calloc((size_t)(2 * size), sizeof *s->t);
    if (!s->t)
        return DSC_ERROR(DSC_ERR_NOMEM, "sum_tree: cannot allocate %lld nodes", (long long)(2 * size));
    s->n = n;
    s->size = size;
    for (int64_t i = 0; i < n; i++)
        s->t[size + i] = w ? w[i] : 1.0;
    for (int64_t k = size - 1; k >= 1; k--)
        s->t[k] = s->t[2 * k] + s->t[2 * k + 1];
    return DSC_OK;
}

void dsc_sum_tree_set(dsc_sum_tree *s, int64_t i, double w)
{
    int64_t k = s->size + i;
    s->t[k] = w;
    for (k /= 2; k >= 1; k /= 2)
        s->t[k] = s->t[2 * k] + s->t[2 * k + 1];
}

int64_t dsc_sum_tree_sample(const dsc_sum_tree *s, double u)
{
    double x = u * s->t[1];
    int64_t k = 1;
    while (k < s->size) {
        if (x < s->t[2 * k] || s->t[2 * k + 1] <= 0.0) {
            k = 2 * k;
        } else {
            x -= s->t[2 * k];
            k = 2 * k + 1;
        }
    }
    int64_t i = k - s->size;
    return i < s->n ? i : s->n - 1;
}

void dsc_sum_tree_free(dsc_sum_tree *s)
{
    free(s->t);
    s->t = NULL;
}
