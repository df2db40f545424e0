/* Matrix products: matmul (torch.matmul for ndim >= 2, batch broadcasting) and linear
 * (torch.nn.functional.linear). Every product is one or a few dsc_sgemm calls.
 *
 * matmul C = A B, A [..., n, k], B [..., k, m], C [bcast(...), n, m]; per batch index i with
 * broadcast source indices ia, ib:
 *   forward  C_i = A_ia B_ib
 *   VJP      gA_ia += gC_i B_ib^T            gB_ib += A_ia^T gC_i   (sequential over i)
 *   JVP      tC_i = tA_ia B_ib + A_ia tB_ib
 *   R-op     gA_ia~ += gC_i tB_ib^T          gB_ib~ += tA_ia^T gC_i
 * (bilinear: the second-order term pairs the cotangent with the OTHER operand's tangent; the
 * engine adds the VJP of the cotangent's tangent itself, see graph_internal.h).
 *
 * linear y = x W^T + b, x [..., in] flattened to X [M, in], W [out, in], b [out]:
 *   forward  Y = X W^T + 1 b^T        (Y prefilled with b, one sgemm with beta = 1)
 *   VJP      gX += gY W,  gW += gY^T X (beta = 1),  gb += column sums of gY (row order)
 *   JVP      tY = tX W^T + X tW^T + 1 tb^T
 *   R-op     gX~ += gY tW,  gW~ += gY^T tX
 *   per-example (rows of example e: X_e [T, in], T = M / batch)
 *            gW_e = gY_e^T X_e (sum over T),  gb_e = column sums of gY_e.
 * Determinism: dsc_sgemm is bit-identical for any thread count (it cuts C into blocks by
 * shape only, src/core/gemm.c), and every accumulation over batch indices or rows runs in
 * a fixed order. */
#include <string.h>

#include "descent/ops.h"
#include "descent/runtime.h"
#include "ops/broadcast.h"

/* ---- matmul ------------------------------------------------------------------- */

typedef struct mm_layout {
    int n, k, m;
    int64_t nb;                   /* output batch matrices */
    int nd;                       /* output batch dims */
    int64_t dim[DSC_MAX_DIMS];    /* output batch dims */
    int64_t sa[DSC_MAX_DIMS], sb[DSC_MAX_DIMS]; /* matrix strides of A, B (0 = broadcast) */
    int a_full, b_shared;         /* A has every batch matrix (contiguous), B has a single one */
    int b_full, a_shared;
} mm_layout;

static dsc_shape batch_part(const dsc_shape *s)
{
    dsc_shape b;
    memset(&b, 0, sizeof b);
    b.ndim = s->ndim - 2;
    for (int d = 0; d < b.ndim; d++)
        b.dim[d] = s->dim[d];
    return b;
}

static void mm_plan(dsc_graph *g, const dsc_node *nd, mm_layout *L)
{
    const dsc_shape *as = &dsc_in(g, nd, 0)->shape, *bs = &dsc_in(g, nd, 1)->shape;
    dsc_shape ab = batch_part(as), bb = batch_part(bs), ob = batch_part(&nd->shape);
    L->n = (int)as->dim[as->ndim - 2];
    L->k = (int)as->dim[as->ndim - 1];
    L->m = (int)bs->dim[bs->ndim - 1];
    L->nd = ob.ndim;
    L->nb = dsc_shape_numel(&ob);
    for (int d = 0; d < ob.ndim; d++)
        L->dim[d] = ob.dim[d];
    dsc_broadcast_strides(&ab, &ob, L->sa);
    dsc_broadcast_strides(&bb, &ob, L->sb);
    int64_t na = dsc_shape_numel(&ab), nbb = dsc_shape_numel(&bb);
    L->a_full = na == L->nb;
    L->b_full = nbb == L->nb;
    L->a_shared = na == 1;
    L->b_shared = nbb == 1;
}

/* Matrix offsets (in matrices) of A and B for output batch index i. */
static void mm_offsets(const mm_layout *L, int64_t i, int64_t *ia, int64_t *ib)
{
    int64_t oa = 0, ob = 0;
    for (int d = L->nd - 1; d >= 0; d--) {
        int64_t x = i % L->dim[d];
        i /= L->dim[d];
        oa += x * L->sa[d];
        ob += x * L->sb[d];
    }
    *ia = oa;
    *ib = ob;
}

