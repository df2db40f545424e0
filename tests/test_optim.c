/* Optimizers: torch 1.13 reference trajectories, checkpoint round trips, float32 vs float64,
 * heavy ball vs momentum SGD, Nesterov, parameter groups, spec errors. */
#include <stdlib.h>
#include <string.h>

#include "testing.h"

/* Every optimizer with non-default options that switch on all its state. */
static const char *const all_specs[] = {
    "sgd:lr=1e-3,momentum=0.9,nesterov=1,weight_decay=0.01",
    "sgd:lr=1e-3,momentum=0.5,dampening=0.3",
    "heavyball:lr=1e-3,momentum=0.8,weight_decay=0.01",
    "nag:lr=1e-3",
    "nag:lr=1e-3,kappa=100",
    "nag:lr=1e-3,sequence=k",
    "adagrad:lr=0.05,lr_decay=0.01,initial_accumulator_value=0.1",
    "adagrad_norm:lr=0.05,initial_accumulator_value=1",
    "rmsprop:lr=1e-3,centered=1,momentum=0.9,weight_decay=0.01",
    "adadelta:lr=0.5,weight_decay=0.01",
    "adam:lr=0.01,amsgrad=1,weight_decay=0.01",
    "adamw:lr=0.01,amsgrad=1",
    "adamax:lr=0.01,weight_decay=0.01",
    "nadam:lr=0.01,weight_decay=0.01",
    "nadam:lr=0.01,weight_decay=0.01,decoupled_weight_decay=1,fix_mu_product=1",
    "radam:lr=1e-3,weight_decay=0.01",
    "radam:lr=1e-3,weight_decay=0.01,decoupled_weight_decay=1",
    "rprop:lr=1e-3",
    "asgd:lr=1e-3,t0=5,lambd=1e-3,weight_decay=0.01",
    "signum:lr=1e-3,momentum=0.9",
    "signum:lr=1e-3",
    "lion:lr=1e-3,weight_decay=0.1",
    "lamb:lr=1e-3,weight_decay=0.01",
    "lars:lr=0.1,weight_decay=1e-4,momentum=0.9",
    "lbfgs:max_iter=3,history_size=2",
    "lbfgs:max_iter=4,history_size=3,line_search_fn=strong_wolfe",
    "nsgd:lr=1e-3,momentum=0.9,weight_decay=0.01",
    "polyak:max_lr=1e-3",
    "armijo:lr=0.01",
    "sam:rho=0.05,adaptive=1,base=[sgd:lr=1e-3,momentum=0.9]",
    "lookahead:k=3,alpha=0.6,base=[adam:lr=0.01,amsgrad=1]",
    "average:mode=ema,decay=0.9,base=[adam:lr=0.01]",
    "average:start=2,every=2,base=[sgd:lr=1e-3,momentum=0.9]",
    "sgd_schedulefree:lr=1e-3,warmup_steps=3,weight_decay=0.01",
    "adamw_schedulefree:lr=0.01,warmup_steps=2,r=1",
    "muon:lr=1e-3,rows=2,weight_decay=0.01",
    "zo:method=spsa,directions=2,mu=1e-4,seed=7,base=[adam:lr=0.01]",
    "adafactor:lr=0.01,weight_decay=0.01",
};
#define N_SPECS ((int)(sizeof all_specs / sizeof all_specs[0]))

/* The closure used with every optimizer: f and gradient of a test function at params, in the
 * optimizer's dtype (float32: through float64). */
typedef struct closure_ctx {
    const dsc_testfn *fn;
    dsc_dtype dt;
} closure_ctx;

static double closure_fn(void *ctx, const void *params, void *grads)
{
    const closure_ctx *c = ctx;
    double x[64], g[64];
    const size_t n = dsc_testfn_dim(c->fn);
    if (c->dt == DSC_FLOAT64)
        return dsc_testfn_eval(c->fn, params, grads);
    for (size_t i = 0; i < n; i++)
        x[i] = ((const float *)params)[i];
    const double f = dsc_testfn_eval(c->fn, x, g);
    for (size_t i = 0; i < n; i++)
        ((float *)grads)[i] = (float)g[i];
    return f;
}

/* One step(closure) of any optimizer on fn; gbuf receives the gradient. */
static dsc_status step_fn(dsc_optim *o, const dsc_testfn *fn, dsc_dtype dt, void *p, void *gbuf)
{
    closure_ctx c = {fn, dt};
    return dsc_optim_step_closure(o, p, gbuf, closure_fn, &c, NULL);
}

/* ---- torch fixtures ---- */

static dsc_optim *make_or_fail(const char *spec, size_t n, dsc_dtype dt)
{
    dsc_optim *o = NULL;
    dsc_status s = dsc_optim_new(spec, n, dt, &o);
    if (s != DSC_OK) {
        fprintf(stderr, "dsc_optim_new(%s): %s\n", spec, dsc_last_error());
        dsc_test_failures++;
    }
    return o;
}

/* Runs the fixture cases in float64 (<case>.txt, 1e-10 relative) or float32 (<case>.f32.txt:
 * torch with float32 parameters; 1e-5 relative on the coordinates). */
static void run_torch_fixtures(int f32)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/optim/cases.txt", dsc_test_source_dir());
    FILE *idx = fopen(path, "r");
    CHECK(idx != NULL);
    if (!idx)
        return;
    dsc_testfn *fn = NULL;
    CHECK_OK(dsc_testfn_new("rosenbrock", &fn));
    char line[512];
    int cases = 0;
    while (fgets(line, sizeof line, idx)) {
        char name[128], spec[384];
        if (line[0] == '#' || sscanf(line, "%127s %383s", name, spec) != 2)
            continue;
        snprintf(path, sizeof path, "%s/tests/fixtures/optim/%s%s.txt", dsc_test_source_dir(), name,
                 f32 ? ".f32" : "");
        FILE *f = fopen(path, "r");
        CHECK(f != NULL);
        if (!f)
            continue;
        dsc_optim *o = make_or_fail(spec, 2, f32 ? DSC_FLOAT32 : DSC_FLOAT64);
        double x[2] = {1.5, 1.5}, g[2];
        float xf[2] = {1.5f, 1.5f}, gf[2];
        /* torch keeps L-BFGS's scalars (dot products, ro, H_diag, t) as float32 tensors for
         * float32 parameters; here they are float64, so float32 L-BFGS agrees only to 1e-3. */
        /* Adafactor's norms and means are float64 sums here, float32 reductions in torch (and its
         * reference is a transcription of torch 2.5's code): 1e-4 in float32. */
        const double tol32 = !strncmp(name, "lbfgs", 5)                                ? 1e-3
                             : !strncmp(name, "adafactor", 9) || strstr(name, "torch2") ? 1e-4
                                                                                         : 1e-5;
        /* (the torch 2.x transcriptions update exp_avg by lerp, this code by mul + add) */
        const double tol64 = strstr(name, "torch2") ? 1e-9 : 1e-10;
        long t = 0, want_t;
        double w[3];
        int rows = 0;
        double worst = 0;
        while (o && fscanf(f, "%ld %lf %lf %lf", &want_t, &w[0], &w[1], &w[2]) == 4) {
            while (t < want_t) {
                if (f32) {
                    CHECK_OK(step_fn(o, fn, DSC_FLOAT32, xf, gf));
                    x[0] = xf[0];
                    x[1] = xf[1];
                } else {
                    CHECK_OK(step_fn(o, fn, DSC_FLOAT64, x, g));
                }
                t++;
            }
            if (!strncmp(spec, "average", 7)) { /* the fixture holds the averaged weights */
                CHECK_OK(dsc_optim_swap_average(o, f32 ? (void *)xf : (void *)x));
                if (f32)
                    x[0] = xf[0], x[1] = xf[1];
            }
            const double got[3] = {x[0], x[1], dsc_testfn_eval(fn, x, NULL)};
            if (!strncmp(spec, "average", 7)) {
                CHECK_OK(dsc_optim_swap_average(o, f32 ? (void *)xf : (void *)x));
                if (f32)
                    x[0] = xf[0], x[1] = xf[1];
            }
            for (int k = 0; k < 3; k++) {
                const double e = fabs(got[k] - w[k]) / fmax(fabs(w[k]), 1e-300);
                worst = fmax(worst, e);
                if (f32 && k < 2)
                    CHECK_REL(got[k], w[k], tol32, 1e-300);
                else if (!f32)
                    CHECK_REL(got[k], w[k], tol64, 1e-300);
            }
            rows++;
        }
        CHECK(rows == 6);
        if (getenv("DSC_TEST_VERBOSE"))
            printf("  %-28s %s max rel err %.3g\n", name, f32 ? "f32" : "f64", worst);
        fclose(f);
        dsc_optim_free(o);
        cases++;
    }
    fclose(idx);
    CHECK(cases >= 35);
    dsc_testfn_free(fn);
}

static void test_torch_fixtures(void)
{
    run_torch_fixtures(0);
}

static void test_torch_fixtures_float32(void)
{
    run_torch_fixtures(1);
}

/* ---- checkpoint round trip ---- */

