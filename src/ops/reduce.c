/* Reductions over axes: sum, mean (and the reduction helpers other reductions share).
 *
 * sum:  y[j] = sum_{i in fiber j} x[i];  VJP x.grad[i] += y.grad[j];  JVP y' = sum x'.
 * mean: sum / count. Both are linear (no R-op term).
 * Summation runs over each output fiber in index order, so results do not depend on the
 * number of threads (threads split output elements, never a fiber). */
#include <string.h>

#include "descent/ops.h"
#include "ops/reduce_common.h"

dsc_status dsc_reduce_plan(dsc_node *n, const dsc_shape *in, int naxes, const int *axes, int keepdim)
{
    uint32_t mask = 0;
    if (naxes == 0) {
        mask = (1u << in->ndim) - 1u;
    } else {
        for (int k = 0; k < naxes; k++) {
            int a = dsc_axis(axes[k], in->ndim);
            if (a < 0)
                return DSC_ERROR(DSC_ERR_SHAPE, "%s: axis %d is out of range for a %d-d input", n->op->name, axes[k],
                                 in->ndim);
            if (mask & (1u << a))
                return DSC_ERROR(DSC_ERR_SHAPE, "%s: axis %d repeated", n->op->name, axes[k]);
            mask |= 1u << a;
        }
    }
    n->attr.i[0] = mask;
    n->attr.i[1] = keepdim;
    dsc_shape o;
    memset(&o, 0, sizeof o);
    for (int d = 0; d < in->ndim; d++) {
        if (mask & (1u << d)) {
            if (keepdim)
                o.dim[o.ndim++] = 1;
        } else {
            o.dim[o.ndim++] = in->dim[d];
        }
    }
    n->shape = o;
    return DSC_OK;
}

void dsc_reduce_layout(const dsc_shape *in, uint32_t mask, dsc_reduce_layout_t *L)
{
    /* Output strides aligned with the input's dims (0 on reduced dims). */
    int64_t st = 1;
    for (int d = in->ndim - 1; d >= 0; d--) {
        if (mask & (1u << d)) {
            L->ostride[d] = 0;
        } else {
            L->ostride[d] = st;
            st *= in->dim[d];
        }
    }
    L->nd = in->ndim;
    for (int d = 0; d < in->ndim; d++)
        L->dim[d] = in->dim[d];
    L->n_in = dsc_shape_numel(in);
    L->n_out = st;
    L->count = L->n_out ? L->n_in / L->n_out : 0;
}

/* y = scale * sum over the fibre; sequential over the input (fixed order). */
static void sum_kernel(const dsc_reduce_layout_t *L, const float *x, float *y, float scale)
{
    memset(y, 0, (size_t)L->n_out * sizeof(float));
    DSC_REDUCE_FOR(L, y[o] += x[i]);
    if (scale != 1.0f)
        for (int64_t j = 0; j < L->n_out; j++)
            y[j] *= scale;
}

static float mean_scale(const dsc_node *n, const dsc_reduce_layout_t *L)
{
    return n->attr.i[2] ? 1.0f / (float)L->count : 1.0f;
}

static dsc_status sum_infer(dsc_graph *g, dsc_node *n)
{
    int axes[DSC_MAX_DIMS], na = 0;
    uint32_t mask = (uint32_t)n->attr.i[3];
    for (int d = 0; d < DSC_MAX_DIMS; d++)
        if (mask & (1u << d))
            axes[na++] = d;
    if (n->attr.i[4] == 0)
        na = 0; /* all axes */
    return dsc_reduce_plan(n, &dsc_in(g, n, 0)->shape, na, axes, (int)n->attr.i[1]);
}

static void sum_forward(dsc_graph *g, dsc_node *n)
{
    const dsc_node *x = dsc_in(g, n, 0);
    dsc_reduce_layout_t L;
    dsc_reduce_layout(&x->shape, (uint32_t)n->attr.i[0], &L);
    sum_kernel(&L, x->value, n->value, mean_scale(n, &L));
}

static void sum_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *x = dsc_in(g, n, 0);
    if (!x->grad)
        return;
    dsc_reduce_layout_t L;
    dsc_reduce_layout(&x->shape, (uint32_t)n->attr.i[0], &L);
    float s = mean_scale(n, &L);
    const float *gy = n->grad;
    float *gx = x->grad;
    DSC_REDUCE_FOR(&L, gx[i] += s * gy[o]);
}

static void sum_jvp(dsc_graph *g, dsc_node *n)
{
    const dsc_node *x = dsc_in(g, n, 0);
    dsc_reduce_layout_t L;
    dsc_reduce_layout(&x->shape, (uint32_t)n->attr.i[0], &L);
    sum_kernel(&L, x->tangent, n->tangent, mean_scale(n, &L));
}

static const dsc_op OP_SUM = {"sum", sum_infer, sum_forward, sum_vjp, sum_jvp, NULL, NULL, NULL, 0};
static const dsc_op OP_MEAN = {"mean", sum_infer, sum_forward, sum_vjp, sum_jvp, NULL, NULL, NULL, 0};

static dsc_id sum_like(dsc_graph *g, const dsc_op *op, int is_mean, dsc_id x, int naxes, const int *axes,
                       int keepdim)
{
    dsc_attr a;
    memset(&a, 0, sizeof a);
    if (g->status != DSC_OK)
        return -1;
    if (x < 0 || x >= g->n_nodes)
        return dsc_graph_fail(g, DSC_ERR_INVALID, "%s: invalid input", op->name);
    int nd = g->nodes[x].shape.ndim;
    uint32_t mask = 0;
    for (int k = 0; k < naxes; k++) {
        int ax = dsc_axis(axes[k], nd);
        if (ax < 0)
            return dsc_graph_fail(g, DSC_ERR_SHAPE, "%s: axis %d is out of range for a %d-d input", op->name,
                                  axes[k], nd);
        mask |= 1u << ax;
    }
    a.i[1] = keepdim;
    a.i[2] = is_mean;
    a.i[3] = mask;
    a.i[4] = naxes;
    return dsc_graph_add_op(g, op, 1, &x, &a);
}

dsc_id dsc_sum(dsc_graph *g, dsc_id x, int naxes, const int *axes, int keepdim)
{
    return sum_like(g, &OP_SUM, 0, x, naxes, axes, keepdim);
}

dsc_id dsc_mean(dsc_graph *g, dsc_id x, int naxes, const int *axes, int keepdim)
{
    return sum_like(g, &OP_MEAN, 1, x, naxes, axes, keepdim);
}
