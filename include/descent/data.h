/* descent — data sets: readers (IDX, CSV, LIBSVM, NumPy .npy), named and embedded sets, seeded
 * generators, and one entry point that takes a name, a generator spec or a file path.
 *
 * A dsc_dataset holds n examples with d features each, dense (row-major n×d) or sparse (CSR), in
 * float32 (training) or float64 (the convex lab), and n labels in the same precision: a class index
 * 0..num_classes-1 stored as a number, or a regression target when num_classes == 0. The readers
 * parse each format once; the requested precision and layout are options of the load, so every
 * reader serves both uses. Every reader is bounds-checked: a truncated, corrupt, oversized or
 * hostile file gives DSC_ERR_FORMAT (or _IO, _NOMEM, _UNSUPPORTED) with a message naming the file,
 * the line or byte offset and the field — never a crash or an out-of-bounds read.
 * Formats, search order, embedded sets and generator parameters: docs/DATA.md. */
#ifndef DESCENT_DATA_H
#define DESCENT_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "descent/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dsc_data_dtype { DSC_DATA_F32 = 0, DSC_DATA_F64 = 1 } dsc_data_dtype;

typedef enum dsc_data_layout {
    DSC_LAYOUT_DENSE = 0, /* always dense (sparse files are densified, within max_bytes) */
    DSC_LAYOUT_CSR,       /* always CSR (dense data are converted, dropping zeros) */
    DSC_LAYOUT_NATIVE     /* whatever the source is: CSR for LIBSVM and sparse generators */
} dsc_data_layout;

typedef enum dsc_data_task {
    DSC_TASK_AUTO = 0,       /* integral labels (few distinct values) -> classification */
    DSC_TASK_CLASSIFICATION,
    DSC_TASK_REGRESSION
} dsc_data_task;

#define DSC_DATA_MAX_FEAT_DIMS 4
#define DSC_DATA_NAME_MAX 64

typedef struct dsc_dataset {
    char name[DSC_DATA_NAME_MAX]; /* "iris", "spirals", "train.csv", ... */
    dsc_data_dtype dtype;         /* element type of the features and labels below */
    int64_t n;                    /* examples */
    int64_t d;                    /* features per example: product of feat_shape */
    int feat_ndim;                /* 1 for tabular data; 3 for images ([C, H, W]) */
    int64_t feat_shape[DSC_DATA_MAX_FEAT_DIMS];
    int64_t num_classes;          /* 0: regression targets */

    /* Dense (sparse == 0): row-major n×d, exactly one of x / x64 set (by dtype). */
    float *x;
    double *x64;

    /* Sparse (sparse == 1): CSR; row i has entries row_ptr[i] .. row_ptr[i+1]-1 with strictly
     * increasing 0-based column indices; values in val / val64 (by dtype). */
    int sparse;
    int64_t nnz;
    int64_t *row_ptr; /* n + 1 */
    int32_t *col_idx; /* nnz */
    float *val;
    double *val64;

    /* Labels, n of them (by dtype); NULL when the source has none (e.g. a bare .npy matrix). */
    float *y;
    double *y64;

    /* Optional metadata (NULL when unknown). class_values[c] is the label value in the source that
     * class c stands for (e.g. {-1, +1} for a LIBSVM file); NULL means class c was written as c. */
    char **feature_names; /* d strings */
    char **class_names;   /* num_classes strings */
    double *class_values; /* num_classes values */
} dsc_dataset;

typedef struct dsc_data_opts {
    const char *data_dir;    /* searched first for mnist / fashion-mnist files (NULL: skip) */
    const char *split;       /* "train" (default when NULL) or "test" */
    dsc_data_dtype dtype;    /* DSC_DATA_F32 (default) or DSC_DATA_F64 */
    dsc_data_layout layout;  /* DSC_LAYOUT_DENSE (default) */
    dsc_data_task task;      /* for files: how to read the labels (DSC_TASK_AUTO) */
    int csv_header;          /* -1: detect (default), 0: no header line, 1: the first line is a header */
    const char *csv_label;   /* label column: a header name or an index (negative counts from the end);
                                NULL: the last column; "none": no label column */
    int64_t n_features;      /* LIBSVM: number of features (0: the largest index seen) */
    uint64_t seed;           /* generators, when the spec has no seed= (default 0) */
    int64_t max_bytes;       /* cap on a file's (decompressed) size and on any array the load
                                allocates; 0: DSC_DATA_DEFAULT_MAX_BYTES */
} dsc_data_opts;

