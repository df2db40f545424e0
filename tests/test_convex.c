/* Tests of the convex lab's problems and exact solver (include/descent/convex.h):
 *  - f*, w* of logistic regression (with and without intercept), ridge and lasso against
 *    scikit-learn (tests/fixtures/convex, tools/gen_sklearn_fixtures.py) to 1e-8;
 *  - gradients, Hessian-vector products and dense Hessians of every problem against central
 *    finite differences (float64, relative 1e-7), per-example gradients against the full one;
 *  - the linear-model pieces (margin, dloss, row_axpy) rebuild the per-example gradient;
 *  - constants: L of logistic regression = lambda_max(X^T X)/(4n) + lambda against a power
 *    iteration written here, L >= the Hessian's top eigenvalue at random points, L_i, mu of
 *    least squares against the Hessian's eigenvalues;
 *  - proximal operators against hand values; CSR and dense data give the same f, grad and Hv;
 *  - the exact solver: optimality (gradient-mapping norm), methods agree with each other,
 *    minimum-norm least squares, known optima, the cache round trip, bit-identical gradients
 *    for 1 and 2 threads, error messages. */
#include <stdlib.h>
#include <string.h>

#include "descent/convex.h"
#include "testing.h"

static dsc_dataset load(const char *name, int standardize, int csr)
{
    dsc_dataset ds;
    dsc_data_opts o;
    dsc_data_opts_init(&o);
    o.dtype = DSC_DATA_F64;
    o.layout = csr ? DSC_LAYOUT_CSR : DSC_LAYOUT_DENSE;
    memset(&ds, 0, sizeof(ds));
    CHECK_OK(dsc_dataset_load_opts(name, &o, &ds));
    if (standardize)
        CHECK_OK(dsc_dataset_standardize(&ds, NULL, NULL));
    return ds;
}

static dsc_convex_problem *make(const char *spec, const dsc_dataset *ds)
{
    dsc_convex_problem *p = NULL;
    dsc_status st = dsc_convex_problem_new(spec, ds, 7, &p);
    if (st != DSC_OK) {
        fprintf(stderr, "problem %s: %s\n", spec, dsc_last_error());
        dsc_test_failures++;
        return NULL;
    }
    return p;
}

static double urand(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

static void rand_vec(double *w, int64_t n, uint64_t seed, double scale)
{
    uint64_t s = seed * 2654435761ULL + 1;
    for (int64_t j = 0; j < n; j++)
        w[j] = scale * (2.0 * urand(&s) - 1.0);
}

static double vmaxabs(int64_t n, const double *a)
{
    double m = 0;
    for (int64_t j = 0; j < n; j++)
        m = fmax(m, fabs(a[j]));
    return m;
}

/* ---------------------------------------------------------------------------------------- */
/* scikit-learn fixtures */

typedef struct fixture {
    char spec[128], data[64];
    int standardize;
    int64_t dim;
    double f_star;
    double w[256];
} fixture;

static int read_fixture(const char *name, fixture *fx)
{
    char path[1024], line[512];
    const char *src = getenv("DSC_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/fixtures/convex/%s.txt", src ? src : DSC_SOURCE_DIR, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "missing fixture %s\n", path);
        return 0;
    }
    int nw = 0;
    memset(fx, 0, sizeof(*fx));
    while (fgets(line, sizeof line, f)) {
        long long dim;
        if (sscanf(line, "spec %127s", fx->spec) == 1 || sscanf(line, "data %63s", fx->data) == 1 ||
            sscanf(line, "standardize %d", &fx->standardize) == 1)
            continue;
        if (sscanf(line, "dim %lld", &dim) == 1)
            fx->dim = dim;
        else if (sscanf(line, "f_star %lf", &fx->f_star) == 1)
            ;
        else if (nw < 256 && sscanf(line, "w %lf", &fx->w[nw]) == 1)
            nw++;
    }
    fclose(f);
    return nw == fx->dim && fx->dim > 0;
}

static void check_fixture(const char *name)
{
    fixture fx;
    if (!read_fixture(name, &fx)) {
        CHECK(!"fixture readable");
        return;
    }
    dsc_dataset ds = load(fx.data, fx.standardize, 0);
    dsc_convex_problem *p = make(fx.spec, &ds);
    if (!p) {
        dsc_dataset_free(&ds);
        return;
    }
    CHECK(p->dim == fx.dim);
    double *w = calloc((size_t)p->dim, sizeof(double));
    double f = 0;
    dsc_convex_exact_info info;
    CHECK_OK(dsc_convex_solve_exact_opts(p, NULL, w, &f, &info));
    double dw = 0, wmax = vmaxabs(p->dim, fx.w);
    for (int64_t j = 0; j < p->dim; j++)
        dw = fmax(dw, fabs(w[j] - fx.w[j]));
    printf("  %-22s f*=%.17g sklearn %.17g  |dw|=%.2e  |G|=%.2e (%d it)\n", name, f, fx.f_star, dw, info.grad_norm,
           info.iters);
    CHECK_REL(f, fx.f_star, 1e-12, 1e-300);
    CHECK(dw <= 1e-8 * fmax(1.0, wmax));
    CHECK(info.grad_norm <= 1e-10);
    /* and descent's F at sklearn's w* is f* too */
    CHECK_REL(dsc_convex_value(p, fx.w), fx.f_star, 1e-13, 1e-300);
    free(w);
    dsc_convex_problem_free(p);
    dsc_dataset_free(&ds);
}

static void test_sklearn_fixtures(void)
{
    check_fixture("logreg_bc");
    check_fixture("logreg_bc_intercept");
    check_fixture("ridge_wine");
    check_fixture("ridge_wine_intercept");
    check_fixture("lasso_wine");
    check_fixture("lasso_wine_intercept");
    check_fixture("softmax_wine");
}

/* ---------------------------------------------------------------------------------------- */
/* Derivatives against finite differences */

/* |a - b| <= tol * (scale + |b|) elementwise */
static int close_vec(int64_t n, const double *a, const double *b, double tol, double scale, const char *what,
                     const char *spec)
{
    double worst = 0;
    int64_t wj = 0;
    for (int64_t j = 0; j < n; j++) {
        double e = fabs(a[j] - b[j]) / (scale + fabs(b[j]));
        if (!(e <= worst)) {
            worst = e;
            wj = j;
        }
    }
    if (!(worst <= tol)) {
        fprintf(stderr, "  %s %s: entry %lld: %.12g vs %.12g (rel %.2e > %.1e)\n", spec, what, (long long)wj, a[wj],
                b[wj], worst, tol);
        return 0;
    }
    return 1;
}

