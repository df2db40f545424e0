/* Seeded synthetic data sets. Every generator is a pure function of its parameters and seed:
 * the model (w*, centers, teacher weights) comes from the sub-stream dsc_rng_fork(seed, 1), the
 * training examples from fork(seed, 2) and the test examples from fork(seed, 3), so split "test"
 * gives fresh examples of the same model. Parameters and formulas: docs/DATA.md, "Generators". */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_internal.h"

#define PI 3.14159265358979323846

enum { G_LINREG, G_LOGISTIC, G_BLOBS, G_SPIRALS, G_XOR, G_TEACHER, G_SPARSE, G_COUNT };
static const char *const gen_names[G_COUNT] = {"linreg", "logistic", "blobs", "spirals", "xor", "teacher", "sparse"};

int dsc_generator_find(const char *name)
{
    for (int i = 0; i < G_COUNT; i++)
        if (strcmp(gen_names[i], name) == 0)
            return i;
    return -1;
}

typedef struct gen_ctx {
    const dsc_kvspec *kv;
    const dsc_data_opts *o;
    dsc_dataset *ds;
    dsc_rng model, sample;
    int64_t n;
    const char *name;
} gen_ctx;

/* Every work array counts against the load's size cap (max_bytes). */
static double *dalloc(int64_t count, const gen_ctx *g, dsc_status *st)
{
    void *p = NULL;
    if (*st == DSC_OK)
        *st = dsc_data_alloc(&p, count, sizeof(double), g->o->max_bytes, g->name);
    return p;
}

/* Dot product with four fixed partial sums (vectorizable; the order is fixed, so results are
 * deterministic). */
static double dot(const double *a, const double *b, int64_t n)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++)
        s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

/* n standard normals in double precision, four per Philox block (Box-Muller on two pairs of 32-bit
 * draws: u1 = (a + 1) 2^-32 in (0, 1], u2 = b 2^-32; z = sqrt(-2 ln u1) (cos 2πu2, sin 2πu2)).
 * Advances the counter by ceil(n/4) blocks. */
static void normals(dsc_rng *r, double *out, int64_t n)
{
    int64_t blocks = (n + 3) / 4;
    for (int64_t b = 0; b < blocks; b++) {
        uint32_t o[4];
        dsc_philox4x32(r->key, r->counter + (uint64_t)b, 0, o);
        for (int h = 0; h < 2; h++) {
            double u1 = ((double)o[2 * h] + 1.0) * (1.0 / 4294967296.0);
            double u2 = (double)o[2 * h + 1] * (1.0 / 4294967296.0);
            double rad = sqrt(-2.0 * log(u1));
            int64_t i = 4 * b + 2 * h;
            if (i < n)
                out[i] = rad * cos(2 * PI * u2);
            if (i + 1 < n)
                out[i + 1] = rad * sin(2 * PI * u2);
        }
    }
    r->counter += (uint64_t)blocks;
}



/* Random sparse row: sorted distinct columns in [0, d), about density*d of them (at least 1). */
static int64_t sparse_row(dsc_rng *r, int64_t d, double density, int32_t *cols)
{
    int64_t m = (int64_t)llround(density * (double)d);
    if (m < 1)
        m = 1;
    if (m > d)
        m = d;
    if ((double)m * (double)m > (double)d * 4) {
        /* Dense-ish rows: one Bernoulli(density) per column. */
        int64_t k = 0;
        for (int64_t j = 0; j < d; j++)
            if (dsc_rng_uniform01(r) < density)
                cols[k++] = (int32_t)j;
        if (k == 0)
            cols[k++] = (int32_t)dsc_rng_below(r, (uint64_t)d);
        return k;
    }
    /* Floyd's algorithm for m distinct values, then insertion sort (m is small here). */
    int64_t k = 0;
    for (int64_t j = d - m; j < d; j++) {
        int32_t t = (int32_t)dsc_rng_below(r, (uint64_t)j + 1);
        for (int64_t q = 0; q < k; q++)
            if (cols[q] == t) {
                t = (int32_t)j;
                break;
            }
        cols[k++] = t;
    }
    for (int64_t a = 1; a < k; a++) {
        int32_t v = cols[a];
        int64_t b = a - 1;
        while (b >= 0 && cols[b] > v) {
            cols[b + 1] = cols[b];
            b--;
        }
        cols[b + 1] = v;
    }
    return k;
}

