/* Run logs: a run directory's metrics.jsonl (one flat JSON object per line) or metrics.csv (header
 * row, then one row per line) as a table of numeric columns, for `descent plot` and `descent
 * compare`. Tolerant by design: unknown keys become columns, missing values are NaN, and lines that
 * do not parse (a run killed mid-write) are counted and skipped. Format: docs/CLI.md. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descent/config.h"
#include "io/json_internal.h"

#ifdef DSC_HAVE_CJSON
#include <cJSON.h>
#endif

#define RUNLOG_MAX_BYTES ((size_t)1 << 30)
#define RUNLOG_MAX_COLS 1024

void dsc_runlog_free(dsc_runlog *log)
{
    if (!log)
        return;
    for (int j = 0; j < log->ncols; j++) {
        free(log->cols[j]);
        free(log->col[j]);
    }
    free(log->cols);
    free(log->col);
    free(log->kind);
    memset(log, 0, sizeof *log);
}

static void runlog_init(dsc_runlog *log, const char *name)
{
    memset(log, 0, sizeof *log);
    snprintf(log->source, sizeof log->source, "%s", name ? name : "metrics");
}

int dsc_runlog_find(const dsc_runlog *log, const char *name)
{
    for (int j = 0; j < log->ncols; j++)
        if (!strcmp(log->cols[j], name))
            return j;
    return -1;
}

/* Row capacity is tracked implicitly: the arrays hold cap rows where cap is the smallest power of
 * two >= nrows (at least 64), so growth happens when nrows reaches a power of two. */
static size_t row_cap(int64_t nrows)
{
    size_t c = 64;
    while ((int64_t)c < nrows)
        c *= 2;
    return c;
}

/* Starts a new row (all NaN, kind OTHER). */
static dsc_status add_row(dsc_runlog *log)
{
    int64_t r = log->nrows;
    if (r == 0 || (r >= 64 && (r & (r - 1)) == 0)) {
        size_t cap = r == 0 ? 64 : (size_t)r * 2;
        unsigned char *k = realloc(log->kind, cap);
        if (!k)
            return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory", log->source);
        log->kind = k;
        for (int j = 0; j < log->ncols; j++) {
            double *c = realloc(log->col[j], cap * sizeof *c);
            if (!c)
                return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory", log->source);
            log->col[j] = c;
        }
    }
    log->kind[r] = DSC_RUNLOG_OTHER;
    for (int j = 0; j < log->ncols; j++)
        log->col[j][r] = NAN;
    log->nrows = r + 1;
    return DSC_OK;
}

/* Index of column name, created (NaN for the rows so far) when new; -1 on failure. */
static int get_col(dsc_runlog *log, const char *name, size_t name_len)
{
    const char *nul = memchr(name, '\0', name_len); /* a CSV header may hold NUL bytes: names end there */
    if (nul)
        name_len = (size_t)(nul - name);
    for (int j = 0; j < log->ncols; j++)
        if (strlen(log->cols[j]) == name_len && !memcmp(log->cols[j], name, name_len))
            return j;
    if (log->ncols >= RUNLOG_MAX_COLS) {
        DSC_ERROR(DSC_ERR_FORMAT, "%s: more than %d columns", log->source, RUNLOG_MAX_COLS);
        return -1;
    }
    char **names = realloc(log->cols, (size_t)(log->ncols + 1) * sizeof *names);
    if (!names)
        goto nomem;
    log->cols = names;
    double **cols = realloc(log->col, (size_t)(log->ncols + 1) * sizeof *cols);
    if (!cols)
        goto nomem;
    log->col = cols;
    size_t cap = row_cap(log->nrows);
    double *c = malloc(cap * sizeof *c);
    char *nm = malloc(name_len + 1);
    if (!c || !nm) {
        free(c);
        free(nm);
        goto nomem;
    }
    memcpy(nm, name, name_len);
    nm[name_len] = '\0';
    for (size_t i = 0; i < cap; i++)
        c[i] = NAN;
    log->cols[log->ncols] = nm;
    log->col[log->ncols] = c;
    return log->ncols++;
nomem:
    DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory", log->source);
    return -1;
}

static void count_skipped(dsc_runlog *log, int64_t line)
{
    if (!log->skipped)
        log->first_skipped_line = line;
    log->skipped++;
}

static int parse_full_double(const char *s, size_t n, double *out)
{
    char buf[64];
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    double v = strtod(buf, &end);
    if (*end)
        return 0;
    *out = v;
    return 1;
}

