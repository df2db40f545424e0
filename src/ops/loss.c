/* Loss functions (torch 1.13 semantics): mse, l1, huber, smooth_l1, hinge, bce_with_logits,
 * kl_div (one elementwise machinery), cross_entropy (fused log-softmax + NLL) and nll_loss,
 * multi_margin. Formulas, derivatives and conventions: docs/ALGORITHMS.md.
 *
 * Reductions: mean divides by the number of elements (kl_div batchmean: by dim 0; class
 * losses: by the summed weight of the non-ignored targets, see below), sum adds, none keeps
 * the per-element (per-position for class losses) values. Reducing variants carry
 * DSC_OP_LOSS and an example_scale for per-example gradients.
 *
 * Every reduction over elements runs over a fixed number of chunks whose bounds depend only
 * on the element count; each chunk is summed in index order (in double) and the chunk sums
 * are added in chunk order, so the result is the same for any thread count.
 *
 * Invalid class indices (not an integer in [0, C) and not ignore_index) are found by the
 * forward kernel: the loss becomes NaN (for reduction none, the offending positions), their
 * gradient is 0, and dsc_graph_run_error makes dsc_graph_forward (jvp, per-example) return
 * DSC_ERR_RANGE naming the loss, the position and the value. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "autodiff/graph_internal.h"
#include "descent/ops.h"

/* ---- deterministic chunked sums ------------------------------------------------ */

#define LOSS_MAX_CHUNKS 64
#define LOSS_MIN_CHUNK 1024

static int loss_chunks(int64_t n)
{
    int64_t c = (n + LOSS_MIN_CHUNK - 1) / LOSS_MIN_CHUNK;
    if (c > LOSS_MAX_CHUNKS)
        c = LOSS_MAX_CHUNKS;
    return c < 1 ? 1 : (int)c;
}
static inline int64_t chunk_lo(int64_t n, int nch, int c) { return n * c / nch; }

static int valid_reduction(dsc_reduction r) { return r == DSC_REDUCE_MEAN || r == DSC_REDUCE_SUM || r == DSC_REDUCE_NONE; }

/* ================================================================================== *
 * Elementwise losses l(p, t) of prediction p and target t (same shape).               *
 * ================================================================================== */

enum { EL_MSE, EL_L1, EL_HUBER, EL_SMOOTH_L1, EL_HINGE, EL_BCE, EL_KL };

/* attr: i[0] reduction, i[1] kind, i[2] batchmean (kl), i[3] log_target (kl);
 *       f[0] delta (huber) / beta (smooth_l1); arr = pos_weight [last dim] (bce). */
#define EL_RED(n) ((int)(n)->attr.i[0])
#define EL_KIND(n) ((int)(n)->attr.i[1])

static inline float sgnf(float x) { return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : 0.0f; }

/* log(1 + exp(-x)) for any x without overflow: max(-x, 0) + log1p(exp(-|x|)). */
static inline float softplus_neg(float x) { return fmaxf(-x, 0.0f) + log1pf(expf(-fabsf(x))); }
static inline float sigmoidf_(float x)
{
    if (x >= 0.0f)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

/* Value. a: delta / beta / pos_weight of the element's column; lt: kl log_target. */
static inline float el_f(int kind, float p, float t, float a, int lt)
{
    float d = p - t;
    switch (kind) {
    case EL_MSE: return d * d;
    case EL_L1: return fabsf(d);
    case EL_HUBER: { /* torch: |d| < delta ? d^2/2 : delta (|d| - delta/2) */
        float z = fabsf(d);
        return z < a ? 0.5f * d * d : a * (z - 0.5f * a);
    }
    case EL_SMOOTH_L1: { /* torch: |d| < beta ? d^2/(2 beta) : |d| - beta/2; beta = 0: l1 */
        float z = fabsf(d);
        if (a == 0.0f)
            return z;
        return z < a ? 0.5f * d * d / a : z - 0.5f * a;
    }
    case EL_HINGE: return fmaxf(0.0f, 1.0f - t * p);
    case EL_BCE: /* (1 - t) p + (1 + (pw - 1) t) log(1 + exp(-p)) */
        return (1.0f - t) * p + (1.0f + (a - 1.0f) * t) * softplus_neg(p);
    default: /* EL_KL: log_target ? e^t (t - p) : xlogy(t, t) - t p */
        if (lt)
            return expf(t) * (t - p);
        return (t == 0.0f ? 0.0f : t * logf(t)) - t * p;
    }
}

/* First partials l_p, l_t. At kinks the subgradient torch uses. */
static inline void el_d1(int kind, float p, float t, float a, int lt, float *fp, float *ft)
{
    float d = p - t;
    switch (kind) {
    case EL_MSE: *fp = 2.0f * d; *ft = -2.0f * d; return;
    case EL_L1: *fp = sgnf(d); *ft = -*fp; return;
    case EL_HUBER: *fp = d < -a ? -a : d > a ? a : d; *ft = -*fp; return;
    case EL_SMOOTH_L1:
        *fp = a == 0.0f ? sgnf(d) : d <= -a ? -1.0f : d >= a ? 1.0f : d / a;
        *ft = -*fp;
        return;
    case EL_HINGE:
        if (1.0f - t * p > 0.0f) {
            *fp = -t;
            *ft = -p;
        } else {
            *fp = *ft = 0.0f;
        }
        return;
    case EL_BCE: {
        /* l_p = (1 - t) + L (sigma(p) - 1), L = 1 + (pw - 1) t;  l_t = -p + (pw - 1) softplus(-p) */
        float L = 1.0f + (a - 1.0f) * t;
        *fp = (1.0f - t) + L * (sigmoidf_(p) - 1.0f);
        *ft = -p + (a - 1.0f) * softplus_neg(p);
        return;
    }
    default:
        if (lt) {
            float e = expf(t);
            *fp = -e;
            *ft = e * (t - p + 1.0f);
        } else {
            *fp = -t;
            /* d/dt [t log t] = log t + 1; at t = 0 (where the value is defined as 0) we use 0. */
            *ft = (t > 0.0f ? logf(t) + 1.0f : 0.0f) - p;
        }
        return;
    }
}

/* Second partials l_pp, l_pt, l_tt (zero at and beyond kinks of piecewise-linear parts). */
static inline void el_d2(int kind, float p, float t, float a, int lt, float *fpp, float *fpt, float *ftt)
{
    float d = p - t;
    *fpp = *fpt = *ftt = 0.0f;
    switch (kind) {
    case EL_MSE: *fpp = 2.0f; *fpt = -2.0f; *ftt = 2.0f; return;
    case EL_HUBER:
        if (fabsf(d) <= a) {
            *fpp = *ftt = 1.0f;
            *fpt = -1.0f;
        }
        return;
    case EL_SMOOTH_L1:
        if (a > 0.0f && fabsf(d) < a) {
            *fpp = *ftt = 1.0f / a;
            *fpt = -1.0f / a;
        }
        return;
    case EL_HINGE:
        if (1.0f - t * p > 0.0f)
            *fpt = -1.0f;
        return;
    case EL_BCE: {
        float s = sigmoidf_(p), L = 1.0f + (a - 1.0f) * t;
        *fpp = L * s * (1.0f - s);
        *fpt = -1.0f + (a - 1.0f) * (s - 1.0f);
        return;
    }
    case EL_KL:
        if (lt) {
            float e = expf(t);
            *fpt = -e;
            *ftt = e * (t - p + 2.0f);
        } else {
            *fpt = -1.0f;
            *ftt = t > 0.0f ? 1.0f / t : 0.0f;
        }
        return;
    default: return;
    }
}

static const char *el_name(int kind)
{
    static const char *names[] = {"mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "hinge_loss",
                                  "bce_with_logits", "kl_div_loss"};
    return names[kind];
}

static dsc_status el_infer(dsc_graph *g, dsc_node *n)
{
    const dsc_node *p = dsc_in(g, n, 0), *t = dsc_in(g, n, 1);
    const char *name = el_name(EL_KIND(n));
    char b1[96], b2[96];
    if (!dsc_shape_equal(&p->shape, &t->shape))
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: prediction %s and target %s must have the same shape", name,
                         dsc_shape_str(&p->shape, b1, sizeof b1), dsc_shape_str(&t->shape, b2, sizeof b2));
    if (n->attr.arr && (p->shape.ndim < 1 || p->shape.dim[p->shape.ndim - 1] != n->attr.arr_len))
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: pos_weight has %lld entries but logits %s have last dim %lld", name,
                         (long long)n->attr.arr_len, dsc_shape_str(&p->shape, b1, sizeof b1),
                         (long long)(p->shape.ndim ? p->shape.dim[p->shape.ndim - 1] : 0));
    if (EL_KIND(n) == EL_KL && n->attr.i[2] && EL_RED(n) == DSC_REDUCE_MEAN && p->shape.ndim < 1)
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: batchmean needs a batch dimension (input %s)", name,
                         dsc_shape_str(&p->shape, b1, sizeof b1));
    if (EL_RED(n) == DSC_REDUCE_NONE) {
        n->shape = p->shape;
    } else {
        memset(&n->shape, 0, sizeof n->shape);
    }
    return DSC_OK;
}

