/* Gradient transforms (include/descent/transform.h; formulas and tests in
 * docs/ALGORITHMS.md). One source per kernel for float32 and float64 through the
 * DEFINE_KERNELS macro. Parallel loops only write independent elements; norms are summed in
 * float64 over chunks whose size depends on n only, then added in chunk order, so the result
 * is the same for any thread count. */
#include "descent/transform.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descent/rng.h"
#include "descent/spec.h"

#define MAX_CHUNKS 1024
#define MIN_CHUNK 16384

/* chunk length for n elements: at most MAX_CHUNKS chunks */
static size_t chunk_len(size_t n)
{
    size_t c = (n + MAX_CHUNKS - 1) / MAX_CHUNKS;
    return c < MIN_CHUNK ? MIN_CHUNK : c;
}

#define DEFINE_KERNELS(T, SUF)                                                                     \
    /* sum of squares (p = 2) or max |g| (p = inf) of g[0..n) */                                   \
    static double norm_##SUF(const T *g, size_t n, int inf)                                        \
    {                                                                                              \
        size_t c = chunk_len(n), nc = (n + c - 1) / c;                                             \
        double part[MAX_CHUNKS] = {0};                                                             \
        _Pragma("omp parallel for schedule(static) if (n > 32768)")                              \
        for (long long j = 0; j < (long long)nc; j++) {                                            \
            size_t a = (size_t)j * c, b = a + c < n ? a + c : n;                                   \
            double s = 0;                                                                          \
            if (inf) {                                                                             \
                for (size_t i = a; i < b; i++) {                                                   \
                    double v = fabs((double)g[i]);                                                 \
                    if (v > s || isnan(v))                                                         \
                        s = v;                                                                     \
                }                                                                                  \
            } else {                                                                               \
                for (size_t i = a; i < b; i++)                                                     \
                    s += (double)g[i] * (double)g[i];                                              \
            }                                                                                      \
            part[j] = s;                                                                           \
        }                                                                                          \
        double s = 0;                                                                              \
        for (size_t j = 0; j < nc; j++) {                                                          \
            if (inf)                                                                               \
                s = (part[j] > s || isnan(part[j])) ? part[j] : s;                                 \
            else                                                                                   \
                s += part[j];                                                                      \
        }                                                                                          \
        return inf ? s : sqrt(s);                                                                  \
    }                                                                                              \
    static void scale_##SUF(T *g, size_t n, T c)                                                   \
    {                                                                                              \
        _Pragma("omp parallel for schedule(static) if (n > 32768)")                              \
        for (long long i = 0; i < (long long)n; i++)                                               \
            g[i] *= c;                                                                             \
    }                                                                                              \
    static void clamp_##SUF(T *g, size_t n, T c)                                                   \
    {                                                                                              \
        _Pragma("omp parallel for schedule(static) if (n > 32768)")                              \
        for (long long i = 0; i < (long long)n; i++)                                               \
            g[i] = g[i] < -c ? -c : (g[i] > c ? c : g[i]);                                         \
    }                                                                                              \
    /* g += a * p */                                                                               \
    static void axpy_##SUF(T *g, const T *p, size_t n, T a)                                        \
    {                                                                                              \
        _Pragma("omp parallel for schedule(static) if (n > 32768)")                              \
        for (long long i = 0; i < (long long)n; i++)                                               \
            g[i] += a * p[i];                                                                      \
    }                                                                                              \
    /* g += s * z (noise) */                                                                       \
    static void addz_##SUF(T *g, const float *z, size_t n, double s)                               \
    {                                                                                              \
        for (size_t i = 0; i < n; i++)                                                             \
            g[i] += (T)(s * (double)z[i]);                                                         \
    }

DEFINE_KERNELS(float, f32)
DEFINE_KERNELS(double, f64)

static size_t esize(dsc_dtype d) { return d == DSC_FLOAT64 ? sizeof(double) : sizeof(float); }

double dsc_grad_norm(dsc_dtype dtype, const void *g, size_t n, double norm_type)
{
    int inf = isinf(norm_type);
    return dtype == DSC_FLOAT64 ? norm_f64(g, n, inf) : norm_f32(g, n, inf);
}