/* A smooth test problem with n parameters: Rosenbrock of dimension n. */
static void init_params(dsc_dtype dt, void *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const double v = 0.8 + 0.05 * (double)i - (i % 2 ? 0.3 : 0);
        if (dt == DSC_FLOAT64)
            ((double *)p)[i] = v;
        else
            ((float *)p)[i] = (float)v;
    }
}

static dsc_optim *make_grouped(const char *spec, size_t n, dsc_dtype dt)
{
    dsc_optim *o = make_or_fail(spec, n, dt);
    if (o && strncmp(spec, "lbfgs", 5) && strncmp(spec, "polyak", 6) && strncmp(spec, "armijo", 6) &&
        strncmp(spec, "muon", 4)) {
        /* (L-BFGS, Polyak and Armijo have one group only) */
        int gi = -1;
        CHECK_OK(dsc_optim_add_group(o, 2, 3, "lr=5e-4", &gi));
        CHECK(gi == 1);
    }
    return o;
}

static void test_checkpoint_roundtrip(void)
{
    enum { N = 8, K = 7, M = 9 };
    dsc_testfn *fn = NULL;
    CHECK_OK(dsc_testfn_new("rosenbrock:d=8", &fn));
    for (int dti = 0; dti < 2; dti++) {
        const dsc_dtype dt = dti ? DSC_FLOAT64 : DSC_FLOAT32;
        const size_t es = dt == DSC_FLOAT64 ? 8 : 4;
        for (int s = 0; s < N_SPECS; s++) {
            double pa[N], pb[N], g[N]; /* big enough for either dtype */
            dsc_optim *a = make_grouped(all_specs[s], N, dt);
            if (!a)
                continue;
            init_params(dt, pa, N);
            for (int t = 0; t < K; t++)
                CHECK_OK(step_fn(a, fn, dt, pa, g));
            /* Save: copies of every buffer and the step count. */
            const int nb = dsc_optim_num_buffers(a);
            void *saved[8] = {0};
            size_t bytes[8] = {0};
            for (int i = 0; i < nb && i < 8; i++) {
                dsc_optim_buffer b;
                CHECK_OK(dsc_optim_buffer_at(a, i, &b));
                bytes[i] = b.len * (b.dtype == DSC_FLOAT64 ? 8 : 4);
                saved[i] = malloc(bytes[i]);
                memcpy(saved[i], b.data, bytes[i]);
            }
            const int64_t steps = dsc_optim_steps(a);
            CHECK(steps == K);
            memcpy(pb, pa, N * es);
            /* Load into a fresh optimizer. */
            dsc_optim *b = make_grouped(all_specs[s], N, dt);
            CHECK(dsc_optim_num_buffers(b) == nb);
            for (int i = 0; i < nb && i < 8; i++) {
                dsc_optim_buffer bb;
                CHECK_OK(dsc_optim_buffer_at(b, i, &bb));
                CHECK(bb.len * (bb.dtype == DSC_FLOAT64 ? 8 : 4) == bytes[i]);
                memcpy(bb.data, saved[i], bytes[i]);
                free(saved[i]);
            }
            CHECK_OK(dsc_optim_set_steps(b, steps));
            for (int t = 0; t < M; t++) {
                CHECK_OK(step_fn(a, fn, dt, pa, g));
                CHECK_OK(step_fn(b, fn, dt, pb, g));
            }
            const int same = memcmp(pa, pb, N * es) == 0;
            if (!same)
                fprintf(stderr, "checkpoint round trip differs: %s (%s)\n", all_specs[s], dti ? "f64" : "f32");
            CHECK(same);
            /* And the run moved. */
            double p0[N];
            init_params(dt, p0, N);
            CHECK(memcmp(p0, pa, N * es) != 0);
            dsc_optim_free(a);
            dsc_optim_free(b);
        }
    }
    dsc_testfn_free(fn);
}

/* ---- float32 vs float64 ---- */

static void test_float32_matches_float64(void)
{
    enum { N = 6, STEPS = 10 };
    dsc_testfn *fn = NULL;
    CHECK_OK(dsc_testfn_new("rosenbrock:d=6", &fn));
    for (int s = 0; s < N_SPECS; s++) {
        double p64[N], g64[N];
        float p32[N], g32[N];
        dsc_optim *a = make_or_fail(all_specs[s], N, DSC_FLOAT64), *b = make_or_fail(all_specs[s], N, DSC_FLOAT32);
        if (!a || !b)
            continue;
        init_params(DSC_FLOAT32, p32, N);
        for (int i = 0; i < N; i++)
            p64[i] = p32[i];
        for (int t = 0; t < STEPS; t++) {
            CHECK_OK(step_fn(a, fn, DSC_FLOAT64, p64, g64));
            CHECK_OK(step_fn(b, fn, DSC_FLOAT32, p32, g32));
        }
        double worst = 0;
        for (int i = 0; i < N; i++)
            worst = fmax(worst, fabs(p32[i] - p64[i]) / fmax(fabs(p64[i]), 1e-3));
        /* L-BFGS runs ~3 inner iterations per step with curvature pairs that amplify rounding;
         * zeroth-order estimates difference float32 losses at p +- 1e-4 u (relative error ~1e-3). */
        if (!strncmp(all_specs[s], "zo", 2)) {
            dsc_optim_free(a);
            dsc_optim_free(b);
            continue;
        }
        const double tol = strncmp(all_specs[s], "lbfgs", 5) ? 2e-5 : 1e-3;
        if (!(worst < tol))
            fprintf(stderr, "float32 vs float64: %s rel err %.3g\n", all_specs[s], worst);
        CHECK(worst < tol);
        dsc_optim_free(a);
        dsc_optim_free(b);
    }
    dsc_testfn_free(fn);
}

/* ---- heavy ball == momentum SGD ---- */

/* Polyak: x+ = x - lr g + beta (x - x_prev). torch: b = beta b + g (b_1 = g), x+ = x - lr b.
 * Since x_k - x_{k-1} = -lr b_k, x_{k+1} = x_k - lr (beta b_k + g_k) = Polyak's update with the
 * same lr and beta (dampening 0). Equal in exact arithmetic; rounding differs. */
static void test_heavyball_equals_momentum_sgd(void)
{
    dsc_testfn *fn = NULL;
    CHECK_OK(dsc_testfn_new("rosenbrock:d=4", &fn));
    const char *pairs[][2] = {
        {"heavyball:lr=2e-4,momentum=0.9", "sgd:lr=2e-4,momentum=0.9"},
        {"heavyball:lr=1e-4,momentum=0.5,weight_decay=0.1", "sgd:lr=1e-4,momentum=0.5,weight_decay=0.1"},
    };
    for (int k = 0; k < 2; k++) {
        dsc_optim *hb = make_or_fail(pairs[k][0], 4, DSC_FLOAT64), *sgd = make_or_fail(pairs[k][1], 4, DSC_FLOAT64);
        double x[4] = {1.5, 1.5, -0.5, 0.7}, y[4], g[4];
        memcpy(y, x, sizeof x);
        double worst = 0;
        for (int t = 0; t < 300; t++) {
            dsc_testfn_eval(fn, x, g);
            CHECK_OK(dsc_optim_step(hb, x, g));
            dsc_testfn_eval(fn, y, g);
            CHECK_OK(dsc_optim_step(sgd, y, g));
            for (int i = 0; i < 4; i++)
                worst = fmax(worst, fabs(x[i] - y[i]) / fmax(fabs(y[i]), 1e-3));
        }
        CHECK(worst < 1e-11);
        if (getenv("DSC_TEST_VERBOSE"))
            printf("  heavy ball vs SGD: max rel diff %.3g\n", worst);
        dsc_optim_free(hb);
        dsc_optim_free(sgd);
    }
    dsc_testfn_free(fn);
}

/* ---- Nesterov ---- */

/* Against a direct transcription of FISTA's recursion (x_k, y_k, t_k) on a quadratic. */
static void test_nag_sequences(void)
{
    enum { D = 10 };
    dsc_testfn *q = NULL;
    CHECK_OK(dsc_testfn_new("quadratic:d=10,kappa=100", &q));
    const char *specs[] = {"nag:lr=0.01", "nag:lr=0.01,sequence=k", "nag:lr=0.01,kappa=100"};
    for (int v = 0; v < 3; v++) {
        dsc_optim *o = make_or_fail(specs[v], D, DSC_FLOAT64);
        double y[D], yr[D], xr[D], xo[D], g[D], tk = 1;
        for (int i = 0; i < D; i++)
            y[i] = yr[i] = xo[i] = 1;
        for (int k = 1; k <= 50; k++) {
            dsc_testfn_eval(q, y, g);
            CHECK_OK(dsc_optim_step(o, y, g));
            dsc_testfn_eval(q, yr, g);
            double beta;
            if (v == 0) {
                const double tk1 = (1 + sqrt(1 + 4 * tk * tk)) / 2;
                beta = (tk - 1) / tk1;
                tk = tk1;
            } else if (v == 1) {
                beta = (k - 1.0) / (k + 2.0);
            } else {
                beta = (10 - 1.0) / (10 + 1.0);
            }
            for (int i = 0; i < D; i++) {
                xr[i] = yr[i] - 0.01 * g[i];
                yr[i] = xr[i] + beta * (xr[i] - xo[i]);
                xo[i] = xr[i];
            }
        }
        for (int i = 0; i < D; i++)
            CHECK_REL(y[i], yr[i], 1e-12, 1e-12);
        dsc_optim_free(o);
    }
    dsc_testfn_free(q);
}

