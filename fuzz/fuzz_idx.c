/* libFuzzer target: the IDX reader (and gzip layer) on arbitrary bytes. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void *buf = NULL;
    size_t len = 0;
    int gz = fuzz_maybe_gunzip(data, size, &buf, &len);
    if (gz < 0)
        return 0;
    const void *p = gz ? buf : (const void *)data;
    size_t n = gz ? len : size;
    for (int t = 0; t < 2; t++) {
        dsc_array a;
        if (dsc_idx_read_mem(p, n, "fuzz.idx", t ? DSC_DATA_F64 : DSC_DATA_F32, &a) == DSC_OK) {
            volatile double s = 0;
            for (int64_t k = 0; k < a.numel; k++)
                s += t ? ((double *)a.data)[k] : ((float *)a.data)[k];
            (void)s;
        }
        dsc_array_free(&a);
    }
    free(buf);
    return 0;
}
