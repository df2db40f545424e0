/* Shape ops: reshape, flatten (aliases), permute, transpose, slice, concat, split, expand.
 *
 * reshape/flatten: y shares x's memory (DSC_OP_ALIAS): the graph planner points y's value,
 *   gradient and tangent buffers at x's, so forward, VJP and JVP are no-ops and the engine
 *   never calls them. The target shape may hold one -1 (inferred) and, in dim 0, a 0 meaning
 *   "x's dim 0" (the batch), so the op follows dsc_graph_set_batch.
 * Every other op here is a linear index map y[k] = x[m(k)] computed by copying:
 *   permute/transpose/slice: m is injective;  VJP x.grad[m(k)] += y.grad[k] (the inverse
 *     permutation / a scatter into the slice);  JVP y' = x'[m(k)].
 *   expand: m repeats elements along broadcast dims;  VJP sums y.grad over them, visiting k in
 *     increasing order (fixed, thread-independent summation order).
 *   concat: y = [x_0, x_1, ...] along an axis;  VJP x_i.grad += the block of y.grad.
 *   split: n slices.
 * All are linear, so there is no R-op term (vjp_rop = NULL). Conventions are PyTorch's
 * (torch.reshape, permute, transpose, x[a:b:c], torch.cat, torch.split, Tensor.expand). */
#include <string.h>

#include "descent/ops.h"
#include "autodiff/graph_internal.h"

/* ---- strided views ------------------------------------------------------------------------ */

/* A strided view of a buffer: element k (row-major over dim) lives at base + sum idx[d] st[d]. */
typedef struct view_t {
    int nd;
    int64_t dim[DSC_MAX_DIMS];
    int64_t st[DSC_MAX_DIMS];
    int64_t base;
    int64_t n;
} view_t;

enum { V_GATHER, V_GATHER_ADD, V_SCATTER, V_SCATTER_ADD };

/* Offset in the strided buffer of row r (all dims but the last). */
static int64_t row_offset(const view_t *v, int64_t r)
{
    int64_t off = v->base;
    for (int d = v->nd - 2; d >= 0; d--) {
        off += (r % v->dim[d]) * v->st[d];
        r /= v->dim[d];
    }
    return off;
}

static inline void walk_row(float *sr, float *cr, int64_t inner, int64_t ist, int mode)
{
    switch (mode) {
    case V_GATHER:
        for (int64_t j = 0; j < inner; j++)
            cr[j] = sr[j * ist];
        break;
    case V_GATHER_ADD:
        for (int64_t j = 0; j < inner; j++)
            cr[j] += sr[j * ist];
        break;
    case V_SCATTER:
        for (int64_t j = 0; j < inner; j++)
            sr[j * ist] = cr[j];
        break;
    default:
        for (int64_t j = 0; j < inner; j++)
            sr[j * ist] += cr[j];
        break;
    }
}

/* Walk view v over the strided buffer `s` with the contiguous buffer `c`:
 *   V_GATHER      c[k]  = s[off(k)]      V_GATHER_ADD   c[k]  += s[off(k)]
 *   V_SCATTER     s[off(k)] = c[k]       V_SCATTER_ADD  s[off(k)] += c[k]
 * `injective`: no two k share an offset (permute, slice, concat blocks), so rows may run on
 * different threads. Otherwise (expand's VJP) the walk is sequential in increasing k, which
 * fixes the order in which repeated offsets accumulate. */