/* Steps to f < 1e-10 * f(x0) on the kappa = 100 quadratic: GD needs O(kappa log), Nesterov
 * (strongly convex form, lr = 1/L) O(sqrt(kappa) log). */
static long steps_to(const char *spec, const dsc_testfn *q)
{
    enum { D = 10 };
    dsc_optim *o = make_or_fail(spec, D, DSC_FLOAT64);
    double x[D], g[D];
    for (int i = 0; i < D; i++)
        x[i] = 1;
    const double f0 = dsc_testfn_eval(q, x, NULL);
    long t = 0;
    while (o && t < 100000 && dsc_testfn_eval(q, x, NULL) > 1e-10 * f0) {
        dsc_testfn_eval(q, x, g);
        dsc_optim_step(o, x, g);
        t++;
    }
    dsc_optim_free(o);
    return t;
}

static void test_acceleration_rates(void)
{
    dsc_testfn *q = NULL;
    CHECK_OK(dsc_testfn_new("quadratic:d=10,kappa=100", &q));
    const long gd = steps_to("sgd:lr=0.01", q), nag = steps_to("nag:lr=0.01,kappa=100", q),
               hb = steps_to("heavyball:lr=0.0330578512396694,momentum=0.669421487603306", q);
    /* GD: (1 - 1/kappa)^(2t) <= 1e-10 -> t ~ 1146; Nesterov ~ sqrt(kappa) log: ~ 10x fewer. */
    if (getenv("DSC_TEST_VERBOSE"))
        printf("  steps to 1e-10: gd %ld, nesterov %ld, heavy ball %ld\n", gd, nag, hb);
    /* GD on the slowest coordinate (lambda = mu = 1): f ~ 0.5 (1 - 1/kappa)^(2t), f0 = 0.5 sum lambda_i. */
    const double f0 = 0.5 * 10 * (1 + 100) / 2;
    const long pred = (long)ceil(log(1e-10 * f0 / 0.5) / (2 * log(1 - 0.01)));
    CHECK(labs(gd - pred) <= 2);
    CHECK(nag < gd / 4);
    CHECK(hb < gd / 4);
    dsc_testfn_free(q);
}

/* ---- hand-checked rules without a torch counterpart ---- */

static void test_sign_and_norm_rules(void)
{
    double x[2] = {1, -2}, g[2] = {3, -4};
    dsc_optim *o = make_or_fail("adagrad_norm:lr=0.5,initial_accumulator_value=11,eps=0", 2, DSC_FLOAT64);
    CHECK_OK(dsc_optim_step(o, x, g)); /* s = 11 + 25 = 36: x -= 0.5/6 g */
    CHECK_NEAR(x[0], 1 - 0.25, 1e-15);
    CHECK_NEAR(x[1], -2 + 4.0 / 12, 1e-15);
    dsc_optim_free(o);

    double y[2] = {1, -2};
    o = make_or_fail("lion:lr=0.1,beta1=0.9,beta2=0.99,weight_decay=0.5", 2, DSC_FLOAT64);
    double g1[2] = {1, -1}, g2[2] = {-1, -0.5};
    CHECK_OK(dsc_optim_step(o, y, g1)); /* y*0.95 - 0.1 sign(0.1 g1); m = 0.01 g1 */
    CHECK_NEAR(y[0], 0.95 - 0.1, 1e-15);
    CHECK_NEAR(y[1], -1.9 + 0.1, 1e-15);
    CHECK_OK(dsc_optim_step(o, y, g2)); /* c = 0.9*0.01*g1 + 0.1*g2 = (-0.091, -0.059) */
    CHECK_NEAR(y[0], 0.85 * 0.95 + 0.1, 1e-15);
    CHECK_NEAR(y[1], -1.8 * 0.95 + 0.1, 1e-15);
    dsc_optim_free(o);

    double z[2] = {0, 0};
    o = make_or_fail("signum:lr=0.1,momentum=0.5", 2, DSC_FLOAT64);
    CHECK_OK(dsc_optim_step(o, z, g1)); /* m = 0.5 g1 */
    CHECK_OK(dsc_optim_step(o, z, g2)); /* m = 0.25 g1 + 0.5 g2 = (-0.25, -0.5) */
    CHECK_NEAR(z[0], -0.1 + 0.1, 1e-15);
    CHECK_NEAR(z[1], 0.1 + 0.1, 1e-15);
    dsc_optim_free(o);

    /* LARS: ||p|| = 5, ||g|| = 1: local = 0.001*5/1, b = lr*local*g, p -= b; then momentum. */
    double w[2] = {3, 4}, gw[2] = {0.6, 0.8};
    o = make_or_fail("lars:lr=1,momentum=0.9,eps=0", 2, DSC_FLOAT64);
    CHECK_OK(dsc_optim_step(o, w, gw));
    CHECK_NEAR(w[0], 3 - 0.003, 1e-15);
    CHECK_NEAR(w[1], 4 - 0.004, 1e-15);
    const double n1 = sqrt(w[0] * w[0] + w[1] * w[1]), b0 = 0.003, b1 = 0.004;
    const double w0 = w[0], w1 = w[1];
    CHECK_OK(dsc_optim_step(o, w, gw));
    CHECK_NEAR(w[0], w0 - (0.9 * b0 + 0.001 * n1 * 0.6), 1e-15);
    CHECK_NEAR(w[1], w1 - (0.9 * b1 + 0.001 * n1 * 0.8), 1e-15);
    dsc_optim_free(o);

    /* LAMB, first step: m^ = g, v^ = g^2, u = sign(g) (eps = 0, wd = 0): p -= lr ||p||/||u|| u. */
    double q[2] = {3, 4}, gq[2] = {1, -2};
    o = make_or_fail("lamb:lr=0.1,eps=0,weight_decay=0", 2, DSC_FLOAT64);
    CHECK_OK(dsc_optim_step(o, q, gq));
    CHECK_NEAR(q[0], 3 - 0.5 / sqrt(2), 1e-12);
    CHECK_NEAR(q[1], 4 + 0.5 / sqrt(2), 1e-12);
    dsc_optim_free(o);
    /* ... and the trust ratio is per group: group [2, 4) with its own norm. */
    double r[4] = {3, 4, 0.3, 0.4}, gr4[4] = {1, -2, 1, -2};
    o = make_or_fail("lamb:lr=0.1,eps=0,weight_decay=0", 4, DSC_FLOAT64);
    CHECK_OK(dsc_optim_add_group(o, 2, 2, NULL, NULL));
    CHECK_OK(dsc_optim_step(o, r, gr4));
    CHECK_NEAR(r[0], 3 - 0.5 / sqrt(2), 1e-12);
    CHECK_NEAR(r[2], 0.3 - 0.05 / sqrt(2), 1e-12);
    CHECK_NEAR(r[3], 0.4 + 0.05 / sqrt(2), 1e-12);
    dsc_optim_free(o);
}

/* maximize=1 on -g is bit-identical to maximize=0 on g. */
static void test_maximize(void)
{
    const char *specs[][2] = {
        {"sgd:lr=1e-3,momentum=0.9,nesterov=1", "sgd:lr=1e-3,momentum=0.9,nesterov=1,maximize=1"},
        {"adam:lr=0.01,amsgrad=1", "adam:lr=0.01,amsgrad=1,maximize=1"},
        {"rmsprop:lr=0.01,centered=1", "rmsprop:lr=0.01,centered=1,maximize=1"},
        {"rprop", "rprop:maximize=1"},
        {"asgd:lr=1e-4,t0=5", "asgd:lr=1e-4,t0=5,maximize=1"},
    };
    dsc_testfn *fn = NULL;
    CHECK_OK(dsc_testfn_new("rosenbrock:d=3", &fn));
    for (int k = 0; k < 5; k++) {
        dsc_optim *a = make_or_fail(specs[k][0], 3, DSC_FLOAT64), *b = make_or_fail(specs[k][1], 3, DSC_FLOAT64);
        double x[3] = {1.2, 0.8, 1.1}, y[3] = {1.2, 0.8, 1.1}, g[3];
        for (int t = 0; t < 20; t++) {
            dsc_testfn_eval(fn, x, g);
            CHECK_OK(dsc_optim_step(a, x, g));
            dsc_testfn_eval(fn, y, g);
            for (int i = 0; i < 3; i++)
                g[i] = -g[i];
            CHECK_OK(dsc_optim_step(b, y, g));
        }
        const int same = memcmp(x, y, sizeof x) == 0;
        if (!same)
            fprintf(stderr, "maximize: %s differs: %.17g vs %.17g\n", specs[k][1], x[0], y[0]);
        CHECK(same);
        dsc_optim_free(a);
        dsc_optim_free(b);
    }
    dsc_testfn_free(fn);
}

/* ---- parameter groups ---- */