static void check_derivatives(const char *spec, const dsc_dataset *ds, double wscale)
{
    dsc_convex_problem *p = make(spec, ds);
    if (!p)
        return;
    int64_t n = p->dim;
    double *w = malloc((size_t)n * 9 * sizeof(double));
    double *g = w + n, *gfd = w + 2 * n, *v = w + 3 * n, *hv = w + 4 * n, *hfd = w + 5 * n, *wt = w + 6 * n,
           *g1 = w + 7 * n, *g2 = w + 8 * n;
    rand_vec(w, n, 11, wscale);
    rand_vec(v, n, 12, 1.0);
    dsc_convex_grad(p, w, g);
    double gs = vmaxabs(n, g);
    /* central differences: error h^2 f''' / 6 + eps |f| / h; h = 1e-5 balances them */
    double h = 1e-5;
    for (int64_t j = 0; j < n; j++) {
        memcpy(wt, w, (size_t)n * sizeof(double));
        wt[j] = w[j] + h;
        double fp = dsc_convex_grad(p, wt, NULL);
        wt[j] = w[j] - h;
        double fm = dsc_convex_grad(p, wt, NULL);
        gfd[j] = (fp - fm) / (2 * h);
    }
    CHECK(close_vec(n, g, gfd, 1e-7, gs + 1e-3, "gradient", spec));
    /* F = g + h */
    CHECK_NEAR(dsc_convex_value(p, w), dsc_convex_grad(p, w, NULL) + dsc_convex_reg_value(p, w), 1e-15);
    /* Hessian-vector product against differences of gradients */
    dsc_convex_hvp(p, w, v, hv);
    for (int64_t j = 0; j < n; j++)
        wt[j] = w[j] + h * v[j];
    dsc_convex_grad(p, wt, g1);
    for (int64_t j = 0; j < n; j++)
        wt[j] = w[j] - h * v[j];
    dsc_convex_grad(p, wt, g2);
    for (int64_t j = 0; j < n; j++)
        hfd[j] = (g1[j] - g2[j]) / (2 * h);
    CHECK(close_vec(n, hv, hfd, 1e-7, vmaxabs(n, hv) + 1e-3, "hvp", spec));
    /* dense Hessian times v = hvp */
    if (n <= 400) {
        double *H = malloc((size_t)(n * n) * sizeof(double));
        CHECK_OK(dsc_convex_hessian(p, w, H));
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t k = 0; k < n; k++)
                s += H[j * n + k] * v[k];
            g1[j] = s;
        }
        CHECK(close_vec(n, g1, hv, 1e-11, vmaxabs(n, hv) + 1e-9, "hessian", spec));
        free(H);
    }
    /* per-example: mean of f_i and grad f_i = g and grad g; batch = mean of the examples */
    int64_t ne = p->n;
    double fsum = 0;
    memset(g1, 0, (size_t)n * sizeof(double));
    for (int64_t i = 0; i < ne; i++) {
        fsum += dsc_convex_example_grad(p, i, w, g2);
        for (int64_t j = 0; j < n; j++)
            g1[j] += g2[j];
    }
    for (int64_t j = 0; j < n; j++)
        g1[j] /= (double)ne;
    CHECK_REL(fsum / (double)ne, dsc_convex_grad(p, w, NULL), 1e-12, 1e-12);
    CHECK(close_vec(n, g1, g, 1e-11, gs + 1e-9, "mean of example gradients", spec));
    int64_t idx[3] = {0, ne - 1, ne / 2};
    double fb = dsc_convex_batch_grad(p, idx, 3, w, g1), fe = 0;
    memset(hv, 0, (size_t)n * sizeof(double));
    for (int t = 0; t < 3; t++) {
        fe += dsc_convex_example_grad(p, idx[t], w, g2) / 3.0;
        for (int64_t j = 0; j < n; j++)
            hv[j] += g2[j] / 3.0;
    }
    CHECK_REL(fb, fe, 1e-13, 1e-13);
    CHECK(close_vec(n, g1, hv, 1e-12, vmaxabs(n, hv) + 1e-12, "batch gradient", spec));
    /* example gradient against finite differences of f_i (one example) */
    int64_t i0 = ne / 3;
    dsc_convex_example_grad(p, i0, w, g1);
    for (int64_t j = 0; j < n; j++) {
        memcpy(wt, w, (size_t)n * sizeof(double));
        wt[j] = w[j] + h;
        double fp = dsc_convex_example_grad(p, i0, wt, NULL);
        wt[j] = w[j] - h;
        double fm = dsc_convex_example_grad(p, i0, wt, NULL);
        gfd[j] = (fp - fm) / (2 * h);
    }
    CHECK(close_vec(n, g1, gfd, 1e-7, vmaxabs(n, g1) + 1e-3, "example gradient", spec));
    /* linear models: margin, dloss and row_axpy rebuild grad f_i */
    if (p->linear) {
        double z[16], dz[16];
        dsc_convex_margin(p, i0, w, z);
        double fi = dsc_convex_dloss(p, i0, z, dz, NULL);
        memset(g2, 0, (size_t)n * sizeof(double));
        dsc_convex_row_axpy(p, i0, dz, g2);
        dsc_convex_add_l2(p, w, g2);
        CHECK(close_vec(n, g2, g1, 1e-14, vmaxabs(n, g1) + 1e-14, "linear pieces", spec));
        int64_t nreg = p->d * p->K;
        double r2 = 0;
        for (int64_t j = 0; j < nreg; j++)
            r2 += w[j] * w[j];
        CHECK_REL(fi + 0.5 * p->l2 * r2, dsc_convex_example_grad(p, i0, w, NULL), 1e-14, 1e-14);
        /* L_i: the curvature bound times ||x~_i||^2 + l2 bounds the example's Hessian along x~_i */
        CHECK(p->L_i != NULL && p->L_i[i0] > 0);
        CHECK(p->L_max >= p->L_i[i0] && p->L >= p->mu);
    }
    printf("  %-44s dim %-4lld n %-5lld ok\n", spec, (long long)n, (long long)ne);
    free(w);
    dsc_convex_problem_free(p);
}

