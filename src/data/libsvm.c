/* LIBSVM / SVMlight reader: `label [qid:k] index:value index:value ... [# comment]`, 1-based strictly
 * increasing indices, into CSR. Bounded tokens are copied before strtod/strtoll see them. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_internal.h"

#define TOK_MAX 128

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

static dsc_status tok_err(const char *name, int64_t lineno, const char *tok, size_t n, const char *why)
{
    int shown = n > 40 ? 40 : (int)n;
    return DSC_ERROR(DSC_ERR_FORMAT, "%s:%lld: '%.*s%s' %s", name, (long long)lineno, shown, tok, n > 40 ? "..." : "",
                     why);
}

static int to_double(const char *s, size_t n, double *v)
{
    char tmp[TOK_MAX + 1];
    if (n == 0 || n > TOK_MAX)
        return 0;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    *v = strtod(tmp, &end);
    return end == tmp + n && isfinite(*v);
}

static int to_index(const char *s, size_t n, int64_t *v)
{
    if (n == 0 || n > 18)
        return 0;
    int64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 1;
}

typedef struct svm_bufs {
    dsc_gbuf rows, cols, vals, labels;
} svm_bufs;

static dsc_status push(dsc_gbuf *b, const void *v, size_t size, int64_t cap, const char *name)
{
    DSC_TRY(dsc_gbuf_reserve(b, size, cap, name));
    memcpy(b->p + b->len, v, size);
    b->len += size;
    return DSC_OK;
}

static dsc_status svm_parse(const char *buf, size_t len, const char *name, const dsc_data_opts *o, svm_bufs *B,
                            int64_t *max_index)
{
    int f64 = o->dtype == DSC_DATA_F64;
    int64_t cap = o->max_bytes;
    size_t pos = 0;
    int64_t lineno = 0, nnz = 0;
    *max_index = 0;
    while (pos < len) {
        size_t a = pos, b = a;
        while (b < len && buf[b] != '\n')
            b++;
        pos = b < len ? b + 1 : b;
        lineno++;
        /* Drop a comment. */
        size_t e = a;
        while (e < b && buf[e] != '#')
            e++;
        size_t p = a;
        while (p < e && is_space(buf[p]))
            p++;
        if (p == e)
            continue;
        /* Label. */
        size_t t = p;
        while (t < e && !is_space(buf[t]))
            t++;
        double label;
        if (!to_double(buf + p, t - p, &label))
            return tok_err(name, lineno, buf + p, t - p, "is not a numeric label (expected `label index:value ...`)");
        DSC_TRY(push(&B->rows, &nnz, sizeof nnz, cap, name));
        DSC_TRY(push(&B->labels, &label, sizeof label, cap, name));
        int64_t prev = 0;
        p = t;
        for (;;) {
            while (p < e && is_space(buf[p]))
                p++;
            if (p >= e)
                break;
            t = p;
            while (t < e && !is_space(buf[t]))
                t++;
            const char *tok = buf + p;
            size_t tl = t - p;
            const char *colon = memchr(tok, ':', tl);
            if (!colon)
                return tok_err(name, lineno, tok, tl, "is missing ':' (expected index:value)");
            size_t il = (size_t)(colon - tok);
            if (il == 3 && memcmp(tok, "qid", 3) == 0) {
                p = t; /* query ids (SVMlight ranking files) are ignored */
                continue;
            }
            int64_t idx;
            double v;
            if (!to_index(tok, il, &idx))
                return tok_err(name, lineno, tok, tl, "has an index that is not a positive integer");
            if (idx == 0)
                return tok_err(name, lineno, tok, tl, "has index 0, but LIBSVM indices are 1-based");
            if (idx <= prev) {
                char why[96];
                snprintf(why, sizeof why, "has index %lld after index %lld (indices must increase)", (long long)idx,
                         (long long)prev);
                return tok_err(name, lineno, tok, tl, why);
            }
            if (idx > INT32_MAX || (o->n_features > 0 && idx > o->n_features)) {
                char why[96];
                snprintf(why, sizeof why, "has index %lld beyond the %lld features", (long long)idx,
                         (long long)(o->n_features > 0 ? o->n_features : INT32_MAX));
                return tok_err(name, lineno, tok, tl, why);
            }
            if (!to_double(colon + 1, tl - il - 1, &v))
                return tok_err(name, lineno, tok, tl, "has a value that is not a finite number");
            prev = idx;
            if (idx > *max_index)
                *max_index = idx;
            int32_t col = (int32_t)(idx - 1);
            DSC_TRY(push(&B->cols, &col, sizeof col, cap, name));
            if (f64) {
                DSC_TRY(push(&B->vals, &v, sizeof v, cap, name));
            } else {
                float fv = (float)v;
                DSC_TRY(push(&B->vals, &fv, sizeof fv, cap, name));
            }
            nnz++;
            p = t;
        }
    }
    DSC_TRY(push(&B->rows, &nnz, sizeof nnz, cap, name));
    return DSC_OK;
}

dsc_status dsc_libsvm_read_mem(const void *buf, size_t len, const char *name, const dsc_data_opts *opts,
                               dsc_dataset *out)
{
    dsc_data_opts def;
    if (!opts) {
        dsc_data_opts_init(&def);
        opts = &def;
    }
    memset(out, 0, sizeof *out);
    out->dtype = opts->dtype;
    dsc_data_set_name(out, dsc_data_basename(name));
    svm_bufs B = {{0}, {0}, {0}, {0}};
    int64_t max_index = 0;
    dsc_status st = svm_parse(buf, len, name, opts, &B, &max_index);
    if (st == DSC_OK) {
        out->n = (int64_t)(B.labels.len / sizeof(double));
        if (out->n == 0)
            st = DSC_ERROR(DSC_ERR_FORMAT, "%s: the LIBSVM file has no data lines", name);
    }
    if (st == DSC_OK) {
        out->d = opts->n_features > 0 ? opts->n_features : max_index;
        out->feat_ndim = 1;
        out->feat_shape[0] = out->d;
        out->sparse = 1;
        out->nnz = (int64_t)(B.cols.len / sizeof(int32_t));
        out->row_ptr = (int64_t *)(void *)B.rows.p;
        B.rows.p = NULL;
        out->col_idx = (int32_t *)(void *)B.cols.p;
        B.cols.p = NULL;
        if (!out->col_idx)
            out->col_idx = malloc(1);
        void *v = B.vals.p ? (void *)B.vals.p : malloc(1);
        B.vals.p = NULL;
        if (opts->dtype == DSC_DATA_F64)
            out->val64 = v;
        else
            out->val = v;
        if (!out->col_idx || !v)
            st = DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory", name);
    }
    if (st == DSC_OK)
        st = dsc_data_set_labels(out, (const double *)(const void *)B.labels.p, opts->task, 0, name);
    free(B.rows.p);
    free(B.cols.p);
    free(B.vals.p);
    free(B.labels.p);
    if (st != DSC_OK)
        dsc_dataset_free(out);
    return st;
}
