/* safetensors reader and writer (format: https://github.com/huggingface/safetensors, see
 * include/descent/io.h and docs/FORMATS.md).
 *
 * The header is parsed by a small strict JSON parser written for exactly this subset rather than
 * a general JSON library: it needs no dependency, refuses duplicate keys (which general parsers
 * silently overwrite, so two readers could disagree about a file), reads offsets and dimensions
 * as exact 64-bit integers (not doubles, which round above 2^53), validates UTF-8, and bounds
 * every read by the header length, which makes it easy to fuzz. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "descent/io.h"
#include "io/io_internal.h"

static const char *const dtype_names[DSC_ST_DTYPE_COUNT] = {
    "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64",
};
static const unsigned char dtype_sizes[DSC_ST_DTYPE_COUNT] = {1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 8, 8, 8};

const char *dsc_st_dtype_name(dsc_st_dtype d)
{
    return (unsigned)d < DSC_ST_DTYPE_COUNT ? dtype_names[d] : NULL;
}

size_t dsc_st_dtype_size(dsc_st_dtype d)
{
    return (unsigned)d < DSC_ST_DTYPE_COUNT ? dtype_sizes[d] : 0;
}

int dsc_st_dtype_parse(const char *name)
{
    for (int i = 0; i < DSC_ST_DTYPE_COUNT; i++)
        if (strcmp(name, dtype_names[i]) == 0)
            return i;
    return -1;
}

/* numel of a shape; -1 on overflow of int64 or of size_t bytes for element size esize. */
static int64_t shape_numel(int ndim, const int64_t *shape, size_t esize)
{
    uint64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        uint64_t d = (uint64_t)shape[i];
        if (shape[i] < 0)
            return -1;
        if (d != 0 && n > (uint64_t)INT64_MAX / d)
            return -1;
        n *= d;
    }
    if (esize && n > SIZE_MAX / esize)
        return -1;
    return (int64_t)n;
}

const char *dsc_io_shape_str(int ndim, const int64_t *shape, char *buf, size_t size)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, size - k, "[");
    for (int i = 0; i < ndim && k < size; i++)
        k += (size_t)snprintf(buf + k, size - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (k < size)
        snprintf(buf + k, size - k, "]");
    return buf;
}

dsc_st_tensor dsc_st_tensor_make(const char *name, dsc_st_dtype dtype, int ndim, const int64_t *shape,
                                 const void *data)
{
    dsc_st_tensor t;
    memset(&t, 0, sizeof t);
    t.name = name;
    t.dtype = dtype;
    t.ndim = ndim;
    for (int i = 0; i < ndim && i < DSC_ST_MAX_DIMS; i++)
        t.shape[i] = shape[i];
    t.data = data;
    int64_t n = (ndim >= 0 && ndim <= DSC_ST_MAX_DIMS) ? shape_numel(ndim, t.shape, dsc_st_dtype_size(dtype)) : -1;
    t.nbytes = n < 0 ? (size_t)-1 : (size_t)n * dsc_st_dtype_size(dtype);
    return t;
}

dsc_st_tensor dsc_st_tensor_f32(const char *name, const dsc_tensor *t)
{
    return dsc_st_tensor_make(name, DSC_ST_F32, t->shape.ndim, t->shape.dim, t->data + t->offset);
}

/* ---------------------------------------------------------------------------------------------
 * Reader. */

typedef struct st_storage {
    unsigned char *file; /* the whole file */
    char *arena;         /* decoded strings */
} st_storage;

typedef struct jp {
    const unsigned char *p, *begin, *end; /* header bytes */
    const char *file;                    /* file name, for messages */
    char *arena;
    size_t arena_len, arena_cap;
} jp;

static dsc_status jp_err(const jp *j, const char *what)
{
    return DSC_ERROR(DSC_ERR_FORMAT, "%s: safetensors header: %s (at header byte %zu)", j->file, what,
                     (size_t)(j->p - j->begin));
}

