/* Normalization: batch_norm and layer_norm (PyTorch semantics).
 *
 * Notation for one normalization group (a channel of batch_norm, a row of layer_norm) of m
 * elements: mu = mean(x), var = mean((x - mu)^2) (biased), r = 1/sqrt(var + eps),
 * xh = (x - mu) r, y = gamma xh + beta. g is the cotangent y.grad, t = x.tangent,
 * tg = gamma.tangent, tb = beta.tangent, mean() is over the group.
 *
 * batch_norm, train mode (batch statistics):
 *   VJP  beta.grad += sum g,  gamma.grad += sum g xh,
 *        x.grad += gamma r (g - A - xh B),         A = mean(g), B = mean(g xh)
 *   JVP  y' = gamma r (t - P - xh Q) + tg xh + tb,  P = mean(t), Q = mean(xh t)
 *   R-op (derivative of the VJP w.r.t. x and gamma along t, tg, with g fixed; with
 *        dr = -r^2 Q, xh' = r (t - P - xh Q), C = mean(g t), B' = r (C - A P - B Q)):
 *        gamma.grad_tangent += m B'
 *        x.grad_tangent += (tg r - gamma r^2 Q)(g - A - xh B) - gamma r^2 B (t - P - xh Q)
 *                          - gamma r xh B'
 *        (beta.grad = sum g does not depend on x or gamma.)
 *   Running statistics: running = (1 - momentum) running + momentum batch, with the
 *   UNBIASED batch variance var m / (m - 1); skipped while checkpointing recomputes.
 * batch_norm, eval mode (running statistics mu_r, var_r; or batch statistics when the op
 *   has no running buffers, as torch with track_running_stats=False): with r = 1/sqrt(var_r +
 *   eps) fixed the op is affine in x and bilinear in (x, gamma):
 *   VJP x.grad += gamma r g; JVP y' = gamma r t + tg xh + tb;
 *   R-op gamma.grad_tangent += sum g r t, x.grad_tangent += tg r g.
 *
 * layer_norm over the last dims, with h = g gamma and th = g tg (per element of the row):
 *   VJP  x.grad += r (h - mean(h) - xh mean(h xh)); gamma.grad += sum_rows g xh, beta.grad +=
 *        sum_rows g
 *   JVP  y' = gamma r (t - P - xh Q) + tg xh + tb
 *   R-op with A = mean(h), B = mean(h xh), C = mean(h t), E = mean(th), F = mean(th xh),
 *        xh' = r (t - P - xh Q), B' = F + r (C - A P - B Q):
 *        x.grad_tangent += -r^2 Q (h - A - xh B) + r (th - E - xh' B - xh B')
 *        gamma.grad_tangent += sum_rows g xh'
 * Derivations: docs/ALGORITHMS.md. Group sums accumulate in double in a fixed
 * order; threads split channels / rows / columns, never a sum. */
#include <math.h>
#include <string.h>

#include "descent/ops.h"
#include "autodiff/graph_internal.h"

#define NORM_PAR_MIN 16384

/* Row sums with 8 float partial sums (vectorizable, fixed order), combined in double. Used
 * on the hot paths (batch_norm forward/backward over [N, C, H, W] rows of H*W). */
#define NORM_LANES 8
static double row_sum(const float *x, int64_t L)
{
    float acc[NORM_LANES] = {0};
    int64_t l = 0;
    for (; l + NORM_LANES <= L; l += NORM_LANES)
        for (int k = 0; k < NORM_LANES; k++)
            acc[k] += x[l + k];
    double s = 0.0;
    for (int k = 0; k < NORM_LANES; k++)
        s += acc[k];
    for (; l < L; l++)
        s += x[l];
    return s;
}

static double row_sqdev(const float *x, int64_t L, float mu)
{
    float acc[NORM_LANES] = {0};
    int64_t l = 0;
    for (; l + NORM_LANES <= L; l += NORM_LANES)
        for (int k = 0; k < NORM_LANES; k++) {
            const float e = x[l + k] - mu;
            acc[k] += e * e;
        }
    double s = 0.0;
    for (int k = 0; k < NORM_LANES; k++)
        s += acc[k];
    for (; l < L; l++)
        s += (double)(x[l] - mu) * (x[l] - mu);
    return s;
}

