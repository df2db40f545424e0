/* libFuzzer target: config files and run logs. Every input goes through the config parser (strict
 * and lenient), a write/read round trip of what parsed (the entries must come back the same), and
 * the metrics.jsonl and metrics.csv readers (whose tables are touched whole, so that ASan checks
 * their sizes). */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descent/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const dsc_config *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return;
    dsc_status st = dsc_config_write(f, c);
    fclose(f);
    if (st == DSC_OK) {
        dsc_config d;
        if (dsc_config_parse(buf, len, "roundtrip", DSC_CONFIG_LENIENT, &d) != DSC_OK || d.n != c->n)
            abort(); /* the writer produced something its reader refuses: a bug */
        for (int i = 0; i < c->n; i++)
            if (strcmp(c->entries[i].key, d.entries[i].key) || strcmp(c->entries[i].value, d.entries[i].value) ||
                c->entries[i].type != d.entries[i].type)
                abort();
        dsc_config_free(&d);
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    dsc_config c;
    if (dsc_config_parse(text, size, "fuzz.json", 0, &c) == DSC_OK) {
        for (int i = 0; i < c.n; i++)
            /* A value is at most its text, except numbers, which are rewritten in their
             * shortest exact form: "1e15" becomes "1000000000000000" (up to ~24 characters). */
            if (!dsc_config_find(&c, c.entries[i].key) || strlen(c.entries[i].value) > size + 32)
                abort();
        roundtrip(&c);
    }
    dsc_config_free(&c);
    if (dsc_config_parse(text, size, "fuzz.json", DSC_CONFIG_LENIENT, &c) == DSC_OK)
        roundtrip(&c);
    dsc_config_free(&c);

    for (int csv = 0; csv < 2; csv++) {
        dsc_runlog log;
        dsc_status st = csv ? dsc_runlog_parse_csv(text, size, "fuzz.csv", &log)
                            : dsc_runlog_parse_jsonl(text, size, "fuzz.jsonl", &log);
        if (st == DSC_OK) {
            double s = 0;
            for (int j = 0; j < log.ncols; j++) {
                if (dsc_runlog_find(&log, log.cols[j]) != j)
                    abort(); /* column names must be unique */
                for (int64_t i = 0; i < log.nrows; i++)
                    s += isnan(log.col[j][i]) ? 0 : 1;
            }
            for (int64_t i = 0; i < log.nrows; i++)
                s += log.kind[i];
            (void)s;
        }
        dsc_runlog_free(&log);
    }
    return 0;
}
