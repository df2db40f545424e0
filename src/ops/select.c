/* Selection ops: where(cond, a, b) and masked_fill(a, mask, value), broadcasting as torch.
 *
 *   where:       y = cond != 0 ? a : b
 *                VJP  a.grad += sum_bcast g [cond != 0],  b.grad += sum_bcast g [cond == 0]
 *                JVP  y' = cond != 0 ? a' : b'
 *   masked_fill: y = mask != 0 ? value : a
 *                VJP  a.grad += sum_bcast g [mask == 0];  JVP y' = mask != 0 ? 0 : a'
 * cond and mask are 0/1 masks and receive no gradient (torch: bool tensors). Both ops are
 * linear in their differentiable operands for a fixed mask, so there is no R-op term.
 * The output shape is the broadcast of all operands (torch's out-of-place masked_fill also
 * broadcasts a against the mask). Broadcast reductions in the VJP run in a fixed sequential
 * order; same-shape operands take a parallel path (independent outputs). */
#include <string.h>

#include "descent/ops.h"
#include "ops/broadcast.h"

#define PAR_MIN 32768

static dsc_status where_infer(dsc_graph *g, dsc_node *n)
{
    const dsc_shape *c = &dsc_in(g, n, 0)->shape, *a = &dsc_in(g, n, 1)->shape, *b = &dsc_in(g, n, 2)->shape;
    dsc_shape t;
    if (dsc_shape_broadcast(c, a, &t) != DSC_OK || dsc_shape_broadcast(&t, b, &n->shape) != DSC_OK) {
        char s0[96], s1[96], s2[96];
        return DSC_ERROR(DSC_ERR_SHAPE, "where: cannot broadcast cond %s, a %s and b %s together",
                         dsc_shape_str(c, s0, sizeof s0), dsc_shape_str(a, s1, sizeof s1),
                         dsc_shape_str(b, s2, sizeof s2));
    }
    return DSC_OK;
}

static int all_same(dsc_graph *g, const dsc_node *n)
{
    for (int i = 0; i < n->n_in; i++)
        if (!dsc_shape_equal(&dsc_in(g, n, i)->shape, &n->shape))
            return 0;
    return 1;
}

static void where_forward(dsc_graph *g, dsc_node *n)
{
    const float *c = dsc_in(g, n, 0)->value, *a = dsc_in(g, n, 1)->value, *b = dsc_in(g, n, 2)->value;
    float *y = n->value;
    int64_t N = dsc_numel(n);
    if (all_same(g, n)) {
#pragma omp parallel for schedule(static) if (N > PAR_MIN)
        for (int64_t k = 0; k < N; k++)
            y[k] = c[k] != 0.0f ? a[k] : b[k];
        return;
    }
    dsc_bcast it;
    dsc_bcast_init(&it, &n->shape, &dsc_in(g, n, 0)->shape, &dsc_in(g, n, 1)->shape, &dsc_in(g, n, 2)->shape);
    DSC_BCAST_FOR(&it, y[k] = c[o0] != 0.0f ? a[o1] : b[o2]);
}

static void where_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *an = dsc_in(g, n, 1), *bn = dsc_in(g, n, 2);
    const float *c = dsc_in(g, n, 0)->value, *gy = n->grad;
    float *ga = an->grad, *gb = bn->grad;
    if (!ga && !gb)
        return;
    int64_t N = dsc_numel(n);
    if (all_same(g, n) && an != bn) {
#pragma omp parallel for schedule(static) if (N > PAR_MIN)
        for (int64_t k = 0; k < N; k++) {
            int on = c[k] != 0.0f;
            if (ga)
                ga[k] += on ? gy[k] : 0.0f;
            if (gb)
                gb[k] += on ? 0.0f : gy[k];
        }
        return;
    }
    dsc_bcast it;
    dsc_bcast_init(&it, &n->shape, &dsc_in(g, n, 0)->shape, &an->shape, &bn->shape);
    DSC_BCAST_FOR(&it, {
        if (c[o0] != 0.0f) {
            if (ga)
                ga[o1] += gy[k];
        } else if (gb) {
            gb[o2] += gy[k];
        }
    });
}

