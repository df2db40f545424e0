/* 2-d pooling: max_pool2d, avg_pool2d, global_avg_pool2d (PyTorch semantics, NCHW).
 *
 * Output size (torch.nn.functional.max_pool2d / avg_pool2d, dilation 1):
 *   out = floor_or_ceil((H + 2p - k) / s) + 1, and with ceil_mode the last window is dropped
 *   when it would start in the right padding: if ((out - 1) s >= H + p) out--.
 *
 * max_pool2d: y = max over the window of x (padding counts as -inf, so it never wins; every
 *   window holds at least one real element because p <= k/2). The first maximum in row-major
 *   window order wins ties, and NaN propagates, as in torch's CPU kernel. The argmax (offset
 *   in the H*W plane) is saved in n->aux. Given the argmax the op is linear:
 *   VJP x.grad[argmax] += y.grad;  JVP y' = x'[argmax];  no R-op term.
 * avg_pool2d: y = sum over the window / divisor, where the window is clipped to [-p, H + p)
 *   and divisor = its size when count_include_pad, else the number of real elements in it
 *   (torch's avg_pool2d without divisor_override). Linear: VJP spreads y.grad / divisor,
 *   JVP pools x'. No R-op term.
 * global_avg_pool2d: [N, C, H, W] -> [N, C], mean over H*W (adaptive_avg_pool2d(x, 1)
 *   flattened). Linear.
 *
 * Threads split the N*C planes; each plane's accumulation (overlapping windows in the VJP)
 * runs in a fixed order, so results do not depend on the thread count. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "descent/ops.h"
#include "autodiff/graph_internal.h"

#define POOL_PAR_MIN 16384

/* attr.i: 0..1 kernel, 2..3 stride, 4..5 padding, 6 ceil_mode, 7 count_include_pad. */
typedef struct pool_geom {
    int64_t planes, H, W, OH, OW;
    int kh, kw, sh, sw, ph, pw;
    int include_pad;
} pool_geom;

static void pool_geom_of(dsc_graph *g, const dsc_node *n, pool_geom *p)
{
    const dsc_node *x = dsc_in(g, n, 0);
    p->planes = x->shape.dim[0] * x->shape.dim[1];
    p->H = x->shape.dim[2];
    p->W = x->shape.dim[3];
    p->OH = n->shape.dim[2];
    p->OW = n->shape.dim[3];
    p->kh = (int)n->attr.i[0];
    p->kw = (int)n->attr.i[1];
    p->sh = (int)n->attr.i[2];
    p->sw = (int)n->attr.i[3];
    p->ph = (int)n->attr.i[4];
    p->pw = (int)n->attr.i[5];
    p->include_pad = (int)n->attr.i[7];
}

static int64_t pool_out_size(int64_t in, int k, int s, int p, int ceil_mode)
{
    int64_t num = in + 2 * (int64_t)p - k;
    if (num < 0)
        return 0; /* the kernel does not fit (torch: "Output size is too small") */
    int64_t out = (ceil_mode ? (num + s - 1) / s : num / s) + 1;
    if (ceil_mode && (out - 1) * s >= in + p)
        out--;
    return out;
}

