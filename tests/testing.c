#include "testing.h"

#include <stdlib.h>
#include <string.h>

int dsc_test_failures = 0;

int dsc_run_tests(const char *suite, const dsc_test_case *cases, int n)
{
    int passed = 0, failed = 0;
    const char *only = getenv("DSC_TEST_ONLY");
    for (int i = 0; i < n; i++) {
        if (only && !strstr(cases[i].name, only))
            continue;
        int before = dsc_test_failures;
        cases[i].fn();
        if (dsc_test_failures == before) {
            passed++;
            printf("  ok    %s.%s\n", suite, cases[i].name);
        } else {
            failed++;
            printf("  FAIL  %s.%s\n", suite, cases[i].name);
        }
        fflush(stdout);
    }
    printf("%s: %d passed, %d failed\n", suite, passed, failed);
    return failed ? 1 : 0;
}

void dsc_test_fill(float *x, size_t n, uint64_t seed, float lo, float hi)
{
    dsc_rng r = dsc_rng_seed(seed);
    dsc_rng_fill_uniform(&r, x, n, lo, hi);
}

double dsc_test_max_rel(const float *a, const float *b, size_t n, double floor)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)b[i]) > floor ? fabs((double)b[i]) : floor;
        double e = fabs((double)a[i] - b[i]) / d;
        if (!(e <= m))
            m = isnan(e) ? INFINITY : e;
    }
    return m;
}

double dsc_test_scaled_err(const float *a, const float *b, size_t n, double floor)
{
    double mb = floor, m = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs((double)b[i]) > mb)
            mb = fabs((double)b[i]);
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= m))
            m = isnan(e) ? INFINITY : e;
    }
    return m / mb;
}

void dsc_test_gradcheck(const char *what, dsc_graph *g, double tol)
{
    dsc_gradcheck_result r;
    dsc_gradcheck_opts o = dsc_gradcheck_defaults();
    dsc_status s = dsc_gradcheck(g, &o, &r);
    if (s != DSC_OK) {
        fprintf(stderr, "gradcheck %s: %s\n", what, dsc_last_error());
        dsc_test_failures++;
        return;
    }
    int bad = !(r.vjp_err <= tol) || !(r.jvp_err <= tol) || !(r.jvp_loss_err <= 1e-3) ||
              !(r.hvp_err <= tol) || !(r.hvp_sym_err <= tol);
    if (bad || getenv("DSC_TEST_VERBOSE"))
        fprintf(stderr,
                "gradcheck %s: vjp %.2e jvp %.2e (worst node %s) jvp-loss %.2e hvp %.2e hvp-sym %.2e (tol %.0e)%s\n",
                what, r.vjp_err, r.jvp_err, r.worst_node >= 0 ? dsc_node_name(g, r.worst_node) : "-",
                r.jvp_loss_err, r.hvp_err, r.hvp_sym_err, tol, bad ? "  FAILED" : "");
    if (bad)
        dsc_test_failures++;
}

const char *dsc_test_source_dir(void)
{
    const char *s = getenv("DSC_SOURCE_DIR");
    return s ? s : DSC_SOURCE_DIR;
}

float *dsc_test_read_f32(const char *relpath, size_t *n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dsc_test_source_dir(), relpath);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open fixture %s\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (sz < 0 || sz % 4) {
        fclose(f);
        return NULL;
    }
    float *d = malloc((size_t)sz + 4);
    if (d && fread(d, 1, (size_t)sz, f) != (size_t)sz) {
        free(d);
        d = NULL;
    }
    fclose(f);
    if (d && n)
        *n = (size_t)sz / 4;
    return d;
}