static void test_derivatives_linear(void)
{
    dsc_dataset bc = load("breast-cancer", 1, 0), iris = load("iris", 1, 0), wine = load("wine", 1, 0);
    check_derivatives("lsq", &wine, 0.3);
    check_derivatives("lsq:intercept=1", &wine, 0.3);
    check_derivatives("ridge:l2=0.1", &wine, 0.3);
    check_derivatives("lasso:l1=0.05", &wine, 0.3);
    check_derivatives("logreg:l2=1e-2", &bc, 0.3);
    check_derivatives("logreg:l2=1e-2,intercept=1", &bc, 0.3);
    check_derivatives("logreg:l2=1e-3,class=2", &iris, 0.5);
    check_derivatives("logreg_l1:l1=1e-2", &bc, 0.3);
    check_derivatives("sqhinge:l2=1e-2", &bc, 0.1);
    check_derivatives("smoothhinge:l2=1e-2,gamma=0.5", &bc, 0.1);
    check_derivatives("huber:delta=0.5,l2=1e-2", &wine, 0.3);
    check_derivatives("softmax:l2=1e-2", &iris, 0.5);
    check_derivatives("softmax:l2=1e-2,intercept=1", &wine, 0.3);
    dsc_dataset_free(&bc);
    dsc_dataset_free(&iris);
    dsc_dataset_free(&wine);
}

static void test_derivatives_other(void)
{
    check_derivatives("quadratic:d=8,kappa=50", NULL, 1.0);
    check_derivatives("quadratic:d=6,kappa=10,spectrum=linear,mu=0.5", NULL, 1.0);
    check_derivatives("rosenbrock:d=5", NULL, 1.0);
    check_derivatives("rosenbrock:d=2,a=0.5,b=10", NULL, 1.0);
    check_derivatives("saddle:d=3", NULL, 1.0);
    check_derivatives("phase_retrieval:d=6,n=40", NULL, 0.5);
    check_derivatives("matrix_factorization:m=6,q=5,r=2", NULL, 0.5);
    check_derivatives("matrix_factorization:m=6,q=5,r=2,obs=0.5", NULL, 0.5);
    check_derivatives("sensing:m=4,q=3,r=2,n=30", NULL, 0.5);
    check_derivatives("deep_linear:depth=3,in=4,out=3,width=5,n=30", NULL, 0.5);
    check_derivatives("deep_linear:depth=1,in=4,out=2,n=30", NULL, 0.5);
    dsc_dataset wine = load("wine", 1, 0);
    check_derivatives("deep_linear:depth=2,width=3", &wine, 0.3);
    dsc_dataset_free(&wine);
}

/* ---------------------------------------------------------------------------------------- */
/* Constants */

typedef struct gram_ctx {
    const double *X;
    int64_t n, d;
} gram_ctx;

static void sym_apply(void *ctx, const double *v, double *out)
{
    const gram_ctx *g = ctx; /* X is a symmetric d x d matrix here */
    for (int64_t j = 0; j < g->d; j++) {
        double s = 0;
        for (int64_t k = 0; k < g->d; k++)
            s += g->X[j * g->d + k] * v[k];
        out[j] = s;
    }
}

/* Lanczos and the power iteration against all eigenvalues by Jacobi, on a random PSD matrix
 * with a clustered top of the spectrum (where the power iteration is slow). */
static void test_eigen(void)
{
    int64_t d = 120;
    double *B = malloc((size_t)(d * d) * sizeof(double)), *A = malloc((size_t)(d * d) * sizeof(double));
    double *A2 = malloc((size_t)(d * d) * sizeof(double)), *ev = malloc((size_t)d * sizeof(double));
    rand_vec(B, d * d, 9, 1.0);
    for (int64_t j = 0; j < d; j++)
        for (int64_t k = 0; k < d; k++) {
            double s = 0;
            for (int64_t t = 0; t < d; t++)
                s += B[j * d + t] * B[k * d + t];
            A[j * d + k] = s / (double)d;
        }
    memcpy(A2, A, (size_t)(d * d) * sizeof(double));
    CHECK_OK(dsc_sym_eig(d, A2, ev, NULL));
    CHECK(ev[0] >= -1e-12 && ev[0] <= ev[d - 1]);
    gram_ctx c = {A, d, d};
    double lz = dsc_lanczos_max(d, sym_apply, &c, 120, 1e-14);
    double pw = dsc_power_iteration(d, sym_apply, &c, 20000, 1e-15);
    printf("  lambda_max: jacobi %.15g lanczos %.15g power %.15g\n", ev[d - 1], lz, pw);
    CHECK_REL(lz, ev[d - 1], 1e-12, 1e-300);
    CHECK_REL(pw, ev[d - 1], 1e-8, 1e-300);
    /* eigenvectors: A V = V diag(ev) */
    double *V = malloc((size_t)(d * d) * sizeof(double));
    memcpy(A2, A, (size_t)(d * d) * sizeof(double));
    CHECK_OK(dsc_sym_eig(d, A2, ev, V));
    double worst = 0;
    for (int64_t j = 0; j < d; j++)
        for (int64_t k = 0; k < d; k += 7) {
            double s = 0;
            for (int64_t t = 0; t < d; t++)
                s += A[j * d + t] * V[t * d + k];
            worst = fmax(worst, fabs(s - ev[k] * V[j * d + k]));
        }
    CHECK(worst <= 1e-12 * ev[d - 1]);
    /* Cholesky solve */
    memcpy(A2, A, (size_t)(d * d) * sizeof(double));
    for (int64_t j = 0; j < d; j++)
        A2[j * d + j] += 1.0;
    double *b = malloc((size_t)d * sizeof(double)), *x = malloc((size_t)d * sizeof(double));
    rand_vec(b, d, 4, 1.0);
    memcpy(x, b, (size_t)d * sizeof(double));
    CHECK_OK(dsc_cholesky(d, A2));
    dsc_cholesky_solve(d, A2, x);
    worst = 0;
    for (int64_t j = 0; j < d; j++) {
        double s = x[j];
        for (int64_t t = 0; t < d; t++)
            s += A[j * d + t] * x[t];
        worst = fmax(worst, fabs(s - b[j]));
    }
    CHECK(worst <= 1e-12);
    A2[0] = -1.0; /* not positive definite */
    CHECK_STATUS(dsc_cholesky(d, A2), DSC_ERR_NUMERIC);
    free(b);
    free(x);
    free(V);
    free(A);
    free(A2);
    free(B);
    free(ev);
}