/* sum g and sum g (x - mu) r over a row. */
static void row_g_gxh(const float *gy, const float *x, int64_t L, float mu, float r, double *sg, double *sgx)
{
    float a[NORM_LANES] = {0}, b[NORM_LANES] = {0};
    int64_t l = 0;
    for (; l + NORM_LANES <= L; l += NORM_LANES)
        for (int k = 0; k < NORM_LANES; k++) {
            a[k] += gy[l + k];
            b[k] += gy[l + k] * ((x[l + k] - mu) * r);
        }
    double s1 = 0.0, s2 = 0.0;
    for (int k = 0; k < NORM_LANES; k++) {
        s1 += a[k];
        s2 += b[k];
    }
    for (; l < L; l++) {
        s1 += gy[l];
        s2 += (double)gy[l] * ((x[l] - mu) * r);
    }
    *sg += s1;
    *sgx += s2;
}

/* ==== batch norm ========================================================================
 * attr.i: 0 gamma input index (-1 none), 1 beta, 2 running_mean, 3 running_var.
 * attr.f: 0 momentum, 1 eps. aux: mean[C], invstd[C], biased batch variance[C], flag (1 = batch statistics used). */

typedef struct bn_dims {
    int64_t N, C, L;
} bn_dims;

static bn_dims bn_dims_of(const dsc_node *x)
{
    bn_dims d = {x->shape.dim[0], x->shape.dim[1], 1};
    for (int k = 2; k < x->shape.ndim; k++)
        d.L *= x->shape.dim[k];
    return d;
}

static const dsc_node *bn_opt(dsc_graph *g, const dsc_node *n, int which)
{
    int k = (int)n->attr.i[which];
    return k >= 0 ? dsc_in(g, n, k) : NULL;
}

static dsc_status bn_infer(dsc_graph *g, dsc_node *n)
{
    const dsc_node *x = dsc_in(g, n, 0);
    char b[96], b2[96];
    if (x->shape.ndim < 2)
        return DSC_ERROR(DSC_ERR_SHAPE, "batch_norm: input %s must be [N, C], [N, C, L] or [N, C, H, W]",
                         dsc_shape_str(&x->shape, b, sizeof b));
    int64_t C = x->shape.dim[1];
    static const char *what[4] = {"gamma", "beta", "running_mean", "running_var"};
    for (int k = 0; k < 4; k++) {
        const dsc_node *p = bn_opt(g, n, k);
        if (p && (p->shape.ndim != 1 || p->shape.dim[0] != C))
            return DSC_ERROR(DSC_ERR_SHAPE, "batch_norm: %s %s must be [%lld] for input %s (%lld channels)", what[k],
                             dsc_shape_str(&p->shape, b2, sizeof b2), (long long)C,
                             dsc_shape_str(&x->shape, b, sizeof b), (long long)C);
        if (p && p->has_batch)
            return DSC_ERROR(DSC_ERR_SHAPE, "batch_norm: %s must not depend on the batch", what[k]);
    }
    if ((n->attr.i[2] < 0) != (n->attr.i[3] < 0))
        return DSC_ERROR(DSC_ERR_INVALID, "batch_norm: give both running_mean and running_var, or neither");
    for (int k = 2; k < 4; k++) {
        const dsc_node *p = bn_opt(g, n, k);
        if (p && p->kind != DSC_NODE_BUFFER)
            return DSC_ERROR(DSC_ERR_INVALID, "batch_norm: %s must be a buffer node (dsc_buffer)", what[k]);
    }
    float mom = n->attr.f[0], eps = n->attr.f[1];
    if (!(mom >= 0.0f && mom <= 1.0f))
        return DSC_ERROR(DSC_ERR_RANGE, "batch_norm: momentum %g must be in [0, 1]", (double)mom);
    if (!(eps > 0.0f))
        return DSC_ERROR(DSC_ERR_RANGE, "batch_norm: eps %g must be > 0", (double)eps);
    n->shape = x->shape;
    n->aux_size = 3 * C + 1;
    return DSC_OK;
}