static dsc_status pool_infer(dsc_graph *g, dsc_node *n)
{
    const dsc_node *x = dsc_in(g, n, 0);
    char b[96];
    if (x->shape.ndim != 4)
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: input %s must be 4-d [N, C, H, W]", n->op->name,
                         dsc_shape_str(&x->shape, b, sizeof b));
    const int64_t *a = n->attr.i;
    for (int d = 0; d < 2; d++) {
        if (a[d] < 1 || a[2 + d] < 1 || a[4 + d] < 0)
            return DSC_ERROR(DSC_ERR_INVALID, "%s: kernel %lldx%lld, stride %lldx%lld, padding %lldx%lld: kernel and "
                             "stride must be >= 1 and padding >= 0", n->op->name, (long long)a[0], (long long)a[1],
                             (long long)a[2], (long long)a[3], (long long)a[4], (long long)a[5]);
        if (2 * a[4 + d] > a[d])
            return DSC_ERROR(DSC_ERR_INVALID, "%s: padding %lld must be at most half the kernel size %lld (torch rule)",
                             n->op->name, (long long)a[4 + d], (long long)a[d]);
    }
    int64_t oh = pool_out_size(x->shape.dim[2], (int)a[0], (int)a[2], (int)a[4], (int)a[6]);
    int64_t ow = pool_out_size(x->shape.dim[3], (int)a[1], (int)a[3], (int)a[5], (int)a[6]);
    if (oh < 1 || ow < 1)
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: input %s is too small for kernel %lldx%lld with padding %lldx%lld "
                         "(output would be %lldx%lld)", n->op->name, dsc_shape_str(&x->shape, b, sizeof b),
                         (long long)a[0], (long long)a[1], (long long)a[4], (long long)a[5], (long long)oh,
                         (long long)ow);
    if (x->shape.dim[2] * x->shape.dim[3] > INT32_MAX)
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: planes of %lld elements are too large", n->op->name,
                         (long long)(x->shape.dim[2] * x->shape.dim[3]));
    n->shape = x->shape;
    n->shape.dim[2] = oh;
    n->shape.dim[3] = ow;
    n->aux_size = n->attr.i[8] ? dsc_numel(n) : 0; /* max pool: the argmax of each output */
    return DSC_OK;
}

/* ---- max pool ------------------------------------------------------------------------ */

/* torch's CPU rule: a later element replaces the maximum when strictly greater or NaN. */
#define POOL_TAKE(v_, idx_)          \
    do {                             \
        float pv_ = (v_);            \
        if (pv_ > m || isnan(pv_)) { \
            m = pv_;                 \
            am = (idx_);             \
        }                            \
    } while (0)

/* The 2x2 / stride-2 pool of one plane whose windows all lie inside (2 OH <= H, 2 OW <= W):
 * y[oh, ow] = max(x[2oh, 2ow], x[2oh, 2ow+1], x[2oh+1, 2ow], x[2oh+1, 2ow+1]) and its argmax
 * 2oh W + 2ow + {0, 1, W, W+1}. Same rule as POOL_TAKE (a later element wins when strictly greater
 * or NaN; taking the window's first element before any comparison equals the general path's start
 * from -inf), written with selects instead of branches so that GCC vectorizes the loop over ow
 * (stride-2 loads become even/odd shuffles, the comparisons masks and blends) at -O3 with or
 * without -march=native. (v != v) is isnan(v) without -ffast-math, which the build never uses.
 * The rows of CNN pools are short (OW = 12, 4 in the MNIST CNN), so 128-bit vectors beat the
 * 512-bit ones -march=native picks on AVX-512 machines (measured 0.48 vs 1.04 ms on [128,32,24,24]):
 * no wide vector iteration ever runs and the masked epilogues cost more than the work (noinline:
 * inlined into maxpool_forward, the function would take the caller's vector width). */
#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
__attribute__((target("prefer-vector-width=128"), noinline))
#endif
static void maxpool2x2_plane(const float *restrict xp, float *restrict yp, int32_t *restrict ap, int64_t OH,
                             int64_t OW, int64_t W)
{
    const int32_t W32 = (int32_t)W;
    for (int64_t oh = 0; oh < OH; oh++) {
        const float *r0 = xp + 2 * oh * W, *r1 = r0 + W;
        float *y = yp + oh * OW;
        int32_t *a = ap + oh * OW;
        const int32_t base = (int32_t)(2 * oh * W);
        for (int64_t ow = 0; ow < OW; ow++) {
            const float v0 = r0[2 * ow], v1 = r0[2 * ow + 1], v2 = r1[2 * ow], v3 = r1[2 * ow + 1];
            float m = v0;
            int32_t o = 0;
            int t = (v1 > m) | (v1 != v1);
            m = t ? v1 : m;
            o = t ? 1 : o;
            t = (v2 > m) | (v2 != v2);
            m = t ? v2 : m;
            o = t ? W32 : o;
            t = (v3 > m) | (v3 != v3);
            m = t ? v3 : m;
            o = t ? W32 + 1 : o;
            y[ow] = m;
            a[ow] = base + 2 * (int32_t)ow + o;
        }
    }
}