static void test_constants(void)
{
    dsc_dataset bc = load("breast-cancer", 1, 0);
    dsc_convex_problem *p = make("logreg:l2=1e-3", &bc);
    if (!p) {
        dsc_dataset_free(&bc);
        return;
    }
    int64_t n = bc.n, d = bc.d;
    /* power iteration on X^T X / n, written out here (many iterations, Rayleigh quotient) */
    double *v = malloc((size_t)d * 2 * sizeof(double)), *u = v + d;
    for (int64_t j = 0; j < d; j++)
        v[j] = 1.0;
    double lam = 0;
    for (int it = 0; it < 3000; it++) {
        memset(u, 0, (size_t)d * sizeof(double));
        for (int64_t i = 0; i < n; i++) {
            const double *x = bc.x64 + i * d;
            double s = 0;
            for (int64_t j = 0; j < d; j++)
                s += x[j] * v[j];
            for (int64_t j = 0; j < d; j++)
                u[j] += s * x[j] / (double)n;
        }
        double nu = 0, vu = 0, vv = 0;
        for (int64_t j = 0; j < d; j++) {
            nu += u[j] * u[j];
            vu += v[j] * u[j];
            vv += v[j] * v[j];
        }
        lam = vu / vv;
        nu = sqrt(nu);
        for (int64_t j = 0; j < d; j++)
            v[j] = u[j] / nu;
    }
    printf("  logreg L = %.15g, lambda_max/(4n) + l2 = %.15g\n", p->L, lam / 4 + 1e-3);
    CHECK_REL(p->L, lam / 4.0 + 1e-3, 1e-10, 1e-300);
    CHECK_REL(p->mu, 1e-3, 1e-15, 1e-300);
    /* L_i = ||x_i||^2 / 4 + l2 */
    double s = 0;
    for (int64_t j = 0; j < d; j++)
        s += bc.x64[5 * d + j] * bc.x64[5 * d + j];
    CHECK_REL(p->L_i[5], s / 4 + 1e-3, 1e-14, 1e-300);
    /* L bounds the Hessian's largest eigenvalue at random points (and 0, where it is attained
     * up to the sigma'(0) = 1/4 bound: H(0) = X^T X / (4n) + l2 I exactly) */
    double *H = malloc((size_t)(d * d) * sizeof(double)), *ev = malloc((size_t)d * sizeof(double));
    double *w = calloc((size_t)d, sizeof(double));
    CHECK_OK(dsc_convex_hessian(p, w, H));
    CHECK_OK(dsc_sym_eig(d, H, ev, NULL));
    CHECK_REL(ev[d - 1], p->L, 1e-10, 1e-300);
    CHECK_REL(ev[0], dsc_convex_hessian(p, w, H) == DSC_OK ? ev[0] : 0, 1e-15, 1e-300);
    rand_vec(w, d, 3, 0.5);
    CHECK_OK(dsc_convex_hessian(p, w, H));
    CHECK_OK(dsc_sym_eig(d, H, ev, NULL));
    CHECK(ev[d - 1] <= p->L * (1 + 1e-12));
    CHECK(ev[0] >= p->mu * (1 - 1e-9));
    dsc_convex_problem_free(p);

    /* least squares: L and mu are the extreme eigenvalues of X^T X / n (+ l2) */
    dsc_dataset wine = load("wine", 1, 0);
    p = make("ridge:l2=0.05", &wine);
    if (p) {
        int64_t dd = p->dim;
        double *Hw = malloc((size_t)(dd * dd) * sizeof(double)), *e2 = malloc((size_t)dd * sizeof(double));
        double *z = calloc((size_t)dd, sizeof(double));
        CHECK_OK(dsc_convex_hessian(p, z, Hw));
        CHECK_OK(dsc_sym_eig(dd, Hw, e2, NULL));
        CHECK_REL(p->L, e2[dd - 1], 1e-12, 1e-300);
        CHECK_REL(p->mu, e2[0], 1e-10, 1e-300);
        CHECK(p->mu > 0.05);
        free(Hw);
        free(e2);
        free(z);
        dsc_convex_problem_free(p);
    }
    /* with an unregularized intercept: still the Hessian's extreme eigenvalues */
    p = make("ridge:l2=0.05,intercept=1", &wine);
    if (p) {
        int64_t dd = p->dim;
        double *Hw = malloc((size_t)(dd * dd) * sizeof(double)), *e2 = malloc((size_t)dd * sizeof(double));
        double *z = calloc((size_t)dd, sizeof(double));
        CHECK_OK(dsc_convex_hessian(p, z, Hw));
        CHECK_OK(dsc_sym_eig(dd, Hw, e2, NULL));
        CHECK_REL(p->L, e2[dd - 1], 1e-12, 1e-300);
        CHECK_REL(p->mu, e2[0], 1e-10, 1e-300);
        free(Hw);
        free(e2);
        free(z);
        dsc_convex_problem_free(p);
    }
    /* quadratic: L = mu kappa, mu */
    p = make("quadratic:d=12,kappa=1000,mu=0.1", NULL);
    if (p) {
        double *Hq = malloc(144 * sizeof(double)), e3[12], z[12] = {0};
        CHECK_OK(dsc_convex_hessian(p, z, Hq));
        CHECK_OK(dsc_sym_eig(12, Hq, e3, NULL));
        CHECK_REL(e3[0], 0.1, 1e-12, 1e-300);
        CHECK_REL(e3[11], 100.0, 1e-12, 1e-300);
        CHECK_REL(p->L, 100.0, 1e-15, 1e-300);
        CHECK_REL(p->mu, 0.1, 1e-15, 1e-300);
        free(Hq);
        dsc_convex_problem_free(p);
    }
    /* softmax L = lambda_max / (2n) + l2 bounds the Hessian */
    p = make("softmax:l2=1e-2,intercept=1", &wine);
    if (p) {
        int64_t dd = p->dim;
        double *Hs = malloc((size_t)(dd * dd) * sizeof(double)), *e4 = malloc((size_t)dd * sizeof(double));
        double *z = calloc((size_t)dd, sizeof(double));
        CHECK_OK(dsc_convex_hessian(p, z, Hs));
        CHECK_OK(dsc_sym_eig(dd, Hs, e4, NULL));
        CHECK(e4[dd - 1] <= p->L * (1 + 1e-12));
        CHECK(e4[dd - 1] >= 0.5 * p->L); /* not a loose bound */
        free(Hs);
        free(e4);
        free(z);
        dsc_convex_problem_free(p);
    }
    dsc_dataset_free(&wine);
    free(v);
    free(H);
    free(ev);
    free(w);
    dsc_dataset_free(&bc);
}

/* d > 400: L from Lanczos on the CSR data; the Hessian at 0 of logistic regression is
 * X^T X/(4n) + l2 I, whose top eigenvalue the test takes from the power iteration */
typedef struct hvp_ctx {
    const dsc_convex_problem *p;
    const double *w;
} hvp_ctx;
static void hvp_apply(void *ctx, const double *v, double *out)
{
    const hvp_ctx *c = ctx;
    dsc_convex_hvp(c->p, c->w, v, out);
}