/* Random linear-model design: dense N(0,1) rows, or CSR rows with N(0,1) values when density < 1.
 * score[i] = x_i . w. */
static dsc_status linear_design(gen_ctx *g, int64_t d, double density, const double *w, double *score)
{
    dsc_dataset *ds = g->ds;
    dsc_status st = DSC_OK;
    if (density >= 1.0) {
        DSC_TRY(dsc_data_alloc_dense(ds, g->n, d, 1, g->o->max_bytes));
        double *row = dalloc(d, g, &st);
        for (int64_t i = 0; st == DSC_OK && i < g->n; i++) {
            normals(&g->sample, row, d);
            for (int64_t j = 0; j < d; j++)
                dsc_data_setx(ds, i * d + j, row[j]);
            score[i] = dot(row, w, d);
        }
        free(row);
        return st;
    }
    if (d > INT32_MAX)
        return DSC_ERROR(DSC_ERR_RANGE, "%s: d=%lld is too large for a sparse design", g->name, (long long)d);
    ds->n = g->n;
    ds->d = d;
    ds->feat_ndim = 1;
    ds->feat_shape[0] = d;
    ds->sparse = 1;
    DSC_TRY(dsc_data_alloc_labels(ds, g->o->max_bytes));
    DSC_TRY(dsc_data_alloc((void **)&ds->row_ptr, g->n + 1, sizeof(int64_t), g->o->max_bytes, g->name));
    int32_t *cols;
    DSC_TRY(dsc_data_alloc((void **)&cols, d, sizeof(int32_t), g->o->max_bytes, g->name));
    dsc_gbuf C = {0}, V = {0};
    int f64 = ds->dtype == DSC_DATA_F64;
    size_t es = f64 ? 8 : 4;
    for (int64_t i = 0; i < g->n && st == DSC_OK; i++) {
        ds->row_ptr[i] = ds->nnz;
        int64_t k = sparse_row(&g->sample, d, density, cols);
        st = dsc_gbuf_reserve(&C, (size_t)k * 4, g->o->max_bytes, g->name);
        if (st == DSC_OK)
            st = dsc_gbuf_reserve(&V, (size_t)k * es, g->o->max_bytes, g->name);
        if (st != DSC_OK)
            break;
        double s = 0;
        for (int64_t q = 0; q < k; q++) {
            double x = dsc_rng_normal(&g->sample);
            s += x * w[cols[q]];
            memcpy(C.p + C.len, &cols[q], 4);
            C.len += 4;
            if (f64) {
                memcpy(V.p + V.len, &x, 8);
            } else {
                float f = (float)x;
                memcpy(V.p + V.len, &f, 4);
            }
            V.len += es;
        }
        ds->nnz += k;
        score[i] = s;
    }
    ds->row_ptr[g->n] = ds->nnz;
    free(cols);
    ds->col_idx = C.p ? (int32_t *)(void *)C.p : malloc(4);
    void *v = V.p ? (void *)V.p : malloc(8);
    if (f64)
        ds->val64 = v;
    else
        ds->val = v;
    if (st == DSC_OK && (!ds->col_idx || !v))
        st = DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory", g->name);
    return st;
}

/* Modified Gram-Schmidt, twice ("twice is enough", Giraud et al. 2005): orthonormal columns of the
 * column-major m×k matrix a (m >= k). Returns 0 if a column is (numerically) dependent. */
static int orthonormalize(double *a, int64_t m, int64_t k)
{
    for (int pass = 0; pass < 2; pass++)
        for (int64_t j = 0; j < k; j++) {
            double *aj = a + j * m;
            for (int64_t q = 0; q < j; q++) {
                const double *aq = a + q * m;
                double dot = 0;
                for (int64_t i = 0; i < m; i++)
                    dot += aq[i] * aj[i];
                for (int64_t i = 0; i < m; i++)
                    aj[i] -= dot * aq[i];
            }
            double nrm = 0;
            for (int64_t i = 0; i < m; i++)
                nrm += aj[i] * aj[i];
            nrm = sqrt(nrm);
            if (!(nrm > 1e-300))
                return 0;
            for (int64_t i = 0; i < m; i++)
                aj[i] /= nrm;
        }
    return 1;
}