static void bn_forward(dsc_graph *g, dsc_node *n)
{
    const dsc_node *xn = dsc_in(g, n, 0), *gm = bn_opt(g, n, 0), *bt = bn_opt(g, n, 1);
    const dsc_node *rmn = bn_opt(g, n, 2), *rvn = bn_opt(g, n, 3);
    const bn_dims d = bn_dims_of(xn);
    const int batch_stats = g->training || !rmn;
    const float eps = n->attr.f[1], mom = n->attr.f[0];
    const float *x = xn->value;
    float *y = n->value, *mean = n->aux, *invstd = n->aux + d.C;
    const int64_t M = d.N * d.L;
    n->aux[3 * d.C] = (float)batch_stats;
#pragma omp parallel for schedule(static) if (d.N * d.C * d.L > NORM_PAR_MIN)
    for (int64_t c = 0; c < d.C; c++) {
        float mu, r;
        if (batch_stats) {
            double s = 0.0, s2 = 0.0;
            for (int64_t i = 0; i < d.N; i++)
                s += row_sum(x + (i * d.C + c) * d.L, d.L);
            mu = (float)(s / (double)M);
            for (int64_t i = 0; i < d.N; i++)
                s2 += row_sqdev(x + (i * d.C + c) * d.L, d.L, mu);
            r = (float)(1.0 / sqrt(s2 / (double)M + eps));
            n->aux[2 * d.C + c] = (float)(s2 / (double)M);
        } else {
            mu = rmn->value[c];
            r = 1.0f / sqrtf(rvn->value[c] + eps);
        }
        mean[c] = mu;
        invstd[c] = r;
        const float ga = gm ? gm->value[c] : 1.0f, be = bt ? bt->value[c] : 0.0f;
        const float sc = ga * r;
        for (int64_t i = 0; i < d.N; i++) {
            const float *xp = x + (i * d.C + c) * d.L;
            float *yp = y + (i * d.C + c) * d.L;
            for (int64_t l = 0; l < d.L; l++)
                yp[l] = (xp[l] - mu) * sc + be;
        }
    }
    if (!(g->training && rmn) || g->recomputing)
        return;
    if (M < 2) {
        char b[96];
        dsc_graph_run_error(g, DSC_ERR_SHAPE,
                            "batch_norm '%s': expected more than 1 value per channel when training, got input %s",
                            n->name, dsc_shape_str(&xn->shape, b, sizeof b));
        return;
    }
    float *rm = rmn->value, *rv = rvn->value;
    for (int64_t c = 0; c < d.C; c++) {
        /* Unbiased variance = biased var M/(M-1) (torch). */
        const double var = n->aux[2 * d.C + c];
        rm[c] = (1.0f - mom) * rm[c] + mom * mean[c];
        rv[c] = (1.0f - mom) * rv[c] + mom * (float)(var * (double)M / (double)(M - 1));
    }
}

static void bn_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *xn = dsc_in(g, n, 0), *gm = (dsc_node *)bn_opt(g, n, 0), *bt = (dsc_node *)bn_opt(g, n, 1);
    const bn_dims d = bn_dims_of(xn);
    const int batch_stats = n->aux[3 * d.C] != 0.0f;
    const float *x = xn->value, *gy = n->grad, *mean = n->aux, *invstd = n->aux + d.C;
    float *gx = xn->grad, *gg = gm ? gm->grad : NULL, *gb = bt ? bt->grad : NULL;
    const double M = (double)(d.N * d.L);
#pragma omp parallel for schedule(static) if (d.N * d.C * d.L > NORM_PAR_MIN)
    for (int64_t c = 0; c < d.C; c++) {
        const float mu = mean[c], r = invstd[c];
        double sg = 0.0, sgx = 0.0;
        for (int64_t i = 0; i < d.N; i++) {
            const int64_t o = (i * d.C + c) * d.L;
            row_g_gxh(gy + o, x + o, d.L, mu, r, &sg, &sgx);
        }
        if (gg)
            gg[c] += (float)sgx;
        if (gb)
            gb[c] += (float)sg;
        if (!gx)
            continue;
        const float ga = gm ? gm->value[c] : 1.0f, sc = ga * r;
        const float A = batch_stats ? (float)(sg / M) : 0.0f, B = batch_stats ? (float)(sgx / M) : 0.0f;
        const float rB = r * B;
        for (int64_t i = 0; i < d.N; i++) {
            const int64_t o = (i * d.C + c) * d.L;
            for (int64_t l = 0; l < d.L; l++)
                gx[o + l] += sc * (gy[o + l] - A - (x[o + l] - mu) * rB);
        }
    }
}

