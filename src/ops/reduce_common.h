/* Shared machinery of reductions over axes (sum, mean, max, var, logsumexp, ...). */
#ifndef DSC_OPS_REDUCE_COMMON_H
#define DSC_OPS_REDUCE_COMMON_H

#include "autodiff/graph_internal.h"

typedef struct dsc_reduce_layout_t {
    int nd;
    int64_t dim[DSC_MAX_DIMS];
    int64_t ostride[DSC_MAX_DIMS]; /* output stride per input dim, 0 on reduced dims */
    int64_t n_in, n_out, count;    /* count = elements per output */
} dsc_reduce_layout_t;

/* Validate axes (naxes = 0: all), store the axis bit mask in n->attr.i[0] and keepdim in
 * n->attr.i[1], and set n->shape. */
dsc_status dsc_reduce_plan(dsc_node *n, const dsc_shape *in, int naxes, const int *axes, int keepdim);
void dsc_reduce_layout(const dsc_shape *in, uint32_t mask, dsc_reduce_layout_t *L);

/* Sequential loop over input elements in index order: BODY sees `i` (input index) and `o`
 * (output index). */
#define DSC_REDUCE_FOR(L, ...)                                          \
    do {                                                                 \
        int64_t ix_[DSC_MAX_DIMS] = {0};                                 \
        int64_t o = 0;                                                   \
        for (int64_t i = 0; i < (L)->n_in; i++) {                        \
            __VA_ARGS__;                                                      \
            for (int d_ = (L)->nd - 1; d_ >= 0; d_--) {                  \
                o += (L)->ostride[d_];                                   \
                if (++ix_[d_] < (L)->dim[d_])                            \
                    break;                                               \
                o -= (L)->ostride[d_] * (L)->dim[d_];                    \
                ix_[d_] = 0;                                             \
            }                                                            \
        }                                                                \
    } while (0)

/* A tensor seen as [outer, K, inner] around one axis: element (o, k, i) sits at
 * (o * K + k) * inner + i and fibre f = o * inner + i is the output index of a reduction
 * over that axis (keepdim or not). */
typedef struct dsc_axis_split_t {
    int64_t outer, K, inner;
} dsc_axis_split_t;

static inline dsc_axis_split_t dsc_axis_split(const dsc_shape *s, int axis)
{
    dsc_axis_split_t a = {1, s->dim[axis], 1};
    for (int d = 0; d < axis; d++)
        a.outer *= s->dim[d];
    for (int d = axis + 1; d < s->ndim; d++)
        a.inner *= s->dim[d];
    return a;
}

/* Offset of the first element of fibre f (its elements are strided by a.inner). */
static inline int64_t dsc_fibre_start(const dsc_axis_split_t *a, int64_t f)
{
    return (f / a->inner) * a->K * a->inner + f % a->inner;
}

#endif