/* Factor applied to every element's term: 1/numel (mean), 1/dim0 (kl batchmean), 1. */
static float el_norm(dsc_graph *g, const dsc_node *n)
{
    const dsc_node *p = dsc_in(g, n, 0);
    if (EL_RED(n) != DSC_REDUCE_MEAN)
        return 1.0f;
    if (EL_KIND(n) == EL_KL && n->attr.i[2])
        return 1.0f / (float)p->shape.dim[0];
    return 1.0f / (float)dsc_numel(p);
}

/* Column parameter of element k: pos_weight[k % C] for bce, else f[0]. */
#define EL_SETUP(n)                                                                          \
    const dsc_node *P_ = dsc_in(g, n, 0), *T_ = dsc_in(g, n, 1);                             \
    const int kind = EL_KIND(n), lt = (int)(n)->attr.i[3];                                   \
    const float *pv = P_->value, *tv = T_->value, *pw = (n)->attr.arr;                        \
    const float a0 = kind == EL_BCE ? 1.0f : (n)->attr.f[0];                                 \
    const int64_t N = dsc_numel(P_);                                                         \
    const int64_t Ccol = pw ? (int64_t)(n)->attr.arr_len : 1;                                \
    (void)Ccol;                                                                              \
    (void)pw
#define EL_A(k) (pw ? pw[(k) % Ccol] : a0)

static void el_forward(dsc_graph *g, dsc_node *n)
{
    EL_SETUP(n);
    float *y = n->value;
    if (EL_RED(n) == DSC_REDUCE_NONE) {
#pragma omp parallel for schedule(static) if (N > 32768)
        for (int64_t k = 0; k < N; k++)
            y[k] = el_f(kind, pv[k], tv[k], EL_A(k), lt);
        return;
    }
    int nch = loss_chunks(N);
    double part[LOSS_MAX_CHUNKS];
#pragma omp parallel for schedule(static) if (N > 32768)
    for (int c = 0; c < nch; c++) {
        double s = 0.0;
        for (int64_t k = chunk_lo(N, nch, c); k < chunk_lo(N, nch, c + 1); k++)
            s += el_f(kind, pv[k], tv[k], EL_A(k), lt);
        part[c] = s;
    }
    double s = 0.0;
    for (int c = 0; c < nch; c++)
        s += part[c];
    y[0] = (float)(s * el_norm(g, n));
}

static void el_vjp(dsc_graph *g, dsc_node *n)
{
    EL_SETUP(n);
    float *gp = dsc_in(g, n, 0)->grad, *gt = dsc_in(g, n, 1)->grad;
    const float *gr = n->grad;
    const int none = EL_RED(n) == DSC_REDUCE_NONE;
    const float norm = el_norm(g, n);
#pragma omp parallel for schedule(static) if (N > 32768)
    for (int64_t k = 0; k < N; k++) {
        float fp, ft, gk = (none ? gr[k] : gr[0]) * norm;
        el_d1(kind, pv[k], tv[k], EL_A(k), lt, &fp, &ft);
        if (gp)
            gp[k] += gk * fp;
        if (gt)
            gt[k] += gk * ft;
    }
}

static void el_jvp(dsc_graph *g, dsc_node *n)
{
    EL_SETUP(n);
    const float *tp = P_->tangent, *tt = T_->tangent;
    float *ty = n->tangent;
    if (EL_RED(n) == DSC_REDUCE_NONE) {
#pragma omp parallel for schedule(static) if (N > 32768)
        for (int64_t k = 0; k < N; k++) {
            float fp, ft;
            el_d1(kind, pv[k], tv[k], EL_A(k), lt, &fp, &ft);
            ty[k] = fp * tp[k] + ft * tt[k];
        }
        return;
    }
    int nch = loss_chunks(N);
    double part[LOSS_MAX_CHUNKS];
#pragma omp parallel for schedule(static) if (N > 32768)
    for (int c = 0; c < nch; c++) {
        double s = 0.0;
        for (int64_t k = chunk_lo(N, nch, c); k < chunk_lo(N, nch, c + 1); k++) {
            float fp, ft;
            el_d1(kind, pv[k], tv[k], EL_A(k), lt, &fp, &ft);
            s += (double)fp * tp[k] + (double)ft * tt[k];
        }
        part[c] = s;
    }
    double s = 0.0;
    for (int c = 0; c < nch; c++)
        s += part[c];
    ty[0] = (float)(s * el_norm(g, n));
}

