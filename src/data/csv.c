/* CSV reader: numeric fields separated by ',', one example per line, optional header line, one
 * label column chosen by name or index. Works on a buffer that need not be NUL-terminated: every
 * field is copied (bounded) before strtod sees it. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_internal.h"

#define CSV_FIELD_MAX 128

typedef struct csv_line {
    const char *s;
    size_t len;
    int64_t lineno;
} csv_line;

/* Next non-blank line starting at *pos; returns 0 at the end. */
static int next_line(const char *buf, size_t len, size_t *pos, int64_t *lineno, csv_line *ln)
{
    while (*pos < len) {
        size_t a = *pos, b = a;
        while (b < len && buf[b] != '\n')
            b++;
        *pos = b < len ? b + 1 : b;
        (*lineno)++;
        size_t e = b;
        while (e > a && (buf[e - 1] == '\r' || buf[e - 1] == ' ' || buf[e - 1] == '\t'))
            e--;
        size_t s = a;
        while (s < e && (buf[s] == ' ' || buf[s] == '\t'))
            s++;
        if (s == e)
            continue;
        ln->s = buf + s;
        ln->len = e - s;
        ln->lineno = *lineno;
        return 1;
    }
    return 0;
}

/* Field k's bounds: returns the number of fields; fills starts/lens for the first max ones. */
static int64_t split_fields(const csv_line *ln, const char **starts, size_t *lens, int64_t max)
{
    int64_t k = 0;
    size_t a = 0;
    for (;;) {
        size_t b = a;
        while (b < ln->len && ln->s[b] != ',')
            b++;
        if (k < max) {
            size_t s = a, e = b;
            while (s < e && (ln->s[s] == ' ' || ln->s[s] == '\t'))
                s++;
            while (e > s && (ln->s[e - 1] == ' ' || ln->s[e - 1] == '\t'))
                e--;
            if (e - s >= 2 && ln->s[s] == '"' && ln->s[e - 1] == '"') {
                s++;
                e--;
            }
            starts[k] = ln->s + s;
            lens[k] = e - s;
        }
        k++;
        if (b >= ln->len)
            return k;
        a = b + 1;
    }
}

/* 0: ok; 1: empty; 2: not a number; 3: too long; 4: not finite. */
static int parse_num(const char *s, size_t n, double *v)
{
    char tmp[CSV_FIELD_MAX + 1];
    if (n == 0)
        return 1;
    if (n > CSV_FIELD_MAX)
        return 3;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    *v = strtod(tmp, &end);
    if (end != tmp + n)
        return 2;
    if (!isfinite(*v))
        return 4;
    return 0;
}

static dsc_status field_error(const char *name, int64_t lineno, int64_t field, const char *s, size_t n, int why)
{
    int shown = n > 40 ? 40 : (int)n;
    const char *what = why == 1   ? "is empty"
                       : why == 3 ? "is too long to be a number"
                       : why == 4 ? "is not a finite number"
                                  : "is not a number (CSV data must be numeric)";
    return DSC_ERROR(DSC_ERR_FORMAT, "%s:%lld: field %lld ('%.*s%s') %s", name, (long long)lineno, (long long)field,
                     shown, s, n > 40 ? "..." : "", what);
}

typedef struct csv_state {
    const char **starts;
    size_t *lens;
    double *raw;
    char **names;
    int64_t ncols;
} csv_state;

static void csv_state_free(csv_state *c)
{
    free(c->starts);
    free(c->lens);
    free(c->raw);
    if (c->names)
        for (int64_t i = 0; i < c->ncols; i++)
            free(c->names[i]);
    free(c->names);
}

