/* Config files: a flat JSON object of option -> value, parsed with cJSON (Debian libcjson-dev), and
 * a writer for the resolved configuration of a run (config.json). Format and rules: config.h and
 * docs/CLI.md ("Config files"). */
#define _POSIX_C_SOURCE 200809L

#include "descent/config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/json_internal.h"

#ifdef DSC_HAVE_CJSON
#include <cJSON.h>
#endif

void dsc_config_free(dsc_config *cfg)
{
    if (!cfg)
        return;
    for (int i = 0; i < cfg->n; i++) {
        free(cfg->entries[i].key);
        free(cfg->entries[i].value);
    }
    free(cfg->entries);
    cfg->entries = NULL;
    cfg->n = 0;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

const dsc_config_entry *dsc_config_find(const dsc_config *cfg, const char *key)
{
    if (!cfg || !key)
        return NULL;
    for (int i = 0; i < cfg->n; i++)
        if (!strcmp(cfg->entries[i].key, key))
            return &cfg->entries[i];
    return NULL;
}

const char *dsc_config_get(const dsc_config *cfg, const char *key)
{
    const dsc_config_entry *e = dsc_config_find(cfg, key);
    return e ? e->value : NULL;
}

/* Appends without checking for duplicates (the callers do). */
static dsc_status config_append(dsc_config *cfg, const char *key, const char *value, dsc_config_type type,
                                double number)
{
    if (cfg->n >= DSC_CONFIG_MAX_ENTRIES)
        return DSC_ERROR(DSC_ERR_FORMAT, "config: more than %d entries", DSC_CONFIG_MAX_ENTRIES);
    /* Grow by doubling: n is small, but a hostile file may have thousands of keys. */
    if ((cfg->n & (cfg->n - 1)) == 0) {
        size_t cap = cfg->n ? (size_t)cfg->n * 2 : 8;
        dsc_config_entry *e = realloc(cfg->entries, cap * sizeof *e);
        if (!e)
            return DSC_ERROR(DSC_ERR_NOMEM, "config: out of memory");
        cfg->entries = e;
    }
    dsc_config_entry *e = &cfg->entries[cfg->n];
    e->key = dup_str(key);
    e->value = dup_str(value);
    if (!e->key || !e->value) {
        free(e->key);
        free(e->value);
        return DSC_ERROR(DSC_ERR_NOMEM, "config: out of memory");
    }
    e->type = type;
    e->number = number;
    cfg->n++;
    return DSC_OK;
}

/* A number's text: integers (|v| < 2^53) without exponent or decimals, others in the shortest %g
 * form that reads back to the same double (so 1e-3 -> "0.001", 0.1 -> "0.1", not 0.10000000000000001). */
void dsc_json_format_number(double v, char *buf, size_t size)
{
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        snprintf(buf, size, "%.0f", v == 0 ? 0.0 : v); /* no "-0" */
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, size, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* 1-based line and column (in bytes) of offset off in text. */
void dsc_json_line_col(const char *text, size_t len, size_t off, int *line, int *col)
{
    int l = 1;
    size_t start = 0;
    if (off > len)
        off = len;
    for (size_t i = 0; i < off; i++)
        if (text[i] == '\n') {
            l++;
            start = i + 1;
        }
    *line = l;
    *col = (int)(off - start) + 1;
}

/* Up to 16 printable characters from text[off] for a message (others as '?'). */
void dsc_json_excerpt(const char *text, size_t len, size_t off, char *buf, size_t size)
{
    size_t k = 0;
    for (size_t i = off; i < len && k + 1 < size && k < 16; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n' || c == '\r')
            break;
        buf[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    buf[k] = '\0';
}

#ifdef DSC_HAVE_CJSON
/* Parses len bytes as JSON. On a syntax error returns NULL with the error recorded (NAME:L:C). */
void *dsc_json_parse(const char *text, size_t len, const char *name)
{
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        int line, col;
        dsc_json_line_col(text, len, (size_t)(nul - text), &line, &col);
        DSC_ERROR(DSC_ERR_FORMAT, "%s:%d:%d: NUL byte in JSON text", name, line, col);
        return NULL;
    }
    /* cJSON wants the terminating NUL inside the length it is given when the whole text must be
     * consumed (require_null_terminated), hence a copy with one more byte. */
    char *copy = malloc(len + 1);
    if (!copy) {
        DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory (%zu bytes)", name, len + 1);
        return NULL;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 1);
    if (!root) {
        size_t off = end && end >= copy && end <= copy + len ? (size_t)(end - copy) : len;
        int line, col;
        char near[20];
        dsc_json_line_col(copy, len, off, &line, &col);
        dsc_json_excerpt(copy, len, off, near, sizeof near);
        if (off >= len || !near[0]) {
            /* cJSON stops at the end for unclosed strings and objects and for trailing commas:
             * point at the last character that is not white space. */
            size_t last = len;
            while (last > 0 && (copy[last - 1] == ' ' || copy[last - 1] == '\t' || copy[last - 1] == '\n' ||
                                copy[last - 1] == '\r'))
                last--;
            if (last == 0) {
                DSC_ERROR(DSC_ERR_FORMAT, "%s:%d:%d: JSON syntax error: the text is empty", name, line, col);
            } else {
                dsc_json_line_col(copy, len, last - 1, &line, &col);
                unsigned char c = (unsigned char)copy[last - 1];
                DSC_ERROR(DSC_ERR_FORMAT,
                          "%s:%d:%d: JSON syntax error: unexpected end of input after '%c' (an unclosed string "
                          "or object, or a trailing comma?)",
                          name, line, col, c >= 0x20 && c < 0x7f ? c : '?');
            }
        } else
            DSC_ERROR(DSC_ERR_FORMAT, "%s:%d:%d: JSON syntax error near '%s'", name, line, col, near);
    }
    free(copy);
    return root;
}

void dsc_json_delete(void *root) { cJSON_Delete(root); }

static const char *json_type_name(const cJSON *v)
{
    if (cJSON_IsObject(v))
        return "an object";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    return "an invalid value";
}
#endif

dsc_status dsc_config_parse(const char *text, size_t len, const char *name, int flags, dsc_config *cfg)
{
    cfg->n = 0;
    cfg->entries = NULL;
    if (!name)
        name = "config";
#ifndef DSC_HAVE_CJSON
    (void)text;
    (void)len;
    (void)flags;
    return DSC_ERROR(DSC_ERR_UNSUPPORTED,
                     "%s: this build of descent has no JSON parser (install libcjson-dev and rebuild)", name);
#else
    if (!text && len)
        return DSC_ERROR(DSC_ERR_INVALID, "%s: no text", name);
    cJSON *root = dsc_json_parse(text ? text : "", len, name);
    if (!root)
        return DSC_ERR_FORMAT;
    dsc_status st = DSC_OK;
    if (!cJSON_IsObject(root)) {
        st = DSC_ERROR(DSC_ERR_FORMAT,
                       "%s: the top level is %s; a config file is one JSON object of option names to values, "
                       "e.g. {\"epochs\": 2, \"opt\": \"adam:lr=1e-3\"}",
                       name, json_type_name(root));
        goto done;
    }
    const cJSON *v;
    cJSON_ArrayForEach(v, root)
    {
        const char *key = v->string ? v->string : "";
        if (!key[0]) {
            st = DSC_ERROR(DSC_ERR_FORMAT, "%s: an empty key (entry %d)", name, cfg->n + 1);
            goto done;
        }
        if (dsc_config_find(cfg, key)) {
            st = DSC_ERROR(DSC_ERR_FORMAT, "%s: key '%s' appears twice", name, key);
            goto done;
        }
        char num[40];
        if (cJSON_IsString(v)) {
            st = config_append(cfg, key, v->valuestring ? v->valuestring : "", DSC_CONFIG_STRING, 0);
        } else if (cJSON_IsNumber(v)) {
            if (!isfinite(v->valuedouble)) {
                st = DSC_ERROR(DSC_ERR_FORMAT, "%s: key '%s': the number is out of range (not a finite double)",
                               name, key);
                goto done;
            }
            dsc_json_format_number(v->valuedouble, num, sizeof num);
            st = config_append(cfg, key, num, DSC_CONFIG_NUMBER, v->valuedouble);
        } else if (cJSON_IsBool(v)) {
            int b = cJSON_IsTrue(v);
            st = config_append(cfg, key, b ? "true" : "false", DSC_CONFIG_BOOL, b);
        } else if (cJSON_IsNull(v) && (flags & DSC_CONFIG_LENIENT)) {
            st = config_append(cfg, key, "", DSC_CONFIG_NULL, NAN);
        } else if ((cJSON_IsObject(v) || cJSON_IsArray(v)) && (flags & DSC_CONFIG_LENIENT)) {
            continue;
        } else {
            st = DSC_ERROR(DSC_ERR_FORMAT,
                           "%s: key '%s' has %s as its value; values must be strings, numbers or booleans%s",
                           name, key, json_type_name(v),
                           cJSON_IsArray(v) ? " (lists inside spec strings use '+', e.g. \"milestones=30+60\")"
                           : cJSON_IsNull(v) ? " (leave the key out for the default)"
                                             : " (nested objects are not supported)");
        }
        if (st != DSC_OK) {
            if (st == DSC_ERR_FORMAT && cfg->n >= DSC_CONFIG_MAX_ENTRIES)
                st = DSC_ERROR(DSC_ERR_FORMAT, "%s: more than %d entries", name, DSC_CONFIG_MAX_ENTRIES);
            goto done;
        }
    }
done:
    cJSON_Delete(root);
    if (st != DSC_OK)
        dsc_config_free(cfg);
    return st;
#endif
}

/* Reads a whole (small) file; *buf is NUL-terminated. */
dsc_status dsc_json_read_file(const char *path, size_t max_bytes, char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return DSC_ERROR(DSC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *p = malloc(cap + 1);
    dsc_status st = DSC_OK;
    while (p) {
        if (n == cap) {
            if (cap >= max_bytes) {
                st = DSC_ERROR(DSC_ERR_FORMAT, "%s: larger than the limit of %zu bytes", path, max_bytes);
                break;
            }
            cap = cap * 2 > max_bytes ? max_bytes : cap * 2;
            char *q = realloc(p, cap + 1);
            if (!q) {
                free(p);
                p = NULL;
                break;
            }
            p = q;
        }
        size_t got = fread(p + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                st = DSC_ERROR(DSC_ERR_IO, "%s: read error: %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (!p)
        return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory", path);
    if (st != DSC_OK) {
        free(p);
        return st;
    }
    p[n] = '\0';
    *buf = p;
    *len = n;
    return DSC_OK;
}

dsc_status dsc_config_read(const char *path, int flags, dsc_config *cfg)
{
    cfg->n = 0;
    cfg->entries = NULL;
    char *buf;
    size_t len;
    DSC_TRY(dsc_json_read_file(path, DSC_CONFIG_MAX_BYTES, &buf, &len));
    dsc_status st = dsc_config_parse(buf, len, path, flags, cfg);
    free(buf);
    return st;
}

dsc_status dsc_config_set(dsc_config *cfg, const char *key, const char *value, dsc_config_type type)
{
    if (!key || !key[0] || !value)
        return DSC_ERROR(DSC_ERR_INVALID, "config: set needs a non-empty key and a value");
    double number = 0;
    if (type == DSC_CONFIG_NUMBER)
        number = strtod(value, NULL);
    else if (type == DSC_CONFIG_BOOL)
        number = !strcmp(value, "true");
    for (int i = 0; i < cfg->n; i++) {
        dsc_config_entry *e = &cfg->entries[i];
        if (!strcmp(e->key, key)) {
            char *v = dup_str(value);
            if (!v)
                return DSC_ERROR(DSC_ERR_NOMEM, "config: out of memory");
            free(e->value);
            e->value = v;
            e->type = type;
            e->number = number;
            return DSC_OK;
        }
    }
    return config_append(cfg, key, value, type, number);
}

void dsc_json_write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int is_json_number(const char *s)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return 0;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0' && isfinite(strtod(s, NULL));
}

dsc_status dsc_config_write(FILE *f, const dsc_config *cfg)
{
    fputs("{", f);
    for (int i = 0; i < cfg->n; i++) {
        const dsc_config_entry *e = &cfg->entries[i];
        fputs(i ? ",\n  " : "\n  ", f);
        dsc_json_write_string(f, e->key);
        fputs(": ", f);
        if (e->type == DSC_CONFIG_NUMBER && is_json_number(e->value))
            fputs(e->value, f);
        else if (e->type == DSC_CONFIG_BOOL && (!strcmp(e->value, "true") || !strcmp(e->value, "false")))
            fputs(e->value, f);
        else if (e->type == DSC_CONFIG_NULL)
            fputs("null", f);
        else
            dsc_json_write_string(f, e->value);
    }
    fputs(cfg->n ? "\n}\n" : "}\n", f);
    if (ferror(f))
        return DSC_ERROR(DSC_ERR_IO, "config: write error: %s", strerror(errno));
    return DSC_OK;
}

dsc_status dsc_config_write_file(const char *path, const dsc_config *cfg)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 8);
    if (!tmp)
        return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory", path);
    snprintf(tmp, n + 8, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        dsc_status st = DSC_ERROR(DSC_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        free(tmp);
        return st;
    }
    dsc_status st = dsc_config_write(f, cfg);
    if (fflush(f) != 0 && st == DSC_OK)
        st = DSC_ERROR(DSC_ERR_IO, "%s: write error: %s", tmp, strerror(errno));
    if (st == DSC_OK)
        (void)fsync(fileno(f));
    if (fclose(f) != 0 && st == DSC_OK)
        st = DSC_ERROR(DSC_ERR_IO, "%s: write error: %s", tmp, strerror(errno));
    if (st == DSC_OK && rename(tmp, path) != 0)
        st = DSC_ERROR(DSC_ERR_IO, "%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
    if (st != DSC_OK)
        remove(tmp);
    free(tmp);
    return st;
}