static void where_jvp(dsc_graph *g, dsc_node *n)
{
    const float *c = dsc_in(g, n, 0)->value, *ta = dsc_in(g, n, 1)->tangent, *tb = dsc_in(g, n, 2)->tangent;
    float *ty = n->tangent;
    dsc_bcast it;
    dsc_bcast_init(&it, &n->shape, &dsc_in(g, n, 0)->shape, &dsc_in(g, n, 1)->shape, &dsc_in(g, n, 2)->shape);
    DSC_BCAST_FOR(&it, ty[k] = c[o0] != 0.0f ? ta[o1] : tb[o2]);
}

/* ---- masked_fill: inputs (a, mask), value in attr.f[0] ---- */

static dsc_status masked_fill_infer(dsc_graph *g, dsc_node *n)
{
    const dsc_shape *a = &dsc_in(g, n, 0)->shape, *m = &dsc_in(g, n, 1)->shape;
    if (dsc_shape_broadcast(a, m, &n->shape) != DSC_OK) {
        char s0[96], s1[96];
        return DSC_ERROR(DSC_ERR_SHAPE, "masked_fill: cannot broadcast a %s with mask %s",
                         dsc_shape_str(a, s0, sizeof s0), dsc_shape_str(m, s1, sizeof s1));
    }
    return DSC_OK;
}

static void masked_fill_forward(dsc_graph *g, dsc_node *n)
{
    const float *a = dsc_in(g, n, 0)->value, *m = dsc_in(g, n, 1)->value;
    float v = n->attr.f[0], *y = n->value;
    int64_t N = dsc_numel(n);
    if (all_same(g, n)) {
#pragma omp parallel for schedule(static) if (N > PAR_MIN)
        for (int64_t k = 0; k < N; k++)
            y[k] = m[k] != 0.0f ? v : a[k];
        return;
    }
    dsc_bcast it;
    dsc_bcast_init(&it, &n->shape, &dsc_in(g, n, 0)->shape, &dsc_in(g, n, 1)->shape, NULL);
    DSC_BCAST_FOR(&it, (void)o2; y[k] = m[o1] != 0.0f ? v : a[o0]);
}

static void masked_fill_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *an = dsc_in(g, n, 0);
    if (!an->grad)
        return;
    const float *m = dsc_in(g, n, 1)->value, *gy = n->grad;
    float *ga = an->grad;
    int64_t N = dsc_numel(n);
    if (all_same(g, n)) {
#pragma omp parallel for schedule(static) if (N > PAR_MIN)
        for (int64_t k = 0; k < N; k++)
            ga[k] += m[k] != 0.0f ? 0.0f : gy[k];
        return;
    }
    dsc_bcast it;
    dsc_bcast_init(&it, &n->shape, &an->shape, &dsc_in(g, n, 1)->shape, NULL);
    DSC_BCAST_FOR(&it, {
        (void)o2; /* two operands: the third offset is unused (clang -Wunused-but-set-variable) */
        if (m[o1] == 0.0f)
            ga[o0] += gy[k];
    });
}

static void masked_fill_jvp(dsc_graph *g, dsc_node *n)
{
    const float *ta = dsc_in(g, n, 0)->tangent, *m = dsc_in(g, n, 1)->value;
    float *ty = n->tangent;
    dsc_bcast it;
    dsc_bcast_init(&it, &n->shape, &dsc_in(g, n, 0)->shape, &dsc_in(g, n, 1)->shape, NULL);
    DSC_BCAST_FOR(&it, (void)o2; ty[k] = m[o1] != 0.0f ? 0.0f : ta[o0]);
}

static const dsc_op OP_WHERE = {"where", where_infer, where_forward, where_vjp, where_jvp, NULL, NULL, NULL, 0};
static const dsc_op OP_MASKED_FILL = {"masked_fill", masked_fill_infer, masked_fill_forward, masked_fill_vjp,
                                      masked_fill_jvp, NULL, NULL, NULL, 0};

dsc_id dsc_where(dsc_graph *g, dsc_id cond, dsc_id a, dsc_id b)
{
    dsc_id in[3] = {cond, a, b};
    return dsc_graph_add_op(g, &OP_WHERE, 3, in, NULL);
}

dsc_id dsc_masked_fill(dsc_graph *g, dsc_id a, dsc_id mask, float value)
{
    dsc_attr at;
    memset(&at, 0, sizeof at);
    at.f[0] = value;
    dsc_id in[2] = {a, mask};
    return dsc_graph_add_op(g, &OP_MASKED_FILL, 2, in, &at);
}