static void test_groups(void)
{
    enum { N = 10 };
    /* One optimizer with groups == separate optimizers on the slices. */
    const char *spec = "adam:lr=0.01,weight_decay=0.1";
    dsc_optim *o = make_or_fail(spec, N, DSC_FLOAT64);
    int g1 = 0, g2 = 0;
    CHECK_OK(dsc_optim_add_group(o, 3, 3, "weight_decay=0", &g1));
    CHECK_OK(dsc_optim_add_group(o, 8, 2, "lr=0", &g2));
    CHECK(g1 == 1 && g2 == 2 && dsc_optim_num_groups(o) == 3);
    CHECK_STATUS(dsc_optim_add_group(o, 4, 3, NULL, NULL), DSC_ERR_INVALID); /* overlaps group 1 */
    CHECK_STATUS(dsc_optim_add_group(o, 9, 2, NULL, NULL), DSC_ERR_RANGE);   /* past the end */
    CHECK_STATUS(dsc_optim_add_group(o, 0, 1, "foo=1", NULL), DSC_ERR_INVALID);
    double lr;
    CHECK_OK(dsc_optim_get_hparam(o, 1, "lr", &lr));
    CHECK(lr == 0.01);
    CHECK(dsc_optim_get_lr(o, 2) == 0);
    dsc_optim *a = make_or_fail(spec, 3, DSC_FLOAT64), *b = make_or_fail("adam:lr=0.01,weight_decay=0", 3, DSC_FLOAT64),
               *c = make_or_fail(spec, 2, DSC_FLOAT64);
    double x[N], g[N], xa[3], xb[3], xc[2];
    for (int i = 0; i < N; i++)
        x[i] = 0.1 * i - 0.3;
    memcpy(xa, x, sizeof xa);
    memcpy(xb, x + 3, sizeof xb);
    memcpy(xc, x + 6, sizeof xc);
    const double x89[2] = {x[8], x[9]};
    for (int t = 0; t < 15; t++) {
        for (int i = 0; i < N; i++)
            g[i] = sin(3 * x[i] + (double)i) + 0.5 * x[i];
        CHECK_OK(dsc_optim_step(o, x, g));
        double ga[3], gb[3], gc[2];
        for (int i = 0; i < 3; i++)
            ga[i] = sin(3 * xa[i] + (double)i) + 0.5 * xa[i];
        for (int i = 0; i < 3; i++)
            gb[i] = sin(3 * xb[i] + (double)(i + 3)) + 0.5 * xb[i];
        for (int i = 0; i < 2; i++)
            gc[i] = sin(3 * xc[i] + (double)(i + 6)) + 0.5 * xc[i];
        CHECK_OK(dsc_optim_step(a, xa, ga));
        CHECK_OK(dsc_optim_step(b, xb, gb));
        CHECK_OK(dsc_optim_step(c, xc, gc));
    }
    CHECK(memcmp(x, xa, sizeof xa) == 0);
    CHECK(memcmp(x + 3, xb, sizeof xb) == 0);
    CHECK(memcmp(x + 6, xc, sizeof xc) == 0);
    CHECK(x[8] == x89[0] && x[9] == x89[1]); /* lr = 0 */
    CHECK_STATUS(dsc_optim_add_group(o, 0, 1, NULL, NULL), DSC_ERR_STATE);
    /* set_lr applies to its group only. */
    CHECK_OK(dsc_optim_set_lr(o, 2, 0.5));
    CHECK(dsc_optim_get_lr(o, 2) == 0.5 && dsc_optim_get_lr(o, 0) == 0.01);
    CHECK_STATUS(dsc_optim_set_lr(o, 0, -1), DSC_ERR_RANGE);
    CHECK_STATUS(dsc_optim_set_lr(o, 3, 0.1), DSC_ERR_RANGE);
    /* Turning on amsgrad after the state was made is refused (its buffer does not exist). */
    CHECK_STATUS(dsc_optim_set_hparam(o, 0, "amsgrad", 1), DSC_ERR_STATE);
    char buf[512];
    dsc_optim_spec_str(o, 1, buf, sizeof buf);
    CHECK(strstr(buf, "adam:lr=0.01,") == buf && strstr(buf, "weight_decay=0,") != NULL);
    dsc_optim_free(o);
    dsc_optim_free(a);
    dsc_optim_free(b);
    dsc_optim_free(c);
}

/* ---- spec errors ---- */

static void expect_error(const char *spec, dsc_status want, const char *m1, const char *m2)
{
    dsc_optim *o = NULL;
    CHECK_STATUS(dsc_optim_new(spec, 4, DSC_FLOAT32, &o), want);
    CHECK(o == NULL);
    const char *msg = dsc_last_error();
    const int ok = strstr(msg, m1) && (!m2 || strstr(msg, m2));
    if (!ok)
        fprintf(stderr, "spec '%s': message '%s' lacks '%s'/'%s'\n", spec, msg, m1, m2 ? m2 : "");
    CHECK(ok);
    dsc_optim_free(o);
}

static void test_spec_errors(void)
{
    expect_error("adamm:lr=1", DSC_ERR_INVALID, "unknown optimizer 'adamm'", "adamw");
    expect_error("", DSC_ERR_INVALID, "valid optimizers", "sgd");
    expect_error("adam:lr=1e-3,betta1=0.9", DSC_ERR_INVALID, "unknown option 'betta1'", "beta1, beta2");
    expect_error("sgd:lr=-0.1", DSC_ERR_RANGE, "'lr'", NULL);
    expect_error("adam:beta1=1", DSC_ERR_RANGE, "'beta1'", "[0, 1)");
    expect_error("adam:beta2=-0.1", DSC_ERR_RANGE, "'beta2'", NULL);
    expect_error("adam:eps=-1", DSC_ERR_RANGE, "'eps'", NULL);
    expect_error("rprop:eta_minus=1.5", DSC_ERR_RANGE, "'eta_minus'", NULL);
    expect_error("rprop:step_min=1,step_max=0.5", DSC_ERR_RANGE, "step_min", NULL);
    expect_error("sgd:lr=0.1,nesterov=1", DSC_ERR_INVALID, "nesterov", "momentum");
    expect_error("sgd:lr=abc", DSC_ERR_INVALID, "'lr'", "abc");
    expect_error("sgd:lr=nan", DSC_ERR_INVALID, "'lr'", NULL);
    expect_error("sgd:lr", DSC_ERR_INVALID, "key=value", NULL);
    expect_error("sgd:lr=0.1,lr=0.2", DSC_ERR_INVALID, "twice", NULL);
    expect_error("adam:amsgrad=2", DSC_ERR_INVALID, "amsgrad", "0 or 1");
    expect_error("nag:sequence=foo", DSC_ERR_INVALID, "sequence", "fista");
    /* Accepted forms: defaults, booleans as words, spaces. */
    dsc_optim *o = NULL;
    CHECK_OK(dsc_optim_new("adam", 4, DSC_FLOAT32, &o));
    double v = 0;
    CHECK_OK(dsc_optim_get_hparam(o, 0, "beta2", &v));
    CHECK(v == 0.999);
    CHECK(dsc_optim_get_lr(o, 0) == 1e-3);
    dsc_optim_free(o);
    CHECK_OK(dsc_optim_new("sgd: lr=0.1, momentum=0.9, nesterov=true", 4, DSC_FLOAT32, &o));
    CHECK_OK(dsc_optim_get_hparam(o, 0, "nesterov", &v));
    CHECK(v == 1);
    dsc_optim_free(o);
    /* L-BFGS: a closure is required, one group only, integer options. */
    CHECK_OK(dsc_optim_new("lbfgs", 4, DSC_FLOAT64, &o));
    double p4[4] = {0}, g4[4] = {0};
    CHECK_STATUS(dsc_optim_step(o, p4, g4), DSC_ERR_INVALID);
    CHECK(strstr(dsc_last_error(), "closure") != NULL);
    CHECK(dsc_optim_needs_closure(o));
    {
        const char *yes[] = {"polyak", "armijo", "sam:base=sgd", "zo:base=sgd", "lookahead:base=[lbfgs]"};
        const char *no[] = {"sgd", "adam", "lookahead:base=[adam]", "average:base=[sgd]", "muon"};
        for (int k = 0; k < 5; k++) {
            dsc_optim *y = make_or_fail(yes[k], 4, DSC_FLOAT64), *n = make_or_fail(no[k], 4, DSC_FLOAT64);
            CHECK(dsc_optim_needs_closure(y) == 1 && dsc_optim_needs_closure(n) == 0);
            dsc_optim_free(y);
            dsc_optim_free(n);
        }
    }
    CHECK_STATUS(dsc_optim_add_group(o, 0, 2, NULL, NULL), DSC_ERR_UNSUPPORTED);
    CHECK_OK(dsc_optim_set_hparam(o, 0, "history_size", 7)); /* before the state exists: fine */
    CHECK(dsc_optim_num_buffers(o) == 6);
    dsc_optim_buffer b;
    CHECK_OK(dsc_optim_buffer_at(o, 2, &b));
    CHECK(!strcmp(b.name, "old_dirs") && b.len == 28);
    CHECK_STATUS(dsc_optim_set_hparam(o, 0, "history_size", 5), DSC_ERR_STATE);
    CHECK_OK(dsc_optim_set_hparam(o, 0, "max_iter", 5));
    dsc_optim_free(o);
    CHECK(!strcmp(strrchr(dsc_optim_names(), ' ') + 1, "adafactor") && !strncmp(dsc_optim_names(), "sgd, heavyball", 14));
    expect_error("lbfgs:history_size=2.5", DSC_ERR_RANGE, "history_size", "integer");
    expect_error("lbfgs:line_search_fn=armijo", DSC_ERR_INVALID, "line_search_fn", "strong_wolfe");
    char buf[16384];
    CHECK(strstr(dsc_optim_help("rprop", buf, sizeof buf), "eta_plus") != NULL);
    CHECK(strstr(dsc_optim_help(NULL, buf, sizeof buf), "lion") != NULL);
    /* Test function errors. */
    dsc_testfn *f = NULL;
    CHECK_STATUS(dsc_testfn_new("rosenbrok", &f), DSC_ERR_INVALID);
    CHECK_STATUS(dsc_testfn_new("rosenbrock:d=1", &f), DSC_ERR_RANGE);
    CHECK_STATUS(dsc_testfn_new("beale:d=3", &f), DSC_ERR_INVALID);
    CHECK(f == NULL);
}

