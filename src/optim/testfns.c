/* Test functions with exact gradients for the convex lab (descent optim). The order of the
 * floating-point operations is mirrored in tools/gen_optim_fixtures.py so that the torch
 * reference trajectories see bit-identical gradients. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optim/optim_internal.h"

/* Bit-exactness with torch needs every a*b + c rounded twice: no FMA contraction (GCC in ISO C
 * mode does not contract; clang would, within an expression, without this pragma). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define TWO_PI 6.283185307179586

typedef enum { TF_ROSENBROCK, TF_BEALE, TF_BOOTH, TF_HIMMELBLAU, TF_MATYAS, TF_RASTRIGIN, TF_ACKLEY, TF_QUADRATIC, TF_LESSARD, TF_REDDI } tf_kind;

static const struct {
    const char *name;
    tf_kind kind;
    int fixed_dim; /* 2 for the 2-D functions (1 for lessard), 0 when d is an option */
    int default_dim;
} tf_table[] = {
    {"rosenbrock", TF_ROSENBROCK, 0, 2}, {"beale", TF_BEALE, 2, 2},         {"booth", TF_BOOTH, 2, 2},
    {"himmelblau", TF_HIMMELBLAU, 2, 2}, {"matyas", TF_MATYAS, 2, 2},       {"rastrigin", TF_RASTRIGIN, 0, 2},
    {"ackley", TF_ACKLEY, 0, 2},         {"quadratic", TF_QUADRATIC, 0, 10}, {"lessard", TF_LESSARD, 1, 1},
    {"reddi", TF_REDDI, 1, 1},
};
#define N_TF ((int)(sizeof tf_table / sizeof tf_table[0]))

struct dsc_testfn {
    tf_kind kind;
    size_t d;
    double kappa;
    double *lambda; /* quadratic eigenvalues */
    double c;       /* reddi */
};

const char *dsc_testfn_names(void)
{
    return "rosenbrock[:d=N], beale, booth, himmelblau, matyas, rastrigin[:d=N], ackley[:d=N], "
           "quadratic[:d=N,kappa=K], lessard, reddi[:c=C]";
}

static dsc_status parse_opt(const char *fname, const char *text, const char *key, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(text, &end);
    if (end == text || *end || errno || !isfinite(*v))
        return DSC_ERROR(DSC_ERR_INVALID, "%s: option '%s' needs a number, got '%s'", fname, key, text);
    return DSC_OK;
}