static void view_walk(const view_t *v, float *s, float *c, int mode, int injective)
{
    int nd = v->nd;
    int64_t inner = nd ? v->dim[nd - 1] : 1, ist = nd ? v->st[nd - 1] : 0;
    int64_t rows = inner ? v->n / inner : 0;
    if (injective && v->n > 65536 && rows > 1) {
#pragma omp parallel for schedule(static)
        for (int64_t r = 0; r < rows; r++)
            walk_row(s + row_offset(v, r), c + r * inner, inner, ist, mode);
        return;
    }
    int64_t idx[DSC_MAX_DIMS] = {0};
    int64_t off = v->base;
    for (int64_t r = 0; r < rows; r++) {
        walk_row(s + off, c + r * inner, inner, ist, mode);
        for (int d = nd - 2; d >= 0; d--) {
            off += v->st[d];
            if (++idx[d] < v->dim[d])
                break;
            off -= v->st[d] * v->dim[d];
            idx[d] = 0;
        }
    }
}

static void contiguous_strides(const dsc_shape *s, int64_t *st)
{
    int64_t k = 1;
    for (int d = s->ndim - 1; d >= 0; d--) {
        st[d] = k;
        k *= s->dim[d];
    }
}

static int valid_node(const dsc_graph *g, dsc_id x) { return x >= 0 && x < g->n_nodes; }

/* ---- reshape / flatten ------------------------------------------------------------------ */

/* attr: i[0] ndim, i[1 + d] requested dim d (-1 inferred, 0 in dim 0 = keep x's dim 0). */
static dsc_status reshape_infer(dsc_graph *g, dsc_node *n)
{
    const dsc_shape *in = &dsc_in(g, n, 0)->shape;
    int nd = (int)n->attr.i[0];
    dsc_shape o;
    memset(&o, 0, sizeof o);
    o.ndim = nd;
    int infer_at = -1;
    int64_t known = 1, total = dsc_shape_numel(in);
    char b1[96], b2[96];
    for (int d = 0; d < nd; d++) {
        int64_t v = n->attr.i[1 + d];
        if (v == 0 && d == 0) {
            if (in->ndim < 1)
                return DSC_ERROR(DSC_ERR_SHAPE, "%s: dim 0 given as 0 (keep the batch) but the input is a scalar",
                                 n->op->name);
            v = in->dim[0];
        }
        if (v == -1) {
            if (infer_at >= 0)
                return DSC_ERROR(DSC_ERR_SHAPE, "%s: more than one -1 in the target shape", n->op->name);
            infer_at = d;
            continue;
        }
        if (v <= 0)
            return DSC_ERROR(DSC_ERR_SHAPE,
                             "%s: target dim %d is %lld (use sizes > 0, one -1, or 0 in dim 0 to keep the batch)",
                             n->op->name, d, (long long)v);
        o.dim[d] = v;
        known *= v;
    }
    if (infer_at >= 0) {
        if (known == 0 || total % known != 0) {
            for (int d = 0; d < nd; d++)
                o.dim[d] = d == infer_at ? -1 : o.dim[d];
            return DSC_ERROR(DSC_ERR_SHAPE, "%s: cannot reshape %s (%lld elements) to %s", n->op->name,
                             dsc_shape_str(in, b1, sizeof b1), (long long)total, dsc_shape_str(&o, b2, sizeof b2));
        }
        o.dim[infer_at] = total / known;
    } else if (known != total) {
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: cannot reshape %s (%lld elements) to %s (%lld elements)", n->op->name,
                         dsc_shape_str(in, b1, sizeof b1), (long long)total, dsc_shape_str(&o, b2, sizeof b2),
                         (long long)known);
    }
    n->shape = o;
    return DSC_OK;
}

/* Never called (the engine skips alias nodes); present so that no table entry is NULL. */
static void alias_noop(dsc_graph *g, dsc_node *n)
{
    (void)g;
    (void)n;
}

static const dsc_op OP_RESHAPE = {"reshape", reshape_infer, alias_noop, alias_noop, alias_noop, NULL, NULL, NULL,
                                  DSC_OP_ALIAS};
static const dsc_op OP_FLATTEN = {"flatten", reshape_infer, alias_noop, alias_noop, alias_noop, NULL, NULL, NULL,
                                  DSC_OP_ALIAS};