static void el_vjp_rop(dsc_graph *g, dsc_node *n)
{
    EL_SETUP(n);
    const float *tp = P_->tangent, *tt = T_->tangent, *gr = n->grad;
    float *rp = P_->grad ? P_->grad_tangent : NULL, *rt = T_->grad ? T_->grad_tangent : NULL;
    const int none = EL_RED(n) == DSC_REDUCE_NONE;
    const float norm = el_norm(g, n);
#pragma omp parallel for schedule(static) if (N > 32768)
    for (int64_t k = 0; k < N; k++) {
        float fpp, fpt, ftt, gk = (none ? gr[k] : gr[0]) * norm;
        el_d2(kind, pv[k], tv[k], EL_A(k), lt, &fpp, &fpt, &ftt);
        if (rp)
            rp[k] += gk * (fpp * tp[k] + fpt * tt[k]);
        if (rt)
            rt[k] += gk * (fpt * tp[k] + ftt * tt[k]);
    }
}

/* Mean: the batch term is (1/numel) l_b (or 1/B for batchmean) while alone it is
 * (B/numel) l_b (1 for batchmean): both give B. Sum: 1. */
static void el_example_scale(dsc_graph *g, dsc_node *n, float *scale)
{
    const dsc_node *p = dsc_in(g, n, 0);
    int64_t B = p->shape.ndim ? p->shape.dim[0] : 1;
    float s = EL_RED(n) == DSC_REDUCE_MEAN ? (float)B : 1.0f;
    for (int64_t b = 0; b < B; b++)
        scale[b] = s;
}

#define EL_OPS(VAR, NAME)                                                                                  \
    static const dsc_op VAR = {NAME, el_infer, el_forward, el_vjp, el_jvp, el_vjp_rop, NULL, el_example_scale, \
                               DSC_OP_LOSS};                                                                \
    static const dsc_op VAR##_NONE = {NAME, el_infer, el_forward, el_vjp, el_jvp, el_vjp_rop, NULL, NULL, 0};
EL_OPS(OP_MSE, "mse_loss")
EL_OPS(OP_L1, "l1_loss")
EL_OPS(OP_HUBER, "huber_loss")
EL_OPS(OP_SMOOTH_L1, "smooth_l1_loss")
EL_OPS(OP_HINGE, "hinge_loss")
EL_OPS(OP_BCE, "bce_with_logits")
EL_OPS(OP_KL, "kl_div_loss")

static dsc_id el_build(dsc_graph *g, const dsc_op *op, const dsc_op *op_none, int kind, dsc_id p, dsc_id t,
                       dsc_reduction r, float a, const float *arr, int64_t arr_len, int batchmean, int log_target)
{
    if (!g || g->status != DSC_OK)
        return -1;
    if (!valid_reduction(r))
        return dsc_graph_fail(g, DSC_ERR_INVALID, "%s: invalid reduction %d", el_name(kind), (int)r);
    dsc_attr at;
    memset(&at, 0, sizeof at);
    at.i[0] = r;
    at.i[1] = kind;
    at.i[2] = batchmean;
    at.i[3] = log_target;
    at.f[0] = a;
    at.arr = (float *)arr;
    at.arr_len = arr ? arr_len : 0;
    dsc_id in[2] = {p, t};
    return dsc_graph_add_op(g, r == DSC_REDUCE_NONE ? op_none : op, 2, in, &at);
}

dsc_id dsc_mse_loss(dsc_graph *g, dsc_id pred, dsc_id target, dsc_reduction r)
{
    return el_build(g, &OP_MSE, &OP_MSE_NONE, EL_MSE, pred, target, r, 0.0f, NULL, 0, 0, 0);
}

dsc_id dsc_l1_loss(dsc_graph *g, dsc_id pred, dsc_id target, dsc_reduction r)
{
    return el_build(g, &OP_L1, &OP_L1_NONE, EL_L1, pred, target, r, 0.0f, NULL, 0, 0, 0);
}

dsc_id dsc_huber_loss(dsc_graph *g, dsc_id pred, dsc_id target, float delta, dsc_reduction r)
{
    if (g && g->status == DSC_OK && !(delta > 0.0f && isfinite(delta)))
        return dsc_graph_fail(g, DSC_ERR_INVALID, "huber_loss: delta must be positive and finite (got %g)",
                              (double)delta);
    return el_build(g, &OP_HUBER, &OP_HUBER_NONE, EL_HUBER, pred, target, r, delta, NULL, 0, 0, 0);
}

dsc_id dsc_smooth_l1_loss(dsc_graph *g, dsc_id pred, dsc_id target, float beta, dsc_reduction r)
{
    if (g && g->status == DSC_OK && !(beta >= 0.0f && isfinite(beta)))
        return dsc_graph_fail(g, DSC_ERR_INVALID, "smooth_l1_loss: beta must be >= 0 and finite (got %g)",
                              (double)beta);
    return el_build(g, &OP_SMOOTH_L1, &OP_SMOOTH_L1_NONE, EL_SMOOTH_L1, pred, target, r, beta, NULL, 0, 0, 0);
}

dsc_id dsc_hinge_loss(dsc_graph *g, dsc_id scores, dsc_id target, dsc_reduction r)
{
    return el_build(g, &OP_HINGE, &OP_HINGE_NONE, EL_HINGE, scores, target, r, 0.0f, NULL, 0, 0, 0);
}

dsc_id dsc_bce_with_logits(dsc_graph *g, dsc_id logits, dsc_id target, const float *pos_weight, dsc_reduction r)
{
    int64_t C = 0;
    if (g && g->status == DSC_OK && pos_weight && logits >= 0 && logits < g->n_nodes) {
        const dsc_shape *s = &g->nodes[logits].shape;
        if (s->ndim < 1 || s->dim[s->ndim - 1] < 1)
            return dsc_graph_fail(g, DSC_ERR_SHAPE, "bce_with_logits: pos_weight needs logits with a last dim");
        C = s->dim[s->ndim - 1];
    }
    return el_build(g, &OP_BCE, &OP_BCE_NONE, EL_BCE, logits, target, r, 1.0f, pos_weight, C, 0, 0);
}

dsc_id dsc_kl_div_loss(dsc_graph *g, dsc_id log_input, dsc_id target, int log_target, int batchmean,
                       dsc_reduction r)
{
    return el_build(g, &OP_KL, &OP_KL_NONE, EL_KL, log_input, target, r, 0.0f, NULL, 0, batchmean ? 1 : 0,
                    log_target ? 1 : 0);
}

/* ================================================================================== *
 * Class losses: cross_entropy (fused log-softmax + NLL) and nll_loss.                  *
 * ================================================================================== */