static dsc_status csv_read(const char *buf, size_t len, const char *name, const dsc_data_opts *o, dsc_dataset *out,
                           csv_state *c)
{
    size_t pos = 0;
    int64_t lineno = 0;
    csv_line first;
    /* A UTF-8 byte-order mark (as spreadsheet programs write) is not part of the first field. */
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    size_t start = pos;
    if (!next_line(buf, len, &pos, &lineno, &first))
        return DSC_ERROR(DSC_ERR_FORMAT, "%s: the CSV file has no data lines", name);
    csv_line probe = first;
    int64_t ncols = split_fields(&probe, NULL, NULL, 0);
    if (ncols > (int64_t)1 << 24)
        return DSC_ERROR(DSC_ERR_FORMAT, "%s:%lld: %lld columns is too many", name, (long long)first.lineno,
                         (long long)ncols);
    c->ncols = ncols;
    DSC_TRY(dsc_data_alloc((void **)&c->starts, ncols, sizeof(char *), o->max_bytes, name));
    DSC_TRY(dsc_data_alloc((void **)&c->lens, ncols, sizeof(size_t), o->max_bytes, name));
    split_fields(&first, c->starts, c->lens, ncols);

    int header = o->csv_header;
    if (header < 0) {
        header = 0;
        for (int64_t k = 0; k < ncols; k++) {
            double v;
            int why = parse_num(c->starts[k], c->lens[k], &v);
            if (why == 2 || why == 3)
                header = 1;
        }
    }
    if (header) {
        DSC_TRY(dsc_data_alloc((void **)&c->names, ncols, sizeof(char *), o->max_bytes, name));
        for (int64_t k = 0; k < ncols; k++) {
            c->names[k] = malloc(c->lens[k] + 1);
            if (!c->names[k])
                return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory", name);
            memcpy(c->names[k], c->starts[k], c->lens[k]);
            c->names[k][c->lens[k]] = '\0';
        }
    }

    /* The label column. */
    int64_t label = ncols - 1;
    const char *lab = o->csv_label;
    if (lab && strcmp(lab, "none") == 0) {
        label = -1;
    } else if (lab) {
        char *end;
        long long v = strtoll(lab, &end, 10);
        if (end != lab && *end == '\0') {
            if (v < -ncols || v >= ncols)
                return DSC_ERROR(DSC_ERR_RANGE, "%s: label column %lld is out of range for %lld columns (valid: %lld..%lld)",
                                 name, v, (long long)ncols, (long long)-ncols, (long long)ncols - 1);
            label = v < 0 ? ncols + v : v;
        } else {
            if (!header)
                return DSC_ERROR(DSC_ERR_INVALID, "%s: label column '%s' given by name, but the file has no header line",
                                 name, lab);
            label = -1;
            for (int64_t k = 0; k < ncols; k++)
                if (strcmp(c->names[k], lab) == 0)
                    label = k;
            if (label < 0) {
                char list[400] = "";
                size_t u = 0;
                for (int64_t k = 0; k < ncols && u + 1 < sizeof list; k++) {
                    int w = snprintf(list + u, sizeof list - u, "%s%s", k ? ", " : "", c->names[k]);
                    if (w < 0)
                        break;
                    u += (size_t)w;
                }
                return DSC_ERROR(DSC_ERR_INVALID, "%s: no column named '%s' (columns: %s%s)", name, lab, list,
                                 u + 1 >= sizeof list ? "..." : "");
            }
        }
    }
    if (label >= 0 && ncols < 2)
        return DSC_ERROR(DSC_ERR_FORMAT, "%s: one column is all labels and no features (use label=none)", name);
    int64_t d = label >= 0 ? ncols - 1 : ncols;

    /* Count the data lines, then parse them. */
    size_t data_pos = header ? pos : start;
    int64_t data_lineno = header ? lineno : 0;
    int64_t n = 0;
    {
        size_t p2 = data_pos;
        int64_t l2 = data_lineno;
        csv_line ln;
        while (next_line(buf, len, &p2, &l2, &ln))
            n++;
    }
    DSC_TRY(dsc_data_alloc_dense(out, n, d, 0, o->max_bytes));
    if (label >= 0)
        DSC_TRY(dsc_data_alloc((void **)&c->raw, n, sizeof(double), o->max_bytes, name));
    csv_line ln;
    int64_t i = 0;
    while (next_line(buf, len, &data_pos, &data_lineno, &ln)) {
        int64_t nf = split_fields(&ln, c->starts, c->lens, ncols);
        if (nf != ncols)
            return DSC_ERROR(DSC_ERR_FORMAT, "%s:%lld: %lld fields, expected %lld (as in line %lld)", name,
                             (long long)ln.lineno, (long long)nf, (long long)ncols, (long long)first.lineno);
        int64_t j = 0;
        for (int64_t k = 0; k < ncols; k++) {
            double v;
            int why = parse_num(c->starts[k], c->lens[k], &v);
            if (why)
                return field_error(name, ln.lineno, k + 1, c->starts[k], c->lens[k], why);
            if (k == label)
                c->raw[i] = v;
            else
                dsc_data_setx(out, i * d + j++, v);
        }
        i++;
    }
    if (n == 0)
        return DSC_ERROR(DSC_ERR_FORMAT, "%s: the CSV file has a header but no data lines", name);
    if (header) {
        DSC_TRY(dsc_data_alloc((void **)&out->feature_names, d, sizeof(char *), o->max_bytes, name));
        int64_t j = 0;
        for (int64_t k = 0; k < ncols; k++)
            if (k != label) {
                out->feature_names[j++] = c->names[k];
                c->names[k] = NULL;
            }
    }
    if (label >= 0)
        DSC_TRY(dsc_data_set_labels(out, c->raw, o->task, 1, name));
    return DSC_OK;
}

dsc_status dsc_csv_read_mem(const void *buf, size_t len, const char *name, const dsc_data_opts *opts,
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
    csv_state c = {0};
    dsc_status st = csv_read(buf, len, name, opts, out, &c);
    csv_state_free(&c);
    if (st != DSC_OK)
        dsc_dataset_free(out);
    return st;
}
