/* Reductions over axes: sum, mean, var (several axes) and max, min, argmax, logsumexp (one
 * axis), plus the reduction helpers other reductions share.
 *
 * sum:  y[j] = sum_{i in fiber j} x[i];  VJP x.grad[i] += y.grad[j];  JVP y' = sum x'.
 * mean: sum / count. Both are linear (no R-op term).
 * max/min: y = x[a] with a the FIRST extremal index of the fibre (torch.max(dim) indices);
 *   NaN counts as the extremum (propagates, like torch). a is saved in n->aux by forward.
 *   Given a the op is linear: VJP x.grad[a] += g, JVP y' = x'[a], no R-op term (the
 *   derivative of a piecewise-constant selection is zero almost everywhere).
 * argmax: the index a as float (exact up to 2^24), no gradient.
 * logsumexp: y = m + log S, S = sum_k exp(x_k - m), m = max_k x_k (stable for large x).
 *   s_k = exp(x_k - m) / S (softmax; m and S saved in n->aux).  VJP x.grad += g s;  JVP y' = sum_k s_k x'_k;
 *   R-op x.grad_tangent += g s (x' - sum_k s_k x'_k)  (ds = s * (x' - <s, x'>)).
 * var: mu = mean x, y = sum (x - mu)^2 / max(0, N - correction) (torch.var(correction=...);
 *   correction 1 = unbiased, the torch default; N - correction <= 0 gives inf/nan like torch).
 *   D = max(0, N - correction).  VJP x.grad += 2 g (x - mu) / D;  JVP y' = 2 sum (x - mu) x' / D;
 *   R-op x.grad_tangent += 2 g (x' - mean x') / D.
 * Summation runs over each output fiber in index order, so results do not depend on the
 * number of threads (threads split output elements, never a fiber). */
#include <math.h>
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
    /* Reducing over the batch dimension combines examples: per-example gradients must refuse
     * such graphs (unless this node is the loss). */
    n->mixes_batch = n->has_batch && (mask & 1u);
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
                       int keepdim, int correction)
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
    a.i[5] = correction;
    return dsc_graph_add_op(g, op, 1, &x, &a);
}

dsc_id dsc_sum(dsc_graph *g, dsc_id x, int naxes, const int *axes, int keepdim)
{
    return sum_like(g, &OP_SUM, 0, x, naxes, axes, keepdim, 0);
}

dsc_id dsc_mean(dsc_graph *g, dsc_id x, int naxes, const int *axes, int keepdim)
{
    return sum_like(g, &OP_MEAN, 1, x, naxes, axes, keepdim, 0);
}

/* ---- var ------------------------------------------------------------------------------ */

/* attr: i[1] keepdim, i[3] axis mask, i[4] naxes (0 = all), i[5] correction.
 * aux: per-output mean (saved by forward). scratch: per-output mean of the tangent (R-op). */
static dsc_status var_infer(dsc_graph *g, dsc_node *n)
{
    DSC_TRY(sum_infer(g, n));
    n->aux_size = dsc_numel(n);
    n->scratch_size = dsc_numel(n);
    return DSC_OK;
}

static float var_divisor(const dsc_node *n, const dsc_reduce_layout_t *L)
{
    int64_t d = L->count - n->attr.i[5];
    return (float)(d > 0 ? d : 0);
}

/* mu[j] = mean over fibre j (fixed order). */
static void fibre_mean(const dsc_reduce_layout_t *L, const float *x, float *mu)
{
    sum_kernel(L, x, mu, 1.0f / (float)L->count);
}

static void var_forward(dsc_graph *g, dsc_node *n)
{
    const dsc_node *x = dsc_in(g, n, 0);
    dsc_reduce_layout_t L;
    dsc_reduce_layout(&x->shape, (uint32_t)n->attr.i[0], &L);
    const float *xv = x->value;
    float *mu = n->aux, *y = n->value;
    fibre_mean(&L, xv, mu);
    memset(y, 0, (size_t)L.n_out * sizeof(float));
    DSC_REDUCE_FOR(&L, {
        float d = xv[i] - mu[o];
        y[o] += d * d;
    });
    float D = var_divisor(n, &L);
    for (int64_t j = 0; j < L.n_out; j++)
        y[j] /= D;
}

