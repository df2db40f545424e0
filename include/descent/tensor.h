/* descent — float32 n-d tensors with shape and strides, and views on them.
 *
 * A dsc_tensor does not own its memory unless it was made by dsc_tensor_new; views
 * (reshape, permute, transpose, slice, expand) share the data of their source and only
 * change shape, strides and offset. Strides are in elements; expand uses stride 0. */
#ifndef DESCENT_TENSOR_H
#define DESCENT_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "descent/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DSC_MAX_DIMS 6

typedef struct dsc_shape {
    int ndim;
    int64_t dim[DSC_MAX_DIMS];
} dsc_shape;

typedef struct dsc_tensor {
    float *data;      /* element (i0,..,in) is data[offset + sum_k ik*stride[k]] */
    int64_t offset;
    dsc_shape shape;
    int64_t stride[DSC_MAX_DIMS];
    void *owned;      /* non-NULL when this tensor owns its allocation */
} dsc_tensor;

/* Shapes. */
dsc_shape dsc_shape_make(int ndim, const int64_t *dims);
int64_t dsc_shape_numel(const dsc_shape *s);
int dsc_shape_equal(const dsc_shape *a, const dsc_shape *b);
/* Writes "[2, 3, 4]" into buf; returns buf. */
const char *dsc_shape_str(const dsc_shape *s, char *buf, size_t size);
/* Validates ndim in [0, DSC_MAX_DIMS], dims >= 0 and numel without overflow. */
dsc_status dsc_shape_check(const dsc_shape *s);
/* NumPy/PyTorch broadcasting of a and b into out. */
dsc_status dsc_shape_broadcast(const dsc_shape *a, const dsc_shape *b, dsc_shape *out);

/* Owning, contiguous, zero-filled tensor. Free with dsc_tensor_free. */
dsc_status dsc_tensor_new(dsc_tensor *t, int ndim, const int64_t *dims);
void dsc_tensor_free(dsc_tensor *t);
/* Non-owning contiguous tensor over existing memory. */
dsc_tensor dsc_tensor_wrap(float *data, int ndim, const int64_t *dims);

int64_t dsc_tensor_numel(const dsc_tensor *t);
int dsc_tensor_is_contiguous(const dsc_tensor *t);
/* Pointer to an element given ndim indices. */
float *dsc_tensor_at(const dsc_tensor *t, const int64_t *idx);

/* Views (no copy). Each returns DSC_ERR_SHAPE with a message on a bad request. */
dsc_status dsc_tensor_reshape(const dsc_tensor *t, int ndim, const int64_t *dims, dsc_tensor *out);
dsc_status dsc_tensor_permute(const dsc_tensor *t, const int *perm, dsc_tensor *out);
dsc_status dsc_tensor_transpose(const dsc_tensor *t, int d0, int d1, dsc_tensor *out);
/* Elements start, start+step, ... < stop along dim (step >= 1). */
dsc_status dsc_tensor_slice(const dsc_tensor *t, int dim, int64_t start, int64_t stop, int64_t step,
                            dsc_tensor *out);
/* Broadcast to shape (NumPy rules; broadcast dims get stride 0). */
dsc_status dsc_tensor_expand(const dsc_tensor *t, int ndim, const int64_t *dims, dsc_tensor *out);

/* Copy any strided tensor into contiguous memory dst (numel floats). */
void dsc_tensor_copy_to(const dsc_tensor *t, float *dst);
/* Owning contiguous copy. */
dsc_status dsc_tensor_contiguous(const dsc_tensor *t, dsc_tensor *out);

#ifdef __cplusplus
}
#endif
#endif
