/* NumPy .npy files (numpy/lib/format.py, "NEP 1"):
 *   "\x93NUMPY", major, minor; header length (uint16 LE for 1.x, uint32 LE for 2.x/3.x);
 *   an ASCII (3.x: UTF-8) Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }
 *   padded with spaces and ended by '\n'; then the raw elements.
 * The header is parsed with a small bounds-checked tokenizer (never past its declared length). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_internal.h"

typedef struct npy_hdr {
    const char *s;
    size_t len, pos;
    const char *name;
    size_t base; /* file offset of s[0], for messages */
} npy_hdr;

static void skip_ws(npy_hdr *h)
{
    while (h->pos < h->len && (h->s[h->pos] == ' ' || h->s[h->pos] == '\t' || h->s[h->pos] == '\n' ||
                               h->s[h->pos] == '\r'))
        h->pos++;
}

static dsc_status hdr_err(npy_hdr *h, const char *what)
{
    return DSC_ERROR(DSC_ERR_FORMAT, "%s: bad .npy header at byte %zu: %s", h->name, h->base + h->pos, what);
}

static dsc_status parse_str(npy_hdr *h, char *out, size_t size)
{
    skip_ws(h);
    if (h->pos >= h->len || (h->s[h->pos] != '\'' && h->s[h->pos] != '"'))
        return hdr_err(h, "expected a quoted string");
    char q = h->s[h->pos++];
    size_t n = 0;
    while (h->pos < h->len && h->s[h->pos] != q) {
        if (n + 1 >= size)
            return hdr_err(h, "string too long");
        out[n++] = h->s[h->pos++];
    }
    if (h->pos >= h->len)
        return hdr_err(h, "unterminated string");
    h->pos++;
    out[n] = '\0';
    return DSC_OK;
}

static int expect(npy_hdr *h, char c)
{
    skip_ws(h);
    if (h->pos < h->len && h->s[h->pos] == c) {
        h->pos++;
        return 1;
    }
    return 0;
}

static dsc_status parse_shape(npy_hdr *h, dsc_array *a)
{
    if (!expect(h, '('))
        return hdr_err(h, "'shape' must be a tuple such as (60000, 784)");
    a->ndim = 0;
    for (;;) {
        if (expect(h, ')'))
            return DSC_OK;
        skip_ws(h);
        if (h->pos >= h->len || h->s[h->pos] < '0' || h->s[h->pos] > '9')
            return hdr_err(h, "expected a non-negative integer in 'shape'");
        int64_t v = 0;
        while (h->pos < h->len && h->s[h->pos] >= '0' && h->s[h->pos] <= '9') {
            int dgt = h->s[h->pos++] - '0';
            if (v > (INT64_MAX - dgt) / 10)
                return hdr_err(h, "a dimension in 'shape' overflows 64 bits");
            v = v * 10 + dgt;
        }
        /* Python 2 writers append L to longs. */
        if (h->pos < h->len && h->s[h->pos] == 'L')
            h->pos++;
        if (a->ndim >= DSC_ARRAY_MAX_DIMS)
            return hdr_err(h, "'shape' has more than 8 dimensions");
        a->dim[a->ndim++] = v;
        if (expect(h, ','))
            continue;
        if (expect(h, ')'))
            return DSC_OK;
        return hdr_err(h, "expected ',' or ')' in 'shape'");
    }
}

typedef enum { NPY_F4, NPY_F8, NPY_U1, NPY_I1, NPY_U2, NPY_I2, NPY_I4, NPY_I8, NPY_B1 } npy_type;

static double npy_elem(const unsigned char *p, npy_type t)
{
    switch (t) {
    case NPY_F4: {
        float f;
        memcpy(&f, p, 4);
        return f;
    }
    case NPY_F8: {
        double d;
        memcpy(&d, p, 8);
        return d;
    }
    case NPY_U1: return p[0];
    case NPY_B1: return p[0] != 0;
    case NPY_I1: return (int8_t)p[0];
    case NPY_U2: return (uint16_t)(p[0] | p[1] << 8);
    case NPY_I2: return (int16_t)(uint16_t)(p[0] | p[1] << 8);
    case NPY_I4: return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    case NPY_I8: {
        uint64_t u = 0;
        for (int i = 7; i >= 0; i--)
            u = u << 8 | p[i];
        return (double)(int64_t)u;
    }
    }
    return 0;
}