/* ---- test functions: gradients by central differences, known minima ---- */

static void test_testfns(void)
{
    const char *names[] = {"rosenbrock:d=5", "beale", "booth", "himmelblau", "matyas", "rastrigin:d=3",
                           "ackley:d=3", "quadratic:d=6,kappa=20"};
    for (int k = 0; k < 8; k++) {
        dsc_testfn *f = NULL;
        CHECK_OK(dsc_testfn_new(names[k], &f));
        if (!f)
            continue;
        const size_t d = dsc_testfn_dim(f);
        double x[8], g[8], xm[8];
        for (size_t i = 0; i < d; i++)
            x[i] = 0.3 + 0.17 * (double)i;
        dsc_testfn_eval(f, x, g);
        for (size_t i = 0; i < d; i++) {
            const double h = 1e-6, xi = x[i];
            x[i] = xi + h;
            const double fp = dsc_testfn_eval(f, x, NULL);
            x[i] = xi - h;
            const double fm = dsc_testfn_eval(f, x, NULL);
            x[i] = xi;
            CHECK_REL(g[i], (fp - fm) / (2 * h), 1e-6, 1e-3);
        }
        const double fmin = dsc_testfn_min(f, xm);
        CHECK_NEAR(dsc_testfn_eval(f, xm, g), fmin, 1e-12);
        for (size_t i = 0; i < d; i++)
            CHECK_NEAR(g[i], 0, 1e-9);
        dsc_testfn_free(f);
    }
}

/* Large vectors take the parallel path: 1 and 2 threads give the same bits. */
static void test_threads_bit_identical(void)
{
    enum { N = 100003 };
    float *p1 = malloc(N * sizeof *p1), *p2 = malloc(N * sizeof *p2), *g = malloc(N * sizeof *g);
    const int saved = dsc_get_num_threads();
    for (int s = 0; s < N_SPECS && p1 && p2 && g; s++) {
        if (!strncmp(all_specs[s], "lbfgs", 5) || !strncmp(all_specs[s], "polyak", 6) ||
            !strncmp(all_specs[s], "armijo", 6) || !strncmp(all_specs[s], "sam", 3) ||
            !strncmp(all_specs[s], "muon", 4) || !strncmp(all_specs[s], "zo", 2))
            continue; /* they need a closure; their vector loops are serial */
        dsc_test_fill(p1, N, 7, -1, 1);
        memcpy(p2, p1, N * sizeof *p1);
        dsc_optim *a = make_or_fail(all_specs[s], N, DSC_FLOAT32), *b = make_or_fail(all_specs[s], N, DSC_FLOAT32);
        for (int t = 0; t < 3; t++) {
            dsc_test_fill(g, N, 100 + (uint64_t)t, -1, 1);
            dsc_set_num_threads(1);
            CHECK_OK(dsc_optim_step(a, p1, g));
            dsc_set_num_threads(2);
            CHECK_OK(dsc_optim_step(b, p2, g));
        }
        CHECK(memcmp(p1, p2, N * sizeof *p1) == 0);
        dsc_optim_free(a);
        dsc_optim_free(b);
    }
    dsc_set_num_threads(saved);
    free(p1);
    free(p2);
    free(g);
}

/* ---- named variants (texts / Optax) ---- */

static double one_step(const char *spec, double p, double g)
{
    dsc_optim *o = make_or_fail(spec, 1, DSC_FLOAT64);
    CHECK_OK(dsc_optim_step(o, &p, &g));
    dsc_optim_free(o);
    return p;
}

static void test_eps_variants(void)
{
    /* AdaGrad, eps inside: p -= lr g/sqrt(g^2 + eps) = 0.1*3/4. */
    CHECK_NEAR(one_step("adagrad:lr=0.1,eps=7,eps_inside=1", 1, 3), 1 - 0.075, 1e-15);
    CHECK_NEAR(one_step("adagrad:lr=0.1,eps=7", 1, 3), 1 - 0.3 / 10, 1e-15);
    /* RMSprop, eps inside: v = 0.25*4 = 1, p -= lr*2/sqrt(1 + 3). */
    CHECK_NEAR(one_step("rmsprop:lr=0.1,alpha=0.75,eps=3,eps_inside=1", 1, 2), 1 - 0.1, 1e-15);
    CHECK_NEAR(one_step("rmsprop:lr=0.1,alpha=0.75,eps=3", 1, 2), 1 - 0.2 / 4, 1e-15);
    /* Adam, Optax's eps_root: p -= lr g/(sqrt(g^2 + eps_root) + eps) = 0.1*3/5. */
    CHECK_NEAR(one_step("adam:lr=0.1,eps=0,eps_root=16", 1, 3), 1 - 0.06, 1e-15);
    /* AMSGrad over raw v (torch) vs over bias-corrected v (Optax): beta1 = 0, beta2 = 0.5,
     * g = 2 then 1. Step 2: v = 1.5, v^ = 2; torch: max raw v = 2 -> denom sqrt(2/0.75);
     * Optax: max v^ = 4 -> denom 2. */
    const char *specs[2] = {"adam:lr=0.1,beta1=0,beta2=0.5,eps=0,amsgrad=1",
                            "adam:lr=0.1,beta1=0,beta2=0.5,eps=0,amsgrad=1,amsgrad_after_bc=1"};
    const double want[2] = {1 - 0.1 - 0.1 / sqrt(2 / 0.75), 1 - 0.1 - 0.05};
    for (int k = 0; k < 2; k++) {
        dsc_optim *o = make_or_fail(specs[k], 1, DSC_FLOAT64);
        double p = 1, g = 2;
        CHECK_OK(dsc_optim_step(o, &p, &g));
        g = 1;
        CHECK_OK(dsc_optim_step(o, &p, &g));
        CHECK_NEAR(p, want[k], 1e-14);
        dsc_optim_free(o);
    }
}

/* ---- the texts' behaviours ---- */

/* Lessard, Recht & Packard 2016: on their mu = 1, L = 25 function heavy ball with the tuned
 * constants (lr = 4/(sqrt L + sqrt mu)^2 = 1/9, beta = ((sqrt kappa - 1)/(sqrt kappa + 1))^2 =
 * 4/9) falls into a 3-cycle from x0 = 3.3, while GD (lr = 1/L) and Nesterov converge. */
static void test_lessard_heavy_ball_cycle(void)
{
    dsc_testfn *f = NULL;
    CHECK_OK(dsc_testfn_new("lessard", &f));
    CHECK(dsc_testfn_dim(f) == 1);
    const char *specs[3] = {"heavyball:lr=0.1111111111111111,momentum=0.4444444444444444", "sgd:lr=0.04",
                            "nag:lr=0.04,kappa=25"};
    double last[3][3];
    for (int k = 0; k < 3; k++) {
        dsc_optim *o = make_or_fail(specs[k], 1, DSC_FLOAT64);
        double x = 3.3, g;
        for (int t = 0; t < 3000; t++) {
            dsc_testfn_eval(f, &x, &g);
            CHECK_OK(dsc_optim_step(o, &x, &g));
            if (t >= 2997)
                last[k][t - 2997] = x;
        }
        dsc_optim_free(o);
    }
    /* Heavy ball: the cycle 0.6465..., -1.8024..., 2.1159... (in some phase). */
    double lo = fmin(last[0][0], fmin(last[0][1], last[0][2])), hi = fmax(last[0][0], fmax(last[0][1], last[0][2]));
    CHECK_NEAR(lo, -1.8024489795918, 1e-9);
    CHECK_NEAR(hi, 2.1159183673469, 1e-9);
    for (int k = 1; k < 3; k++)
        for (int i = 0; i < 3; i++)
            CHECK(fabs(last[k][i]) < 1e-12);
    dsc_testfn_free(f);
}