/* Layout: input [N, C, d...] with S = prod(d...) positions per example; position i = n*S + s
 * holds class c at n*C*S + c*S + s; target [N, d...] has value i at index i.
 *
 * Per valid position i (target y, weight w_y; w = 1 without class weights, W = sum_c w_c),
 * with lse_i = log sum_c exp(x_ic):
 *   nll_i    = w_y (lse_i - x_iy)                    (nll_loss: -w_y x_iy)
 *   smooth_i = sum_c w_c (lse_i - x_ic)              (only with label smoothing eps)
 *   loss     = (1 - eps) sum_i nll_i / D1 + eps/C sum_i smooth_i / D2
 * torch 1.13 (cross_entropy_loss_label_smoothing): mean divides both terms by D1 = D2 = the sum
 * of w_y over the non-ignored positions (their count without class weights); sum/none D = 1.
 * Ignored positions contribute nothing. aux[0] = (1-eps)/D1, aux[1] = eps/C/D2, then the
 * softmax probabilities (cross_entropy only) in the input's layout.
 *
 * attr: i[0] reduction, i[1] ignore_index, i[2] is_nll; f[0] eps; arr = class weights [C]. */
#define CE_RED(n) ((int)(n)->attr.i[0])
#define CE_IGNORE(n) ((float)(n)->attr.i[1])
#define CE_IS_NLL(n) ((n)->attr.i[2] != 0)

typedef struct ce_layout {
    int64_t N, C, S, P; /* P = N*S positions */
} ce_layout;

static ce_layout ce_dims(const dsc_node *x)
{
    ce_layout L;
    L.N = x->shape.dim[0];
    L.C = x->shape.dim[1];
    L.S = 1;
    for (int d = 2; d < x->shape.ndim; d++)
        L.S *= x->shape.dim[d];
    L.P = L.N * L.S;
    return L;
}

static const char *ce_name(const dsc_node *n) { return CE_IS_NLL(n) ? "nll_loss" : "cross_entropy"; }

static dsc_status ce_infer(dsc_graph *g, dsc_node *n)
{
    const dsc_node *x = dsc_in(g, n, 0), *t = dsc_in(g, n, 1);
    const char *name = ce_name(n);
    char b1[96], b2[96];
    dsc_shape_str(&x->shape, b1, sizeof b1);
    dsc_shape_str(&t->shape, b2, sizeof b2);
    if (x->shape.ndim < 2)
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: %s %s must be [N, C] or [N, C, d...]", name,
                         CE_IS_NLL(n) ? "log_probs" : "logits", b1);
    int ok = t->shape.ndim == x->shape.ndim - 1 && t->shape.dim[0] == x->shape.dim[0];
    for (int d = 2; ok && d < x->shape.ndim; d++)
        ok = t->shape.dim[d - 1] == x->shape.dim[d];
    if (!ok) {
        dsc_shape want = x->shape;
        want.ndim = x->shape.ndim - 1;
        for (int d = 1; d < want.ndim; d++)
            want.dim[d] = x->shape.dim[d + 1];
        char b3[96];
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: %s %s need class-index targets %s, got targets %s", name,
                         CE_IS_NLL(n) ? "log_probs" : "logits", b1, dsc_shape_str(&want, b3, sizeof b3), b2);
    }
    if (x->shape.dim[1] < 1)
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: %s %s has no classes", name, CE_IS_NLL(n) ? "log_probs" : "logits", b1);
    if (n->attr.arr && n->attr.arr_len != x->shape.dim[1])
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: %lld class weights for %lld classes", name,
                         (long long)n->attr.arr_len, (long long)x->shape.dim[1]);
    if (CE_RED(n) == DSC_REDUCE_NONE)
        n->shape = t->shape;
    else
        memset(&n->shape, 0, sizeof n->shape);
    n->aux_size = 2 + (CE_IS_NLL(n) ? 0 : dsc_numel(x));
    return DSC_OK;
}

/* Class index of position i: >= 0, -1 if ignored, -2 if invalid. */
static inline int64_t ce_class(float t, float ignore, int64_t C)
{
    if (t == ignore)
        return -1;
    if (!(t >= 0.0f && t < (float)C) || t != floorf(t))
        return -2;
    return (int64_t)t;
}

static void ce_report_bad(dsc_graph *g, dsc_node *n, int64_t pos, float t, int64_t C)
{
    dsc_graph_run_error(g, DSC_ERR_RANGE, "%s '%s': target %g at position %lld is not a class index in [0, %lld) nor "
              "ignore_index %lld; the loss is NaN", ce_name(n), n->name, (double)t, (long long)pos,
              (long long)C, (long long)n->attr.i[1]);
}

/* The row kernels below are branch-free selects and comparisons; GCC if-converts (and so
 * vectorizes) float comparisons only when it may ignore FP exception flags. That changes no
 * value: it allows no reassociation or contraction beyond the default. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math")
#endif

/* exp(x) for x <= 0 (arguments are x - max), written so that the compiler vectorizes the
 * row loops: Cephes' expf (range reduction x = n ln2 + r, |r| <= ln2/2, degree-6 polynomial,
 * relative error about 1 ulp), with exp(x) = 0 below -87.3 (where it would be subnormal;
 * the row's sum is >= 1, so this changes no result beyond rounding) and for x = -inf;
 * exp(NaN) = NaN. */
static inline float exp_nonpos(float x)
{
    float xc = x < -87.3f ? -87.3f : x; /* a NaN passes through ... */
    float xs = xc == xc ? xc : 0.0f;     /* ... but not into the integer conversion */
    float n = floorf(xs * 1.44269504088896341f + 0.5f);
    float r = xs - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float q = 1.9875691500e-4f;
    q = q * r + 1.3981999507e-3f;
    q = q * r + 8.3334519073e-3f;
    q = q * r + 4.1665795894e-2f;
    q = q * r + 1.6666665459e-1f;
    q = q * r + 5.0000001201e-1f;
    q = q * r * r + r + 1.0f;
    union {
        int32_t i;
        float f;
    } scale;
    scale.i = ((int32_t)n + 127) << 23; /* 2^n (n >= -126: a normal float) */
    float e = x < -87.3f ? 0.0f : q * scale.f;
    return xc == xc ? e : xc;
}

/* max of x[0..C), C >= 1. Vectorized as a max reduction, which GCC does only when it may
 * ignore NaN and signed zeros: a NaN logit may or may not win here, and either way the row
 * becomes NaN later (exp(x - m) or the non-finite path); +0/-0 ties give exp(0) = 1 both. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("finite-math-only,no-signed-zeros")
#endif
static float row_max(const float *x, int64_t C)
{
    float m = x[0];
    for (int64_t c = 1; c < C; c++)
        m = x[c] > m ? x[c] : m;
    return m;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

/* Contiguous row (S = 1): p = softmax(x), returns logsumexp(x). Eight running partial
 * sums in a fixed order (vectorizable, same result for any thread count). A NaN
 * logit makes the row NaN (through exp(NaN - m)). */
