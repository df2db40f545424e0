/* descent — generic spec strings: `name:key=value,key=value,...`.
 *
 * Used for data sets (`spirals:n=1000,noise=0.1`), and reusable for optimizers, schedules and
 * models. Grammar (docs/DATA.md, "Spec strings"):
 *
 *     spec  := name [ ':' item { ',' item } ]
 *     item  := key '=' value | value          (a bare value is a positional argument)
 *     name  := any characters but ':'          (may be empty only if the caller allows it)
 *     key   := [A-Za-z_][A-Za-z0-9_.-]*
 *     value := any characters but ','          (may contain ':' and '=' after the first '=')
 *
 * Spaces around names, keys and values are trimmed. Keys are case-sensitive and may appear once.
 * Typed getters parse on demand and name the spec, key and value in their errors; call
 * dsc_kvspec_check with the list of valid keys to reject unknown ones (the error lists them). */
#ifndef DESCENT_SPEC_H
#define DESCENT_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "descent/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DSC_KVSPEC_MAX_ITEMS 64

typedef struct dsc_kvitem {
    const char *key;   /* NULL for a positional value */
    const char *value; /* never NULL; "" is possible only for positional values */
    int pos;           /* 1-based character position of the item in the spec text */
} dsc_kvitem;

typedef struct dsc_kvspec {
    const char *name;  /* the part before ':' (trimmed) */
    int n_items;       /* key=value items and positional values, in order */
    dsc_kvitem items[DSC_KVSPEC_MAX_ITEMS];
    char *buf;         /* owned copy of the text that the pointers above point into */
} dsc_kvspec;

/* Parses text into out (free with dsc_kvspec_free, also after an error). DSC_ERR_INVALID with a
 * message naming the position for an empty key, a duplicate key, an empty item or too many items. */
dsc_status dsc_kvspec_parse(const char *text, dsc_kvspec *out);
void dsc_kvspec_free(dsc_kvspec *s);

/* Returns DSC_ERR_INVALID naming the first key not in valid (NULL-terminated) and listing the
 * valid keys, or the first positional value beyond max_positional. */
dsc_status dsc_kvspec_check(const dsc_kvspec *s, const char *const *valid, int max_positional);

/* The value of key, or NULL if absent. */
const char *dsc_kvspec_find(const dsc_kvspec *s, const char *key);
int dsc_kvspec_has(const dsc_kvspec *s, const char *key);
/* Number of positional values and the i-th of them (NULL if out of range). */
int dsc_kvspec_n_positional(const dsc_kvspec *s);
const char *dsc_kvspec_positional(const dsc_kvspec *s, int i);

/* Typed getters: *out = def when the key is absent. A present value must parse completely and lie
 * in [lo, hi], else DSC_ERR_INVALID (not a number / not a boolean) or DSC_ERR_RANGE, e.g.
 * "spirals: noise=abc is not a number" or "spirals: n=0 is out of range [1, 100000000]".
 * Integers accept decimal, 0x hex and exact scientific notation ("1e5"). Doubles must be finite.
 * Booleans: 1/0, true/false, yes/no, on/off (case-insensitive). */
dsc_status dsc_kvspec_int(const dsc_kvspec *s, const char *key, int64_t def, int64_t lo, int64_t hi,
                          int64_t *out);
dsc_status dsc_kvspec_double(const dsc_kvspec *s, const char *key, double def, double lo, double hi,
                             double *out);
dsc_status dsc_kvspec_bool(const dsc_kvspec *s, const char *key, int def, int *out);
/* *out points into s (valid until dsc_kvspec_free) or is def. */
dsc_status dsc_kvspec_str(const dsc_kvspec *s, const char *key, const char *def, const char **out);
/* The value must be one of choices (NULL-terminated); *index gets its position, def if absent. */
dsc_status dsc_kvspec_choice(const dsc_kvspec *s, const char *key, const char *const *choices, int def,
                             int *index);

/* Standalone value parsers used by the getters (what names the value in the error message). */
dsc_status dsc_parse_int64(const char *text, const char *what, int64_t *out);
dsc_status dsc_parse_double(const char *text, const char *what, double *out);
dsc_status dsc_parse_bool(const char *text, const char *what, int *out);

#ifdef __cplusplus
}
#endif
#endif
