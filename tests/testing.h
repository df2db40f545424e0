/* Minimal test harness: CHECK macros and a runner that prints "N passed, N failed".
 * Each tests/test_*.c is one executable registered with ctest. */
#ifndef DSC_TESTING_H
#define DSC_TESTING_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "descent/descent.h"

extern int dsc_test_failures;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
            dsc_test_failures++;                                                      \
        }                                                                             \
    } while (0)

#define CHECK_OK(expr)                                                                \
    do {                                                                              \
        dsc_status s_ = (expr);                                                       \
        if (s_ != DSC_OK) {                                                           \
            fprintf(stderr, "%s:%d: %s failed: %s (%s)\n", __FILE__, __LINE__, #expr, \
                    dsc_status_name(s_), dsc_last_error());                           \
            dsc_test_failures++;                                                      \
        }                                                                             \
    } while (0)

#define CHECK_STATUS(expr, want)                                                      \
    do {                                                                              \
        dsc_status s_ = (expr);                                                       \
        if (s_ != (want)) {                                                           \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s (%s)\n", __FILE__,    \
                    __LINE__, #expr, dsc_status_name(s_), dsc_status_name(want),      \
                    dsc_last_error());                                                \
            dsc_test_failures++;                                                      \
        }                                                                             \
    } while (0)

/* Status and a substring of the message. */
#define CHECK_ERR(expr, want, substr)                                                              \
    do {                                                                                           \
        dsc_clear_error();                                                                         \
        dsc_status s2_ = (expr);                                                                   \
        if (s2_ != (want) || !strstr(dsc_last_error(), (substr))) {                                \
            fprintf(stderr, "%s:%d: %s -> %s '%s'; expected %s with '%s'\n", __FILE__, __LINE__,   \
                    #expr, dsc_status_name(s2_), dsc_last_error(), dsc_status_name(want), (substr)); \
            dsc_test_failures++;                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                         \
    do {                                                                              \
        double a_ = (a), b_ = (b);                                                    \
        if (!(fabs(a_ - b_) <= (tol))) {                                              \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.9g, %s = %.9g (tol %g)\n", \
                    __FILE__, __LINE__, #a, a_, #b, b_, (double)(tol));               \
            dsc_test_failures++;                                                      \
        }                                                                             \
    } while (0)

/* Relative closeness: |a-b| <= tol * max(|b|, floor). */
#define CHECK_REL(a, b, tol, floor)                                                   \
    do {                                                                              \
        double a_ = (a), b_ = (b), d_ = fabs(b_) > (floor) ? fabs(b_) : (floor);      \
        if (!(fabs(a_ - b_) <= (tol) * d_)) {                                         \
            fprintf(stderr, "%s:%d: CHECK_REL failed: %s = %.9g, %s = %.9g (rel tol %g)\n", \
                    __FILE__, __LINE__, #a, a_, #b, b_, (double)(tol));               \
            dsc_test_failures++;                                                      \
        }                                                                             \
    } while (0)

typedef void (*dsc_test_fn)(void);
typedef struct dsc_test_case {
    const char *name;
    dsc_test_fn fn;
} dsc_test_case;

/* Runs the cases, prints one line per case and the summary; returns the exit code. */
int dsc_run_tests(const char *suite, const dsc_test_case *cases, int n);
#define DSC_TEST_MAIN(suite, ...)                                                     \
    int main(void)                                                                    \
    {                                                                                 \
        static const dsc_test_case cases_[] = {__VA_ARGS__};                          \
        return dsc_run_tests(suite, cases_, (int)(sizeof cases_ / sizeof cases_[0])); \
    }
#define TEST(fn) {#fn, fn}

/* Fill with deterministic values uniform in [lo, hi). */
void dsc_test_fill(float *x, size_t n, uint64_t seed, float lo, float hi);
/* Max relative error between arrays: max_i |a-b| / max(|b|, floor). */
double dsc_test_max_rel(const float *a, const float *b, size_t n, double floor);
/* Max |a - b| / max(max|b|, floor): error relative to the array's scale. */
double dsc_test_scaled_err(const float *a, const float *b, size_t n, double floor);

/* Gradient check of a compiled graph whose parameters and inputs the caller has set: runs
 * dsc_gradcheck with its defaults and CHECKs the errors against tol. */
void dsc_test_gradcheck(const char *what, dsc_graph *g, double tol);

/* Reading committed fixtures (tests/fixtures): float32 little-endian arrays in the .f32
 * files written by the tools/ scripts. Returns a malloc'ed array and its length, or NULL. */
float *dsc_test_read_f32(const char *relpath, size_t *n);
const char *dsc_test_source_dir(void);

#endif