static void maxpool_forward(dsc_graph *g, dsc_node *n)
{
    pool_geom p;
    pool_geom_of(g, n, &p);
    const float *x = dsc_in(g, n, 0)->value;
    float *y = n->value;
    int32_t *arg = (int32_t *)n->aux;
    const int64_t HW = p.H * p.W, OHW = p.OH * p.OW;
    /* 2x2 / stride 2 / no padding, the pool of CNNs. Every window lies fully inside unless
     * ceil_mode clips the last row or column (odd H or W); then the scalar 2x2 loop below runs.
     * DSC_POOL_GENERIC=1 forces the general loop (tests compare both bit for bit). */
    const int generic = getenv("DSC_POOL_GENERIC") != NULL;
    const int fast2 = !generic && p.kh == 2 && p.kw == 2 && p.sh == 2 && p.sw == 2 && p.ph == 0 && p.pw == 0;
    const int inside2 = fast2 && 2 * p.OH <= p.H && 2 * p.OW <= p.W;
#pragma omp parallel for schedule(static) if (p.planes * OHW > POOL_PAR_MIN)
    for (int64_t pl = 0; pl < p.planes; pl++) {
        const float *xp = x + pl * HW;
        float *yp = y + pl * OHW;
        int32_t *ap = arg + pl * OHW;
        if (inside2) {
            maxpool2x2_plane(xp, yp, ap, p.OH, p.OW, p.W);
            continue;
        }
        if (fast2) {
            for (int64_t oh = 0; oh < p.OH; oh++) {
                const int64_t h = 2 * oh;
                const float *r0 = xp + h * p.W, *r1 = r0 + (h + 1 < p.H ? p.W : 0);
                for (int64_t ow = 0; ow < p.OW; ow++) {
                    const int64_t w = 2 * ow;
                    /* Window elements in row-major order; ceil_mode can clip the last row/column. */
                    int64_t w1 = w + 1 < p.W ? w + 1 : w;
                    float m = r0[w];
                    int64_t am = h * p.W + w;
                    POOL_TAKE(r0[w1], h * p.W + w1);
                    if (h + 1 < p.H) {
                        POOL_TAKE(r1[w], (h + 1) * p.W + w);
                        POOL_TAKE(r1[w1], (h + 1) * p.W + w1);
                    }
                    yp[oh * p.OW + ow] = m;
                    ap[oh * p.OW + ow] = (int32_t)am;
                }
            }
            continue;
        }
        for (int64_t oh = 0; oh < p.OH; oh++) {
            int64_t h0 = oh * p.sh - p.ph, h1 = h0 + p.kh;
            if (h0 < 0) h0 = 0;
            if (h1 > p.H) h1 = p.H;
            for (int64_t ow = 0; ow < p.OW; ow++) {
                int64_t w0 = ow * p.sw - p.pw, w1 = w0 + p.kw;
                if (w0 < 0) w0 = 0;
                if (w1 > p.W) w1 = p.W;
                /* torch starts from -inf with the window's first index. */
                float m = -INFINITY;
                int64_t am = h0 * p.W + w0;
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++) {
                        POOL_TAKE(xp[h * p.W + w], h * p.W + w);
                    }
                yp[oh * p.OW + ow] = m;
                ap[oh * p.OW + ow] = (int32_t)am;
            }
        }
    }
}

static void maxpool_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *xn = dsc_in(g, n, 0);
    if (!xn->grad)
        return;
    pool_geom p;
    pool_geom_of(g, n, &p);
    const int32_t *arg = (const int32_t *)n->aux;
    const float *gy = n->grad;
    float *gx = xn->grad;
    const int64_t HW = p.H * p.W, OHW = p.OH * p.OW;
#pragma omp parallel for schedule(static) if (p.planes * OHW > POOL_PAR_MIN)
    for (int64_t pl = 0; pl < p.planes; pl++) {
        float *gp = gx + pl * HW;
        const float *gyp = gy + pl * OHW;
        const int32_t *ap = arg + pl * OHW;
        for (int64_t k = 0; k < OHW; k++)
            gp[ap[k]] += gyp[k];
    }
}