dsc_status dsc_npy_read_mem(const void *buf, size_t len, const char *name, dsc_data_dtype dtype, dsc_array *out)
{
    const unsigned char *p = buf;
    memset(out, 0, sizeof *out);
    if (len < 10 || memcmp(p, "\x93NUMPY", 6) != 0)
        return DSC_ERROR(DSC_ERR_FORMAT, "%s: not a .npy file (no \\x93NUMPY magic in the first 6 bytes)", name);
    int major = p[6];
    size_t hlen, off;
    if (major == 1) {
        hlen = (size_t)p[8] | (size_t)p[9] << 8;
        off = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12)
            return DSC_ERROR(DSC_ERR_FORMAT, "%s: .npy %d.%d header truncated (file has %zu bytes)", name, major, p[7],
                             len);
        hlen = (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
        off = 12;
    } else {
        return DSC_ERROR(DSC_ERR_UNSUPPORTED, "%s: .npy format version %d.%d (supported: 1.0, 2.0, 3.0)", name, major,
                         p[7]);
    }
    if (hlen > len - off)
        return DSC_ERROR(DSC_ERR_FORMAT, "%s: .npy header length %zu runs past the end of the file (%zu bytes)", name,
                         hlen, len);
    npy_hdr h = {(const char *)p + off, hlen, 0, name, off};
    char descr[32] = "";
    int fortran = -1, have_shape = 0;
    if (!expect(&h, '{'))
        return hdr_err(&h, "expected '{'");
    for (;;) {
        if (expect(&h, '}'))
            break;
        char key[32];
        DSC_TRY(parse_str(&h, key, sizeof key));
        if (!expect(&h, ':'))
            return hdr_err(&h, "expected ':' after a key");
        if (strcmp(key, "descr") == 0) {
            DSC_TRY(parse_str(&h, descr, sizeof descr));
        } else if (strcmp(key, "fortran_order") == 0) {
            skip_ws(&h);
            if (h.len - h.pos >= 4 && memcmp(h.s + h.pos, "True", 4) == 0) {
                fortran = 1;
                h.pos += 4;
            } else if (h.len - h.pos >= 5 && memcmp(h.s + h.pos, "False", 5) == 0) {
                fortran = 0;
                h.pos += 5;
            } else {
                return hdr_err(&h, "'fortran_order' must be True or False");
            }
        } else if (strcmp(key, "shape") == 0) {
            DSC_TRY(parse_shape(&h, out));
            have_shape = 1;
        } else {
            return hdr_err(&h, "unknown key (expected 'descr', 'fortran_order', 'shape')");
        }
        if (expect(&h, ','))
            continue;
        if (expect(&h, '}'))
            break;
        return hdr_err(&h, "expected ',' or '}'");
    }
    if (!descr[0] || fortran < 0 || !have_shape) {
        out->ndim = 0;
        return DSC_ERROR(DSC_ERR_FORMAT, "%s: .npy header lacks %s", name,
                         !descr[0] ? "'descr'" : fortran < 0 ? "'fortran_order'" : "'shape'");
    }
    if (fortran) {
        out->ndim = 0;
        return DSC_ERROR(DSC_ERR_UNSUPPORTED,
                         "%s: fortran_order is True; descent reads C-order arrays only "
                         "(save with np.save(f, np.ascontiguousarray(a)))",
                         name);
    }
    static const struct {
        const char *d;
        npy_type t;
        int size;
    } types[] = {{"<f4", NPY_F4, 4}, {"<f8", NPY_F8, 8}, {"|u1", NPY_U1, 1}, {"<u1", NPY_U1, 1},
                 {"|i1", NPY_I1, 1}, {"<i1", NPY_I1, 1}, {"<u2", NPY_U2, 2}, {"<i2", NPY_I2, 2},
                 {"<i4", NPY_I4, 4}, {"<i8", NPY_I8, 8}, {"|b1", NPY_B1, 1}};
    int ti = -1;
    for (int i = 0; i < (int)(sizeof types / sizeof types[0]); i++)
        if (strcmp(types[i].d, descr) == 0)
            ti = i;
    if (ti < 0) {
        out->ndim = 0;
        return DSC_ERROR(DSC_ERR_UNSUPPORTED,
                         "%s: .npy dtype '%s' is not supported (supported: <f4 <f8 |u1 <i4 <i8 |i1 <i2 <u2 |b1; "
                         "little-endian only)",
                         name, descr);
    }
    int64_t numel = 1, bytes = 0;
    for (int i = 0; i < out->ndim; i++)
        if (!dsc_mul_ok(numel, out->dim[i], &numel)) {
            out->ndim = 0;
            return DSC_ERROR(DSC_ERR_FORMAT, "%s: .npy shape overflows (dimension %d)", name, i);
        }
    size_t data_off = off + hlen;
    int overflow = !dsc_mul_ok(numel, types[ti].size, &bytes);
    if (overflow || (uint64_t)bytes != (uint64_t)(len - data_off)) {
        out->ndim = 0;
        return DSC_ERROR(DSC_ERR_FORMAT,
                         "%s: .npy shape needs %lld elements of %d bytes, but %zu data bytes follow the header at "
                         "offset %zu (%s)",
                         name, (long long)numel, types[ti].size, len - data_off, data_off,
                         (overflow || (uint64_t)bytes > (uint64_t)(len - data_off))
                             ? "truncated or wrong shape"
                             : "trailing bytes");
    }
    out->numel = numel;
    out->dtype = dtype;
    dsc_status st = dsc_data_alloc(&out->data, numel, dsc_dtype_size(dtype), 0, name);
    if (st != DSC_OK) {
        out->ndim = 0;
        return st;
    }
    const unsigned char *q = p + data_off;
    int es = types[ti].size;
    npy_type t = types[ti].t;
    if (dtype == DSC_DATA_F64)
        for (int64_t k = 0; k < numel; k++)
            ((double *)out->data)[k] = npy_elem(q + k * es, t);
    else if (t == NPY_F4)
        memcpy(out->data, q, (size_t)numel * 4);
    else
        for (int64_t k = 0; k < numel; k++)
            ((float *)out->data)[k] = (float)npy_elem(q + k * es, t);
    return DSC_OK;
}