#define CE_LANES 8
static float ce_row_softmax(const float *x, float *p, int64_t C)
{
    float s8[CE_LANES];
    for (int j = 0; j < CE_LANES; j++)
        s8[j] = 0.0f;
    int64_t C8 = C / CE_LANES * CE_LANES, c;
    float m = row_max(x, C);
    if (!(m < INFINITY && m > -INFINITY)) { /* +inf or all -inf/NaN: libm gives torch's NaN */
        float z = 0.0f;
        for (c = 0; c < C; c++) {
            p[c] = expf(x[c] - m);
            z += p[c];
        }
        for (c = 0; c < C; c++)
            p[c] /= z;
        return m + logf(z);
    }
    for (c = 0; c < C; c++)
        p[c] = exp_nonpos(x[c] - m);
    for (c = 0; c < C8; c += CE_LANES)
        for (int j = 0; j < CE_LANES; j++)
            s8[j] += p[c + j];
    float z = 0.0f;
    for (int j = 0; j < CE_LANES; j++)
        z += s8[j];
    for (c = C8; c < C; c++)
        z += p[c];
    float inv = 1.0f / z;
    for (c = 0; c < C; c++)
        p[c] *= inv;
    return m + logf(z);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

static void ce_forward(dsc_graph *g, dsc_node *n)
{
    const dsc_node *x = dsc_in(g, n, 0), *tn = dsc_in(g, n, 1);
    const ce_layout L = ce_dims(x);
    const int64_t C = L.C, S = L.S;
    const float *X = x->value, *T = tn->value, *w = n->attr.arr;
    const float ignore = CE_IGNORE(n), eps = n->attr.f[0];
    const int nll_only = CE_IS_NLL(n), none = CE_RED(n) == DSC_REDUCE_NONE;
    const int smooth = !nll_only && eps > 0.0f;
    float *prob = n->aux + 2, *y = n->value;
    int nch = loss_chunks(L.P * C);
    if (nch > L.P && L.P > 0)
        nch = (int)L.P;
    double part[LOSS_MAX_CHUNKS][4];
    int64_t bad[LOSS_MAX_CHUNKS];
#pragma omp parallel for schedule(static) if (L.P * C > 32768)
    for (int ch = 0; ch < nch; ch++) {
        double s_nll = 0.0, s_smooth = 0.0, s_w = 0.0, s_cnt = 0.0;
        int64_t first_bad = -1;
        for (int64_t i = chunk_lo(L.P, nch, ch); i < chunk_lo(L.P, nch, ch + 1); i++) {
            const int64_t base = (i / S) * C * S + i % S;
            const float *xi = X + base;
            int64_t yc = ce_class(T[i], ignore, C);
            float lse = 0.0f;
            if (!nll_only && S == 1) {
                lse = ce_row_softmax(xi, prob + base, C);
            } else if (!nll_only) {
                /* log-softmax: lse = m + log sum exp(x - m); probabilities kept for backward. */
                float *pi = prob + base;
                float m = -INFINITY;
                for (int64_t c = 0; c < C; c++)
                    m = fmaxf(m, xi[c * S]);
                float z = 0.0f;
                for (int64_t c = 0; c < C; c++) {
                    float e = exp_nonpos(xi[c * S] - m);
                    pi[c * S] = e;
                    z += e;
                }
                float inv = 1.0f / z;
                for (int64_t c = 0; c < C; c++)
                    pi[c * S] *= inv;
                lse = m + logf(z);
            }
            if (yc < 0) {
                if (yc == -2 && first_bad < 0)
                    first_bad = i;
                if (none)
                    y[i] = yc == -1 ? 0.0f : NAN;
                continue;
            }
            float wy = w ? w[yc] : 1.0f;
            float nll = wy * (lse - xi[yc * S]);
            float sm = 0.0f;
            if (smooth) {
                /* sum_c w_c (lse - x_c) */
                for (int64_t c = 0; c < C; c++)
                    sm += (w ? w[c] : 1.0f) * (lse - xi[c * S]);
            }
            if (none) {
                y[i] = (1.0f - eps) * nll + (eps / (float)C) * sm;
            } else {
                s_nll += nll;
                s_smooth += sm;
                s_w += wy;
                s_cnt += 1.0;
            }
        }
        part[ch][0] = s_nll;
        part[ch][1] = s_smooth;
        part[ch][2] = s_w;
        part[ch][3] = s_cnt;
        bad[ch] = first_bad;
    }
    int64_t first_bad = -1;
    double s_nll = 0.0, s_smooth = 0.0, s_w = 0.0, s_cnt = 0.0;
    for (int ch = 0; ch < nch; ch++) {
        s_nll += part[ch][0];
        s_smooth += part[ch][1];
        s_w += part[ch][2];
        s_cnt += part[ch][3];
        if (first_bad < 0 && bad[ch] >= 0)
            first_bad = bad[ch];
    }
    double d1 = 1.0, d2 = 1.0;
    if (CE_RED(n) == DSC_REDUCE_MEAN) {
        d1 = w ? s_w : s_cnt;
        d2 = d1;
    }
    float e1 = nll_only ? 1.0f : 1.0f - eps;
    n->aux[0] = (float)(e1 / d1);
    n->aux[1] = smooth ? (float)(eps / (double)C / d2) : 0.0f;
    if (!none) {
        double v = e1 * s_nll / d1;
        if (smooth)
            v += eps / (double)C * s_smooth / d2;
        y[0] = (float)v;
    }
    if (first_bad >= 0) {
        if (!none)
            y[0] = NAN;
        ce_report_bad(g, n, first_bad, T[first_bad], C);
    }
}

/* Cross-entropy VJP per valid position (g_i = cotangent, A = g_i aux0 w_y, B = g_i aux1):
 *   dL/dx_c = (A + B W) p_c - A [c = y] - B w_c.
 * nll_loss: dL/dx_c = -A [c = y]. */
static void ce_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *x = dsc_in(g, n, 0);
    float *gx = x->grad;
    if (!gx)
        return;
    const ce_layout L = ce_dims(x);
    const int64_t C = L.C, S = L.S;
    const float *T = dsc_in(g, n, 1)->value, *w = n->attr.arr, *gr = n->grad, *prob = n->aux + 2;
    const float ignore = CE_IGNORE(n), a0 = n->aux[0], b0 = n->aux[1];
    const int nll_only = CE_IS_NLL(n), none = CE_RED(n) == DSC_REDUCE_NONE;
    float W = (float)C;
    if (w) {
        W = 0.0f;
        for (int64_t c = 0; c < C; c++)
            W += w[c];
    }
#pragma omp parallel for schedule(static) if (L.P * C > 32768)
    for (int64_t i = 0; i < L.P; i++) {
        int64_t yc = ce_class(T[i], ignore, C);
        if (yc < 0)
            continue;
        const int64_t base = (i / S) * C * S + i % S;
        float gi = none ? gr[i] : gr[0];
        float A = gi * a0 * (w ? w[yc] : 1.0f);
        float *gxi = gx + base;
        if (!nll_only && S == 1) {
            const float *pi = prob + base;
            float B = gi * b0, coef = A + B * W;
            if (B != 0.0f && w) {
                for (int64_t c = 0; c < C; c++)
                    gxi[c] += coef * pi[c] - B * w[c];
            } else {
                for (int64_t c = 0; c < C; c++)
                    gxi[c] += coef * pi[c] - B;
            }
        } else if (!nll_only) {
            const float *pi = prob + base;
            float B = gi * b0, coef = A + B * W;
            if (B != 0.0f) {
                for (int64_t c = 0; c < C; c++)
                    gxi[c * S] += coef * pi[c * S] - B * (w ? w[c] : 1.0f);
            } else {
                for (int64_t c = 0; c < C; c++)
                    gxi[c * S] += coef * pi[c * S];
            }
        }
        gxi[yc * S] -= A;
    }
}