static dsc_status gen_linreg(gen_ctx *g)
{
    int64_t d;
    double noise, cond = 0;
    DSC_TRY(dsc_kvspec_int(g->kv, "d", 10, 1, 10000000, &d));
    DSC_TRY(dsc_kvspec_double(g->kv, "noise", 0.1, 0, 1e6, &noise));
    int has_cond = dsc_kvspec_has(g->kv, "cond");
    DSC_TRY(dsc_kvspec_double(g->kv, "cond", 1, 1, 1e12, &cond));
    dsc_status st = DSC_OK;
    double *w = dalloc(d, g, &st);
    double *score = dalloc(g->n, g, &st);
    if (st == DSC_OK)
        for (int64_t j = 0; j < d; j++)
            w[j] = dsc_rng_normal(&g->model);
    if (st == DSC_OK && !has_cond) {
        st = linear_design(g, d, 1.0, w, score);
    } else if (st == DSC_OK) {
        /* X = sqrt(n) Q diag(s) V^T with Q (n×d) and V (d×d) orthonormal and s_j = cond^(-j/(d-1)):
         * the singular values of X are sqrt(n) s_j, so cond(X) = cond exactly (up to the storage
         * precision) and X^T X / n = V diag(s^2) V^T has eigenvalues in [1/cond^2, 1]. */
        if (g->n < d)
            st = DSC_ERROR(DSC_ERR_INVALID, "linreg: cond= needs n >= d (n=%lld, d=%lld)", (long long)g->n, (long long)d);
        else if (d > 4096 || (double)g->n * (double)d * (double)d > 4e10)
            st = DSC_ERROR(DSC_ERR_RANGE, "linreg: cond= with n=%lld, d=%lld is too costly (needs n*d^2 <= 4e10, d <= 4096)",
                           (long long)g->n, (long long)d);
        double *Q = dalloc(g->n * d, g, &st), *V = dalloc(d * d, g, &st), *s = dalloc(d, g, &st);
        if (st == DSC_OK) {
            for (int64_t k = 0; k < d * d; k++)
                V[k] = dsc_rng_normal(&g->model);
            normals(&g->sample, Q, g->n * d);
            if (!orthonormalize(V, d, d) || !orthonormalize(Q, g->n, d))
                st = DSC_ERROR(DSC_ERR_NUMERIC, "linreg: random basis was singular (try another seed)");
            for (int64_t j = 0; j < d; j++)
                s[j] = d > 1 ? pow(cond, -(double)j / (double)(d - 1)) : 1.0;
        }
        if (st == DSC_OK)
            st = dsc_data_alloc_dense(g->ds, g->n, d, 1, g->o->max_bytes);
        double *row = dalloc(d, g, &st);
        double sn = sqrt((double)g->n);
        for (int64_t i = 0; st == DSC_OK && i < g->n; i++) {
            /* row = sqrt(n) * sum_j Q[i, j] s_j V[:, j] (Q, V column-major). */
            for (int64_t c = 0; c < d; c++)
                row[c] = 0;
            for (int64_t j = 0; j < d; j++) {
                double a = sn * Q[j * g->n + i] * s[j];
                const double *vj = V + j * d;
                for (int64_t c = 0; c < d; c++)
                    row[c] += a * vj[c];
            }
            double sc = 0;
            for (int64_t c = 0; c < d; c++) {
                dsc_data_setx(g->ds, i * d + c, row[c]);
                sc += row[c] * w[c];
            }
            score[i] = sc;
        }
        free(Q);
        free(V);
        free(s);
        free(row);
    }
    for (int64_t i = 0; st == DSC_OK && i < g->n; i++)
        dsc_data_sety(g->ds, i, score[i] + noise * dsc_rng_normal(&g->sample));
    free(w);
    free(score);
    return st;
}