dsc_status dsc_npy_read_file(const char *path, dsc_data_dtype dtype, int64_t max_bytes, dsc_array *out)
{
    void *buf;
    size_t len;
    memset(out, 0, sizeof *out);
    DSC_TRY(dsc_data_read_file(path, max_bytes, &buf, &len));
    dsc_status st = dsc_npy_read_mem(buf, len, path, dtype, out);
    free(buf);
    return st;
}

dsc_status dsc_npy_write(const char *path, const void *data, dsc_data_dtype dtype, int64_t rows, int64_t cols)
{
    char hdr[256];
    int n;
    const char *descr = dtype == DSC_DATA_F64 ? "<f8" : "<f4";
    if (cols > 0)
        n = snprintf(hdr + 10, sizeof hdr - 10, "{'descr': '%s', 'fortran_order': False, 'shape': (%lld, %lld), }",
                     descr, (long long)rows, (long long)cols);
    else
        n = snprintf(hdr + 10, sizeof hdr - 10, "{'descr': '%s', 'fortran_order': False, 'shape': (%lld,), }", descr,
                     (long long)rows);
    if (n < 0 || n > 200)
        return DSC_ERROR(DSC_ERR_INVALID, "%s: .npy header too long", path);
    /* Pad so that the data start at a multiple of 64 bytes, ending the header with '\n'. */
    int total = ((10 + n + 1) + 63) / 64 * 64;
    memset(hdr + 10 + n, ' ', (size_t)(total - 10 - n));
    hdr[total - 1] = '\n';
    memcpy(hdr, "\x93NUMPY\x01\x00", 8);
    hdr[8] = (char)((total - 10) & 0xff);
    hdr[9] = (char)((total - 10) >> 8);
    FILE *f = fopen(path, "wb");
    if (!f)
        return DSC_ERROR(DSC_ERR_IO, "%s: cannot open for writing", path);
    int64_t count = rows * (cols > 0 ? cols : 1);
    size_t es = dsc_dtype_size(dtype);
    int ok = fwrite(hdr, 1, (size_t)total, f) == (size_t)total &&
             fwrite(data, es, (size_t)count, f) == (size_t)count;
    if (fclose(f) != 0 || !ok)
        return DSC_ERROR(DSC_ERR_IO, "%s: write failed", path);
    return DSC_OK;
}