static void bn_jvp(dsc_graph *g, dsc_node *n)
{
    const dsc_node *xn = dsc_in(g, n, 0), *gm = bn_opt(g, n, 0), *bt = bn_opt(g, n, 1);
    const bn_dims d = bn_dims_of(xn);
    const int batch_stats = n->aux[3 * d.C] != 0.0f;
    const float *x = xn->value, *tx = xn->tangent, *mean = n->aux, *invstd = n->aux + d.C;
    float *ty = n->tangent;
    const double M = (double)(d.N * d.L);
#pragma omp parallel for schedule(static) if (d.N * d.C * d.L > NORM_PAR_MIN)
    for (int64_t c = 0; c < d.C; c++) {
        const float mu = mean[c], r = invstd[c];
        float P = 0.0f, Q = 0.0f;
        if (batch_stats) {
            double sp = 0.0, sq = 0.0;
            for (int64_t i = 0; i < d.N; i++) {
                const int64_t o = (i * d.C + c) * d.L;
                for (int64_t l = 0; l < d.L; l++) {
                    sp += tx[o + l];
                    sq += (double)tx[o + l] * ((x[o + l] - mu) * r);
                }
            }
            P = (float)(sp / M);
            Q = (float)(sq / M);
        }
        const float ga = gm ? gm->value[c] : 1.0f, tg = gm ? gm->tangent[c] : 0.0f, tb = bt ? bt->tangent[c] : 0.0f;
        for (int64_t i = 0; i < d.N; i++) {
            const int64_t o = (i * d.C + c) * d.L;
            for (int64_t l = 0; l < d.L; l++) {
                const float xh = (x[o + l] - mu) * r;
                ty[o + l] = ga * r * (tx[o + l] - P - xh * Q) + tg * xh + tb;
            }
        }
    }
}

static void bn_vjp_rop(dsc_graph *g, dsc_node *n)
{
    dsc_node *xn = dsc_in(g, n, 0), *gm = (dsc_node *)bn_opt(g, n, 0);
    const bn_dims d = bn_dims_of(xn);
    const int batch_stats = n->aux[3 * d.C] != 0.0f;
    const float *x = xn->value, *tx = xn->tangent, *gy = n->grad, *mean = n->aux, *invstd = n->aux + d.C;
    float *rx = xn->grad_tangent, *rg = gm ? gm->grad_tangent : NULL;
    if (!rx && !rg)
        return;
    const double M = (double)(d.N * d.L);
#pragma omp parallel for schedule(static) if (d.N * d.C * d.L > NORM_PAR_MIN)
    for (int64_t c = 0; c < d.C; c++) {
        const float mu = mean[c], r = invstd[c];
        const float ga = gm ? gm->value[c] : 1.0f, tg = gm ? gm->tangent[c] : 0.0f;
        double sg = 0.0, sgx = 0.0, sp = 0.0, sq = 0.0, sc = 0.0;
        for (int64_t i = 0; i < d.N; i++) {
            const int64_t o = (i * d.C + c) * d.L;
            for (int64_t l = 0; l < d.L; l++) {
                const double xh = (x[o + l] - mu) * r;
                sg += gy[o + l];
                sgx += gy[o + l] * xh;
                sp += tx[o + l];
                sq += tx[o + l] * xh;
                sc += (double)gy[o + l] * tx[o + l];
            }
        }
        if (!batch_stats) {
            /* Affine in x with fixed statistics: only the gamma-x cross terms. */
            if (rg)
                rg[c] += (float)(sc * r);
            if (rx)
                for (int64_t i = 0; i < d.N; i++) {
                    const int64_t o = (i * d.C + c) * d.L;
                    for (int64_t l = 0; l < d.L; l++)
                        rx[o + l] += tg * r * gy[o + l];
                }
            continue;
        }
        const double A = sg / M, B = sgx / M, P = sp / M, Q = sq / M, Cm = sc / M;
        const double Bp = r * (Cm - A * P - B * Q); /* B' = mean(g xh') */
        if (rg)
            rg[c] += (float)(M * Bp);
        if (!rx)
            continue;
        const float k1 = (float)(tg * r - ga * (double)r * r * Q), k2 = (float)(ga * (double)r * r * B);
        const float k3 = (float)(ga * r * Bp), Af = (float)A, Bf = (float)B, Pf = (float)P, Qf = (float)Q;
        for (int64_t i = 0; i < d.N; i++) {
            const int64_t o = (i * d.C + c) * d.L;
            for (int64_t l = 0; l < d.L; l++) {
                const float xh = (x[o + l] - mu) * r;
                rx[o + l] += k1 * (gy[o + l] - Af - xh * Bf) - k2 * (tx[o + l] - Pf - xh * Qf) - k3 * xh;
            }
        }
    }
}