static void test_sparse_large(void)
{
    dsc_data_opts o;
    dsc_data_opts_init(&o);
    o.dtype = DSC_DATA_F64;
    o.layout = DSC_LAYOUT_NATIVE;
    dsc_dataset ds;
    memset(&ds, 0, sizeof(ds));
    CHECK_OK(dsc_dataset_load_opts("logistic:n=2000,d=1000,density=0.01", &o, &ds));
    CHECK(ds.sparse == 1);
    dsc_convex_problem *p = make("logreg:l2=1e-3", &ds);
    if (p) {
        double *w = calloc((size_t)p->dim, sizeof(double));
        hvp_ctx c = {p, w};
        double pw = dsc_power_iteration(p->dim, hvp_apply, &c, 5000, 1e-13);
        printf("  sparse logreg d=1000: L %.15g, power iteration on H(0) %.15g\n", p->L, pw);
        CHECK_REL(p->L, pw, 1e-8, 1e-300);
        CHECK(p->L >= pw * (1 - 1e-12));
        /* the exact solver on the large-d path (L-BFGS) */
        double f;
        dsc_convex_exact_opts eo;
        dsc_convex_exact_opts_init(&eo);
        eo.max_newton_dim = 500;
        dsc_convex_exact_info info;
        CHECK_OK(dsc_convex_solve_exact_opts(p, &eo, w, &f, &info));
        CHECK(info.method == DSC_EXACT_LBFGS && info.grad_norm <= 1e-10);
        printf("  sparse logreg d=1000: L-BFGS f*=%.17g |G|=%.2e (%d it)\n", f, info.grad_norm, info.iters);
        free(w);
        dsc_convex_problem_free(p);
    }
    dsc_dataset_free(&ds);
}

/* ---------------------------------------------------------------------------------------- */
/* Proximal operators */

static void test_prox(void)
{
    double in[5] = {3.0, -0.5, -2.0, 0.2, 1.0}, out[5];
    dsc_prox_l1(5, 1.0, in, out);
    CHECK(out[0] == 2.0 && out[1] == 0.0 && out[2] == -1.0 && out[3] == 0.0 && out[4] == 0.0);
    dsc_prox_l2sq(5, 1.0, in, out);
    CHECK(out[0] == 1.5 && out[1] == -0.25 && out[2] == -1.0 && out[3] == 0.1 && out[4] == 0.5);
    /* in place */
    double a[2] = {0.7, -0.7};
    dsc_prox_l1(2, 0.2, a, a);
    CHECK_NEAR(a[0], 0.5, 1e-15);
    CHECK_NEAR(a[1], -0.5, 1e-15);
    /* problem prox: soft threshold at t*l1 on the weights, intercept copied */
    dsc_dataset wine = load("wine", 1, 0);
    dsc_convex_problem *p = make("lasso:l1=0.5,intercept=1", &wine);
    if (p) {
        double w[14], u[14];
        for (int j = 0; j < 14; j++)
            w[j] = (j - 7) * 0.3;
        dsc_convex_prox(p, 2.0, w, u); /* threshold 1 */
        for (int j = 0; j < 13; j++) {
            double e = fabs(w[j]) > 1.0 ? w[j] - (w[j] > 0 ? 1.0 : -1.0) : 0.0;
            CHECK_NEAR(u[j], e, 1e-15);
        }
        CHECK(u[13] == w[13]);
        CHECK(!p->smooth && p->l1 == 0.5);
        CHECK_NEAR(dsc_convex_reg_value(p, w), 0.5 * (0.3 * (7 + 6 + 5 + 4 + 3 + 2 + 1 + 0 + 1 + 2 + 3 + 4 + 5)), 1e-12);
        dsc_convex_problem_free(p);
    }
    p = make("ridge:l2=1", &wine);
    if (p) {
        double w[13], u[13];
        for (int j = 0; j < 13; j++)
            w[j] = j;
        dsc_convex_prox(p, 1.0, w, u); /* smooth problem: identity */
        CHECK(memcmp(w, u, sizeof w) == 0);
        CHECK(p->smooth);
        dsc_convex_problem_free(p);
    }
    dsc_dataset_free(&wine);
}

/* ---------------------------------------------------------------------------------------- */
/* Losses at extreme margins: finite and exact (log1p(exp(-|m|)) form, overflow-free sigma) */

static void test_stability(void)
{
    dsc_dataset bc = load("breast-cancer", 0, 0), iris = load("iris", 0, 0);
    dsc_convex_problem *p = make("logreg:l2=0", &bc);
    if (p) {
        int64_t ipos = -1, ineg = -1;
        for (int64_t i = 0; i < bc.n; i++) {
            if (dsc_dataset_label(&bc, i) == 1.0 && ipos < 0)
                ipos = i;
            if (dsc_dataset_label(&bc, i) == 0.0 && ineg < 0)
                ineg = i;
        }
        double z, dz, d2;
        z = -1000; /* y = +1: loss = 1000 exactly, derivative -1 */
        CHECK(dsc_convex_dloss(p, ipos, &z, &dz, &d2) == 1000.0 && dz == -1.0 && d2 == 0.0);
        z = 1000; /* loss exp(-1000) underflows to 0, no NaN */
        CHECK(dsc_convex_dloss(p, ipos, &z, &dz, &d2) == 0.0 && dz == 0.0 && d2 == 0.0);
        z = -40; /* y = -1: loss log(1 + e^-40) = 4.248354255291589e-18 */
        CHECK_REL(dsc_convex_dloss(p, ineg, &z, &dz, &d2), 4.248354255291589e-18, 1e-15, 1e-300);
        CHECK_REL(dz, 4.248354255291589e-18, 1e-15, 1e-300);
        z = 0;
        CHECK_NEAR(dsc_convex_dloss(p, ineg, &z, &dz, &d2), log(2.0), 1e-16);
        CHECK(dz == 0.5 && d2 == 0.25);
        /* raw (unstandardized) breast-cancer features reach |x^T w| ~ 1e3 at w = 1: F finite */
        double w[30], g[30];
        for (int j = 0; j < 30; j++)
            w[j] = 1.0;
        double f = dsc_convex_grad(p, w, g);
        CHECK(isfinite(f) && f > 100 && isfinite(g[0]));
        dsc_convex_problem_free(p);
    }
    p = make("softmax:l2=0", &iris);
    if (p) {
        double z[3] = {1000.0, -1000.0, 0.0}, dz[3], d2[3];
        int64_t i2 = 149; /* class 2 */
        CHECK(dsc_dataset_label(&iris, i2) == 2.0);
        double f = dsc_convex_dloss(p, i2, z, dz, d2);
        CHECK(f == 1000.0 && dz[0] == 1.0 && dz[2] == -1.0 && dz[1] == 0.0);
        dsc_convex_problem_free(p);
    }
    p = make("huber:delta=2", &iris);
    if (p) {
        double z = dsc_dataset_label(&iris, 0) + 5.0, dz, d2; /* r = 5 > delta: 2 (5 - 1) = 8 */
        CHECK_NEAR(dsc_convex_dloss(p, 0, &z, &dz, &d2), 8.0, 1e-15);
        CHECK(dz == 2.0 && d2 == 0.0);
        z = dsc_dataset_label(&iris, 0) - 1.0; /* r = -1: 1/2 */
        CHECK_NEAR(dsc_convex_dloss(p, 0, &z, &dz, &d2), 0.5, 1e-15);
        CHECK(dz == -1.0 && d2 == 1.0);
        dsc_convex_problem_free(p);
    }
    p = make("smoothhinge:gamma=0.5,class=0", &iris);
    if (p) {
        double z, dz, d2; /* example 0 is class 0: y = +1; m = z */
        z = 2.0;
        CHECK(dsc_convex_dloss(p, 0, &z, &dz, &d2) == 0.0 && dz == 0.0);
        z = 0.75; /* (1 - m)^2 / (2 gamma) = 0.0625 */
        CHECK_NEAR(dsc_convex_dloss(p, 0, &z, &dz, &d2), 0.0625, 1e-16);
        CHECK_NEAR(dz, -0.5, 1e-16);
        z = -1.0; /* 1 - m - gamma/2 = 1.75 */
        CHECK_NEAR(dsc_convex_dloss(p, 0, &z, &dz, &d2), 1.75, 1e-16);
        CHECK(dz == -1.0);
        dsc_convex_problem_free(p);
    }
    dsc_dataset_free(&bc);
    dsc_dataset_free(&iris);
}

