/* descent — tensor files (safetensors), atomic file writes and training checkpoints.
 *
 * safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header size
 * N, N bytes of JSON header {"__metadata__": {"key": "value", ...}, "name": {"dtype": "F32",
 * "shape": [2, 3], "data_offsets": [begin, end]}, ...} padded with spaces to a multiple of 8,
 * then the tensors' bytes (little-endian, C order). The writer produces the same bytes as the
 * reference implementation (Rust crate / Python package): tensors sorted by dtype (the 8-byte
 * ones first, as the reference's Dtype order) then by name, compact JSON, metadata first with
 * its keys sorted. The reader is fully bounds-checked: every problem is DSC_ERR_FORMAT with a
 * message naming the file, the tensor and what is wrong. See docs/FORMATS.md. */
#ifndef DESCENT_IO_H
#define DESCENT_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "descent/error.h"
#include "descent/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Element types, in the reference implementation's Dtype order (which the writer's sort uses). */
typedef enum dsc_st_dtype {
    DSC_ST_BOOL,
    DSC_ST_U8,
    DSC_ST_I8,
    DSC_ST_F8_E5M2,
    DSC_ST_F8_E4M3,
    DSC_ST_I16,
    DSC_ST_U16,
    DSC_ST_F16,
    DSC_ST_BF16,
    DSC_ST_I32,
    DSC_ST_U32,
    DSC_ST_F32,
    DSC_ST_F64,
    DSC_ST_I64,
    DSC_ST_U64,
    DSC_ST_DTYPE_COUNT
} dsc_st_dtype;

/* "F32", ...; NULL for an invalid value. */
const char *dsc_st_dtype_name(dsc_st_dtype d);
/* Bytes per element (0 for an invalid value). */
size_t dsc_st_dtype_size(dsc_st_dtype d);
/* Parses "F32" etc.; -1 if unknown. */
int dsc_st_dtype_parse(const char *name);

#define DSC_ST_MAX_DIMS 16
/* The reference reader refuses headers larger than this (100 MB); so do we. */
#define DSC_ST_MAX_HEADER 100000000ull

/* One tensor: its bytes are little-endian, C order, numel * dtype size of them. For writing, the
 * caller owns name and data; in a loaded file they point into its storage (data may be
 * unaligned: copy it out with dsc_safetensors_get / memcpy). */
typedef struct dsc_st_tensor {
    const char *name;
    dsc_st_dtype dtype;
    int ndim;
    int64_t shape[DSC_ST_MAX_DIMS];
    const void *data;
    size_t nbytes;
} dsc_st_tensor;

/* A "__metadata__" entry (both strings, valid UTF-8). */
typedef struct dsc_st_meta {
    const char *key;
    const char *value;
} dsc_st_meta;

/* Convenience constructors for dsc_st_tensor (nbytes = numel * dtype size). */
dsc_st_tensor dsc_st_tensor_make(const char *name, dsc_st_dtype dtype, int ndim, const int64_t *shape,
                                 const void *data);
/* A contiguous float32 dsc_tensor (strided views: copy them first). */
dsc_st_tensor dsc_st_tensor_f32(const char *name, const dsc_tensor *t);

/* A loaded file. Tensors are in file (offset) order; everything is owned by the struct. */
typedef struct dsc_safetensors {
    int n_tensors;
    dsc_st_tensor *tensors;
    int n_meta;
    dsc_st_meta *meta; /* in header order */
    size_t header_size; /* N */
    void *storage_;     /* internal */
} dsc_safetensors;

/* Parse a whole file held in memory (copied: the result does not refer to buf). `name` names the
 * file in messages. On failure *out is empty (safe to free). */
dsc_status dsc_safetensors_read_mem(const void *buf, size_t len, const char *name, dsc_safetensors *out);
/* Read and parse a file; max_bytes caps the file size (<= 0: 16 GiB). */
dsc_status dsc_safetensors_read_file(const char *path, int64_t max_bytes, dsc_safetensors *out);
void dsc_safetensors_free(dsc_safetensors *st);

/* Lookup by name (NULL when absent). */
const dsc_st_tensor *dsc_safetensors_find(const dsc_safetensors *st, const char *name);
/* Metadata value of key (NULL when absent). */
const char *dsc_safetensors_meta(const dsc_safetensors *st, const char *key);

/* Copy tensor `name` into dst after checking that it exists and has exactly this dtype and shape
 * (DSC_ERR_FORMAT for a missing tensor or another dtype, DSC_ERR_SHAPE for another shape; the
 * message names the file, the tensor and both shapes). `what` names the file in messages. */
dsc_status dsc_safetensors_get(const dsc_safetensors *st, const char *what, const char *name, dsc_st_dtype dtype,
                               int ndim, const int64_t *shape, void *dst);
/* Same into a float32 tensor (any strides), checking its shape. */
dsc_status dsc_safetensors_get_f32(const dsc_safetensors *st, const char *what, const char *name,
                                   dsc_tensor *dst);