/* Eval mode only (train mode mixes the batch; the engine refuses it): example b's share of
 * gamma.grad[c] is sum_l g xh over its own elements, of beta.grad[c] sum_l g. */
static void bn_per_example(dsc_graph *g, dsc_node *n, int input, float *out, size_t ld)
{
    const dsc_node *xn = dsc_in(g, n, 0);
    const bn_dims d = bn_dims_of(xn);
    if (n->aux[3 * d.C] != 0.0f) {
        dsc_graph_run_error(g, DSC_ERR_UNSUPPORTED,
                            "per-example gradients: batch_norm '%s' normalizes with batch statistics (no running "
                            "buffers), which mixes the examples", n->name);
        return;
    }
    const int is_gamma = input == n->attr.i[0];
    const float *x = xn->value, *gy = n->grad, *mean = n->aux, *invstd = n->aux + d.C;
#pragma omp parallel for schedule(static) if (d.N * d.C * d.L > NORM_PAR_MIN)
    for (int64_t i = 0; i < d.N; i++)
        for (int64_t c = 0; c < d.C; c++) {
            const int64_t o = (i * d.C + c) * d.L;
            const float mu = mean[c], r = invstd[c];
            float s = 0.0f;
            for (int64_t l = 0; l < d.L; l++)
                s += is_gamma ? gy[o + l] * ((x[o + l] - mu) * r) : gy[o + l];
            out[(size_t)i * ld + (size_t)c] += s;
        }
}

static const dsc_op OP_BATCH_NORM = {"batch_norm", bn_infer, bn_forward, bn_vjp, bn_jvp, bn_vjp_rop,
                                     bn_per_example, NULL, DSC_OP_MIXES_BATCH};

dsc_id dsc_batch_norm(dsc_graph *g, dsc_id x, dsc_id gamma, dsc_id beta, dsc_id running_mean, dsc_id running_var,
                      float momentum, float eps)
{
    dsc_attr a;
    memset(&a, 0, sizeof a);
    dsc_id in[5] = {x};
    int k = 1;
    const dsc_id opt[4] = {gamma, beta, running_mean, running_var};
    for (int j = 0; j < 4; j++) {
        a.i[j] = opt[j] >= 0 ? k : -1;
        if (opt[j] >= 0)
            in[k++] = opt[j];
    }
    a.f[0] = momentum;
    a.f[1] = eps;
    return dsc_graph_add_op(g, &OP_BATCH_NORM, k, in, &a);
}

/* ==== layer norm ========================================================================
 * attr.i: 0 nnorm, 1 gamma input index (-1 none), 2 beta. attr.f: 0 eps.
 * aux: mean[R], invstd[R] for the R rows. scratch: P[R], Q[R] (R-op). */

#define LN_COLS 64 /* column chunk of the parameter-gradient sums */

static const dsc_node *ln_opt(dsc_graph *g, const dsc_node *n, int which)
{
    int k = (int)n->attr.i[which];
    return k >= 0 ? dsc_in(g, n, k) : NULL;
}

static void ln_dims(const dsc_node *n, int64_t *R, int64_t *D)
{
    int nn = (int)n->attr.i[0];
    *D = 1;
    for (int k = n->shape.ndim - nn; k < n->shape.ndim; k++)
        *D *= n->shape.dim[k];
    *R = *D ? dsc_numel(n) / *D : 0;
}