dsc_id dsc_reshape(dsc_graph *g, dsc_id x, int ndim, const int64_t *shape)
{
    if (g->status != DSC_OK)
        return -1;
    if (ndim < 0 || ndim > DSC_MAX_DIMS || (ndim > 0 && !shape))
        return dsc_graph_fail(g, DSC_ERR_SHAPE, "reshape: %d target dims (0..%d supported)", ndim, DSC_MAX_DIMS);
    dsc_attr a;
    memset(&a, 0, sizeof a);
    a.i[0] = ndim;
    for (int d = 0; d < ndim; d++)
        a.i[1 + d] = shape[d];
    return dsc_graph_add_op(g, &OP_RESHAPE, 1, &x, &a);
}

dsc_id dsc_flatten(dsc_graph *g, dsc_id x)
{
    if (g->status != DSC_OK)
        return -1;
    if (!valid_node(g, x))
        return dsc_graph_fail(g, DSC_ERR_INVALID, "flatten: input is not a node of this graph (id %d)", x);
    if (g->nodes[x].shape.ndim < 1)
        return dsc_graph_fail(g, DSC_ERR_SHAPE, "flatten: the input is a scalar (needs [N, ...])");
    dsc_attr a;
    memset(&a, 0, sizeof a);
    a.i[0] = 2;
    a.i[1] = 0;  /* keep dim 0 */
    a.i[2] = -1; /* product of the rest */
    return dsc_graph_add_op(g, &OP_FLATTEN, 1, &x, &a);
}

/* ---- permute / transpose / slice / expand: one strided view of the input -------------- */

/* attr layout: permute i[0] ndim, i[1 + d] perm[d]; transpose i[0] d0, i[1] d1;
 * slice i[0] axis, i[1] start, i[2] stop, i[3] step; expand i[0] ndim, i[1 + d] dims.
 * Each infer validates and sets the shape; input_view rebuilds the view for the kernels. */
enum { SV_PERMUTE, SV_TRANSPOSE, SV_SLICE, SV_EXPAND };

#define SV_KIND(n) ((int)(n)->attr.i[15])

/* Normalized slice bounds (Python semantics, step > 0): start/stop clamped to [0, dim]. */
static void slice_bounds(int64_t dim, int64_t start, int64_t stop, int64_t step, int64_t *s0, int64_t *len)
{
    if (start < 0)
        start += dim;
    if (stop < 0)
        stop += dim;
    start = start < 0 ? 0 : start > dim ? dim : start;
    stop = stop < 0 ? 0 : stop > dim ? dim : stop;
    *s0 = start;
    *len = stop > start ? (stop - start + step - 1) / step : 0;
}

static void transpose_perm(const dsc_node *n, int nd, int *perm)
{
    for (int d = 0; d < nd; d++)
        perm[d] = d;
    int d0 = dsc_axis((int)n->attr.i[0], nd), d1 = dsc_axis((int)n->attr.i[1], nd);
    perm[d0] = d1;
    perm[d1] = d0;
}

/* The input seen with the output's shape (for a valid node). */
static void input_view(dsc_graph *g, const dsc_node *n, view_t *v)
{
    const dsc_shape *in = &dsc_in(g, n, 0)->shape;
    int64_t ist[DSC_MAX_DIMS];
    contiguous_strides(in, ist);
    memset(v, 0, sizeof *v);
    v->nd = n->shape.ndim;
    v->n = dsc_numel(n);
    for (int d = 0; d < v->nd; d++)
        v->dim[d] = n->shape.dim[d];
    int perm[DSC_MAX_DIMS];
    switch (SV_KIND(n)) {
    case SV_PERMUTE:
    case SV_TRANSPOSE:
        if (SV_KIND(n) == SV_PERMUTE)
            for (int d = 0; d < in->ndim; d++)
                perm[d] = dsc_axis((int)n->attr.i[1 + d], in->ndim);
        else
            transpose_perm(n, in->ndim, perm);
        for (int d = 0; d < v->nd; d++)
            v->st[d] = ist[perm[d]];
        break;
    case SV_SLICE: {
        int ax = dsc_axis((int)n->attr.i[0], in->ndim);
        int64_t s0, len;
        slice_bounds(in->dim[ax], n->attr.i[1], n->attr.i[2], n->attr.i[3], &s0, &len);
        for (int d = 0; d < v->nd; d++)
            v->st[d] = ist[d];
        v->st[ax] *= n->attr.i[3];
        v->base = s0 * ist[ax];
        break;
    }
    default:
        dsc_broadcast_strides(in, &n->shape, v->st);
        break;
    }
}