static dsc_status gen_logistic(gen_ctx *g)
{
    int64_t d;
    int separable;
    double scale, density;
    DSC_TRY(dsc_kvspec_int(g->kv, "d", 10, 1, 100000000, &d));
    DSC_TRY(dsc_kvspec_bool(g->kv, "separable", 0, &separable));
    DSC_TRY(dsc_kvspec_double(g->kv, "scale", 4, 0, 1e6, &scale));
    DSC_TRY(dsc_kvspec_double(g->kv, "density", 1, 1e-9, 1, &density));
    dsc_status st = DSC_OK;
    double *w = dalloc(d, g, &st), *score = dalloc(g->n, g, &st);
    /* w* ~ N(0, 1/m) with m the expected nonzeros per row, so that x.w* ~ N(0, 1). */
    double m = density >= 1 ? (double)d : fmax(1.0, density * (double)d);
    for (int64_t j = 0; st == DSC_OK && j < d; j++)
        w[j] = dsc_rng_normal(&g->model) / sqrt(m);
    if (st == DSC_OK)
        st = linear_design(g, d, density, w, score);
    for (int64_t i = 0; st == DSC_OK && i < g->n; i++) {
        double z = scale * score[i];
        int c = separable ? z > 0 : dsc_rng_uniform01(&g->sample) < 1.0 / (1.0 + exp(-z));
        dsc_data_sety(g->ds, i, c);
    }
    g->ds->num_classes = 2;
    free(w);
    free(score);
    return st;
}

static dsc_status gen_blobs(gen_ctx *g)
{
    int64_t d, k;
    double sd, box;
    DSC_TRY(dsc_kvspec_int(g->kv, "d", 2, 1, 1000000, &d));
    DSC_TRY(dsc_kvspec_int(g->kv, "classes", 3, 1, 100000, &k));
    DSC_TRY(dsc_kvspec_double(g->kv, "std", 1, 0, 1e6, &sd));
    DSC_TRY(dsc_kvspec_double(g->kv, "box", 10, 0, 1e9, &box));
    dsc_status st = DSC_OK;
    int64_t kd;
    if (!dsc_mul_ok(k, d, &kd))
        return DSC_ERROR(DSC_ERR_RANGE, "blobs: classes*d overflows");
    double *c = dalloc(kd, g, &st);
    for (int64_t q = 0; st == DSC_OK && q < kd; q++)
        c[q] = box * (2 * dsc_rng_uniform01(&g->model) - 1);
    if (st == DSC_OK)
        st = dsc_data_alloc_dense(g->ds, g->n, d, 1, g->o->max_bytes);
    for (int64_t i = 0; st == DSC_OK && i < g->n; i++) {
        int64_t cls = i % k; /* balanced: n/k examples per class (+1 for the first n mod k) */
        for (int64_t j = 0; j < d; j++)
            dsc_data_setx(g->ds, i * d + j, c[cls * d + j] + sd * dsc_rng_normal(&g->sample));
        dsc_data_sety(g->ds, i, (double)cls);
    }
    g->ds->num_classes = k;
    free(c);
    return st;
}

static dsc_status gen_spirals(gen_ctx *g)
{
    double noise, turns;
    DSC_TRY(dsc_kvspec_double(g->kv, "noise", 0.1, 0, 1e6, &noise));
    DSC_TRY(dsc_kvspec_double(g->kv, "turns", 1.5, 0.01, 100, &turns));
    DSC_TRY(dsc_data_alloc_dense(g->ds, g->n, 2, 1, g->o->max_bytes));
    for (int64_t i = 0; i < g->n; i++) {
        /* Class c = i mod 2; t ~ U[0.05, 1]: radius t, angle 2π·turns·t + πc. */
        int c = (int)(i % 2);
        double t = 0.05 + 0.95 * dsc_rng_uniform01(&g->sample);
        double a = 2 * PI * turns * t + PI * c;
        double x0 = t * cos(a) + noise * dsc_rng_normal(&g->sample);
        double x1 = t * sin(a) + noise * dsc_rng_normal(&g->sample);
        dsc_data_setx(g->ds, 2 * i, x0);
        dsc_data_setx(g->ds, 2 * i + 1, x1);
        dsc_data_sety(g->ds, i, c);
    }
    g->ds->num_classes = 2;
    return DSC_OK;
}