static void skip_ws(jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int expect(jp *j, char c)
{
    skip_ws(j);
    if (j->p < j->end && *j->p == (unsigned char)c) {
        j->p++;
        return 1;
    }
    return 0;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int read_hex4(jp *j, unsigned *out)
{
    if (j->end - j->p < 4)
        return 0;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(j->p[i]);
        if (h < 0)
            return 0;
        v = v * 16 + (unsigned)h;
    }
    j->p += 4;
    *out = v;
    return 1;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates, <= U+10FFFF),
 * 0 if invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if ((size_t)(end - p) < n)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

static void put_utf8(char *o, size_t *k, unsigned cp)
{
    if (cp < 0x80)
        o[(*k)++] = (char)cp;
    else if (cp < 0x800) {
        o[(*k)++] = (char)(0xC0 | (cp >> 6));
        o[(*k)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        o[(*k)++] = (char)(0xE0 | (cp >> 12));
        o[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[(*k)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        o[(*k)++] = (char)(0xF0 | (cp >> 18));
        o[(*k)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[(*k)++] = (char)(0x80 | (cp & 0x3F));
    }
}

/* A JSON string, decoded into the arena (NUL-terminated). The decoded form plus its NUL is never
 * longer than the quoted source, so an arena of header length + 1 bytes cannot overflow. */
static dsc_status parse_string(jp *j, const char **out)
{
    skip_ws(j);
    if (j->p >= j->end || *j->p != '"')
        return jp_err(j, j->p >= j->end ? "unexpected end, expected a string" : "expected a string");
    j->p++;
    char *o = j->arena + j->arena_len;
    size_t k = 0;
    for (;;) {
        if (j->p >= j->end)
            return jp_err(j, "unterminated string");
        unsigned char c = *j->p;
        if (c == '"') {
            j->p++;
            break;
        }
        if (c < 0x20)
            return jp_err(j, "control character in a string (must be escaped)");
        if (c == '\\') {
            if (j->end - j->p < 2)
                return jp_err(j, "unterminated escape");
            unsigned char e = j->p[1];
            j->p += 2;
            switch (e) {
            case '"': o[k++] = '"'; break;
            case '\\': o[k++] = '\\'; break;
            case '/': o[k++] = '/'; break;
            case 'b': o[k++] = '\b'; break;
            case 'f': o[k++] = '\f'; break;
            case 'n': o[k++] = '\n'; break;
            case 'r': o[k++] = '\r'; break;
            case 't': o[k++] = '\t'; break;
            case 'u': {
                unsigned cp;
                if (!read_hex4(j, &cp))
                    return jp_err(j, "bad \\u escape (4 hex digits expected)");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
                        return jp_err(j, "lone UTF-16 high surrogate in a \\u escape");
                    j->p += 2;
                    if (!read_hex4(j, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                        return jp_err(j, "bad UTF-16 surrogate pair in a \\u escape");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return jp_err(j, "lone UTF-16 low surrogate in a \\u escape");
                }
                if (cp == 0)
                    return jp_err(j, "NUL character (\\u0000) in a string");
                put_utf8(o, &k, cp);
                break;
            }
            default: return jp_err(j, "invalid escape in a string");
            }
            continue;
        }
        size_t n = utf8_len(j->p, j->end);
        if (n == 0)
            return jp_err(j, "invalid UTF-8 in a string");
        memcpy(o + k, j->p, n);
        k += n;
        j->p += n;
    }
    o[k] = '\0';
    j->arena_len += k + 1;
    *out = o;
    return DSC_OK;
}

/* A non-negative JSON integer (no sign, fraction or exponent), <= INT64_MAX. */
static dsc_status parse_uint(jp *j, const char *what, const char *tensor, int64_t *out)
{
    char msg[320];
    skip_ws(j);
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') {
        snprintf(msg, sizeof msg, "tensor '%s': %s must be non-negative integers", tensor, what);
        return jp_err(j, msg);
    }
    if (*j->p == '0' && j->end - j->p > 1 && j->p[1] >= '0' && j->p[1] <= '9') {
        snprintf(msg, sizeof msg, "tensor '%s': %s: leading zero in a number", tensor, what);
        return jp_err(j, msg);
    }
    uint64_t v = 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        unsigned dgt = (unsigned)(*j->p - '0');
        if (v > ((uint64_t)INT64_MAX - dgt) / 10) {
            snprintf(msg, sizeof msg, "tensor '%s': %s: number too large", tensor, what);
            return jp_err(j, msg);
        }
        v = v * 10 + dgt;
        j->p++;
    }
    if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E')) {
        snprintf(msg, sizeof msg, "tensor '%s': %s must be integers", tensor, what);
        return jp_err(j, msg);
    }
    *out = (int64_t)v;
    return DSC_OK;
}

typedef struct st_entry {
    const char *name;
    int dtype, ndim;
    int64_t shape[DSC_ST_MAX_DIMS];
    int64_t begin, end;
} st_entry;

typedef struct st_parse {
    st_entry *ents;
    int n, cap;
    dsc_st_meta *meta;
    int n_meta, cap_meta;
    int have_meta;
} st_parse;

/* Growth of a counted array, refusing absurd counts (the header size bounds them anyway). */
static int grow(void **p, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return 1;
    if (need > INT_MAX / 2)
        return 0;
    int nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, (size_t)nc * elem);
    if (!q)
        return 0;
    *p = q;
    *cap = nc;
    return 1;
}

static dsc_status parse_metadata(jp *j, st_parse *ps)
{
    char msg[320];
    if (ps->have_meta)
        return jp_err(j, "duplicate key '__metadata__'");
    ps->have_meta = 1;
    if (!expect(j, '{'))
        return jp_err(j, "'__metadata__' must be an object of strings");
    if (expect(j, '}'))
        return DSC_OK;
    for (;;) {
        const char *key, *val;
        DSC_TRY(parse_string(j, &key));
        if (!expect(j, ':'))
            return jp_err(j, "expected ':' after a metadata key");
        skip_ws(j);
        if (j->p >= j->end || *j->p != '"') {
            snprintf(msg, sizeof msg, "metadata value of '%s' is not a string (safetensors metadata is string to string)",
                     key);
            return jp_err(j, msg);
        }
        DSC_TRY(parse_string(j, &val));
        for (int i = 0; i < ps->n_meta; i++)
            if (strcmp(ps->meta[i].key, key) == 0) {
                snprintf(msg, sizeof msg, "duplicate metadata key '%s'", key);
                return jp_err(j, msg);
            }
        if (!grow((void **)&ps->meta, &ps->cap_meta, ps->n_meta + 1, sizeof *ps->meta))
            return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory reading the metadata", j->file);
        ps->meta[ps->n_meta].key = key;
        ps->meta[ps->n_meta].value = val;
        ps->n_meta++;
        if (expect(j, ','))
            continue;
        if (expect(j, '}'))
            return DSC_OK;
        return jp_err(j, "expected ',' or '}' in '__metadata__'");
    }
}

static dsc_status parse_tensor(jp *j, const char *name, st_entry *e)
{
    char msg[320];
    int have_dtype = 0, have_shape = 0, have_off = 0;
    memset(e, 0, sizeof *e);
    e->name = name;
    if (!expect(j, '{')) {
        snprintf(msg, sizeof msg, "tensor '%s': expected an object {\"dtype\", \"shape\", \"data_offsets\"}", name);
        return jp_err(j, msg);
    }
    if (!expect(j, '}'))
        for (;;) {
            const char *key;
            DSC_TRY(parse_string(j, &key));
            if (!expect(j, ':'))
                return jp_err(j, "expected ':' after a key");
            if (strcmp(key, "dtype") == 0) {
                const char *dt;
                if (have_dtype++) {
                    snprintf(msg, sizeof msg, "tensor '%s': duplicate key 'dtype'", name);
                    return jp_err(j, msg);
                }
                skip_ws(j);
                if (j->p >= j->end || *j->p != '"') {
                    snprintf(msg, sizeof msg, "tensor '%s': dtype must be a string", name);
                    return jp_err(j, msg);
                }
                DSC_TRY(parse_string(j, &dt));
                e->dtype = dsc_st_dtype_parse(dt);
                if (e->dtype < 0) {
                    snprintf(msg, sizeof msg, "tensor '%s': unknown dtype '%.40s' (known: BOOL U8 I8 F8_E5M2 F8_E4M3 "
                             "I16 U16 F16 BF16 I32 U32 F32 F64 I64 U64)", name, dt);
                    return jp_err(j, msg);
                }
            } else if (strcmp(key, "shape") == 0) {
                if (have_shape++) {
                    snprintf(msg, sizeof msg, "tensor '%s': duplicate key 'shape'", name);
                    return jp_err(j, msg);
                }
                if (!expect(j, '[')) {
                    snprintf(msg, sizeof msg, "tensor '%s': shape must be an array of integers", name);
                    return jp_err(j, msg);
                }
                if (!expect(j, ']'))
                    for (;;) {
                        if (e->ndim >= DSC_ST_MAX_DIMS) {
                            snprintf(msg, sizeof msg, "tensor '%s': more than %d dimensions", name, DSC_ST_MAX_DIMS);
                            return jp_err(j, msg);
                        }
                        DSC_TRY(parse_uint(j, "shape entries", name, &e->shape[e->ndim]));
                        e->ndim++;
                        if (expect(j, ','))
                            continue;
                        if (expect(j, ']'))
                            break;
                        snprintf(msg, sizeof msg, "tensor '%s': expected ',' or ']' in shape", name);
                        return jp_err(j, msg);
                    }
            } else if (strcmp(key, "data_offsets") == 0) {
                if (have_off++) {
                    snprintf(msg, sizeof msg, "tensor '%s': duplicate key 'data_offsets'", name);
                    return jp_err(j, msg);
                }
                if (!expect(j, '[')) {
                    snprintf(msg, sizeof msg, "tensor '%s': data_offsets must be [begin, end]", name);
                    return jp_err(j, msg);
                }
                DSC_TRY(parse_uint(j, "data_offsets", name, &e->begin));
                if (!expect(j, ',')) {
                    snprintf(msg, sizeof msg, "tensor '%s': data_offsets must be [begin, end]", name);
                    return jp_err(j, msg);
                }
                DSC_TRY(parse_uint(j, "data_offsets", name, &e->end));
                if (!expect(j, ']')) {
                    snprintf(msg, sizeof msg, "tensor '%s': data_offsets must have exactly 2 entries", name);
                    return jp_err(j, msg);
                }
            } else {
                snprintf(msg, sizeof msg, "tensor '%s': unknown key '%.40s' (expected dtype, shape, data_offsets)", name,
                         key);
                return jp_err(j, msg);
            }
            if (expect(j, ','))
                continue;
            if (expect(j, '}'))
                break;
            snprintf(msg, sizeof msg, "tensor '%s': expected ',' or '}'", name);
            return jp_err(j, msg);
        }
    if (!have_dtype || !have_shape || !have_off) {
        snprintf(msg, sizeof msg, "tensor '%s': missing '%s'", name,
                 !have_dtype ? "dtype" : !have_shape ? "shape" : "data_offsets");
        return jp_err(j, msg);
    }
    return DSC_OK;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const st_entry *)a)->name, ((const st_entry *)b)->name);
}

