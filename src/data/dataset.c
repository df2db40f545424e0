/* dsc_dataset: allocation, labels, conversions between precision and layout. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_internal.h"

void dsc_data_opts_init(dsc_data_opts *o)
{
    memset(o, 0, sizeof *o);
    o->dtype = DSC_DATA_F32;
    o->layout = DSC_LAYOUT_DENSE;
    o->task = DSC_TASK_AUTO;
    o->csv_header = -1;
}

int64_t dsc_data_cap(int64_t max_bytes) { return max_bytes > 0 ? max_bytes : DSC_DATA_DEFAULT_MAX_BYTES; }

dsc_status dsc_data_alloc(void **p, int64_t count, size_t elem, int64_t cap, const char *what)
{
    int64_t bytes;
    *p = NULL;
    if (!dsc_mul_ok(count, (int64_t)elem, &bytes) || bytes > dsc_data_cap(cap))
        return DSC_ERROR(DSC_ERR_NOMEM, "%s: %lld elements of %zu bytes exceed the size limit of %lld bytes", what,
                         (long long)count, elem, (long long)dsc_data_cap(cap));
    if ((uint64_t)bytes > (uint64_t)SIZE_MAX)
        return DSC_ERROR(DSC_ERR_NOMEM, "%s: %lld bytes do not fit in memory", what, (long long)bytes);
    *p = calloc(bytes ? (size_t)bytes : 1, 1);
    if (!*p)
        return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory allocating %lld bytes", what, (long long)bytes);
    return DSC_OK;
}

dsc_status dsc_data_alloc_labels(dsc_dataset *ds, int64_t cap)
{
    void *p;
    DSC_TRY(dsc_data_alloc(&p, ds->n, dsc_dtype_size(ds->dtype), cap, ds->name));
    if (ds->dtype == DSC_DATA_F64)
        ds->y64 = p;
    else
        ds->y = p;
    return DSC_OK;
}

dsc_status dsc_data_alloc_dense(dsc_dataset *ds, int64_t n, int64_t d, int with_labels, int64_t cap)
{
    int64_t nd;
    if (n < 0 || d < 0 || !dsc_mul_ok(n, d, &nd))
        return DSC_ERROR(DSC_ERR_NOMEM, "%s: %lld x %lld features overflow", ds->name, (long long)n, (long long)d);
    ds->n = n;
    ds->d = d;
    ds->feat_ndim = 1;
    ds->feat_shape[0] = d;
    ds->sparse = 0;
    void *p;
    DSC_TRY(dsc_data_alloc(&p, nd, dsc_dtype_size(ds->dtype), cap, ds->name));
    if (ds->dtype == DSC_DATA_F64)
        ds->x64 = p;
    else
        ds->x = p;
    if (with_labels)
        DSC_TRY(dsc_data_alloc_labels(ds, cap));
    return DSC_OK;
}

static void free_strs(char **s, int64_t n)
{
    if (!s)
        return;
    for (int64_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

void dsc_dataset_free(dsc_dataset *ds)
{
    if (!ds)
        return;
    free(ds->x);
    free(ds->x64);
    free(ds->row_ptr);
    free(ds->col_idx);
    free(ds->val);
    free(ds->val64);
    free(ds->y);
    free(ds->y64);
    free_strs(ds->feature_names, ds->d);
    free_strs(ds->class_names, ds->num_classes);
    free(ds->class_values);
    memset(ds, 0, sizeof *ds);
}

void dsc_data_set_name(dsc_dataset *ds, const char *name)
{
    size_t n = strlen(name);
    if (n >= sizeof ds->name)
        n = sizeof ds->name - 1;
    memcpy(ds->name, name, n);
    ds->name[n] = '\0';
}

const char *dsc_data_basename(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

dsc_status dsc_gbuf_reserve(dsc_gbuf *b, size_t extra, int64_t cap, const char *what)
{
    if (extra > SIZE_MAX - b->len || (int64_t)(b->len + extra) > dsc_data_cap(cap))
        return DSC_ERROR(DSC_ERR_NOMEM, "%s: data exceed the size limit of %lld bytes", what,
                         (long long)dsc_data_cap(cap));
    size_t need = b->len + extra;
    if (need <= b->cap)
        return DSC_OK;
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < need)
        nc = nc > SIZE_MAX / 2 ? need : nc * 2;
    unsigned char *p = realloc(b->p, nc);
    if (!p)
        return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory (%zu bytes)", what, nc);
    b->p = p;
    b->cap = nc;
    return DSC_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

dsc_status dsc_data_set_labels(dsc_dataset *ds, const double *raw, dsc_data_task task, int identity_ok,
                               const char *name)
{
    int64_t n = ds->n;
    DSC_TRY(dsc_data_alloc_labels(ds, 0));
    int integral = 1;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(raw[i]))
            return DSC_ERROR(DSC_ERR_FORMAT, "%s: label of example %lld is not finite", name, (long long)i + 1);
        if (raw[i] != floor(raw[i]) || fabs(raw[i]) > 1e9)
            integral = 0;
    }
    if (task == DSC_TASK_CLASSIFICATION && !integral)
        return DSC_ERROR(DSC_ERR_FORMAT, "%s: classification needs integral labels, but some are not", name);
    if (task == DSC_TASK_REGRESSION || !integral || n == 0) {
        ds->num_classes = 0;
        for (int64_t i = 0; i < n; i++)
            dsc_data_sety(ds, i, raw[i]);
        return DSC_OK;
    }
    /* Distinct sorted values. */
    double *u;
    DSC_TRY(dsc_data_alloc((void **)&u, n, sizeof(double), 0, name));
    memcpy(u, raw, (size_t)n * sizeof(double));
    qsort(u, (size_t)n, sizeof(double), cmp_double);
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (k == 0 || u[i] != u[k - 1])
            u[k++] = u[i];
    int64_t limit = task == DSC_TASK_CLASSIFICATION ? 1000000 : DSC_DATA_MAX_AUTO_CLASSES;
    if (identity_ok && u[0] >= 0 && u[k - 1] < (double)limit) {
        ds->num_classes = (int64_t)u[k - 1] + 1;
        for (int64_t i = 0; i < n; i++)
            dsc_data_sety(ds, i, raw[i]);
        free(u);
        return DSC_OK;
    }
    if (k > limit) {
        free(u);
        if (task == DSC_TASK_CLASSIFICATION)
            return DSC_ERROR(DSC_ERR_RANGE, "%s: %lld distinct labels are too many classes", name, (long long)k);
        ds->num_classes = 0; /* many distinct integers: regression targets */
        for (int64_t i = 0; i < n; i++)
            dsc_data_sety(ds, i, raw[i]);
        return DSC_OK;
    }
    ds->num_classes = k;
    ds->class_values = malloc((size_t)k * sizeof(double));
    if (!ds->class_values) {
        free(u);
        return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory", name);
    }
    memcpy(ds->class_values, u, (size_t)k * sizeof(double));
    for (int64_t i = 0; i < n; i++) {
        double *hit = bsearch(&raw[i], u, (size_t)k, sizeof(double), cmp_double);
        dsc_data_sety(ds, i, (double)(hit - u));
    }
    free(u);
    return DSC_OK;
}

