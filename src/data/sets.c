/* Named data sets (embedded, mnist / fashion-mnist IDX files), the registry, and dsc_dataset_load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/data_internal.h"
#include "data/embedded/embedded.h"

/* ---- embedded sets ---- */

int dsc_embedded_find(const char *name)
{
    for (int i = 0; i < DSC_EMBEDDED_COUNT; i++)
        if (strcmp(dsc_embedded_sets[i].name, name) == 0)
            return i;
    return -1;
}

static dsc_status dup_names(char ***dst, const char *const *src, int64_t n)
{
    *dst = NULL;
    if (!src)
        return DSC_OK;
    *dst = calloc((size_t)n, sizeof(char *));
    if (!*dst)
        return DSC_ERROR(DSC_ERR_NOMEM, "out of memory copying names");
    for (int64_t i = 0; i < n; i++) {
        size_t l = strlen(src[i]) + 1;
        (*dst)[i] = malloc(l);
        if (!(*dst)[i])
            return DSC_ERROR(DSC_ERR_NOMEM, "out of memory copying names");
        memcpy((*dst)[i], src[i], l);
    }
    return DSC_OK;
}

dsc_status dsc_embedded_load(int which, const dsc_data_opts *o, dsc_dataset *ds)
{
    const dsc_embedded_set *e = &dsc_embedded_sets[which];
    dsc_data_set_name(ds, e->name);
    ds->dtype = o->dtype;
    DSC_TRY(dsc_data_alloc_dense(ds, e->n, e->d, 1, o->max_bytes));
    ds->feat_ndim = e->feat_ndim;
    for (int k = 0; k < e->feat_ndim; k++)
        ds->feat_shape[k] = e->feat_shape[k];
    for (int i = 0; i < e->n; i++) {
        for (int j = 0; j < e->d; j++) {
            double v = e->x64 ? e->x64[i * e->d + j] : (double)(e->x_u8[i][j] - 'A');
            dsc_data_setx(ds, (int64_t)i * e->d + j, v);
        }
        dsc_data_sety(ds, i, e->y[i] - '0');
    }
    ds->num_classes = e->num_classes;
    DSC_TRY(dup_names(&ds->class_names, e->class_names, e->num_classes));
    DSC_TRY(dup_names(&ds->feature_names, e->feature_names, e->d));
    return DSC_OK;
}

/* ---- mnist / fashion-mnist ---- */

