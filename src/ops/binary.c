/* Broadcasting binary ops: add, sub, mul, div, pow.
 *
 * For c = f(a, b) with partials f_a, f_b and second partials f_aa, f_ab, f_bb:
 *   VJP     a.grad += sum_bcast g f_a,             b.grad += sum_bcast g f_b
 *   JVP     c.tangent = f_a a.tangent + f_b b.tangent
 *   R-op    a.grad_tangent += sum_bcast g (f_aa a.tangent + f_ab b.tangent)
 *           b.grad_tangent += sum_bcast g (f_ab a.tangent + f_bb b.tangent)
 * (the engine adds the VJP of the cotangent's tangent; see graph_internal.h).
 *   add: f_a = 1, f_b = 1;  sub: 1, -1;  mul: b, a, f_ab = 1;
 *   div: 1/b, -a/b^2, f_ab = -1/b^2, f_bb = 2a/b^3;
 *   pow: b a^(b-1), a^b ln a, f_aa = b(b-1)a^(b-2), f_ab = a^(b-1)(1 + b ln a), f_bb = a^b ln^2 a. */
#include <math.h>
#include <string.h>

#include "descent/ops.h"
#include "ops/broadcast.h"

enum { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_POW };

static inline float bin_f(int op, float a, float b)
{
    switch (op) {
    case BIN_ADD: return a + b;
    case BIN_SUB: return a - b;
    case BIN_MUL: return a * b;
    case BIN_DIV: return a / b;
    default: return powf(a, b);
    }
}

static inline void bin_d1(int op, float a, float b, float *fa, float *fb)
{
    switch (op) {
    case BIN_ADD: *fa = 1.0f; *fb = 1.0f; break;
    case BIN_SUB: *fa = 1.0f; *fb = -1.0f; break;
    case BIN_MUL: *fa = b; *fb = a; break;
    case BIN_DIV: *fa = 1.0f / b; *fb = -a / (b * b); break;
    default:
        *fa = b == 0.0f ? 0.0f : b * powf(a, b - 1.0f);
        *fb = a > 0.0f ? powf(a, b) * logf(a) : 0.0f;
        break;
    }
}

static inline void bin_d2(int op, float a, float b, float *faa, float *fab, float *fbb)
{
    *faa = *fab = *fbb = 0.0f;
    switch (op) {
    case BIN_MUL: *fab = 1.0f; break;
    case BIN_DIV: *fab = -1.0f / (b * b); *fbb = 2.0f * a / (b * b * b); break;
    case BIN_POW: {
        float la = a > 0.0f ? logf(a) : 0.0f;
        *faa = (b == 0.0f || b == 1.0f) ? 0.0f : b * (b - 1.0f) * powf(a, b - 2.0f);
        *fab = a > 0.0f ? powf(a, b - 1.0f) * (1.0f + b * la) : (b == 1.0f ? 1.0f : 0.0f);
        *fbb = a > 0.0f ? powf(a, b) * la * la : 0.0f;
        break;
    }
    default: break;
    }
}

static dsc_status bin_infer(dsc_graph *g, dsc_node *n)
{
    dsc_status s = dsc_shape_broadcast(&dsc_in(g, n, 0)->shape, &dsc_in(g, n, 1)->shape, &n->shape);
    if (s != DSC_OK)
        return DSC_ERROR(s, "%s: %s", n->op->name, dsc_last_error());
    return DSC_OK;
}

#define BIN_CODE(n) ((int)(n)->attr.i[0])

static int same_shape(const dsc_node *a, const dsc_node *b) { return dsc_shape_equal(&a->shape, &b->shape); }

static void bin_forward(dsc_graph *g, dsc_node *n)
{
    const dsc_node *a = dsc_in(g, n, 0), *b = dsc_in(g, n, 1);
    int op = BIN_CODE(n);
    int64_t N = dsc_numel(n);
    float *c = n->value;
    const float *av = a->value, *bv = b->value;
    if (same_shape(a, n) && same_shape(b, n)) {
        switch (op) {
        case BIN_ADD:
#pragma omp parallel for schedule(static) if (N > 32768)
            for (int64_t k = 0; k < N; k++)
                c[k] = av[k] + bv[k];
            return;
        case BIN_MUL:
#pragma omp parallel for schedule(static) if (N > 32768)
            for (int64_t k = 0; k < N; k++)
                c[k] = av[k] * bv[k];
            return;
        default:
#pragma omp parallel for schedule(static) if (N > 32768)
            for (int64_t k = 0; k < N; k++)
                c[k] = bin_f(op, av[k], bv[k]);
            return;
        }
    }
    dsc_bcast it;
    dsc_bcast_init(&it, &n->shape, &a->shape, &b->shape, NULL);
    DSC_BCAST_FOR(&it, c[k] = bin_f(op, av[o0], bv[o1]));
}