/* torch clip_grad_norm_ (1.13): clip_coef = max_norm / (total_norm + 1e-6) evaluated as torch
 * does it on a tensor, (total + 1e-6).reciprocal() * max_norm, in the gradient's dtype;
 * clamped to <= 1 and multiplied in (a multiplication by 1 changes nothing, so it is skipped). */
static double clip_coef(dsc_dtype dtype, double total, double max_norm)
{
    if (dtype == DSC_FLOAT32) {
        float t = (float)total + 1e-6f;
        float c = (1.0f / t) * (float)max_norm;
        return c < 1.0f ? c : 1.0;
    }
    double c = (1.0 / (total + 1e-6)) * max_norm;
    return c < 1.0 ? c : 1.0;
}

static void scale_any(dsc_dtype dtype, void *g, size_t n, double c)
{
    if (dtype == DSC_FLOAT64)
        scale_f64(g, n, c);
    else
        scale_f32(g, n, (float)c);
}

double dsc_clip_grad_norm(dsc_dtype dtype, void *g, size_t n, double max_norm, double norm_type, double *coef)
{
    double total = dsc_grad_norm(dtype, g, n, norm_type);
    if (dtype == DSC_FLOAT32)
        total = (float)total;
    double c = clip_coef(dtype, total, max_norm);
    if (c != 1.0)
        scale_any(dtype, g, n, c);
    if (coef)
        *coef = c;
    return total;
}

void dsc_clip_grad_value(dsc_dtype dtype, void *g, size_t n, double clip)
{
    if (dtype == DSC_FLOAT64)
        clamp_f64(g, n, clip);
    else
        clamp_f32(g, n, (float)clip);
}

double dsc_grad_noise_std(double eta, double gamma, int64_t step)
{
    return sqrt(eta / pow(1.0 + (double)step, gamma));
}

/* ------------------------------------------------------------------------------------------ */
/* Stages and chains                                                                            */

typedef enum stage_kind { ST_CLIP_NORM, ST_CLIP_GROUP_NORM, ST_CLIP_VALUE, ST_NOISE, ST_WEIGHT_DECAY, ST_CUSTOM } stage_kind;

typedef struct stage {
    stage_kind kind;
    char name[48];
    double max_norm, norm_type, clip, eta, gamma, wd;
    int error_if_nonfinite, decoupled;
    uint64_t seed;
    dsc_tx_fn fn;
    void *ctx;
} stage;

struct dsc_transform {
    stage *st;
    int n, cap;
};

const char *dsc_transform_names(void) { return "clip_norm, clip_group_norm, clip_value, noise, weight_decay"; }

dsc_status dsc_transform_new(const char *spec, dsc_transform **out)
{
    if (!out)
        return DSC_ERROR(DSC_ERR_INVALID, "dsc_transform_new: out is NULL");
    *out = calloc(1, sizeof **out);
    if (!*out)
        return DSC_ERROR(DSC_ERR_NOMEM, "transform: out of memory");
    if (!spec || !*spec)
        return DSC_OK;
    size_t len = strlen(spec);
    char *buf = malloc(len + 1);
    if (!buf) {
        dsc_transform_free(*out);
        *out = NULL;
        return DSC_ERROR(DSC_ERR_NOMEM, "transform: out of memory");
    }
    memcpy(buf, spec, len + 1);
    dsc_status st = DSC_OK;
    for (char *p = buf; st == DSC_OK;) {
        char *e = strchr(p, ';');
        if (e)
            *e = 0;
        st = dsc_transform_add(*out, p);
        if (!e)
            break;
        p = e + 1;
    }
    free(buf);
    if (st != DSC_OK) {
        dsc_transform_free(*out);
        *out = NULL;
    }
    return st;
}

void dsc_transform_free(dsc_transform *t)
{
    if (!t)
        return;
    free(t->st);
    free(t);
}

static stage *push(dsc_transform *t)
{
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 4;
        stage *s = realloc(t->st, (size_t)cap * sizeof *s);
        if (!s)
            return NULL;
        t->st = s;
        t->cap = cap;
    }
    stage *s = &t->st[t->n];
    memset(s, 0, sizeof *s);
    return s;
}

