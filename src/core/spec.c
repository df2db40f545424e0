/* Generic `name:key=value,...` spec strings; grammar in include/descent/spec.h and docs/DATA.md. */
#include "descent/spec.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

static int valid_key(const char *k)
{
    if (!(isalpha((unsigned char)k[0]) || k[0] == '_'))
        return 0;
    for (const char *p = k + 1; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-'))
            return 0;
    return 1;
}

void dsc_kvspec_free(dsc_kvspec *s)
{
    if (!s)
        return;
    free(s->buf);
    memset(s, 0, sizeof *s);
}

dsc_status dsc_kvspec_parse(const char *text, dsc_kvspec *out)
{
    memset(out, 0, sizeof *out);
    if (!text)
        return DSC_ERROR(DSC_ERR_INVALID, "spec: no text given");
    size_t len = strlen(text);
    out->buf = malloc(len + 1);
    if (!out->buf)
        return DSC_ERROR(DSC_ERR_NOMEM, "spec: out of memory copying '%s'", text);
    memcpy(out->buf, text, len + 1);
    char *colon = strchr(out->buf, ':');
    if (colon)
        *colon = '\0';
    out->name = trim(out->buf);
    if (!colon)
        return DSC_OK;
    char *p = colon + 1;
    if (*trim(p) == '\0')
        return DSC_ERROR(DSC_ERR_INVALID, "spec '%s': nothing after ':' (expected key=value,...)", text);
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        int pos = (int)(p - out->buf) + 1;
        char *item = trim(p);
        if (*item == '\0')
            return DSC_ERROR(DSC_ERR_INVALID, "spec '%s': empty item at position %d", text, pos);
        if (out->n_items >= DSC_KVSPEC_MAX_ITEMS)
            return DSC_ERROR(DSC_ERR_INVALID, "spec '%s': more than %d items", text, DSC_KVSPEC_MAX_ITEMS);
        dsc_kvitem *it = &out->items[out->n_items];
        it->pos = pos;
        char *eq = strchr(item, '=');
        if (eq) {
            *eq = '\0';
            char *key = trim(item), *val = trim(eq + 1);
            if (!valid_key(key))
                return DSC_ERROR(DSC_ERR_INVALID, "spec '%s': invalid key '%s' at position %d", text, key, pos);
            if (*val == '\0')
                return DSC_ERROR(DSC_ERR_INVALID, "spec '%s': key '%s' has an empty value", text, key);
            for (int i = 0; i < out->n_items; i++)
                if (out->items[i].key && strcmp(out->items[i].key, key) == 0)
                    return DSC_ERROR(DSC_ERR_INVALID, "spec '%s': key '%s' given twice", text, key);
            it->key = key;
            it->value = val;
        } else {
            it->key = NULL;
            it->value = item;
        }
        out->n_items++;
        if (!comma)
            break;
        p = comma + 1;
    }
    return DSC_OK;
}

dsc_status dsc_kvspec_check(const dsc_kvspec *s, const char *const *valid, int max_positional)
{
    int npos = 0;
    for (int i = 0; i < s->n_items; i++) {
        const dsc_kvitem *it = &s->items[i];
        int ok = 0;
        if (!it->key) {
            ok = ++npos <= max_positional;
        } else {
            for (int k = 0; valid && valid[k]; k++)
                if (strcmp(valid[k], it->key) == 0)
                    ok = 1;
        }
        if (ok)
            continue;
        char list[512] = "";
        size_t used = 0;
        for (int k = 0; valid && valid[k] && used + 1 < sizeof list; k++) {
            int w = snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "", valid[k]);
            if (w < 0)
                break;
            used += (size_t)w;
        }
        if (!it->key)
            return DSC_ERROR(DSC_ERR_INVALID, "%s: unexpected value '%s' (expected key=value; valid keys: %s)",
                             s->name, it->value, used ? list : "none");
        return DSC_ERROR(DSC_ERR_INVALID, "%s: unknown key '%s' (valid keys: %s)", s->name, it->key,
                         used ? list : "none");
    }
    return DSC_OK;
}

const char *dsc_kvspec_find(const dsc_kvspec *s, const char *key)
{
    for (int i = 0; i < s->n_items; i++)
        if (s->items[i].key && strcmp(s->items[i].key, key) == 0)
            return s->items[i].value;
    return NULL;
}

int dsc_kvspec_has(const dsc_kvspec *s, const char *key) { return dsc_kvspec_find(s, key) != NULL; }

int dsc_kvspec_n_positional(const dsc_kvspec *s)
{
    int n = 0;
    for (int i = 0; i < s->n_items; i++)
        n += s->items[i].key == NULL;
    return n;
}

