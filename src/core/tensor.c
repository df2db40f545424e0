/* Tensors, shapes and strided views; see include/descent/tensor.h. */
#include "descent/tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

dsc_shape dsc_shape_make(int ndim, const int64_t *dims)
{
    dsc_shape s;
    memset(&s, 0, sizeof s);
    s.ndim = ndim;
    for (int i = 0; i < ndim && i < DSC_MAX_DIMS; i++)
        s.dim[i] = dims[i];
    return s;
}

int64_t dsc_shape_numel(const dsc_shape *s)
{
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        n *= s->dim[i];
    return n;
}

int dsc_shape_equal(const dsc_shape *a, const dsc_shape *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->dim[i] != b->dim[i])
            return 0;
    return 1;
}

const char *dsc_shape_str(const dsc_shape *s, char *buf, size_t size)
{
    size_t n = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    n += (size_t)snprintf(buf + n, size - n, "[");
    for (int i = 0; i < s->ndim && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, i ? ", %lld" : "%lld", (long long)s->dim[i]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
    return buf;
}

dsc_status dsc_shape_check(const dsc_shape *s)
{
    if (s->ndim < 0 || s->ndim > DSC_MAX_DIMS)
        return DSC_ERROR(DSC_ERR_SHAPE, "tensor has %d dimensions; at most %d are supported", s->ndim,
                         DSC_MAX_DIMS);
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++) {
        if (s->dim[i] < 0)
            return DSC_ERROR(DSC_ERR_SHAPE, "dimension %d has negative size %lld", i, (long long)s->dim[i]);
        if (s->dim[i] > 0 && n > INT64_MAX / 16 / s->dim[i])
            return DSC_ERROR(DSC_ERR_NOMEM, "tensor size overflows (dimension %d)", i);
        n *= s->dim[i];
    }
    return DSC_OK;
}

dsc_status dsc_shape_broadcast(const dsc_shape *a, const dsc_shape *b, dsc_shape *out)
{
    dsc_shape r;
    memset(&r, 0, sizeof r);
    r.ndim = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int i = 0; i < r.ndim; i++) {
        int ia = a->ndim - r.ndim + i, ib = b->ndim - r.ndim + i;
        int64_t da = ia >= 0 ? a->dim[ia] : 1, db = ib >= 0 ? b->dim[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            char sa[96], sb[96];
            return DSC_ERROR(DSC_ERR_SHAPE, "shapes %s and %s do not broadcast (dimension %d: %lld vs %lld)",
                             dsc_shape_str(a, sa, sizeof sa), dsc_shape_str(b, sb, sizeof sb), i,
                             (long long)da, (long long)db);
        }
        r.dim[i] = da == 1 ? db : da;
    }
    *out = r;
    return DSC_OK;
}

static void set_contiguous_strides(dsc_tensor *t)
{
    int64_t st = 1;
    for (int i = t->shape.ndim - 1; i >= 0; i--) {
        t->stride[i] = st;
        st *= t->shape.dim[i];
    }
}

dsc_status dsc_tensor_new(dsc_tensor *t, int ndim, const int64_t *dims)
{
    memset(t, 0, sizeof *t);
    t->shape = dsc_shape_make(ndim, dims);
    DSC_TRY(dsc_shape_check(&t->shape));
    int64_t n = dsc_shape_numel(&t->shape);
    t->data = calloc((size_t)(n > 0 ? n : 1), sizeof(float));
    if (!t->data)
        return DSC_ERROR(DSC_ERR_NOMEM, "cannot allocate a tensor of %lld floats", (long long)n);
    t->owned = t->data;
    set_contiguous_strides(t);
    return DSC_OK;
}

void dsc_tensor_free(dsc_tensor *t)
{
    if (t && t->owned)
        free(t->owned);
    if (t)
        memset(t, 0, sizeof *t);
}

dsc_tensor dsc_tensor_wrap(float *data, int ndim, const int64_t *dims)
{
    dsc_tensor t;
    memset(&t, 0, sizeof t);
    t.data = data;
    t.shape = dsc_shape_make(ndim, dims);
    set_contiguous_strides(&t);
    return t;
}

int64_t dsc_tensor_numel(const dsc_tensor *t) { return dsc_shape_numel(&t->shape); }

int dsc_tensor_is_contiguous(const dsc_tensor *t)
{
    int64_t st = 1;
    for (int i = t->shape.ndim - 1; i >= 0; i--) {
        if (t->shape.dim[i] != 1 && t->stride[i] != st)
            return 0;
        st *= t->shape.dim[i];
    }
    return 1;
}

float *dsc_tensor_at(const dsc_tensor *t, const int64_t *idx)
{
    int64_t off = t->offset;
    for (int i = 0; i < t->shape.ndim; i++)
        off += idx[i] * t->stride[i];
    return t->data + off;
}

