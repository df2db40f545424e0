/* Convolutions: conv2d and conv1d (torch.nn.functional.conv2d / conv1d semantics: NCHW,
 * weight [O, C/groups, KH, KW], zero padding, stride, dilation, groups, optional bias).
 * conv1d runs the 2-D kernels with H = KH = 1.
 *
 * Lowering (im2col + GEMM). For a chunk of `nb` examples the columns are
 *   col[(c, kh, kw), (j, oh, ow)] = x[e0 + j, c, oh*sh - ph + kh*dh, ow*sw - pw + kw*dw]
 * (0 outside the image), a [C*KH*KW, nb*OH*OW] matrix, so each group's product is ONE large
 * GEMM over all examples of the chunk:
 *   forward  Y_g [O/G, nb*OHW] = W_g [O/G, C/G*KH*KW] col_g;  y[e, o, p] = Y[o, (j, p)] + b[o]
 *   VJP      gW_g += gY_g col_g^T   (gY = the cotangent gathered into [O, nb*OHW])
 *            gcol_g = W_g^T gY_g,  gx = col2im(gcol)  (scatter-add of every tap)
 *            gb[o] += sum_{e, p} gy[e, o, p]
 *   JVP      ty = conv(tx, W) + conv(x, tW) + tb
 *   R-op     gx~ += col2im(tW^T gY)  (= conv_transpose(gy, tW)),  gW~ += gY col(tx)^T
 *            (conv is bilinear in (x, W); the engine adds the VJP of the cotangent's tangent)
 *   per-example  gW_e = gy_e col_e^T,  gb_e[o] = sum_p gy_e[o, p]
 * Chunks: nb = examples per chunk is fixed by the shapes (about CONV_COL_TARGET floats of
 * columns), never by the thread count, and so are the lanes that run chunks in parallel.
 * Weight gradients accumulate chunk after chunk (beta = 1) within a lane, then lane after
 * lane; inside a chunk the sum over (j, p) is the K loop of GEMM calls whose blocks are
 * fixed by the shapes (conv_gemm). im2col, col2im, scatter and gather are parallel over
 * independent rows / (example, channel) planes. So results are bit-identical for any
 * thread count.
 * Workspace (g->scratch), per lane (see "chunk scheduling"): col, gcol [C*KH*KW, nb*OHW],
 * Y [O, nb*OHW] and a weight-gradient partial [O, C/G*KH*KW]. Column cache
 * (n->aux, when at most CONV_CACHE_MAX floats): the forward pass leaves col(x) of every
 * chunk there, so the backward pass, the JVP (which the engine runs right after the
 * forward) and the per-example rule need no second im2col of x. */
#include <string.h>

#include "descent/ops.h"
#include "descent/runtime.h"
#include "ops/im2col.h"
#include "autodiff/graph_internal.h"

/* Target size (floats) of one chunk's column matrix: 1 MiB, about a core's L2, so the GEMM
 * reads columns that im2col just wrote from cache; larger chunks measured no faster on the
 * benchmark CNN (2^17 .. 2^22 tried). */
#define CONV_COL_TARGET (1 << 18)

typedef struct conv_geom {
    int N, C, H, W, O, KH, KW, OH, OW;
    int sh, sw, ph, pw, dh, dw, G;
    int Cg, Og, CKK, CKKg, OHW, HW;
    int bc;      /* examples per chunk */
    int in_lane; /* running inside a lane: GEMMs whole in the calling thread */
    int is1d, has_bias;
} conv_geom;

#define CA_IS1D 7
#define CA_CACHE 8 /* 0 = undecided, 1 = keep the forward's columns in aux, 2 = recompute */

/* The forward's columns of x are kept in n->aux for the backward pass (and the JVP, the
 * per-example rule) when they take at most this many floats at the batch size the node was
 * built with; larger layers recompute them (im2col costs ~10% of a conv's time). */
#define CONV_CACHE_MAX (1 << 23)

static int conv_out_size(int in, int pad, int dil, int k, int stride)
{
    int span = dil * (k - 1) + 1;
    if (in + 2 * pad < span)
        return 0;
    return (in + 2 * pad - span) / stride + 1;
}

static int chunk_examples(int N, int64_t per_example)
{
    int64_t bc = per_example > 0 ? CONV_COL_TARGET / per_example : N;
    if (bc < 1)
        bc = 1;
    if (bc > N)
        bc = N;
    /* Even chunks: 128 examples with a limit of 40 become 4 chunks of 32, not 40+40+40+8. */
    int nchunks = (int)((N + bc - 1) / bc);
    return (N + nchunks - 1) / nchunks;
}

