/* Shared helpers of the data layer (src/data/). */
#ifndef DSC_DATA_INTERNAL_H
#define DSC_DATA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "descent/data.h"
#include "descent/rng.h"
#include "descent/spec.h"

/* Labels with more distinct integral values than this are read as regression targets (task auto). */
#define DSC_DATA_MAX_AUTO_CLASSES 1000

/* *out = a * b, returning 0 on overflow or negative operands. */
static inline int dsc_mul_ok(int64_t a, int64_t b, int64_t *out)
{
    if (a < 0 || b < 0)
        return 0;
    if (a != 0 && b > INT64_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

static inline size_t dsc_dtype_size(dsc_data_dtype t) { return t == DSC_DATA_F64 ? 8 : 4; }

int64_t dsc_data_cap(int64_t max_bytes);

/* malloc of count elements of size elem, checked against overflow and the cap; the message names
 * what (e.g. "train.csv: features"). */
dsc_status dsc_data_alloc(void **p, int64_t count, size_t elem, int64_t cap, const char *what);

/* Allocates dense features (n×d, zero) and labels (n, when with_labels) in ds->dtype; sets n, d and
 * a 1-d feature shape. */
dsc_status dsc_data_alloc_dense(dsc_dataset *ds, int64_t n, int64_t d, int with_labels, int64_t cap);
/* Allocates labels only. */
dsc_status dsc_data_alloc_labels(dsc_dataset *ds, int64_t cap);

static inline void dsc_data_setx(dsc_dataset *ds, int64_t k, double v)
{
    if (ds->dtype == DSC_DATA_F64)
        ds->x64[k] = v;
    else
        ds->x[k] = (float)v;
}
static inline void dsc_data_sety(dsc_dataset *ds, int64_t i, double v)
{
    if (ds->dtype == DSC_DATA_F64)
        ds->y64[i] = v;
    else
        ds->y[i] = (float)v;
}

/* Interprets raw label values (n doubles) per task: classification stores class indices (identity
 * for non-negative integers when identity_ok, else the sorted distinct values mapped to 0..k-1 with
 * class_values kept); regression copies. Writes ds->y / y64 (allocated here) and num_classes. */
dsc_status dsc_data_set_labels(dsc_dataset *ds, const double *raw, dsc_data_task task, int identity_ok,
                               const char *name);

void dsc_data_set_name(dsc_dataset *ds, const char *name);
/* The base name of a path (pointer into it). */
const char *dsc_data_basename(const char *path);

/* Growable byte buffer. */
typedef struct dsc_gbuf {
    unsigned char *p;
    size_t len, cap;
} dsc_gbuf;
/* Makes room for extra more bytes (bounded by cap); DSC_ERR_NOMEM naming what. */
dsc_status dsc_gbuf_reserve(dsc_gbuf *b, size_t extra, int64_t cap, const char *what);

/* Embedded sets and generators (embedded.c, generators.c). */
int dsc_embedded_find(const char *name);
dsc_status dsc_embedded_load(int which, const dsc_data_opts *opts, dsc_dataset *ds);
int dsc_generator_find(const char *name);
dsc_status dsc_generator_load(const dsc_kvspec *spec, const dsc_data_opts *opts, dsc_dataset *ds);
/* mnist / fashion-mnist (named.c). */
int dsc_named_idx_find(const char *name);
dsc_status dsc_named_idx_load(const char *name, const dsc_data_opts *opts, dsc_dataset *ds);

#endif
