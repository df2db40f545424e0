/* Row subsets, seeded splits and standardization of data sets. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_internal.h"

dsc_status dsc_dataset_subset(const dsc_dataset *src, const int64_t *idx, int64_t k, dsc_dataset *out)
{
    memset(out, 0, sizeof *out);
    for (int64_t r = 0; r < k; r++)
        if (idx[r] < 0 || idx[r] >= src->n)
            return DSC_ERROR(DSC_ERR_RANGE, "%s: subset index %lld is out of range [0, %lld)", src->name,
                             (long long)idx[r], (long long)src->n);
    /* Copy the metadata (names, classes) through a copy of an empty-row view. */
    dsc_dataset meta = *src;
    meta.n = 0;
    meta.nnz = 0;
    meta.x = NULL;
    meta.x64 = NULL;
    meta.y = NULL;
    meta.y64 = NULL;
    meta.row_ptr = NULL;
    meta.col_idx = NULL;
    meta.val = NULL;
    meta.val64 = NULL;
    DSC_TRY(dsc_dataset_copy(&meta, out));
    out->n = k;
    int f64 = src->dtype == DSC_DATA_F64;
    size_t es = dsc_dtype_size(src->dtype);
    dsc_status st = DSC_OK;
    if (src->y || src->y64) {
        st = dsc_data_alloc_labels(out, 0);
        for (int64_t r = 0; st == DSC_OK && r < k; r++)
            dsc_data_sety(out, r, dsc_dataset_label(src, idx[r]));
    }
    if (st == DSC_OK && !src->sparse) {
        void *p = NULL;
        st = dsc_data_alloc(&p, k * src->d, es, 0, src->name);
        for (int64_t r = 0; st == DSC_OK && r < k; r++) {
            const char *from = (const char *)(f64 ? (void *)src->x64 : (void *)src->x) + (size_t)(idx[r] * src->d) * es;
            memcpy((char *)p + (size_t)(r * src->d) * es, from, (size_t)src->d * es);
        }
        if (f64)
            out->x64 = p;
        else
            out->x = p;
    } else if (st == DSC_OK) {
        int64_t nnz = 0;
        for (int64_t r = 0; r < k; r++)
            nnz += src->row_ptr[idx[r] + 1] - src->row_ptr[idx[r]];
        void *v = NULL;
        st = dsc_data_alloc((void **)&out->row_ptr, k + 1, sizeof(int64_t), 0, src->name);
        if (st == DSC_OK)
            st = dsc_data_alloc((void **)&out->col_idx, nnz, sizeof(int32_t), 0, src->name);
        if (st == DSC_OK)
            st = dsc_data_alloc(&v, nnz, es, 0, src->name);
        if (f64)
            out->val64 = v;
        else
            out->val = v;
        int64_t q = 0;
        for (int64_t r = 0; st == DSC_OK && r < k; r++) {
            out->row_ptr[r] = q;
            int64_t a = src->row_ptr[idx[r]], m = src->row_ptr[idx[r] + 1] - a;
            memcpy(out->col_idx + q, src->col_idx + a, (size_t)m * sizeof(int32_t));
            memcpy((char *)v + (size_t)q * es, (const char *)(f64 ? (void *)src->val64 : (void *)src->val) + (size_t)a * es,
                   (size_t)m * es);
            q += m;
        }
        if (st == DSC_OK)
            out->row_ptr[k] = q;
        out->nnz = nnz;
    }
    if (st != DSC_OK)
        dsc_dataset_free(out);
    return st;
}

dsc_status dsc_dataset_split(const dsc_dataset *src, double frac, uint64_t seed, dsc_dataset *a, dsc_dataset *b)
{
    memset(a, 0, sizeof *a);
    memset(b, 0, sizeof *b);
    if (!(frac >= 0 && frac <= 1))
        return DSC_ERROR(DSC_ERR_RANGE, "%s: split fraction %g is not in [0, 1]", src->name, frac);
    int64_t *perm;
    DSC_TRY(dsc_data_alloc((void **)&perm, src->n, sizeof(int64_t), 0, src->name));
    dsc_rng r = dsc_rng_seed(seed);
    dsc_rng_permutation(&r, perm, src->n);
    int64_t nb = (int64_t)llround(frac * (double)src->n), na = src->n - nb;
    dsc_status st = dsc_dataset_subset(src, perm, na, a);
    if (st == DSC_OK)
        st = dsc_dataset_subset(src, perm + na, nb, b);
    if (st != DSC_OK) {
        dsc_dataset_free(a);
        dsc_dataset_free(b);
    }
    free(perm);
    return st;
}

dsc_status dsc_dataset_apply_standardize(dsc_dataset *ds, const double *mean, const double *sd)
{
    int f64 = ds->dtype == DSC_DATA_F64;
    if (ds->sparse) {
        for (int64_t k = 0; k < ds->nnz; k++) {
            int64_t j = ds->col_idx[k];
            double s = sd[j] > 0 ? sd[j] : 1.0;
            if (f64)
                ds->val64[k] /= s;
            else
                ds->val[k] = (float)(ds->val[k] / s);
        }
        return DSC_OK;
    }
    for (int64_t i = 0; i < ds->n; i++)
        for (int64_t j = 0; j < ds->d; j++) {
            double s = sd[j] > 0 ? sd[j] : 1.0;
            int64_t k = i * ds->d + j;
            if (f64)
                ds->x64[k] = (ds->x64[k] - mean[j]) / s;
            else
                ds->x[k] = (float)((ds->x[k] - mean[j]) / s);
        }
    return DSC_OK;
}

dsc_status dsc_dataset_standardize(dsc_dataset *ds, double *mean_out, double *std_out)
{
    double *mean, *m2;
    DSC_TRY(dsc_data_alloc((void **)&mean, ds->d, sizeof(double), 0, ds->name));
    dsc_status st = dsc_data_alloc((void **)&m2, ds->d, sizeof(double), 0, ds->name);
    if (st != DSC_OK) {
        free(mean);
        return st;
    }
    /* Two passes in double: mean, then the mean squared deviation (sparse: second moment about 0,
     * since the data are only scaled). */
    double inv = ds->n > 0 ? 1.0 / (double)ds->n : 0;
    if (ds->sparse) {
        for (int64_t k = 0; k < ds->nnz; k++) {
            double v = ds->val64 ? ds->val64[k] : ds->val[k];
            m2[ds->col_idx[k]] += v * v;
        }
    } else {
        for (int64_t i = 0; i < ds->n; i++)
            for (int64_t j = 0; j < ds->d; j++)
                mean[j] += ds->x64 ? ds->x64[i * ds->d + j] : ds->x[i * ds->d + j];
        for (int64_t j = 0; j < ds->d; j++)
            mean[j] *= inv;
        for (int64_t i = 0; i < ds->n; i++)
            for (int64_t j = 0; j < ds->d; j++) {
                double v = (ds->x64 ? ds->x64[i * ds->d + j] : ds->x[i * ds->d + j]) - mean[j];
                m2[j] += v * v;
            }
    }
    for (int64_t j = 0; j < ds->d; j++)
        m2[j] = sqrt(m2[j] * inv);
    st = dsc_dataset_apply_standardize(ds, mean, m2);
    if (mean_out)
        memcpy(mean_out, mean, (size_t)ds->d * sizeof(double));
    if (std_out)
        memcpy(std_out, m2, (size_t)ds->d * sizeof(double));
    free(mean);
    free(m2);
    return st;
}
