/* libFuzzer target: the LIBSVM/SVMlight reader. The first byte picks the options (n_features,
 * task, precision), the rest is the file. Successful reads are also densified (bounded). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    dsc_data_opts o;
    dsc_data_opts_init(&o);
    o.n_features = (sel & 3) == 3 ? 0 : (sel & 3) * 4;
    o.task = (dsc_data_task)((sel >> 2) % 3);
    o.dtype = sel & 0x80 ? DSC_DATA_F64 : DSC_DATA_F32;
    o.max_bytes = FUZZ_MAX_BYTES;
    void *buf = NULL;
    size_t len = 0;
    int gz = fuzz_maybe_gunzip(data + 1, size - 1, &buf, &len);
    if (gz < 0)
        return 0;
    dsc_dataset ds;
    if (dsc_libsvm_read_mem(gz ? buf : (const void *)(data + 1), gz ? len : size - 1, "fuzz.svm", &o, &ds) == DSC_OK) {
        volatile double s = fuzz_sum_dataset(&ds);
        (void)s;
        if (dsc_dataset_densify(&ds, (int64_t)1 << 20) == DSC_OK)
            (void)fuzz_sum_dataset(&ds);
    }
    dsc_dataset_free(&ds);
    free(buf);
    return 0;
}