static void var_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *x = dsc_in(g, n, 0);
    if (!x->grad)
        return;
    dsc_reduce_layout_t L;
    dsc_reduce_layout(&x->shape, (uint32_t)n->attr.i[0], &L);
    float c = 2.0f / var_divisor(n, &L);
    const float *xv = x->value, *mu = n->aux, *gy = n->grad;
    float *gx = x->grad;
    DSC_REDUCE_FOR(&L, gx[i] += c * gy[o] * (xv[i] - mu[o]));
}

static void var_jvp(dsc_graph *g, dsc_node *n)
{
    const dsc_node *x = dsc_in(g, n, 0);
    dsc_reduce_layout_t L;
    dsc_reduce_layout(&x->shape, (uint32_t)n->attr.i[0], &L);
    float c = 2.0f / var_divisor(n, &L);
    const float *xv = x->value, *tx = x->tangent, *mu = n->aux;
    float *ty = n->tangent;
    memset(ty, 0, (size_t)L.n_out * sizeof(float));
    DSC_REDUCE_FOR(&L, ty[o] += (xv[i] - mu[o]) * tx[i]);
    for (int64_t j = 0; j < L.n_out; j++)
        ty[j] *= c;
}

static void var_vjp_rop(dsc_graph *g, dsc_node *n)
{
    dsc_node *x = dsc_in(g, n, 0);
    if (!x->grad_tangent)
        return;
    dsc_reduce_layout_t L;
    dsc_reduce_layout(&x->shape, (uint32_t)n->attr.i[0], &L);
    float c = 2.0f / var_divisor(n, &L);
    const float *tx = x->tangent, *gy = n->grad;
    float *mt = g->scratch, *rx = x->grad_tangent;
    fibre_mean(&L, tx, mt);
    DSC_REDUCE_FOR(&L, rx[i] += c * gy[o] * (tx[i] - mt[o]));
}

static const dsc_op OP_VAR = {"var", var_infer, var_forward, var_vjp, var_jvp, var_vjp_rop, NULL, NULL, 0};

dsc_id dsc_var(dsc_graph *g, dsc_id x, int naxes, const int *axes, int correction, int keepdim)
{
    if (g->status != DSC_OK)
        return -1;
    if (correction < 0)
        return dsc_graph_fail(g, DSC_ERR_INVALID, "var: correction %d must be >= 0", correction);
    return sum_like(g, &OP_VAR, 0, x, naxes, axes, keepdim, correction);
}

/* ---- one-axis reductions: max, min, argmax, logsumexp --------------------------------- */

enum { AX_MAX, AX_MIN, AX_ARGMAX, AX_LSE };

/* attr: i[0] mask, i[1] keepdim (from dsc_reduce_plan), i[5] axis as given, i[6] kind. */
static dsc_status axis_infer(dsc_graph *g, dsc_node *n)
{
    const dsc_shape *in = &dsc_in(g, n, 0)->shape;
    int axis = (int)n->attr.i[5];
    if (dsc_axis(axis, in->ndim) < 0) {
        char b[96];
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: axis %d is out of range for input %s (%d-d)", n->op->name, axis,
                         dsc_shape_str(in, b, sizeof b), in->ndim);
    }
    int kind = (int)n->attr.i[6];
    int a = dsc_axis(axis, in->ndim);
    if ((kind == AX_MAX || kind == AX_MIN || kind == AX_ARGMAX) && in->dim[a] > (1 << 24))
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: axis %d has %lld elements; indices above 2^24 are not exact in float",
                         n->op->name, axis, (long long)in->dim[a]);
    DSC_TRY(dsc_reduce_plan(n, in, 1, &a, (int)n->attr.i[1]));
    n->aux_size = (kind == AX_MAX || kind == AX_MIN) ? dsc_numel(n) : kind == AX_LSE ? 2 * dsc_numel(n) : 0;
    return DSC_OK;
}

static dsc_axis_split_t axis_split_of(dsc_graph *g, const dsc_node *n)
{
    const dsc_shape *in = &dsc_in(g, n, 0)->shape;
    return dsc_axis_split(in, dsc_axis((int)n->attr.i[5], in->ndim));
}

/* First extremal index of the fibre starting at p (stride st, K elements). NaN wins. */
static inline int64_t fibre_extremum(const float *p, int64_t K, int64_t st, int is_max)
{
    int64_t best = 0;
    float bv = p[0];
    if (isnan(bv))
        return 0;
    for (int64_t k = 1; k < K; k++) {
        float v = p[k * st];
        if (isnan(v))
            return k;
        if (is_max ? v > bv : v < bv) {
            bv = v;
            best = k;
        }
    }
    return best;
}