/* Batch matrices are spread over the threads when every iteration owns its output matrix
 * (each is still one dsc_sgemm call, which stays in its thread inside a parallel region and
 * cuts by shape only: the same calls and bits for any thread count). */
#define MM_PAR_MIN 65536 /* multiply-adds per batch matrix below which a loop stays serial */
#ifdef _OPENMP /* only used by the pragmas below */
static int mm_par(const mm_layout *L) { return L->nb > 1 && (int64_t)L->n * L->k * L->m * L->nb >= MM_PAR_MIN; }
#endif

/* C_i = A_ia B_ib + beta C_i. */
static void mm_fwd(const mm_layout *L, const float *A, const float *B, float *C, float beta)
{
    int n = L->n, k = L->k, m = L->m;
    if (L->a_full && L->b_shared) { /* fold the batch into the rows: one sgemm */
        dsc_sgemm(0, 0, (int)(L->nb * n), m, k, 1.0f, A, k, B, m, beta, C, m);
        return;
    }
#pragma omp parallel for schedule(static) if (mm_par(L))
    for (int64_t i = 0; i < L->nb; i++) {
        int64_t ia, ib;
        mm_offsets(L, i, &ia, &ib);
        dsc_sgemm(0, 0, n, m, k, 1.0f, A + ia * n * k, k, B + ib * k * m, m, beta, C + i * n * m, m);
    }
}

/* GA_ia += G_i B_ib^T. */
static void mm_grad_a(const mm_layout *L, const float *G, const float *B, float *GA)
{
    int n = L->n, k = L->k, m = L->m;
    if (L->a_full && L->b_shared) {
        dsc_sgemm(0, 1, (int)(L->nb * n), k, m, 1.0f, G, m, B, m, 1.0f, GA, k);
        return;
    }
    /* A matrix shared by several i (broadcast) accumulates them in order: serial then. */
#pragma omp parallel for schedule(static) if (L->a_full && mm_par(L))
    for (int64_t i = 0; i < L->nb; i++) {
        int64_t ia, ib;
        mm_offsets(L, i, &ia, &ib);
        dsc_sgemm(0, 1, n, k, m, 1.0f, G + i * n * m, m, B + ib * k * m, m, 1.0f, GA + ia * n * k, k);
    }
}

/* GB_ib += A_ia^T G_i. */
static void mm_grad_b(const mm_layout *L, const float *A, const float *G, float *GB)
{
    int n = L->n, k = L->k, m = L->m;
    if (L->a_full && L->b_shared) { /* sum over the batch inside one sgemm (K = nb n) */
        dsc_sgemm(1, 0, k, m, (int)(L->nb * n), 1.0f, A, k, G, m, 1.0f, GB, m);
        return;
    }
#pragma omp parallel for schedule(static) if (L->b_full && mm_par(L))
    for (int64_t i = 0; i < L->nb; i++) {
        int64_t ia, ib;
        mm_offsets(L, i, &ia, &ib);
        dsc_sgemm(1, 0, k, m, n, 1.0f, A + ia * n * k, k, G + i * n * m, m, 1.0f, GB + ib * k * m, m);
    }
}