static void conv_geometry(dsc_graph *g, const dsc_node *n, conv_geom *q)
{
    const dsc_shape *xs = &dsc_in(g, n, 0)->shape, *ws = &dsc_in(g, n, 1)->shape;
    q->in_lane = 0;
    q->is1d = (int)n->attr.i[CA_IS1D];
    q->has_bias = n->n_in > 2;
    q->N = (int)xs->dim[0];
    q->C = (int)xs->dim[1];
    q->O = (int)ws->dim[0];
    if (q->is1d) {
        q->H = 1;
        q->W = (int)xs->dim[2];
        q->KH = 1;
        q->KW = (int)ws->dim[2];
    } else {
        q->H = (int)xs->dim[2];
        q->W = (int)xs->dim[3];
        q->KH = (int)ws->dim[2];
        q->KW = (int)ws->dim[3];
    }
    q->sh = (int)n->attr.i[0];
    q->sw = (int)n->attr.i[1];
    q->ph = (int)n->attr.i[2];
    q->pw = (int)n->attr.i[3];
    q->dh = (int)n->attr.i[4];
    q->dw = (int)n->attr.i[5];
    q->G = (int)n->attr.i[6];
    q->OH = conv_out_size(q->H, q->ph, q->dh, q->KH, q->sh);
    q->OW = conv_out_size(q->W, q->pw, q->dw, q->KW, q->sw);
    q->Cg = q->C / q->G;
    q->Og = q->O / q->G;
    q->CKKg = q->Cg * q->KH * q->KW;
    q->CKK = q->C * q->KH * q->KW;
    q->OHW = q->OH * q->OW;
    q->HW = q->H * q->W;
    q->bc = chunk_examples(q->N, (int64_t)q->CKK * q->OHW);
}

/* ---- lowering kernels ------------------------------------------------------------- */

/* Valid output range [lo, hi) along one axis for tap offset i0 = k*d - pad: 0 <= i0 + o*s < in. */
static void valid_range(int i0, int s, int in, int out, int *lo, int *hi)
{
    int l = i0 >= 0 ? 0 : (-i0 + s - 1) / s;
    int h = in - 1 - i0 < 0 ? 0 : (in - 1 - i0) / s + 1;
    if (h > out)
        h = out;
    if (l > out)
        l = out;
    if (h < l)
        h = l;
    *lo = l;
    *hi = h;
}

/* The rows copied here are short (OW floats, often 8-32): inline vector loops beat library
 * calls, but GCC turns such loops back into memcpy/memset calls (loop distribution), which
 * made im2col 3x slower on the benchmark CNN. So that transformation is off for the
 * lowering kernels. */
#if defined(__GNUC__) && !defined(__clang__)
#define CONV_NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define CONV_NO_LIBCALLS
#endif

/* Blocks of 8 (one AVX vector, a fixed-size inner loop the compiler unrolls), then a tail. */
CONV_NO_LIBCALLS static inline void row_copy(float *restrict d, const float *restrict s, int n)
{
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            d[i + k] = s[i + k];
    for (; i < n; i++)
        d[i] = s[i];
}
CONV_NO_LIBCALLS static inline void row_add(float *restrict d, const float *restrict s, int n)
{
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            d[i + k] += s[i + k];
    for (; i < n; i++)
        d[i] += s[i];
}
CONV_NO_LIBCALLS static inline void row_copy_strided(float *restrict d, const float *restrict s, int n, int stride)
{
    for (int i = 0; i < n; i++)
        d[i] = s[(size_t)i * stride];
}
CONV_NO_LIBCALLS static inline void row_zero(float *restrict d, int n)
{
    for (int i = 0; i < n; i++)
        d[i] = 0.0f;
}