/* Serialize into a malloc'ed buffer (*buf, *len; free with free). Tensors: unique non-empty
 * names (not "__metadata__"), valid dtype and shape, nbytes == numel * dtype size. Metadata keys
 * unique. Byte-identical to the reference writer given the same tensors and metadata (with one
 * metadata key at most, or keys given in sorted order to the reference, whose map is unordered). */
dsc_status dsc_safetensors_serialize(const dsc_st_tensor *tensors, int n, const dsc_st_meta *meta, int n_meta,
                                     void **buf, size_t *len);
/* Write a file atomically (see dsc_atomic_write). */
dsc_status dsc_safetensors_write_file(const char *path, const dsc_st_tensor *tensors, int n,
                                      const dsc_st_meta *meta, int n_meta);

/* ---------------------------------------------------------------------------------------------
 * Atomic file replacement: the content is written to "<path>.tmp.<pid>", flushed and fsync'ed,
 * renamed over path, and the directory is fsync'ed. On any failure the temporary file is
 * removed and an existing file at path is left untouched: readers see the old file or the new
 * one, never a mix, also after a crash. */

/* Writes the content to f; report failures with DSC_ERROR (use dsc_io_fwrite). */
typedef dsc_status (*dsc_atomic_writer)(FILE *f, const char *tmp_path, void *ctx);
dsc_status dsc_atomic_write(const char *path, dsc_atomic_writer writer, void *ctx);
dsc_status dsc_atomic_write_bytes(const char *path, const void *buf, size_t len);
/* fwrite with an error naming path. */
dsc_status dsc_io_fwrite(FILE *f, const void *buf, size_t len, const char *path);
/* For tests: hook called before each stage of dsc_atomic_write ("open", "write", "flush",
 * "fsync", "rename", "fsync_dir") with the path; a non-zero return makes that stage fail as if
 * the system call had. NULL removes it. Not thread-safe; do not use outside tests. */
void dsc_atomic_set_fail_hook(int (*hook)(const char *stage, const char *path, void *ctx), void *ctx);

/* ---------------------------------------------------------------------------------------------
 * Checkpoints: RUN_DIR/checkpoints/ckpt-epochEEEE-stepSSSSSSSSS.safetensors (epoch and global
 * step, zero-padded; more digits when needed) plus RUN_DIR/checkpoints/latest, a one-line text
 * file naming the newest one; all written atomically. The library adds metadata
 * "descent.checkpoint" = "1", "descent.epoch", "descent.step" and "descent.crc32" (CRC-32 of every
 * tensor's name and bytes, in name order), checked when a checkpoint is loaded; caller keys must
 * not start with "descent.". */

#define DSC_CKPT_SUBDIR "checkpoints"

typedef struct dsc_checkpoint_entry {
    char path[4096];
    int64_t epoch, step;
} dsc_checkpoint_entry;

/* Save a checkpoint; keep > 0 then removes all but the newest `keep` checkpoints (by epoch, then
 * step). Creates RUN_DIR/checkpoints if needed. path_out (may be NULL) receives the file path. */
dsc_status dsc_checkpoint_save(const char *run_dir, int64_t epoch, int64_t step, const dsc_st_tensor *tensors,
                               int n, const dsc_st_meta *meta, int n_meta, int keep, char *path_out,
                               size_t path_size);
/* The checkpoints of a run, sorted oldest first (files named as above; others ignored). *out is
 * malloc'ed (free with free); a run with no checkpoints directory gives *n = 0. */
dsc_status dsc_checkpoint_list(const char *run_dir, dsc_checkpoint_entry **out, int *n);
/* Remove all but the newest `keep` checkpoints (keep <= 0: none removed). */
dsc_status dsc_checkpoint_prune(const char *run_dir, int keep);
/* Read a checkpoint file and verify its checksum (when it has one). */
dsc_status dsc_checkpoint_load(const char *path, dsc_safetensors *out);

/* Warnings (a corrupt checkpoint skipped): called with a message; NULL prints to stderr. */
typedef void (*dsc_checkpoint_warn_fn)(const char *message, void *ctx);
/* Load the newest checkpoint of a run that reads and verifies, skipping (with a warning) corrupt
 * or truncated newer ones. DSC_ERR_IO when the run has no valid checkpoint (message says why).
 * path_out (may be NULL) receives its path; *epoch and *step (may be NULL) its numbers. */
dsc_status dsc_checkpoint_load_latest(const char *run_dir, dsc_checkpoint_warn_fn warn, void *warn_ctx,
                                      dsc_safetensors *out, char *path_out, size_t path_size, int64_t *epoch,
                                      int64_t *step);

/* CRC-32 (IEEE 802.3, as zlib's crc32), continuing from crc (start with 0). */
uint32_t dsc_crc32(uint32_t crc, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