/* Reddi, Kale & Kumar 2018, Theorem 1: online f_t(x) = C x (t mod 3 = 1), -x otherwise, on
 * [-1, 1], C = 3, beta1 = 0, beta2 = 1/(1 + C^2), lr_t = 0.5/sqrt(t): Adam goes to x = +1 (the
 * worst point), AMSGrad to the optimum x = -1. The projection onto [-1, 1] is done here. */
static double reddi(const char *spec, int steps)
{
    dsc_optim *o = make_or_fail(spec, 1, DSC_FLOAT64);
    double x = 0;
    for (int t = 1; o && t <= steps; t++) {
        double g = t % 3 == 1 ? 3 : -1;
        CHECK_OK(dsc_optim_set_lr(o, 0, 0.5 / sqrt((double)t)));
        CHECK_OK(dsc_optim_step(o, &x, &g));
        x = fmin(1, fmax(-1, x));
    }
    dsc_optim_free(o);
    return x;
}

static void test_reddi_adam_counterexample(void)
{
    const double adam = reddi("adam:beta1=0,beta2=0.1", 30000), ams = reddi("adam:beta1=0,beta2=0.1,amsgrad=1", 30000);
    if (getenv("DSC_TEST_VERBOSE"))
        printf("  Reddi et al.: Adam x = %.6g, AMSGrad x = %.6g\n", adam, ams);
    CHECK(adam == 1);
    CHECK(ams < -0.99);
}

/* The texts' "momentum does not beat the noise floor" (catalog-001-004 §1.5, catalog-000 A20):
 * on f = x^2/2 with gradient noise sigma*xi, the stationary variance of momentum SGD (lr eta,
 * momentum beta) equals, to first order in eta, that of SGD with lr eta/(1 - beta). Exact values:
 * SGD (AR(1), a = step): a sigma^2/(2 - a); heavy ball x+ = (1+beta-eta)x - beta x- - eta sigma xi
 * (AR(2)): (1 - p2) eta^2 sigma^2 / ((1 + p2)((1 - p2)^2 - p1^2)), p1 = 1 + beta - eta, p2 = -beta. */
static double noise_floor(const char *spec, uint64_t seed, long steps)
{
    dsc_optim *o = make_or_fail(spec, 1, DSC_FLOAT64);
    dsc_rng r = dsc_rng_seed(seed);
    double x = 0, g, sum = 0, sum2 = 0;
    long count = 0;
    for (long t = 0; o && t < steps; t++) {
        g = x + dsc_rng_normal(&r);
        dsc_optim_step(o, &x, &g);
        if (t >= steps / 10) { /* burn-in */
            sum += x;
            sum2 += x * x;
            count++;
        }
    }
    dsc_optim_free(o);
    const double mean = sum / (double)count;
    return sum2 / (double)count - mean * mean;
}

static void test_momentum_noise_floor(void)
{
    const double eta = 0.01, beta = 0.9, a = eta / (1 - beta);
    const double v_sgd = a / (2 - a);
    const double p1 = 1 + beta - eta, p2 = -beta;
    const double v_hb = (1 - p2) * eta * eta / ((1 + p2) * ((1 - p2) * (1 - p2) - p1 * p1));
    const double e_sgd = noise_floor("sgd:lr=0.1", 11, 400000), e_hb = noise_floor("sgd:lr=0.01,momentum=0.9", 12, 400000);
    if (getenv("DSC_TEST_VERBOSE"))
        printf("  noise floor: SGD(eta/(1-beta)) %.5f (exact %.5f), momentum SGD %.5f (exact %.5f)\n", e_sgd, v_sgd,
               e_hb, v_hb);
    CHECK_REL(e_sgd, v_sgd, 0.05, 0);
    CHECK_REL(e_hb, v_hb, 0.05, 0);
    CHECK_REL(v_hb, v_sgd, 0.06, 0); /* first-order equality (they differ by O(eta)) */
    /* and plain SGD at step eta has a 10x lower floor: momentum only rescales the step. */
    CHECK_REL(noise_floor("sgd:lr=0.01", 13, 400000), eta / (2 - eta), 0.05, 0);
}

/* Normalized SGD, Polyak step, Armijo backtracking: hand-computed steps. */
static void test_nsgd_polyak_armijo(void)
{
    double p[2] = {3, 4}, g[2] = {3, 4};
    dsc_optim *o = make_or_fail("nsgd:lr=1,eps=0", 2, DSC_FLOAT64);
    CHECK_OK(dsc_optim_step(o, p, g)); /* p -= g/||g|| */
    CHECK_NEAR(p[0], 2.4, 1e-15);
    CHECK_NEAR(p[1], 3.2, 1e-15);
    dsc_optim_free(o);

    dsc_testfn *q = NULL;
    CHECK_OK(dsc_testfn_new("quadratic:d=1", &q)); /* f = x^2/2 */
    closure_ctx c = {q, DSC_FLOAT64};
    double x = 1, gx, loss = 0;
    o = make_or_fail("polyak", 1, DSC_FLOAT64); /* gamma = (x^2/2)/x^2 = 1/2 */
    CHECK_OK(dsc_optim_step_closure(o, &x, &gx, closure_fn, &c, &loss));
    CHECK(x == 0.5 && loss == 0.5);
    CHECK_STATUS(dsc_optim_step(o, &x, &gx), DSC_ERR_INVALID);
    CHECK_STATUS(dsc_optim_set_lr(o, 0, 0.1), DSC_ERR_INVALID);
    CHECK(isnan(dsc_optim_get_lr(o, 0)));
    dsc_optim_free(o);
    x = 1;
    o = make_or_fail("polyak:max_lr=0.1", 1, DSC_FLOAT64);
    CHECK_OK(dsc_optim_step_closure(o, &x, &gx, closure_fn, &c, NULL));
    CHECK_NEAR(x, 0.9, 1e-15);
    dsc_optim_free(o);

    /* Armijo from t = 4: f(-3) = 4.5 and f(-1) = 0.5 fail sufficient decrease, t = 1 reaches 0. */
    x = 1;
    o = make_or_fail("armijo:lr=4", 1, DSC_FLOAT64);
    CHECK_OK(dsc_optim_step_closure(o, &x, &gx, closure_fn, &c, &loss));
    CHECK(x == 0 && loss == 0.5);
    dsc_optim_buffer b;
    CHECK_OK(dsc_optim_buffer_at(o, 0, &b));
    CHECK(!strcmp(b.name, "scalars") && b.len == 2 && ((double *)b.data)[0] == 1 && ((double *)b.data)[1] == 2);
    dsc_optim_free(o);
    dsc_testfn_free(q);

    /* Both converge on Rosenbrock where plain GD at the same first step would diverge. */
    dsc_testfn *r = NULL;
    CHECK_OK(dsc_testfn_new("rosenbrock", &r));
    c.fn = r;
    const char *specs[2] = {"armijo:lr=1", "polyak:c=2"};
    for (int k = 0; k < 2; k++) {
        double y[2] = {-1.2, 1}, gy[2];
        o = make_or_fail(specs[k], 2, DSC_FLOAT64);
        for (int t = 0; t < 20000; t++)
            CHECK_OK(dsc_optim_step_closure(o, y, gy, closure_fn, &c, NULL));
        if (getenv("DSC_TEST_VERBOSE"))
            printf("  %s on Rosenbrock from (-1.2, 1): (%.6g, %.6g)\n", specs[k], y[0], y[1]);
        CHECK(fabs(y[0] - 1) < 1e-2 && fabs(y[1] - 1) < 2e-2);
        dsc_optim_free(o);
    }
    dsc_testfn_free(r);
}