static void maxpool_jvp(dsc_graph *g, dsc_node *n)
{
    pool_geom p;
    pool_geom_of(g, n, &p);
    const int32_t *arg = (const int32_t *)n->aux;
    const float *tx = dsc_in(g, n, 0)->tangent;
    float *ty = n->tangent;
    const int64_t HW = p.H * p.W, OHW = p.OH * p.OW;
#pragma omp parallel for schedule(static) if (p.planes * OHW > POOL_PAR_MIN)
    for (int64_t pl = 0; pl < p.planes; pl++)
        for (int64_t k = 0; k < OHW; k++)
            ty[pl * OHW + k] = tx[pl * HW + arg[pl * OHW + k]];
}

/* ---- average pool ------------------------------------------------------------------- */

/* Window of output (oh, ow): clipped bounds and 1/divisor (torch avg_pool2d). */
static inline float avg_window(const pool_geom *p, int64_t oh, int64_t ow, int64_t *h0, int64_t *h1, int64_t *w0,
                               int64_t *w1)
{
    int64_t hs = oh * p->sh - p->ph, ws = ow * p->sw - p->pw;
    int64_t he = hs + p->kh, we = ws + p->kw;
    if (he > p->H + p->ph) he = p->H + p->ph;
    if (we > p->W + p->pw) we = p->W + p->pw;
    int64_t pool = (he - hs) * (we - ws);
    if (hs < 0) hs = 0;
    if (ws < 0) ws = 0;
    if (he > p->H) he = p->H;
    if (we > p->W) we = p->W;
    *h0 = hs;
    *h1 = he;
    *w0 = ws;
    *w1 = we;
    int64_t div = p->include_pad ? pool : (he - hs) * (we - ws);
    return div > 0 ? 1.0f / (float)div : 0.0f;
}

static void avgpool_apply(const pool_geom *p, const float *x, float *y)
{
    const int64_t HW = p->H * p->W, OHW = p->OH * p->OW;
#pragma omp parallel for schedule(static) if (p->planes * OHW > POOL_PAR_MIN)
    for (int64_t pl = 0; pl < p->planes; pl++) {
        const float *xp = x + pl * HW;
        for (int64_t oh = 0; oh < p->OH; oh++)
            for (int64_t ow = 0; ow < p->OW; ow++) {
                int64_t h0, h1, w0, w1;
                float inv = avg_window(p, oh, ow, &h0, &h1, &w0, &w1);
                float s = 0.0f;
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++)
                        s += xp[h * p->W + w];
                y[pl * OHW + oh * p->OW + ow] = s * inv;
            }
    }
}

static void avgpool_forward(dsc_graph *g, dsc_node *n)
{
    pool_geom p;
    pool_geom_of(g, n, &p);
    avgpool_apply(&p, dsc_in(g, n, 0)->value, n->value);
}

static void avgpool_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *xn = dsc_in(g, n, 0);
    if (!xn->grad)
        return;
    pool_geom p;
    pool_geom_of(g, n, &p);
    const int64_t HW = p.H * p.W, OHW = p.OH * p.OW;
    const float *gy = n->grad;
    float *gx = xn->grad;
#pragma omp parallel for schedule(static) if (p.planes * OHW > POOL_PAR_MIN)
    for (int64_t pl = 0; pl < p.planes; pl++) {
        float *gp = gx + pl * HW;
        for (int64_t oh = 0; oh < p.OH; oh++)
            for (int64_t ow = 0; ow < p.OW; ow++) {
                int64_t h0, h1, w0, w1;
                float v = gy[pl * OHW + oh * p.OW + ow] * avg_window(&p, oh, ow, &h0, &h1, &w0, &w1);
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++)
                        gp[h * p.W + w] += v;
            }
    }
}

static void avgpool_jvp(dsc_graph *g, dsc_node *n)
{
    pool_geom p;
    pool_geom_of(g, n, &p);
    avgpool_apply(&p, dsc_in(g, n, 0)->tangent, n->tangent);
}

