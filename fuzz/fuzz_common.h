/* Shared by the libFuzzer targets: decompress gzip input (bounded), so that the gzip path of each
 * reader is fuzzed too. */
#ifndef DSC_FUZZ_COMMON_H
#define DSC_FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>

#include "descent/data.h"

/* Inputs are small; a 16 MiB cap keeps a gzip bomb from exhausting memory (it must be refused). */
#define FUZZ_MAX_BYTES ((int64_t)16 << 20)

/* If data is gzip, *buf and *len become the decompressed bytes (free with free) and 1 is returned;
 * 0: use data as is; -1: the gzip layer refused it (fine: an error, not a crash). */
static inline int fuzz_maybe_gunzip(const uint8_t *data, size_t size, void **buf, size_t *len)
{
    if (size < 2 || data[0] != 0x1f || data[1] != 0x8b)
        return 0;
    return dsc_data_gunzip(data, size, "fuzz.gz", FUZZ_MAX_BYTES, buf, len) == DSC_OK ? 1 : -1;
}

/* Touch every element so that ASan checks the reader's output sizes. */
static inline double fuzz_sum_dataset(const dsc_dataset *ds)
{
    double s = 0;
    for (int64_t i = 0; i < ds->n; i++) {
        s += dsc_dataset_label(ds, i);
        if (ds->sparse) {
            for (int64_t k = ds->row_ptr[i]; k < ds->row_ptr[i + 1]; k++) {
                if (ds->col_idx[k] < 0 || ds->col_idx[k] >= ds->d)
                    abort(); /* a reader produced an out-of-range column: a bug */
                s += ds->val64 ? ds->val64[k] : ds->val[k];
            }
        } else {
            for (int64_t j = 0; j < ds->d; j++)
                s += dsc_dataset_value(ds, i, j);
        }
    }
    return s;
}

#endif