static dsc_status parse_norm_type(const dsc_kvspec *kv, double *out)
{
    const char *v = dsc_kvspec_find(kv, "norm_type");
    if (!v || !strcmp(v, "2") || !strcmp(v, "2.0")) {
        *out = 2;
        return DSC_OK;
    }
    if (!strcmp(v, "inf")) {
        *out = INFINITY;
        return DSC_OK;
    }
    return DSC_ERROR(DSC_ERR_INVALID, "%s: norm_type=%s is not supported (valid: 2, inf)", kv->name, v);
}

dsc_status dsc_transform_add(dsc_transform *t, const char *spec)
{
    static const char *const k_norm[] = {"max_norm", "norm_type", "error_if_nonfinite", NULL};
    static const char *const k_gnorm[] = {"max_norm", "norm_type", NULL};
    static const char *const k_value[] = {"clip", NULL};
    static const char *const k_noise[] = {"eta", "gamma", "seed", NULL};
    static const char *const k_wd[] = {"wd", "mode", NULL};
    static const char *const modes[] = {"coupled", "decoupled", NULL};
    if (!t || !spec)
        return DSC_ERROR(DSC_ERR_INVALID, "transform: no chain or spec");
    dsc_kvspec kv;
    dsc_status st = dsc_kvspec_parse(spec, &kv);
    if (st != DSC_OK) {
        dsc_kvspec_free(&kv);
        return st;
    }
    stage tmp;
    memset(&tmp, 0, sizeof tmp);
    snprintf(tmp.name, sizeof tmp.name, "%s", kv.name);
    const char *name = kv.name;
    if (!strcmp(name, "clip_norm") || !strcmp(name, "clip_group_norm")) {
        int group = !strcmp(name, "clip_group_norm");
        tmp.kind = group ? ST_CLIP_GROUP_NORM : ST_CLIP_NORM;
        st = dsc_kvspec_check(&kv, group ? k_gnorm : k_norm, 0);
        if (st == DSC_OK && !dsc_kvspec_has(&kv, "max_norm"))
            st = DSC_ERROR(DSC_ERR_INVALID, "%s: missing max_norm (e.g. '%s:max_norm=1')", name, name);
        if (st == DSC_OK)
            st = dsc_kvspec_double(&kv, "max_norm", 1, 0, 1e300, &tmp.max_norm);
        if (st == DSC_OK)
            st = parse_norm_type(&kv, &tmp.norm_type);
        if (st == DSC_OK && !group)
            st = dsc_kvspec_bool(&kv, "error_if_nonfinite", 0, &tmp.error_if_nonfinite);
    } else if (!strcmp(name, "clip_value")) {
        tmp.kind = ST_CLIP_VALUE;
        st = dsc_kvspec_check(&kv, k_value, 0);
        if (st == DSC_OK && !dsc_kvspec_has(&kv, "clip"))
            st = DSC_ERROR(DSC_ERR_INVALID, "clip_value: missing clip (e.g. 'clip_value:clip=0.5')");
        if (st == DSC_OK)
            st = dsc_kvspec_double(&kv, "clip", 1, 0, 1e300, &tmp.clip);
    } else if (!strcmp(name, "noise")) {
        tmp.kind = ST_NOISE;
        int64_t seed = 0;
        st = dsc_kvspec_check(&kv, k_noise, 0);
        if (st == DSC_OK)
            st = dsc_kvspec_double(&kv, "eta", 0.01, 0, 1e300, &tmp.eta);
        if (st == DSC_OK)
            st = dsc_kvspec_double(&kv, "gamma", 0.55, 0, 1e300, &tmp.gamma);
        if (st == DSC_OK)
            st = dsc_kvspec_int(&kv, "seed", 0, 0, INT64_MAX, &seed);
        tmp.seed = (uint64_t)seed;
    } else if (!strcmp(name, "weight_decay")) {
        tmp.kind = ST_WEIGHT_DECAY;
        int mode = 0;
        st = dsc_kvspec_check(&kv, k_wd, 0);
        if (st == DSC_OK && !dsc_kvspec_has(&kv, "wd"))
            st = DSC_ERROR(DSC_ERR_INVALID, "weight_decay: missing wd (e.g. 'weight_decay:wd=1e-4,mode=decoupled')");
        if (st == DSC_OK)
            st = dsc_kvspec_double(&kv, "wd", 0, 0, 1e300, &tmp.wd);
        if (st == DSC_OK)
            st = dsc_kvspec_choice(&kv, "mode", modes, 0, &mode);
        tmp.decoupled = mode;
    } else {
        st = DSC_ERROR(DSC_ERR_INVALID, "transform '%s': unknown stage '%s' (valid stages: %s)", spec, name,
                       dsc_transform_names());
    }
    dsc_kvspec_free(&kv);
    if (st != DSC_OK)
        return st;
    stage *s = push(t);
    if (!s)
        return DSC_ERROR(DSC_ERR_NOMEM, "transform: out of memory");
    *s = tmp;
    t->n++;
    return DSC_OK;
}