static dsc_status permute_infer(dsc_graph *g, dsc_node *n)
{
    const dsc_shape *in = &dsc_in(g, n, 0)->shape;
    int nd = in->ndim, perm[DSC_MAX_DIMS], seen[DSC_MAX_DIMS] = {0};
    char b[96];
    if (SV_KIND(n) == SV_TRANSPOSE) {
        for (int k = 0; k < 2; k++)
            if (dsc_axis((int)n->attr.i[k], nd) < 0)
                return DSC_ERROR(DSC_ERR_SHAPE, "transpose: dim %d is out of range for input %s (%d-d)",
                                 (int)n->attr.i[k], dsc_shape_str(in, b, sizeof b), nd);
        transpose_perm(n, nd, perm);
    } else {
        if ((int)n->attr.i[0] != nd)
            return DSC_ERROR(DSC_ERR_SHAPE, "permute: %d dims given for input %s (%d-d)", (int)n->attr.i[0],
                             dsc_shape_str(in, b, sizeof b), nd);
        for (int d = 0; d < nd; d++) {
            int p = dsc_axis((int)n->attr.i[1 + d], nd);
            if (p < 0 || seen[p])
                return DSC_ERROR(DSC_ERR_SHAPE, "permute: entry %d (%d) makes the order not a permutation of the %d "
                                 "dims of input %s", d, (int)n->attr.i[1 + d], nd, dsc_shape_str(in, b, sizeof b));
            seen[p] = 1;
            perm[d] = p;
        }
    }
    dsc_shape o = *in;
    for (int d = 0; d < nd; d++)
        o.dim[d] = in->dim[perm[d]];
    n->shape = o;
    return DSC_OK;
}

static dsc_status slice_infer(dsc_graph *g, dsc_node *n)
{
    const dsc_shape *in = &dsc_in(g, n, 0)->shape;
    char b[96];
    int ax = dsc_axis((int)n->attr.i[0], in->ndim);
    if (ax < 0)
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: axis %d is out of range for input %s (%d-d)", n->op->name,
                         (int)n->attr.i[0], dsc_shape_str(in, b, sizeof b), in->ndim);
    if (n->attr.i[3] <= 0)
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: step %lld must be > 0", n->op->name, (long long)n->attr.i[3]);
    int64_t s0, len;
    slice_bounds(in->dim[ax], n->attr.i[1], n->attr.i[2], n->attr.i[3], &s0, &len);
    if (len == 0)
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: [%lld:%lld:%lld] of axis %d (size %lld) of input %s is empty",
                         n->op->name, (long long)n->attr.i[1], (long long)n->attr.i[2], (long long)n->attr.i[3],
                         (int)n->attr.i[0], (long long)in->dim[ax], dsc_shape_str(in, b, sizeof b));
    n->shape = *in;
    n->shape.dim[ax] = len;
    return DSC_OK;
}