/* ---------------------------------------------------------------------------------------- */
/* CSR vs dense */

static void check_csr(const char *spec, const char *data)
{
    dsc_dataset dn = load(data, 1, 0), sp = load(data, 0, 1);
    /* the CSR copy standardized like the dense one would keep its means: scale the dense set's
     * standardized values into a CSR copy instead */
    dsc_dataset_free(&sp);
    memset(&sp, 0, sizeof(sp));
    CHECK_OK(dsc_dataset_copy(&dn, &sp));
    CHECK_OK(dsc_dataset_sparsify(&sp));
    CHECK(sp.sparse == 1);
    dsc_convex_problem *a = make(spec, &dn), *b = make(spec, &sp);
    if (a && b) {
        CHECK(b->sparse == 1 && a->sparse == 0);
        int64_t n = a->dim;
        double *w = malloc((size_t)n * 6 * sizeof(double)), *ga = w + n, *gb = w + 2 * n, *v = w + 3 * n,
               *ha = w + 4 * n, *hb = w + 5 * n;
        rand_vec(w, n, 5, 0.3);
        rand_vec(v, n, 6, 1.0);
        double fa = dsc_convex_grad(a, w, ga), fb = dsc_convex_grad(b, w, gb);
        CHECK_REL(fa, fb, 1e-14, 1e-300);
        CHECK(close_vec(n, gb, ga, 1e-13, vmaxabs(n, ga), "csr gradient", spec));
        dsc_convex_hvp(a, w, v, ha);
        dsc_convex_hvp(b, w, v, hb);
        CHECK(close_vec(n, hb, ha, 1e-13, vmaxabs(n, ha), "csr hvp", spec));
        CHECK_REL(a->L, b->L, 1e-12, 1e-300);
        CHECK_REL(a->L_max, b->L_max, 1e-14, 1e-300);
        for (int64_t i = 0; i < a->n; i += 37) {
            double ea = dsc_convex_example_grad(a, i, w, ga), eb = dsc_convex_example_grad(b, i, w, gb);
            CHECK_REL(ea, eb, 1e-14, 1e-14);
            CHECK(close_vec(n, gb, ga, 1e-13, vmaxabs(n, ga), "csr example gradient", spec));
        }
        /* the CSR row view */
        const int32_t *idx;
        const double *val;
        int64_t nnz = dsc_convex_row(b, 3, &idx, &val);
        CHECK(idx != NULL && nnz <= b->d);
        nnz = dsc_convex_row(a, 3, &idx, &val);
        CHECK(idx == NULL && nnz == a->d);
        free(w);
    }
    dsc_convex_problem_free(a);
    dsc_convex_problem_free(b);
    dsc_dataset_free(&dn);
    dsc_dataset_free(&sp);
}

static void test_csr_dense(void)
{
    /* float32 data are converted exactly: the same problem as from the float64 conversion */
    dsc_data_opts o;
    dsc_data_opts_init(&o);
    dsc_dataset d32, d64;
    memset(&d32, 0, sizeof(d32));
    memset(&d64, 0, sizeof(d64));
    CHECK_OK(dsc_dataset_load_opts("breast-cancer", &o, &d32));
    CHECK_OK(dsc_dataset_copy(&d32, &d64));
    CHECK_OK(dsc_dataset_to_dtype(&d64, DSC_DATA_F64));
    dsc_convex_problem *a = make("logreg:l2=1e-2", &d32), *b = make("logreg:l2=1e-2", &d64);
    if (a && b) {
        double w[30], ga[30], gb[30];
        rand_vec(w, 30, 8, 1e-3);
        CHECK(dsc_convex_grad(a, w, ga) == dsc_convex_grad(b, w, gb) && memcmp(ga, gb, sizeof ga) == 0);
        CHECK(a->fingerprint == b->fingerprint);
    }
    dsc_convex_problem_free(a);
    dsc_convex_problem_free(b);
    dsc_dataset_free(&d32);
    dsc_dataset_free(&d64);

    check_csr("logreg:l2=1e-2,intercept=1", "breast-cancer");
    check_csr("lasso:l1=0.01", "wine");
    check_csr("softmax:l2=1e-2,intercept=1", "digits");
    check_csr("huber:delta=0.3", "wine");
}

/* ---------------------------------------------------------------------------------------- */
/* The exact solver */

