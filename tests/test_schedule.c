/* Learning-rate schedules and gradient transforms.
 *
 * - Every torch schedule vs tables written by tools/gen_schedule_fixtures.py with torch 1.13
 *   (the .txt tables in tests/fixtures/schedule): values must be EQUAL (bit for bit) at every step, because
 *   descent evaluates torch's recursions in the same operation order with the same libm; the
 *   momentum that one-cycle/cyclic schedules cycle too. ReduceLROnPlateau driven by fixed metric
 *   sequences.
 * - The CLI prints the same numbers (%.17g).
 * - Theory step sizes vs their hand formulas and the properties the texts state.
 * - clip_grad_norm_ vs torch on fixed vectors: bit-identical on these vectors, but the tolerance
 *   allows ~2 ulp (float64 1e-15, float32 2.4e-7 relative) because torch takes the norm of the
 *   per-tensor norms while descent sums all squares in one float64 pass, so in general the
 *   last bit can differ.
 * - Gradient noise statistics (seeded Philox), weight decay, group clipping, custom stages. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testing.h"

#define MAXROWS 128

typedef struct fcase {
    char name[64], spec[512];
    double lr;
    int n, has_m, n_metrics;
    double lrs[MAXROWS], moms[MAXROWS], metrics[MAXROWS];
} fcase;

/* Reads the next case block of f; 0 at end of file. */
static int read_case(FILE *f, fcase *c)
{
    char line[4096];
    memset(c, 0, sizeof *c);
    int in = 0, row = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (line[0] == '#' || !line[0])
            continue;
        if (!strncmp(line, "case ", 5)) {
            snprintf(c->name, sizeof c->name, "%.63s", line + 5);
            in = 1;
        } else if (!in) {
            continue;
        } else if (!strncmp(line, "spec ", 5)) {
            snprintf(c->spec, sizeof c->spec, "%.511s", line + 5);
        } else if (!strncmp(line, "lr ", 3)) {
            c->lr = strtod(line + 3, NULL);
        } else if (!strncmp(line, "torch ", 6)) {
            continue;
        } else if (!strncmp(line, "metrics ", 8)) {
            char *p = line + 8, *e;
            while (c->n_metrics < MAXROWS) {
                double v = strtod(p, &e);
                if (e == p)
                    break;
                c->metrics[c->n_metrics++] = v;
                p = e;
            }
        } else if (!strncmp(line, "values ", 7)) {
            sscanf(line + 7, "%d %d", &c->n, &c->has_m);
        } else if (!strcmp(line, "end")) {
            CHECK(row == c->n);
            return 1;
        } else {
            char *e;
            long k = strtol(line, &e, 10);
            CHECK(k == row && row < MAXROWS);
            if (row >= MAXROWS)
                return 0;
            c->lrs[row] = strtod(e, &e);
            if (c->has_m)
                c->moms[row] = strtod(e, &e);
            row++;
        }
    }
    return 0;
}

static FILE *open_fixture(const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/schedule/%s", dsc_test_source_dir(), file);
    FILE *f = fopen(path, "r");
    if (!f)
        fprintf(stderr, "cannot open %s\n", path);
    CHECK(f != NULL);
    return f;
}

static int n_cases_checked;

/* One fixture case: forward evaluation, then random access on a fresh object. */
static void check_case(const char *file, const fcase *c)
{
    dsc_schedule *s = NULL;
    dsc_status st = dsc_schedule_new(c->spec, &s);
    if (st != DSC_OK) {
        fprintf(stderr, "%s/%s: spec '%s': %s\n", file, c->name, c->spec, dsc_last_error());
        dsc_test_failures++;
        return;
    }
    int bad = 0;
    for (int k = 0; k < c->n; k++) {
        double v = dsc_schedule_value(s, c->lr, k);
        if (v != c->lrs[k] && bad++ < 3)
            fprintf(stderr, "%s/%s step %d: lr %.17g, torch %.17g\n", file, c->name, k, v, c->lrs[k]);
        if (c->has_m) {
            double m = NAN;
            int got = dsc_schedule_momentum(s, k, &m);
            if ((!got || m != c->moms[k]) && bad++ < 3)
                fprintf(stderr, "%s/%s step %d: momentum %.17g (got %d), torch %.17g\n", file, c->name, k, m, got,
                        c->moms[k]);
        }
        if (c->n_metrics)
            CHECK_OK(dsc_schedule_observe(s, c->metrics[k]));
    }
    CHECK(bad == 0);
    dsc_schedule_free(s);
    if (c->n_metrics == 0) {
        /* random access (backwards, then interleaved with another base) gives the same values */
        CHECK_OK(dsc_schedule_new(c->spec, &s));
        for (int k = c->n - 1; k >= 0; k--)
            CHECK(dsc_schedule_value(s, c->lr, k) == c->lrs[k]);
        for (int k = 0; k < c->n; k++) {
            (void)dsc_schedule_value(s, 2 * c->lr, k);
            CHECK(dsc_schedule_value(s, c->lr, k) == c->lrs[k]);
        }
        dsc_schedule_free(s);
    }
    n_cases_checked++;
}

