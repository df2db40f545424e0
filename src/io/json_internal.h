/* Shared by src/io/config.c and src/io/json_runlog.c: cJSON behind a void pointer (so that only
 * these files include cJSON.h), line/column arithmetic and number formatting. */
#ifndef DSC_IO_JSON_INTERNAL_H
#define DSC_IO_JSON_INTERNAL_H

#include <stddef.h>

#include "descent/config.h"

/* Parses len bytes (NUL bytes refused) as one JSON value; NULL with the error recorded as
 * "NAME:LINE:COL: ..." on failure. Free with dsc_json_delete. Only with DSC_HAVE_CJSON. */
void *dsc_json_parse(const char *text, size_t len, const char *name);
void dsc_json_delete(void *root);

void dsc_json_line_col(const char *text, size_t len, size_t off, int *line, int *col);
void dsc_json_excerpt(const char *text, size_t len, size_t off, char *buf, size_t size);
void dsc_json_format_number(double v, char *buf, size_t size);
/* Reads a whole file of at most max_bytes; *buf is NUL-terminated (free with free). */
dsc_status dsc_json_read_file(const char *path, size_t max_bytes, char **buf, size_t *len);

#endif