static dsc_status ln_infer(dsc_graph *g, dsc_node *n)
{
    const dsc_node *x = dsc_in(g, n, 0);
    char b[96], b2[96];
    int nn = (int)n->attr.i[0], nd = x->shape.ndim;
    if (nn < 1 || nn > nd || (x->has_batch && nn >= nd))
        return DSC_ERROR(DSC_ERR_SHAPE, "layer_norm: cannot normalize over the last %d dims of input %s%s", nn,
                         dsc_shape_str(&x->shape, b, sizeof b),
                         x->has_batch ? " (the batch dim 0 is not normalized over)" : "");
    for (int w = 1; w <= 2; w++) {
        const dsc_node *p = ln_opt(g, n, w);
        if (!p)
            continue;
        int ok = p->shape.ndim == nn && !p->has_batch;
        for (int k = 0; ok && k < nn; k++)
            ok = p->shape.dim[k] == x->shape.dim[nd - nn + k];
        if (!ok)
            return DSC_ERROR(DSC_ERR_SHAPE, "layer_norm: %s %s must have the shape of the last %d dims of input %s",
                             w == 1 ? "gamma" : "beta", dsc_shape_str(&p->shape, b2, sizeof b2), nn,
                             dsc_shape_str(&x->shape, b, sizeof b));
    }
    if (!(n->attr.f[0] > 0.0f))
        return DSC_ERROR(DSC_ERR_RANGE, "layer_norm: eps %g must be > 0", (double)n->attr.f[0]);
    n->shape = x->shape;
    int64_t R, D;
    ln_dims(n, &R, &D);
    n->aux_size = 2 * R;
    n->scratch_size = 2 * R;
    return DSC_OK;
}

static void ln_forward(dsc_graph *g, dsc_node *n)
{
    const dsc_node *gm = ln_opt(g, n, 1), *bt = ln_opt(g, n, 2);
    int64_t R, D;
    ln_dims(n, &R, &D);
    const float eps = n->attr.f[0];
    const float *x = dsc_in(g, n, 0)->value, *ga = gm ? gm->value : NULL, *be = bt ? bt->value : NULL;
    float *y = n->value, *mean = n->aux, *invstd = n->aux + R;
#pragma omp parallel for schedule(static) if (R * D > NORM_PAR_MIN)
    for (int64_t r = 0; r < R; r++) {
        const float *xr = x + r * D;
        float *yr = y + r * D;
        double s = 0.0, s2 = 0.0;
        for (int64_t j = 0; j < D; j++)
            s += xr[j];
        const double mud = s / (double)D;
        for (int64_t j = 0; j < D; j++)
            s2 += (xr[j] - mud) * (xr[j] - mud);
        const float mu = (float)mud, rs = (float)(1.0 / sqrt(s2 / (double)D + eps));
        mean[r] = mu;
        invstd[r] = rs;
        for (int64_t j = 0; j < D; j++) {
            float v = (xr[j] - mu) * rs;
            if (ga)
                v *= ga[j];
            if (be)
                v += be[j];
            yr[j] = v;
        }
    }
}

/* gamma/beta gradient sums over rows: columns split in chunks, rows in order (deterministic).
 * With tangent stats (P, Q non-NULL) sums g xh' instead of g xh (the R-op term). */
static void ln_param_sums(int64_t R, int64_t D, const float *x, const float *gy, const float *mean,
                          const float *invstd, const float *P, const float *Q, const float *tx, float *gg, float *gb)
{
    const int64_t chunks = (D + LN_COLS - 1) / LN_COLS;
#pragma omp parallel for schedule(static) if (R * D > NORM_PAR_MIN)
    for (int64_t ch = 0; ch < chunks; ch++) {
        const int64_t j0 = ch * LN_COLS, j1 = j0 + LN_COLS < D ? j0 + LN_COLS : D;
        double sg[LN_COLS], sb[LN_COLS];
        memset(sg, 0, sizeof sg);
        memset(sb, 0, sizeof sb);
        for (int64_t r = 0; r < R; r++) {
            const float *xr = x + r * D, *gr = gy + r * D;
            const float mu = mean[r], rs = invstd[r];
            if (P) {
                const float *tr = tx + r * D;
                for (int64_t j = j0; j < j1; j++)
                    sg[j - j0] += gr[j] * (rs * (tr[j] - P[r] - (xr[j] - mu) * rs * Q[r]));
            } else {
                for (int64_t j = j0; j < j1; j++) {
                    sg[j - j0] += gr[j] * ((xr[j] - mu) * rs);
                    sb[j - j0] += gr[j];
                }
            }
        }
        for (int64_t j = j0; j < j1; j++) {
            if (gg)
                gg[j] += (float)sg[j - j0];
            if (gb)
                gb[j] += (float)sb[j - j0];
        }
    }
}