static void check_file(const char *file)
{
    FILE *f = open_fixture(file);
    if (!f)
        return;
    fcase *c = malloc(sizeof *c);
    int n = 0;
    while (read_case(f, c)) {
        check_case(file, c);
        n++;
    }
    CHECK(n >= 1);
    free(c);
    fclose(f);
}

static void test_torch_tables(void)
{
    static const char *files[] = {"step.txt",      "multistep.txt", "constant.txt",        "linear.txt",
                                  "exponential.txt", "polynomial.txt", "cosine.txt",        "cosine_restarts.txt",
                                  "cyclic.txt",    "onecycle.txt",  "sequential.txt",      "chain.txt",
                                  "batch_scale.txt", "plateau.txt"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        check_file(files[i]);
    CHECK(n_cases_checked >= 40);
}

/* The closed form differs from torch's recursion in the last bits: the recursion is what we match. */
static void test_recursion_not_closed_form(void)
{
    dsc_schedule *s;
    CHECK_OK(dsc_schedule_new("exponential:gamma=0.9", &s));
    int differs = 0;
    double v = 0.05;
    for (int k = 0; k < 40; k++) {
        CHECK(dsc_schedule_value(s, 0.05, k) == v);
        differs += v != 0.05 * pow(0.9, k);
        v *= 0.9;
    }
    CHECK(differs > 0); /* else this test could not tell the two apart */
    dsc_schedule_free(s);
}

static void run_cli(const char *args, char *out, size_t size)
{
    const char *cli = getenv("DSC_CLI");
    out[0] = 0;
    if (!cli) {
        fprintf(stderr, "DSC_CLI not set: CLI checks skipped\n");
        return;
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' schedule %s 2>&1", cli, args);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    if (!p)
        return;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = 0;
    int rc = pclose(p);
    (void)rc;
}

static int cli_status(const char *args)
{
    const char *cli = getenv("DSC_CLI");
    if (!cli)
        return -1;
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' schedule %s >/dev/null 2>&1", cli, args);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_cli(void)
{
    if (!getenv("DSC_CLI")) {
        fprintf(stderr, "DSC_CLI not set: CLI checks skipped\n");
        return;
    }
    static const struct {
        const char *file, *name;
    } which[] = {{"step.txt", "torch_test_step"},
                 {"cosine.txt", "past_t_max"},
                 {"sequential.txt", "warmup_cosine"},
                 {"onecycle.txt", "three_phase"},
                 {"plateau.txt", "torch_test_min"}};
    char *out = malloc(1 << 16);
    fcase *c = malloc(sizeof *c);
    for (size_t w = 0; w < sizeof which / sizeof which[0]; w++) {
        FILE *f = open_fixture(which[w].file);
        if (!f)
            continue;
        int found = 0;
        while (read_case(f, c))
            if (!strcmp(c->name, which[w].name)) {
                found = 1;
                break;
            }
        fclose(f);
        CHECK(found);
        if (!found)
            continue;
        char args[2048];
        int len = snprintf(args, sizeof args, "--schedule '%s' --lr %.17g --steps %d%s", c->spec, c->lr, c->n,
                           c->has_m ? " --momentum" : "");
        if (c->n_metrics) {
            len += snprintf(args + len, sizeof args - (size_t)len, " --metrics ");
            for (int i = 0; i < c->n_metrics; i++)
                len += snprintf(args + len, sizeof args - (size_t)len, "%s%.17g", i ? "," : "", c->metrics[i]);
        }
        run_cli(args, out, 1 << 16);
        char *p = out;
        for (int k = 0; k < c->n; k++) {
            char want[128];
            if (c->has_m)
                snprintf(want, sizeof want, "%d %.17g %.17g\n", k, c->lrs[k], c->moms[k]);
            else
                snprintf(want, sizeof want, "%d %.17g\n", k, c->lrs[k]);
            if (strncmp(p, want, strlen(want))) {
                fprintf(stderr, "cli %s/%s line %d: got '%.60s', want '%s'\n", which[w].file, c->name, k, p, want);
                dsc_test_failures++;
                break;
            }
            p += strlen(want);
        }
        CHECK(*p == 0);
    }
    free(c);
    /* help and usage errors */
    run_cli("--help", out, 1 << 16);
    CHECK(strstr(out, "usage: descent schedule --schedule SPEC") != NULL);
    CHECK(cli_status("--help") == 0);
    CHECK(cli_status("--lr 0.1") == 2);
    CHECK(cli_status("--schedule cosine:tmax=3") == 2);
    CHECK(cli_status("--schedule bogus") == 2);
    CHECK(cli_status("--schedule cosine:t_max=3 --steps -1") == 2);
    CHECK(cli_status("--schedule cosine:t_max=3 --lr abc") == 2);
    CHECK(cli_status("--schedule cosine:t_max=3 --frobnicate") == 2);
    run_cli("--schedule cosine:tmax=3", out, 1 << 16);
    CHECK(strstr(out, "unknown key 'tmax'") && strstr(out, "t_max"));
    free(out);
}

static double value_of(const char *spec, double base, int64_t k)
{
    dsc_schedule *s = NULL;
    dsc_status st = dsc_schedule_new(spec, &s);
    if (st != DSC_OK) {
        fprintf(stderr, "spec '%s': %s\n", spec, dsc_last_error());
        dsc_test_failures++;
        return NAN;
    }
    double v = dsc_schedule_value(s, base, k);
    dsc_schedule_free(s);
    return v;
}

static void test_theory_step_sizes(void)
{
    /* 1/L, 2/(mu+L), D/(G sqrt T): constants, the base lr is not used */
    CHECK(value_of("inv_l:L=4", 0.3, 0) == 0.25);
    CHECK(value_of("inv_l:L=4", 0.3, 77) == 0.25);
    CHECK(value_of("two_mu_l:mu=1,L=10", 0.3, 5) == 2.0 / 11.0);
    CHECK(value_of("dgsqrt:D=2,G=4,T=16", 1, 3) == 0.125);
    CHECK(value_of("dgsqrt:D=3,G=2,anytime=1", 1, 8) == 3.0 / (2.0 * 3.0));
    /* convex SGD D / sqrt(T (G^2 + sigma^2)); smooth minibatch SGD min{1/L, sqrt(2 Delta B / (L sigma^2 T))} */
    CHECK(value_of("dgsqrt:D=2,G=3,T=4,sigma=4", 1, 0) == 2 / sqrt(4.0 * 25.0));
    CHECK(value_of("smooth_sgd:L=10", 1, 5) == 0.1);
    CHECK(value_of("smooth_sgd:L=10,delta=1,sigma=2,T=1000", 1, 5) == sqrt(2.0 / (10.0 * 4.0 * 1000.0)));
    CHECK(value_of("smooth_sgd:L=10,delta=1,sigma=2,T=1000,batch=4", 1, 5) ==
          sqrt(2.0 * 4.0 / (10.0 * 4.0 * 1000.0)));
    CHECK(value_of("smooth_sgd:L=1,delta=100,sigma=0.1,T=10", 1, 5) == 1.0);
    /* alpha_k = (2k+1)/(2 mu (k+1)^2): alpha_0 = 1/(2 mu) and 1 - 2 alpha_k mu = k^2/(k+1)^2 (catalog C-04) */
    dsc_schedule *s;
    CHECK_OK(dsc_schedule_new("pl_decay:mu=0.1", &s));
    CHECK_NEAR(dsc_schedule_value(s, 1, 0), 5.0, 1e-15);
    for (int64_t k = 0; k <= 1000000; k += (k < 100 ? 1 : 9973)) {
        double a = dsc_schedule_value(s, 1, k), kk = (double)k;
        CHECK_NEAR(1 - 2 * a * 0.1, kk * kk / ((kk + 1) * (kk + 1)), 1e-15);
    }
    dsc_schedule_free(s);
    /* two-step Chebyshev: 1/eta_{1,2} = (mu+L)/2 +- (L-mu)/(2 sqrt 2); mu=1, L=10: the worst-case
     * two-step contraction max |(1-eta1 l)(1-eta2 l)| over [mu, L] is 1/T_2((L+mu)/(L-mu)) = 0.5031
     * (catalog C41), below (9/11)^2 = 0.6694 of two optimal constant steps */
    CHECK_OK(dsc_schedule_new("chebyshev:mu=1,L=10", &s));
    double e1 = dsc_schedule_value(s, 1, 0), e2 = dsc_schedule_value(s, 1, 1);
    CHECK(e1 == 1 / (5.5 + 9 / (2 * sqrt(2.0))));
    CHECK(e2 == 1 / (5.5 - 9 / (2 * sqrt(2.0))));
    CHECK(dsc_schedule_value(s, 1, 2) == e1 && dsc_schedule_value(s, 1, 7) == e2);
    double worst = 0;
    for (int i = 0; i <= 90000; i++) {
        double l = 1 + 9 * i / 90000.0, r = fabs((1 - e1 * l) * (1 - e2 * l));
        worst = r > worst ? r : worst;
    }
    double x = 11.0 / 9.0;
    CHECK_NEAR(worst, 1 / (2 * x * x - 1), 1e-9);
    CHECK_NEAR(worst, 0.5031, 1e-4);
    dsc_schedule_free(s);
    /* n-step Chebyshev: the product over a cycle equals 1/T_n((L+mu)/(L-mu)) at lambda = mu */
    CHECK_OK(dsc_schedule_new("chebyshev:mu=1,L=10,n=3", &s));
    double prod = 1;
    for (int k = 0; k < 3; k++)
        prod *= 1 - dsc_schedule_value(s, 1, k) * 1.0;
    double t3 = 4 * x * x * x - 3 * x; /* T_3(x) */
    CHECK_NEAR(fabs(prod), 1 / t3, 1e-12);
    dsc_schedule_free(s);
}

static void test_descent_own_schedules(void)
{
    /* inverse time: base / (1 + rate t / decay_steps)^power */
    CHECK(value_of("inverse_time:decay_rate=0.5", 0.1, 4) == 0.1 / 3.0);
    CHECK(value_of("inverse_time:decay_rate=1,decay_steps=10,staircase=1", 1, 19) == 0.5);
    CHECK_NEAR(value_of("inverse_time:decay_rate=1,power=0.5", 1, 3), 0.5, 1e-16);
    /* warmup-stable-decay */
    const char *wsd = "wsd:warmup=4,stable=3,decay=4,end_factor=0.1";
    CHECK(value_of(wsd, 1, 0) == 0);
    CHECK(value_of(wsd, 1, 2) == 0.5);
    CHECK(value_of(wsd, 1, 4) == 1 && value_of(wsd, 1, 6) == 1);
    CHECK_NEAR(value_of(wsd, 1, 9), 0.1 + 0.9 * 0.5, 1e-16);
    CHECK_NEAR(value_of(wsd, 1, 11), 0.1, 1e-16);
    CHECK_NEAR(value_of(wsd, 1, 1000), 0.1, 1e-16);
    CHECK_NEAR(value_of("wsd:stable=2,decay=4,decay_type=sqrt", 1, 3), 1 - sqrt(0.25), 1e-16);
    CHECK_NEAR(value_of("wsd:stable=2,decay=4,decay_type=cosine", 1, 4), 0.5, 1e-16);
    /* warm-up from 0 (start_factor 0, torch's LinearLR cannot): base * k / steps, then the schedule */
    CHECK(value_of("warmup:steps=4", 0.8, 0) == 0);
    CHECK(value_of("warmup:steps=4", 0.8, 1) == 0.2);
    CHECK(value_of("warmup:steps=4", 0.8, 3) == 0.8 * 0.75);
    CHECK(value_of("warmup:steps=4", 0.8, 10) == 0.8);
    CHECK(value_of("warmup:steps=4,then=[exponential:gamma=0.5]", 1, 6) == 0.25);
    CHECK(value_of("warmup:steps=0,then=exponential:gamma=0.5", 1, 2) == 0.25);
    /* constant is constant; nested brackets to any depth */
    CHECK(value_of("constant", 0.3, 1000) == 0.3);
    CHECK(value_of("chain:schedules=[step:step_size=1,gamma=0.5]+[constant:factor=0.5,total_iters=10]", 1, 3) ==
          0.0625);
    CHECK(value_of("warmup:steps=1,start_factor=0.5,then=[chain:schedules=[step:step_size=1,gamma=0.5]+[constant:"
                   "factor=0.5,total_iters=10]]",
                   1, 3) == 0.0625);
    /* batch-size rules */
    CHECK(dsc_batch_scale_lr(0.1, DSC_BATCH_LINEAR, 1024, 256) == 0.4);
    CHECK(dsc_batch_scale_lr(0.1, DSC_BATCH_SQRT, 1024, 256) == 0.2);
    CHECK(dsc_batch_scale_lr(0.1, DSC_BATCH_NONE, 1024, 256) == 0.1);
    /* momentum: none for plain schedules; one-cycle inside a warm-up prefix is the child's */
    dsc_schedule *s;
    double m = -1;
    CHECK_OK(dsc_schedule_new("cosine:t_max=5", &s));
    CHECK(dsc_schedule_momentum(s, 1, &m) == 0 && m == -1);
    dsc_schedule_free(s);
    CHECK_OK(dsc_schedule_new("warmup:steps=2,then=onecycle:total_steps=10", &s));
    CHECK(dsc_schedule_momentum(s, 0, &m) == 0);
    CHECK(dsc_schedule_momentum(s, 2, &m) == 1 && m == 0.95);
    dsc_schedule_free(s);
}

static void check_err(const char *spec, const char *a, const char *b)
{
    dsc_schedule *s = (dsc_schedule *)1;
    dsc_status st = dsc_schedule_new(spec, &s);
    CHECK(st != DSC_OK);
    CHECK(s == NULL);
    const char *e = dsc_last_error();
    if (!strstr(e, a) || (b && !strstr(e, b))) {
        fprintf(stderr, "spec '%s': message '%s' lacks '%s'/'%s'\n", spec, e, a, b ? b : "");
        dsc_test_failures++;
    }
}

static void test_spec_errors(void)
{
    check_err("cosin:t_max=3", "unknown kind 'cosin'", "cosine, cosine_restarts");
    check_err("cosine:tmax=3", "unknown key 'tmax'", "t_max, eta_min");
    check_err("cosine", "missing t_max", "cosine:t_max=");
    check_err("cosine:t_max=0", "t_max=0", "out of range");
    check_err("cosine:t_max=abc", "t_max", "abc");
    check_err("step:step_size=3,gamma=-1", "gamma=-1", NULL);
    check_err("multistep:milestones=30,60", "unexpected value '60'", "joined with '+'");
    check_err("multistep:milestones=30+x", "milestones", "x");
    check_err("onecycle:max_lr=1,total_steps=10,anneal_strategy=cosine", "anneal_strategy", "cos, linear");
    check_err("onecycle:max_lr=1", "total_steps", NULL);
    check_err("onecycle:max_lr=1,total_steps=10,pct_start=0.1", "phase 1 is empty", "total_steps=10");
    check_err("cyclic:max_lr=1,mode=triangle", "mode", "triangular, triangular2, exp_range");
    check_err("reduce_on_plateau:factor=1", "factor=1", "< 1");
    check_err("reduce_on_plateau:threshold_mode=relative", "threshold_mode", "rel, abs");
    check_err("warmup:steps=5,then=reduce_on_plateau", "cannot be nested", NULL);
    check_err("sequential:milestones=5+6,schedules=[constant]+[cosine:t_max=4]", "2 schedules need 1 milestones",
              NULL);
    check_err("sequential:milestones=6+5,schedules=[constant]+[constant]+[constant]", "must increase", NULL);
    check_err("chain:schedules=[constant+[exponential:gamma=0.9]", "unbalanced", NULL);
    check_err("warmup:steps=5,then=cosine:t_mx=4", "unknown key 't_mx'", NULL);
    check_err("chebyshev:mu=10,L=1", "L > mu", NULL);
    check_err("", "empty spec", "constant");
    dsc_schedule *s;
    CHECK_OK(dsc_schedule_new("cosine:t_max=4", &s));
    CHECK_STATUS(dsc_schedule_observe(s, 1.0), DSC_ERR_STATE);
    dsc_schedule_free(s);
    CHECK_OK(dsc_schedule_new("reduce_on_plateau", &s));
    CHECK_STATUS(dsc_schedule_observe(s, NAN), DSC_ERR_NUMERIC);
    dsc_schedule_free(s);
}

/* Checkpoint: save the plateau state mid-run, load into a fresh object, continue identically. */
static void test_plateau_state(void)
{
    const char *spec = "reduce_on_plateau:factor=0.5,patience=1,cooldown=1";
    double metrics[] = {5, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 2};
    dsc_schedule *a, *b;
    CHECK_OK(dsc_schedule_new(spec, &a));
    CHECK_OK(dsc_schedule_new(spec, &b));
    double st[DSC_SCHEDULE_STATE_LEN];
    for (int i = 0; i < 12; i++) {
        CHECK_OK(dsc_schedule_observe(a, metrics[i]));
        if (i == 5) {
            dsc_schedule_state_save(a, st);
            CHECK_OK(dsc_schedule_state_load(b, st));
        } else if (i > 5) {
            CHECK_OK(dsc_schedule_observe(b, metrics[i]));
        }
        if (i >= 5)
            CHECK(dsc_schedule_value(a, 0.1, i) == dsc_schedule_value(b, 0.1, i));
    }
    CHECK(dsc_schedule_value(a, 0.1, 0) < 0.1);
    dsc_schedule_free(a);
    dsc_schedule_free(b);
}

/* ------------------------------------------------------------------------------------------ */
/* transforms                                                                                   */

static void test_clip_vs_torch(void)
{
    FILE *f = open_fixture("clip.txt");
    if (!f)
        return;
    char line[8192];
    int cases = 0;
    while (fgets(line, sizeof line, f)) {
        char dt[8], nt[8];
        double max_norm, scale;
        if (sscanf(line, "case %7s %7s %lf %lf", dt, nt, &max_norm, &scale) != 4)
            continue;
        double want_norm, want[15];
        CHECK(fgets(line, sizeof line, f) && sscanf(line, "norm %lf", &want_norm) == 1);
        CHECK(fgets(line, sizeof line, f) != NULL);
        char *p = line;
        for (int i = 0; i < 15; i++)
            want[i] = strtod(p, &p);
        int f64 = !strcmp(dt, "f64");
        double gd[15];
        float gf[15];
        for (int i = 0; i < 15; i++) {
            gd[i] = scale * sin(0.37 * i + 0.1);
            gf[i] = (float)gd[i];
        }
        double tol = f64 ? 1e-15 : 2.4e-7; /* bit-identical today; allow ~2 ulp (summation order) */
        dsc_transform *t;
        char spec[128];
        snprintf(spec, sizeof spec, "clip_norm:max_norm=%.17g,norm_type=%s", max_norm, nt);
        CHECK_OK(dsc_transform_new(spec, &t));
        dsc_tx_args a = {0};
        a.dtype = f64 ? DSC_FLOAT64 : DSC_FLOAT32;
        a.grad = f64 ? (void *)gd : (void *)gf;
        a.n = 15;
        dsc_tx_stats stats = {0};
        CHECK_OK(dsc_transform_apply(t, &a, &stats));
        CHECK_REL(stats.grad_norm, want_norm, tol, 1e-30);
        CHECK(stats.clipped == (want_norm + 1e-6 > max_norm));
        for (int i = 0; i < 15; i++)
            CHECK_REL(f64 ? gd[i] : gf[i], want[i], tol, 1e-30);
        dsc_transform_free(t);
        cases++;
    }
    fclose(f);
    CHECK(cases == 16);
}

static void test_clip_value_group_decay(void)
{
    double g[6] = {3, -4, 0.5, 1, 1, 1}, p[6] = {1, 2, 3, 4, 5, 6};
    size_t off[3] = {0, 2, 6};
    double decay[2] = {1, 0};
    double norms[2];
    dsc_transform *t;
    /* group norms: [3,-4] has 5 -> scaled to 1; [0.5,1,1,1] has 1.80 -> scaled to 1 */
    CHECK_OK(dsc_transform_new("clip_group_norm:max_norm=1", &t));
    dsc_tx_args a = {DSC_FLOAT64, g, p, 6, 2, off, decay, 0, 0.1};
    dsc_tx_stats st = {0};
    st.group_norms = norms;
    CHECK_OK(dsc_transform_apply(t, &a, &st));
    CHECK(norms[0] == 5);
    CHECK_NEAR(norms[1], sqrt(3.25), 1e-15);
    CHECK_NEAR(st.grad_norm, sqrt(25 + 3.25), 1e-14);
    CHECK_NEAR(g[0], 3 * (1 / (5 + 1e-6)), 1e-16);
    CHECK_NEAR(g[1], -4 * (1 / (5 + 1e-6)), 1e-16);
    CHECK_NEAR(dsc_grad_norm(DSC_FLOAT64, g + 2, 4, 2), 1, 1e-6);
    dsc_transform_free(t);
    /* clip_value then coupled weight decay (group 1 has multiplier 0) */
    double h[6] = {3, -4, 0.5, 1, -2, 1};
    a.grad = h;
    CHECK_OK(dsc_transform_new("clip_value:clip=0.75;weight_decay:wd=0.1", &t));
    CHECK(dsc_transform_len(t) == 2 && !strcmp(dsc_transform_stage_name(t, 1), "weight_decay"));
    CHECK_OK(dsc_transform_apply(t, &a, NULL));
    CHECK(h[0] == 0.75 + 0.1 * 1 && h[1] == -0.75 + 0.1 * 2);
    CHECK(h[2] == 0.5 && h[3] == 0.75 && h[4] == -0.75 && h[5] == 0.75);
    dsc_transform_free(t);
    /* decoupled: p *= 1 - lr * wd, gradient untouched */
    double q[6] = {1, 2, 3, 4, 5, 6}, k[6] = {1, 1, 1, 1, 1, 1};
    a.grad = k;
    a.params = q;
    CHECK_OK(dsc_transform_new("weight_decay:wd=0.5,mode=decoupled", &t));
    CHECK_OK(dsc_transform_apply(t, &a, NULL));
    CHECK(q[0] == 1 * (1 - 0.1 * 0.5) && q[1] == 2 * (1 - 0.1 * 0.5) && q[2] == 3 && k[0] == 1);
    a.params = NULL;
    CHECK_STATUS(dsc_transform_apply(t, &a, NULL), DSC_ERR_INVALID);
    dsc_transform_free(t);
    /* float32 through the same source */
    float gf[4] = {3, 4, 0, 0};
    double c = 0;
    double n = dsc_clip_grad_norm(DSC_FLOAT32, gf, 4, 1, 2, &c);
    CHECK(n == 5 && c < 1);
    CHECK_NEAR(gf[0], 0.6, 1e-6);
    CHECK_NEAR(gf[1], 0.8, 1e-6);
    /* not clipped: unchanged bits */
    double u[3] = {0.1, 0.2, 0.3};
    CHECK(dsc_clip_grad_norm(DSC_FLOAT64, u, 3, 10, 2, &c) > 0 && c == 1 && u[1] == 0.2);
    /* errors */
    CHECK_STATUS(dsc_transform_new("clip_norm", &t), DSC_ERR_INVALID);
    CHECK(strstr(dsc_last_error(), "max_norm") != NULL);
    CHECK_STATUS(dsc_transform_new("clip_norm:max_norm=1,norm_type=3", &t), DSC_ERR_INVALID);
    CHECK(strstr(dsc_last_error(), "2, inf") != NULL);
    CHECK_STATUS(dsc_transform_new("clip:max=1", &t), DSC_ERR_INVALID);
    CHECK(strstr(dsc_last_error(), "clip_norm, clip_group_norm") != NULL);
    CHECK_STATUS(dsc_transform_new("weight_decay:wd=1,mode=both", &t), DSC_ERR_INVALID);
    CHECK(strstr(dsc_last_error(), "coupled, decoupled") != NULL);
    /* non-finite norm */
    double bad[2] = {INFINITY, 1};
    CHECK_OK(dsc_transform_new("clip_norm:max_norm=1,error_if_nonfinite=1", &t));
    dsc_tx_args b = {0};
    b.dtype = DSC_FLOAT64;
    b.grad = bad;
    b.n = 2;
    CHECK_STATUS(dsc_transform_apply(t, &b, NULL), DSC_ERR_NUMERIC);
    dsc_transform_free(t);
}

static void test_noise(void)
{
    const size_t n = 200000;
    double *g = calloc(n, sizeof *g), *g2 = calloc(n, sizeof *g2);
    float *gf = calloc(n, sizeof *gf);
    dsc_transform *t;
    CHECK_OK(dsc_transform_new("noise:eta=0.5,gamma=0.55,seed=7", &t));
    dsc_tx_args a = {0};
    a.dtype = DSC_FLOAT64;
    a.grad = g;
    a.n = n;
    a.step = 3;
    dsc_tx_stats st = {0};
    CHECK_OK(dsc_transform_apply(t, &a, &st));
    double var_want = 0.5 / pow(4.0, 0.55);
    CHECK_NEAR(st.noise_std * st.noise_std, var_want, 1e-15);
    double mean = 0, var = 0;
    for (size_t i = 0; i < n; i++)
        mean += g[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        var += (g[i] - mean) * (g[i] - mean);
    var /= (double)(n - 1);
    CHECK(fabs(mean) < 5 * sqrt(var_want / (double)n));
    CHECK(fabs(var / var_want - 1) < 5 * sqrt(2.0 / (double)n)); /* 5 standard errors */
    /* same (seed, step): same draws, also for float32 and for 1 vs 2 threads */
    int threads = dsc_get_num_threads();
    dsc_set_num_threads(threads == 1 ? 2 : 1);
    a.grad = g2;
    CHECK_OK(dsc_transform_apply(t, &a, NULL));
    dsc_set_num_threads(threads);
    CHECK(memcmp(g, g2, n * sizeof *g) == 0);
    a.dtype = DSC_FLOAT32;
    a.grad = gf;
    CHECK_OK(dsc_transform_apply(t, &a, NULL));
    double maxd = 0;
    for (size_t i = 0; i < n; i++)
        maxd = fmax(maxd, fabs((double)gf[i] - g[i]));
    CHECK(maxd < 1e-6);
    /* another step: different draws with a smaller variance (annealed) */
    memset(g2, 0, n * sizeof *g2);
    a.dtype = DSC_FLOAT64;
    a.grad = g2;
    a.step = 99;
    CHECK_OK(dsc_transform_apply(t, &a, &st));
    double var2 = 0;
    int same = 0;
    for (size_t i = 0; i < n; i++) {
        var2 += g2[i] * g2[i];
        same += g2[i] == g[i];
    }
    var2 /= (double)n;
    CHECK(same < 10);
    CHECK(fabs(var2 / (0.5 / pow(100.0, 0.55)) - 1) < 5 * sqrt(2.0 / (double)n));
    dsc_transform_free(t);
    free(g);
    free(g2);
    free(gf);
}

/* norms over many chunks: 1 and 2 threads give the same bits */
static void test_norm_threads(void)
{
    size_t n = 3000017;
    float *g = malloc(n * sizeof *g);
    dsc_test_fill(g, n, 5, -1, 1);
    int threads = dsc_get_num_threads();
    dsc_set_num_threads(1);
    double a = dsc_grad_norm(DSC_FLOAT32, g, n, 2), ai = dsc_grad_norm(DSC_FLOAT32, g, n, INFINITY);
    dsc_set_num_threads(2);
    double b = dsc_grad_norm(DSC_FLOAT32, g, n, 2), bi = dsc_grad_norm(DSC_FLOAT32, g, n, INFINITY);
    dsc_set_num_threads(threads);
    CHECK(a == b && ai == bi);
    CHECK_NEAR(a, sqrt((double)n / 3), 0.01 * sqrt((double)n / 3));
    free(g);
}

/* A schedule drives an optimizer's groups: lr per group from its base, momentum / beta1 cycled. */
static void test_apply_to_optimizer(void)
{
    dsc_schedule *s;
    dsc_optim *o;
    CHECK_OK(dsc_schedule_new("onecycle:max_lr=1,total_steps=10", &s));
    CHECK_OK(dsc_optim_new("sgd:lr=0.1,momentum=0.9", 4, DSC_FLOAT64, &o));
    CHECK_OK(dsc_optim_add_group(o, 2, 2, "lr=0.5", NULL));
    double base[2] = {0.1, 0.5}, v, m;
    CHECK_OK(dsc_schedule_apply(s, o, base, 3));
    CHECK(dsc_optim_get_lr(o, 0) == dsc_schedule_value(s, 0.1, 3));
    CHECK(dsc_schedule_momentum(s, 3, &m) == 1);
    CHECK_OK(dsc_optim_get_hparam(o, 1, "momentum", &v));
    CHECK(v == m && m < 0.95);
    dsc_optim_free(o);
    CHECK_OK(dsc_optim_new("adam:lr=0.01", 4, DSC_FLOAT32, &o));
    CHECK_OK(dsc_schedule_apply(s, o, base, 2));
    CHECK_OK(dsc_optim_get_hparam(o, 0, "beta1", &v));
    CHECK(dsc_schedule_momentum(s, 2, &m) == 1 && v == m);
    dsc_optim_free(o);
    CHECK_OK(dsc_optim_new("adagrad:lr=0.01", 4, DSC_FLOAT32, &o));
    CHECK_STATUS(dsc_schedule_apply(s, o, base, 2), DSC_ERR_INVALID);
    CHECK(strstr(dsc_last_error(), "cycle_momentum=0") != NULL);
    dsc_optim_free(o);
    dsc_schedule_free(s);
    /* a cosine schedule over two groups with different base lrs */
    CHECK_OK(dsc_schedule_new("cosine:t_max=10", &s));
    CHECK_OK(dsc_optim_new("sgd:lr=0.1", 4, DSC_FLOAT64, &o));
    CHECK_OK(dsc_optim_add_group(o, 0, 1, "lr=0.5", NULL));
    for (int k = 0; k < 12; k++) {
        CHECK_OK(dsc_schedule_apply(s, o, base, k));
        CHECK(dsc_optim_get_lr(o, 0) == dsc_schedule_value(s, 0.1, k));
        CHECK(dsc_optim_get_lr(o, 1) == dsc_schedule_value(s, 0.5, k));
    }
    dsc_optim_free(o);
    dsc_schedule_free(s);
}

typedef struct {
    int calls;
    double seen_norm;
} custom_ctx;

static dsc_status custom_stage(void *ctx, const dsc_tx_args *a, dsc_tx_stats *st)
{
    custom_ctx *c = ctx;
    c->calls++;
    c->seen_norm = st->grad_norm;
    ((double *)a->grad)[0] = 42;
    return DSC_OK;
}

static void test_custom_stage(void)
{
    dsc_transform *t;
    custom_ctx c = {0, 0};
    CHECK_OK(dsc_transform_new("clip_norm:max_norm=100", &t));
    CHECK_OK(dsc_transform_add_custom(t, "allreduce", custom_stage, &c));
    double g[2] = {3, 4};
    dsc_tx_args a = {0};
    a.dtype = DSC_FLOAT64;
    a.grad = g;
    a.n = 2;
    CHECK_OK(dsc_transform_apply(t, &a, NULL));
    CHECK(c.calls == 1 && c.seen_norm == 5 && g[0] == 42);
    CHECK(!strcmp(dsc_transform_stage_name(t, 1), "allreduce"));
    dsc_transform_free(t);
}

DSC_TEST_MAIN("schedule", TEST(test_torch_tables), TEST(test_recursion_not_closed_form), TEST(test_cli),
              TEST(test_theory_step_sizes), TEST(test_descent_own_schedules), TEST(test_spec_errors),
              TEST(test_plateau_state), TEST(test_clip_vs_torch), TEST(test_clip_value_group_decay),
              TEST(test_noise), TEST(test_norm_threads), TEST(test_custom_stage), TEST(test_apply_to_optimizer))