/* col[r, j*OHW + p] for examples e0..e0+nb-1 of x [N, C, H, W]; ld = nb*OHW. */
CONV_NO_LIBCALLS static void im2col(const conv_geom *q, const float *x, int e0, int nb, float *col)
{
    const int KK = q->KH * q->KW, ld = nb * q->OHW, OW = q->OW;
#pragma omp parallel for schedule(static) if ((int64_t)q->CKK * ld > 32768)
    for (int r = 0; r < q->CKK; r++) {
        int c = r / KK, kh = (r % KK) / q->KW, kw = r % q->KW;
        int ih0 = kh * q->dh - q->ph, iw0 = kw * q->dw - q->pw;
        int ohlo, ohhi, owlo, owhi;
        valid_range(ih0, q->sh, q->H, q->OH, &ohlo, &ohhi);
        valid_range(iw0, q->sw, q->W, q->OW, &owlo, &owhi);
        float *dst = col + (size_t)r * ld;
        for (int j = 0; j < nb; j++) {
            const float *xp = x + ((size_t)(e0 + j) * q->C + c) * q->HW;
            float *d = dst + (size_t)j * q->OHW;
            row_zero(d, ohlo * OW);
            for (int oh = ohlo; oh < ohhi; oh++) {
                /* first valid input column: iw0 + owlo*sw >= 0 (no pointer before the row) */
                const float *src = xp + (size_t)(ih0 + oh * q->sh) * q->W + (iw0 + owlo * q->sw);
                float *dr = d + (size_t)oh * OW;
                row_zero(dr, owlo);
                if (q->sw == 1)
                    row_copy(dr + owlo, src, owhi - owlo);
                else
                    row_copy_strided(dr + owlo, src, owhi - owlo, q->sw);
                row_zero(dr + owhi, OW - owhi);
            }
            row_zero(d + (size_t)ohhi * OW, (q->OH - ohhi) * OW);
        }
    }
}

/* gx[e0 + j, c, ih, iw] += sum over taps of gcol[(c, kh, kw), j*OHW + (oh, ow)]. Each
 * (example, channel) plane is owned by one iteration; taps are added in a fixed order. */
CONV_NO_LIBCALLS static void col2im(const conv_geom *q, const float *gcol, int e0, int nb, float *gx)
{
    const int ld = nb * q->OHW;
#pragma omp parallel for schedule(static) if ((int64_t)q->CKK * ld > 32768)
    for (int jc = 0; jc < nb * q->C; jc++) {
        int j = jc / q->C, c = jc % q->C;
        float *xp = gx + ((size_t)(e0 + j) * q->C + c) * q->HW;
        for (int kh = 0; kh < q->KH; kh++) {
            int ih0 = kh * q->dh - q->ph, ohlo, ohhi;
            valid_range(ih0, q->sh, q->H, q->OH, &ohlo, &ohhi);
            for (int kw = 0; kw < q->KW; kw++) {
                int iw0 = kw * q->dw - q->pw, owlo, owhi;
                valid_range(iw0, q->sw, q->W, q->OW, &owlo, &owhi);
                const float *src = gcol + ((size_t)(c * q->KH + kh) * q->KW + kw) * ld + (size_t)j * q->OHW;
                const int n = owhi - owlo;
                for (int oh = ohlo; oh < ohhi; oh++) {
                    float *restrict dr = xp + (size_t)(ih0 + oh * q->sh) * q->W + (iw0 + owlo * q->sw);
                    const float *restrict sr = src + (size_t)oh * q->OW + owlo;
                    if (q->sw == 1) {
                        row_add(dr, sr, n);
                    } else {
                        for (int i = 0; i < n; i++)
                            dr[(size_t)i * q->sw] += sr[i];
                    }
                }
            }
        }
    }
}

/* y[e0 + j, o, p] (+)= Y[o, j*OHW + p] + bias[o]. */
static void scatter_out(const conv_geom *q, const float *Y, const float *bias, int e0, int nb, float *y)
{
    const int ld = nb * q->OHW;
#pragma omp parallel for schedule(static) if ((int64_t)q->O * ld > 32768)
    for (int jo = 0; jo < nb * q->O; jo++) {
        int j = jo / q->O, o = jo % q->O;
        const float *s = Y + (size_t)o * ld + (size_t)j * q->OHW;
        float *d = y + ((size_t)(e0 + j) * q->O + o) * q->OHW;
        if (bias) {
            float b = bias[o];
            for (int p = 0; p < q->OHW; p++)
                d[p] = s[p] + b;
        } else {
            memcpy(d, s, (size_t)q->OHW * sizeof(float));
        }
    }
}

/* GY[o, j*OHW + p] = gy[e0 + j, o, p]. */
static void gather_grad(const conv_geom *q, const float *gy, int e0, int nb, float *GY)
{
    const int ld = nb * q->OHW;
#pragma omp parallel for schedule(static) if ((int64_t)q->O * ld > 32768)
    for (int jo = 0; jo < nb * q->O; jo++) {
        int j = jo / q->O, o = jo % q->O;
        memcpy(GY + (size_t)o * ld + (size_t)j * q->OHW, gy + ((size_t)(e0 + j) * q->O + o) * q->OHW,
               (size_t)q->OHW * sizeof(float));
    }
}