dsc_status dsc_testfn_new(const char *spec, dsc_testfn **out)
{
    if (!out || !spec)
        return DSC_ERROR(DSC_ERR_INVALID, "dsc_testfn_new: NULL argument");
    *out = NULL;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    char *opts = strchr(buf, ':');
    if (opts)
        *opts++ = 0;
    int k = 0;
    while (k < N_TF && strcmp(tf_table[k].name, buf))
        k++;
    if (k == N_TF)
        return DSC_ERROR(DSC_ERR_INVALID, "unknown test function '%s'; valid: %s", buf, dsc_testfn_names());
    double d = tf_table[k].default_dim, kappa = 100, c = 3;
    for (char *tok = opts ? strtok(opts, ",") : NULL; tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return DSC_ERROR(DSC_ERR_INVALID, "%s: option '%s' is not of the form key=value", buf, tok);
        *eq = 0;
        if (!strcmp(tok, "d") && !tf_table[k].fixed_dim) {
            DSC_TRY(parse_opt(buf, eq + 1, tok, &d));
        } else if (!strcmp(tok, "kappa") && tf_table[k].kind == TF_QUADRATIC) {
            DSC_TRY(parse_opt(buf, eq + 1, tok, &kappa));
        } else if (!strcmp(tok, "c") && tf_table[k].kind == TF_REDDI) {
            DSC_TRY(parse_opt(buf, eq + 1, tok, &c));
        } else {
            return DSC_ERROR(DSC_ERR_INVALID, "%s: unknown option '%s'; valid options: %s", buf, tok,
                             tf_table[k].kind == TF_QUADRATIC ? "d, kappa"
                             : tf_table[k].kind == TF_REDDI ? "c"
                             : tf_table[k].fixed_dim        ? "(none)"
                                                            : "d");
        }
    }
    const double dmin = tf_table[k].kind == TF_ROSENBROCK ? 2 : 1;
    if (d != floor(d) || d < dmin || d > 1e8)
        return DSC_ERROR(DSC_ERR_RANGE, "%s: d = %g must be an integer in [%g, 1e8]", buf, d, dmin);
    if (kappa < 1)
        return DSC_ERROR(DSC_ERR_RANGE, "%s: kappa = %g must be >= 1", buf, kappa);
    if (c <= 2)
        return DSC_ERROR(DSC_ERR_RANGE, "%s: c = %g must be > 2 (Reddi et al.'s condition)", buf, c);
    dsc_testfn *f = calloc(1, sizeof *f);
    if (!f)
        return DSC_ERROR(DSC_ERR_NOMEM, "test function: out of memory");
    f->kind = tf_table[k].kind;
    f->d = (size_t)d;
    f->kappa = kappa;
    f->c = c;
    if (f->kind == TF_QUADRATIC) {
        f->lambda = malloc(f->d * sizeof *f->lambda);
        if (!f->lambda) {
            free(f);
            return DSC_ERROR(DSC_ERR_NOMEM, "test function: out of memory");
        }
        /* lambda_i = 1 + (kappa - 1) i/(d - 1): mu = 1, L = kappa. */
        for (size_t i = 0; i < f->d; i++)
            f->lambda[i] = f->d > 1 ? 1 + (kappa - 1) * (double)i / (double)(f->d - 1) : 1;
    }
    *out = f;
    return DSC_OK;
}

void dsc_testfn_free(dsc_testfn *f)
{
    if (f)
        free(f->lambda);
    free(f);
}

size_t dsc_testfn_dim(const dsc_testfn *f)
{
    return f ? f->d : 0;
}