static dsc_status expand_infer(dsc_graph *g, dsc_node *n)
{
    const dsc_shape *in = &dsc_in(g, n, 0)->shape;
    int nd = (int)n->attr.i[0];
    char b1[96], b2[96];
    dsc_shape o;
    memset(&o, 0, sizeof o);
    o.ndim = nd;
    for (int d = 0; d < nd; d++)
        o.dim[d] = n->attr.i[1 + d];
    if (nd < in->ndim)
        return DSC_ERROR(DSC_ERR_SHAPE, "expand: target %s has fewer dims than input %s",
                         dsc_shape_str(&o, b1, sizeof b1), dsc_shape_str(in, b2, sizeof b2));
    for (int d = 0; d < nd; d++) {
        int j = d - (nd - in->ndim);
        int64_t want = o.dim[d], have = j >= 0 ? in->dim[j] : 1;
        if (want == -1) {
            if (j < 0)
                return DSC_ERROR(DSC_ERR_SHAPE, "expand: -1 in new leading dim %d of target %s (input %s)", d,
                                 dsc_shape_str(&o, b1, sizeof b1), dsc_shape_str(in, b2, sizeof b2));
            o.dim[d] = have;
        } else if (want <= 0 || (have != 1 && have != want)) {
            return DSC_ERROR(DSC_ERR_SHAPE,
                             "expand: cannot expand input %s to %s (dim %d: size %lld can only expand from 1)",
                             dsc_shape_str(in, b2, sizeof b2), dsc_shape_str(&o, b1, sizeof b1), d,
                             (long long)have);
        }
    }
    n->shape = o;
    return DSC_OK;
}

static void sv_forward(dsc_graph *g, dsc_node *n)
{
    view_t v;
    input_view(g, n, &v);
    view_walk(&v, dsc_in(g, n, 0)->value, n->value, V_GATHER, 1);
}

static void sv_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *x = dsc_in(g, n, 0);
    if (!x->grad)
        return;
    view_t v;
    input_view(g, n, &v);
    view_walk(&v, x->grad, n->grad, V_SCATTER_ADD, SV_KIND(n) != SV_EXPAND);
}

static void sv_jvp(dsc_graph *g, dsc_node *n)
{
    view_t v;
    input_view(g, n, &v);
    view_walk(&v, dsc_in(g, n, 0)->tangent, n->tangent, V_GATHER, 1);
}

static const dsc_op OP_PERMUTE = {"permute", permute_infer, sv_forward, sv_vjp, sv_jvp, NULL, NULL, NULL, 0};
static const dsc_op OP_TRANSPOSE = {"transpose", permute_infer, sv_forward, sv_vjp, sv_jvp, NULL, NULL, NULL, 0};
static const dsc_op OP_SLICE = {"slice", slice_infer, sv_forward, sv_vjp, sv_jvp, NULL, NULL, NULL, 0};
static const dsc_op OP_EXPAND = {"expand", expand_infer, sv_forward, sv_vjp, sv_jvp, NULL, NULL, NULL, 0};

dsc_id dsc_permute(dsc_graph *g, dsc_id x, const int *perm)
{
    if (g->status != DSC_OK)
        return -1;
    if (!valid_node(g, x))
        return dsc_graph_fail(g, DSC_ERR_INVALID, "permute: input is not a node of this graph (id %d)", x);
    int nd = g->nodes[x].shape.ndim;
    if (nd > 0 && !perm)
        return dsc_graph_fail(g, DSC_ERR_INVALID, "permute: perm is NULL");
    dsc_attr a;
    memset(&a, 0, sizeof a);
    a.i[0] = nd;
    for (int d = 0; d < nd; d++)
        a.i[1 + d] = perm[d];
    a.i[15] = SV_PERMUTE;
    return dsc_graph_add_op(g, &OP_PERMUTE, 1, &x, &a);
}

dsc_id dsc_transpose(dsc_graph *g, dsc_id x, int d0, int d1)
{
    dsc_attr a;
    memset(&a, 0, sizeof a);
    a.i[0] = d0;
    a.i[1] = d1;
    a.i[15] = SV_TRANSPOSE;
    return dsc_graph_add_op(g, &OP_TRANSPOSE, 1, &x, &a);
}