static const char *const idx_sets[] = {"fashion-mnist", "mnist"};
static const char *const fashion_classes[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

int dsc_named_idx_find(const char *name)
{
    for (int i = 0; i < 2; i++)
        if (strcmp(idx_sets[i], name) == 0)
            return i;
    return -1;
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Finds <dir>/<base> or <dir>/<base>.gz, also under <dir>/<set>/. */
static int find_in(const char *dir, const char *set, const char *base, char *out, size_t size)
{
    for (int s = 0; s < 2; s++)
        for (int gz = 0; gz < 2; gz++) {
            int w = snprintf(out, size, "%s%s%s/%s%s", dir, s ? "/" : "", s ? set : "", base, gz ? ".gz" : "");
            if (w > 0 && (size_t)w < size && file_exists(out))
                return 1;
        }
    return 0;
}

dsc_status dsc_named_idx_load(const char *name, const dsc_data_opts *o, dsc_dataset *ds)
{
    const char *split = o->split ? o->split : "train";
    int test;
    if (strcmp(split, "train") == 0)
        test = 0;
    else if (strcmp(split, "test") == 0)
        test = 1;
    else
        return DSC_ERROR(DSC_ERR_INVALID, "%s: unknown split '%s' (valid: train, test)", name, split);
    const char *img_base = test ? "t10k-images-idx3-ubyte" : "train-images-idx3-ubyte";
    const char *lab_base = test ? "t10k-labels-idx1-ubyte" : "train-labels-idx1-ubyte";
    char sys_dir[128];
    snprintf(sys_dir, sizeof sys_dir, "/usr/share/datasets/%s", name);
    const char *dirs[3] = {o->data_dir, getenv("DESCENT_DATA"), sys_dir};
    char img[4096], lab[4096];
    int found = 0;
    for (int i = 0; i < 3 && !found; i++) {
        if (!dirs[i] || !dirs[i][0])
            continue;
        if (find_in(dirs[i], name, img_base, img, sizeof img) && find_in(dirs[i], name, lab_base, lab, sizeof lab))
            found = 1;
    }
    if (!found)
        return DSC_ERROR(DSC_ERR_IO,
                         "%s: %s(.gz) and %s(.gz) not found in %s%s%s$DESCENT_DATA%s%s%s or %s (each also in a %s/ "
                         "subdirectory)%s",
                         name, img_base, lab_base, o->data_dir ? "--data-dir " : "", o->data_dir ? o->data_dir : "",
                         o->data_dir ? ", " : "", getenv("DESCENT_DATA") ? " (" : "",
                         getenv("DESCENT_DATA") ? getenv("DESCENT_DATA") : "", getenv("DESCENT_DATA") ? ")" : "",
                         sys_dir, name,
                         strcmp(name, "fashion-mnist") == 0 ? "; on Debian: apt-get install dataset-fashion-mnist" : "");
    dsc_array X = {0}, Y = {0};
    dsc_status st = dsc_idx_read_file(img, o->dtype, o->max_bytes, &X);
    if (st == DSC_OK)
        st = dsc_idx_read_file(lab, DSC_DATA_F64, o->max_bytes, &Y);
    if (st == DSC_OK && (X.ndim != 3 || Y.ndim != 1 || X.dim[0] != Y.dim[0]))
        st = DSC_ERROR(DSC_ERR_FORMAT, "%s: images %s have %d dimensions and %lld items, labels %s have %d and %lld "
                       "(expected [n, rows, cols] and [n])",
                       name, img, X.ndim, (long long)X.dim[0], lab, Y.ndim, (long long)Y.dim[0]);
    for (int64_t i = 0; st == DSC_OK && i < Y.numel; i++) {
        double c = ((double *)Y.data)[i];
        if (!(c >= 0 && c <= 9))
            st = DSC_ERROR(DSC_ERR_FORMAT, "%s: label %lld of %s is %g, expected 0..9", name, (long long)i, lab, c);
    }
    if (st == DSC_OK) {
        dsc_data_set_name(ds, name);
        ds->dtype = o->dtype;
        ds->n = X.dim[0];
        ds->d = X.dim[1] * X.dim[2];
        ds->feat_ndim = 3;
        ds->feat_shape[0] = 1;
        ds->feat_shape[1] = X.dim[1];
        ds->feat_shape[2] = X.dim[2];
        ds->num_classes = 10;
        /* Pixels scaled to [0, 1] (as torchvision's ToTensor): v / 255. */
        if (o->dtype == DSC_DATA_F64) {
            ds->x64 = X.data;
            for (int64_t k = 0; k < X.numel; k++)
                ds->x64[k] /= 255.0;
        } else {
            ds->x = X.data;
            for (int64_t k = 0; k < X.numel; k++)
                ds->x[k] /= 255.0f;
        }
        X.data = NULL;
        st = dsc_data_alloc_labels(ds, 0);
        for (int64_t i = 0; st == DSC_OK && i < ds->n; i++)
            dsc_data_sety(ds, i, ((double *)Y.data)[i]);
        if (st == DSC_OK && strcmp(name, "fashion-mnist") == 0)
            st = dup_names(&ds->class_names, fashion_classes, 10);
    }
    dsc_array_free(&X);
    dsc_array_free(&Y);
    return st;
}

/* ---- registry ---- */

static const dsc_data_info registry[] = {
    {"digits", DSC_DATA_EMBEDDED, "handwritten digits, 1797 8x8 images (values 0..16), 10 classes", NULL},
    {"iris", DSC_DATA_EMBEDDED, "iris flowers, 150 x 4, 3 classes", NULL},
    {"wine", DSC_DATA_EMBEDDED, "wine analysis, 178 x 13, 3 classes", NULL},
    {"breast-cancer", DSC_DATA_EMBEDDED, "breast cancer diagnosis, 569 x 30, 2 classes", NULL},
    {"fashion-mnist", DSC_DATA_IDX_FILES, "Zalando clothing images, 60000 + 10000 28x28, 10 classes (IDX files)",
     NULL},
    {"mnist", DSC_DATA_IDX_FILES, "handwritten digits, 60000 + 10000 28x28, 10 classes (IDX files)", NULL},
    {"linreg", DSC_DATA_GENERATOR, "linear regression y = Xw* + noise, design with a given condition number",
     "n=1000,d=10,noise=0.1,cond=(gaussian),seed=0,n_test=n"},
    {"logistic", DSC_DATA_GENERATOR, "two classes from a logistic model (separable=1: sign of a linear score)",
     "n=1000,d=10,separable=0,scale=4,density=1,seed=0,n_test=n"},
    {"blobs", DSC_DATA_GENERATOR, "Gaussian blobs around random centers, balanced classes",
     "n=1000,d=2,classes=3,std=1,box=10,seed=0,n_test=n"},
    {"spirals", DSC_DATA_GENERATOR, "two interleaved spirals in 2-d, balanced", "n=1000,noise=0.1,turns=1.5,seed=0,n_test=n"},
    {"xor", DSC_DATA_GENERATOR, "XOR of the signs of two uniform coordinates", "n=1000,d=2,noise=0,seed=0,n_test=n"},
    {"teacher", DSC_DATA_GENERATOR, "labels from a random tanh MLP teacher (classes=0: regression)",
     "n=1000,d=10,hidden=32,depth=1,classes=0,noise=0,seed=0,n_test=n"},
    {"sparse", DSC_DATA_GENERATOR, "sparse regression: w* with k nonzeros, optional sparse (CSR) design",
     "n=1000,d=100,k=10,noise=0.1,density=1,seed=0,n_test=n"},
};

const dsc_data_info *dsc_data_registry(int *count)
{
    if (count)
        *count = (int)(sizeof registry / sizeof registry[0]);
    return registry;
}

/* ---- the entry point ---- */

static int ends_with(const char *s, size_t n, const char *suf)
{
    size_t m = strlen(suf);
    return n >= m && memcmp(s + n - m, suf, m) == 0;
}

/* Format of a path by extension: 0 csv, 1 libsvm, 2 npy, -1 unknown. */
static int format_of(const char *path, size_t n)
{
    if (ends_with(path, n, ".gz"))
        n -= 3;
    if (ends_with(path, n, ".csv"))
        return 0;
    if (ends_with(path, n, ".libsvm") || ends_with(path, n, ".svm") || ends_with(path, n, ".svmlight"))
        return 1;
    if (ends_with(path, n, ".npy"))
        return 2;
    return -1;
}

static dsc_status unknown_name(const char *spec)
{
    char list[600] = "";
    size_t u = 0;
    int n;
    const dsc_data_info *r = dsc_data_registry(&n);
    for (int i = 0; i < n && u + 1 < sizeof list; i++) {
        int w = snprintf(list + u, sizeof list - u, "%s%s", i ? ", " : "", r[i].name);
        if (w < 0)
            break;
        u += (size_t)w;
    }
    return DSC_ERROR(DSC_ERR_INVALID,
                     "unknown data set '%s' (valid names: %s; or a file path ending in .csv, .libsvm, .svm or .npy, "
                     "optionally .gz)",
                     spec, list);
}

static dsc_status load_npy(const char *path, const dsc_data_opts *o, dsc_dataset *ds)
{
    dsc_array a;
    DSC_TRY(dsc_npy_read_file(path, o->dtype, o->max_bytes, &a));
    dsc_data_set_name(ds, dsc_data_basename(path));
    ds->dtype = o->dtype;
    if (a.ndim < 1 || a.ndim > 1 + DSC_DATA_MAX_FEAT_DIMS) {
        int nd = a.ndim;
        dsc_array_free(&a);
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: a %d-d array cannot be a data set (expected [n] or [n, features...] with up "
                         "to %d feature dimensions)",
                         path, nd, DSC_DATA_MAX_FEAT_DIMS);
    }
    /* A .npy file holds the features only: [n, ...]; a 1-d array is n examples of one feature.
     * Labels come from a companion file (see docs/DATA.md): not read here. */
    ds->n = a.dim[0];
    ds->d = a.dim[0] ? a.numel / a.dim[0] : 1;
    if (a.ndim == 1) {
        ds->feat_ndim = 1;
        ds->feat_shape[0] = 1;
        ds->d = 1;
    } else {
        int64_t d = 1;
        ds->feat_ndim = a.ndim - 1;
        for (int k = 1; k < a.ndim; k++) {
            ds->feat_shape[k - 1] = a.dim[k];
            d *= a.dim[k];
        }
        ds->d = d;
    }
    if (o->dtype == DSC_DATA_F64)
        ds->x64 = a.data;
    else
        ds->x = a.data;
    a.data = NULL;
    return DSC_OK;
}

/* A .npy features file may have a labels companion: <stem>.labels.npy or <stem>_y.npy next to it, or an
 * explicit labels=PATH option. */
static dsc_status npy_labels(const char *path, const char *labels, const dsc_data_opts *o, dsc_dataset *ds)
{
    char guess[4096];
    if (!labels) {
        size_t n = strlen(path);
        if (n >= sizeof guess - 16 || !ends_with(path, n, ".npy"))
            return DSC_OK;
        snprintf(guess, sizeof guess, "%.*s.labels.npy", (int)(n - 4), path);
        if (!file_exists(guess))
            return DSC_OK;
        labels = guess;
    }
    dsc_array y;
    DSC_TRY(dsc_npy_read_file(labels, DSC_DATA_F64, o->max_bytes, &y));
    if (y.numel != ds->n || (y.ndim != 1 && !(y.ndim == 2 && y.dim[1] == 1))) {
        int64_t ne = y.numel;
        dsc_array_free(&y);
        return DSC_ERROR(DSC_ERR_SHAPE, "%s: labels file %s has %lld values, expected %lld (one per example)", path,
                         labels, (long long)ne, (long long)ds->n);
    }
    dsc_status st = dsc_data_set_labels(ds, y.data, o->task, 1, labels);
    dsc_array_free(&y);
    return st;
}

dsc_status dsc_dataset_load(const char *spec_or_path, const char *data_dir, const char *split, dsc_dataset *ds)
{
    dsc_data_opts o;
    dsc_data_opts_init(&o);
    o.data_dir = data_dir;
    o.split = split;
    return dsc_dataset_load_opts(spec_or_path, &o, ds);
}

static dsc_status load_file(const char *path, const dsc_kvspec *kv, int fmt, const dsc_data_opts *o0,
                            dsc_dataset *ds)
{
    dsc_data_opts o = *o0;
    const char *labels = NULL;
    if (kv) {
        static const char *const keys[] = {"label", "header", "task", "n_features", "labels", NULL};
        DSC_TRY(dsc_kvspec_check(kv, keys, 0));
        DSC_TRY(dsc_kvspec_str(kv, "label", o.csv_label, &o.csv_label));
        if (dsc_kvspec_has(kv, "header"))
            DSC_TRY(dsc_kvspec_bool(kv, "header", 0, &o.csv_header));
        static const char *const tasks[] = {"auto", "classification", "regression", NULL};
        int t;
        DSC_TRY(dsc_kvspec_choice(kv, "task", tasks, (int)o.task, &t));
        o.task = (dsc_data_task)t;
        DSC_TRY(dsc_kvspec_int(kv, "n_features", o.n_features, 0, INT32_MAX, &o.n_features));
        DSC_TRY(dsc_kvspec_str(kv, "labels", NULL, &labels));
    }
    if (o.split && strcmp(o.split, "train") != 0)
        return DSC_ERROR(DSC_ERR_UNSUPPORTED, "%s: a file has only one split (asked for '%s'); split off a validation set",
                         path, o.split);
    if (fmt == 2) {
        DSC_TRY(load_npy(path, &o, ds));
        return npy_labels(path, labels, &o, ds);
    }
    void *buf;
    size_t len;
    DSC_TRY(dsc_data_read_file(path, o.max_bytes, &buf, &len));
    dsc_status st = fmt == 0 ? dsc_csv_read_mem(buf, len, path, &o, ds) : dsc_libsvm_read_mem(buf, len, path, &o, ds);
    free(buf);
    return st;
}

dsc_status dsc_dataset_load_opts(const char *spec, const dsc_data_opts *opts, dsc_dataset *ds)
{
    dsc_data_opts def;
    if (!opts) {
        dsc_data_opts_init(&def);
        opts = &def;
    }
    memset(ds, 0, sizeof *ds);
    if (!spec || !*spec)
        return DSC_ERROR(DSC_ERR_INVALID, "no data set given (a name such as digits, a generator spec or a file path)");
    dsc_status st;
    size_t len = strlen(spec);
    int fmt = format_of(spec, len);
    if (fmt >= 0) {
        if (!file_exists(spec))
            return DSC_ERROR(DSC_ERR_IO, "%s: no such file", spec);
        st = load_file(spec, NULL, fmt, opts, ds);
    } else {
        dsc_kvspec kv;
        st = dsc_kvspec_parse(spec, &kv);
        if (st == DSC_OK) {
            const char *name = kv.name;
            int e, fmt2 = format_of(name, strlen(name));
            if (fmt2 >= 0) {
                st = file_exists(name) ? load_file(name, &kv, fmt2, opts, ds)
                                       : DSC_ERROR(DSC_ERR_IO, "%s: no such file", name);
            } else if ((e = dsc_embedded_find(name)) >= 0) {
                if (kv.n_items)
                    st = DSC_ERROR(DSC_ERR_INVALID, "%s: an embedded data set takes no options (got '%s')", name, spec);
                else if (opts->split && strcmp(opts->split, "train") != 0)
                    st = DSC_ERROR(DSC_ERR_UNSUPPORTED, "%s has only one split (asked for '%s'); split off a validation set",
                                   name, opts->split);
                else
                    st = dsc_embedded_load(e, opts, ds);
            } else if (dsc_named_idx_find(name) >= 0) {
                st = kv.n_items ? DSC_ERROR(DSC_ERR_INVALID, "%s takes no options (got '%s')", name, spec)
                                : dsc_named_idx_load(name, opts, ds);
            } else if (dsc_generator_find(name) >= 0) {
                st = dsc_generator_load(&kv, opts, ds);
            } else if (strchr(name, '/') || strchr(name, '.') || file_exists(spec)) {
                st = DSC_ERROR(DSC_ERR_INVALID, "%s: unknown file extension (known: .csv, .libsvm, .svm, .npy, each "
                               "optionally .gz)",
                               name);
            } else {
                st = unknown_name(name);
            }
        }
        dsc_kvspec_free(&kv);
    }
    if (st == DSC_OK && ds->dtype != opts->dtype)
        st = dsc_dataset_to_dtype(ds, opts->dtype);
    if (st == DSC_OK)
        st = dsc_dataset_to_layout(ds, opts->layout, opts->max_bytes);
    if (st != DSC_OK)
        dsc_dataset_free(ds);
    return st;
}