dsc_status dsc_tensor_reshape(const dsc_tensor *t, int ndim, const int64_t *dims, dsc_tensor *out)
{
    dsc_shape s = dsc_shape_make(ndim, dims);
    int infer = -1;
    int64_t known = 1;
    if (ndim < 0 || ndim > DSC_MAX_DIMS)
        return DSC_ERROR(DSC_ERR_SHAPE, "reshape: %d dimensions; at most %d are supported", ndim, DSC_MAX_DIMS);
    for (int i = 0; i < ndim; i++) {
        if (s.dim[i] == -1) {
            if (infer >= 0)
                return DSC_ERROR(DSC_ERR_SHAPE, "reshape: only one dimension can be -1");
            infer = i;
        } else if (s.dim[i] < 0) {
            return DSC_ERROR(DSC_ERR_SHAPE, "reshape: invalid size %lld", (long long)s.dim[i]);
        } else {
            known *= s.dim[i];
        }
    }
    int64_t n = dsc_tensor_numel(t);
    if (infer >= 0) {
        if (known == 0 || n % known != 0)
            return DSC_ERROR(DSC_ERR_SHAPE, "reshape: cannot infer -1 for %lld elements", (long long)n);
        s.dim[infer] = n / known;
    }
    char a[96], b[96];
    if (dsc_shape_numel(&s) != n)
        return DSC_ERROR(DSC_ERR_SHAPE, "reshape: cannot view %s (%lld elements) as %s",
                         dsc_shape_str(&t->shape, a, sizeof a), (long long)n, dsc_shape_str(&s, b, sizeof b));
    if (!dsc_tensor_is_contiguous(t))
        return DSC_ERROR(DSC_ERR_SHAPE, "reshape: tensor %s is not contiguous; copy it first",
                         dsc_shape_str(&t->shape, a, sizeof a));
    dsc_tensor r = *t;
    r.owned = NULL;
    r.shape = s;
    set_contiguous_strides(&r);
    *out = r;
    return DSC_OK;
}

dsc_status dsc_tensor_permute(const dsc_tensor *t, const int *perm, dsc_tensor *out)
{
    int seen[DSC_MAX_DIMS] = {0};
    dsc_tensor r = *t;
    r.owned = NULL;
    for (int i = 0; i < t->shape.ndim; i++) {
        int p = perm[i];
        if (p < 0 || p >= t->shape.ndim || seen[p])
            return DSC_ERROR(DSC_ERR_SHAPE, "permute: invalid permutation (entry %d = %d)", i, p);
        seen[p] = 1;
        r.shape.dim[i] = t->shape.dim[p];
        r.stride[i] = t->stride[p];
    }
    *out = r;
    return DSC_OK;
}

dsc_status dsc_tensor_transpose(const dsc_tensor *t, int d0, int d1, dsc_tensor *out)
{
    int perm[DSC_MAX_DIMS];
    int nd = t->shape.ndim;
    if (d0 < 0)
        d0 += nd;
    if (d1 < 0)
        d1 += nd;
    if (d0 < 0 || d0 >= nd || d1 < 0 || d1 >= nd)
        return DSC_ERROR(DSC_ERR_SHAPE, "transpose: dimensions out of range for a %d-d tensor", nd);
    for (int i = 0; i < nd; i++)
        perm[i] = i;
    perm[d0] = d1;
    perm[d1] = d0;
    return dsc_tensor_permute(t, perm, out);
}

dsc_status dsc_tensor_slice(const dsc_tensor *t, int dim, int64_t start, int64_t stop, int64_t step,
                            dsc_tensor *out)
{
    int nd = t->shape.ndim;
    if (dim < 0)
        dim += nd;
    if (dim < 0 || dim >= nd)
        return DSC_ERROR(DSC_ERR_SHAPE, "slice: dimension out of range for a %d-d tensor", nd);
    int64_t size = t->shape.dim[dim];
    if (step < 1)
        return DSC_ERROR(DSC_ERR_SHAPE, "slice: step must be >= 1 (got %lld)", (long long)step);
    if (start < 0)
        start += size;
    if (stop < 0)
        stop += size;
    if (stop > size)
        stop = size;
    if (start < 0 || start > size || stop < start)
        return DSC_ERROR(DSC_ERR_SHAPE, "slice: range [%lld, %lld) invalid for size %lld", (long long)start,
                         (long long)stop, (long long)size);
    dsc_tensor r = *t;
    r.owned = NULL;
    r.offset = t->offset + start * t->stride[dim];
    r.shape.dim[dim] = (stop - start + step - 1) / step;
    r.stride[dim] = t->stride[dim] * step;
    *out = r;
    return DSC_OK;
}

dsc_status dsc_tensor_expand(const dsc_tensor *t, int ndim, const int64_t *dims, dsc_tensor *out)
{
    if (ndim < t->shape.ndim || ndim > DSC_MAX_DIMS)
        return DSC_ERROR(DSC_ERR_SHAPE, "expand: cannot expand a %d-d tensor to %d dimensions", t->shape.ndim,
                         ndim);
    dsc_tensor r;
    memset(&r, 0, sizeof r);
    r.data = t->data;
    r.offset = t->offset;
    r.shape = dsc_shape_make(ndim, dims);
    for (int i = 0; i < ndim; i++) {
        int j = t->shape.ndim - ndim + i;
        int64_t d = j >= 0 ? t->shape.dim[j] : 1;
        if (j >= 0 && d == dims[i]) {
            r.stride[i] = t->stride[j];
        } else if (d == 1) {
            r.stride[i] = 0;
        } else {
            return DSC_ERROR(DSC_ERR_SHAPE, "expand: dimension %d has size %lld, cannot expand to %lld", i,
                             (long long)d, (long long)dims[i]);
        }
    }
    *out = r;
    return DSC_OK;
}

void dsc_tensor_copy_to(const dsc_tensor *t, float *dst)
{
    int nd = t->shape.ndim;
    int64_t n = dsc_tensor_numel(t);
    int64_t idx[DSC_MAX_DIMS] = {0};
    if (n == 0)
        return;
    for (int64_t k = 0; k < n; k++) {
        dst[k] = *dsc_tensor_at(t, idx);
        for (int d = nd - 1; d >= 0; d--) {
            if (++idx[d] < t->shape.dim[d])
                break;
            idx[d] = 0;
        }
    }
}

dsc_status dsc_tensor_contiguous(const dsc_tensor *t, dsc_tensor *out)
{
    dsc_tensor r;
    DSC_TRY(dsc_tensor_new(&r, t->shape.ndim, t->shape.dim));
    dsc_tensor_copy_to(t, r.data);
    *out = r;
    return DSC_OK;
}