static dsc_attr slice_attr(int axis, int64_t start, int64_t stop, int64_t step)
{
    dsc_attr a;
    memset(&a, 0, sizeof a);
    a.i[0] = axis;
    a.i[1] = start;
    a.i[2] = stop;
    a.i[3] = step;
    a.i[15] = SV_SLICE;
    return a;
}

dsc_id dsc_slice(dsc_graph *g, dsc_id x, int axis, int64_t start, int64_t stop, int64_t step)
{
    dsc_attr a = slice_attr(axis, start, stop, step);
    return dsc_graph_add_op(g, &OP_SLICE, 1, &x, &a);
}

dsc_id dsc_expand(dsc_graph *g, dsc_id x, int ndim, const int64_t *shape)
{
    if (g->status != DSC_OK)
        return -1;
    if (ndim < 0 || ndim > DSC_MAX_DIMS || (ndim > 0 && !shape))
        return dsc_graph_fail(g, DSC_ERR_SHAPE, "expand: %d target dims (0..%d supported)", ndim, DSC_MAX_DIMS);
    dsc_attr a;
    memset(&a, 0, sizeof a);
    a.i[0] = ndim;
    for (int d = 0; d < ndim; d++)
        a.i[1 + d] = shape[d];
    a.i[15] = SV_EXPAND;
    return dsc_graph_add_op(g, &OP_EXPAND, 1, &x, &a);
}

/* ---- concat / split ---------------------------------------------------------------------- */

/* attr: i[0] axis. Input i occupies [off_i, off_i + dim_i) of the output's axis. */
static dsc_status concat_infer(dsc_graph *g, dsc_node *n)
{
    const dsc_shape *s0 = &dsc_in(g, n, 0)->shape;
    char b1[96], b2[96];
    int ax = dsc_axis((int)n->attr.i[0], s0->ndim);
    if (ax < 0)
        return DSC_ERROR(DSC_ERR_SHAPE, "concat: axis %d is out of range for input 0 %s (%d-d)", (int)n->attr.i[0],
                         dsc_shape_str(s0, b1, sizeof b1), s0->ndim);
    dsc_shape o = *s0;
    for (int i = 1; i < n->n_in; i++) {
        const dsc_shape *si = &dsc_in(g, n, i)->shape;
        int ok = si->ndim == s0->ndim;
        for (int d = 0; ok && d < s0->ndim; d++)
            if (d != ax && si->dim[d] != s0->dim[d])
                ok = 0;
        if (!ok)
            return DSC_ERROR(DSC_ERR_SHAPE, "concat: input %d %s does not match input 0 %s except along axis %d", i,
                             dsc_shape_str(si, b1, sizeof b1), dsc_shape_str(s0, b2, sizeof b2), ax);
        o.dim[ax] += si->dim[ax];
    }
    n->shape = o;
    return DSC_OK;
}

/* Input i's block of the output, as a view of the output buffer. */
static void concat_block(dsc_graph *g, const dsc_node *n, int i, view_t *v)
{
    int ax = dsc_axis((int)n->attr.i[0], n->shape.ndim);
    int64_t ost[DSC_MAX_DIMS];
    contiguous_strides(&n->shape, ost);
    int64_t off = 0;
    for (int k = 0; k < i; k++)
        off += dsc_in(g, n, k)->shape.dim[ax];
    const dsc_shape *si = &dsc_in(g, n, i)->shape;
    memset(v, 0, sizeof *v);
    v->nd = si->ndim;
    v->n = dsc_shape_numel(si);
    for (int d = 0; d < si->ndim; d++) {
        v->dim[d] = si->dim[d];
        v->st[d] = ost[d];
    }
    v->base = off * ost[ax];
}

static void concat_forward(dsc_graph *g, dsc_node *n)
{
    for (int i = 0; i < n->n_in; i++) {
        view_t v;
        concat_block(g, n, i, &v);
        view_walk(&v, n->value, dsc_in(g, n, i)->value, V_SCATTER, 1);
    }
}