/* JVP: dL_i = (a w_y + b W)(p . t) - a w_y t_y - b (w . t) (cross-entropy), -a w_y t_y (nll). */
static void ce_jvp(dsc_graph *g, dsc_node *n)
{
    const dsc_node *x = dsc_in(g, n, 0);
    const ce_layout L = ce_dims(x);
    const int64_t C = L.C, S = L.S;
    const float *T = dsc_in(g, n, 1)->value, *w = n->attr.arr, *tx = x->tangent, *prob = n->aux + 2;
    const float ignore = CE_IGNORE(n), a0 = n->aux[0], b0 = n->aux[1];
    const int nll_only = CE_IS_NLL(n), none = CE_RED(n) == DSC_REDUCE_NONE;
    float W = (float)C;
    if (w) {
        W = 0.0f;
        for (int64_t c = 0; c < C; c++)
            W += w[c];
    }
    float *ty = n->tangent;
    int nch = loss_chunks(L.P * C);
    if (nch > L.P && L.P > 0)
        nch = (int)L.P;
    double part[LOSS_MAX_CHUNKS];
#pragma omp parallel for schedule(static) if (L.P * C > 32768)
    for (int ch = 0; ch < nch; ch++) {
        double s = 0.0;
        for (int64_t i = chunk_lo(L.P, nch, ch); i < chunk_lo(L.P, nch, ch + 1); i++) {
            int64_t yc = ce_class(T[i], ignore, C);
            if (yc < 0) {
                if (none)
                    ty[i] = 0.0f;
                continue;
            }
            const int64_t base = (i / S) * C * S + i % S;
            const float *ti = tx + base;
            float A = a0 * (w ? w[yc] : 1.0f);
            float d = -A * ti[yc * S];
            if (!nll_only) {
                const float *pi = prob + base;
                float pt = 0.0f, wt = 0.0f;
                for (int64_t c = 0; c < C; c++) {
                    pt += pi[c * S] * ti[c * S];
                    wt += (w ? w[c] : 1.0f) * ti[c * S];
                }
                d += (A + b0 * W) * pt - b0 * wt;
            }
            if (none)
                ty[i] = d;
            else
                s += d;
        }
        part[ch] = s;
    }
    if (!none) {
        double s = 0.0;
        for (int ch = 0; ch < nch; ch++)
            s += part[ch];
        ty[0] = (float)s;
    }
}

/* R-op term (cross-entropy only; nll is linear): the Hessian of lse is diag(p) - p p^T, so
 *   x.grad_tangent_c += g_i (a w_y + b W) p_c (t_c - p . t). */
static void ce_vjp_rop(dsc_graph *g, dsc_node *n)
{
    dsc_node *x = dsc_in(g, n, 0);
    if (!x->grad)
        return;
    float *rx = x->grad_tangent;
    const ce_layout L = ce_dims(x);
    const int64_t C = L.C, S = L.S;
    const float *T = dsc_in(g, n, 1)->value, *w = n->attr.arr, *tx = x->tangent, *prob = n->aux + 2, *gr = n->grad;
    const float ignore = CE_IGNORE(n), a0 = n->aux[0], b0 = n->aux[1];
    const int none = CE_RED(n) == DSC_REDUCE_NONE;
    float W = (float)C;
    if (w) {
        W = 0.0f;
        for (int64_t c = 0; c < C; c++)
            W += w[c];
    }
#pragma omp parallel for schedule(static) if (L.P * C > 32768)
    for (int64_t i = 0; i < L.P; i++) {
        int64_t yc = ce_class(T[i], ignore, C);
        if (yc < 0)
            continue;
        const int64_t base = (i / S) * C * S + i % S;
        const float *pi = prob + base, *ti = tx + base;
        float gi = none ? gr[i] : gr[0];
        float coef = gi * (a0 * (w ? w[yc] : 1.0f) + b0 * W);
        float pt = 0.0f;
        for (int64_t c = 0; c < C; c++)
            pt += pi[c * S] * ti[c * S];
        float *ri = rx + base;
        for (int64_t c = 0; c < C; c++)
            ri[c * S] += coef * pi[c * S] * (ti[c * S] - pt);
    }
}

/* Mean: the batch loss divides by the total weight D of the non-ignored targets, example b
 * alone by its own D_b (sum of w_y over its positions; their count without weights): scale
 * D / D_b, 0 when all of b's targets are ignored (its loss alone would be 0/0). Sum: 1. */
static void ce_example_scale(dsc_graph *g, dsc_node *n, float *scale)
{
    const dsc_node *x = dsc_in(g, n, 0);
    const ce_layout L = ce_dims(x);
    const float *T = dsc_in(g, n, 1)->value, *w = n->attr.arr;
    const float ignore = CE_IGNORE(n);
    if (CE_RED(n) != DSC_REDUCE_MEAN) {
        for (int64_t b = 0; b < L.N; b++)
            scale[b] = 1.0f;
        return;
    }
    double total = 0.0;
    for (int64_t b = 0; b < L.N; b++) {
        double db = 0.0;
        for (int64_t s = 0; s < L.S; s++) {
            int64_t yc = ce_class(T[b * L.S + s], ignore, L.C);
            if (yc >= 0)
                db += w ? w[yc] : 1.0f;
        }
        scale[b] = (float)db; /* temporarily D_b */
        total += db;
    }
    for (int64_t b = 0; b < L.N; b++)
        scale[b] = scale[b] != 0.0f ? (float)(total / scale[b]) : 0.0f;
}