/* SAM and Lookahead wrap a base optimizer given by base=SPEC. */
static void test_wrappers(void)
{
    dsc_testfn *q = NULL;
    CHECK_OK(dsc_testfn_new("quadratic:d=1", &q)); /* f = x^2/2, g = x */
    closure_ctx c = {q, DSC_FLOAT64};
    double x = 1, g, loss = 0;
    /* SAM: e = rho g/|g| = 0.05, gradient at 1.05, sgd step from 1. */
    dsc_optim *o = make_or_fail("sam:rho=0.05,base=[sgd:lr=0.1]", 1, DSC_FLOAT64);
    CHECK_OK(dsc_optim_step_closure(o, &x, &g, closure_fn, &c, &loss));
    CHECK_NEAR(x, 1 - 0.1 * 1.05, 1e-12); /* eps = 1e-12 in the norm */
    CHECK(loss == 0.5);
    CHECK_STATUS(dsc_optim_step(o, &x, &g), DSC_ERR_INVALID);
    dsc_optim_free(o);
    /* ASAM at x = 2: s = |x| g = 4, e = x^2 g rho/4 = 0.1, gradient 2.1. */
    x = 2;
    o = make_or_fail("sam:adaptive=1,base=sgd:lr=0.1", 1, DSC_FLOAT64);
    CHECK_OK(dsc_optim_step_closure(o, &x, &g, closure_fn, &c, NULL));
    CHECK_NEAR(x, 2 - 0.21, 1e-12);
    dsc_optim_free(o);
    /* Lookahead k = 2, alpha = 0.5 over sgd lr 0.1: 1 -> 0.9 -> 0.81, then 1 + 0.5 (0.81 - 1). */
    x = 1;
    o = make_or_fail("lookahead:k=2,alpha=0.5,base=[sgd:lr=0.1]", 1, DSC_FLOAT64);
    for (int t = 0; t < 2; t++) {
        g = x;
        CHECK_OK(dsc_optim_step(o, &x, &g));
    }
    CHECK_NEAR(x, 0.905, 1e-15);
    g = x;
    CHECK_OK(dsc_optim_step(o, &x, &g));
    CHECK_NEAR(x, 0.905 * 0.9, 1e-15);
    /* Buffers: the wrapper's, then the base's as base.<name>; lr and steps are the base's. */
    CHECK(dsc_optim_num_buffers(o) == 1);
    dsc_optim_buffer b;
    CHECK_OK(dsc_optim_buffer_at(o, 0, &b));
    CHECK(!strcmp(b.name, "slow"));
    CHECK(dsc_optim_get_lr(o, 0) == 0.1);
    CHECK_OK(dsc_optim_set_lr(o, 0, 0.2));
    CHECK(dsc_optim_get_lr(o, 0) == 0.2);
    dsc_optim_free(o);
    o = make_or_fail("lookahead:base=[adam:lr=0.01]", 4, DSC_FLOAT64);
    CHECK_OK(dsc_optim_add_group(o, 2, 2, "weight_decay=0.5", NULL));
    CHECK(dsc_optim_num_groups(o) == 2);
    double wd = 0;
    CHECK_OK(dsc_optim_get_hparam(o, 1, "weight_decay", &wd));
    CHECK(wd == 0.5);
    CHECK(dsc_optim_num_buffers(o) == 3);
    CHECK_OK(dsc_optim_buffer_at(o, 2, &b));
    CHECK(!strcmp(b.name, "base.exp_avg_sq") && b.len == 4);
    char spec[512];
    dsc_optim_spec_str(o, 0, spec, sizeof spec);
    CHECK(strstr(spec, "lookahead:k=5,alpha=0.5,base=[adam:lr=0.01,") == spec && spec[strlen(spec) - 1] == ']');
    dsc_optim *o2 = NULL;
    CHECK_OK(dsc_optim_new(spec, 4, DSC_FLOAT64, &o2)); /* the canonical spec parses back */
    dsc_optim_free(o2);
    dsc_optim_free(o);
    /* Spec forms and errors. */
    CHECK_OK(dsc_optim_new("sam:base=[adam:lr=0.01,amsgrad=1],rho=0.1", 2, DSC_FLOAT32, &o));
    double rho = 0, ams = 0;
    CHECK_OK(dsc_optim_get_hparam(o, 0, "rho", &rho));
    CHECK_OK(dsc_optim_get_hparam(o, 0, "amsgrad", &ams));
    CHECK(rho == 0.1 && ams == 1);
    dsc_optim_free(o);
    /* Averaging: swap in and out; refused before the first average and for other optimizers. */
    double y[2] = {1, 2}, gy[2] = {1, 1};
    o = make_or_fail("average:start=2,base=[sgd:lr=0.5]", 2, DSC_FLOAT64);
    CHECK_STATUS(dsc_optim_swap_average(o, y), DSC_ERR_STATE);
    CHECK_OK(dsc_optim_step(o, y, gy)); /* (0.5, 1.5), not averaged (t < start) */
    CHECK_STATUS(dsc_optim_swap_average(o, y), DSC_ERR_STATE);
    CHECK_OK(dsc_optim_step(o, y, gy)); /* (0, 1): first average */
    CHECK_OK(dsc_optim_step(o, y, gy)); /* (-0.5, 0.5): average (-0.25, 0.75) */
    CHECK_OK(dsc_optim_swap_average(o, y));
    CHECK(y[0] == -0.25 && y[1] == 0.75);
    CHECK_OK(dsc_optim_swap_average(o, y));
    CHECK(y[0] == -0.5 && y[1] == 0.5);
    dsc_optim_free(o);
    o = make_or_fail("sgd", 2, DSC_FLOAT64);
    CHECK_STATUS(dsc_optim_swap_average(o, y), DSC_ERR_UNSUPPORTED);
    dsc_optim_free(o);
    expect_error("sam:rho=0.1", DSC_ERR_INVALID, "'base'", "required");
    expect_error("sam:rho=-1,base=sgd", DSC_ERR_RANGE, "'rho'", NULL);
    expect_error("sam:base=[sgd:lr=0.1", DSC_ERR_INVALID, "unbalanced", NULL);
    expect_error("lookahead:k=2,base=[adamm]", DSC_ERR_INVALID, "unknown optimizer 'adamm'", NULL);
    expect_error("lookahead:kk=2,base=[sgd]", DSC_ERR_INVALID, "unknown option 'kk'", "k, alpha");
    dsc_testfn_free(q);
}

/* Schedule-Free SGD against a direct transcription of the reference implementation's
 * y-update (y = lerp(y, z, c) + lr (beta (1 - c) - 1) u, z -= lr u) on a quadratic. */
static void test_schedulefree(void)
{
    enum { D = 4 };
    dsc_testfn *q = NULL;
    CHECK_OK(dsc_testfn_new("quadratic:d=4,kappa=10", &q));
    dsc_optim *o = make_or_fail("sgd_schedulefree:lr=0.05,momentum=0.9,warmup_steps=5,r=1,weight_decay=0.01", D,
                                DSC_FLOAT64);
    double y[D], g[D], yr[D], zr[D], gr_[D], lr_max = 0, wsum = 0;
    for (int i = 0; i < D; i++)
        y[i] = yr[i] = zr[i] = 1 + 0.25 * i;
    CHECK_STATUS(dsc_optim_swap_average(o, y), DSC_ERR_STATE);
    for (int t = 1; t <= 40; t++) {
        dsc_testfn_eval(q, y, g);
        CHECK_OK(dsc_optim_step(o, y, g));
        const double lr = 0.05 * (t < 5 ? t / 5.0 : 1);
        lr_max = fmax(lr_max, lr);
        const double w = pow(t, 1) * lr_max * lr_max;
        wsum += w;
        const double c = w / wsum;
        dsc_testfn_eval(q, yr, gr_);
        for (int i = 0; i < D; i++) {
            const double u = gr_[i] + 0.01 * yr[i];
            yr[i] = yr[i] + c * (zr[i] - yr[i]) + lr * (0.9 * (1 - c) - 1) * u;
            zr[i] = zr[i] - lr * u;
        }
    }
    for (int i = 0; i < D; i++)
        CHECK_REL(y[i], yr[i], 1e-11, 1e-12);
    /* x = (y - (1 - beta) z)/beta; the swap gives it. */
    double x[D];
    memcpy(x, y, sizeof x);
    CHECK_OK(dsc_optim_swap_average(o, x));
    for (int i = 0; i < D; i++)
        CHECK_REL(x[i], (yr[i] - 0.1 * zr[i]) / 0.9, 1e-10, 1e-12);
    CHECK_OK(dsc_optim_swap_average(o, x));
    CHECK(memcmp(x, y, sizeof x) == 0);
    dsc_optim_free(o);
    /* AdamW: the first step is p - lr*g/(|g| + eps). */
    double p1 = 1, g1 = 4;
    o = make_or_fail("adamw_schedulefree:lr=0.1,eps=0", 1, DSC_FLOAT64);
    CHECK_OK(dsc_optim_step(o, &p1, &g1));
    CHECK_NEAR(p1, 0.9, 1e-15);
    dsc_optim_free(o);
    /* Converges without a schedule on the kappa = 10 quadratic; x is at least as good as y. */
    o = make_or_fail("sgd_schedulefree:lr=0.1", D, DSC_FLOAT64);
    for (int i = 0; i < D; i++)
        y[i] = 1;
    for (int t = 0; t < 2000; t++) {
        dsc_testfn_eval(q, y, g);
        CHECK_OK(dsc_optim_step(o, y, g));
    }
    const double fy = dsc_testfn_eval(q, y, NULL);
    CHECK_OK(dsc_optim_swap_average(o, y));
    const double fx = dsc_testfn_eval(q, y, NULL);
    if (getenv("DSC_TEST_VERBOSE"))
        printf("  schedule-free SGD, 2000 steps: f(y) = %.3g, f(x) = %.3g\n", fy, fx);
    CHECK(fx < 1e-6 && fy < 1e-6);
    dsc_optim_free(o);
    dsc_testfn_free(q);
}

/* Muon: Newton-Schulz acts on the singular values sigma of G/||G||_F by the quintic
 * phi(s) = a s + b s^3 + c s^5, ns_steps times; so for G = diag(3, 4) the update is
 * -lr diag(phi^5(0.6), phi^5(0.8)), and for a 3 x 1 column (transposed internally, sigma = 1)
 * -lr sqrt(3) phi^5(1) G/||G||. */
static double phi5(double s)
{
    for (int k = 0; k < 5; k++)
        s = 3.4445 * s - 4.7750 * s * s * s + 2.0315 * s * s * s * s * s;
    return s;
}