double dsc_testfn_eval(const dsc_testfn *f, const double *x, double *g)
{
    const size_t d = f->d;
    double v = 0;
    switch (f->kind) {
    case TF_ROSENBROCK:
        if (g)
            memset(g, 0, d * sizeof *g);
        for (size_t i = 0; i + 1 < d; i++) {
            const double a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
            v = v + (100 * a * a + b * b);
            if (g) {
                g[i] = g[i] + (-400 * x[i] * a - 2 * b);
                g[i + 1] = g[i + 1] + 200 * a;
            }
        }
        return v;
    case TF_BEALE: {
        const double X = x[0], Y = x[1];
        const double t1 = 1.5 - X + X * Y, t2 = 2.25 - X + X * Y * Y, t3 = 2.625 - X + X * Y * Y * Y;
        if (g) {
            g[0] = 2 * t1 * (Y - 1) + 2 * t2 * (Y * Y - 1) + 2 * t3 * (Y * Y * Y - 1);
            g[1] = 2 * t1 * X + 2 * t2 * (2 * X * Y) + 2 * t3 * (3 * X * Y * Y);
        }
        return t1 * t1 + t2 * t2 + t3 * t3;
    }
    case TF_BOOTH: {
        const double a = x[0] + 2 * x[1] - 7, b = 2 * x[0] + x[1] - 5;
        if (g) {
            g[0] = 2 * a + 4 * b;
            g[1] = 4 * a + 2 * b;
        }
        return a * a + b * b;
    }
    case TF_HIMMELBLAU: {
        const double a = x[0] * x[0] + x[1] - 11, b = x[0] + x[1] * x[1] - 7;
        if (g) {
            g[0] = 4 * x[0] * a + 2 * b;
            g[1] = 2 * a + 4 * x[1] * b;
        }
        return a * a + b * b;
    }
    case TF_MATYAS:
        if (g) {
            g[0] = 0.52 * x[0] - 0.48 * x[1];
            g[1] = 0.52 * x[1] - 0.48 * x[0];
        }
        return 0.26 * (x[0] * x[0] + x[1] * x[1]) - 0.48 * x[0] * x[1];
    case TF_RASTRIGIN:
        v = 10 * (double)d;
        for (size_t i = 0; i < d; i++) {
            v = v + (x[i] * x[i] - 10 * cos(TWO_PI * x[i]));
            if (g)
                g[i] = 2 * x[i] + 10 * TWO_PI * sin(TWO_PI * x[i]);
        }
        return v;
    case TF_ACKLEY: {
        double s1 = 0, s2 = 0;
        for (size_t i = 0; i < d; i++) {
            s1 = s1 + x[i] * x[i];
            s2 = s2 + cos(TWO_PI * x[i]);
        }
        const double dd = (double)d, r = sqrt(s1 / dd), e1 = exp(-0.2 * r), e2 = exp(s2 / dd);
        if (g)
            for (size_t i = 0; i < d; i++)
                g[i] = (r > 0 ? 4 * e1 * x[i] / (dd * r) : 0) + e2 * TWO_PI * sin(TWO_PI * x[i]) / dd;
        return -20 * e1 - e2 + exp(1.0) + 20;
    }
    case TF_LESSARD: {
        /* Lessard, Recht & Packard 2016 (sec. 4.6): mu = 1, L = 25, piecewise quadratic. */
        const double X = x[0];
        if (X < 1) {
            if (g)
                g[0] = 25 * X;
            return 12.5 * X * X;
        }
        if (X < 2) {
            if (g)
                g[0] = X + 24;
            return 0.5 * X * X + 24 * X - 12;
        }
        if (g)
            g[0] = 25 * X - 24;
        return 12.5 * X * X - 24 * X + 36;
    }
    case TF_REDDI: /* the average of the online losses over a period: (C - 2)/3 x */
        if (g)
            g[0] = (f->c - 2) / 3;
        return (f->c - 2) / 3 * x[0];
    case TF_QUADRATIC:
        for (size_t i = 0; i < d; i++) {
            v = v + 0.5 * f->lambda[i] * x[i] * x[i];
            if (g)
                g[i] = f->lambda[i] * x[i];
        }
        return v;
    }
    return NAN;
}

double dsc_testfn_min(const dsc_testfn *f, double *x_min)
{
    const size_t d = f->d;
    for (size_t i = 0; x_min && i < d; i++)
        x_min[i] = 0;
    switch (f->kind) {
    case TF_ROSENBROCK:
        for (size_t i = 0; x_min && i < d; i++)
            x_min[i] = 1;
        return 0;
    case TF_BEALE:
        if (x_min)
            x_min[0] = 3, x_min[1] = 0.5;
        return 0;
    case TF_BOOTH:
        if (x_min)
            x_min[0] = 1, x_min[1] = 3;
        return 0;
    case TF_REDDI:
        if (x_min)
            x_min[0] = -1;
        return -(f->c - 2) / 3;
    case TF_HIMMELBLAU: /* one of its four minima */
        if (x_min)
            x_min[0] = 3, x_min[1] = 2;
        return 0;
    default:
        return 0;
    }
}

/* Reddi, Kale & Kumar 2018 (Theorem 1): f_t(x) = C x for t mod 3 = 1, -x otherwise, x in [-1, 1]. */
double dsc_testfn_eval_at(const dsc_testfn *f, int64_t t, const double *x, double *grad)
{
    if (f->kind != TF_REDDI)
        return dsc_testfn_eval(f, x, grad);
    const double slope = t % 3 == 1 ? f->c : -1;
    if (grad)
        grad[0] = slope;
    return slope * x[0];
}

void dsc_testfn_project(const dsc_testfn *f, double *x)
{
    if (f->kind == TF_REDDI)
        x[0] = x[0] < -1 ? -1 : x[0] > 1 ? 1 : x[0];
}

int dsc_testfn_is_online(const dsc_testfn *f)
{
    return f && f->kind == TF_REDDI;
}
