/* Elementwise unary ops y = f(x): scalar add/mul, neg, abs, clamp, exp, log, sqrt, square,
 * pow_scalar (torch semantics and gradient conventions).
 *
 * For y = f(x): VJP x.grad += g f'(x); JVP y' = f'(x) x'; R-op x.grad_tangent += g f''(x) x'.
 * Each op supplies f, f' and f'' for one element (the generic kernels live in
 * unary_common.c); ops with f'' = 0 almost everywhere register no R-op.
 *   neg        -x,            f' = -1,                 f'' = 0
 *   abs        |x|,           f' = sgn(x) (0 at 0),    f'' = 0          (torch: sgn)
 *   clamp      min(max(x,lo),hi); f' = 1 if lo <= x <= hi else 0, f'' = 0
 *              (torch clamp_backward passes the gradient at the boundaries; lo > hi gives hi
 *              everywhere, as in torch)
 *   exp        e^x,           e^x,                     e^x
 *   log        ln x,          1/x,                     -1/x^2
 *   sqrt       sqrt x,        1/(2 sqrt x),            -1/(4 x sqrt x)
 *   square     x^2,           2x,                      2
 *   pow_scalar x^p,           p x^(p-1) (0 if p = 0),  p (p-1) x^(p-2) (0 if p in {0, 1}) */
#include <math.h>
#include <string.h>

#include "descent/ops.h"
#include "ops/unary_common.h"

static void scalar_eval(const dsc_node *n, float x, float *y, float *d1, float *d2)
{
    float c = n->attr.f[0];
    if (n->attr.i[0] == 0) { /* add_scalar */
        *y = x + c;
        *d1 = 1.0f;
    } else { /* mul_scalar */
        *y = x * c;
        *d1 = c;
    }
    *d2 = 0.0f;
}

static const dsc_unary_def ADD_SCALAR = {scalar_eval};
static const dsc_op OP_ADD_SCALAR = DSC_UNARY_OP("add_scalar", NULL);
static const dsc_op OP_MUL_SCALAR = DSC_UNARY_OP("mul_scalar", NULL);

dsc_id dsc_add_scalar(dsc_graph *g, dsc_id a, float c)
{
    dsc_attr at;
    memset(&at, 0, sizeof at);
    at.f[0] = c;
    at.arr = NULL;
    return dsc_unary_add(g, &OP_ADD_SCALAR, &ADD_SCALAR, a, &at);
}

dsc_id dsc_mul_scalar(dsc_graph *g, dsc_id a, float c)
{
    dsc_attr at;
    memset(&at, 0, sizeof at);
    at.i[0] = 1;
    at.f[0] = c;
    return dsc_unary_add(g, &OP_MUL_SCALAR, &ADD_SCALAR, a, &at);
}

/* ---- neg, abs, clamp: piecewise linear, no R-op term ---- */

static void neg_eval(const dsc_node *n, float x, float *y, float *d1, float *d2)
{
    (void)n;
    *y = -x;
    *d1 = -1.0f;
    *d2 = 0.0f;
}

static void abs_eval(const dsc_node *n, float x, float *y, float *d1, float *d2)
{
    (void)n;
    *y = fabsf(x);
    *d1 = x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
    *d2 = 0.0f;
}

/* Written with comparisons (not fminf/fmaxf) so that NaN propagates as in torch. */
static void clamp_eval(const dsc_node *n, float x, float *y, float *d1, float *d2)
{
    float lo = n->attr.f[0], hi = n->attr.f[1];
    float v = x;
    if (v < lo)
        v = lo;
    if (v > hi)
        v = hi;
    *y = v;
    *d1 = (x >= lo && x <= hi) ? 1.0f : 0.0f;
    *d2 = 0.0f;
}

static dsc_status clamp_infer(dsc_graph *g, dsc_node *n)
{
    if (isnan(n->attr.f[0]) || isnan(n->attr.f[1]))
        return DSC_ERROR(DSC_ERR_INVALID, "clamp: bounds must not be NaN (lo %g, hi %g); use -INFINITY/INFINITY "
                                          "for no bound",
                         (double)n->attr.f[0], (double)n->attr.f[1]);
    return dsc_unary_infer(g, n);
}

/* ---- smooth functions ---- */

