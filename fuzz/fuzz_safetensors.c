/* libFuzzer target: the safetensors reader on arbitrary bytes; what it accepts must be internally
 * consistent and survive a write/read round trip unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "descent/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dsc_safetensors st;
    if (dsc_safetensors_read_mem(data, size, "fuzz.safetensors", &st) != DSC_OK) {
        dsc_safetensors_free(&st);
        return 0;
    }
    /* Touch every byte (ASan checks the bounds) and check the sizes add up to the file. */
    size_t total = 0;
    volatile unsigned acc = 0;
    for (int i = 0; i < st.n_tensors; i++) {
        const unsigned char *p = st.tensors[i].data;
        for (size_t k = 0; k < st.tensors[i].nbytes; k++)
            acc += p[k];
        total += st.tensors[i].nbytes;
    }
    if (8 + st.header_size + total != size)
        abort();
    for (int i = 0; i < st.n_meta; i++)
        acc += (unsigned)strlen(st.meta[i].key) + (unsigned)strlen(st.meta[i].value);
    /* Round trip: our writer accepts what our reader accepted, and reading that back gives the
     * same tensors and metadata. */
    void *buf;
    size_t len;
    if (dsc_safetensors_serialize(st.tensors, st.n_tensors, st.meta, st.n_meta, &buf, &len) != DSC_OK)
        abort();
    dsc_safetensors back;
    if (dsc_safetensors_read_mem(buf, len, "roundtrip", &back) != DSC_OK)
        abort();
    if (back.n_tensors != st.n_tensors || back.n_meta != st.n_meta)
        abort();
    for (int i = 0; i < st.n_tensors; i++) {
        const dsc_st_tensor *a = &st.tensors[i], *b = dsc_safetensors_find(&back, a->name);
        if (!b || b->dtype != a->dtype || b->ndim != a->ndim || b->nbytes != a->nbytes ||
            memcmp(b->shape, a->shape, sizeof a->shape) != 0 || (a->nbytes && memcmp(a->data, b->data, a->nbytes) != 0))
            abort();
    }
    for (int i = 0; i < st.n_meta; i++) {
        const char *v = dsc_safetensors_meta(&back, st.meta[i].key);
        if (!v || strcmp(v, st.meta[i].value) != 0)
            abort();
    }
    (void)acc;
    dsc_safetensors_free(&back);
    free(buf);
    dsc_safetensors_free(&st);
    return 0;
}