static dsc_status mm_infer(dsc_graph *g, dsc_node *n)
{
    const dsc_shape *a = &dsc_in(g, n, 0)->shape, *b = &dsc_in(g, n, 1)->shape;
    char sa[96], sb[96];
    if (a->ndim < 2 || b->ndim < 2)
        return DSC_ERROR(DSC_ERR_SHAPE, "matmul: operands need at least 2 dims, got %s @ %s",
                         dsc_shape_str(a, sa, sizeof sa), dsc_shape_str(b, sb, sizeof sb));
    if (a->dim[a->ndim - 1] != b->dim[b->ndim - 2])
        return DSC_ERROR(DSC_ERR_SHAPE, "matmul: inner dimensions differ: %s @ %s (%lld vs %lld)",
                         dsc_shape_str(a, sa, sizeof sa), dsc_shape_str(b, sb, sizeof sb),
                         (long long)a->dim[a->ndim - 1], (long long)b->dim[b->ndim - 2]);
    dsc_shape ab = batch_part(a), bb = batch_part(b), ob;
    if (dsc_shape_broadcast(&ab, &bb, &ob) != DSC_OK)
        return DSC_ERROR(DSC_ERR_SHAPE, "matmul: batch dimensions of %s and %s do not broadcast",
                         dsc_shape_str(a, sa, sizeof sa), dsc_shape_str(b, sb, sizeof sb));
    int64_t lim = 2147483647;
    if (a->dim[a->ndim - 2] > lim || a->dim[a->ndim - 1] > lim || b->dim[b->ndim - 1] > lim ||
        dsc_shape_numel(a) > lim || dsc_shape_numel(b) > lim)
        return DSC_ERROR(DSC_ERR_RANGE, "matmul: %s @ %s is too large for 32-bit GEMM sizes",
                         dsc_shape_str(a, sa, sizeof sa), dsc_shape_str(b, sb, sizeof sb));
    dsc_shape o = ob;
    o.dim[o.ndim++] = a->dim[a->ndim - 2];
    o.dim[o.ndim++] = b->dim[b->ndim - 1];
    n->shape = o;
    return DSC_OK;
}

static void mm_forward(dsc_graph *g, dsc_node *n)
{
    mm_layout L;
    mm_plan(g, n, &L);
    mm_fwd(&L, dsc_in(g, n, 0)->value, dsc_in(g, n, 1)->value, n->value, 0.0f);
}

static void mm_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *a = dsc_in(g, n, 0), *b = dsc_in(g, n, 1);
    mm_layout L;
    mm_plan(g, n, &L);
    if (a->grad)
        mm_grad_a(&L, n->grad, b->value, a->grad);
    if (b->grad)
        mm_grad_b(&L, a->value, n->grad, b->grad);
}

static void mm_jvp(dsc_graph *g, dsc_node *n)
{
    dsc_node *a = dsc_in(g, n, 0), *b = dsc_in(g, n, 1);
    mm_layout L;
    mm_plan(g, n, &L);
    mm_fwd(&L, a->tangent, b->value, n->tangent, 0.0f);
    mm_fwd(&L, a->value, b->tangent, n->tangent, 1.0f);
}

static void mm_vjp_rop(dsc_graph *g, dsc_node *n)
{
    dsc_node *a = dsc_in(g, n, 0), *b = dsc_in(g, n, 1);
    mm_layout L;
    mm_plan(g, n, &L);
    if (a->grad_tangent)
        mm_grad_a(&L, n->grad, b->tangent, a->grad_tangent);
    if (b->grad_tangent)
        mm_grad_b(&L, a->tangent, n->grad, b->grad_tangent);
}

/* Per-example gradient of a parameter operand. The output's dim 0 is the batch; example e
 * owns output batch matrices [e R, (e+1) R) (R = nb / batch), or output row e when the
 * output is 2-D ([B, k] @ W[k, m]: rank-one update a_e^T g_e). */
static void mm_per_example(dsc_graph *g, dsc_node *n, int input, float *out, size_t ld)
{
    const dsc_node *a = dsc_in(g, n, 0), *b = dsc_in(g, n, 1);
    mm_layout L;
    mm_plan(g, n, &L);
    int64_t B = n->shape.dim[0];
    int nn = L.n, k = L.k, m = L.m;
    const float *gy = n->grad;
    if (L.nd == 0) {
        if (input != 1)
            return; /* a parameter on the left of a batched right operand has no batch rows */
        for (int64_t e = 0; e < B; e++)
            dsc_sgemm(1, 0, k, m, 1, 1.0f, a->value + e * k, k, gy + e * m, m, 1.0f, out + (size_t)e * ld, m);
        return;
    }
    int64_t R = L.nb / B;
    for (int64_t i = 0; i < L.nb; i++) {
        int64_t ia, ib;
        mm_offsets(&L, i, &ia, &ib);
        float *o = out + (size_t)(i / R) * ld;
        if (input == 0)
            dsc_sgemm(0, 1, nn, k, m, 1.0f, gy + i * nn * m, m, b->value + ib * k * m, m, 1.0f, o + ia * nn * k, k);
        else
            dsc_sgemm(1, 0, k, m, nn, 1.0f, a->value + ia * nn * k, k, gy + i * nn * m, m, 1.0f, o + ib * k * m, m);
    }
}

