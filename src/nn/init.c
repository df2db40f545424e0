/* Parameter initializers: the formulas of torch.nn.init (torch/nn/init.py, v1.13), drawing
 * from Philox. See docs/ALGORITHMS.md; tests in tests/test_init.c. */
#include "descent/init.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

double dsc_calculate_gain(dsc_nonlinearity nl, double param)
{
    switch (nl) {
    case DSC_NL_LINEAR:
    case DSC_NL_SIGMOID:
        return 1.0;
    case DSC_NL_TANH:
        return 5.0 / 3.0;
    case DSC_NL_RELU:
        return sqrt(2.0);
    case DSC_NL_LEAKY_RELU: {
        double s = isnan(param) ? 0.01 : param; /* torch: None -> 0.01 */
        return sqrt(2.0 / (1.0 + s * s));
    }
    case DSC_NL_SELU:
        return 0.75;
    }
    return 1.0;
}

dsc_status dsc_calculate_fans(const dsc_shape *shape, int64_t *fan_in, int64_t *fan_out)
{
    if (!shape || shape->ndim < 2)
        return DSC_ERROR(DSC_ERR_SHAPE, "init: fan in and fan out need a tensor of at least 2 dims, got %d",
                         shape ? shape->ndim : 0);
    /* torch: receptive field = prod(shape[2:]); fan_in = shape[1] * rf, fan_out = shape[0] * rf. */
    int64_t rf = 1;
    for (int d = 2; d < shape->ndim; d++)
        rf *= shape->dim[d];
    if (fan_in)
        *fan_in = shape->dim[1] * rf;
    if (fan_out)
        *fan_out = shape->dim[0] * rf;
    return DSC_OK;
}

void dsc_init_constant(float *x, size_t n, float value)
{
    for (size_t i = 0; i < n; i++)
        x[i] = value;
}

dsc_status dsc_init_uniform(dsc_rng *r, float *x, size_t n, double a, double b)
{
    if (!(a <= b) || !isfinite(a) || !isfinite(b))
        return DSC_ERROR(DSC_ERR_INVALID, "init uniform: need finite a <= b, got a = %g, b = %g", a, b);
    dsc_rng_fill_uniform(r, x, n, (float)a, (float)b);
    /* lo + (hi - lo) u can round up to hi in float: keep the draws inside [a, b]. */
    for (size_t i = 0; i < n; i++) {
        if (x[i] < (float)a)
            x[i] = (float)a;
        if (x[i] > (float)b)
            x[i] = (float)b;
    }
    return DSC_OK;
}

dsc_status dsc_init_normal(dsc_rng *r, float *x, size_t n, double mean, double std)
{
    if (!(std >= 0) || !isfinite(std) || !isfinite(mean))
        return DSC_ERROR(DSC_ERR_INVALID, "init normal: need finite mean and std >= 0, got mean = %g, std = %g",
                         mean, std);
    dsc_rng_fill_normal(r, x, n, (float)mean, (float)std);
    return DSC_OK;
}

/* Standard normal CDF and its inverse (Acklam's rational approximation, relative error
 * 1.15e-9, refined by one Halley step on erfc to double precision). */
static double norm_cdf(double z) { return 0.5 * erfc(-z / sqrt(2.0)); }

