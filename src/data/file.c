/* Reading whole files into memory, with gzip decompression (zlib) and a size cap. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_internal.h"

#ifdef DSC_HAVE_ZLIB
#include <zlib.h>
#endif

static int is_gzip(const unsigned char *p, size_t n) { return n >= 2 && p[0] == 0x1f && p[1] == 0x8b; }

dsc_status dsc_data_gunzip(const void *buf, size_t len, const char *name, int64_t max_out, void **out,
                           size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
#ifndef DSC_HAVE_ZLIB
    (void)buf;
    (void)len;
    (void)max_out;
    return DSC_ERROR(DSC_ERR_UNSUPPORTED,
                     "%s: the file is gzip-compressed, but this build of descent has no zlib "
                     "(install zlib1g-dev and rebuild, or gunzip the file)",
                     name);
#else
    int64_t cap = dsc_data_cap(max_out);
    dsc_gbuf b = {0};
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 32: zlib or gzip header detection. */
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        return DSC_ERROR(DSC_ERR_NOMEM, "%s: cannot initialise zlib", name);
    const unsigned char *in = buf;
    size_t left = len;
    dsc_status st = DSC_OK;
    int ret = Z_OK;
    for (;;) {
        if (z.avail_in == 0 && left > 0) {
            uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
            z.next_in = (unsigned char *)(uintptr_t)in;
            z.avail_in = chunk;
            in += chunk;
            left -= chunk;
        }
        st = dsc_gbuf_reserve(&b, 1 << 16, cap + (1 << 16), name);
        if (st != DSC_OK)
            break;
        z.next_out = b.p + b.len;
        z.avail_out = (uInt)(b.cap - b.len);
        size_t before = z.avail_out;
        ret = inflate(&z, Z_NO_FLUSH);
        b.len += before - z.avail_out;
        if ((int64_t)b.len > cap) {
            st = DSC_ERROR(DSC_ERR_NOMEM, "%s: decompressed data exceed the size limit of %lld bytes", name,
                           (long long)cap);
            break;
        }
        if (ret == Z_STREAM_END) {
            /* Concatenated gzip members (as `cat a.gz b.gz` makes) continue the stream. */
            size_t rest = z.avail_in + left;
            const unsigned char *next = z.next_in;
            if (rest >= 2 && is_gzip(next, rest) && z.avail_in >= 2) {
                inflateReset(&z);
                continue;
            }
            break;
        }
        if (ret == Z_BUF_ERROR && z.avail_in == 0 && left == 0) {
            st = DSC_ERROR(DSC_ERR_FORMAT, "%s: truncated gzip data (after %zu compressed bytes)", name, len);
            break;
        }
        if (ret != Z_OK && ret != Z_BUF_ERROR) {
            st = DSC_ERROR(DSC_ERR_FORMAT, "%s: corrupt gzip data at compressed byte %zu: %s", name,
                           len - left - z.avail_in, z.msg ? z.msg : "inflate failed");
            break;
        }
    }
    inflateEnd(&z);
    if (st != DSC_OK) {
        free(b.p);
        return st;
    }
    *out = b.p ? b.p : malloc(1);
    *out_len = b.len;
    if (!*out)
        return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory", name);
    return DSC_OK;
#endif
}

dsc_status dsc_data_read_file(const char *path, int64_t max_bytes, void **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    int64_t cap = dsc_data_cap(max_bytes);
    FILE *f = fopen(path, "rb");
    if (!f)
        return DSC_ERROR(DSC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    dsc_gbuf b = {0};
    dsc_status st = DSC_OK;
    for (;;) {
        st = dsc_gbuf_reserve(&b, 1 << 16, cap + 1, path);
        if (st != DSC_OK)
            break;
        size_t got = fread(b.p + b.len, 1, b.cap - b.len, f);
        b.len += got;
        if ((int64_t)b.len > cap) {
            st = DSC_ERROR(DSC_ERR_NOMEM, "%s: the file is larger than the size limit of %lld bytes", path,
                           (long long)cap);
            break;
        }
        if (got == 0) {
            if (ferror(f))
                st = DSC_ERROR(DSC_ERR_IO, "%s: read error: %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (st == DSC_OK && is_gzip(b.p, b.len)) {
        void *out;
        size_t out_len;
        st = dsc_data_gunzip(b.p, b.len, path, cap, &out, &out_len);
        free(b.p);
        if (st != DSC_OK)
            return st;
        *buf = out;
        *len = out_len;
        return DSC_OK;
    }
    if (st != DSC_OK) {
        free(b.p);
        return st;
    }
    *buf = b.p ? b.p : malloc(1);
    *len = b.len;
    return *buf ? DSC_OK : DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory", path);
}
