/* Initializers: moments of large draws against the closed forms, bounds, orthogonality and
 * torch's sign convention, torch's gain table and fans, determinism by seed, parsing. */
#include <stdlib.h>
#include <string.h>

#include "descent/init.h"
#include "testing.h"

#define N_DRAWS 1000000

static void moments(const float *x, size_t n, double *mean, double *std, double *lo, double *hi)
{
    double s = 0, mn = x[0], mx = x[0];
    for (size_t i = 0; i < n; i++) {
        s += x[i];
        if (x[i] < mn)
            mn = x[i];
        if (x[i] > mx)
            mx = x[i];
    }
    double m = s / (double)n, v = 0;
    for (size_t i = 0; i < n; i++)
        v += (x[i] - m) * (x[i] - m);
    *mean = m;
    *std = sqrt(v / (double)n);
    *lo = mn;
    *hi = mx;
}

static double phi(double z) { return exp(-0.5 * z * z) / sqrt(2 * 3.14159265358979323846); }
static double Phi(double z) { return 0.5 * erfc(-z / sqrt(2.0)); }

/* Tolerances: 6 standard errors of the estimate (mean: std/sqrt(n); std: ~std/sqrt(2n)). */
static void check_moments(const char *what, const float *x, size_t n, double mean, double std)
{
    double m, s, lo, hi;
    moments(x, n, &m, &s, &lo, &hi);
    double tm = 6 * std / sqrt((double)n), ts = 6 * std / sqrt(2.0 * (double)n) * 1.5;
    if (fabs(m - mean) > tm || fabs(s - std) > ts)
        fprintf(stderr, "%s: mean %.6f (want %.6f), std %.6f (want %.6f)\n", what, m, mean, s, std);
    CHECK_NEAR(m, mean, tm);
    CHECK_NEAR(s, std, ts);
}

static void test_gains_and_fans(void)
{
    CHECK(dsc_calculate_gain(DSC_NL_LINEAR, 0) == 1.0);
    CHECK(dsc_calculate_gain(DSC_NL_SIGMOID, 0) == 1.0);
    CHECK(dsc_calculate_gain(DSC_NL_TANH, 0) == 5.0 / 3.0);
    CHECK(dsc_calculate_gain(DSC_NL_RELU, 0) == sqrt(2.0));
    CHECK(dsc_calculate_gain(DSC_NL_SELU, 0) == 0.75);
    /* torch.nn.init.calculate_gain('leaky_relu') = sqrt(2/(1+0.01^2)) = 1.4141428569978354 */
    CHECK_NEAR(dsc_calculate_gain(DSC_NL_LEAKY_RELU, NAN), 1.4141428569978354, 1e-15);
    /* calculate_gain('leaky_relu', 0.2) = 1.3867504905630728 */
    CHECK_NEAR(dsc_calculate_gain(DSC_NL_LEAKY_RELU, 0.2), 1.3867504905630728, 1e-15);
    CHECK_NEAR(dsc_calculate_gain(DSC_NL_LEAKY_RELU, sqrt(5.0)), sqrt(1.0 / 3.0), 1e-15);

    int64_t fi, fo;
    dsc_shape conv = dsc_shape_make(4, (int64_t[]){16, 6, 5, 5});
    CHECK_OK(dsc_calculate_fans(&conv, &fi, &fo));
    CHECK(fi == 150 && fo == 400);
    dsc_shape lin = dsc_shape_make(2, (int64_t[]){10, 784});
    CHECK_OK(dsc_calculate_fans(&lin, &fi, &fo));
    CHECK(fi == 784 && fo == 10);
    dsc_shape vec = dsc_shape_make(1, (int64_t[]){10});
    CHECK_STATUS(dsc_calculate_fans(&vec, &fi, &fo), DSC_ERR_SHAPE);
}