static int kind_of(const char *s, size_t n)
{
    if (n == 4 && !memcmp(s, "step", 4))
        return DSC_RUNLOG_STEP;
    if (n == 5 && !memcmp(s, "epoch", 5))
        return DSC_RUNLOG_EPOCH;
    return DSC_RUNLOG_OTHER;
}

dsc_status dsc_runlog_parse_jsonl(const char *text, size_t len, const char *name, dsc_runlog *log)
{
    runlog_init(log, name);
#ifndef DSC_HAVE_CJSON
    (void)text;
    (void)len;
    return DSC_ERROR(DSC_ERR_UNSUPPORTED, "%s: this build of descent has no JSON parser (install libcjson-dev "
                                          "and rebuild); metrics.csv can be read instead",
                     log->source);
#else
    size_t pos = 0;
    int64_t line = 0;
    while (pos < len) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl ? 1 : 0);
        line++;
        size_t k = 0;
        while (k < n && (start[k] == ' ' || start[k] == '\t' || start[k] == '\r'))
            k++;
        if (k == n)
            continue; /* blank line */
        cJSON *root = dsc_json_parse(start, n, log->source);
        if (!root || !cJSON_IsObject(root)) {
            if (root)
                cJSON_Delete(root);
            count_skipped(log, line);
            continue;
        }
        dsc_status st = add_row(log);
        int64_t r = log->nrows - 1;
        const cJSON *v;
        cJSON_ArrayForEach(v, root)
        {
            if (st != DSC_OK)
                break;
            const char *key = v->string ? v->string : "";
            if (!key[0])
                continue;
            double x;
            if (cJSON_IsString(v) && !strcmp(key, "kind")) {
                const char *s = v->valuestring ? v->valuestring : "";
                log->kind[r] = (unsigned char)kind_of(s, strlen(s));
                continue;
            }
            if (cJSON_IsNumber(v))
                x = v->valuedouble;
            else if (cJSON_IsNull(v))
                x = NAN;
            else if (!(cJSON_IsString(v) && v->valuestring && /* "nan", "inf" written as strings */
                       parse_full_double(v->valuestring, strlen(v->valuestring), &x)))
                continue;
            int j = get_col(log, key, strlen(key));
            if (j < 0)
                st = DSC_ERR_NOMEM;
            else
                log->col[j][r] = x;
        }
        cJSON_Delete(root);
        if (st != DSC_OK)
            return st;
    }
    dsc_clear_error(); /* messages of skipped lines are summarized by the counters */
    if (log->nrows == 0)
        return DSC_ERROR(DSC_ERR_FORMAT, "%s: no metrics (%s)", log->source,
                         log->skipped ? "no line parses as a JSON object" : "the file is empty");
    return DSC_OK;
#endif
}

/* The next field of a CSV line: [*p, end) up to ',' (double quotes around a field are dropped).
 * Returns 1 when another field follows. */
static int csv_field(const char **p, const char *end, const char **f, size_t *n)
{
    const char *s = *p;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    if (s < end && *s == '"') {
        const char *q = memchr(s + 1, '"', (size_t)(end - s - 1));
        if (q) {
            *f = s + 1;
            *n = (size_t)(q - s - 1);
            const char *c = memchr(q, ',', (size_t)(end - q));
            *p = c ? c + 1 : end;
            return c != NULL;
        }
    }
    const char *c = memchr(s, ',', (size_t)(end - s));
    const char *e = c ? c : end;
    *f = s;
    *n = (size_t)(e - s);
    while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t' || s[*n - 1] == '\r'))
        (*n)--;
    *p = c ? c + 1 : end;
    return c != NULL;
}