static void test_muon(void)
{
    for (int dti = 0; dti < 2; dti++) {
        const dsc_dtype dt = dti ? DSC_FLOAT64 : DSC_FLOAT32;
        const double tol = dti ? 1e-12 : 1e-5;
        double pd[4] = {0}, gd[4] = {3, 0, 0, 4};
        float pf[4] = {0}, gf[4] = {3, 0, 0, 4};
        dsc_optim *o = make_or_fail("muon:lr=1,momentum=0,rows=2", 4, dt);
        CHECK_OK(dsc_optim_step(o, dti ? (void *)pd : (void *)pf, dti ? (void *)gd : (void *)gf));
        for (int i = 0; i < 4; i++)
            if (!dti)
                pd[i] = pf[i];
        CHECK_NEAR(pd[0], -phi5(3 / (5 + 1e-7)), tol); /* 1e-7: the reference's norm guard */
        CHECK_NEAR(pd[3], -phi5(4 / (5 + 1e-7)), tol);
        CHECK_NEAR(pd[1], 0, tol);
        CHECK_NEAR(pd[2], 0, tol);
        dsc_optim_free(o);
    }
    double p3[3] = {0}, g3[3] = {0, 3, 4};
    dsc_optim *o = make_or_fail("muon:lr=1,momentum=0,rows=3", 3, DSC_FLOAT64);
    CHECK_OK(dsc_optim_step(o, p3, g3));
    const double sg = 5 / (5 + 1e-7), f = -sqrt(3.0) * phi5(sg) / sg;
    CHECK_NEAR(p3[0], 0, 1e-12);
    CHECK_NEAR(p3[1], f * 3 / (5 + 1e-7), 1e-12);
    CHECK_NEAR(p3[2], f * 4 / (5 + 1e-7), 1e-12);
    dsc_optim_free(o);
    /* Layout errors at the first step. */
    double p10[10] = {0}, g10[10] = {0};
    o = make_or_fail("muon:rows=3", 10, DSC_FLOAT64);
    CHECK_STATUS(dsc_optim_step(o, p10, g10), DSC_ERR_SHAPE);
    dsc_optim_free(o);
    o = make_or_fail("muon:rows=2", 10, DSC_FLOAT64);
    CHECK_OK(dsc_optim_add_group(o, 4, 2, "rows=1", NULL));
    CHECK_STATUS(dsc_optim_step(o, p10, g10), DSC_ERR_INVALID);
    dsc_optim_free(o);
    /* One matrix per group: [0, 6) 2 x 3 and [6, 10) 2 x 2 as group 0 and 1. */
    o = make_or_fail("muon:rows=2", 10, DSC_FLOAT64);
    CHECK_OK(dsc_optim_add_group(o, 6, 4, "rows=2", NULL));
    CHECK_OK(dsc_optim_step(o, p10, g10));
    dsc_optim_free(o);
}

/* Zeroth-order estimators: exact (central differences) for coord on a quadratic, unbiased for
 * the random ones (checked with many directions), and usable with any base optimizer. */
static void test_zeroth_order(void)
{
    enum { D = 4 };
    dsc_testfn *q = NULL;
    CHECK_OK(dsc_testfn_new("quadratic:d=4,kappa=4", &q));
    closure_ctx c = {q, DSC_FLOAT64};
    double x[D] = {1, -0.5, 0.25, 2}, xr[D], g[D], gt[D];
    memcpy(xr, x, sizeof x);
    dsc_optim *o = make_or_fail("zo:method=coord,base=[sgd:lr=0.1,momentum=0.5]", D, DSC_FLOAT64),
               *r = make_or_fail("sgd:lr=0.1,momentum=0.5", D, DSC_FLOAT64);
    for (int t = 0; t < 20; t++) {
        CHECK_OK(dsc_optim_step_closure(o, x, g, closure_fn, &c, NULL));
        CHECK_OK(dsc_optim_step_closure(r, xr, g, closure_fn, &c, NULL));
    }
    for (int i = 0; i < D; i++)
        CHECK_REL(x[i], xr[i], 1e-9, 1e-9);
    dsc_optim_buffer b;
    CHECK_OK(dsc_optim_buffer_at(o, 0, &b));
    CHECK(!strcmp(b.name, "scalars") && ((double *)b.data)[1] == 20 * (1 + 2 * D)); /* evaluations */
    dsc_optim_free(o);
    dsc_optim_free(r);
    /* One step with lr = 1 from x0 moves by minus the estimate: average it over many directions. */
    const char *specs[3] = {"zo:method=gauss,directions=40000,symmetric=1,seed=1,base=[sgd:lr=1]",
                            "zo:method=sphere,directions=40000,symmetric=1,seed=2,base=[sgd:lr=1]",
                            "zo:method=spsa,directions=40000,seed=3,base=[sgd:lr=1]"};
    const double x0[D] = {1, -0.5, 0.25, 2};
    dsc_testfn_eval(q, x0, gt);
    for (int k = 0; k < 3; k++) {
        memcpy(x, x0, sizeof x);
        o = make_or_fail(specs[k], D, DSC_FLOAT64);
        CHECK_OK(dsc_optim_step_closure(o, x, g, closure_fn, &c, NULL));
        double err = 0, nrm = 0;
        for (int i = 0; i < D; i++) {
            err += (x0[i] - x[i] - gt[i]) * (x0[i] - x[i] - gt[i]);
            nrm += gt[i] * gt[i];
        }
        if (getenv("DSC_TEST_VERBOSE"))
            printf("  %s: relative error of the estimate %.3g\n", specs[k], sqrt(err / nrm));
        CHECK(sqrt(err / nrm) < 0.05);
        dsc_optim_free(o);
    }
    /* Two Gaussian directions per step are enough to converge (slowly) on a quadratic. */
    dsc_testfn *q10 = NULL;
    CHECK_OK(dsc_testfn_new("quadratic:d=10,kappa=10", &q10));
    c.fn = q10;
    double y[10], gy[10];
    for (int i = 0; i < 10; i++)
        y[i] = 1;
    const double f0 = dsc_testfn_eval(q10, y, NULL);
    o = make_or_fail("zo:directions=2,base=[sgd:lr=0.01]", 10, DSC_FLOAT64);
    for (int t = 0; t < 5000; t++)
        CHECK_OK(dsc_optim_step_closure(o, y, gy, closure_fn, &c, NULL));
    CHECK(dsc_testfn_eval(q10, y, NULL) < 1e-6 * f0);
    CHECK_STATUS(dsc_optim_step(o, y, gy), DSC_ERR_INVALID);
    dsc_optim_free(o);
    dsc_testfn_free(q10);
    dsc_testfn_free(q);
}

/* Adafactor's factored path against the torch 2.5 transcription (tools/gen_optim_fixtures.py) on
 * 6-D Rosenbrock viewed as a 2 x 3 matrix. */
static void test_adafactor_matrix(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/optim/adafactor_matrix.txt", dsc_test_source_dir());
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f)
        return;
    dsc_testfn *fn = NULL;
    CHECK_OK(dsc_testfn_new("rosenbrock:d=6", &fn));
    dsc_optim *o = make_or_fail("adafactor:lr=0.05,rows=2", 6, DSC_FLOAT64);
    double x[6], g[6], w[7];
    for (int i = 0; i < 6; i++)
        x[i] = 1.5;
    long t = 0, want;
    int rows = 0;
    while (o && fscanf(f, "%ld %lf %lf %lf %lf %lf %lf %lf", &want, &w[0], &w[1], &w[2], &w[3], &w[4], &w[5], &w[6]) ==
                    8) {
        for (; t < want; t++)
            CHECK_OK(step_fn(o, fn, DSC_FLOAT64, x, g));
        for (int i = 0; i < 6; i++)
            CHECK_REL(x[i], w[i], 1e-10, 1e-300);
        rows++;
    }
    CHECK(rows == 6);
    /* The state holds the 2 row and 3 column statistics at the start of the slice. */
    dsc_optim_buffer b;
    CHECK_OK(dsc_optim_buffer_at(o, 0, &b));
    CHECK(!strcmp(b.name, "variance") && ((double *)b.data)[4] > 0 && ((double *)b.data)[5] == 0);
    fclose(f);
    dsc_optim_free(o);
    dsc_testfn_free(fn);
}

DSC_TEST_MAIN("optim", TEST(test_threads_bit_identical), TEST(test_torch_fixtures), TEST(test_torch_fixtures_float32), TEST(test_checkpoint_roundtrip), TEST(test_float32_matches_float64),
              TEST(test_heavyball_equals_momentum_sgd), TEST(test_nag_sequences), TEST(test_acceleration_rates),
              TEST(test_sign_and_norm_rules), TEST(test_maximize), TEST(test_groups), TEST(test_spec_errors),
              TEST(test_testfns), TEST(test_eps_variants), TEST(test_lessard_heavy_ball_cycle),
              TEST(test_reddi_adam_counterexample), TEST(test_momentum_noise_floor),
              TEST(test_nsgd_polyak_armijo), TEST(test_wrappers), TEST(test_schedulefree), TEST(test_muon), TEST(test_zeroth_order), TEST(test_adafactor_matrix))