/* ---- GEMM steps (one sgemm per group over the whole chunk) -------------------------- */

/* Inside a lane the thread owns the whole GEMM (dsc_sgemm, cut only by its own shape-fixed
 * rule); with a single chunk, dsc_gemm_fixed spreads it over the threads in shape-fixed
 * column blocks. Either way the calls depend on the shapes only. */
static void conv_gemm(const conv_geom *q, int ta, int tb, int M, int N, int K, const float *A, int lda,
                      const float *B, int ldb, float beta, float *C, int ldc)
{
    if (q->in_lane)
        dsc_sgemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
    else
        dsc_gemm_fixed(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
}

/* Y_g = W_g col_g + beta Y_g. */
static void gemm_fwd(const conv_geom *q, const float *w, const float *col, int ncol, float beta, float *Y)
{
    for (int gi = 0; gi < q->G; gi++)
        conv_gemm(q, 0, 0, q->Og, ncol, q->CKKg, w + (size_t)gi * q->Og * q->CKKg, q->CKKg,
                  col + (size_t)gi * q->CKKg * ncol, ncol, beta, Y + (size_t)gi * q->Og * ncol, ncol);
}

/* gW_g = GY_g col_g^T + beta gW_g. */
static void gemm_wgrad(const conv_geom *q, const float *GY, const float *col, int ncol, float beta, float *gw)
{
    for (int gi = 0; gi < q->G; gi++)
        conv_gemm(q, 0, 1, q->Og, q->CKKg, ncol, GY + (size_t)gi * q->Og * ncol, ncol,
                  col + (size_t)gi * q->CKKg * ncol, ncol, beta, gw + (size_t)gi * q->Og * q->CKKg, q->CKKg);
}

/* gcol_g = W_g^T GY_g. */
static void gemm_dgrad(const conv_geom *q, const float *w, const float *GY, int ncol, float *gcol)
{
    for (int gi = 0; gi < q->G; gi++)
        conv_gemm(q, 1, 0, q->CKKg, ncol, q->Og, w + (size_t)gi * q->Og * q->CKKg, q->CKKg,
                  GY + (size_t)gi * q->Og * ncol, ncol, 0.0f, gcol + (size_t)gi * q->CKKg * ncol, ncol);
}

/* ---- chunk scheduling ------------------------------------------------------------------
 * With one chunk, the chunk's kernels are parallel inside (GEMM column blocks, im2col rows).
 * With several, chunks are dealt round-robin to min(CONV_LANES, chunks) lanes; each lane
 * runs its chunks one after the other in its own workspace, and the lanes run in parallel
 * (one parallel region per op call instead of several per chunk, and single-threaded GEMMs
 * of the chunk's full size). The lane count depends on the shapes only; weight gradients
 * are summed per lane in chunk order, then over the lanes in lane order, so the result does
 * not depend on which thread ran which lane. */
#define CONV_LANES 4

static int conv_chunks(const conv_geom *q) { return (q->N + q->bc - 1) / q->bc; }
static int conv_lanes(const conv_geom *q)
{
    int nc = conv_chunks(q);
    return nc < CONV_LANES ? nc : CONV_LANES;
}

/* Floats of one lane's workspace: col, col2 [CKK, bc*OHW], Y [O, bc*OHW], a weight
 * gradient partial [O, CKKg]; rounded to 64 bytes. */
static int64_t lane_floats(const conv_geom *q, int64_t bc)
{
    int64_t f = (2 * (int64_t)q->CKK + q->O) * bc * q->OHW + (int64_t)q->O * q->CKKg;
    return (f + 15) / 16 * 16;
}

typedef struct conv_lane {
    float *col, *col2, *Y, *wpart;
} conv_lane;

static conv_lane lane_ws(dsc_graph *g, const conv_geom *q, int l)
{
    size_t ncol = (size_t)q->bc * q->OHW;
    conv_lane w;
    w.col = g->scratch + (size_t)l * (size_t)lane_floats(q, q->bc);
    w.col2 = w.col + (size_t)q->CKK * ncol;
    w.Y = w.col2 + (size_t)q->CKK * ncol;
    w.wpart = w.Y + (size_t)q->O * ncol;
    return w;
}

/* Columns of the chunk starting at example e0 inside a column cache (chunks are stored one
 * after the other, each [CKK, nb*OHW]). */
static float *chunk_cols(const conv_geom *q, const float *cache, int e0)
{
    return (float *)cache + (size_t)e0 * q->CKK * q->OHW;
}

typedef struct conv_job {
    const float *xa, *wa, *xb, *wb, *bias; /* forward: y = conv(xa, wa) [+ conv(xb, wb)] + bias */
    float *y, *fill_a;                     /* fill_a: cache to fill with col(xa) */
    const float *have_b;                   /* cache holding col(xb) */
    const float *gy, *w, *xc, *have_c;     /* backward: gradient, weight, image for gW, its cache */
    float *gx, *gw;                        /* gw: gradient target (beta) or the lane partial */
} conv_job;

static void fwd_chunk(const conv_geom *q, const conv_job *jb, const conv_lane *ws, int e0)
{
    int nb = q->N - e0 < q->bc ? q->N - e0 : q->bc, ncol = nb * q->OHW;
    float *ca = jb->fill_a ? chunk_cols(q, jb->fill_a, e0) : ws->col;
    im2col(q, jb->xa, e0, nb, ca);
    gemm_fwd(q, jb->wa, ca, ncol, 0.0f, ws->Y);
    if (jb->xb) {
        float *cb = jb->have_b ? chunk_cols(q, jb->have_b, e0) : ws->col2;
        if (!jb->have_b)
            im2col(q, jb->xb, e0, nb, cb);
        gemm_fwd(q, jb->wb, cb, ncol, 1.0f, ws->Y);
    }
    scatter_out(q, ws->Y, jb->bias, e0, nb, jb->y);
}

/* gw_out = gY col(xc)^T + beta gw_out (if gw_out); gx += col2im(W^T gY) (if jb->gx). */
static void bwd_chunk(const conv_geom *q, const conv_job *jb, const conv_lane *ws, int e0, float *gw_out, float beta)
{
    int nb = q->N - e0 < q->bc ? q->N - e0 : q->bc, ncol = nb * q->OHW;
    gather_grad(q, jb->gy, e0, nb, ws->Y);
    if (gw_out) {
        float *cc = jb->have_c ? chunk_cols(q, jb->have_c, e0) : ws->col;
        if (!jb->have_c)
            im2col(q, jb->xc, e0, nb, cc);
        gemm_wgrad(q, ws->Y, cc, ncol, beta, gw_out);
    }
    if (jb->gx) {
        gemm_dgrad(q, jb->w, ws->Y, ncol, ws->col2);
        col2im(q, ws->col2, e0, nb, jb->gx);
    }
}

/* y = conv(xa, wa) [+ conv(xb, wb)] + bias: the forward pass and the JVP. fill_a: column
 * cache to fill with col(xa) (or NULL); have_b: cache already holding col(xb) (or NULL). */
static void conv_fwd_sum(dsc_graph *g, const conv_geom *q, const float *xa, const float *wa, const float *xb,
                         const float *wb, const float *bias, float *y, float *fill_a, const float *have_b)
{
    conv_job jb;
    memset(&jb, 0, sizeof jb);
    jb.xa = xa, jb.wa = wa, jb.xb = xb, jb.wb = wb, jb.bias = bias, jb.y = y, jb.fill_a = fill_a;
    jb.have_b = have_b;
    int nc = conv_chunks(q), L = conv_lanes(q);
    if (L == 1) { /* one chunk: parallel inside its kernels */
        conv_lane ws = lane_ws(g, q, 0);
        fwd_chunk(q, &jb, &ws, 0);
        return;
    }
    conv_geom ql = *q;
    ql.in_lane = 1;
#pragma omp parallel for schedule(static, 1)
    for (int l = 0; l < L; l++) {
        conv_lane ws = lane_ws(g, &ql, l);
        for (int c = l; c < nc; c += L)
            fwd_chunk(&ql, &jb, &ws, c * ql.bc);
    }
}

/* gx += col2im(W^T gY) (if gx), gW += gY col(xc)^T (if gw): the VJP and the R-op term.
 * have_c: column cache holding col(xc), or NULL. */
static void conv_bwd(dsc_graph *g, const conv_geom *q, const float *gy, const float *w, float *gx,
                     const float *xc, float *gw, const float *have_c)
{
    if (!gx && !gw)
        return;
    conv_job jb;
    memset(&jb, 0, sizeof jb);
    jb.gy = gy, jb.w = w, jb.xc = xc, jb.have_c = have_c, jb.gx = gx, jb.gw = gw;
    int nc = conv_chunks(q), L = conv_lanes(q);
    if (L == 1) { /* one chunk: accumulate straight into gW */
        conv_lane ws = lane_ws(g, q, 0);
        bwd_chunk(q, &jb, &ws, 0, gw, 1.0f);
        return;
    }
    conv_geom ql = *q;
    ql.in_lane = 1;
#pragma omp parallel for schedule(static, 1)
    for (int l = 0; l < L; l++) {
        conv_lane ws = lane_ws(g, &ql, l);
        for (int c = l; c < nc; c += L)
            bwd_chunk(&ql, &jb, &ws, c * ql.bc, gw ? ws.wpart : NULL, c == l ? 0.0f : 1.0f);
    }
    if (gw) { /* gW += partial_0 + partial_1 + ... (lane order, per element) */
        int64_t nw = (int64_t)q->O * q->CKKg;
        float *parts[CONV_LANES];
        for (int l = 0; l < L; l++)
            parts[l] = lane_ws(g, q, l).wpart;
#pragma omp parallel for schedule(static) if (nw > 65536)
        for (int64_t k = 0; k < nw; k++) {
            float s = gw[k];
            for (int l = 0; l < L; l++)
                s += parts[l][k];
            gw[k] = s;
        }
    }
}

/* Sum of n floats with 8 interleaved partial sums combined in a fixed tree: vectorizable
 * (a single running sum is a chain of dependent adds, ~4 cycles each) and deterministic. */
static float sum_row(const float *r, int n)
{
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            acc[k] += r[i + k];
    for (int k = 0; i < n; i++, k++)
        acc[k] += r[i];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* gb[o] += sum_{e, p} gy[e, o, p]; each channel summed by one iteration, examples in order. */
static void bias_grad(const conv_geom *q, const float *gy, float *gb)
{
#pragma omp parallel for schedule(static) if ((int64_t)q->N * q->O * q->OHW > 65536)
    for (int o = 0; o < q->O; o++) {
        float s = 0.0f;
        for (int e = 0; e < q->N; e++)
            s += sum_row(gy + ((size_t)e * q->O + o) * q->OHW, q->OHW);
        gb[o] += s;
    }
}

/* ---- op kernels --------------------------------------------------------------------- */

static dsc_status conv_infer(dsc_graph *g, dsc_node *n)
{
    const char *name = n->op->name;
    int is1d = (int)n->attr.i[CA_IS1D], nd = is1d ? 3 : 4;
    const dsc_shape *xs = &dsc_in(g, n, 0)->shape, *ws = &dsc_in(g, n, 1)->shape;
    char sx[96], sw[96], sb[96];
    dsc_shape_str(xs, sx, sizeof sx);
    dsc_shape_str(ws, sw, sizeof sw);
    if (xs->ndim != nd)
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: input %s must have %d dims (%s)", name, sx, nd,
                         is1d ? "N, C, L" : "N, C, H, W");
    if (ws->ndim != nd)
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: weight %s must have %d dims (%s)", name, sw, nd,
                         is1d ? "O, C/groups, K" : "O, C/groups, KH, KW");
    int G = (int)n->attr.i[6];
    for (int k = 0; k < (is1d ? 1 : 2); k++) {
        int a = is1d ? 1 : k; /* conv1d stores its options on the W axis */
        if (n->attr.i[a] < 1 || n->attr.i[4 + a] < 1 || n->attr.i[2 + a] < 0)
            return DSC_ERROR(DSC_ERR_INVALID, "%s: stride %lld, dilation %lld must be >= 1 and padding %lld >= 0",
                             name, (long long)n->attr.i[a], (long long)n->attr.i[4 + a],
                             (long long)n->attr.i[2 + a]);
    }
    if (G < 1)
        return DSC_ERROR(DSC_ERR_INVALID, "%s: groups must be >= 1, got %d", name, G);
    int64_t C = xs->dim[1], O = ws->dim[0];
    if (C != ws->dim[1] * G)
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: input %s has %lld channels but weight %s expects %lld (groups %d)", name,
                         sx, (long long)C, sw, (long long)(ws->dim[1] * G), G);
    if (O % G != 0)
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: weight %s has %lld output channels, not divisible by groups %d", name, sw,
                         (long long)O, G);
    if (n->n_in > 2) {
        const dsc_shape *bs = &dsc_in(g, n, 2)->shape;
        if (bs->ndim != 1 || bs->dim[0] != O)
            return DSC_ERROR(DSC_ERR_SHAPE, "%s: bias %s does not match weight %s (expected [%lld])", name,
                             dsc_shape_str(bs, sb, sizeof sb), sw, (long long)O);
    }
    for (int d = 0; d < nd; d++)
        if (xs->dim[d] > 2147483647 / 16 || ws->dim[d] > 2147483647 / 16)
            return DSC_ERROR(DSC_ERR_RANGE, "%s: input %s or weight %s too large", name, sx, sw);
    conv_geom q;
    conv_geometry(g, n, &q);
    if (q.OH < 1 || q.OW < 1)
        return DSC_ERROR(DSC_ERR_SHAPE,
                         "%s: input %s is smaller than the dilated kernel of weight %s (padding %d,%d dilation %d,%d): "
                         "empty output",
                         name, sx, sw, q.ph, q.pw, q.dh, q.dw);
    int64_t ncol = (int64_t)q.bc * q.OHW;
    if ((int64_t)q.CKK * ncol > 2147483647 || (int64_t)q.O * ncol > 2147483647)
        return DSC_ERROR(DSC_ERR_RANGE, "%s: input %s with weight %s needs a column matrix too large for 32-bit GEMM",
                         name, sx, sw);
    dsc_shape o;
    memset(&o, 0, sizeof o);
    o.ndim = nd;
    o.dim[0] = q.N;
    o.dim[1] = q.O;
    if (is1d) {
        o.dim[2] = q.OW;
    } else {
        o.dim[2] = q.OH;
        o.dim[3] = q.OW;
    }
    n->shape = o;
    /* Monotone in the batch (bc <= min(N, limit), lanes grow with N), so set_batch never
     * needs more. */
    int64_t lim = (int64_t)CONV_COL_TARGET / ((int64_t)q.CKK * q.OHW);
    if (lim < 1)
        lim = 1;
    int64_t bmax = q.N < lim ? q.N : lim;
    n->scratch_size = conv_lanes(&q) * lane_floats(&q, bmax);
    /* Decided once, at the batch the node is built with (the largest), so the aux size only
     * shrinks with dsc_graph_set_batch. */
    int64_t cols = (int64_t)q.N * q.CKK * q.OHW;
    if (n->attr.i[CA_CACHE] == 0)
        n->attr.i[CA_CACHE] = cols <= CONV_CACHE_MAX ? 1 : 2;
    n->aux_size = n->attr.i[CA_CACHE] == 1 ? cols : 0;
    return DSC_OK;
}