static void concat_vjp(dsc_graph *g, dsc_node *n)
{
    for (int i = 0; i < n->n_in; i++) {
        dsc_node *x = dsc_in(g, n, i);
        if (!x->grad)
            continue;
        view_t v;
        concat_block(g, n, i, &v);
        view_walk(&v, n->grad, x->grad, V_GATHER_ADD, 1);
    }
}

static void concat_jvp(dsc_graph *g, dsc_node *n)
{
    for (int i = 0; i < n->n_in; i++) {
        view_t v;
        concat_block(g, n, i, &v);
        view_walk(&v, n->tangent, dsc_in(g, n, i)->tangent, V_SCATTER, 1);
    }
}

static const dsc_op OP_CONCAT = {"concat", concat_infer, concat_forward, concat_vjp, concat_jvp, NULL, NULL, NULL, 0};

dsc_id dsc_concat(dsc_graph *g, int n, const dsc_id *xs, int axis)
{
    if (g->status != DSC_OK)
        return -1;
    if (n < 1 || n > DSC_MAX_INPUTS || !xs)
        return dsc_graph_fail(g, DSC_ERR_INVALID, "concat: %d inputs (1..%d supported)", n, DSC_MAX_INPUTS);
    dsc_attr a;
    memset(&a, 0, sizeof a);
    a.i[0] = axis;
    return dsc_graph_add_op(g, &OP_CONCAT, n, xs, &a);
}

static const dsc_op OP_SPLIT = {"split", slice_infer, sv_forward, sv_vjp, sv_jvp, NULL, NULL, NULL, 0};

dsc_status dsc_split(dsc_graph *g, dsc_id x, int axis, int n, const int64_t *sizes, dsc_id *out)
{
    if (!g)
        return DSC_ERROR(DSC_ERR_INVALID, "split: no graph");
    if (out)
        for (int i = 0; i < n; i++)
            out[i] = -1;
    if (g->status != DSC_OK)
        return DSC_ERROR(g->status, "%s", g->error);
    if (n < 1 || !sizes || !out) {
        dsc_graph_fail(g, DSC_ERR_INVALID, "split: %d parts (needs n >= 1, sizes and out)", n);
        return DSC_ERR_INVALID;
    }
    if (!valid_node(g, x)) {
        dsc_graph_fail(g, DSC_ERR_INVALID, "split: input is not a node of this graph (id %d)", x);
        return DSC_ERR_INVALID;
    }
    const dsc_shape *in = &g->nodes[x].shape;
    char b[96];
    int ax = dsc_axis(axis, in->ndim);
    if (ax < 0) {
        dsc_graph_fail(g, DSC_ERR_SHAPE, "split: axis %d is out of range for input %s (%d-d)", axis,
                       dsc_shape_str(in, b, sizeof b), in->ndim);
        return DSC_ERR_SHAPE;
    }
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        if (sizes[i] <= 0) {
            dsc_graph_fail(g, DSC_ERR_SHAPE, "split: part %d has size %lld (must be > 0)", i, (long long)sizes[i]);
            return DSC_ERR_SHAPE;
        }
        total += sizes[i];
    }
    if (total != in->dim[ax]) {
        dsc_graph_fail(g, DSC_ERR_SHAPE, "split: sizes add up to %lld but axis %d of input %s has %lld", (long long)total,
                       axis, dsc_shape_str(in, b, sizeof b), (long long)in->dim[ax]);
        return DSC_ERR_SHAPE;
    }
    int64_t start = 0;
    for (int i = 0; i < n; i++) {
        dsc_attr a = slice_attr(ax, start, start + sizes[i], 1);
        out[i] = dsc_graph_add_op(g, &OP_SPLIT, 1, &x, &a);
        if (out[i] < 0)
            return g->status;
        start += sizes[i];
    }
    return DSC_OK;
}