static int cmp_offsets(const void *a, const void *b)
{
    const st_entry *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

/* Takes ownership of file (len bytes) whether it succeeds or not. */
static dsc_status parse_owned(unsigned char *file, size_t len, const char *name, dsc_safetensors *out)
{
    char msg[400], sb[256];
    st_parse ps;
    memset(&ps, 0, sizeof ps);
    st_storage *sto = NULL;
    dsc_status s = DSC_OK;
    if (len < 8) {
        s = DSC_ERROR(DSC_ERR_FORMAT, "%s: not a safetensors file: %zu bytes, shorter than the 8-byte header size",
                      name, len);
        goto fail;
    }
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | file[i];
    if (n > DSC_ST_MAX_HEADER) {
        s = DSC_ERROR(DSC_ERR_FORMAT, "%s: safetensors header size %llu exceeds the limit of %llu bytes (corrupt file?)",
                      name, (unsigned long long)n, (unsigned long long)DSC_ST_MAX_HEADER);
        goto fail;
    }
    if (n > len - 8) {
        s = DSC_ERROR(DSC_ERR_FORMAT, "%s: safetensors header size %llu exceeds the %zu bytes after it (truncated file?)",
                      name, (unsigned long long)n, len - 8);
        goto fail;
    }
    if (n < 2 || file[8] != '{') {
        s = DSC_ERROR(DSC_ERR_FORMAT, "%s: safetensors header does not start with '{' (not a safetensors file?)", name);
        goto fail;
    }
    sto = calloc(1, sizeof *sto);
    if (!sto || !(sto->arena = malloc((size_t)n + 1))) {
        s = DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory for a %llu-byte header", name, (unsigned long long)n);
        goto fail;
    }
    sto->file = file;
    file = NULL;
    jp j = {sto->file + 8, sto->file + 8, sto->file + 8 + n, name, sto->arena, 0, (size_t)n + 1};
    j.p++; /* '{' */
    if (!expect(&j, '}'))
        for (;;) {
            const char *key;
            if ((s = parse_string(&j, &key)) != DSC_OK)
                goto fail;
            if (!expect(&j, ':')) {
                s = jp_err(&j, "expected ':' after a key");
                goto fail;
            }
            if (strcmp(key, "__metadata__") == 0) {
                if ((s = parse_metadata(&j, &ps)) != DSC_OK)
                    goto fail;
            } else {
                if (!grow((void **)&ps.ents, &ps.cap, ps.n + 1, sizeof *ps.ents)) {
                    s = DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory reading the header", name);
                    goto fail;
                }
                if ((s = parse_tensor(&j, key, &ps.ents[ps.n])) != DSC_OK)
                    goto fail;
                ps.n++;
            }
            if (expect(&j, ','))
                continue;
            if (expect(&j, '}'))
                break;
            s = jp_err(&j, "expected ',' or '}' after an entry");
            goto fail;
        }
    skip_ws(&j);
    if (j.p != j.end) {
        s = jp_err(&j, "unexpected bytes after the header object");
        goto fail;
    }

    /* Duplicate tensor names. */
    if (ps.n > 1) {
        qsort(ps.ents, (size_t)ps.n, sizeof *ps.ents, cmp_name);
        for (int i = 1; i < ps.n; i++)
            if (strcmp(ps.ents[i - 1].name, ps.ents[i].name) == 0) {
                s = DSC_ERROR(DSC_ERR_FORMAT, "%s: safetensors header: duplicate tensor name '%s'", name,
                              ps.ents[i].name);
                goto fail;
            }
    }
    /* Offsets: sorted, they must tile [0, data length) exactly, as the reference reader checks. */
    size_t data_len = len - 8 - (size_t)n;
    if (ps.n > 1)
        qsort(ps.ents, (size_t)ps.n, sizeof *ps.ents, cmp_offsets);
    int64_t pos = 0;
    for (int i = 0; i < ps.n; i++) {
        const st_entry *e = &ps.ents[i];
        if (e->end < e->begin) {
            s = DSC_ERROR(DSC_ERR_FORMAT, "%s: tensor '%s': data_offsets [%lld, %lld] end before they begin", name,
                          e->name, (long long)e->begin, (long long)e->end);
            goto fail;
        }
        if ((uint64_t)e->end > data_len) {
            s = DSC_ERROR(DSC_ERR_FORMAT,
                          "%s: tensor '%s': data_offsets [%lld, %lld] are out of range: the file has %zu data bytes "
                          "(truncated file?)",
                          name, e->name, (long long)e->begin, (long long)e->end, data_len);
            goto fail;
        }
        if (e->begin < pos) {
            s = DSC_ERROR(DSC_ERR_FORMAT, "%s: tensor '%s': data_offsets [%lld, %lld] overlap tensor '%s' (which ends at %lld)",
                          name, e->name, (long long)e->begin, (long long)e->end, ps.ents[i - 1].name, (long long)pos);
            goto fail;
        }
        if (e->begin > pos) {
            s = DSC_ERROR(DSC_ERR_FORMAT, "%s: tensor '%s': data_offsets [%lld, %lld] leave a gap: bytes [%lld, %lld) "
                          "belong to no tensor",
                          name, e->name, (long long)e->begin, (long long)e->end, (long long)pos, (long long)e->begin);
            goto fail;
        }
        size_t es = dtype_sizes[e->dtype];
        int64_t numel = shape_numel(e->ndim, e->shape, es);
        dsc_io_shape_str(e->ndim, e->shape, sb, sizeof sb);
        if (numel < 0) {
            s = DSC_ERROR(DSC_ERR_FORMAT, "%s: tensor '%s': shape %s overflows", name, e->name, sb);
            goto fail;
        }
        if ((uint64_t)numel * es != (uint64_t)(e->end - e->begin)) {
            s = DSC_ERROR(DSC_ERR_FORMAT,
                          "%s: tensor '%s': shape %s of %s needs %llu bytes but data_offsets [%lld, %lld] hold %lld",
                          name, e->name, sb, dtype_names[e->dtype], (unsigned long long)numel * es,
                          (long long)e->begin, (long long)e->end, (long long)(e->end - e->begin));
            goto fail;
        }
        pos = e->end;
    }
    if ((uint64_t)pos != data_len) {
        snprintf(msg, sizeof msg, "%s: the tensors cover %lld data bytes but the file has %zu after the header "
                 "(trailing bytes or a missing tensor)", name, (long long)pos, data_len);
        s = DSC_ERROR(DSC_ERR_FORMAT, "%s", msg);
        goto fail;
    }

    memset(out, 0, sizeof *out);
    out->tensors = calloc(ps.n ? (size_t)ps.n : 1, sizeof *out->tensors);
    if (!out->tensors) {
        s = DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory", name);
        goto fail;
    }
    const unsigned char *data = sto->file + 8 + n;
    for (int i = 0; i < ps.n; i++) {
        dsc_st_tensor *t = &out->tensors[i];
        const st_entry *e = &ps.ents[i];
        t->name = e->name;
        t->dtype = (dsc_st_dtype)e->dtype;
        t->ndim = e->ndim;
        memcpy(t->shape, e->shape, sizeof t->shape);
        t->data = data + e->begin;
        t->nbytes = (size_t)(e->end - e->begin);
    }
    out->n_tensors = ps.n;
    out->meta = ps.meta;
    out->n_meta = ps.n_meta;
    out->header_size = (size_t)n;
    out->storage_ = sto;
    free(ps.ents);
    return DSC_OK;

fail:
    free(file);
    if (sto) {
        free(sto->file);
        free(sto->arena);
        free(sto);
    }
    free(ps.ents);
    free(ps.meta);
    memset(out, 0, sizeof *out);
    return s;
}

dsc_status dsc_safetensors_read_mem(const void *buf, size_t len, const char *name, dsc_safetensors *out)
{
    memset(out, 0, sizeof *out);
    if (!name)
        name = "<memory>";
    if (!buf && len)
        return DSC_ERROR(DSC_ERR_INVALID, "%s: NULL buffer", name);
    unsigned char *copy = malloc(len ? len : 1);
    if (!copy)
        return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory (%zu bytes)", name, len);
    if (len)
        memcpy(copy, buf, len);
    return parse_owned(copy, len, name, out);
}

dsc_status dsc_safetensors_read_file(const char *path, int64_t max_bytes, dsc_safetensors *out)
{
    memset(out, 0, sizeof *out);
    int64_t cap = max_bytes > 0 ? max_bytes : (int64_t)16 << 30;
    FILE *f = fopen(path, "rb");
    if (!f)
        return DSC_ERROR(DSC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return DSC_ERROR(DSC_ERR_IO, "%s: not a regular file", path);
    }
    if ((int64_t)sb.st_size > cap || (uint64_t)sb.st_size > SIZE_MAX) {
        fclose(f);
        return DSC_ERROR(DSC_ERR_FORMAT, "%s: %lld bytes exceed the size limit of %lld bytes", path,
                         (long long)sb.st_size, (long long)cap);
    }
    size_t len = (size_t)sb.st_size;
    unsigned char *buf = malloc(len ? len : 1);
    if (!buf) {
        fclose(f);
        return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory (%zu bytes)", path, len);
    }
    size_t got = len ? fread(buf, 1, len, f) : 0;
    int err = ferror(f);
    fclose(f);
    if (got != len || err) {
        free(buf);
        return DSC_ERROR(DSC_ERR_IO, "%s: read %zu of %zu bytes%s", path, got, len, err ? ": read error" : "");
    }
    return parse_owned(buf, len, path, out);
}

void dsc_safetensors_free(dsc_safetensors *st)
{
    if (!st)
        return;
    st_storage *sto = st->storage_;
    if (sto) {
        free(sto->file);
        free(sto->arena);
        free(sto);
    }
    free(st->tensors);
    free(st->meta);
    memset(st, 0, sizeof *st);
}

const dsc_st_tensor *dsc_safetensors_find(const dsc_safetensors *st, const char *name)
{
    for (int i = 0; i < st->n_tensors; i++)
        if (strcmp(st->tensors[i].name, name) == 0)
            return &st->tensors[i];
    return NULL;
}

const char *dsc_safetensors_meta(const dsc_safetensors *st, const char *key)
{
    for (int i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta[i].key, key) == 0)
            return st->meta[i].value;
    return NULL;
}