static double norm_ppf(double p)
{
    static const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                6.680131188771972e+01,  -1.328068155288572e+01};
    static const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                3.754408661907416e+00};
    const double plow = 0.02425;
    double x;
    if (p < plow) {
        double q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p <= 1 - plow) {
        double q = p - 0.5, t = q * q;
        x = (((((a[0] * t + a[1]) * t + a[2]) * t + a[3]) * t + a[4]) * t + a[5]) * q /
            (((((b[0] * t + b[1]) * t + b[2]) * t + b[3]) * t + b[4]) * t + 1);
    } else {
        double q = sqrt(-2 * log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    double e = norm_cdf(x) - p;
    double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

dsc_status dsc_init_trunc_normal(dsc_rng *r, float *x, size_t n, double mean, double std, double a, double b)
{
    if (!(std > 0) || !isfinite(std) || !isfinite(mean) || !(a < b))
        return DSC_ERROR(DSC_ERR_INVALID,
                         "init trunc_normal: need std > 0 and a < b, got mean = %g, std = %g, a = %g, b = %g",
                         mean, std, a, b);
    /* torch.nn.init.trunc_normal_: z = Phi^-1(U(Phi(alpha), Phi(beta))), x = mean + std z,
     * clamped to [a, b]. When the interval lies in the right tail we sample its mirror
     * image in the left tail, where Phi has full relative precision. */
    double alpha = (a - mean) / std, beta = (b - mean) / std, sgn = 1;
    if (alpha > 0) {
        double t = alpha;
        alpha = -beta;
        beta = -t;
        sgn = -1;
    }
    double lo = norm_cdf(alpha), hi = norm_cdf(beta);
    for (size_t i = 0; i < n; i++) {
        double p = lo + (hi - lo) * dsc_rng_uniform01(r);
        if (p <= 0)
            p = DBL_MIN;
        if (p >= 1)
            p = 1 - DBL_EPSILON / 2;
        double z = sgn * norm_ppf(p), v = mean + std * z;
        if (v < a)
            v = a;
        if (v > b)
            v = b;
        float f = (float)v;
        if (f < (float)a) /* float rounding of the bounds themselves */
            f = (float)a;
        if (f > (float)b)
            f = (float)b;
        x[i] = f;
    }
    return DSC_OK;
}

static size_t shape_numel(const dsc_shape *s) { return (size_t)dsc_shape_numel(s); }

dsc_status dsc_init_xavier_uniform(dsc_rng *r, float *x, const dsc_shape *shape, double gain)
{
    int64_t fi, fo;
    DSC_TRY(dsc_calculate_fans(shape, &fi, &fo));
    if (fi + fo <= 0)
        return DSC_ERROR(DSC_ERR_SHAPE, "init xavier_uniform: fan_in + fan_out is 0");
    double std = gain * sqrt(2.0 / (double)(fi + fo)), bound = sqrt(3.0) * std;
    return dsc_init_uniform(r, x, shape_numel(shape), -bound, bound);
}

dsc_status dsc_init_xavier_normal(dsc_rng *r, float *x, const dsc_shape *shape, double gain)
{
    int64_t fi, fo;
    DSC_TRY(dsc_calculate_fans(shape, &fi, &fo));
    if (fi + fo <= 0)
        return DSC_ERROR(DSC_ERR_SHAPE, "init xavier_normal: fan_in + fan_out is 0");
    return dsc_init_normal(r, x, shape_numel(shape), 0.0, gain * sqrt(2.0 / (double)(fi + fo)));
}

static dsc_status kaiming_std(const char *what, const dsc_shape *shape, double a, dsc_fan_mode mode,
                              dsc_nonlinearity nl, double *std)
{
    int64_t fi, fo;
    DSC_TRY(dsc_calculate_fans(shape, &fi, &fo));
    int64_t fan = mode == DSC_FAN_OUT ? fo : fi;
    if (fan <= 0)
        return DSC_ERROR(DSC_ERR_SHAPE, "init %s: fan is 0", what);
    *std = dsc_calculate_gain(nl, a) / sqrt((double)fan);
    return DSC_OK;
}

dsc_status dsc_init_kaiming_uniform(dsc_rng *r, float *x, const dsc_shape *shape, double a, dsc_fan_mode mode,
                                    dsc_nonlinearity nl)
{
    double std = 0;
    DSC_TRY(kaiming_std("kaiming_uniform", shape, a, mode, nl, &std));
    double bound = sqrt(3.0) * std;
    return dsc_init_uniform(r, x, shape_numel(shape), -bound, bound);
}

dsc_status dsc_init_kaiming_normal(dsc_rng *r, float *x, const dsc_shape *shape, double a, dsc_fan_mode mode,
                                   dsc_nonlinearity nl)
{
    double std = 0;
    DSC_TRY(kaiming_std("kaiming_normal", shape, a, mode, nl, &std));
    return dsc_init_normal(r, x, shape_numel(shape), 0.0, std);
}

dsc_status dsc_init_lecun_uniform(dsc_rng *r, float *x, const dsc_shape *shape)
{
    return dsc_init_kaiming_uniform(r, x, shape, 0.0, DSC_FAN_IN, DSC_NL_LINEAR);
}

dsc_status dsc_init_lecun_normal(dsc_rng *r, float *x, const dsc_shape *shape)
{
    return dsc_init_kaiming_normal(r, x, shape, 0.0, DSC_FAN_IN, DSC_NL_LINEAR);
}

dsc_status dsc_init_torch_default_weight(dsc_rng *r, float *x, const dsc_shape *shape)
{
    int64_t fi;
    DSC_TRY(dsc_calculate_fans(shape, &fi, NULL));
    if (fi <= 0)
        return DSC_ERROR(DSC_ERR_SHAPE, "init torch_default: fan_in is 0");
    /* kaiming_uniform_(a = sqrt(5)): gain sqrt(2 / 6), bound sqrt(3) gain / sqrt(fan_in) =
     * 1 / sqrt(fan_in). */
    double bound = 1.0 / sqrt((double)fi);
    return dsc_init_uniform(r, x, shape_numel(shape), -bound, bound);
}

dsc_status dsc_init_torch_default_bias(dsc_rng *r, float *x, size_t n, int64_t fan_in)
{
    double bound = fan_in > 0 ? 1.0 / sqrt((double)fan_in) : 0.0;
    return dsc_init_uniform(r, x, n, -bound, bound);
}

dsc_status dsc_init_orthogonal(dsc_rng *r, float *x, const dsc_shape *shape, double gain)
{
    if (!shape || shape->ndim < 2)
        return DSC_ERROR(DSC_ERR_SHAPE, "init orthogonal: needs a tensor of at least 2 dims, got %d",
                         shape ? shape->ndim : 0);
    int64_t rows = shape->dim[0], numel = dsc_shape_numel(shape);
    if (numel == 0)
        return DSC_OK;
    int64_t cols = numel / rows;
    /* Factor the tall matrix A (m x n, m >= n): A = the Gaussian matrix, transposed when
     * rows < cols (as torch does). */
    int trans = rows < cols;
    int64_t m = trans ? cols : rows, n = trans ? rows : cols;
    float *z = malloc((size_t)numel * sizeof(float));
    double *A = malloc((size_t)(m * n) * sizeof(double));
    double *Q = malloc((size_t)(m * n) * sizeof(double));
    double *V = malloc((size_t)(m * n) * sizeof(double));
    double *rdiag = malloc((size_t)n * sizeof(double));
    if (!z || !A || !Q || !V || !rdiag) {
        free(z), free(A), free(Q), free(V), free(rdiag);
        return DSC_ERROR(DSC_ERR_NOMEM, "init orthogonal: %lld x %lld matrix", (long long)rows, (long long)cols);
    }
    dsc_rng_fill_normal(r, z, (size_t)numel, 0.0f, 1.0f);
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++) {
            double v = z[i * cols + j];
            if (trans)
                A[j * n + i] = v;
            else
                A[i * n + j] = v;
        }
    /* Householder QR: for column k, reflect A[k:, k] onto alpha e_1 with
     * alpha = -sign(x_0) ||x|| (no cancellation); v_k (unit) is kept in V[k:, k]. */
    for (int64_t k = 0; k < n; k++) {
        double norm = 0;
        for (int64_t i = k; i < m; i++)
            norm += A[i * n + k] * A[i * n + k];
        norm = sqrt(norm);
        double alpha = A[k * n + k] > 0 ? -norm : norm;
        for (int64_t i = 0; i < m; i++)
            V[i * n + k] = i < k ? 0.0 : A[i * n + k];
        V[k * n + k] -= alpha;
        double vn = 0;
        for (int64_t i = k; i < m; i++)
            vn += V[i * n + k] * V[i * n + k];
        vn = sqrt(vn);
        if (vn > 0) {
            for (int64_t i = k; i < m; i++)
                V[i * n + k] /= vn;
            for (int64_t j = k; j < n; j++) {
                double dot = 0;
                for (int64_t i = k; i < m; i++)
                    dot += V[i * n + k] * A[i * n + j];
                for (int64_t i = k; i < m; i++)
                    A[i * n + j] -= 2 * dot * V[i * n + k];
            }
        }
        rdiag[k] = A[k * n + k];
    }
    /* Thin Q = H_0 H_1 ... H_{n-1} [I_n; 0], applied right to left. */
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            Q[i * n + j] = i == j ? 1.0 : 0.0;
    for (int64_t k = n - 1; k >= 0; k--) {
        for (int64_t j = 0; j < n; j++) {
            double dot = 0;
            for (int64_t i = k; i < m; i++)
                dot += V[i * n + k] * Q[i * n + j];
            for (int64_t i = k; i < m; i++)
                Q[i * n + j] -= 2 * dot * V[i * n + k];
        }
    }
    /* torch: q *= sign(diag(r)), making the factorization unique (diag R > 0). */
    for (int64_t j = 0; j < n; j++) {
        double s = rdiag[j] > 0 ? 1.0 : (rdiag[j] < 0 ? -1.0 : 0.0);
        for (int64_t i = 0; i < m; i++)
            Q[i * n + j] *= s;
    }
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            x[i * cols + j] = (float)(gain * (trans ? Q[j * n + i] : Q[i * n + j]));
    free(z), free(A), free(Q), free(V), free(rdiag);
    return DSC_OK;
}

/* ---- descriptors ---------------------------------------------------------------------- */

dsc_init dsc_init_make(dsc_init_kind kind)
{
    dsc_init d;
    memset(&d, 0, sizeof d);
    d.kind = kind;
    d.b = 1.0;
    d.std = 1.0;
    d.gain = 1.0;
    d.mode = DSC_FAN_IN;
    d.nonlinearity = DSC_NL_LEAKY_RELU;
    if (kind == DSC_INIT_TRUNC_NORMAL) {
        d.a = -2.0;
        d.b = 2.0;
    }
    return d;
}

dsc_status dsc_init_apply(const dsc_init *d, dsc_rng *r, float *x, const dsc_shape *shape)
{
    size_t n = shape_numel(shape);
    switch (d->kind) {
    case DSC_INIT_CONSTANT:
        dsc_init_constant(x, n, (float)d->value);
        return DSC_OK;
    case DSC_INIT_UNIFORM:
        return dsc_init_uniform(r, x, n, d->a, d->b);
    case DSC_INIT_NORMAL:
        return dsc_init_normal(r, x, n, d->mean, d->std);
    case DSC_INIT_TRUNC_NORMAL:
        return dsc_init_trunc_normal(r, x, n, d->mean, d->std, d->a, d->b);
    case DSC_INIT_XAVIER_UNIFORM:
        return dsc_init_xavier_uniform(r, x, shape, d->gain);
    case DSC_INIT_XAVIER_NORMAL:
        return dsc_init_xavier_normal(r, x, shape, d->gain);
    case DSC_INIT_KAIMING_UNIFORM:
        return dsc_init_kaiming_uniform(r, x, shape, d->a, d->mode, d->nonlinearity);
    case DSC_INIT_KAIMING_NORMAL:
        return dsc_init_kaiming_normal(r, x, shape, d->a, d->mode, d->nonlinearity);
    case DSC_INIT_LECUN_UNIFORM:
        return dsc_init_lecun_uniform(r, x, shape);
    case DSC_INIT_LECUN_NORMAL:
        return dsc_init_lecun_normal(r, x, shape);
    case DSC_INIT_ORTHOGONAL:
        return dsc_init_orthogonal(r, x, shape, d->gain);
    case DSC_INIT_TORCH_DEFAULT:
        return dsc_init_torch_default_weight(r, x, shape);
    case DSC_INIT_TORCH_BIAS:
        return dsc_init_torch_default_bias(r, x, n, d->fan_in);
    }
    return DSC_ERROR(DSC_ERR_INVALID, "init: unknown kind %d", (int)d->kind);
}

dsc_status dsc_init_graph_tensor(dsc_graph *g, const char *name, const dsc_init *init, dsc_rng *r)
{
    dsc_id id = dsc_graph_find(g, name);
    if (id < 0)
        return DSC_ERROR(DSC_ERR_INVALID, "init: the graph has no parameter or buffer named '%s'", name);
    const char *op = dsc_node_op_name(g, id);
    if (!op || (strcmp(op, "param") && strcmp(op, "buffer")))
        return DSC_ERROR(DSC_ERR_INVALID, "init: '%s' is a %s, not a parameter or buffer", name, op ? op : "node");
    dsc_tensor t = dsc_node_value(g, id);
    if (!t.data)
        return DSC_ERROR(DSC_ERR_STATE, "init: compile the graph before initializing '%s'", name);
    return dsc_init_apply(init, r, t.data, &t.shape);
}

/* ---- parsing "name:key=value,..." ------------------------------------------------------ */

static const struct {
    const char *name;
    dsc_init_kind kind;
    const char *keys; /* valid keys, space separated */
} init_names[] = {
    {"constant", DSC_INIT_CONSTANT, "value"},
    {"zeros", DSC_INIT_CONSTANT, ""},
    {"ones", DSC_INIT_CONSTANT, ""},
    {"uniform", DSC_INIT_UNIFORM, "a b"},
    {"normal", DSC_INIT_NORMAL, "mean std"},
    {"trunc_normal", DSC_INIT_TRUNC_NORMAL, "mean std a b"},
    {"xavier_uniform", DSC_INIT_XAVIER_UNIFORM, "gain"},
    {"xavier_normal", DSC_INIT_XAVIER_NORMAL, "gain"},
    {"kaiming_uniform", DSC_INIT_KAIMING_UNIFORM, "a mode nonlinearity"},
    {"kaiming_normal", DSC_INIT_KAIMING_NORMAL, "a mode nonlinearity"},
    {"lecun_uniform", DSC_INIT_LECUN_UNIFORM, ""},
    {"lecun_normal", DSC_INIT_LECUN_NORMAL, ""},
    {"orthogonal", DSC_INIT_ORTHOGONAL, "gain"},
    {"torch_default", DSC_INIT_TORCH_DEFAULT, ""},
};
#define N_INIT_NAMES ((int)(sizeof init_names / sizeof init_names[0]))

static int key_allowed(const char *keys, const char *key, size_t len)
{
    const char *p = keys;
    while (*p) {
        const char *e = strchr(p, ' ');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == len && !strncmp(p, key, len))
            return 1;
        p += l;
        while (*p == ' ')
            p++;
    }
    return 0;
}