static void extremum_forward(dsc_graph *g, dsc_node *n)
{
    const dsc_node *x = dsc_in(g, n, 0);
    dsc_axis_split_t a = axis_split_of(g, n);
    int kind = (int)n->attr.i[6];
    int64_t F = a.outer * a.inner;
    const float *xv = x->value;
    float *y = n->value, *idx = n->aux;
    /* Fibres are independent: threads split fibres, each fibre is scanned in order. */
#pragma omp parallel for schedule(static) if (F * a.K > 32768)
    for (int64_t f = 0; f < F; f++) {
        const float *p = xv + dsc_fibre_start(&a, f);
        int64_t k = fibre_extremum(p, a.K, a.inner, kind != AX_MIN);
        if (kind == AX_ARGMAX) {
            y[f] = (float)k;
        } else {
            y[f] = p[k * a.inner];
            idx[f] = (float)k;
        }
    }
}

static void extremum_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *x = dsc_in(g, n, 0);
    if (!x->grad)
        return;
    dsc_axis_split_t a = axis_split_of(g, n);
    int64_t F = a.outer * a.inner;
    const float *gy = n->grad, *idx = n->aux;
    float *gx = x->grad;
    /* Every fibre owns distinct elements of x: no write conflicts. */
#pragma omp parallel for schedule(static) if (F > 32768)
    for (int64_t f = 0; f < F; f++)
        gx[dsc_fibre_start(&a, f) + (int64_t)idx[f] * a.inner] += gy[f];
}

static void extremum_jvp(dsc_graph *g, dsc_node *n)
{
    const dsc_node *x = dsc_in(g, n, 0);
    dsc_axis_split_t a = axis_split_of(g, n);
    int64_t F = a.outer * a.inner;
    const float *tx = x->tangent, *idx = n->aux;
    float *ty = n->tangent;
#pragma omp parallel for schedule(static) if (F > 32768)
    for (int64_t f = 0; f < F; f++)
        ty[f] = tx[dsc_fibre_start(&a, f) + (int64_t)idx[f] * a.inner];
}

/* logsumexp of the fibre at p; the shift m is the max (0 when it is infinite, so that all
 * -inf gives -inf and any +inf gives +inf instead of NaN). Sequential sum. Saves m and
 * S = sum_k exp(x_k - m): the softmax s_k = exp(x_k - m) / S is then accurate even where y
 * is large (exp(x_k - y) would lose the low bits of y: float ulp at 1000 is 6e-5). */
static float fibre_lse(const float *p, int64_t K, int64_t st, float *shift_out, float *sum_out)
{
    float m = p[0];
    for (int64_t k = 1; k < K; k++)
        if (p[k * st] > m)
            m = p[k * st];
    float shift = isfinite(m) ? m : 0.0f;
    float s = 0.0f;
    for (int64_t k = 0; k < K; k++)
        s += expf(p[k * st] - shift);
    *shift_out = shift;
    *sum_out = s;
    return shift + logf(s);
}

/* aux = [shift (F floats), S (F floats)]. */
static void lse_forward(dsc_graph *g, dsc_node *n)
{
    const dsc_node *x = dsc_in(g, n, 0);
    dsc_axis_split_t a = axis_split_of(g, n);
    int64_t F = a.outer * a.inner;
    const float *xv = x->value;
    float *y = n->value, *sh = n->aux, *S = n->aux + F;
#pragma omp parallel for schedule(static) if (F * a.K > 32768)
    for (int64_t f = 0; f < F; f++)
        y[f] = fibre_lse(xv + dsc_fibre_start(&a, f), a.K, a.inner, &sh[f], &S[f]);
}

/* s_k = exp(x_k - m) / S; 0 when S = 0 (every x_k = -inf: the softmax has no limit there). */
static inline float lse_soft(float x, float m, float S) { return S > 0.0f ? expf(x - m) / S : 0.0f; }

static void lse_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *x = dsc_in(g, n, 0);
    if (!x->grad)
        return;
    dsc_axis_split_t a = axis_split_of(g, n);
    int64_t F = a.outer * a.inner;
    const float *xv = x->value, *sh = n->aux, *S = n->aux + F, *gy = n->grad;
    float *gx = x->grad;