dsc_status dsc_safetensors_get(const dsc_safetensors *st, const char *what, const char *name, dsc_st_dtype dtype,
                               int ndim, const int64_t *shape, void *dst)
{
    char a[256], b[256];
    if (!what)
        what = "safetensors";
    const dsc_st_tensor *t = dsc_safetensors_find(st, name);
    if (!t)
        return DSC_ERROR(DSC_ERR_FORMAT, "%s: no tensor named '%s'", what, name);
    if (t->dtype != dtype)
        return DSC_ERROR(DSC_ERR_FORMAT, "%s: tensor '%s' has dtype %s, expected %s", what, name,
                         dsc_st_dtype_name(t->dtype), dsc_st_dtype_name(dtype) ? dsc_st_dtype_name(dtype) : "?");
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same)
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: tensor '%s' has shape %s, expected %s", what, name,
                         dsc_io_shape_str(t->ndim, t->shape, a, sizeof a),
                         dsc_io_shape_str(ndim < 0 ? 0 : ndim > DSC_ST_MAX_DIMS ? DSC_ST_MAX_DIMS : ndim, shape, b,
                                          sizeof b));
    if (t->nbytes)
        memcpy(dst, t->data, t->nbytes);
    return DSC_OK;
}

dsc_status dsc_safetensors_get_f32(const dsc_safetensors *st, const char *what, const char *name, dsc_tensor *dst)
{
    if (dsc_tensor_is_contiguous(dst))
        return dsc_safetensors_get(st, what, name, DSC_ST_F32, dst->shape.ndim, dst->shape.dim,
                                   dst->data + dst->offset);
    /* Strided destination: check through a contiguous copy, then scatter. */
    int64_t n = dsc_tensor_numel(dst);
    float *tmp = malloc((size_t)(n ? n : 1) * sizeof *tmp);
    if (!tmp)
        return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory", what ? what : "safetensors");
    dsc_status s = dsc_safetensors_get(st, what, name, DSC_ST_F32, dst->shape.ndim, dst->shape.dim, tmp);
    if (s == DSC_OK) {
        int64_t idx[DSC_MAX_DIMS] = {0};
        for (int64_t k = 0; k < n; k++) {
            *dsc_tensor_at(dst, idx) = tmp[k];
            for (int d = dst->shape.ndim - 1; d >= 0; d--) {
                if (++idx[d] < dst->shape.dim[d])
                    break;
                idx[d] = 0;
            }
        }
    }
    free(tmp);
    return s;
}