#define DSC_DATA_DEFAULT_MAX_BYTES ((int64_t)4 << 30)

void dsc_data_opts_init(dsc_data_opts *o);

/* The one entry point. spec_or_path is one of
 *   - an embedded set: digits, iris, wine, breast-cancer
 *   - a set read from IDX files: fashion-mnist, mnist (split "train" or "test"; files searched in
 *     data_dir, then $DESCENT_DATA, then /usr/share/datasets/<name>; each also in a <name>/ subdir)
 *   - a generator spec: linreg, logistic, blobs, spirals, xor, teacher, sparse (e.g.
 *     "spirals:n=1000,noise=0.1"); split "test" draws fresh examples from the same model
 *   - a file path whose extension names the format: .csv, .libsvm, .svm, .npy (each may add .gz),
 *     optionally followed by ":key=value,..." options (label, header, task, n_features)
 * Unknown names list the valid ones; unknown extensions list the known ones. Embedded sets and
 * files have only a "train" split: "test" gives DSC_ERR_UNSUPPORTED (split off a validation set). */
dsc_status dsc_dataset_load(const char *spec_or_path, const char *data_dir, const char *split, dsc_dataset *ds);
dsc_status dsc_dataset_load_opts(const char *spec_or_path, const dsc_data_opts *opts, dsc_dataset *ds);

void dsc_dataset_free(dsc_dataset *ds);

/* Conversions in place. */
dsc_status dsc_dataset_to_dtype(dsc_dataset *ds, dsc_data_dtype dtype);
/* CSR -> dense; DSC_ERR_NOMEM if n*d*elem exceeds max_bytes (0: default cap). */
dsc_status dsc_dataset_densify(dsc_dataset *ds, int64_t max_bytes);
/* dense -> CSR (zeros dropped). */
dsc_status dsc_dataset_sparsify(dsc_dataset *ds);
dsc_status dsc_dataset_to_layout(dsc_dataset *ds, dsc_data_layout layout, int64_t max_bytes);
/* A deep copy. */
dsc_status dsc_dataset_copy(const dsc_dataset *src, dsc_dataset *dst);

/* Rows idx[0..k-1] of src (any layout and dtype; repeats allowed) as a new set with the same metadata. */
dsc_status dsc_dataset_subset(const dsc_dataset *src, const int64_t *idx, int64_t k, dsc_dataset *out);
/* A seeded random split: a gets n - round(frac * n) examples, b the rest (frac in [0, 1]). */
dsc_status dsc_dataset_split(const dsc_dataset *src, double frac, uint64_t seed, dsc_dataset *a, dsc_dataset *b);
/* Per-feature mean and standard deviation (population; d values each, written if non-NULL) of the
 * features, and (x - mean) / std applied in place (std 0 -> 1). CSR data are only scaled (mean
 * reported as 0) so that they stay sparse. Apply the same statistics to another set (e.g. the test
 * split) with dsc_dataset_apply_standardize. */
dsc_status dsc_dataset_standardize(dsc_dataset *ds, double *mean, double *std);
dsc_status dsc_dataset_apply_standardize(dsc_dataset *ds, const double *mean, const double *std);

/* Labels of a two-class set as -1 (class 0) / +1 (class 1), for margin losses (n values). */
dsc_status dsc_dataset_labels_pm1(const dsc_dataset *ds, double *out);
/* Examples per class (num_classes entries); DSC_ERR_INVALID for regression. */
dsc_status dsc_dataset_class_counts(const dsc_dataset *ds, int64_t *counts);
/* Feature value (i, j) in double, whatever the layout and dtype (O(log nnz_row) for CSR). */
double dsc_dataset_value(const dsc_dataset *ds, int64_t i, int64_t j);
double dsc_dataset_label(const dsc_dataset *ds, int64_t i);

