/* Inverted dropout (torch.nn.functional.dropout).
 *
 * Train mode: y = x m with m_i = 1/(1-p) when u_i >= p, else 0, where u_i is the uniform
 * draw dsc_rng_uniform_at(key, node id, i) of the counter-based generator (Philox). The key
 * mixes the graph seed and forward counter, so the mask is a pure function of (seed, counter,
 * node, element): a gradient-checkpointing recompute or a gradcheck evaluation at the same
 * counter sees the same mask, and the thread count cannot change it. m is saved in n->aux.
 * Eval mode (or p = 0 in either mode gives m = 1): y = x.
 * Given the mask the op is linear: VJP x.grad += m y.grad, JVP y' = m x'; no R-op term. */
#include <string.h>

#include "descent/ops.h"
#include "autodiff/graph_internal.h"
#include "descent/rng.h"

#define DROPOUT_PAR_MIN 32768

/* splitmix64 finalizer: spreads (seed, counter) over the whole key space. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static dsc_status dropout_infer(dsc_graph *g, dsc_node *n)
{
    float p = n->attr.f[0];
    if (!(p >= 0.0f && p < 1.0f))
        return DSC_ERROR(DSC_ERR_RANGE, "dropout: p = %g must be in [0, 1)", (double)p);
    n->shape = dsc_in(g, n, 0)->shape;
    n->aux_size = dsc_numel(n) + 1; /* mask, then a flag: 1 when the mask was applied */
    return DSC_OK;
}

static void dropout_forward(dsc_graph *g, dsc_node *n)
{
    const float *x = dsc_in(g, n, 0)->value;
    float *y = n->value, *mask = n->aux;
    const int64_t N = dsc_numel(n);
    const float p = n->attr.f[0];
    if (!g->training) {
        mask[N] = 0.0f;
        memcpy(y, x, (size_t)N * sizeof(float));
        return;
    }
    mask[N] = 1.0f;
    const float scale = 1.0f / (1.0f - p);
    const uint64_t key = mix64(g->seed ^ mix64(g->forward_counter + 0x9E3779B97F4A7C15ull));
    const uint64_t stream = (uint64_t)(n - g->nodes);
    const int64_t blocks = (N + 3) / 4;
    /* One Philox block gives the draws of 4 consecutive elements: element i uses lane i & 3
     * of block i >> 2, exactly as dsc_rng_uniform_at(key, stream, i). */
#pragma omp parallel for schedule(static) if (N > DROPOUT_PAR_MIN)
    for (int64_t b = 0; b < blocks; b++) {
        uint32_t o[4];
        dsc_philox4x32(key, (uint64_t)b, stream, o);
        for (int j = 0; j < 4; j++) {
            const int64_t i = 4 * b + j;
            if (i >= N)
                break;
            const float u = (float)(o[j] >> 8) * (1.0f / 16777216.0f);
            const float m = u >= p ? scale : 0.0f;
            mask[i] = m;
            y[i] = x[i] * m;
        }
    }
}

static void dropout_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *xn = dsc_in(g, n, 0);
    if (!xn->grad)
        return;
    const int64_t N = dsc_numel(n);
    const float *gy = n->grad, *mask = n->aux;
    float *gx = xn->grad;
    if (mask[N] == 0.0f) {
#pragma omp parallel for schedule(static) if (N > DROPOUT_PAR_MIN)
        for (int64_t i = 0; i < N; i++)
            gx[i] += gy[i];
        return;
    }
#pragma omp parallel for schedule(static) if (N > DROPOUT_PAR_MIN)
    for (int64_t i = 0; i < N; i++)
        gx[i] += gy[i] * mask[i];
}

static void dropout_jvp(dsc_graph *g, dsc_node *n)
{
    const float *tx = dsc_in(g, n, 0)->tangent, *mask = n->aux;
    float *ty = n->tangent;
    const int64_t N = dsc_numel(n);
    if (mask[N] == 0.0f) {
        memcpy(ty, tx, (size_t)N * sizeof(float));
        return;
    }
#pragma omp parallel for schedule(static) if (N > DROPOUT_PAR_MIN)
    for (int64_t i = 0; i < N; i++)
        ty[i] = tx[i] * mask[i];
}

static const dsc_op OP_DROPOUT = {"dropout", dropout_infer, dropout_forward, dropout_vjp, dropout_jvp, NULL, NULL,
                                  NULL, DSC_OP_RANDOM};

dsc_id dsc_dropout(dsc_graph *g, dsc_id x, float p)
{
    dsc_attr a;
    memset(&a, 0, sizeof a);
    a.f[0] = p;
    return dsc_graph_add_op(g, &OP_DROPOUT, 1, &x, &a);
}