/* ---------------------------------------------------------------------------------------------
 * Writer. */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *q = realloc(b->p, nc);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_u64(sbuf *b, unsigned long long v)
{
    char t[32];
    int k = snprintf(t, sizeof t, "%llu", v);
    sb_put(b, t, (size_t)k);
}

/* A JSON string escaped as serde_json (and Python's json with ensure_ascii=False) do: '"' and '\\'
 * backslashed, \b \t \n \f \r by name, other control characters as \u00xx, the rest raw. */
static void sb_json_str(sbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    sb_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char e[8];
        switch (*p) {
        case '"': sb_put(b, "\\\"", 2); break;
        case '\\': sb_put(b, "\\\\", 2); break;
        case '\b': sb_put(b, "\\b", 2); break;
        case '\t': sb_put(b, "\\t", 2); break;
        case '\n': sb_put(b, "\\n", 2); break;
        case '\f': sb_put(b, "\\f", 2); break;
        case '\r': sb_put(b, "\\r", 2); break;
        default:
            if (*p < 0x20) {
                e[0] = '\\', e[1] = 'u', e[2] = '0', e[3] = '0', e[4] = hex[*p >> 4], e[5] = hex[*p & 15];
                sb_put(b, e, 6);
            } else {
                sb_put(b, (const char *)p, 1);
            }
        }
    }
    sb_put(b, "\"", 1);
}