const char *dsc_kvspec_positional(const dsc_kvspec *s, int idx)
{
    for (int i = 0; i < s->n_items; i++)
        if (!s->items[i].key && idx-- == 0)
            return s->items[i].value;
    return NULL;
}

dsc_status dsc_parse_double(const char *text, const char *what, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0')
        return DSC_ERROR(DSC_ERR_INVALID, "%s=%s is not a number", what, text);
    if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1.0))
        return DSC_ERROR(DSC_ERR_RANGE, "%s=%s is not a finite number", what, text);
    *out = v;
    return DSC_OK;
}

dsc_status dsc_parse_int64(const char *text, const char *what, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 0);
    if (end != text && *end == '\0') {
        if (errno == ERANGE)
            return DSC_ERROR(DSC_ERR_RANGE, "%s=%s does not fit in 64 bits", what, text);
        *out = (int64_t)v;
        return DSC_OK;
    }
    /* Exact scientific notation such as 1e5 or 2.5e3. */
    double d;
    if (dsc_parse_double(text, what, &d) != DSC_OK || d != floor(d))
        return DSC_ERROR(DSC_ERR_INVALID, "%s=%s is not an integer", what, text);
    if (!(d >= -9.2e18 && d <= 9.2e18))
        return DSC_ERROR(DSC_ERR_RANGE, "%s=%s does not fit in 64 bits", what, text);
    *out = (int64_t)d;
    return DSC_OK;
}

static int ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

dsc_status dsc_parse_bool(const char *text, const char *what, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
    for (int i = 0; i < 4; i++) {
        if (ieq(text, yes[i])) {
            *out = 1;
            return DSC_OK;
        }
        if (ieq(text, no[i])) {
            *out = 0;
            return DSC_OK;
        }
    }
    return DSC_ERROR(DSC_ERR_INVALID, "%s=%s is not a boolean (use 1/0, true/false, yes/no or on/off)", what,
                     text);
}

static void what_name(const dsc_kvspec *s, const char *key, char *buf, size_t size)
{
    snprintf(buf, size, "%s: %s", s->name && *s->name ? s->name : "spec", key);
}

dsc_status dsc_kvspec_int(const dsc_kvspec *s, const char *key, int64_t def, int64_t lo, int64_t hi,
                          int64_t *out)
{
    const char *v = dsc_kvspec_find(s, key);
    if (!v) {
        *out = def;
        return DSC_OK;
    }
    char what[160];
    what_name(s, key, what, sizeof what);
    int64_t x;
    DSC_TRY(dsc_parse_int64(v, what, &x));
    if (x < lo || x > hi)
        return DSC_ERROR(DSC_ERR_RANGE, "%s=%s is out of range [%lld, %lld]", what, v, (long long)lo,
                         (long long)hi);
    *out = x;
    return DSC_OK;
}

dsc_status dsc_kvspec_double(const dsc_kvspec *s, const char *key, double def, double lo, double hi,
                             double *out)
{
    const char *v = dsc_kvspec_find(s, key);
    if (!v) {
        *out = def;
        return DSC_OK;
    }
    char what[160];
    what_name(s, key, what, sizeof what);
    double x;
    DSC_TRY(dsc_parse_double(v, what, &x));
    if (!(x >= lo && x <= hi))
        return DSC_ERROR(DSC_ERR_RANGE, "%s=%s is out of range [%g, %g]", what, v, lo, hi);
    *out = x;
    return DSC_OK;
}

dsc_status dsc_kvspec_bool(const dsc_kvspec *s, const char *key, int def, int *out)
{
    const char *v = dsc_kvspec_find(s, key);
    if (!v) {
        *out = def;
        return DSC_OK;
    }
    char what[160];
    what_name(s, key, what, sizeof what);
    return dsc_parse_bool(v, what, out);
}

dsc_status dsc_kvspec_str(const dsc_kvspec *s, const char *key, const char *def, const char **out)
{
    const char *v = dsc_kvspec_find(s, key);
    *out = v ? v : def;
    return DSC_OK;
}

dsc_status dsc_kvspec_choice(const dsc_kvspec *s, const char *key, const char *const *choices, int def,
                             int *index)
{
    const char *v = dsc_kvspec_find(s, key);
    if (!v) {
        *index = def;
        return DSC_OK;
    }
    char list[512] = "";
    size_t used = 0;
    for (int i = 0; choices[i]; i++) {
        if (strcmp(choices[i], v) == 0) {
            *index = i;
            return DSC_OK;
        }
        int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", choices[i]);
        if (w < 0 || (size_t)w >= sizeof list - used)
            break;
        used += (size_t)w;
    }
    char what[160];
    what_name(s, key, what, sizeof what);
    return DSC_ERROR(DSC_ERR_INVALID, "%s=%s is not a valid choice (valid: %s)", what, v, list);
}
