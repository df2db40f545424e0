/* libFuzzer target: spec strings (`name:key=value,...`) through the parser, the typed getters and
 * dsc_dataset_load's name dispatch (generator sizes are capped to keep runs fast). */
#include <string.h>

#include "descent/spec.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    dsc_kvspec s;
    if (dsc_kvspec_parse(text, &s) == DSC_OK) {
        static const char *const keys[] = {"n", "d", "noise", "flag", "name", NULL};
        static const char *const choices[] = {"a", "b", NULL};
        int64_t i;
        double x;
        int b, c;
        const char *str;
        (void)dsc_kvspec_check(&s, keys, 2);
        (void)dsc_kvspec_int(&s, "n", 0, -100, 100, &i);
        (void)dsc_kvspec_double(&s, "noise", 0, -1, 1, &x);
        (void)dsc_kvspec_bool(&s, "flag", 0, &b);
        (void)dsc_kvspec_str(&s, "name", "", &str);
        (void)dsc_kvspec_choice(&s, "d", choices, 0, &c);
        for (int k = 0; k < dsc_kvspec_n_positional(&s); k++)
            (void)strlen(dsc_kvspec_positional(&s, k));
        /* Through the loader, with a small allocation cap so that large n or d are refused. The
         * file branch is skipped: the fuzzer must not read arbitrary paths. */
        if (!strchr(s.name, '/') && !strchr(s.name, '.')) {
            dsc_data_opts o;
            dsc_data_opts_init(&o);
            o.max_bytes = 1 << 20;
            o.data_dir = "/nonexistent";
            dsc_dataset ds = {0};
            const char *n = dsc_kvspec_find(&s, "n");
            if (!n || strlen(n) < 5) /* keep generator sizes small */
                if (dsc_dataset_load_opts(text, &o, &ds) == DSC_OK)
                    (void)fuzz_sum_dataset(&ds);
            dsc_dataset_free(&ds);
        }
    }
    dsc_kvspec_free(&s);
    free(text);
    return 0;
}