#pragma omp parallel for schedule(static) if (F * a.K > 32768)
    for (int64_t f = 0; f < F; f++) {
        int64_t s0 = dsc_fibre_start(&a, f);
        for (int64_t k = 0; k < a.K; k++) {
            int64_t i = s0 + k * a.inner;
            gx[i] += gy[f] * lse_soft(xv[i], sh[f], S[f]);
        }
    }
}

/* <s, x'> over fibre f (sequential). */
static inline float lse_dot(const dsc_axis_split_t *a, int64_t s0, const float *xv, float m, float S,
                            const float *tx)
{
    float d = 0.0f;
    for (int64_t k = 0; k < a->K; k++) {
        int64_t i = s0 + k * a->inner;
        d += lse_soft(xv[i], m, S) * tx[i];
    }
    return d;
}

static void lse_jvp(dsc_graph *g, dsc_node *n)
{
    const dsc_node *x = dsc_in(g, n, 0);
    dsc_axis_split_t a = axis_split_of(g, n);
    int64_t F = a.outer * a.inner;
    const float *xv = x->value, *tx = x->tangent, *sh = n->aux, *S = n->aux + F;
    float *ty = n->tangent;
#pragma omp parallel for schedule(static) if (F * a.K > 32768)
    for (int64_t f = 0; f < F; f++)
        ty[f] = lse_dot(&a, dsc_fibre_start(&a, f), xv, sh[f], S[f], tx);
}

static void lse_vjp_rop(dsc_graph *g, dsc_node *n)
{
    dsc_node *x = dsc_in(g, n, 0);
    if (!x->grad_tangent)
        return;
    dsc_axis_split_t a = axis_split_of(g, n);
    int64_t F = a.outer * a.inner;
    const float *xv = x->value, *tx = x->tangent, *sh = n->aux, *S = n->aux + F, *gy = n->grad;
    float *rx = x->grad_tangent;
#pragma omp parallel for schedule(static) if (F * a.K > 32768)
    for (int64_t f = 0; f < F; f++) {
        int64_t s0 = dsc_fibre_start(&a, f);
        float d = lse_dot(&a, s0, xv, sh[f], S[f], tx);
        for (int64_t k = 0; k < a.K; k++) {
            int64_t i = s0 + k * a.inner;
            rx[i] += gy[f] * lse_soft(xv[i], sh[f], S[f]) * (tx[i] - d);
        }
    }
}

static const dsc_op OP_MAX = {"max", axis_infer, extremum_forward, extremum_vjp, extremum_jvp, NULL, NULL, NULL, 0};
static const dsc_op OP_MIN = {"min", axis_infer, extremum_forward, extremum_vjp, extremum_jvp, NULL, NULL, NULL, 0};
static const dsc_op OP_ARGMAX = {"argmax", axis_infer, extremum_forward, NULL, NULL, NULL, NULL, NULL,
                                 DSC_OP_NO_GRAD};
static const dsc_op OP_LSE = {"logsumexp", axis_infer, lse_forward, lse_vjp, lse_jvp, lse_vjp_rop, NULL, NULL, 0};

static dsc_id axis_op(dsc_graph *g, const dsc_op *op, int kind, dsc_id x, int axis, int keepdim)
{
    dsc_attr a;
    memset(&a, 0, sizeof a);
    a.i[1] = keepdim ? 1 : 0;
    a.i[5] = axis;
    a.i[6] = kind;
    return dsc_graph_add_op(g, op, 1, &x, &a);
}

dsc_id dsc_max(dsc_graph *g, dsc_id x, int axis, int keepdim) { return axis_op(g, &OP_MAX, AX_MAX, x, axis, keepdim); }
dsc_id dsc_min(dsc_graph *g, dsc_id x, int axis, int keepdim) { return axis_op(g, &OP_MIN, AX_MIN, x, axis, keepdim); }
dsc_id dsc_argmax(dsc_graph *g, dsc_id x, int axis, int keepdim)
{
    return axis_op(g, &OP_ARGMAX, AX_ARGMAX, x, axis, keepdim);
}
dsc_id dsc_logsumexp(dsc_graph *g, dsc_id x, int axis, int keepdim)
{
    return axis_op(g, &OP_LSE, AX_LSE, x, axis, keepdim);
}