static int valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    while (p < end) {
        size_t n = utf8_len(p, end);
        if (!n)
            return 0;
        p += n;
    }
    return 1;
}

typedef struct w_item {
    const dsc_st_tensor *t;
    int rank;
} w_item;

/* The reference's order: dtype descending (Dtype enum order), then name ascending (bytes). */
static int cmp_write(const void *a, const void *b)
{
    const w_item *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank > y->rank ? -1 : 1;
    return strcmp(x->t->name, y->t->name);
}

static int cmp_meta(const void *a, const void *b)
{
    return strcmp((*(const dsc_st_meta *const *)a)->key, (*(const dsc_st_meta *const *)b)->key);
}

static int cmp_item_name(const void *a, const void *b)
{
    return strcmp(((const w_item *)a)->t->name, ((const w_item *)b)->t->name);
}

typedef struct st_plan {
    sbuf header; /* padded JSON */
    w_item *items;
    int n;
    size_t data_len;
} st_plan;

static void plan_free(st_plan *pl)
{
    free(pl->header.p);
    free(pl->items);
    memset(pl, 0, sizeof *pl);
}

static dsc_status plan_make(const dsc_st_tensor *tensors, int n, const dsc_st_meta *meta, int n_meta, st_plan *pl)
{
    char sb[256];
    memset(pl, 0, sizeof *pl);
    if (n < 0 || n_meta < 0 || (n && !tensors) || (n_meta && !meta))
        return DSC_ERROR(DSC_ERR_INVALID, "safetensors write: bad tensor or metadata list (n %d, n_meta %d)", n, n_meta);
    pl->items = malloc((size_t)(n ? n : 1) * sizeof *pl->items);
    const dsc_st_meta **mp = malloc((size_t)(n_meta ? n_meta : 1) * sizeof *mp);
    dsc_status s = DSC_OK;
    if (!pl->items || !mp) {
        s = DSC_ERROR(DSC_ERR_NOMEM, "safetensors write: out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        const dsc_st_tensor *t = &tensors[i];
        if (!t->name || strcmp(t->name, "__metadata__") == 0 || !valid_utf8(t->name)) {
            s = DSC_ERROR(DSC_ERR_INVALID, "safetensors write: tensor %d has an invalid name '%s' (NULL, "
                          "'__metadata__' or not UTF-8)", i, t->name ? t->name : "(null)");
            goto done;
        }
        if ((unsigned)t->dtype >= DSC_ST_DTYPE_COUNT) {
            s = DSC_ERROR(DSC_ERR_INVALID, "safetensors write: tensor '%s' has an invalid dtype %d", t->name, (int)t->dtype);
            goto done;
        }
        if (t->ndim < 0 || t->ndim > DSC_ST_MAX_DIMS) {
            s = DSC_ERROR(DSC_ERR_INVALID, "safetensors write: tensor '%s' has %d dimensions (0..%d)", t->name, t->ndim,
                          DSC_ST_MAX_DIMS);
            goto done;
        }
        size_t es = dtype_sizes[t->dtype];
        int64_t numel = shape_numel(t->ndim, t->shape, es);
        dsc_io_shape_str(t->ndim, t->shape, sb, sizeof sb);
        if (numel < 0 || (size_t)numel * es != t->nbytes) {
            s = DSC_ERROR(DSC_ERR_INVALID, "safetensors write: tensor '%s' of shape %s and dtype %s has %zu bytes, "
                          "expected %lld", t->name, sb, dtype_names[t->dtype], t->nbytes, (long long)numel * (long long)es);
            goto done;
        }
        if (t->nbytes && !t->data) {
            s = DSC_ERROR(DSC_ERR_INVALID, "safetensors write: tensor '%s' has no data", t->name);
            goto done;
        }
        pl->items[i].t = t;
        pl->items[i].rank = (int)t->dtype;
    }
    pl->n = n;
    /* Duplicate names. */
    qsort(pl->items, (size_t)n, sizeof *pl->items, cmp_item_name);
    for (int i = 1; i < n; i++)
        if (strcmp(pl->items[i - 1].t->name, pl->items[i].t->name) == 0) {
            s = DSC_ERROR(DSC_ERR_INVALID, "safetensors write: duplicate tensor name '%s'", pl->items[i].t->name);
            goto done;
        }
    qsort(pl->items, (size_t)n, sizeof *pl->items, cmp_write);
    for (int i = 0; i < n_meta; i++) {
        if (!meta[i].key || !meta[i].value || !valid_utf8(meta[i].key) || !valid_utf8(meta[i].value)) {
            s = DSC_ERROR(DSC_ERR_INVALID, "safetensors write: metadata entry %d is NULL or not UTF-8", i);
            goto done;
        }
        mp[i] = &meta[i];
    }
    qsort(mp, (size_t)n_meta, sizeof *mp, cmp_meta);
    for (int i = 1; i < n_meta; i++)
        if (strcmp(mp[i - 1]->key, mp[i]->key) == 0) {
            s = DSC_ERROR(DSC_ERR_INVALID, "safetensors write: duplicate metadata key '%s'", mp[i]->key);
            goto done;
        }

    sbuf *h = &pl->header;
    sb_put(h, "{", 1);
    if (n_meta) {
        sb_str(h, "\"__metadata__\":{");
        for (int i = 0; i < n_meta; i++) {
            if (i)
                sb_put(h, ",", 1);
            sb_json_str(h, mp[i]->key);
            sb_put(h, ":", 1);
            sb_json_str(h, mp[i]->value);
        }
        sb_put(h, "}", 1);
    }
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        const dsc_st_tensor *t = pl->items[i].t;
        if (i || n_meta)
            sb_put(h, ",", 1);
        sb_json_str(h, t->name);
        sb_str(h, ":{\"dtype\":\"");
        sb_str(h, dtype_names[t->dtype]);
        sb_str(h, "\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) {
            if (d)
                sb_put(h, ",", 1);
            sb_u64(h, (unsigned long long)t->shape[d]);
        }
        sb_str(h, "],\"data_offsets\":[");
        sb_u64(h, off);
        sb_put(h, ",", 1);
        if (t->nbytes > SIZE_MAX - off) {
            s = DSC_ERROR(DSC_ERR_INVALID, "safetensors write: total size overflows");
            goto done;
        }
        off += t->nbytes;
        sb_u64(h, off);
        sb_str(h, "]}");
    }
    sb_put(h, "}", 1);
    while (!h->oom && h->len % 8)
        sb_put(h, " ", 1);
    if (h->oom) {
        s = DSC_ERROR(DSC_ERR_NOMEM, "safetensors write: out of memory for the header");
        goto done;
    }
    if (h->len > DSC_ST_MAX_HEADER) {
        s = DSC_ERROR(DSC_ERR_INVALID, "safetensors write: header of %zu bytes exceeds the format's limit", h->len);
        goto done;
    }
    pl->data_len = off;
done:
    free(mp);
    if (s != DSC_OK)
        plan_free(pl);
    return s;
}