/* The max op's table has vjp_rop NULL like avg's; attr.i[8] = 1 marks max (needs aux). */
static const dsc_op OP_MAX_POOL2D = {"max_pool2d", pool_infer, maxpool_forward, maxpool_vjp, maxpool_jvp, NULL,
                                     NULL, NULL, 0};
static const dsc_op OP_AVG_POOL2D = {"avg_pool2d", pool_infer, avgpool_forward, avgpool_vjp, avgpool_jvp, NULL,
                                     NULL, NULL, 0};

static dsc_id pool_add(dsc_graph *g, const dsc_op *op, dsc_id x, dsc_pool_opts o, int is_max)
{
    dsc_attr a;
    memset(&a, 0, sizeof a);
    for (int d = 0; d < 2; d++) {
        a.i[d] = o.kernel[d];
        a.i[2 + d] = o.stride[d] == 0 ? o.kernel[d] : o.stride[d];
        a.i[4 + d] = o.padding[d];
    }
    a.i[6] = o.ceil_mode != 0;
    a.i[7] = o.count_include_pad != 0;
    a.i[8] = is_max;
    return dsc_graph_add_op(g, op, 1, &x, &a);
}

dsc_id dsc_max_pool2d(dsc_graph *g, dsc_id x, dsc_pool_opts o) { return pool_add(g, &OP_MAX_POOL2D, x, o, 1); }
dsc_id dsc_avg_pool2d(dsc_graph *g, dsc_id x, dsc_pool_opts o) { return pool_add(g, &OP_AVG_POOL2D, x, o, 0); }

/* ---- global average pool -------------------------------------------------------------- */

static dsc_status gap_infer(dsc_graph *g, dsc_node *n)
{
    const dsc_node *x = dsc_in(g, n, 0);
    char b[96];
    if (x->shape.ndim != 4)
        return DSC_ERROR(DSC_ERR_SHAPE, "global_avg_pool2d: input %s must be 4-d [N, C, H, W]",
                         dsc_shape_str(&x->shape, b, sizeof b));
    n->shape.ndim = 2;
    n->shape.dim[0] = x->shape.dim[0];
    n->shape.dim[1] = x->shape.dim[1];
    return DSC_OK;
}

static void gap_apply(const float *x, float *y, int64_t planes, int64_t HW)
{
    const float inv = 1.0f / (float)HW;
#pragma omp parallel for schedule(static) if (planes * HW > POOL_PAR_MIN)
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * HW;
        float s = 0.0f;
        for (int64_t k = 0; k < HW; k++)
            s += xp[k];
        y[pl] = s * inv;
    }
}

static void gap_forward(dsc_graph *g, dsc_node *n)
{
    const dsc_node *x = dsc_in(g, n, 0);
    gap_apply(x->value, n->value, dsc_numel(n), x->shape.dim[2] * x->shape.dim[3]);
}

static void gap_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *x = dsc_in(g, n, 0);
    if (!x->grad)
        return;
    const int64_t planes = dsc_numel(n), HW = x->shape.dim[2] * x->shape.dim[3];
    const float inv = 1.0f / (float)HW;
    const float *gy = n->grad;
    float *gx = x->grad;
#pragma omp parallel for schedule(static) if (planes * HW > POOL_PAR_MIN)
    for (int64_t pl = 0; pl < planes; pl++) {
        const float v = gy[pl] * inv;
        for (int64_t k = 0; k < HW; k++)
            gx[pl * HW + k] += v;
    }
}

static void gap_jvp(dsc_graph *g, dsc_node *n)
{
    const dsc_node *x = dsc_in(g, n, 0);
    gap_apply(x->tangent, n->tangent, dsc_numel(n), x->shape.dim[2] * x->shape.dim[3]);
}

static const dsc_op OP_GAP2D = {"global_avg_pool2d", gap_infer, gap_forward, gap_vjp, gap_jvp, NULL, NULL, NULL, 0};

dsc_id dsc_global_avg_pool2d(dsc_graph *g, dsc_id x) { return dsc_graph_add_op(g, &OP_GAP2D, 1, &x, NULL); }