static void ln_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *xn = dsc_in(g, n, 0), *gm = (dsc_node *)ln_opt(g, n, 1), *bt = (dsc_node *)ln_opt(g, n, 2);
    int64_t R, D;
    ln_dims(n, &R, &D);
    const float *x = xn->value, *gy = n->grad, *ga = gm ? gm->value : NULL, *mean = n->aux, *invstd = n->aux + R;
    float *gx = xn->grad;
    if (gx) {
#pragma omp parallel for schedule(static) if (R * D > NORM_PAR_MIN)
        for (int64_t r = 0; r < R; r++) {
            const float *xr = x + r * D, *gr = gy + r * D;
            float *gxr = gx + r * D;
            const float mu = mean[r], rs = invstd[r];
            double sa = 0.0, sb = 0.0;
            for (int64_t j = 0; j < D; j++) {
                const float h = ga ? gr[j] * ga[j] : gr[j];
                sa += h;
                sb += h * ((xr[j] - mu) * rs);
            }
            const float A = (float)(sa / (double)D), B = (float)(sb / (double)D);
            for (int64_t j = 0; j < D; j++) {
                const float h = ga ? gr[j] * ga[j] : gr[j];
                gxr[j] += rs * (h - A - (xr[j] - mu) * rs * B);
            }
        }
    }
    float *gg = gm ? gm->grad : NULL, *gb = bt ? bt->grad : NULL;
    if (gg || gb)
        ln_param_sums(R, D, x, gy, mean, invstd, NULL, NULL, NULL, gg, gb);
}

static void ln_jvp(dsc_graph *g, dsc_node *n)
{
    const dsc_node *xn = dsc_in(g, n, 0), *gm = ln_opt(g, n, 1), *bt = ln_opt(g, n, 2);
    int64_t R, D;
    ln_dims(n, &R, &D);
    const float *x = xn->value, *tx = xn->tangent, *mean = n->aux, *invstd = n->aux + R;
    const float *ga = gm ? gm->value : NULL, *tg = gm ? gm->tangent : NULL, *tb = bt ? bt->tangent : NULL;
    float *ty = n->tangent;
#pragma omp parallel for schedule(static) if (R * D > NORM_PAR_MIN)
    for (int64_t r = 0; r < R; r++) {
        const float *xr = x + r * D, *tr = tx + r * D;
        float *yr = ty + r * D;
        const float mu = mean[r], rs = invstd[r];
        double sp = 0.0, sq = 0.0;
        for (int64_t j = 0; j < D; j++) {
            sp += tr[j];
            sq += tr[j] * ((xr[j] - mu) * rs);
        }
        const float P = (float)(sp / (double)D), Q = (float)(sq / (double)D);
        for (int64_t j = 0; j < D; j++) {
            const float xh = (xr[j] - mu) * rs;
            float v = rs * (tr[j] - P - xh * Q);
            if (ga)
                v = v * ga[j] + tg[j] * xh;
            if (tb)
                v += tb[j];
            yr[j] = v;
        }
    }
}