static void test_plain_distributions(void)
{
    float *x = malloc(N_DRAWS * sizeof(float));
    dsc_rng r = dsc_rng_seed(1);
    double m, s, lo, hi;

    CHECK_OK(dsc_init_uniform(&r, x, N_DRAWS, -1.0, 2.0));
    check_moments("uniform", x, N_DRAWS, 0.5, 3.0 / sqrt(12.0));
    moments(x, N_DRAWS, &m, &s, &lo, &hi);
    CHECK(lo >= -1.0f && hi <= 2.0f && lo < -0.999 && hi > 1.999);

    CHECK_OK(dsc_init_normal(&r, x, N_DRAWS, 1.0, 2.0));
    check_moments("normal", x, N_DRAWS, 1.0, 2.0);

    dsc_init_constant(x, 100, 0.25f);
    CHECK(x[0] == 0.25f && x[99] == 0.25f);

    /* Truncated normal on [-2, 2] (torch's defaults): mean 0, var 1 - 2*2*phi(2)/Z. */
    CHECK_OK(dsc_init_trunc_normal(&r, x, N_DRAWS, 0.0, 1.0, -2.0, 2.0));
    double Z = Phi(2) - Phi(-2);
    check_moments("trunc_normal", x, N_DRAWS, 0.0, sqrt(1 - 4 * phi(2) / Z));
    moments(x, N_DRAWS, &m, &s, &lo, &hi);
    CHECK(lo >= -2.0 && hi <= 2.0 && lo < -1.99 && hi > 1.99);

    /* An interval in the right tail, [3, 5] for N(0, 1): mean (phi(a)-phi(b))/Z,
     * var 1 + (a phi(a) - b phi(b))/Z - mean^2. */
    CHECK_OK(dsc_init_trunc_normal(&r, x, N_DRAWS, 0.0, 1.0, 3.0, 5.0));
    Z = Phi(5) - Phi(3);
    double tm = (phi(3) - phi(5)) / Z;
    check_moments("trunc_normal tail", x, N_DRAWS, tm, sqrt(1 + (3 * phi(3) - 5 * phi(5)) / Z - tm * tm));
    moments(x, N_DRAWS, &m, &s, &lo, &hi);
    CHECK(lo >= 3.0 && hi <= 5.0);

    /* Shifted and scaled: mean 1, std 0.02, [a, b] = [0.96, 1.04] (+-2 std). */
    CHECK_OK(dsc_init_trunc_normal(&r, x, N_DRAWS, 1.0, 0.02, 0.96, 1.04));
    Z = Phi(2) - Phi(-2);
    check_moments("trunc_normal scaled", x, N_DRAWS, 1.0, 0.02 * sqrt(1 - 4 * phi(2) / Z));

    CHECK_STATUS(dsc_init_uniform(&r, x, 10, 2.0, 1.0), DSC_ERR_INVALID);
    CHECK_STATUS(dsc_init_normal(&r, x, 10, 0.0, -1.0), DSC_ERR_INVALID);
    CHECK_STATUS(dsc_init_trunc_normal(&r, x, 10, 0.0, 1.0, 1.0, 1.0), DSC_ERR_INVALID);
    free(x);
}

static void test_fan_scaled(void)
{
    dsc_shape lin = dsc_shape_make(2, (int64_t[]){1000, 1000});
    dsc_shape conv = dsc_shape_make(4, (int64_t[]){64, 32, 3, 3}); /* fan_in 288, fan_out 576 */
    size_t nl = 1000000, nc = 64 * 32 * 9;
    float *x = malloc(nl * sizeof(float));
    dsc_rng r = dsc_rng_seed(7);
    double m, s, lo, hi;

    CHECK_OK(dsc_init_xavier_uniform(&r, x, &lin, 2.0));
    double bound = 2.0 * sqrt(6.0 / 2000.0);
    check_moments("xavier_uniform", x, nl, 0.0, bound / sqrt(3.0));
    moments(x, nl, &m, &s, &lo, &hi);
    CHECK(lo >= -bound && hi <= bound);

    CHECK_OK(dsc_init_xavier_normal(&r, x, &lin, 1.0));
    check_moments("xavier_normal", x, nl, 0.0, sqrt(2.0 / 2000.0));

    CHECK_OK(dsc_init_kaiming_normal(&r, x, &conv, 0.0, DSC_FAN_OUT, DSC_NL_RELU));
    check_moments("kaiming_normal fan_out relu", x, nc, 0.0, sqrt(2.0) / sqrt(576.0));

    CHECK_OK(dsc_init_kaiming_uniform(&r, x, &conv, 0.0, DSC_FAN_IN, DSC_NL_LEAKY_RELU));
    bound = sqrt(3.0) * sqrt(2.0) / sqrt(288.0);
    check_moments("kaiming_uniform", x, nc, 0.0, bound / sqrt(3.0));
    moments(x, nc, &m, &s, &lo, &hi);
    CHECK(lo >= -bound && hi <= bound);

    CHECK_OK(dsc_init_kaiming_normal(&r, x, &lin, 0.0, DSC_FAN_IN, DSC_NL_TANH));
    check_moments("kaiming_normal tanh", x, nl, 0.0, (5.0 / 3.0) / sqrt(1000.0));

    CHECK_OK(dsc_init_lecun_normal(&r, x, &conv));
    check_moments("lecun_normal", x, nc, 0.0, 1.0 / sqrt(288.0));
    CHECK_OK(dsc_init_lecun_uniform(&r, x, &lin));
    check_moments("lecun_uniform", x, nl, 0.0, 1.0 / sqrt(1000.0));

    /* torch's nn.Linear/Conv default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias. */
    CHECK_OK(dsc_init_torch_default_weight(&r, x, &conv));
    bound = 1.0 / sqrt(288.0);
    check_moments("torch default weight", x, nc, 0.0, bound / sqrt(3.0));
    moments(x, nc, &m, &s, &lo, &hi);
    CHECK(lo >= -bound && hi <= bound && hi > 0.99 * bound && lo < -0.99 * bound);
    CHECK_OK(dsc_init_torch_default_bias(&r, x, nl, 288));
    check_moments("torch default bias", x, nl, 0.0, bound / sqrt(3.0));
    CHECK_OK(dsc_init_torch_default_bias(&r, x, 10, 0));
    CHECK(x[0] == 0.0f && x[9] == 0.0f);

    dsc_shape vec = dsc_shape_make(1, (int64_t[]){10});
    CHECK_STATUS(dsc_init_xavier_uniform(&r, x, &vec, 1.0), DSC_ERR_SHAPE);
    CHECK_STATUS(dsc_init_kaiming_normal(&r, x, &vec, 0.0, DSC_FAN_IN, DSC_NL_RELU), DSC_ERR_SHAPE);
    free(x);
}