static void check_exact(const char *spec, const dsc_dataset *ds, dsc_convex_exact_method alt)
{
    dsc_convex_problem *p = make(spec, ds);
    if (!p)
        return;
    int64_t n = p->dim;
    double *w = calloc((size_t)n * 2, sizeof(double)), *w2 = w + n, f = 0, f2 = 0;
    dsc_convex_exact_info info;
    CHECK_OK(dsc_convex_solve_exact_opts(p, NULL, w, &f, &info));
    printf("  %-40s f*=%.17g |G|=%.2e method %d, %d it\n", spec, f, info.grad_norm, (int)info.method, info.iters);
    CHECK(info.grad_norm <= 1e-10);
    if (alt != DSC_EXACT_AUTO) {
        dsc_convex_exact_opts o;
        dsc_convex_exact_opts_init(&o);
        o.method = alt;
        CHECK_OK(dsc_convex_solve_exact_opts(p, &o, w2, &f2, &info));
        CHECK_REL(f2, f, 1e-12, 1e-300);
        double dw = 0;
        for (int64_t j = 0; j < n; j++)
            dw = fmax(dw, fabs(w[j] - w2[j]));
        CHECK(dw <= 1e-7 * fmax(1.0, vmaxabs(n, w)));
        printf("  %-40s alternative method %d: f*=%.17g |dw|=%.2e (%d it)\n", "", (int)alt, f2, dw, info.iters);
    }
    free(w);
    dsc_convex_problem_free(p);
}

static void test_exact(void)
{
    dsc_dataset bc = load("breast-cancer", 1, 0), wine = load("wine", 1, 0), iris = load("iris", 1, 0);
    check_exact("logreg:l2=1e-3", &bc, DSC_EXACT_LBFGS);
    check_exact("logreg_l1:l1=1e-2", &bc, DSC_EXACT_FISTA);
    check_exact("lasso:l1=0.02,intercept=1", &wine, DSC_EXACT_FISTA);
    check_exact("sqhinge:l2=1e-2", &bc, DSC_EXACT_LBFGS);
    check_exact("smoothhinge:l2=1e-2", &bc, DSC_EXACT_LBFGS);
    check_exact("huber:delta=0.5,l2=1e-3", &wine, DSC_EXACT_LBFGS);
    check_exact("softmax:l2=1e-2,intercept=1", &iris, DSC_EXACT_LBFGS);
    check_exact("lsq:intercept=1", &wine, DSC_EXACT_LBFGS);

    /* known optima */
    dsc_convex_problem *p = make("quadratic:d=10,kappa=100", NULL);
    if (p) {
        double w[10], ws[10], f;
        CHECK_OK(dsc_convex_solve_exact(p, w, &f));
        CHECK_NEAR(f, 0.0, 1e-300);
        /* Newton from 0 reaches the same point */
        dsc_convex_exact_opts o;
        dsc_convex_exact_opts_init(&o);
        o.method = DSC_EXACT_NEWTON;
        CHECK_OK(dsc_convex_solve_exact_opts(p, &o, ws, &f, NULL));
        for (int j = 0; j < 10; j++)
            CHECK_NEAR(ws[j], w[j], 1e-12);
        CHECK(f <= 1e-24);
        dsc_convex_problem_free(p);
    }
    const char *known[] = {"rosenbrock:d=4", "saddle:d=3", "phase_retrieval:d=5,n=50", "matrix_factorization:m=5,q=4,r=2",
                           "deep_linear:depth=3,in=3,out=2,width=4,n=40"};
    for (int k = 0; k < 5; k++) {
        p = make(known[k], NULL);
        if (!p)
            continue;
        double *w = calloc((size_t)p->dim, sizeof(double)), f;
        CHECK(p->has_known_optimum && !p->convex);
        CHECK_OK(dsc_convex_solve_exact(p, w, &f));
        CHECK_NEAR(f, p->f_star_known, 1e-14);
        CHECK(dsc_convex_grad_mapping_norm(p, w, 0) <= 1e-12);
        free(w);
        dsc_convex_problem_free(p);
    }
    p = make("saddle", NULL);
    if (p) {
        double w[2];
        dsc_convex_initial_point(p, 0, w);
        CHECK(w[0] == 0 && w[1] == 0);
        CHECK_NEAR(p->f_star_known, -0.25, 0);
        double H[4];
        CHECK_OK(dsc_convex_hessian(p, w, H));
        CHECK(H[3] == -1.0 && H[0] == 1.0); /* a strict saddle */
        dsc_convex_problem_free(p);
    }
    /* deep linear: f* equals the linear least-squares optimum (one layer, solved by Newton) */
    dsc_convex_problem *d3 = make("deep_linear:depth=3,in=4,out=1,width=3,n=60", NULL);
    dsc_convex_problem *d1 = make("deep_linear:depth=1,in=4,out=1,n=60", NULL);
    if (d3 && d1) {
        double w[4], f1;
        dsc_convex_exact_opts o;
        dsc_convex_exact_opts_init(&o);
        o.method = DSC_EXACT_NEWTON;
        CHECK_OK(dsc_convex_solve_exact_opts(d1, &o, w, &f1, NULL));
        CHECK_REL(d3->f_star_known, f1, 1e-12, 1e-300);
    }
    dsc_convex_problem_free(d3);
    dsc_convex_problem_free(d1);

    /* overparameterized least squares: the minimum-norm solution, f* = 0 */
    dsc_dataset sub;
    int64_t idx[8] = {0, 20, 40, 60, 80, 100, 120, 140};
    CHECK_OK(dsc_dataset_subset(&wine, idx, 8, &sub));
    p = make("lsq", &sub);
    if (p) {
        double w[13], f;
        CHECK_OK(dsc_convex_solve_exact(p, w, &f));
        CHECK(f <= 1e-24);
        /* minimum norm: w = X^T a with (X X^T) a = y */
        double G[64], a[8];
        for (int i = 0; i < 8; i++) {
            for (int k = 0; k < 8; k++) {
                double s = 0;
                for (int j = 0; j < 13; j++)
                    s += sub.x64[i * 13 + j] * sub.x64[k * 13 + j];
                G[i * 8 + k] = s;
            }
            a[i] = dsc_dataset_label(&sub, i);
        }
        CHECK_OK(dsc_cholesky(8, G));
        dsc_cholesky_solve(8, G, a);
        for (int j = 0; j < 13; j++) {
            double s = 0;
            for (int i = 0; i < 8; i++)
                s += sub.x64[i * 13 + j] * a[i];
            CHECK_NEAR(w[j], s, 1e-9);
        }
        dsc_convex_problem_free(p);
    }
    dsc_dataset_free(&sub);
    dsc_dataset_free(&bc);
    dsc_dataset_free(&wine);
    dsc_dataset_free(&iris);
}