/* ---- conversions ---- */

static dsc_status convert_array(void **p32, void **p64, int64_t count, dsc_data_dtype to, const char *what)
{
    if (to == DSC_DATA_F64 && *p32) {
        double *d;
        DSC_TRY(dsc_data_alloc((void **)&d, count, 8, 0, what));
        const float *s = *p32;
        for (int64_t i = 0; i < count; i++)
            d[i] = s[i];
        free(*p32);
        *p32 = NULL;
        *p64 = d;
    } else if (to == DSC_DATA_F32 && *p64) {
        float *f;
        DSC_TRY(dsc_data_alloc((void **)&f, count, 4, 0, what));
        const double *s = *p64;
        for (int64_t i = 0; i < count; i++)
            f[i] = (float)s[i];
        free(*p64);
        *p64 = NULL;
        *p32 = f;
    }
    return DSC_OK;
}

dsc_status dsc_dataset_to_dtype(dsc_dataset *ds, dsc_data_dtype dtype)
{
    if (ds->dtype == dtype)
        return DSC_OK;
    DSC_TRY(convert_array((void **)&ds->x, (void **)&ds->x64, ds->sparse ? 0 : ds->n * ds->d, dtype, ds->name));
    DSC_TRY(convert_array((void **)&ds->val, (void **)&ds->val64, ds->sparse ? ds->nnz : 0, dtype, ds->name));
    DSC_TRY(convert_array((void **)&ds->y, (void **)&ds->y64, ds->n, dtype, ds->name));
    ds->dtype = dtype;
    return DSC_OK;
}