static dsc_status gen_xor(gen_ctx *g)
{
    int64_t d;
    double noise;
    DSC_TRY(dsc_kvspec_int(g->kv, "d", 2, 2, 1000000, &d));
    DSC_TRY(dsc_kvspec_double(g->kv, "noise", 0, 0, 1e6, &noise));
    DSC_TRY(dsc_data_alloc_dense(g->ds, g->n, d, 1, g->o->max_bytes));
    for (int64_t i = 0; i < g->n; i++) {
        int sign[2] = {0, 0};
        for (int64_t j = 0; j < d; j++) {
            double x = 2 * dsc_rng_uniform01(&g->sample) - 1;
            if (j < 2)
                sign[j] = x > 0;
            dsc_data_setx(g->ds, i * d + j, x + noise * dsc_rng_normal(&g->sample));
        }
        dsc_data_sety(g->ds, i, sign[0] ^ sign[1]);
    }
    g->ds->num_classes = 2;
    return DSC_OK;
}

static dsc_status gen_teacher(gen_ctx *g)
{
    int64_t d, h, depth, k;
    double noise;
    DSC_TRY(dsc_kvspec_int(g->kv, "d", 10, 1, 100000, &d));
    DSC_TRY(dsc_kvspec_int(g->kv, "hidden", 32, 1, 100000, &h));
    DSC_TRY(dsc_kvspec_int(g->kv, "depth", 1, 1, 16, &depth));
    DSC_TRY(dsc_kvspec_int(g->kv, "classes", 0, 0, 100000, &k));
    DSC_TRY(dsc_kvspec_double(g->kv, "noise", 0, 0, 1e6, &noise));
    if (k == 1)
        return DSC_ERROR(DSC_ERR_RANGE, "teacher: classes=1 (use 0 for regression or >= 2)");
    int64_t out = k ? k : 1;
    /* Teacher: h_1 = tanh(W_1 x), h_l = tanh(W_l h_{l-1}), f = W_out h_depth, with N(0, 1/fan_in)
     * weights (no biases). Regression: y = f + noise ε; classification: y = argmax(f + noise ε). */
    int64_t nw = h * d + (depth - 1) * h * h + out * h;
    if ((double)h * (double)d + (double)depth * (double)h * (double)h + (double)out * (double)h > 1e9)
        return DSC_ERROR(DSC_ERR_RANGE, "teacher: the network is too large");
    dsc_status st = DSC_OK;
    double *W = dalloc(nw, g, &st), *a = dalloc(h > d ? h : d, g, &st), *b = dalloc(h > out ? h : out, g, &st);
    if (st == DSC_OK) {
        double *p = W;
        for (int64_t q = 0; q < h * d; q++)
            *p++ = dsc_rng_normal(&g->model) / sqrt((double)d);
        for (int64_t q = 0; q < (depth - 1) * h * h + out * h; q++)
            *p++ = dsc_rng_normal(&g->model) / sqrt((double)h);
        st = dsc_data_alloc_dense(g->ds, g->n, d, 1, g->o->max_bytes);
    }
    for (int64_t i = 0; st == DSC_OK && i < g->n; i++) {
        normals(&g->sample, a, d);
        for (int64_t j = 0; j < d; j++)
            dsc_data_setx(g->ds, i * d + j, a[j]);
        const double *Wl = W;
        int64_t in = d;
        for (int64_t l = 0; l < depth; l++) {
            for (int64_t r = 0; r < h; r++)
                b[r] = tanh(dot(Wl + r * in, a, in));
            Wl += h * in;
            in = h;
            memcpy(a, b, (size_t)h * sizeof(double));
        }
        int64_t best = 0;
        double bestv = -INFINITY;
        for (int64_t r = 0; r < out; r++) {
            double s = dot(Wl + r * h, a, h) + noise * dsc_rng_normal(&g->sample);
            if (s > bestv) {
                bestv = s;
                best = r;
            }
        }
        dsc_data_sety(g->ds, i, k ? (double)best : bestv);
    }
    g->ds->num_classes = k;
    free(W);
    free(a);
    free(b);
    return st;
}