static const dsc_op OP_MATMUL = {"matmul", mm_infer, mm_forward, mm_vjp, mm_jvp, mm_vjp_rop, mm_per_example, NULL, 0};

dsc_id dsc_matmul(dsc_graph *g, dsc_id a, dsc_id b)
{
    dsc_id in[2] = {a, b};
    if (g->status == DSC_OK && (a < 0 || b < 0))
        return dsc_graph_fail(g, DSC_ERR_INVALID, "matmul: invalid operand id");
    return dsc_graph_add_op(g, &OP_MATMUL, 2, in, NULL);
}

/* ---- linear ------------------------------------------------------------------- */

#define LIN_HAS_BIAS(n) ((n)->n_in > 2)

static void lin_dims(dsc_graph *g, const dsc_node *n, int *M, int *in, int *out)
{
    const dsc_node *w = dsc_in(g, n, 1);
    *out = (int)w->shape.dim[0];
    *in = (int)w->shape.dim[1];
    *M = (int)(dsc_numel(dsc_in(g, n, 0)) / *in);
}

static dsc_status lin_infer(dsc_graph *g, dsc_node *n)
{
    const dsc_shape *x = &dsc_in(g, n, 0)->shape, *w = &dsc_in(g, n, 1)->shape;
    char sx[96], sw[96], sb[96];
    if (x->ndim < 1)
        return DSC_ERROR(DSC_ERR_SHAPE, "linear: input must have at least 1 dim, got a scalar");
    if (w->ndim != 2)
        return DSC_ERROR(DSC_ERR_SHAPE, "linear: weight must be [out, in], got %s", dsc_shape_str(w, sw, sizeof sw));
    if (x->dim[x->ndim - 1] != w->dim[1])
        return DSC_ERROR(DSC_ERR_SHAPE, "linear: input %s has %lld features but weight %s expects %lld",
                         dsc_shape_str(x, sx, sizeof sx), (long long)x->dim[x->ndim - 1],
                         dsc_shape_str(w, sw, sizeof sw), (long long)w->dim[1]);
    if (LIN_HAS_BIAS(n)) {
        const dsc_shape *b = &dsc_in(g, n, 2)->shape;
        if (b->ndim != 1 || b->dim[0] != w->dim[0])
            return DSC_ERROR(DSC_ERR_SHAPE, "linear: bias %s does not match weight %s (expected [%lld])",
                             dsc_shape_str(b, sb, sizeof sb), dsc_shape_str(w, sw, sizeof sw), (long long)w->dim[0]);
    }
    if (dsc_shape_numel(x) > 2147483647 || w->dim[0] > 2147483647 || dsc_shape_numel(w) > 2147483647)
        return DSC_ERROR(DSC_ERR_RANGE, "linear: input %s is too large for 32-bit GEMM sizes",
                         dsc_shape_str(x, sx, sizeof sx));
    n->shape = *x;
    n->shape.dim[x->ndim - 1] = w->dim[0];
    return DSC_OK;
}

/* Y[r, :] = bias for every row (or 0 without bias); returns the beta for the sgemm. */
static float lin_prefill(float *Y, const float *bias, int M, int out)
{
    if (!bias)
        return 0.0f;
#pragma omp parallel for schedule(static) if ((int64_t)M * out > 65536)
    for (int r = 0; r < M; r++)
        memcpy(Y + (size_t)r * out, bias, (size_t)out * sizeof(float));
    return 1.0f;
}

/* gb[o] += sum_r G[r, o], rows in order (each column summed by one thread). */
static void col_sums(const float *G, int M, int out, float *gb)
{
    for (int r = 0; r < M; r++) {
        const float *row = G + (size_t)r * out;
        for (int o = 0; o < out; o++)
            gb[o] += row[o];
    }
}

static void lin_forward(dsc_graph *g, dsc_node *n)
{
    int M, in, out;
    lin_dims(g, n, &M, &in, &out);
    const float *bias = LIN_HAS_BIAS(n) ? dsc_in(g, n, 2)->value : NULL;
    float beta = lin_prefill(n->value, bias, M, out);
    dsc_sgemm(0, 1, M, out, in, 1.0f, dsc_in(g, n, 0)->value, in, dsc_in(g, n, 1)->value, in, beta, n->value, out);
}