dsc_status dsc_dataset_densify(dsc_dataset *ds, int64_t max_bytes)
{
    if (!ds->sparse)
        return DSC_OK;
    int64_t nd;
    if (!dsc_mul_ok(ds->n, ds->d, &nd))
        return DSC_ERROR(DSC_ERR_NOMEM, "%s: %lld x %lld dense features overflow", ds->name, (long long)ds->n,
                         (long long)ds->d);
    void *p;
    DSC_TRY(dsc_data_alloc(&p, nd, dsc_dtype_size(ds->dtype), max_bytes, ds->name));
    for (int64_t i = 0; i < ds->n; i++)
        for (int64_t k = ds->row_ptr[i]; k < ds->row_ptr[i + 1]; k++) {
            if (ds->dtype == DSC_DATA_F64)
                ((double *)p)[i * ds->d + ds->col_idx[k]] = ds->val64[k];
            else
                ((float *)p)[i * ds->d + ds->col_idx[k]] = ds->val[k];
        }
    if (ds->dtype == DSC_DATA_F64)
        ds->x64 = p;
    else
        ds->x = p;
    free(ds->row_ptr);
    free(ds->col_idx);
    free(ds->val);
    free(ds->val64);
    ds->row_ptr = NULL;
    ds->col_idx = NULL;
    ds->val = NULL;
    ds->val64 = NULL;
    ds->nnz = 0;
    ds->sparse = 0;
    return DSC_OK;
}

dsc_status dsc_dataset_sparsify(dsc_dataset *ds)
{
    if (ds->sparse)
        return DSC_OK;
    if (ds->d > INT32_MAX)
        return DSC_ERROR(DSC_ERR_RANGE, "%s: %lld features do not fit 32-bit CSR column indices", ds->name,
                         (long long)ds->d);
    int f64 = ds->dtype == DSC_DATA_F64;
    int64_t nnz = 0;
    for (int64_t k = 0; k < ds->n * ds->d; k++)
        nnz += f64 ? ds->x64[k] != 0 : ds->x[k] != 0;
    int64_t *rp;
    int32_t *ci;
    void *v;
    DSC_TRY(dsc_data_alloc((void **)&rp, ds->n + 1, sizeof(int64_t), 0, ds->name));
    dsc_status st = dsc_data_alloc((void **)&ci, nnz, sizeof(int32_t), 0, ds->name);
    if (st != DSC_OK) {
        free(rp);
        return st;
    }
    st = dsc_data_alloc(&v, nnz, dsc_dtype_size(ds->dtype), 0, ds->name);
    if (st != DSC_OK) {
        free(rp);
        free(ci);
        return st;
    }
    int64_t k = 0;
    for (int64_t i = 0; i < ds->n; i++) {
        rp[i] = k;
        for (int64_t j = 0; j < ds->d; j++) {
            double x = f64 ? ds->x64[i * ds->d + j] : ds->x[i * ds->d + j];
            if (x != 0) {
                ci[k] = (int32_t)j;
                if (f64)
                    ((double *)v)[k] = x;
                else
                    ((float *)v)[k] = (float)x;
                k++;
            }
        }
    }
    rp[ds->n] = k;
    free(ds->x);
    free(ds->x64);
    ds->x = NULL;
    ds->x64 = NULL;
    ds->row_ptr = rp;
    ds->col_idx = ci;
    if (f64)
        ds->val64 = v;
    else
        ds->val = v;
    ds->nnz = nnz;
    ds->sparse = 1;
    return DSC_OK;
}

dsc_status dsc_dataset_to_layout(dsc_dataset *ds, dsc_data_layout layout, int64_t max_bytes)
{
    if (layout == DSC_LAYOUT_DENSE)
        return dsc_dataset_densify(ds, max_bytes);
    if (layout == DSC_LAYOUT_CSR)
        return dsc_dataset_sparsify(ds);
    return DSC_OK;
}

static dsc_status dup_mem(void **dst, const void *src, int64_t count, size_t elem, const char *what)
{
    *dst = NULL;
    if (!src)
        return DSC_OK;
    DSC_TRY(dsc_data_alloc(dst, count, elem, INT64_MAX, what));
    if (count)
        memcpy(*dst, src, (size_t)count * elem);
    return DSC_OK;
}