/* max |Q^T Q - gain^2 I| over the orthonormal direction of a rows x cols matrix. */
static double ortho_err(const float *x, int64_t rows, int64_t cols, double gain)
{
    double err = 0;
    if (rows <= cols) { /* rows orthonormal */
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < rows; j++) {
                double d = 0;
                for (int64_t k = 0; k < cols; k++)
                    d += (double)x[i * cols + k] * x[j * cols + k];
                err = fmax(err, fabs(d - (i == j ? gain * gain : 0)));
            }
    } else {
        for (int64_t i = 0; i < cols; i++)
            for (int64_t j = 0; j < cols; j++) {
                double d = 0;
                for (int64_t k = 0; k < rows; k++)
                    d += (double)x[k * cols + i] * x[k * cols + j];
                err = fmax(err, fabs(d - (i == j ? gain * gain : 0)));
            }
    }
    return err;
}

static void test_orthogonal(void)
{
    float x[64 * 64];
    dsc_rng r = dsc_rng_seed(3);
    dsc_shape wide = dsc_shape_make(2, (int64_t[]){20, 50});
    CHECK_OK(dsc_init_orthogonal(&r, x, &wide, 1.0));
    CHECK(ortho_err(x, 20, 50, 1.0) < 1e-5);
    dsc_shape tall = dsc_shape_make(2, (int64_t[]){50, 20});
    CHECK_OK(dsc_init_orthogonal(&r, x, &tall, 2.0));
    CHECK(ortho_err(x, 50, 20, 2.0) < 1e-5 * 4);
    dsc_shape sq = dsc_shape_make(2, (int64_t[]){64, 64});
    CHECK_OK(dsc_init_orthogonal(&r, x, &sq, 1.0));
    CHECK(ortho_err(x, 64, 64, 1.0) < 1e-5);
    dsc_shape conv = dsc_shape_make(4, (int64_t[]){8, 4, 3, 3});
    CHECK_OK(dsc_init_orthogonal(&r, x, &conv, 1.0));
    CHECK(ortho_err(x, 8, 36, 1.0) < 1e-5);

    /* torch's sign convention: Q = A R^-1 with diag(R) > 0, i.e. R = Q^T A is upper
     * triangular with a positive diagonal, for the same Gaussian A the initializer drew. */
    dsc_rng r1 = dsc_rng_seed(11), r2 = dsc_rng_seed(11);
    float a[50 * 20];
    CHECK_OK(dsc_init_orthogonal(&r1, x, &tall, 1.0));
    dsc_rng_fill_normal(&r2, a, 50 * 20, 0.0f, 1.0f);
    double lower = 0, mindiag = 1e30;
    for (int i = 0; i < 20; i++)
        for (int j = 0; j <= i; j++) {
            double d = 0;
            for (int k = 0; k < 50; k++)
                d += (double)x[k * 20 + i] * a[k * 20 + j];
            if (i == j)
                mindiag = fmin(mindiag, d);
            else
                lower = fmax(lower, fabs(d));
        }
    CHECK(lower < 1e-4);
    CHECK(mindiag > 0);
    dsc_shape vec = dsc_shape_make(1, (int64_t[]){10});
    CHECK_STATUS(dsc_init_orthogonal(&r, x, &vec, 1.0), DSC_ERR_SHAPE);
}