static dsc_status gen_sparse(gen_ctx *g)
{
    int64_t d, k;
    double noise, density;
    DSC_TRY(dsc_kvspec_int(g->kv, "d", 100, 1, 100000000, &d));
    DSC_TRY(dsc_kvspec_int(g->kv, "k", d < 10 ? d : 10, 0, d, &k));
    DSC_TRY(dsc_kvspec_double(g->kv, "noise", 0.1, 0, 1e6, &noise));
    DSC_TRY(dsc_kvspec_double(g->kv, "density", 1, 1e-9, 1, &density));
    dsc_status st = DSC_OK;
    double *w = dalloc(d, g, &st), *score = dalloc(g->n, g, &st);
    int32_t *sup = NULL;
    if (st == DSC_OK)
        st = dsc_data_alloc((void **)&sup, d, sizeof(int32_t), g->o->max_bytes, g->name);
    if (st == DSC_OK && k > 0) {
        /* w*: k nonzeros at random positions, values ±U[0.5, 1.5]. */
        int64_t m = k;
        if (d > INT32_MAX)
            st = DSC_ERROR(DSC_ERR_RANGE, "sparse: d too large");
        else {
            /* Partial Fisher-Yates over 0..d-1 through sup. */
            for (int64_t j = 0; j < d; j++)
                sup[j] = (int32_t)j;
            for (int64_t j = 0; j < m; j++) {
                int64_t r = j + (int64_t)dsc_rng_below(&g->model, (uint64_t)(d - j));
                int32_t t = sup[j];
                sup[j] = sup[r];
                sup[r] = t;
                double v = 0.5 + dsc_rng_uniform01(&g->model);
                w[sup[j]] = dsc_rng_u32(&g->model) & 1 ? v : -v;
            }
        }
    }
    free(sup);
    if (st == DSC_OK)
        st = linear_design(g, d, density, w, score);
    for (int64_t i = 0; st == DSC_OK && i < g->n; i++)
        dsc_data_sety(g->ds, i, score[i] + noise * dsc_rng_normal(&g->sample));
    free(w);
    free(score);
    return st;
}

static const char *const *gen_keys(int which)
{
    static const char *const k_linreg[] = {"n", "d", "noise", "cond", "seed", "n_test", NULL};
    static const char *const k_logistic[] = {"n", "d", "separable", "scale", "density", "seed", "n_test", NULL};
    static const char *const k_blobs[] = {"n", "d", "classes", "std", "box", "seed", "n_test", NULL};
    static const char *const k_spirals[] = {"n", "noise", "turns", "seed", "n_test", NULL};
    static const char *const k_xor[] = {"n", "d", "noise", "seed", "n_test", NULL};
    static const char *const k_teacher[] = {"n", "d", "hidden", "depth", "classes", "noise", "seed", "n_test", NULL};
    static const char *const k_sparse[] = {"n", "d", "k", "noise", "density", "seed", "n_test", NULL};
    static const char *const *const all[G_COUNT] = {k_linreg, k_logistic, k_blobs, k_spirals, k_xor, k_teacher, k_sparse};
    return all[which];
}

dsc_status dsc_generator_load(const dsc_kvspec *kv, const dsc_data_opts *o, dsc_dataset *ds)
{
    int which = dsc_generator_find(kv->name);
    DSC_TRY(dsc_kvspec_check(kv, gen_keys(which), 0));
    int64_t n, n_test, seed;
    DSC_TRY(dsc_kvspec_int(kv, "n", 1000, 1, 100000000, &n));
    DSC_TRY(dsc_kvspec_int(kv, "n_test", n, 1, 100000000, &n_test));
    DSC_TRY(dsc_kvspec_int(kv, "seed", (int64_t)o->seed, INT64_MIN, INT64_MAX, &seed));
    const char *split = o->split ? o->split : "train";
    int test;
    if (strcmp(split, "train") == 0)
        test = 0;
    else if (strcmp(split, "test") == 0)
        test = 1;
    else
        return DSC_ERROR(DSC_ERR_INVALID, "%s: unknown split '%s' (valid: train, test)", kv->name, split);
    dsc_rng root = dsc_rng_seed((uint64_t)seed);
    gen_ctx g = {kv, o, ds, dsc_rng_fork(&root, 1), dsc_rng_fork(&root, test ? 3 : 2), test ? n_test : n, kv->name};
    dsc_data_set_name(ds, kv->name);
    ds->dtype = o->dtype;
    switch (which) {
    case G_LINREG: return gen_linreg(&g);
    case G_LOGISTIC: return gen_logistic(&g);
    case G_BLOBS: return gen_blobs(&g);
    case G_SPIRALS: return gen_spirals(&g);
    case G_XOR: return gen_xor(&g);
    case G_TEACHER: return gen_teacher(&g);
    default: return gen_sparse(&g);
    }
}
