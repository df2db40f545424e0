/* IDX files (LeCun et al.'s MNIST format, also used by Fashion-MNIST):
 *   bytes 0-1: 0x00 0x00; byte 2: element type; byte 3: number of dimensions k (1..8);
 *   then k big-endian uint32 sizes; then the elements, big-endian, C order.
 * Types: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64.
 * The declared size must match the bytes present exactly: this bounds every allocation by the input
 * size, so huge declared dimensions are refused before anything is allocated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_internal.h"

void dsc_array_free(dsc_array *a)
{
    if (!a)
        return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static double idx_elem(const unsigned char *p, int type)
{
    switch (type) {
    case 0x08: return p[0];
    case 0x09: return (int8_t)p[0];
    case 0x0B: return (int16_t)(uint16_t)((unsigned)p[0] << 8 | p[1]);
    case 0x0C: return (int32_t)be32(p);
    case 0x0D: {
        uint32_t u = be32(p);
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    default: {
        uint64_t u = (uint64_t)be32(p) << 32 | be32(p + 4);
        double d;
        memcpy(&d, &u, 8);
        return d;
    }
    }
}

dsc_status dsc_idx_read_mem(const void *buf, size_t len, const char *name, dsc_data_dtype dtype, dsc_array *out)
{
    const unsigned char *p = buf;
    memset(out, 0, sizeof *out);
    if (len < 4)
        return DSC_ERROR(DSC_ERR_FORMAT, "%s: IDX file too short (%zu bytes; the header needs at least 4)", name,
                         len);
    if (p[0] != 0 || p[1] != 0)
        return DSC_ERROR(DSC_ERR_FORMAT,
                         "%s: not an IDX file (bytes 0-1 are 0x%02x 0x%02x, expected 0x00 0x00)", name, p[0], p[1]);
    int type = p[2], ndim = p[3];
    int esize;
    switch (type) {
    case 0x08: case 0x09: esize = 1; break;
    case 0x0B: esize = 2; break;
    case 0x0C: case 0x0D: esize = 4; break;
    case 0x0E: esize = 8; break;
    default:
        return DSC_ERROR(DSC_ERR_FORMAT,
                         "%s: IDX byte 2 (element type) is 0x%02x; valid: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, "
                         "0x0D f32, 0x0E f64",
                         name, type);
    }
    if (ndim < 1 || ndim > DSC_ARRAY_MAX_DIMS)
        return DSC_ERROR(DSC_ERR_FORMAT, "%s: IDX byte 3 (number of dimensions) is %d; expected 1..%d", name, ndim,
                         DSC_ARRAY_MAX_DIMS);
    size_t hdr = 4 + 4 * (size_t)ndim;
    if (len < hdr)
        return DSC_ERROR(DSC_ERR_FORMAT, "%s: IDX header truncated: %d dimensions need %zu bytes, file has %zu",
                         name, ndim, hdr, len);
    int64_t numel = 1;
    out->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        out->dim[i] = be32(p + 4 + 4 * i);
        if (!dsc_mul_ok(numel, out->dim[i], &numel))
            return DSC_ERROR(DSC_ERR_FORMAT, "%s: IDX dimensions overflow at dimension %d (offset %d)", name, i,
                             4 + 4 * i);
    }
    int64_t bytes = 0;
    int overflow = !dsc_mul_ok(numel, esize, &bytes);
    if (overflow || (uint64_t)bytes != (uint64_t)(len - hdr)) {
        char dims[128];
        size_t u = 0;
        for (int i = 0; i < ndim && u < sizeof dims; i++) {
            int w = snprintf(dims + u, sizeof dims - u, "%s%lld", i ? " x " : "", (long long)out->dim[i]);
            if (w < 0)
                break;
            u += (size_t)w;
        }
        dsc_status st = DSC_ERROR(DSC_ERR_FORMAT,
                                  "%s: IDX header declares %s elements of %d bytes, but the file has %zu data "
                                  "bytes after the %zu-byte header (%s)",
                                  name, dims, esize, len - hdr, hdr,
                                  overflow || (uint64_t)bytes > (uint64_t)(len - hdr) ? "truncated or wrong dimensions"
                                                                          : "trailing bytes");
        out->ndim = 0;
        return st;
    }
    out->numel = numel;
    out->dtype = dtype;
    dsc_status st = dsc_data_alloc(&out->data, numel, dsc_dtype_size(dtype), 0, name);
    if (st != DSC_OK) {
        out->ndim = 0;
        return st;
    }
    const unsigned char *q = p + hdr;
    if (dtype == DSC_DATA_F64) {
        double *d = out->data;
        for (int64_t k = 0; k < numel; k++)
            d[k] = idx_elem(q + k * esize, type);
    } else {
        float *f = out->data;
        if (type == 0x08)
            for (int64_t k = 0; k < numel; k++)
                f[k] = q[k];
        else
            for (int64_t k = 0; k < numel; k++)
                f[k] = (float)idx_elem(q + k * esize, type);
    }
    return DSC_OK;
}

dsc_status dsc_idx_read_file(const char *path, dsc_data_dtype dtype, int64_t max_bytes, dsc_array *out)
{
    void *buf;
    size_t len;
    memset(out, 0, sizeof *out);
    DSC_TRY(dsc_data_read_file(path, max_bytes, &buf, &len));
    dsc_status st = dsc_idx_read_mem(buf, len, path, dtype, out);
    free(buf);
    return st;
}
