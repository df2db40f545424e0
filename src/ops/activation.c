/* Activations: relu, leaky_relu, elu, gelu (erf and tanh forms), silu, sigmoid, tanh,
 * softplus, softmax and log_softmax, with torch semantics.
 *
 * Elementwise activations y = f(x): VJP x.grad += g f'(x); JVP y' = f'(x) x';
 * R-op x.grad_tangent += g f''(x) x' (see docs/ALGORITHMS.md for every f, f', f'').
 * leaky_relu, elu, gelu, silu and softplus use the generic per-element machinery of
 * unary_common.h. relu, sigmoid and tanh are on the hot path of training, so they have
 * dedicated loops (no function pointer per element) whose derivatives use the output y:
 *   relu     f' = [y > 0]                       (torch threshold_backward(g, y, 0): 0 at x = 0)
 *   sigmoid  f' = y (1 - y),  f'' = y (1 - y)(1 - 2y)
 *   tanh     f' = 1 - y^2,    f'' = -2 y (1 - y^2)   (forward: fast_tanhf below)
 *
 * softmax / log_softmax along one axis. The tensor is viewed as [outer, A, inner]; every
 * fibre (outer index, inner index) of length A is independent, so threads split fibres and
 * the summation order inside a fibre never depends on the thread count. Sums accumulate in
 * double. With s = softmax(x) along the fibre and <u, v> = sum over the fibre:
 *   softmax      y = exp(x - max) / sum exp(x - max)
 *                VJP  gx += y (g - <g, y>)
 *                JVP  ty = y (tx - <tx, y>)
 *                R-op d(gx)[tx] = ty (g - <g, y>) - y <g, ty>
 *   log_softmax  y = (x - max) - log sum exp(x - max)
 *                VJP  gx += g - s <g, 1>
 *                JVP  ty = tx - <s, tx>
 *                R-op d(gx)[tx] = -ds <g, 1>,  ds = s (tx - <s, tx>) = s ty
 * The R-op kernels read the node's own tangent ty, which the HVP's forward-mode pass has
 * computed (tangent buffers are never overlaid by checkpointing). */
#include <math.h>
#include <string.h>

#include "descent/ops.h"
#include "ops/unary_common.h"

#define PAR_MIN 32768

/* ---- relu, sigmoid, tanh: dedicated vectorizable loops ---- */

enum { ACT_RELU, ACT_SIGMOID, ACT_TANH };

/* tanh in float, about 4x faster than glibc tanhf with the same accuracy (max relative error
 * 1.7e-7 against double tanh over [1e-6, 12], tanhf 1.6e-7; test_tanh_accuracy):
 *   |x| <  0.4: Taylor series x (1 - x^2/3 + 2x^4/15 - ... ) to x^15 (next term < 3e-9 rel)
 *   |x| >= 0.4: 1 - 2 / (e^(2|x|) + 1)  (no cancellation: the result is >= 0.38;
 *               e^(2|x|) = inf gives exactly 1)
 * with the sign of x restored (tanh(-0) = -0, NaN propagates). */
static inline float fast_tanhf(float x)
{
    float a = fabsf(x), z = a * a;
    float p = -929569.0f / 638512875.0f;
    p = p * z + 21844.0f / 6081075.0f;
    p = p * z - 1382.0f / 155925.0f;
    p = p * z + 62.0f / 2835.0f;
    p = p * z - 17.0f / 315.0f;
    p = p * z + 2.0f / 15.0f;
    p = p * z - 1.0f / 3.0f;
    float small = a + a * z * p;
    float big = 1.0f - 2.0f / (expf(2.0f * a) + 1.0f);
    return copysignf(a < 0.4f ? small : big, x);
}
#define ACT_KIND(n) ((int)(n)->attr.i[0])

static void fast_forward(dsc_graph *g, dsc_node *n)
{
    const float *restrict x = dsc_in(g, n, 0)->value;
    float *restrict y = n->value;
    int64_t N = dsc_numel(n);
    switch (ACT_KIND(n)) {
    case ACT_RELU:
        /* x < 0 ? 0 : x (not fmaxf) so that NaN propagates, as torch.relu does. */
#pragma omp parallel for schedule(static) if (N > PAR_MIN)
        for (int64_t k = 0; k < N; k++)
            y[k] = x[k] < 0.0f ? 0.0f : x[k];
        break;
    case ACT_SIGMOID:
        /* 1 / (1 + e^-x): e^-x overflows to inf for x < -88, giving exactly 0, never NaN. */
#pragma omp parallel for schedule(static) if (N > PAR_MIN / 8)
        for (int64_t k = 0; k < N; k++)
            y[k] = 1.0f / (1.0f + expf(-x[k]));
        break;
    default:
#pragma omp parallel for schedule(static) if (N > PAR_MIN / 8)
        for (int64_t k = 0; k < N; k++)
            y[k] = fast_tanhf(x[k]);
        break;
    }
}