static const dsc_op OP_CE = {"cross_entropy", ce_infer, ce_forward, ce_vjp, ce_jvp, ce_vjp_rop, NULL,
                             ce_example_scale, DSC_OP_LOSS};
static const dsc_op OP_CE_NONE = {"cross_entropy", ce_infer, ce_forward, ce_vjp, ce_jvp, ce_vjp_rop, NULL, NULL, 0};
static const dsc_op OP_NLL = {"nll_loss", ce_infer, ce_forward, ce_vjp, ce_jvp, NULL, NULL, ce_example_scale,
                              DSC_OP_LOSS};
static const dsc_op OP_NLL_NONE = {"nll_loss", ce_infer, ce_forward, ce_vjp, ce_jvp, NULL, NULL, NULL, 0};

dsc_ce_opts dsc_ce_defaults(void)
{
    dsc_ce_opts o;
    o.reduction = DSC_REDUCE_MEAN;
    o.label_smoothing = 0.0f;
    o.class_weights = NULL;
    o.ignore_index = -100;
    return o;
}

static dsc_id ce_build(dsc_graph *g, int is_nll, dsc_id x, dsc_id t, dsc_ce_opts o)
{
    const char *name = is_nll ? "nll_loss" : "cross_entropy";
    if (!g || g->status != DSC_OK)
        return -1;
    if (!valid_reduction(o.reduction))
        return dsc_graph_fail(g, DSC_ERR_INVALID, "%s: invalid reduction %d", name, (int)o.reduction);
    if (!is_nll && !(o.label_smoothing >= 0.0f && o.label_smoothing <= 1.0f))
        return dsc_graph_fail(g, DSC_ERR_INVALID, "%s: label_smoothing must be in [0, 1] (got %g)", name,
                              (double)o.label_smoothing);
    dsc_attr at;
    memset(&at, 0, sizeof at);
    at.i[0] = o.reduction;
    at.i[1] = o.ignore_index;
    at.i[2] = is_nll;
    at.f[0] = is_nll ? 0.0f : o.label_smoothing;
    if (o.class_weights && x >= 0 && x < g->n_nodes) {
        const dsc_shape *s = &g->nodes[x].shape;
        if (s->ndim < 2 || s->dim[1] < 1)
            return dsc_graph_fail(g, DSC_ERR_SHAPE, "%s: class weights need input [N, C, ...] (input has %d dims)",
                                  name, s->ndim);
        at.arr = (float *)o.class_weights;
        at.arr_len = s->dim[1];
    }
    dsc_id in[2] = {x, t};
    const dsc_op *op = is_nll ? (o.reduction == DSC_REDUCE_NONE ? &OP_NLL_NONE : &OP_NLL)
                              : (o.reduction == DSC_REDUCE_NONE ? &OP_CE_NONE : &OP_CE);
    return dsc_graph_add_op(g, op, 2, in, &at);
}

dsc_id dsc_cross_entropy(dsc_graph *g, dsc_id logits, dsc_id target, dsc_ce_opts o)
{
    return ce_build(g, 0, logits, target, o);
}

dsc_id dsc_nll_loss(dsc_graph *g, dsc_id log_probs, dsc_id target, dsc_ce_opts o)
{
    return ce_build(g, 1, log_probs, target, o);
}

/* ================================================================================== *
 * Multi-class margin loss (torch.nn.MultiMarginLoss, no class weights).                *
 * ================================================================================== */

/* scores x [N, C], target y [N]:  l_n = (1/C) sum_{i != y} max(0, margin - x_y + x_i)^p, p in {1, 2}.
 * With h_i = margin - x_y + x_i > 0 (active) and d_i = 1 (p = 1) or 2 h_i (p = 2):
 *   VJP   x_i += g d_i / C,  x_y -= g d_i / C
 *   JVP   l' = sum_active d_i (t_i - t_y) / C
 *   R-op  (p = 2) x_i += g 2 (t_i - t_y) / C,  x_y -= the same; p = 1 is piecewise linear.
 * attr: i[0] reduction, i[1] p; f[0] margin. */
#define MM_RED(n) ((int)(n)->attr.i[0])
#define MM_P(n) ((int)(n)->attr.i[1])

static dsc_status mm_infer(dsc_graph *g, dsc_node *n)
{
    const dsc_node *x = dsc_in(g, n, 0), *t = dsc_in(g, n, 1);
    char b1[96], b2[96];
    dsc_shape_str(&x->shape, b1, sizeof b1);
    dsc_shape_str(&t->shape, b2, sizeof b2);
    if (x->shape.ndim != 2 || x->shape.dim[1] < 1)
        return DSC_ERROR(DSC_ERR_SHAPE, "multi_margin_loss: scores %s must be [N, C]", b1);
    if (t->shape.ndim != 1 || t->shape.dim[0] != x->shape.dim[0])
        return DSC_ERROR(DSC_ERR_SHAPE, "multi_margin_loss: scores %s need class-index targets [%lld], got %s", b1,
                         (long long)x->shape.dim[0], b2);
    if (MM_RED(n) == DSC_REDUCE_NONE)
        n->shape = t->shape;
    else
        memset(&n->shape, 0, sizeof n->shape);
    return DSC_OK;
}

static void mm_forward(dsc_graph *g, dsc_node *n)
{
    const dsc_node *x = dsc_in(g, n, 0);
    const float *X = x->value, *T = dsc_in(g, n, 1)->value;
    const int64_t Nn = x->shape.dim[0], C = x->shape.dim[1];
    const int p = MM_P(n), none = MM_RED(n) == DSC_REDUCE_NONE;
    const float margin = n->attr.f[0];
    float *y = n->value;
    int nch = loss_chunks(Nn * C);
    if (nch > Nn && Nn > 0)
        nch = (int)Nn;
    double part[LOSS_MAX_CHUNKS];
    int64_t bad[LOSS_MAX_CHUNKS];
#pragma omp parallel for schedule(static) if (Nn * C > 32768)
    for (int ch = 0; ch < nch; ch++) {
        double s = 0.0;
        int64_t first_bad = -1;
        for (int64_t b = chunk_lo(Nn, nch, ch); b < chunk_lo(Nn, nch, ch + 1); b++) {
            int64_t yc = ce_class(T[b], NAN, C);
            if (yc < 0) {
                if (first_bad < 0)
                    first_bad = b;
                if (none)
                    y[b] = NAN;
                continue;
            }
            const float *xb = X + b * C;
            float l = 0.0f;
            for (int64_t c = 0; c < C; c++) {
                float h = margin - xb[yc] + xb[c];
                if (c != yc && h > 0.0f)
                    l += p == 1 ? h : h * h;
            }
            l /= (float)C;
            if (none)
                y[b] = l;
            else
                s += l;
        }
        part[ch] = s;
        bad[ch] = first_bad;
    }
    int64_t first_bad = -1;
    double s = 0.0;
    for (int ch = 0; ch < nch; ch++) {
        s += part[ch];
        if (first_bad < 0 && bad[ch] >= 0)
            first_bad = bad[ch];
    }
    if (!none)
        y[0] = (float)(MM_RED(n) == DSC_REDUCE_MEAN ? s / (double)Nn : s);
    if (first_bad >= 0) {
        if (!none)
            y[0] = NAN;
        dsc_graph_run_error(g, DSC_ERR_RANGE, "multi_margin_loss '%s': target %g at row %lld is not a class index in [0, %lld); "
                  "the loss is NaN", n->name, (double)T[first_bad], (long long)first_bad, (long long)C);
    }
}