dsc_status dsc_runlog_parse_csv(const char *text, size_t len, const char *name, dsc_runlog *log)
{
    runlog_init(log, name);
    int *map = NULL; /* header field -> column (-1: kind, -2: ignored duplicate) */
    int nfields = 0;
    size_t pos = 0;
    int64_t line = 0;
    dsc_status st = DSC_OK;
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
        pos = 3;
    while (pos < len && st == DSC_OK) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl ? 1 : 0);
        line++;
        const char *end = start + n;
        size_t k = 0;
        while (k < n && (start[k] == ' ' || start[k] == '\t' || start[k] == '\r'))
            k++;
        if (k == n)
            continue;
        const char *p = start, *f;
        size_t fn;
        if (!map) { /* the header */
            int cap = 0;
            for (int more = 1; more;) {
                more = csv_field(&p, end, &f, &fn);
                if (nfields >= RUNLOG_MAX_COLS) {
                    st = DSC_ERROR(DSC_ERR_FORMAT, "%s: more than %d columns", log->source, RUNLOG_MAX_COLS);
                    break;
                }
                if (nfields == cap) {
                    cap = cap ? cap * 2 : 16;
                    int *m = realloc(map, (size_t)cap * sizeof *m);
                    if (!m) {
                        st = DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory", log->source);
                        break;
                    }
                    map = m;
                }
                int j;
                if (fn == 4 && !memcmp(f, "kind", 4))
                    j = -1;
                else if (fn == 0)
                    j = -2;
                else {
                    int before = log->ncols;
                    j = get_col(log, f, fn);
                    if (j < 0) {
                        st = DSC_ERR_NOMEM;
                        break;
                    }
                    if (j < before)
                        j = -2; /* a repeated name: the first column wins */
                }
                map[nfields++] = j;
            }
            if (!map && st == DSC_OK)
                st = DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory", log->source);
            continue;
        }
        /* A data row: more fields than the header has means a broken line. */
        int count = 1;
        for (const char *c = start; c < end; c++)
            count += *c == ',';
        if (count > nfields) {
            count_skipped(log, line);
            continue;
        }
        st = add_row(log);
        if (st != DSC_OK)
            break;
        int64_t r = log->nrows - 1;
        for (int i = 0, more = 1; i < nfields && more; i++) {
            more = csv_field(&p, end, &f, &fn);
            double x;
            if (map[i] == -1)
                log->kind[r] = (unsigned char)kind_of(f, fn);
            else if (map[i] >= 0 && parse_full_double(f, fn, &x))
                log->col[map[i]][r] = x;
        }
    }
    free(map);
    if (st != DSC_OK)
        return st;
    if (log->nrows == 0)
        return DSC_ERROR(DSC_ERR_FORMAT, "%s: no metrics (%s)", log->source,
                         line ? "a header but no data rows" : "the file is empty");
    return DSC_OK;
}

static int is_regular_file(const char *path)
{
    /* fopen succeeds on directories on Linux; reading one fails, so try a read. */
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char c;
    size_t got = fread(&c, 1, 1, f);
    int ok = got == 1 || !ferror(f);
    fclose(f);
    return ok;
}

dsc_status dsc_runlog_read(const char *run_dir, dsc_runlog *log)
{
    runlog_init(log, run_dir);
    size_t n = strlen(run_dir);
    /* A metrics file named directly: its extension says which reader. */
    if (n > 4 && is_regular_file(run_dir)) {
        char *buf;
        size_t len;
        DSC_TRY(dsc_json_read_file(run_dir, RUNLOG_MAX_BYTES, &buf, &len));
        int csv = !strcmp(run_dir + n - 4, ".csv");
        dsc_status st = csv ? dsc_runlog_parse_csv(buf, len, run_dir, log)
                            : dsc_runlog_parse_jsonl(buf, len, run_dir, log);
        free(buf);
        return st;
    }
    char *path = malloc(n + 32);
    if (!path)
        return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory", run_dir);
    const char *sep = n && run_dir[n - 1] == '/' ? "" : "/";
    snprintf(path, n + 32, "%s%smetrics.jsonl", run_dir, sep);
    int csv = 0;
#ifdef DSC_HAVE_CJSON
    FILE *f = fopen(path, "rb");
#else
    FILE *f = NULL; /* no JSON reader: the CSV twin */
#endif
    if (!f) {
        snprintf(path, n + 32, "%s%smetrics.csv", run_dir, sep);
        f = fopen(path, "rb");
        if (!f) {
            dsc_status st = DSC_ERROR(DSC_ERR_IO, "%s: no metrics.jsonl or metrics.csv there (is it a run directory "
                                                  "written by 'descent train --out'?)",
                                      run_dir);
            free(path);
            return st;
        }
        csv = 1;
    }
    fclose(f);
    char *buf;
    size_t len;
    dsc_status st = dsc_json_read_file(path, RUNLOG_MAX_BYTES, &buf, &len);
    if (st == DSC_OK) {
        st = csv ? dsc_runlog_parse_csv(buf, len, path, log) : dsc_runlog_parse_jsonl(buf, len, path, log);
        free(buf);
    }
    free(path);
    return st;
}
