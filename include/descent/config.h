/* descent — config files and run logs (JSON).
 *
 * A config file is one flat JSON object that maps option names to values: strings, numbers or
 * booleans, e.g. {"model": "mlp:784-256-10", "opt": "adam:lr=1e-3", "epochs": 2, "augment": true}.
 * dsc_config_read gives its entries as (key, value-as-string) pairs in file order; `descent train`
 * merges them with its flags (flags override) and validates the names. Numbers come back in the
 * shortest form that reads back to the same double (integers without exponent: 128, 0.001,
 * 1e-08), booleans as "true" / "false". Errors name the file, and the line and column for
 * syntax errors, or the key for values of the wrong type.
 *
 * The parser is cJSON (Debian: libcjson-dev). A build configured with -DDSC_WITH_CJSON=OFF returns
 * DSC_ERR_UNSUPPORTED from the JSON readers (metrics.csv can still be read).
 *
 * Run logs: dsc_runlog_read reads a run directory's metrics.jsonl (or metrics.csv when there is no
 * .jsonl) into a table of numeric columns; the format is in docs/CLI.md, "Run directory". */
#ifndef DESCENT_CONFIG_H
#define DESCENT_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "descent/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest config file read (bytes) and most entries in one object. */
#define DSC_CONFIG_MAX_BYTES (1 << 20)
#define DSC_CONFIG_MAX_ENTRIES 4096

typedef enum dsc_config_type {
    DSC_CONFIG_STRING = 0,
    DSC_CONFIG_NUMBER,
    DSC_CONFIG_BOOL,
    DSC_CONFIG_NULL /* only with DSC_CONFIG_LENIENT: value is "" */
} dsc_config_type;

typedef struct dsc_config_entry {
    char *key;
    char *value; /* the value as text (see above) */
    dsc_config_type type;
    double number; /* DSC_CONFIG_NUMBER: the value; DSC_CONFIG_BOOL: 0 or 1 */
} dsc_config_entry;

typedef struct dsc_config {
    int n;
    dsc_config_entry *entries;
} dsc_config;

/* Flags of dsc_config_parse. */
enum {
    /* Keep null values (as DSC_CONFIG_NULL) and skip nested objects and arrays, instead of
     * refusing them: for reading files written by other programs (config.json of a run). */
    DSC_CONFIG_LENIENT = 1
};

/* Parses text (len bytes; need not be NUL-terminated) as a flat JSON object into cfg (free with
 * dsc_config_free, also after an error). `name` is used in messages (the file name). Errors
 * (DSC_ERR_FORMAT): a syntax error ("NAME:3:14: JSON syntax error near '...'"), a top level that is
 * not an object, a nested object or array or a null value (not LENIENT), an empty or duplicate key,
 * a NUL byte, more than DSC_CONFIG_MAX_ENTRIES entries. A UTF-8 byte-order mark is skipped. */
dsc_status dsc_config_parse(const char *text, size_t len, const char *name, int flags, dsc_config *cfg);
/* Reads and parses a file (at most DSC_CONFIG_MAX_BYTES). DSC_ERR_IO names the file and the reason. */
dsc_status dsc_config_read(const char *path, int flags, dsc_config *cfg);
void dsc_config_free(dsc_config *cfg);

/* The entry for key (exact match), or NULL. */
const dsc_config_entry *dsc_config_find(const dsc_config *cfg, const char *key);
/* Its value as text, or NULL when absent. */
const char *dsc_config_get(const dsc_config *cfg, const char *key);

/* Adds or replaces an entry (for building a resolved configuration to write). */
dsc_status dsc_config_set(dsc_config *cfg, const char *key, const char *value, dsc_config_type type);

/* Writes cfg as a JSON object, one entry a line, in order: strings quoted and escaped, numbers and
 * booleans bare (a NUMBER whose text is not a finite JSON number is written as a string). The
 * output reads back with dsc_config_read to the same entries. */
dsc_status dsc_config_write(FILE *f, const dsc_config *cfg);
/* Same, to a file (written whole, then renamed into place). */
dsc_status dsc_config_write_file(const char *path, const dsc_config *cfg);

/* Writes s as a JSON string literal (quotes included; control characters escaped, bytes >= 0x80
 * copied as they are). For writers of metrics.jsonl lines. */
void dsc_json_write_string(FILE *f, const char *s);

/* ---------------------------------------------------------------------------------------------
 * Run logs (metrics.jsonl / metrics.csv). */

typedef enum dsc_runlog_kind { DSC_RUNLOG_OTHER = 0, DSC_RUNLOG_STEP, DSC_RUNLOG_EPOCH } dsc_runlog_kind;

typedef struct dsc_runlog {
    int ncols;          /* numeric columns: every key with a number in some line, in order of appearance */
    char **cols;        /* names */
    int64_t nrows;      /* lines read */
    double **col;       /* col[j][i]: value of column j on row i; NaN where the line has none */
    unsigned char *kind; /* per row: a dsc_runlog_kind (from "kind": "step" / "epoch") */
    int64_t skipped;    /* lines that could not be parsed (skipped) */
    int64_t first_skipped_line; /* 1-based line number of the first of them (0: none) */
    char source[1024];  /* the file read */
} dsc_runlog;

/* Reads RUN_DIR/metrics.jsonl, or RUN_DIR/metrics.csv when the former does not exist (DSC_ERR_IO
 * naming both when neither does); run_dir may also name a metrics file itself (.csv: CSV, other
 * names: JSON lines). Unparsable lines are counted in `skipped`, not fatal; a file with
 * no line at all is DSC_ERR_FORMAT. Strings other than "kind" are ignored, as are booleans,
 * nested values and nulls (NaN). */
dsc_status dsc_runlog_read(const char *run_dir, dsc_runlog *log);
/* Readers of one file's contents (name for messages). */
dsc_status dsc_runlog_parse_jsonl(const char *text, size_t len, const char *name, dsc_runlog *log);
dsc_status dsc_runlog_parse_csv(const char *text, size_t len, const char *name, dsc_runlog *log);
/* Index of the column named name, or -1. */
int dsc_runlog_find(const dsc_runlog *log, const char *name);
void dsc_runlog_free(dsc_runlog *log);

#ifdef __cplusplus
}
#endif
#endif