static void fast_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *xn = dsc_in(g, n, 0);
    if (!xn->grad)
        return;
    const float *restrict y = n->value, *restrict gy = n->grad;
    float *restrict gx = xn->grad;
    int64_t N = dsc_numel(n);
    switch (ACT_KIND(n)) {
    case ACT_RELU:
#pragma omp parallel for schedule(static) if (N > PAR_MIN)
        for (int64_t k = 0; k < N; k++)
            gx[k] += y[k] > 0.0f ? gy[k] : 0.0f;
        break;
    case ACT_SIGMOID:
#pragma omp parallel for schedule(static) if (N > PAR_MIN)
        for (int64_t k = 0; k < N; k++)
            gx[k] += gy[k] * (y[k] * (1.0f - y[k]));
        break;
    default:
#pragma omp parallel for schedule(static) if (N > PAR_MIN)
        for (int64_t k = 0; k < N; k++)
            gx[k] += gy[k] * (1.0f - y[k] * y[k]);
        break;
    }
}

static void fast_jvp(dsc_graph *g, dsc_node *n)
{
    const float *restrict y = n->value, *restrict tx = dsc_in(g, n, 0)->tangent;
    float *restrict ty = n->tangent;
    int64_t N = dsc_numel(n);
    switch (ACT_KIND(n)) {
    case ACT_RELU:
#pragma omp parallel for schedule(static) if (N > PAR_MIN)
        for (int64_t k = 0; k < N; k++)
            ty[k] = y[k] > 0.0f ? tx[k] : 0.0f;
        break;
    case ACT_SIGMOID:
#pragma omp parallel for schedule(static) if (N > PAR_MIN)
        for (int64_t k = 0; k < N; k++)
            ty[k] = (y[k] * (1.0f - y[k])) * tx[k];
        break;
    default:
#pragma omp parallel for schedule(static) if (N > PAR_MIN)
        for (int64_t k = 0; k < N; k++)
            ty[k] = (1.0f - y[k] * y[k]) * tx[k];
        break;
    }
}

/* x.grad_tangent += g f''(x) x' (sigmoid and tanh; relu has f'' = 0 and no R-op). */
static void fast_vjp_rop(dsc_graph *g, dsc_node *n)
{
    dsc_node *xn = dsc_in(g, n, 0);
    if (!xn->grad_tangent)
        return;
    const float *restrict y = n->value, *restrict gy = n->grad, *restrict tx = xn->tangent;
    float *restrict r = xn->grad_tangent;
    int64_t N = dsc_numel(n);
    if (ACT_KIND(n) == ACT_SIGMOID) {
#pragma omp parallel for schedule(static) if (N > PAR_MIN)
        for (int64_t k = 0; k < N; k++)
            r[k] += gy[k] * (y[k] * (1.0f - y[k]) * (1.0f - 2.0f * y[k])) * tx[k];
    } else {
#pragma omp parallel for schedule(static) if (N > PAR_MIN)
        for (int64_t k = 0; k < N; k++)
            r[k] += gy[k] * (-2.0f * y[k] * (1.0f - y[k] * y[k])) * tx[k];
    }
}

static const dsc_op OP_RELU = {"relu", dsc_unary_infer, fast_forward, fast_vjp, fast_jvp, NULL, NULL, NULL, 0};
static const dsc_op OP_SIGMOID = {"sigmoid", dsc_unary_infer, fast_forward, fast_vjp, fast_jvp, fast_vjp_rop,
                                  NULL, NULL, 0};
static const dsc_op OP_TANH = {"tanh", dsc_unary_infer, fast_forward, fast_vjp, fast_jvp, fast_vjp_rop,
                               NULL, NULL, 0};