static const float *bias_of(dsc_graph *g, const dsc_node *n, int tangent)
{
    if (n->n_in < 3)
        return NULL;
    const dsc_node *b = dsc_in(g, n, 2);
    return tangent ? b->tangent : b->value;
}

/* The node's column cache (col(x) of the last forward pass), or NULL. */
static float *col_cache(const dsc_node *n) { return n->attr.i[CA_CACHE] == 1 ? n->aux : NULL; }

static void conv_forward(dsc_graph *g, dsc_node *n)
{
    conv_geom q;
    conv_geometry(g, n, &q);
    conv_fwd_sum(g, &q, dsc_in(g, n, 0)->value, dsc_in(g, n, 1)->value, NULL, NULL, bias_of(g, n, 0), n->value,
                 col_cache(n), NULL);
}

static void conv_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *x = dsc_in(g, n, 0), *w = dsc_in(g, n, 1);
    conv_geom q;
    conv_geometry(g, n, &q);
    conv_bwd(g, &q, n->grad, w->value, x->grad, x->value, w->grad, col_cache(n));
    if (q.has_bias && dsc_in(g, n, 2)->grad)
        bias_grad(&q, n->grad, dsc_in(g, n, 2)->grad);
}

static void conv_jvp(dsc_graph *g, dsc_node *n)
{
    dsc_node *x = dsc_in(g, n, 0), *w = dsc_in(g, n, 1);
    conv_geom q;
    conv_geometry(g, n, &q);
    /* The engine runs this right after conv_forward on the same x: the cache holds col(x). */
    conv_fwd_sum(g, &q, x->tangent, w->value, x->value, w->tangent, bias_of(g, n, 1), n->tangent, NULL,
                 col_cache(n));
}