static dsc_status dup_strs(char ***dst, char *const *src, int64_t n, const char *what)
{
    *dst = NULL;
    if (!src)
        return DSC_OK;
    DSC_TRY(dsc_data_alloc((void **)dst, n, sizeof(char *), INT64_MAX, what));
    for (int64_t i = 0; i < n; i++) {
        size_t l = strlen(src[i]) + 1;
        (*dst)[i] = malloc(l);
        if (!(*dst)[i])
            return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory", what);
        memcpy((*dst)[i], src[i], l);
    }
    return DSC_OK;
}

dsc_status dsc_dataset_copy(const dsc_dataset *s, dsc_dataset *d)
{
    *d = *s;
    d->x = NULL;
    d->x64 = NULL;
    d->row_ptr = NULL;
    d->col_idx = NULL;
    d->val = NULL;
    d->val64 = NULL;
    d->y = NULL;
    d->y64 = NULL;
    d->feature_names = NULL;
    d->class_names = NULL;
    d->class_values = NULL;
    int64_t nd = s->sparse ? 0 : s->n * s->d;
    dsc_status st = DSC_OK;
    if (st == DSC_OK) st = dup_mem((void **)&d->x, s->x, nd, 4, s->name);
    if (st == DSC_OK) st = dup_mem((void **)&d->x64, s->x64, nd, 8, s->name);
    if (st == DSC_OK) st = dup_mem((void **)&d->row_ptr, s->row_ptr, s->n + 1, 8, s->name);
    if (st == DSC_OK) st = dup_mem((void **)&d->col_idx, s->col_idx, s->nnz, 4, s->name);
    if (st == DSC_OK) st = dup_mem((void **)&d->val, s->val, s->nnz, 4, s->name);
    if (st == DSC_OK) st = dup_mem((void **)&d->val64, s->val64, s->nnz, 8, s->name);
    if (st == DSC_OK) st = dup_mem((void **)&d->y, s->y, s->n, 4, s->name);
    if (st == DSC_OK) st = dup_mem((void **)&d->y64, s->y64, s->n, 8, s->name);
    if (st == DSC_OK) st = dup_mem((void **)&d->class_values, s->class_values, s->num_classes, 8, s->name);
    if (st == DSC_OK) st = dup_strs(&d->feature_names, s->feature_names, s->d, s->name);
    if (st == DSC_OK) st = dup_strs(&d->class_names, s->class_names, s->num_classes, s->name);
    if (st != DSC_OK)
        dsc_dataset_free(d);
    return st;
}

double dsc_dataset_label(const dsc_dataset *ds, int64_t i)
{
    if (i < 0 || i >= ds->n)
        return NAN;
    if (ds->y64)
        return ds->y64[i];
    return ds->y ? ds->y[i] : NAN;
}

double dsc_dataset_value(const dsc_dataset *ds, int64_t i, int64_t j)
{
    if (i < 0 || i >= ds->n || j < 0 || j >= ds->d)
        return NAN;
    if (!ds->sparse)
        return ds->x64 ? ds->x64[i * ds->d + j] : ds->x[i * ds->d + j];
    int64_t lo = ds->row_ptr[i], hi = ds->row_ptr[i + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (ds->col_idx[mid] < j)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < ds->row_ptr[i + 1] && ds->col_idx[lo] == j)
        return ds->val64 ? ds->val64[lo] : ds->val[lo];
    return 0.0;
}

dsc_status dsc_dataset_labels_pm1(const dsc_dataset *ds, double *out)
{
    if (ds->num_classes != 2 || (!ds->y && !ds->y64))
        return DSC_ERROR(DSC_ERR_INVALID, "%s: ±1 labels need a two-class data set (it has %lld classes)", ds->name,
                         (long long)ds->num_classes);
    for (int64_t i = 0; i < ds->n; i++)
        out[i] = dsc_dataset_label(ds, i) == 0 ? -1.0 : 1.0;
    return DSC_OK;
}

dsc_status dsc_dataset_class_counts(const dsc_dataset *ds, int64_t *counts)
{
    if (ds->num_classes <= 0 || (!ds->y && !ds->y64))
        return DSC_ERROR(DSC_ERR_INVALID, "%s: class counts of a regression data set", ds->name);
    memset(counts, 0, (size_t)ds->num_classes * sizeof *counts);
    for (int64_t i = 0; i < ds->n; i++) {
        double c = dsc_dataset_label(ds, i);
        if (c >= 0 && c < (double)ds->num_classes)
            counts[(int64_t)c]++;
    }
    return DSC_OK;
}