static void bin_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *a = dsc_in(g, n, 0), *b = dsc_in(g, n, 1);
    int op = BIN_CODE(n);
    const float *av = a->value, *bv = b->value, *gr = n->grad;
    float *ga = a->grad, *gb = b->grad;
    int64_t N = dsc_numel(n);
    if (same_shape(a, n) && same_shape(b, n) && a != b) {
#pragma omp parallel for schedule(static) if (N > 32768)
        for (int64_t k = 0; k < N; k++) {
            float fa, fb;
            bin_d1(op, av[k], bv[k], &fa, &fb);
            if (ga)
                ga[k] += gr[k] * fa;
            if (gb)
                gb[k] += gr[k] * fb;
        }
        return;
    }
    dsc_bcast it;
    dsc_bcast_init(&it, &n->shape, &a->shape, &b->shape, NULL);
    DSC_BCAST_FOR(&it, {
        float fa, fb;
        bin_d1(op, av[o0], bv[o1], &fa, &fb);
        if (ga)
            ga[o0] += gr[k] * fa;
        if (gb)
            gb[o1] += gr[k] * fb;
    });
}

static void bin_jvp(dsc_graph *g, dsc_node *n)
{
    const dsc_node *a = dsc_in(g, n, 0), *b = dsc_in(g, n, 1);
    int op = BIN_CODE(n);
    const float *av = a->value, *bv = b->value, *ta = a->tangent, *tb = b->tangent;
    float *tc = n->tangent;
    dsc_bcast it;
    dsc_bcast_init(&it, &n->shape, &a->shape, &b->shape, NULL);
    DSC_BCAST_FOR(&it, {
        float fa, fb;
        bin_d1(op, av[o0], bv[o1], &fa, &fb);
        tc[k] = fa * ta[o0] + fb * tb[o1];
    });
}

static void bin_vjp_rop(dsc_graph *g, dsc_node *n)
{
    dsc_node *a = dsc_in(g, n, 0), *b = dsc_in(g, n, 1);
    int op = BIN_CODE(n);
    const float *av = a->value, *bv = b->value, *ta = a->tangent, *tb = b->tangent, *gr = n->grad;
    float *ra = a->grad_tangent, *rb = b->grad_tangent;
    dsc_bcast it;
    dsc_bcast_init(&it, &n->shape, &a->shape, &b->shape, NULL);
    DSC_BCAST_FOR(&it, {
        float faa, fab, fbb;
        bin_d2(op, av[o0], bv[o1], &faa, &fab, &fbb);
        if (ra)
            ra[o0] += gr[k] * (faa * ta[o0] + fab * tb[o1]);
        if (rb)
            rb[o1] += gr[k] * (fab * ta[o0] + fbb * tb[o1]);
    });
}

/* Per-example gradient for a parameter operand broadcast over the batch (a bias added to
 * or a scale multiplied with activations [B, ...]). Example b owns output rows
 * [b*R, (b+1)*R) where R = numel / B. */
static void bin_per_example(dsc_graph *g, dsc_node *n, int input, float *out, size_t ld)
{
    const dsc_node *a = dsc_in(g, n, 0), *b = dsc_in(g, n, 1);
    int op = BIN_CODE(n);
    const float *av = a->value, *bv = b->value, *gr = n->grad;
    int64_t B = n->shape.dim[0];
    dsc_bcast it;
    dsc_bcast_init(&it, &n->shape, &a->shape, &b->shape, NULL);
    int64_t R = it.n / B;
    DSC_BCAST_FOR(&it, {
        float fa, fb;
        bin_d1(op, av[o0], bv[o1], &fa, &fb);
        size_t row = (size_t)(k / R) * ld;
        if (input == 0)
            out[row + (size_t)o0] += gr[k] * fa;
        else
            out[row + (size_t)o1] += gr[k] * fb;
    });
}

static const dsc_op OP_ADD = {"add", bin_infer, bin_forward, bin_vjp, bin_jvp, NULL, bin_per_example, NULL, 0};
static const dsc_op OP_SUB = {"sub", bin_infer, bin_forward, bin_vjp, bin_jvp, NULL, bin_per_example, NULL, 0};
static const dsc_op OP_MUL = {"mul", bin_infer, bin_forward, bin_vjp, bin_jvp, bin_vjp_rop, bin_per_example, NULL, 0};
static const dsc_op OP_DIV = {"div", bin_infer, bin_forward, bin_vjp, bin_jvp, bin_vjp_rop, bin_per_example, NULL, 0};
static const dsc_op OP_POW = {"pow", bin_infer, bin_forward, bin_vjp, bin_jvp, bin_vjp_rop, bin_per_example, NULL, 0};

static dsc_id binary(dsc_graph *g, const dsc_op *op, int code, dsc_id a, dsc_id b)
{
    dsc_attr at;
    memset(&at, 0, sizeof at);
    at.i[0] = code;
    dsc_id in[2] = {a, b};
    return dsc_graph_add_op(g, op, 2, in, &at);
}

dsc_id dsc_add(dsc_graph *g, dsc_id a, dsc_id b) { return binary(g, &OP_ADD, BIN_ADD, a, b); }
dsc_id dsc_sub(dsc_graph *g, dsc_id a, dsc_id b) { return binary(g, &OP_SUB, BIN_SUB, a, b); }
dsc_id dsc_mul(dsc_graph *g, dsc_id a, dsc_id b) { return binary(g, &OP_MUL, BIN_MUL, a, b); }
dsc_id dsc_div(dsc_graph *g, dsc_id a, dsc_id b) { return binary(g, &OP_DIV, BIN_DIV, a, b); }
dsc_id dsc_pow(dsc_graph *g, dsc_id a, dsc_id b) { return binary(g, &OP_POW, BIN_POW, a, b); }