static void conv_vjp_rop(dsc_graph *g, dsc_node *n)
{
    dsc_node *x = dsc_in(g, n, 0), *w = dsc_in(g, n, 1);
    conv_geom q;
    conv_geometry(g, n, &q);
    conv_bwd(g, &q, n->grad, w->tangent, x->grad_tangent, x->tangent, w->grad_tangent, NULL);
}

/* Per-example gradients of the weight (gy_e col_e^T per group) and the bias. */
static void conv_per_example(dsc_graph *g, dsc_node *n, int input, float *out, size_t ld)
{
    conv_geom q;
    conv_geometry(g, n, &q);
    const float *gy = n->grad;
    if (input == 2) {
#pragma omp parallel for schedule(static) if ((int64_t)q.N * q.O * q.OHW > 65536)
        for (int e = 0; e < q.N; e++)
            for (int o = 0; o < q.O; o++) {
                out[(size_t)e * ld + o] += sum_row(gy + ((size_t)e * q.O + o) * q.OHW, q.OHW);
            }
        return;
    }
    if (input != 1)
        return; /* the image is a parameter: not a per-example layout */
    const float *x = dsc_in(g, n, 0)->value;
    const float *cache = col_cache(n);
    int nc = conv_chunks(&q), L = conv_lanes(&q);
    q.in_lane = L > 1;
    /* Examples write disjoint rows of out: lanes of chunks in parallel. */
#pragma omp parallel for schedule(static, 1) if (L > 1)
    for (int l = 0; l < L; l++) {
        conv_lane ws = lane_ws(g, &q, l);
        for (int c = l; c < nc; c += L) {
            int e0 = c * q.bc, nb = q.N - e0 < q.bc ? q.N - e0 : q.bc, ncol = nb * q.OHW;
            float *cc = cache ? chunk_cols(&q, cache, e0) : ws.col;
            if (!cache)
                im2col(&q, x, e0, nb, cc);
            for (int j = 0; j < nb; j++)
                for (int gi = 0; gi < q.G; gi++)
                    conv_gemm(&q, 0, 1, q.Og, q.CKKg, q.OHW,
                                   gy + ((size_t)(e0 + j) * q.O + (size_t)gi * q.Og) * q.OHW, q.OHW,
                                   cc + (size_t)gi * q.CKKg * ncol + (size_t)j * q.OHW, ncol, 1.0f,
                                   out + (size_t)(e0 + j) * ld + (size_t)gi * q.Og * q.CKKg, q.CKKg);
        }
    }
}