static void test_determinism(void)
{
    dsc_shape s = dsc_shape_make(2, (int64_t[]){100, 300});
    static float a[30000], b[30000];
    static const dsc_init_kind kinds[] = {DSC_INIT_UNIFORM,        DSC_INIT_NORMAL,         DSC_INIT_TRUNC_NORMAL,
                                          DSC_INIT_XAVIER_UNIFORM, DSC_INIT_XAVIER_NORMAL,  DSC_INIT_KAIMING_UNIFORM,
                                          DSC_INIT_KAIMING_NORMAL, DSC_INIT_LECUN_UNIFORM,  DSC_INIT_LECUN_NORMAL,
                                          DSC_INIT_ORTHOGONAL,     DSC_INIT_TORCH_DEFAULT,  DSC_INIT_TORCH_BIAS};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        dsc_init d = dsc_init_make(kinds[k]);
        d.fan_in = 300;
        dsc_rng r1 = dsc_rng_seed(42), r2 = dsc_rng_seed(42), r3 = dsc_rng_seed(43);
        CHECK_OK(dsc_init_apply(&d, &r1, a, &s));
        CHECK_OK(dsc_init_apply(&d, &r2, b, &s));
        CHECK(memcmp(a, b, sizeof a) == 0);
        CHECK_OK(dsc_init_apply(&d, &r3, b, &s));
        CHECK(memcmp(a, b, sizeof a) != 0);
        /* The generator advanced: a second draw differs from the first. */
        CHECK_OK(dsc_init_apply(&d, &r1, b, &s));
        CHECK(memcmp(a, b, sizeof a) != 0);
    }
}

static void test_parse(void)
{
    dsc_init d;
    CHECK_OK(dsc_init_parse("kaiming_normal:mode=fan_out,nonlinearity=relu", &d));
    CHECK(d.kind == DSC_INIT_KAIMING_NORMAL && d.mode == DSC_FAN_OUT && d.nonlinearity == DSC_NL_RELU && d.a == 0);
    CHECK_OK(dsc_init_parse("uniform:a=-0.1,b=0.1", &d));
    CHECK(d.kind == DSC_INIT_UNIFORM && d.a == -0.1 && d.b == 0.1);
    CHECK_OK(dsc_init_parse("trunc_normal:std=0.02", &d));
    CHECK(d.kind == DSC_INIT_TRUNC_NORMAL && d.std == 0.02 && d.a == -2 && d.b == 2);
    CHECK_OK(dsc_init_parse("constant:0.5", &d));
    CHECK(d.kind == DSC_INIT_CONSTANT && d.value == 0.5);
    CHECK_OK(dsc_init_parse("ones", &d));
    CHECK(d.kind == DSC_INIT_CONSTANT && d.value == 1.0);
    CHECK_OK(dsc_init_parse("orthogonal:gain=1.5", &d));
    CHECK(d.kind == DSC_INIT_ORTHOGONAL && d.gain == 1.5);

    CHECK_STATUS(dsc_init_parse("bogus", &d), DSC_ERR_INVALID);
    CHECK(strstr(dsc_last_error(), "'bogus'") && strstr(dsc_last_error(), "kaiming_normal"));
    CHECK_STATUS(dsc_init_parse("uniform:gain=2", &d), DSC_ERR_INVALID);
    CHECK(strstr(dsc_last_error(), "'gain'") != NULL);
    CHECK_STATUS(dsc_init_parse("normal:std=abc", &d), DSC_ERR_INVALID);
    CHECK(strstr(dsc_last_error(), "'abc'") != NULL);
    CHECK_STATUS(dsc_init_parse("kaiming_uniform:mode=fan_middle", &d), DSC_ERR_INVALID);
    CHECK(strstr(dsc_last_error(), "fan_middle") != NULL);
}

static void test_graph_tensor(void)
{
    dsc_graph *g = dsc_graph_new();
    int64_t xs[2] = {2, 3}, ws[2] = {4, 3};
    dsc_id x = dsc_input(g, "x", 2, xs);
    dsc_id w = dsc_param(g, "w", 2, ws);
    dsc_id y = dsc_mul(g, dsc_sum(g, x, 0, NULL, 0), dsc_sum(g, w, 0, NULL, 0));
    dsc_rng r = dsc_rng_seed(1);
    dsc_init d = dsc_init_make(DSC_INIT_CONSTANT);
    d.value = 3;
    CHECK_STATUS(dsc_init_graph_tensor(g, "w", &d, &r), DSC_ERR_STATE);
    CHECK_OK(dsc_graph_compile(g, y));
    CHECK_OK(dsc_init_graph_tensor(g, "w", &d, &r));
    size_t n;
    float *p = dsc_graph_params(g, &n);
    CHECK(n == 12 && p[0] == 3 && p[11] == 3);
    CHECK_STATUS(dsc_init_graph_tensor(g, "nope", &d, &r), DSC_ERR_INVALID);
    CHECK_STATUS(dsc_init_graph_tensor(g, "x", &d, &r), DSC_ERR_INVALID);
    dsc_graph_free(g);
}

DSC_TEST_MAIN("init", TEST(test_gains_and_fans), TEST(test_plain_distributions), TEST(test_fan_scaled),
              TEST(test_orthogonal), TEST(test_determinism), TEST(test_parse), TEST(test_graph_tensor))