static void lin_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *x = dsc_in(g, n, 0), *w = dsc_in(g, n, 1);
    int M, in, out;
    lin_dims(g, n, &M, &in, &out);
    if (x->grad)
        dsc_sgemm(0, 0, M, in, out, 1.0f, n->grad, out, w->value, in, 1.0f, x->grad, in);
    if (w->grad)
        dsc_sgemm(1, 0, out, in, M, 1.0f, n->grad, out, x->value, in, 1.0f, w->grad, in);
    if (LIN_HAS_BIAS(n) && dsc_in(g, n, 2)->grad)
        col_sums(n->grad, M, out, dsc_in(g, n, 2)->grad);
}

static void lin_jvp(dsc_graph *g, dsc_node *n)
{
    dsc_node *x = dsc_in(g, n, 0), *w = dsc_in(g, n, 1);
    int M, in, out;
    lin_dims(g, n, &M, &in, &out);
    const float *tb = LIN_HAS_BIAS(n) ? dsc_in(g, n, 2)->tangent : NULL;
    float beta = lin_prefill(n->tangent, tb, M, out);
    dsc_sgemm(0, 1, M, out, in, 1.0f, x->tangent, in, w->value, in, beta, n->tangent, out);
    dsc_sgemm(0, 1, M, out, in, 1.0f, x->value, in, w->tangent, in, 1.0f, n->tangent, out);
}

static void lin_vjp_rop(dsc_graph *g, dsc_node *n)
{
    dsc_node *x = dsc_in(g, n, 0), *w = dsc_in(g, n, 1);
    int M, in, out;
    lin_dims(g, n, &M, &in, &out);
    if (x->grad_tangent)
        dsc_sgemm(0, 0, M, in, out, 1.0f, n->grad, out, w->tangent, in, 1.0f, x->grad_tangent, in);
    if (w->grad_tangent)
        dsc_sgemm(1, 0, out, in, M, 1.0f, n->grad, out, x->tangent, in, 1.0f, w->grad_tangent, in);
}

/* Example e owns rows [e T, (e+1) T) of X and gY (T = M / batch; T > 1 for [B, T, in]). */
static void lin_per_example(dsc_graph *g, dsc_node *n, int input, float *outp, size_t ld)
{
    const dsc_node *x = dsc_in(g, n, 0);
    int M, in, out;
    lin_dims(g, n, &M, &in, &out);
    if (input == 0 || x->shape.ndim < 2)
        return; /* the input is a parameter: no batch rows to split (unsupported layout) */
    int64_t B = x->shape.dim[0];
    int T = (int)(M / B);
    const float *gy = n->grad;
    if (input == 1) {
        if (T == 1) { /* outer products, examples independent: parallel over examples */
#pragma omp parallel for schedule(static) if ((int64_t)B * out * in > 65536)
            for (int64_t e = 0; e < B; e++) {
                const float *ge = gy + e * out, *xe = x->value + e * in;
                float *oe = outp + (size_t)e * ld;
                for (int o = 0; o < out; o++) {
                    float go = ge[o];
                    float *row = oe + (size_t)o * in;
                    for (int i = 0; i < in; i++)
                        row[i] += go * xe[i];
                }
            }
            return;
        }
        for (int64_t e = 0; e < B; e++)
            dsc_sgemm(1, 0, out, in, T, 1.0f, gy + e * T * out, out, x->value + e * T * in, in, 1.0f,
                      outp + (size_t)e * ld, in);
        return;
    }
    for (int64_t e = 0; e < B; e++)
        col_sums(gy + e * T * out, T, out, outp + (size_t)e * ld);
}

static const dsc_op OP_LINEAR = {"linear", lin_infer, lin_forward, lin_vjp, lin_jvp, lin_vjp_rop, lin_per_example,
                                 NULL, 0};

dsc_id dsc_linear(dsc_graph *g, dsc_id x, dsc_id w, dsc_id b)
{
    dsc_id in[3] = {x, w, b};
    if (g->status == DSC_OK && (x < 0 || w < 0))
        return dsc_graph_fail(g, DSC_ERR_INVALID, "linear: invalid input or weight id");
    return dsc_graph_add_op(g, &OP_LINEAR, b >= 0 ? 3 : 2, in, NULL);
}