static inline float mm_cot(const dsc_node *n, const float *gr, int64_t b, int64_t Nn)
{
    if (MM_RED(n) == DSC_REDUCE_NONE)
        return gr[b];
    return MM_RED(n) == DSC_REDUCE_MEAN ? gr[0] / (float)Nn : gr[0];
}

static void mm_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *x = dsc_in(g, n, 0);
    float *gx = x->grad;
    if (!gx)
        return;
    const float *X = x->value, *T = dsc_in(g, n, 1)->value, *gr = n->grad;
    const int64_t Nn = x->shape.dim[0], C = x->shape.dim[1];
    const int p = MM_P(n);
    const float margin = n->attr.f[0];
#pragma omp parallel for schedule(static) if (Nn * C > 32768)
    for (int64_t b = 0; b < Nn; b++) {
        int64_t yc = ce_class(T[b], NAN, C);
        if (yc < 0)
            continue;
        const float *xb = X + b * C;
        float *gb = gx + b * C;
        float gc = mm_cot(n, gr, b, Nn) / (float)C, gy = 0.0f, xy = xb[yc];
        for (int64_t c = 0; c < C; c++) {
            float h = margin - xy + xb[c];
            if (c != yc && h > 0.0f) {
                float d = gc * (p == 1 ? 1.0f : 2.0f * h);
                gb[c] += d;
                gy += d;
            }
        }
        gb[yc] -= gy;
    }
}

static void mm_jvp(dsc_graph *g, dsc_node *n)
{
    const dsc_node *x = dsc_in(g, n, 0);
    const float *X = x->value, *T = dsc_in(g, n, 1)->value, *tx = x->tangent;
    const int64_t Nn = x->shape.dim[0], C = x->shape.dim[1];
    const int p = MM_P(n), none = MM_RED(n) == DSC_REDUCE_NONE;
    const float margin = n->attr.f[0];
    float *ty = n->tangent;
    double s = 0.0;
    /* Sequential over rows: the tangent of the batch reduction in index order. */
    for (int64_t b = 0; b < Nn; b++) {
        int64_t yc = ce_class(T[b], NAN, C);
        float d = 0.0f;
        if (yc >= 0) {
            const float *xb = X + b * C, *tb = tx + b * C;
            for (int64_t c = 0; c < C; c++) {
                float h = margin - xb[yc] + xb[c];
                if (c != yc && h > 0.0f)
                    d += (p == 1 ? 1.0f : 2.0f * h) * (tb[c] - tb[yc]);
            }
            d /= (float)C;
        }
        if (none)
            ty[b] = d;
        else
            s += d;
    }
    if (!none)
        ty[0] = (float)(MM_RED(n) == DSC_REDUCE_MEAN ? s / (double)Nn : s);
}

static void mm_vjp_rop(dsc_graph *g, dsc_node *n)
{
    dsc_node *x = dsc_in(g, n, 0);
    if (!x->grad || MM_P(n) == 1)
        return;
    float *rx = x->grad_tangent;
    const float *X = x->value, *T = dsc_in(g, n, 1)->value, *tx = x->tangent, *gr = n->grad;
    const int64_t Nn = x->shape.dim[0], C = x->shape.dim[1];
    const float margin = n->attr.f[0];
#pragma omp parallel for schedule(static) if (Nn * C > 32768)
    for (int64_t b = 0; b < Nn; b++) {
        int64_t yc = ce_class(T[b], NAN, C);
        if (yc < 0)
            continue;
        const float *xb = X + b * C, *tb = tx + b * C;
        float *rb = rx + b * C;
        float gc = 2.0f * mm_cot(n, gr, b, Nn) / (float)C, ry = 0.0f;
        for (int64_t c = 0; c < C; c++) {
            float h = margin - xb[yc] + xb[c];
            if (c != yc && h > 0.0f) {
                float d = gc * (tb[c] - tb[yc]);
                rb[c] += d;
                ry += d;
            }
        }
        rb[yc] -= ry;
    }
}

/* Mean over N rows: scale N; sum: 1. */
static void mm_example_scale(dsc_graph *g, dsc_node *n, float *scale)
{
    const int64_t Nn = dsc_in(g, n, 0)->shape.dim[0];
    for (int64_t b = 0; b < Nn; b++)
        scale[b] = MM_RED(n) == DSC_REDUCE_MEAN ? (float)Nn : 1.0f;
}

static const dsc_op OP_MM = {"multi_margin_loss", mm_infer, mm_forward, mm_vjp, mm_jvp, mm_vjp_rop, NULL,
                             mm_example_scale, DSC_OP_LOSS};
static const dsc_op OP_MM_NONE = {"multi_margin_loss", mm_infer, mm_forward, mm_vjp, mm_jvp, mm_vjp_rop, NULL, NULL, 0};

dsc_id dsc_multi_margin_loss(dsc_graph *g, dsc_id scores, dsc_id target, int p, float margin, dsc_reduction r)
{
    if (!g || g->status != DSC_OK)
        return -1;
    if (!valid_reduction(r))
        return dsc_graph_fail(g, DSC_ERR_INVALID, "multi_margin_loss: invalid reduction %d", (int)r);
    if (p != 1 && p != 2)
        return dsc_graph_fail(g, DSC_ERR_INVALID, "multi_margin_loss: p must be 1 or 2 (got %d)", p);
    if (!isfinite(margin))
        return dsc_graph_fail(g, DSC_ERR_INVALID, "multi_margin_loss: margin must be finite");
    dsc_attr at;
    memset(&at, 0, sizeof at);
    at.i[0] = r;
    at.i[1] = p;
    at.f[0] = margin;
    dsc_id in[2] = {scores, target};
    return dsc_graph_add_op(g, r == DSC_REDUCE_NONE ? &OP_MM_NONE : &OP_MM, 2, in, &at);
}