static int parse_double(const char *s, size_t len, double *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, s, len);
    buf[len] = 0;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end || errno || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

dsc_status dsc_init_parse(const char *text, dsc_init *out)
{
    if (!text || !out)
        return DSC_ERROR(DSC_ERR_INVALID, "init: NULL argument");
    const char *colon = strchr(text, ':');
    size_t nlen = colon ? (size_t)(colon - text) : strlen(text);
    int which = -1;
    for (int i = 0; i < N_INIT_NAMES; i++)
        if (strlen(init_names[i].name) == nlen && !strncmp(init_names[i].name, text, nlen))
            which = i;
    if (which < 0) {
        char list[512] = "";
        for (int i = 0; i < N_INIT_NAMES; i++) {
            strcat(list, init_names[i].name);
            if (i + 1 < N_INIT_NAMES)
                strcat(list, ", ");
        }
        return DSC_ERROR(DSC_ERR_INVALID, "init: unknown initializer '%.*s' (valid: %s)", (int)nlen, text, list);
    }
    dsc_init d = dsc_init_make(init_names[which].kind);
    if (!strcmp(init_names[which].name, "ones"))
        d.value = 1.0;
    const char *p = colon ? colon + 1 : NULL;
    while (p && *p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : 0;
        const char *val = eq ? eq + 1 : p;
        size_t vlen = eq ? len - klen - 1 : len;
        const char *key = eq ? p : "value"; /* "constant:0.5" */
        if (!eq)
            klen = 5;
        const char *nm = init_names[which].name;
        if (!key_allowed(init_names[which].keys, key, klen))
            return DSC_ERROR(DSC_ERR_INVALID, "init '%s': unknown option '%.*s' (valid: %s)", nm, (int)klen, key,
                             init_names[which].keys[0] ? init_names[which].keys : "none");
        if (klen == 4 && !strncmp(key, "mode", 4)) {
            if (vlen == 6 && !strncmp(val, "fan_in", 6))
                d.mode = DSC_FAN_IN;
            else if (vlen == 7 && !strncmp(val, "fan_out", 7))
                d.mode = DSC_FAN_OUT;
            else
                return DSC_ERROR(DSC_ERR_INVALID, "init '%s': bad mode '%.*s' (valid: fan_in, fan_out)", nm,
                                 (int)vlen, val);
        } else if (klen == 12 && !strncmp(key, "nonlinearity", 12)) {
            static const char *nls[] = {"linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu"};
            int f = -1;
            for (int i = 0; i < 6; i++)
                if (strlen(nls[i]) == vlen && !strncmp(nls[i], val, vlen))
                    f = i;
            if (f < 0)
                return DSC_ERROR(DSC_ERR_INVALID,
                                 "init '%s': bad nonlinearity '%.*s' (valid: linear, sigmoid, tanh, relu, "
                                 "leaky_relu, selu)",
                                 nm, (int)vlen, val);
            d.nonlinearity = (dsc_nonlinearity)f;
        } else {
            double v;
            if (!parse_double(val, vlen, &v))
                return DSC_ERROR(DSC_ERR_INVALID, "init '%s': bad number '%.*s' for '%.*s'", nm, (int)vlen, val,
                                 (int)klen, key);
            if (!strncmp(key, "value", klen))
                d.value = v;
            else if (!strncmp(key, "a", klen))
                d.a = v;
            else if (!strncmp(key, "b", klen))
                d.b = v;
            else if (!strncmp(key, "mean", klen))
                d.mean = v;
            else if (!strncmp(key, "std", klen))
                d.std = v;
            else if (!strncmp(key, "gain", klen))
                d.gain = v;
        }
        p = comma ? comma + 1 : NULL;
    }
    *out = d;
    return DSC_OK;
}