static dsc_id fast_add(dsc_graph *g, const dsc_op *op, int kind, dsc_id x)
{
    dsc_attr at;
    memset(&at, 0, sizeof at);
    at.i[0] = kind;
    return dsc_graph_add_op(g, op, 1, &x, &at);
}

dsc_id dsc_relu(dsc_graph *g, dsc_id x) { return fast_add(g, &OP_RELU, ACT_RELU, x); }
dsc_id dsc_sigmoid(dsc_graph *g, dsc_id x) { return fast_add(g, &OP_SIGMOID, ACT_SIGMOID, x); }
dsc_id dsc_tanh(dsc_graph *g, dsc_id x) { return fast_add(g, &OP_TANH, ACT_TANH, x); }

/* ---- generic elementwise activations (f, f', f'' per element) ---- */

/* leaky_relu: torch leaky_relu_backward uses x > 0 ? 1 : slope, so f'(0) = slope. */
static void leaky_relu_eval(const dsc_node *n, float x, float *y, float *d1, float *d2)
{
    float s = n->attr.f[0];
    *y = x > 0.0f ? x : s * x;
    *d1 = x > 0.0f ? 1.0f : s;
    *d2 = 0.0f;
}

/* elu: x > 0 ? x : alpha (e^x - 1); torch elu_backward uses x <= 0 ? alpha e^x : 1, so
 * f'(0) = alpha. */
static void elu_eval(const dsc_node *n, float x, float *y, float *d1, float *d2)
{
    float alpha = n->attr.f[0];
    if (x > 0.0f) {
        *y = x;
        *d1 = 1.0f;
        *d2 = 0.0f;
    } else {
        float e = expm1f(x);
        *y = alpha * e;
        *d1 = *d2 = alpha * (e + 1.0f);
    }
}

#define SQRT1_2 0.70710678118654752440f
#define INV_SQRT_2PI 0.39894228040143267794f
#define SQRT_2_PI 0.79788456080286535588f /* sqrt(2/pi) */
#define GELU_KAPPA 0.044715f

/* gelu (erf): y = x Phi(x), Phi(x) = (1 + erf(x/sqrt2))/2, phi(x) = e^(-x^2/2)/sqrt(2 pi)
 *   f' = Phi + x phi,  f'' = phi (2 - x^2). */
static void gelu_erf_eval(const dsc_node *n, float x, float *y, float *d1, float *d2)
{
    (void)n;
    float cdf = 0.5f * (1.0f + erff(x * SQRT1_2));
    float pdf = INV_SQRT_2PI * expf(-0.5f * x * x);
    *y = x * cdf;
    *d1 = cdf + x * pdf;
    *d2 = pdf * (2.0f - x * x);
}

/* gelu (tanh): u = sqrt(2/pi)(x + 0.044715 x^3), t = tanh u, y = x (1 + t)/2
 *   u' = sqrt(2/pi)(1 + 3*0.044715 x^2),  u'' = 6*0.044715 sqrt(2/pi) x
 *   f' = (1 + t)/2 + x (1 - t^2) u'/2
 *   f'' = (1 - t^2) (u' + x (u'' - 2 t u'^2)/2). */
static void gelu_tanh_eval(const dsc_node *n, float x, float *y, float *d1, float *d2)
{
    (void)n;
    float x2 = x * x;
    float u = SQRT_2_PI * (x + GELU_KAPPA * x2 * x);
    float t = tanhf(u);
    float sech2 = 1.0f - t * t;
    float du = SQRT_2_PI * (1.0f + 3.0f * GELU_KAPPA * x2);
    float ddu = 6.0f * GELU_KAPPA * SQRT_2_PI * x;
    *y = 0.5f * x * (1.0f + t);
    *d1 = 0.5f * (1.0f + t) + 0.5f * x * sech2 * du;
    *d2 = sech2 * (du + 0.5f * x * (ddu - 2.0f * t * du * du));
}