dsc_status dsc_transform_add_custom(dsc_transform *t, const char *name, dsc_tx_fn fn, void *ctx)
{
    if (!t || !fn)
        return DSC_ERROR(DSC_ERR_INVALID, "transform: custom stage '%s' without a function", name ? name : "?");
    stage *s = push(t);
    if (!s)
        return DSC_ERROR(DSC_ERR_NOMEM, "transform: out of memory");
    s->kind = ST_CUSTOM;
    snprintf(s->name, sizeof s->name, "%s", name ? name : "custom");
    s->fn = fn;
    s->ctx = ctx;
    t->n++;
    return DSC_OK;
}

int dsc_transform_len(const dsc_transform *t) { return t ? t->n : 0; }

const char *dsc_transform_stage_name(const dsc_transform *t, int i)
{
    return t && i >= 0 && i < t->n ? t->st[i].name : NULL;
}

/* group i of args as [a, b) */
static void group_range(const dsc_tx_args *a, int i, size_t *lo, size_t *hi)
{
    if (a->n_groups <= 0) {
        *lo = 0;
        *hi = a->n;
    } else {
        *lo = a->group_offsets[i];
        *hi = a->group_offsets[i + 1];
    }
}

static dsc_status run_stage(const stage *s, const dsc_tx_args *a, dsc_tx_stats *stats)
{
    size_t es = esize(a->dtype);
    int ng = a->n_groups > 0 ? a->n_groups : 1;
    switch (s->kind) {
    case ST_CLIP_NORM: {
        int inf = isinf(s->norm_type);
        double total = dsc_grad_norm(a->dtype, a->grad, a->n, s->norm_type);
        if (a->dtype == DSC_FLOAT32)
            total = (float)total;
        if (s->error_if_nonfinite && !isfinite(total))
            return DSC_ERROR(DSC_ERR_NUMERIC,
                             "clip_norm: the total norm of order %s of the gradient is %g at step %lld, so it "
                             "cannot be clipped (error_if_nonfinite=1)",
                             inf ? "inf" : "2", total, (long long)a->step);
        double c = clip_coef(a->dtype, total, s->max_norm);
        if (c != 1.0)
            scale_any(a->dtype, a->grad, a->n, c);
        if (isnan(stats->grad_norm)) {
            stats->grad_norm = total;
            stats->clip_coef = c;
            stats->clipped = c != 1.0;
        }
        return DSC_OK;
    }
    case ST_CLIP_GROUP_NORM: {
        double sumsq = 0, mx = 0;
        int inf = isinf(s->norm_type);
        for (int i = 0; i < ng; i++) {
            size_t lo, hi;
            group_range(a, i, &lo, &hi);
            void *g = (char *)a->grad + lo * es;
            double norm = dsc_grad_norm(a->dtype, g, hi - lo, s->norm_type);
            if (a->dtype == DSC_FLOAT32)
                norm = (float)norm;
            if (stats->group_norms)
                stats->group_norms[i] = norm;
            sumsq += norm * norm;
            mx = norm > mx ? norm : mx;
            double c = clip_coef(a->dtype, norm, s->max_norm);
            if (c != 1.0) {
                scale_any(a->dtype, g, hi - lo, c);
                stats->clipped = 1;
            }
        }
        if (isnan(stats->grad_norm))
            stats->grad_norm = inf ? mx : sqrt(sumsq);
        return DSC_OK;
    }
    case ST_CLIP_VALUE:
        dsc_clip_grad_value(a->dtype, a->grad, a->n, s->clip);
        return DSC_OK;
    case ST_NOISE: {
        double sd = dsc_grad_noise_std(s->eta, s->gamma, a->step);
        stats->noise_std = sd;
        /* the draws of step t: a stream forked from the seed by t; element i is normal i of it */
        dsc_rng root = dsc_rng_seed(s->seed);
        dsc_rng r = dsc_rng_fork(&root, (uint64_t)a->step);
        float z[4096];
        for (size_t i = 0; i < a->n; i += 4096) {
            size_t m = a->n - i < 4096 ? a->n - i : 4096;
            dsc_rng_fill_normal(&r, z, m, 0.0f, 1.0f);
            if (a->dtype == DSC_FLOAT64)
                addz_f64((double *)a->grad + i, z, m, sd);
            else
                addz_f32((float *)a->grad + i, z, m, sd);
        }
        return DSC_OK;
    }
    case ST_WEIGHT_DECAY: {
        if (!a->params)
            return DSC_ERROR(DSC_ERR_INVALID, "weight_decay: the transform needs the parameters (args.params is NULL)");
        for (int i = 0; i < ng; i++) {
            size_t lo, hi;
            group_range(a, i, &lo, &hi);
            double wd = s->wd * (a->group_decay ? a->group_decay[i] : 1.0);
            if (wd == 0)
                continue;
            if (s->decoupled) {
                /* torch AdamW: param.mul_(1 - lr * weight_decay), the factor computed in float64 */
                double f = 1 - a->lr * wd;
                scale_any(a->dtype, (char *)a->params + lo * es, hi - lo, f);
            } else if (a->dtype == DSC_FLOAT64) {
                /* torch: grad = grad.add(param, alpha=weight_decay) */
                axpy_f64((double *)a->grad + lo, (const double *)a->params + lo, hi - lo, wd);
            } else {
                axpy_f32((float *)a->grad + lo, (const float *)a->params + lo, hi - lo, (float)wd);
            }
        }
        return DSC_OK;
    }
    case ST_CUSTOM:
        return s->fn(s->ctx, a, stats);
    }
    return DSC_OK;
}

