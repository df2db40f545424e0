/* Broadcasting iteration shared by elementwise kernels.
 *
 * dsc_bcast describes up to three operands broadcast to an output shape: for every output
 * element k (row-major), the offsets of operands a, b, c advance by their broadcast strides
 * (0 along broadcast dimensions). */
#ifndef DSC_OPS_BROADCAST_H
#define DSC_OPS_BROADCAST_H

#include "autodiff/graph_internal.h"

typedef struct dsc_bcast {
    int nd;
    int64_t dim[DSC_MAX_DIMS];
    int64_t st[3][DSC_MAX_DIMS];
    int64_t n;
} dsc_bcast;

/* ops may be NULL for unused operands. */
static inline void dsc_bcast_init(dsc_bcast *it, const dsc_shape *out, const dsc_shape *a, const dsc_shape *b,
                                  const dsc_shape *c)
{
    const dsc_shape *ops[3] = {a, b, c};
    it->nd = out->ndim;
    it->n = dsc_shape_numel(out);
    for (int d = 0; d < out->ndim; d++)
        it->dim[d] = out->dim[d];
    for (int k = 0; k < 3; k++) {
        if (ops[k])
            dsc_broadcast_strides(ops[k], out, it->st[k]);
        else
            for (int d = 0; d < out->ndim; d++)
                it->st[k][d] = 0;
    }
}

/* Sequential loop over all output elements: in BODY, `k` is the output index and `o0`,
 * `o1`, `o2` the offsets of the three operands. The order is fixed, so accumulations
 * through it are deterministic. */
#define DSC_BCAST_FOR(it, ...)                                                   \
    do {                                                                          \
        int64_t idx_[DSC_MAX_DIMS] = {0};                                         \
        int64_t o0 = 0, o1 = 0, o2 = 0;                                           \
        (void)o0;                                                                 \
        (void)o1;                                                                 \
        (void)o2;                                                                 \
        for (int64_t k = 0; k < (it)->n; k++) {                                   \
            __VA_ARGS__;                                                              \
            for (int d_ = (it)->nd - 1; d_ >= 0; d_--) {                          \
                o0 += (it)->st[0][d_];                                            \
                o1 += (it)->st[1][d_];                                            \
                o2 += (it)->st[2][d_];                                            \
                if (++idx_[d_] < (it)->dim[d_])                                   \
                    break;                                                        \
                o0 -= (it)->st[0][d_] * (it)->dim[d_];                            \
                o1 -= (it)->st[1][d_] * (it)->dim[d_];                            \
                o2 -= (it)->st[2][d_] * (it)->dim[d_];                            \
                idx_[d_] = 0;                                                     \
            }                                                                     \
        }                                                                         \
    } while (0)

#endif
