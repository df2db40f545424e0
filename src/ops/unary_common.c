/* Kernels of the generic elementwise unary op; see unary_common.h. */
#include "ops/unary_common.h"

#define PAR_MIN 32768

dsc_status dsc_unary_infer(dsc_graph *g, dsc_node *n)
{
    n->shape = dsc_in(g, n, 0)->shape;
    return DSC_OK;
}

void dsc_unary_forward(dsc_graph *g, dsc_node *n)
{
    const dsc_unary_def *u = dsc_unary_of(n);
    const float *x = dsc_in(g, n, 0)->value;
    float *y = n->value;
    int64_t N = dsc_numel(n);
#pragma omp parallel for schedule(static) if (N > PAR_MIN)
    for (int64_t k = 0; k < N; k++) {
        float d1, d2;
        u->eval(n, x[k], &y[k], &d1, &d2);
    }
}

void dsc_unary_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *xn = dsc_in(g, n, 0);
    if (!xn->grad)
        return;
    const dsc_unary_def *u = dsc_unary_of(n);
    const float *x = xn->value, *gy = n->grad;
    float *gx = xn->grad;
    int64_t N = dsc_numel(n);
#pragma omp parallel for schedule(static) if (N > PAR_MIN)
    for (int64_t k = 0; k < N; k++) {
        float y, d1, d2;
        u->eval(n, x[k], &y, &d1, &d2);
        gx[k] += gy[k] * d1;
    }
}

void dsc_unary_jvp(dsc_graph *g, dsc_node *n)
{
    const dsc_node *xn = dsc_in(g, n, 0);
    const dsc_unary_def *u = dsc_unary_of(n);
    const float *x = xn->value, *tx = xn->tangent;
    float *ty = n->tangent;
    int64_t N = dsc_numel(n);
#pragma omp parallel for schedule(static) if (N > PAR_MIN)
    for (int64_t k = 0; k < N; k++) {
        float y, d1, d2;
        u->eval(n, x[k], &y, &d1, &d2);
        ty[k] = d1 * tx[k];
    }
}

void dsc_unary_vjp_rop(dsc_graph *g, dsc_node *n)
{
    dsc_node *xn = dsc_in(g, n, 0);
    if (!xn->grad_tangent)
        return;
    const dsc_unary_def *u = dsc_unary_of(n);
    const float *x = xn->value, *tx = xn->tangent, *gy = n->grad;
    float *r = xn->grad_tangent;
    int64_t N = dsc_numel(n);
#pragma omp parallel for schedule(static) if (N > PAR_MIN)
    for (int64_t k = 0; k < N; k++) {
        float y, d1, d2;
        u->eval(n, x[k], &y, &d1, &d2);
        r[k] += gy[k] * d2 * tx[k];
    }
}

dsc_id dsc_unary_add(dsc_graph *g, const dsc_op *op, const dsc_unary_def *def, dsc_id x, const dsc_attr *attr)
{
    dsc_attr a;
    if (attr)
        a = *attr;
    else
        memset(&a, 0, sizeof a);
    a.i[15] = (int64_t)(uintptr_t)def;
    return dsc_graph_add_op(g, op, 1, &x, &a);
}