static float sigmoidf(float x)
{
    if (x >= 0.0f)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

/* silu: y = x s, s = sigmoid(x);  f' = s (1 + x (1 - s));  f'' = s (1 - s)(2 + x (1 - 2s)). */
static void silu_eval(const dsc_node *n, float x, float *y, float *d1, float *d2)
{
    (void)n;
    float s = sigmoidf(x);
    *y = x * s;
    *d1 = s * (1.0f + x * (1.0f - s));
    *d2 = s * (1.0f - s) * (2.0f + x * (1.0f - 2.0f * s));
}

/* softplus: torch reverts to the identity where beta x > threshold:
 *   y = beta x > threshold ? x : log(1 + e^(beta x)) / beta
 *   f' = sigmoid(beta x) (1 in the linear part),  f'' = beta s (1 - s) (0 in the linear part). */
static void softplus_eval(const dsc_node *n, float x, float *y, float *d1, float *d2)
{
    float beta = n->attr.f[0], threshold = n->attr.f[1];
    float bx = beta * x;
    if (bx > threshold) {
        *y = x;
        *d1 = 1.0f;
        *d2 = 0.0f;
        return;
    }
    float s = sigmoidf(bx);
    *y = log1pf(expf(bx)) / beta;
    *d1 = s;
    *d2 = beta * s * (1.0f - s);
}

static dsc_status leaky_relu_infer(dsc_graph *g, dsc_node *n)
{
    if (!isfinite(n->attr.f[0]))
        return DSC_ERROR(DSC_ERR_INVALID, "leaky_relu: negative_slope must be finite (got %g)", (double)n->attr.f[0]);
    return dsc_unary_infer(g, n);
}

static dsc_status elu_infer(dsc_graph *g, dsc_node *n)
{
    if (!isfinite(n->attr.f[0]))
        return DSC_ERROR(DSC_ERR_INVALID, "elu: alpha must be finite (got %g)", (double)n->attr.f[0]);
    return dsc_unary_infer(g, n);
}

static dsc_status softplus_infer(dsc_graph *g, dsc_node *n)
{
    float beta = n->attr.f[0], threshold = n->attr.f[1];
    if (!isfinite(beta) || beta == 0.0f)
        return DSC_ERROR(DSC_ERR_INVALID, "softplus: beta must be finite and nonzero (got %g)", (double)beta);
    if (isnan(threshold))
        return DSC_ERROR(DSC_ERR_INVALID, "softplus: threshold is NaN (torch default 20)");
    return dsc_unary_infer(g, n);
}

static const dsc_unary_def LEAKY_RELU = {leaky_relu_eval}, ELU = {elu_eval}, GELU_ERF = {gelu_erf_eval},
                           GELU_TANH = {gelu_tanh_eval}, SILU = {silu_eval}, SOFTPLUS = {softplus_eval};

static const dsc_op OP_LEAKY_RELU = {"leaky_relu", leaky_relu_infer, dsc_unary_forward, dsc_unary_vjp,
                                     dsc_unary_jvp, NULL, NULL, NULL, 0};
static const dsc_op OP_ELU = {"elu", elu_infer, dsc_unary_forward, dsc_unary_vjp, dsc_unary_jvp,
                              dsc_unary_vjp_rop, NULL, NULL, 0};
static const dsc_op OP_GELU = DSC_UNARY_OP("gelu", dsc_unary_vjp_rop);
static const dsc_op OP_GELU_TANH = DSC_UNARY_OP("gelu_tanh", dsc_unary_vjp_rop);
static const dsc_op OP_SILU = DSC_UNARY_OP("silu", dsc_unary_vjp_rop);
static const dsc_op OP_SOFTPLUS = {"softplus", softplus_infer, dsc_unary_forward, dsc_unary_vjp, dsc_unary_jvp,
                                   dsc_unary_vjp_rop, NULL, NULL, 0};

static dsc_id unary_f2(dsc_graph *g, const dsc_op *op, const dsc_unary_def *def, dsc_id x, float f0, float f1)
{
    dsc_attr at;
    memset(&at, 0, sizeof at);
    at.f[0] = f0;
    at.f[1] = f1;
    return dsc_unary_add(g, op, def, x, &at);
}

dsc_id dsc_leaky_relu(dsc_graph *g, dsc_id x, float negative_slope)
{
    return unary_f2(g, &OP_LEAKY_RELU, &LEAKY_RELU, x, negative_slope, 0.0f);
}

dsc_id dsc_elu(dsc_graph *g, dsc_id x, float alpha) { return unary_f2(g, &OP_ELU, &ELU, x, alpha, 0.0f); }

dsc_id dsc_gelu(dsc_graph *g, dsc_id x, dsc_gelu_approx approx)
{
    if (approx == DSC_GELU_ERF)
        return dsc_unary_add(g, &OP_GELU, &GELU_ERF, x, NULL);
    if (approx == DSC_GELU_TANH)
        return dsc_unary_add(g, &OP_GELU_TANH, &GELU_TANH, x, NULL);
    if (dsc_graph_status(g) != DSC_OK)
        return -1;
    return dsc_graph_fail(g, DSC_ERR_INVALID, "gelu: approximate must be DSC_GELU_ERF (0) or DSC_GELU_TANH (1), got %d",
                          (int)approx);
}

dsc_id dsc_silu(dsc_graph *g, dsc_id x) { return dsc_unary_add(g, &OP_SILU, &SILU, x, NULL); }

dsc_id dsc_softplus(dsc_graph *g, dsc_id x, float beta, float threshold)
{
    return unary_f2(g, &OP_SOFTPLUS, &SOFTPLUS, x, beta, threshold);
}

/* ---- softmax and log_softmax along an axis ---- */

typedef struct fibres {
    int64_t outer, len, inner;
} fibres;

static fibres fibres_of(const dsc_node *n)
{
    fibres f = {1, 1, 1};
    int ax = (int)n->attr.i[0];
    for (int d = 0; d < n->shape.ndim; d++) {
        if (d < ax)
            f.outer *= n->shape.dim[d];
        else if (d == ax)
            f.len = n->shape.dim[d];
        else
            f.inner *= n->shape.dim[d];
    }
    return f;
}

/* Fibre j starts at (j / inner) * len * inner + j % inner, with stride inner. */
static inline int64_t fibre_base(const fibres *f, int64_t j) { return (j / f->inner) * f->len * f->inner + j % f->inner; }

static dsc_status softmax_infer(dsc_graph *g, dsc_node *n)
{
    const dsc_shape *s = &dsc_in(g, n, 0)->shape;
    int ax = dsc_axis((int)n->attr.i[1], s->ndim);
    if (s->ndim == 0 || ax < 0) {
        char b[96];
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: axis %d is out of range for input %s", n->op->name, (int)n->attr.i[1],
                         dsc_shape_str(s, b, sizeof b));
    }
    n->attr.i[0] = ax;
    n->shape = *s;
    return DSC_OK;
}