static const dsc_op OP_CONV2D = {"conv2d", conv_infer, conv_forward, conv_vjp, conv_jvp, conv_vjp_rop,
                                 conv_per_example, NULL, 0};
static const dsc_op OP_CONV1D = {"conv1d", conv_infer, conv_forward, conv_vjp, conv_jvp, conv_vjp_rop,
                                 conv_per_example, NULL, 0};

dsc_conv_opts dsc_conv_defaults(void)
{
    dsc_conv_opts o;
    memset(&o, 0, sizeof o);
    o.stride[0] = o.stride[1] = 1;
    o.dilation[0] = o.dilation[1] = 1;
    o.groups = 1;
    return o;
}

static dsc_id conv_add(dsc_graph *g, const dsc_op *op, int is1d, dsc_id x, dsc_id w, dsc_id b, dsc_conv_opts o)
{
    if (g->status != DSC_OK)
        return -1;
    if (x < 0 || w < 0)
        return dsc_graph_fail(g, DSC_ERR_INVALID, "%s: invalid input or weight id", op->name);
    dsc_attr a;
    memset(&a, 0, sizeof a);
    if (is1d) { /* H axis: trivial; W axis: the 1-D options */
        a.i[0] = 1, a.i[1] = o.stride[0];
        a.i[2] = 0, a.i[3] = o.padding[0];
        a.i[4] = 1, a.i[5] = o.dilation[0];
    } else {
        a.i[0] = o.stride[0], a.i[1] = o.stride[1];
        a.i[2] = o.padding[0], a.i[3] = o.padding[1];
        a.i[4] = o.dilation[0], a.i[5] = o.dilation[1];
    }
    a.i[6] = o.groups;
    a.i[CA_IS1D] = is1d;
    dsc_id in[3] = {x, w, b};
    return dsc_graph_add_op(g, op, b >= 0 ? 3 : 2, in, &a);
}

dsc_id dsc_conv2d(dsc_graph *g, dsc_id x, dsc_id w, dsc_id b, dsc_conv_opts o)
{
    return conv_add(g, &OP_CONV2D, 0, x, w, b, o);
}

dsc_id dsc_conv1d(dsc_graph *g, dsc_id x, dsc_id w, dsc_id b, dsc_conv_opts o)
{
    return conv_add(g, &OP_CONV1D, 1, x, w, b, o);
}