static void ln_vjp_rop(dsc_graph *g, dsc_node *n)
{
    dsc_node *xn = dsc_in(g, n, 0), *gm = (dsc_node *)ln_opt(g, n, 1);
    int64_t R, D;
    ln_dims(n, &R, &D);
    const float *x = xn->value, *tx = xn->tangent, *gy = n->grad, *mean = n->aux, *invstd = n->aux + R;
    const float *ga = gm ? gm->value : NULL, *tg = gm ? gm->tangent : NULL;
    float *rx = xn->grad_tangent, *rg = gm ? gm->grad_tangent : NULL;
    if (!rx && !rg)
        return;
    float *Ps = g->scratch, *Qs = g->scratch + R;
#pragma omp parallel for schedule(static) if (R * D > NORM_PAR_MIN)
    for (int64_t r = 0; r < R; r++) {
        const float *xr = x + r * D, *tr = tx + r * D, *gr = gy + r * D;
        const float mu = mean[r], rs = invstd[r];
        double sa = 0, sb = 0, sp = 0, sq = 0, sc = 0, se = 0, sf = 0;
        for (int64_t j = 0; j < D; j++) {
            const double xh = (xr[j] - mu) * rs;
            const double h = ga ? (double)gr[j] * ga[j] : gr[j];
            const double th = tg ? (double)gr[j] * tg[j] : 0.0;
            sa += h;
            sb += h * xh;
            sp += tr[j];
            sq += tr[j] * xh;
            sc += h * tr[j];
            se += th;
            sf += th * xh;
        }
        const double A = sa / D, B = sb / D, P = sp / D, Q = sq / D, Cm = sc / D, E = se / D, F = sf / D;
        Ps[r] = (float)P;
        Qs[r] = (float)Q;
        if (!rx)
            continue;
        const double Bp = F + rs * (Cm - A * P - B * Q);
        const double r2Q = (double)rs * rs * Q;
        float *rr = rx + r * D;
        for (int64_t j = 0; j < D; j++) {
            const double xh = (xr[j] - mu) * rs;
            const double h = ga ? (double)gr[j] * ga[j] : gr[j];
            const double th = tg ? (double)gr[j] * tg[j] : 0.0;
            const double xhp = rs * (tr[j] - P - xh * Q);
            rr[j] += (float)(-r2Q * (h - A - xh * B) + rs * (th - E - xhp * B - xh * Bp));
        }
    }
    if (rg)
        ln_param_sums(R, D, x, gy, mean, invstd, Ps, Qs, tx, rg, NULL);
}

/* Example b owns rows [b R/B, (b+1) R/B) (the batch is dim 0, never normalized over). */
static void ln_per_example(dsc_graph *g, dsc_node *n, int input, float *out, size_t ld)
{
    int64_t R, D;
    ln_dims(n, &R, &D);
    const int64_t B = n->shape.dim[0], Rb = R / B;
    const int is_gamma = input == n->attr.i[1];
    const float *x = dsc_in(g, n, 0)->value, *gy = n->grad, *mean = n->aux, *invstd = n->aux + R;
#pragma omp parallel for schedule(static) if (R * D > NORM_PAR_MIN)
    for (int64_t b = 0; b < B; b++) {
        float *o = out + (size_t)b * ld;
        for (int64_t r = b * Rb; r < (b + 1) * Rb; r++) {
            const float *xr = x + r * D, *gr = gy + r * D;
            const float mu = mean[r], rs = invstd[r];
            if (is_gamma)
                for (int64_t j = 0; j < D; j++)
                    o[j] += gr[j] * ((xr[j] - mu) * rs);
            else
                for (int64_t j = 0; j < D; j++)
                    o[j] += gr[j];
        }
    }
}

static const dsc_op OP_LAYER_NORM = {"layer_norm", ln_infer, ln_forward, ln_vjp, ln_jvp, ln_vjp_rop,
                                     ln_per_example, NULL, 0};

dsc_id dsc_layer_norm(dsc_graph *g, dsc_id x, int nnorm, dsc_id gamma, dsc_id beta, float eps)
{
    dsc_attr a;
    memset(&a, 0, sizeof a);
    dsc_id in[3] = {x};
    int k = 1;
    a.i[0] = nnorm;
    a.i[1] = gamma >= 0 ? k : -1;
    if (gamma >= 0)
        in[k++] = gamma;
    a.i[2] = beta >= 0 ? k : -1;
    if (beta >= 0)
        in[k++] = beta;
    a.f[0] = eps;
    return dsc_graph_add_op(g, &OP_LAYER_NORM, k, in, &a);
}