#define IS_LOG(n) ((n)->attr.i[2] != 0)

static void softmax_forward(dsc_graph *g, dsc_node *n)
{
    const float *x = dsc_in(g, n, 0)->value;
    float *y = n->value;
    fibres f = fibres_of(n);
    int64_t nf = f.outer * f.inner, L = f.len, st = f.inner;
    int lg = IS_LOG(n);
#pragma omp parallel for schedule(static) if (nf * L > PAR_MIN / 8)
    for (int64_t j = 0; j < nf; j++) {
        int64_t b = fibre_base(&f, j);
        const float *xf = x + b;
        float *yf = y + b;
        float m = -INFINITY;
        for (int64_t a = 0; a < L; a++)
            if (xf[a * st] > m)
                m = xf[a * st];
        double sum = 0.0;
        if (lg) {
            for (int64_t a = 0; a < L; a++)
                sum += (double)expf(xf[a * st] - m);
            float ls = (float)log(sum);
            for (int64_t a = 0; a < L; a++)
                yf[a * st] = (xf[a * st] - m) - ls;
        } else {
            for (int64_t a = 0; a < L; a++) {
                float e = expf(xf[a * st] - m);
                yf[a * st] = e;
                sum += (double)e;
            }
            float r = (float)(1.0 / sum);
            for (int64_t a = 0; a < L; a++)
                yf[a * st] *= r;
        }
    }
}

static void softmax_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *xn = dsc_in(g, n, 0);
    if (!xn->grad)
        return;
    const float *y = n->value, *gy = n->grad;
    float *gx = xn->grad;
    fibres f = fibres_of(n);
    int64_t nf = f.outer * f.inner, L = f.len, st = f.inner;
    int lg = IS_LOG(n);
#pragma omp parallel for schedule(static) if (nf * L > PAR_MIN)
    for (int64_t j = 0; j < nf; j++) {
        int64_t b = fibre_base(&f, j);
        const float *yf = y + b, *gf = gy + b;
        float *xf = gx + b;
        double dot = 0.0;
        if (lg) {
            /* gx = g - s <g, 1> */
            for (int64_t a = 0; a < L; a++)
                dot += (double)gf[a * st];
            float d = (float)dot;
            for (int64_t a = 0; a < L; a++)
                xf[a * st] += gf[a * st] - expf(yf[a * st]) * d;
        } else {
            /* gx = y (g - <g, y>) */
            for (int64_t a = 0; a < L; a++)
                dot += (double)gf[a * st] * (double)yf[a * st];
            float d = (float)dot;
            for (int64_t a = 0; a < L; a++)
                xf[a * st] += yf[a * st] * (gf[a * st] - d);
        }
    }
}

