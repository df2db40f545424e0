/* Embedding lookup (torch.nn.functional.embedding without padding_idx / max_norm).
 *
 * indices (floats holding integers, any shape) and weight [num, dim] -> y [..., dim],
 *   y[i, :] = weight[idx_i, :].
 * An index that is not an integer in [0, num) cannot be looked up: its row of y is zeros and
 * the problem is reported through dsc_graph_run_error, so dsc_graph_forward returns
 * DSC_ERR_RANGE naming the index and its position (torch raises IndexError).
 * VJP weight.grad[idx_i, :] += y.grad[i, :] (scatter-add; columns split over threads, rows
 * in order, so repeated indices always sum in the same order). Indices get no gradient.
 * JVP y'[i, :] = weight'[idx_i, :]. Linear in the weight: no R-op term.
 * Per-example: example b's rows scatter into its own row of the output. */
#include <math.h>
#include <string.h>

#include "descent/ops.h"
#include "autodiff/graph_internal.h"

#define EMB_PAR_MIN 32768
#define EMB_COLS 64

static dsc_status emb_infer(dsc_graph *g, dsc_node *n)
{
    const dsc_node *ix = dsc_in(g, n, 0), *w = dsc_in(g, n, 1);
    char b[96], b2[96];
    if (w->shape.ndim != 2)
        return DSC_ERROR(DSC_ERR_SHAPE, "embedding: weight %s must be 2-d [num, dim]",
                         dsc_shape_str(&w->shape, b, sizeof b));
    if (ix->shape.ndim + 1 > DSC_MAX_DIMS)
        return DSC_ERROR(DSC_ERR_SHAPE, "embedding: indices %s have too many dims (the output adds one; at most %d)",
                         dsc_shape_str(&ix->shape, b, sizeof b), DSC_MAX_DIMS);
    if (w->shape.dim[0] > 16777216)
        return DSC_ERROR(DSC_ERR_SHAPE, "embedding: weight %s has more rows than float indices can address (2^24)",
                         dsc_shape_str(&w->shape, b, sizeof b));
    if (w->has_batch)
        return DSC_ERROR(DSC_ERR_SHAPE, "embedding: weight %s must not depend on the batch (indices %s)",
                         dsc_shape_str(&w->shape, b, sizeof b), dsc_shape_str(&ix->shape, b2, sizeof b2));
    n->shape = ix->shape;
    n->shape.dim[n->shape.ndim++] = w->shape.dim[1];
    return DSC_OK;
}

/* Row of weight for index value v, or -1 when v is not an integer in [0, num). */
static inline int64_t emb_row(float v, int64_t num)
{
    if (!(v >= 0.0f && v < (float)num) || v != floorf(v))
        return -1;
    return (int64_t)v;
}

static void emb_gather(const float *idx, int64_t R, const float *w, int64_t num, int64_t D, float *y, int64_t *bad)
{
    int64_t first = R;
#pragma omp parallel for schedule(static) reduction(min : first) if (R * D > EMB_PAR_MIN)
    for (int64_t i = 0; i < R; i++) {
        const int64_t k = emb_row(idx[i], num);
        if (k < 0) {
            memset(y + i * D, 0, (size_t)D * sizeof(float));
            if (i < first)
                first = i;
        } else {
            memcpy(y + i * D, w + k * D, (size_t)D * sizeof(float));
        }
    }
    *bad = first < R ? first : -1;
}

static void emb_forward(dsc_graph *g, dsc_node *n)
{
    const dsc_node *ix = dsc_in(g, n, 0), *w = dsc_in(g, n, 1);
    const int64_t R = dsc_numel(ix), num = w->shape.dim[0], D = w->shape.dim[1];
    int64_t bad;
    emb_gather(ix->value, R, w->value, num, D, n->value, &bad);
    if (bad >= 0) {
        char b[96];
        dsc_graph_run_error(g, DSC_ERR_RANGE,
                            "embedding '%s': index %g at position %lld of indices %s is not an integer in [0, %lld)",
                            n->name, (double)ix->value[bad], (long long)bad, dsc_shape_str(&ix->shape, b, sizeof b),
                            (long long)num);
    }
}

static void emb_vjp(dsc_graph *g, dsc_node *n)
{
    const dsc_node *ix = dsc_in(g, n, 0);
    dsc_node *w = dsc_in(g, n, 1);
    if (!w->grad)
        return;
    const int64_t R = dsc_numel(ix), num = w->shape.dim[0], D = w->shape.dim[1];
    const float *idx = ix->value, *gy = n->grad;
    float *gw = w->grad;
    const int64_t chunks = (D + EMB_COLS - 1) / EMB_COLS;
#pragma omp parallel for schedule(static) if (R * D > EMB_PAR_MIN && chunks > 1)
    for (int64_t ch = 0; ch < chunks; ch++) {
        const int64_t j0 = ch * EMB_COLS, j1 = j0 + EMB_COLS < D ? j0 + EMB_COLS : D;
        for (int64_t i = 0; i < R; i++) {
            const int64_t k = emb_row(idx[i], num);
            if (k < 0)
                continue;
            float *dst = gw + k * D;
            const float *src = gy + i * D;
            for (int64_t j = j0; j < j1; j++)
                dst[j] += src[j];
        }
    }
}

static void emb_jvp(dsc_graph *g, dsc_node *n)
{
    const dsc_node *ix = dsc_in(g, n, 0), *w = dsc_in(g, n, 1);
    const int64_t R = dsc_numel(ix), num = w->shape.dim[0], D = w->shape.dim[1];
    int64_t bad;
    emb_gather(ix->value, R, w->tangent, num, D, n->tangent, &bad);
}

static void emb_per_example(dsc_graph *g, dsc_node *n, int input, float *out, size_t ld)
{
    if (input != 1)
        return;
    const dsc_node *ix = dsc_in(g, n, 0), *w = dsc_in(g, n, 1);
    const int64_t R = dsc_numel(ix), num = w->shape.dim[0], D = w->shape.dim[1];
    const int64_t B = ix->shape.dim[0], Rb = R / B;
    const float *idx = ix->value, *gy = n->grad;
#pragma omp parallel for schedule(static) if (R * D > EMB_PAR_MIN)
    for (int64_t b = 0; b < B; b++) {
        float *o = out + (size_t)b * ld;
        for (int64_t i = b * Rb; i < (b + 1) * Rb; i++) {
            const int64_t k = emb_row(idx[i], num);
            if (k < 0)
                continue;
            for (int64_t j = 0; j < D; j++)
                o[k * D + j] += gy[i * D + j];
        }
    }
}

static const dsc_op OP_EMBEDDING = {"embedding", emb_infer, emb_forward, emb_vjp, emb_jvp, NULL, emb_per_example,
                                    NULL, 0};

dsc_id dsc_embedding(dsc_graph *g, dsc_id indices, dsc_id weight)
{
    dsc_id in[2] = {indices, weight};
    return dsc_graph_add_op(g, &OP_EMBEDDING, 2, in, NULL);
}
