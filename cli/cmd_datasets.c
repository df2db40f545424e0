/* descent datasets: the data sets that --data accepts: embedded sets (with their sizes), the IDX
 * sets and where their files are (or are not) found, the generators with their parameters, and the
 * file formats. Everything comes from the library's registry (dsc_data_registry). */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "descent/data.h"
#include "descent/descent.h"
#include "plot.h"

static void datasets_usage(FILE *f)
{
    fprintf(f, "usage: descent datasets [--data-dir DIR]\n\n"
               "Lists what --data accepts in every command: embedded sets (compiled in, with their sizes),\n"
               "fashion-mnist and mnist (IDX files: found or not, and where), the seeded generators with\n"
               "their parameters and defaults, and the file formats.\n\n"
               "options:\n"
               "  --data-dir DIR  also look for the IDX files in DIR (searched first, as in 'descent train')\n"
               "  -h, --help      this help\n");
}

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The search of dsc_dataset_load for IDX sets (src/data/sets.c): DIR/BASE[.gz] or DIR/NAME/BASE[.gz]
 * in --data-dir, $DESCENT_DATA, /usr/share/datasets/NAME. Writes the directory found into out. */
static int find_idx(const char *data_dir, const char *name, char *out, size_t size)
{
    char sys_dir[128];
    snprintf(sys_dir, sizeof sys_dir, "/usr/share/datasets/%s", name);
    const char *dirs[3] = {data_dir, getenv("DESCENT_DATA"), sys_dir};
    static const char *const bases[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    for (int i = 0; i < 3; i++) {
        if (!dirs[i] || !dirs[i][0])
            continue;
        for (int sub = 0; sub < 2; sub++) {
            int all = 1;
            for (int b = 0; b < 4 && all; b++) {
                char p[4200];
                int ok = 0;
                for (int gz = 0; gz < 2 && !ok; gz++) {
                    snprintf(p, sizeof p, "%s%s%s/%s%s", dirs[i], sub ? "/" : "", sub ? name : "", bases[b],
                             gz ? ".gz" : "");
                    ok = is_file(p);
                }
                all = ok;
            }
            if (all) {
                snprintf(out, size, "%s%s%s", dirs[i], sub ? "/" : "", sub ? name : "");
                return 1;
            }
        }
    }
    return 0;
}

int cmd_datasets(int argc, char **argv)
{
    const char *cmd = "descent datasets";
    const char *data_dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            datasets_usage(stdout);
            return 0;
        }
        char key[32];
        const char *val;
        dsc_cli_option(argc, argv, i, cmd, key, sizeof key, &val, 0);
        if (strcmp(key, "--data-dir")) {
            fprintf(stderr, "%s: unknown %s '%s' (valid: --data-dir, --help)\n", cmd,
                    a[0] == '-' ? "option" : "argument", a);
            return 2;
        }
        i = dsc_cli_option(argc, argv, i, cmd, key, sizeof key, &val, 1);
        if (i < 0)
            return 2;
        data_dir = val;
    }
    int count = 0;
    const dsc_data_info *reg = dsc_data_registry(&count);

    printf("Embedded sets (compiled in; no files needed):\n");
    printf("  %-14s %6s  %-14s %7s  %s\n", "name", "n", "features", "classes", "description");
    for (int i = 0; i < count; i++) {
        if (reg[i].kind != DSC_DATA_EMBEDDED)
            continue;
        dsc_dataset ds = {0};
        if (dsc_dataset_load(reg[i].name, NULL, "train", &ds) != DSC_OK) {
            printf("  %-14s (cannot load: %s)\n", reg[i].name, dsc_last_error());
            continue;
        }
        char feat[64];
        if (ds.feat_ndim > 1) {
            int k = snprintf(feat, sizeof feat, "%lld (", (long long)ds.d);
            for (int j = 0; j < ds.feat_ndim && k > 0 && (size_t)k < sizeof feat; j++)
                k += snprintf(feat + k, sizeof feat - (size_t)k, "%s%lld", j ? "x" : "", (long long)ds.feat_shape[j]);
            if (k > 0 && (size_t)k < sizeof feat - 1)
                snprintf(feat + k, sizeof feat - (size_t)k, ")");
        } else {
            snprintf(feat, sizeof feat, "%lld", (long long)ds.d);
        }
        printf("  %-14s %6lld  %-14s %7lld  %s\n", reg[i].name, (long long)ds.n, feat, (long long)ds.num_classes,
               reg[i].summary);
        dsc_dataset_free(&ds);
    }

    printf("\nImage sets from IDX files (searched in --data-dir, $DESCENT_DATA, /usr/share/datasets/NAME;\n"
           "each also in a NAME/ subdirectory; files gzip-compressed or not):\n");
    for (int i = 0; i < count; i++) {
        if (reg[i].kind != DSC_DATA_IDX_FILES)
            continue;
        char where[4200];
        printf("  %-14s %s\n", reg[i].name, reg[i].summary);
        if (find_idx(data_dir, reg[i].name, where, sizeof where))
            printf("  %-14s found in %s (train and test splits)\n", "", where);
        else
            printf("  %-14s not found%s\n", "",
                   !strcmp(reg[i].name, "fashion-mnist") ? " (Debian: apt-get install dataset-fashion-mnist)"
                                                         : " (put the 4 IDX files in --data-dir or $DESCENT_DATA)");
    }

    printf("\nGenerators (--data NAME or NAME:key=value,...; seeded, test split drawn freshly; defaults shown):\n");
    for (int i = 0; i < count; i++) {
        if (reg[i].kind != DSC_DATA_GENERATOR)
            continue;
        printf("  %-14s %s\n", reg[i].name, reg[i].summary);
        if (reg[i].params)
            printf("  %-14s %s\n", "", reg[i].params);
    }

    printf("\nFiles (--data PATH[:key=value,...]; the extension names the format, each may add .gz):\n"
           "  .csv           numeric fields, one example a line; header detected; label column: the last, or\n"
           "                 label=NAME|INDEX|none; header=0|1; task=auto|classification|regression\n"
           "  .libsvm .svm   LIBSVM/SVMlight 'label index:value ...' (1-based indices; sparse); n_features=D\n"
           "  .npy           NumPy arrays (<f4 <f8 |u1 <i4 <i8, C order) [n, features...]; labels from\n"
           "                 <stem>.labels.npy or labels=PATH\n"
           "examples: --data digits   --data spirals:n=2000,noise=0.2   --data data/train.csv:label=species\n"
           "(details: docs/DATA.md)\n");
    return 0;
}