dsc_status dsc_transform_apply(dsc_transform *t, const dsc_tx_args *args, dsc_tx_stats *stats)
{
    dsc_tx_stats local;
    if (!stats) {
        memset(&local, 0, sizeof local);
        stats = &local;
    }
    double *gn = stats->group_norms;
    memset(stats, 0, sizeof *stats);
    stats->group_norms = gn;
    stats->grad_norm = NAN;
    stats->clip_coef = 1;
    if (!t || !args)
        return DSC_ERROR(DSC_ERR_INVALID, "transform apply: no chain or arguments");
    if (args->n > 0 && !args->grad)
        return DSC_ERROR(DSC_ERR_INVALID, "transform apply: grad is NULL for n = %zu", args->n);
    if (args->n_groups > 0) {
        if (!args->group_offsets)
            return DSC_ERROR(DSC_ERR_INVALID, "transform apply: %d groups but no group_offsets", args->n_groups);
        if (args->group_offsets[0] != 0 || args->group_offsets[args->n_groups] != args->n)
            return DSC_ERROR(DSC_ERR_INVALID, "transform apply: group offsets must run from 0 to n = %zu", args->n);
        for (int i = 0; i < args->n_groups; i++)
            if (args->group_offsets[i] > args->group_offsets[i + 1])
                return DSC_ERROR(DSC_ERR_INVALID, "transform apply: group offsets decrease at group %d", i);
    }
    for (int i = 0; i < t->n; i++)
        DSC_TRY(run_stage(&t->st[i], args, stats));
    return DSC_OK;
}