static void exp_eval(const dsc_node *n, float x, float *y, float *d1, float *d2)
{
    (void)n;
    float e = expf(x);
    *y = *d1 = *d2 = e;
}

static void log_eval(const dsc_node *n, float x, float *y, float *d1, float *d2)
{
    (void)n;
    float r = 1.0f / x;
    *y = logf(x);
    *d1 = r;
    *d2 = -r * r;
}

static void sqrt_eval(const dsc_node *n, float x, float *y, float *d1, float *d2)
{
    (void)n;
    float s = sqrtf(x);
    *y = s;
    *d1 = 0.5f / s;
    *d2 = -0.25f / (x * s);
}

static void square_eval(const dsc_node *n, float x, float *y, float *d1, float *d2)
{
    (void)n;
    *y = x * x;
    *d1 = 2.0f * x;
    *d2 = 2.0f;
}

/* torch pow_backward: p x^(p-1), masked to 0 where p == 0 (so 0^(-1) never appears). */
static void pow_scalar_eval(const dsc_node *n, float x, float *y, float *d1, float *d2)
{
    float p = n->attr.f[0];
    *y = powf(x, p);
    *d1 = p == 0.0f ? 0.0f : p * powf(x, p - 1.0f);
    *d2 = (p == 0.0f || p == 1.0f) ? 0.0f : p * (p - 1.0f) * powf(x, p - 2.0f);
}

static const dsc_unary_def NEG = {neg_eval}, ABS = {abs_eval}, CLAMP = {clamp_eval}, EXP = {exp_eval},
                           LOG = {log_eval}, SQRT = {sqrt_eval}, SQUARE = {square_eval},
                           POW_SCALAR = {pow_scalar_eval};

static const dsc_op OP_NEG = DSC_UNARY_OP("neg", NULL);
static const dsc_op OP_ABS = DSC_UNARY_OP("abs", NULL);
static const dsc_op OP_CLAMP = {"clamp", clamp_infer, dsc_unary_forward, dsc_unary_vjp, dsc_unary_jvp, NULL,
                                NULL, NULL, 0};
static const dsc_op OP_EXP = DSC_UNARY_OP("exp", dsc_unary_vjp_rop);
static const dsc_op OP_LOG = DSC_UNARY_OP("log", dsc_unary_vjp_rop);
static const dsc_op OP_SQRT = DSC_UNARY_OP("sqrt", dsc_unary_vjp_rop);
static const dsc_op OP_SQUARE = DSC_UNARY_OP("square", dsc_unary_vjp_rop);
static const dsc_op OP_POW_SCALAR = DSC_UNARY_OP("pow_scalar", dsc_unary_vjp_rop);

dsc_id dsc_neg(dsc_graph *g, dsc_id a) { return dsc_unary_add(g, &OP_NEG, &NEG, a, NULL); }
dsc_id dsc_abs(dsc_graph *g, dsc_id a) { return dsc_unary_add(g, &OP_ABS, &ABS, a, NULL); }
dsc_id dsc_exp(dsc_graph *g, dsc_id a) { return dsc_unary_add(g, &OP_EXP, &EXP, a, NULL); }
dsc_id dsc_log(dsc_graph *g, dsc_id a) { return dsc_unary_add(g, &OP_LOG, &LOG, a, NULL); }
dsc_id dsc_sqrt(dsc_graph *g, dsc_id a) { return dsc_unary_add(g, &OP_SQRT, &SQRT, a, NULL); }
dsc_id dsc_square(dsc_graph *g, dsc_id a) { return dsc_unary_add(g, &OP_SQUARE, &SQUARE, a, NULL); }

dsc_id dsc_clamp(dsc_graph *g, dsc_id a, float lo, float hi)
{
    dsc_attr at;
    memset(&at, 0, sizeof at);
    at.f[0] = lo;
    at.f[1] = hi;
    return dsc_unary_add(g, &OP_CLAMP, &CLAMP, a, &at);
}

dsc_id dsc_pow_scalar(dsc_graph *g, dsc_id a, float p)
{
    dsc_attr at;
    memset(&at, 0, sizeof at);
    at.f[0] = p;
    return dsc_unary_add(g, &OP_POW_SCALAR, &POW_SCALAR, a, &at);
}