static void softmax_jvp(dsc_graph *g, dsc_node *n)
{
    const float *y = n->value, *tx = dsc_in(g, n, 0)->tangent;
    float *ty = n->tangent;
    fibres f = fibres_of(n);
    int64_t nf = f.outer * f.inner, L = f.len, st = f.inner;
    int lg = IS_LOG(n);
#pragma omp parallel for schedule(static) if (nf * L > PAR_MIN)
    for (int64_t j = 0; j < nf; j++) {
        int64_t b = fibre_base(&f, j);
        const float *yf = y + b, *tf = tx + b;
        float *of = ty + b;
        double dot = 0.0;
        if (lg) {
            /* ty = tx - <s, tx> */
            for (int64_t a = 0; a < L; a++)
                dot += (double)expf(yf[a * st]) * (double)tf[a * st];
            float d = (float)dot;
            for (int64_t a = 0; a < L; a++)
                of[a * st] = tf[a * st] - d;
        } else {
            /* ty = y (tx - <tx, y>) */
            for (int64_t a = 0; a < L; a++)
                dot += (double)tf[a * st] * (double)yf[a * st];
            float d = (float)dot;
            for (int64_t a = 0; a < L; a++)
                of[a * st] = yf[a * st] * (tf[a * st] - d);
        }
    }
}

static void softmax_vjp_rop(dsc_graph *g, dsc_node *n)
{
    dsc_node *xn = dsc_in(g, n, 0);
    if (!xn->grad_tangent)
        return;
    const float *y = n->value, *gy = n->grad, *ty = n->tangent;
    float *r = xn->grad_tangent;
    fibres f = fibres_of(n);
    int64_t nf = f.outer * f.inner, L = f.len, st = f.inner;
    int lg = IS_LOG(n);
#pragma omp parallel for schedule(static) if (nf * L > PAR_MIN)
    for (int64_t j = 0; j < nf; j++) {
        int64_t b = fibre_base(&f, j);
        const float *yf = y + b, *gf = gy + b, *tf = ty + b;
        float *rf = r + b;
        if (lg) {
            /* -s ty <g, 1> */
            double sg = 0.0;
            for (int64_t a = 0; a < L; a++)
                sg += (double)gf[a * st];
            float d = (float)sg;
            for (int64_t a = 0; a < L; a++)
                rf[a * st] -= expf(yf[a * st]) * tf[a * st] * d;
        } else {
            /* ty (g - <g, y>) - y <g, ty> */
            double gyd = 0.0, gtd = 0.0;
            for (int64_t a = 0; a < L; a++) {
                gyd += (double)gf[a * st] * (double)yf[a * st];
                gtd += (double)gf[a * st] * (double)tf[a * st];
            }
            float d1 = (float)gyd, d2 = (float)gtd;
            for (int64_t a = 0; a < L; a++)
                rf[a * st] += tf[a * st] * (gf[a * st] - d1) - yf[a * st] * d2;
        }
    }
}

static const dsc_op OP_SOFTMAX = {"softmax", softmax_infer, softmax_forward, softmax_vjp, softmax_jvp,
                                  softmax_vjp_rop, NULL, NULL, 0};
static const dsc_op OP_LOG_SOFTMAX = {"log_softmax", softmax_infer, softmax_forward, softmax_vjp, softmax_jvp,
                                      softmax_vjp_rop, NULL, NULL, 0};

static dsc_id softmax_add(dsc_graph *g, const dsc_op *op, dsc_id x, int axis, int lg)
{
    dsc_attr at;
    memset(&at, 0, sizeof at);
    at.i[1] = axis;
    at.i[2] = lg;
    return dsc_graph_add_op(g, op, 1, &x, &at);
}

dsc_id dsc_softmax(dsc_graph *g, dsc_id x, int axis) { return softmax_add(g, &OP_SOFTMAX, x, axis, 0); }
dsc_id dsc_log_softmax(dsc_graph *g, dsc_id x, int axis) { return softmax_add(g, &OP_LOG_SOFTMAX, x, axis, 1); }