static void put_le64(unsigned char *o, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        o[i] = (unsigned char)(v >> (8 * i));
}

dsc_status dsc_safetensors_serialize(const dsc_st_tensor *tensors, int n, const dsc_st_meta *meta, int n_meta,
                                     void **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    st_plan pl;
    DSC_TRY(plan_make(tensors, n, meta, n_meta, &pl));
    size_t total = 8 + pl.header.len + pl.data_len;
    unsigned char *o = total >= pl.data_len ? malloc(total) : NULL;
    if (!o) {
        plan_free(&pl);
        return DSC_ERROR(DSC_ERR_NOMEM, "safetensors write: out of memory (%zu bytes)", total);
    }
    put_le64(o, pl.header.len);
    memcpy(o + 8, pl.header.p, pl.header.len);
    size_t k = 8 + pl.header.len;
    for (int i = 0; i < pl.n; i++) {
        if (pl.items[i].t->nbytes)
            memcpy(o + k, pl.items[i].t->data, pl.items[i].t->nbytes);
        k += pl.items[i].t->nbytes;
    }
    plan_free(&pl);
    *buf = o;
    *len = total;
    return DSC_OK;
}

static dsc_status write_plan(FILE *f, const char *tmp_path, void *ctx)
{
    const st_plan *pl = ctx;
    unsigned char hs[8];
    put_le64(hs, pl->header.len);
    DSC_TRY(dsc_io_fwrite(f, hs, 8, tmp_path));
    DSC_TRY(dsc_io_fwrite(f, pl->header.p, pl->header.len, tmp_path));
    for (int i = 0; i < pl->n; i++)
        DSC_TRY(dsc_io_fwrite(f, pl->items[i].t->data, pl->items[i].t->nbytes, tmp_path));
    return DSC_OK;
}

dsc_status dsc_safetensors_write_file(const char *path, const dsc_st_tensor *tensors, int n,
                                      const dsc_st_meta *meta, int n_meta)
{
    st_plan pl;
    DSC_TRY(plan_make(tensors, n, meta, n_meta, &pl));
    dsc_status s = dsc_atomic_write(path, write_plan, &pl);
    plan_free(&pl);
    return s;
}