/* ---------------------------------------------------------------------------------------------
 * Registry of named sets and generators (for help texts and `descent datasets`). */
typedef enum dsc_data_kind { DSC_DATA_EMBEDDED = 0, DSC_DATA_IDX_FILES, DSC_DATA_GENERATOR } dsc_data_kind;
typedef struct dsc_data_info {
    const char *name;
    dsc_data_kind kind;
    const char *summary; /* one line */
    const char *params;  /* generators: "n=1000,noise=0.1,..." with defaults; NULL otherwise */
} dsc_data_info;
const dsc_data_info *dsc_data_registry(int *count);

/* ---------------------------------------------------------------------------------------------
 * Readers. Each has a from-memory form (what the fuzz targets call) and a file form; `name` is
 * used in messages (the file name). Files ending in .gz, or starting with the gzip magic, are
 * decompressed first (needs zlib; without it: DSC_ERR_UNSUPPORTED naming the file). */

/* An n-d array as stored in IDX and .npy files, converted to dtype. */
typedef struct dsc_array {
    int ndim;
    int64_t dim[8];
    int64_t numel;
    dsc_data_dtype dtype;
    void *data; /* float or double, numel elements, C order; malloc'ed */
} dsc_array;
void dsc_array_free(dsc_array *a);

#define DSC_ARRAY_MAX_DIMS 8

/* IDX (LeCun's MNIST format): magic 0 0 type ndim, big-endian uint32 dims, then big-endian data of
 * type u8 (0x08), i8 (0x09), i16 (0x0B), i32 (0x0C), f32 (0x0D) or f64 (0x0E). */
dsc_status dsc_idx_read_mem(const void *buf, size_t len, const char *name, dsc_data_dtype dtype, dsc_array *out);
dsc_status dsc_idx_read_file(const char *path, dsc_data_dtype dtype, int64_t max_bytes, dsc_array *out);

/* NumPy .npy (format 1.0, 2.0 and 3.0 headers): little-endian <f4 <f8 |u1 <i4 <i8 (also |i1 <u2
 * <i2), C order. fortran_order True or big-endian data: DSC_ERR_UNSUPPORTED. */
dsc_status dsc_npy_read_mem(const void *buf, size_t len, const char *name, dsc_data_dtype dtype, dsc_array *out);
dsc_status dsc_npy_read_file(const char *path, dsc_data_dtype dtype, int64_t max_bytes, dsc_array *out);
/* Writes a 2-d (or 1-d when cols == 0) little-endian float64 or float32 array, format 1.0. */
dsc_status dsc_npy_write(const char *path, const void *data, dsc_data_dtype dtype, int64_t rows, int64_t cols);

/* CSV: numeric fields separated by ',', one example a line; uses opts->csv_header, csv_label,
 * task, dtype (layout: dense). Blank lines are skipped; '\r\n' is accepted. */
dsc_status dsc_csv_read_mem(const void *buf, size_t len, const char *name, const dsc_data_opts *opts,
                            dsc_dataset *out);
/* LIBSVM / SVMlight: `label [qid:k] index:value ... [# comment]`, 1-based strictly increasing
 * indices. Produces CSR; uses opts->n_features, task, dtype. Labels: integral -> classes mapped
 * in increasing order of value (class_values keeps them, e.g. -1 -> 0, +1 -> 1), else regression. */
dsc_status dsc_libsvm_read_mem(const void *buf, size_t len, const char *name, const dsc_data_opts *opts,
                               dsc_dataset *out);

/* Reads a whole file (decompressing gzip) into malloc'ed memory, at most max_bytes (0: default). */
dsc_status dsc_data_read_file(const char *path, int64_t max_bytes, void **buf, size_t *len);
/* Decompresses gzip data in memory, at most max_out bytes of output. */
dsc_status dsc_data_gunzip(const void *buf, size_t len, const char *name, int64_t max_out, void **out,
                           size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