static void test_cache(void)
{
    dsc_dataset bc = load("breast-cancer", 1, 0);
    dsc_convex_problem *p = make("logreg:l2=1e-2", &bc), *q = make("logreg:l2=2e-2", &bc);
    if (p && q) {
        double w[30], r[30], f, g;
        CHECK_OK(dsc_convex_solve_exact(p, w, &f));
        char dir[512];
        snprintf(dir, sizeof dir, "%s/convex_cache_test", DSC_BINARY_DIR);
        char cmd[600];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
        CHECK(system(cmd) == 0);
        CHECK_OK(dsc_convex_optimum_write(dir, p, w, f));
        CHECK_OK(dsc_convex_optimum_read(dir, p, r, &g));
        CHECK(g == f && memcmp(w, r, sizeof w) == 0);
        CHECK_STATUS(dsc_convex_optimum_read(dir, q, r, &g), DSC_ERR_STATE);
        CHECK(p->fingerprint != q->fingerprint);
        CHECK_STATUS(dsc_convex_optimum_read("/nonexistent-dir", p, r, &g), DSC_ERR_IO);
    }
    dsc_convex_problem_free(p);
    dsc_convex_problem_free(q);
    dsc_dataset_free(&bc);
}

/* the full gradient over more than one chunk of rows is bit-identical for 1 and 2 threads */
static void test_determinism(void)
{
    dsc_dataset ds = load("logistic:n=9000,d=20", 0, 0);
    dsc_convex_problem *p = make("logreg:l2=1e-4", &ds);
    if (p) {
        double w[20], g1[20], g2[20], v[20], h1[20], h2[20];
        rand_vec(w, 20, 1, 0.5);
        rand_vec(v, 20, 2, 1.0);
        int nt = dsc_get_num_threads();
        dsc_set_num_threads(1);
        double f1 = dsc_convex_grad(p, w, g1);
        dsc_convex_hvp(p, w, v, h1);
        dsc_set_num_threads(2);
        double f2 = dsc_convex_grad(p, w, g2);
        dsc_convex_hvp(p, w, v, h2);
        dsc_set_num_threads(nt);
        CHECK(f1 == f2 && memcmp(g1, g2, sizeof g1) == 0 && memcmp(h1, h2, sizeof h1) == 0);
        dsc_convex_problem_free(p);
    }
    dsc_dataset_free(&ds);
}

static void test_errors(void)
{
    dsc_dataset iris = load("iris", 0, 0), lin = load("linreg:n=50,d=3", 0, 0);
    dsc_convex_problem *p = NULL;
    CHECK_STATUS(dsc_convex_problem_new("nosuch", &iris, 0, &p), DSC_ERR_INVALID);
    CHECK(strstr(dsc_last_error(), "logreg") != NULL); /* lists the valid names */
    CHECK_STATUS(dsc_convex_problem_new("logreg", &iris, 0, &p), DSC_ERR_INVALID); /* 3 classes */
    CHECK(strstr(dsc_last_error(), "class=") != NULL);
    CHECK_STATUS(dsc_convex_problem_new("logreg", &lin, 0, &p), DSC_ERR_INVALID); /* regression set */
    CHECK_STATUS(dsc_convex_problem_new("logreg", NULL, 0, &p), DSC_ERR_INVALID);
    CHECK_STATUS(dsc_convex_problem_new("logreg:l2=-1", &iris, 0, &p), DSC_ERR_RANGE);
    CHECK_STATUS(dsc_convex_problem_new("ridge:l1=0.1", &lin, 0, &p), DSC_ERR_INVALID);
    CHECK_STATUS(dsc_convex_problem_new("ridge:foo=1", &lin, 0, &p), DSC_ERR_INVALID);
    CHECK(strstr(dsc_last_error(), "foo") != NULL);
    CHECK_STATUS(dsc_convex_problem_new("logreg:class=5", &iris, 0, &p), DSC_ERR_RANGE);
    CHECK_STATUS(dsc_convex_problem_new("quadratic:d=0", NULL, 0, &p), DSC_ERR_RANGE);
    CHECK(p == NULL);
    /* nonconvex without a known optimum: no exact solve */
    CHECK_OK(dsc_convex_problem_new("rosenbrock:d=3,a=2", NULL, 0, &p));
    if (p) {
        double w[3];
        CHECK(!p->has_known_optimum);
        CHECK_STATUS(dsc_convex_solve_exact(p, w, NULL), DSC_ERR_UNSUPPORTED);
        dsc_convex_problem_free(p);
    }
    CHECK(strstr(dsc_convex_help(), "logreg") != NULL);
    /* A hand-built CSR set (2 rows, d = 4) whose indices do not increase, or leave [0, d), is refused
     * (the solvers' just-in-time updates visit each coordinate of a row once). */
    int64_t rp[3] = {0, 2, 3};
    int32_t ci[3] = {1, 3, 0};
    double val[3] = {1.0, 2.0, 3.0}, y[2] = {1.0, -1.0};
    dsc_dataset csr;
    memset(&csr, 0, sizeof csr);
    snprintf(csr.name, sizeof csr.name, "hand-built");
    csr.dtype = DSC_DATA_F64;
    csr.n = 2;
    csr.d = 4;
    csr.feat_ndim = 1;
    csr.feat_shape[0] = 4;
    csr.num_classes = 2;
    csr.sparse = 1;
    csr.nnz = 3;
    csr.row_ptr = rp;
    csr.col_idx = ci;
    csr.val64 = val;
    csr.y64 = y;
    double cv[2] = {-1.0, 1.0};
    csr.class_values = cv;
    CHECK_OK(dsc_convex_problem_new("logreg", &csr, 0, &p)); /* well formed */
    dsc_convex_problem_free(p);
    p = NULL;
    ci[1] = 1; /* row 0: 1, 1 */
    CHECK_STATUS(dsc_convex_problem_new("logreg", &csr, 0, &p), DSC_ERR_FORMAT);
    CHECK(strstr(dsc_last_error(), "row 0 has column index 1 not above the previous one") != NULL);
    ci[1] = 4; /* outside [0, 4) */
    CHECK_STATUS(dsc_convex_problem_new("logreg", &csr, 0, &p), DSC_ERR_FORMAT);
    CHECK(strstr(dsc_last_error(), "outside [0, d)") != NULL);
    ci[1] = 3;
    rp[2] = 2; /* row_ptr[n] != nnz */
    CHECK_STATUS(dsc_convex_problem_new("logreg", &csr, 0, &p), DSC_ERR_FORMAT);
    CHECK(p == NULL);
    dsc_dataset_free(&iris);
    dsc_dataset_free(&lin);
}

DSC_TEST_MAIN("convex", TEST(test_prox), TEST(test_stability), TEST(test_derivatives_linear), TEST(test_derivatives_other),
              TEST(test_eigen), TEST(test_constants), TEST(test_sparse_large), TEST(test_csr_dense), TEST(test_sklearn_fixtures), TEST(test_exact),
              TEST(test_cache), TEST(test_determinism), TEST(test_errors))
