/* Mini-batch loader: reshuffling / sampling with replacement, drop_last, augmentation, and a
 * saveable position. Every random choice is a pure function of (seed, epoch, position) through
 * Philox sub-streams, so the state is just (epoch, index) (see descent/loader.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descent/loader.h"
#include "descent/spec.h"

/* Sub-stream ids of the root rng: one for the epoch orders, one for augmentation. */
#define STREAM_ORDER 0x6f72646572ull /* "order" */
#define STREAM_AUG 0x617567ull       /* "aug" */

/* A copy of the last error message: DSC_ERROR must not read the buffer it writes. */
static const char *last_err(void)
{
    static _Thread_local char buf[1024];
    snprintf(buf, sizeof buf, "%s", dsc_last_error());
    return buf;
}

void dsc_loader_opts_init(dsc_loader_opts *o)
{
    memset(o, 0, sizeof *o);
    o->batch_size = 32;
    o->sampling = DSC_SAMPLE_SHUFFLE;
    o->augment.crop_pad = 2;
    o->augment.noise_std = 0.05f;
}

dsc_status dsc_augment_parse(const char *text, dsc_augment *out)
{
    memset(out, 0, sizeof *out);
    out->crop_pad = 2;
    out->noise_std = 0.05f;
    if (!text || !*text || !strcmp(text, "none"))
        return DSC_OK;
    dsc_kvspec s;
    /* The grammar has no name part here: parse ":items" so that every item is key=value or a
     * positional word. */
    size_t len = strlen(text);
    char *buf = malloc(len + 2);
    if (!buf)
        return DSC_ERROR(DSC_ERR_NOMEM, "augment: out of memory");
    buf[0] = ':';
    memcpy(buf + 1, text, len + 1);
    dsc_status st = dsc_kvspec_parse(buf, &s);
    free(buf);
    if (st != DSC_OK) {
        dsc_kvspec_free(&s);
        return DSC_ERROR(DSC_ERR_INVALID, "--augment '%s': %s", text, last_err());
    }
    for (int i = 0; i < s.n_items && st == DSC_OK; i++) {
        const char *k = s.items[i].key ? s.items[i].key : s.items[i].value;
        const char *v = s.items[i].key ? s.items[i].value : NULL;
        if (!strcmp(k, "crop")) {
            out->flags |= DSC_AUG_CROP;
            if (v) {
                int64_t p;
                st = dsc_parse_int64(v, "--augment crop", &p);
                if (st == DSC_OK && (p < 1 || p > 64))
                    st = DSC_ERROR(DSC_ERR_RANGE, "--augment crop=%s: padding out of range [1, 64]", v);
                out->crop_pad = (int)p;
            }
        } else if (!strcmp(k, "flip") && !v) {
            out->flags |= DSC_AUG_FLIP;
        } else if (!strcmp(k, "noise")) {
            out->flags |= DSC_AUG_NOISE;
            if (v) {
                double sd;
                st = dsc_parse_double(v, "--augment noise", &sd);
                if (st == DSC_OK && !(sd > 0 && sd <= 10))
                    st = DSC_ERROR(DSC_ERR_RANGE, "--augment noise=%s: standard deviation out of range (0, 10]", v);
                out->noise_std = (float)sd;
            }
        } else {
            st = DSC_ERROR(DSC_ERR_INVALID,
                           "--augment: unknown item '%s' (valid: crop[=PAD], flip, noise[=STD], none)", k);
        }
    }
    dsc_kvspec_free(&s);
    return st;
}

dsc_status dsc_loader_init(dsc_loader *l, const dsc_dataset *ds, const dsc_loader_opts *o)
{
    memset(l, 0, sizeof *l);
    if (!ds || !o)
        return DSC_ERROR(DSC_ERR_INVALID, "loader: NULL data set or options");
    if (ds->sparse || ds->dtype != DSC_DATA_F32 || !ds->x || !ds->y)
        return DSC_ERROR(DSC_ERR_INVALID, "loader: data set '%s' must be dense float32 with labels", ds->name);
    if (ds->n < 1)
        return DSC_ERROR(DSC_ERR_INVALID, "loader: data set '%s' is empty", ds->name);
    if (o->batch_size < 1)
        return DSC_ERROR(DSC_ERR_RANGE, "loader: batch size %lld must be >= 1", (long long)o->batch_size);
    if ((unsigned)o->sampling > DSC_SAMPLE_SEQUENTIAL)
        return DSC_ERROR(DSC_ERR_INVALID, "loader: unknown sampling %d", (int)o->sampling);
    if (o->drop_last && o->batch_size > ds->n)
        return DSC_ERROR(DSC_ERR_RANGE,
                         "loader: batch size %lld is larger than the %lld examples of '%s' and drop_last leaves "
                         "no batch",
                         (long long)o->batch_size, (long long)ds->n, ds->name);
    if ((o->augment.flags & (DSC_AUG_CROP | DSC_AUG_FLIP)) && ds->feat_ndim != 3)
        return DSC_ERROR(DSC_ERR_INVALID,
                         "--augment crop/flip need image examples [C, H, W]; '%s' has %d-dimensional examples "
                         "(noise works on any data)",
                         ds->name, ds->feat_ndim);
    if ((o->augment.flags & DSC_AUG_CROP) && o->augment.crop_pad < 1)
        return DSC_ERROR(DSC_ERR_RANGE, "--augment crop padding %d must be >= 1", o->augment.crop_pad);
    l->ds = ds;
    l->o = *o;
    l->rng = dsc_rng_seed(o->seed);
    l->epoch_len = o->drop_last ? (ds->n / o->batch_size) * o->batch_size : ds->n;
    l->order = malloc((size_t)ds->n * sizeof *l->order);
    if (!l->order)
        return DSC_ERROR(DSC_ERR_NOMEM, "loader: out of memory for %lld indices", (long long)ds->n);
    l->order_epoch = -1;
    return DSC_OK;
}

void dsc_loader_free(dsc_loader *l)
{
    if (!l)
        return;
    free(l->order);
    l->order = NULL;
}

int64_t dsc_loader_batches_per_epoch(const dsc_loader *l)
{
    return (l->epoch_len + l->o.batch_size - 1) / l->o.batch_size;
}

/* The order of the current epoch: a pure function of (seed, epoch). */
static void make_order(dsc_loader *l)
{
    if (l->order_epoch == l->epoch)
        return;
    const int64_t n = l->ds->n;
    dsc_rng base = dsc_rng_fork(&l->rng, STREAM_ORDER);
    dsc_rng r = dsc_rng_fork(&base, (uint64_t)l->epoch);
    switch (l->o.sampling) {
    case DSC_SAMPLE_SHUFFLE: dsc_rng_permutation(&r, l->order, n); break;
    case DSC_SAMPLE_REPLACEMENT:
        for (int64_t i = 0; i < n; i++)
            l->order[i] = (int64_t)dsc_rng_below(&r, (uint64_t)n);
        break;
    default:
        for (int64_t i = 0; i < n; i++)
            l->order[i] = i;
    }
    l->order_epoch = l->epoch;
}

const int64_t *dsc_loader_order(dsc_loader *l)
{
    make_order(l);
    return l->order;
}

void dsc_augment_example(const dsc_augment *a, const dsc_rng *root, int64_t epoch, int64_t position, int c, int h,
                         int w, float *x, float *tmp)
{
    if (!a->flags)
        return;
    dsc_rng base = dsc_rng_fork(root, STREAM_AUG);
    dsc_rng ep = dsc_rng_fork(&base, (uint64_t)epoch);
    dsc_rng r = dsc_rng_fork(&ep, (uint64_t)position);
    /* Fixed draw order whatever the flags (crop offsets, flip, then noise), so enabling one
     * augmentation does not change the draws of another. */
    const int p = a->crop_pad;
    const int dy = (int)dsc_rng_below(&r, (uint64_t)(2 * p + 1)) - p;
    const int dx = (int)dsc_rng_below(&r, (uint64_t)(2 * p + 1)) - p;
    const int flip = (int)(dsc_rng_u32(&r) & 1u);
    const size_t plane = (size_t)h * (size_t)w;
    if (a->flags & (DSC_AUG_CROP | DSC_AUG_FLIP)) {
        /* out(i, j) = padded_in(i + p + dy, j' + p + dx), j' = w-1-j when flipped (crop first,
         * then flip, as torchvision's RandomCrop then RandomHorizontalFlip). */
        const int cy = (a->flags & DSC_AUG_CROP) ? dy : 0, cx = (a->flags & DSC_AUG_CROP) ? dx : 0;
        const int fl = (a->flags & DSC_AUG_FLIP) ? flip : 0;
        memcpy(tmp, x, (size_t)c * plane * sizeof *x);
        for (int ch = 0; ch < c; ch++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++) {
                    const int jj = fl ? w - 1 - j : j;
                    const int si = i + cy, sj = jj + cx;
                    x[(size_t)ch * plane + (size_t)i * w + j] =
                        (si >= 0 && si < h && sj >= 0 && sj < w) ? tmp[(size_t)ch * plane + (size_t)si * w + sj] : 0.0f;
                }
    }
    if (a->flags & DSC_AUG_NOISE) {
        const size_t m = (size_t)c * plane;
        dsc_rng_fill_normal(&r, tmp, m, 0.0f, a->noise_std);
        for (size_t k = 0; k < m; k++)
            x[k] += tmp[k];
    }
}

dsc_status dsc_loader_next(dsc_loader *l, float *x, float *y, int64_t *bsz, int *epoch_end)
{
    if (!l || !l->order || !x || !y)
        return DSC_ERROR(DSC_ERR_INVALID, "loader: not initialized or NULL buffers");
    make_order(l);
    const dsc_dataset *ds = l->ds;
    const int64_t d = ds->d;
    int64_t b = l->epoch_len - l->index;
    if (b > l->o.batch_size)
        b = l->o.batch_size;
    int c = 1, h = 1, w = (int)d;
    if (ds->feat_ndim == 3) {
        c = (int)ds->feat_shape[0];
        h = (int)ds->feat_shape[1];
        w = (int)ds->feat_shape[2];
    }
    float *tmp = NULL;
    if (l->o.augment.flags && !(tmp = malloc((size_t)d * sizeof *tmp)))
        return DSC_ERROR(DSC_ERR_NOMEM, "loader: out of memory");
    for (int64_t k = 0; k < b; k++) {
        const int64_t pos = l->index + k, r = l->order[pos];
        memcpy(x + k * d, ds->x + r * d, (size_t)d * sizeof *x);
        y[k] = ds->y[r];
        if (tmp)
            dsc_augment_example(&l->o.augment, &l->rng, l->epoch, pos, c, h, w, x + k * d, tmp);
    }
    free(tmp);
    *bsz = b;
    l->index += b;
    const int end = l->index >= l->epoch_len;
    if (end) {
        l->epoch++;
        l->index = 0;
    }
    if (epoch_end)
        *epoch_end = end;
    return DSC_OK;
}

dsc_loader_state dsc_loader_get_state(const dsc_loader *l)
{
    dsc_loader_state s = {l->epoch, l->index, l->rng.key, l->rng.counter};
    return s;
}

dsc_status dsc_loader_set_state(dsc_loader *l, const dsc_loader_state *s)
{
    if (s->rng_key != l->rng.key || s->rng_counter != l->rng.counter)
        return DSC_ERROR(DSC_ERR_INVALID,
                         "loader: the saved state was made with another seed (rng key %llu, this loader's %llu)",
                         (unsigned long long)s->rng_key, (unsigned long long)l->rng.key);
    if (s->epoch < 0 || s->index < 0 || s->index >= l->epoch_len || s->index % l->o.batch_size)
        return DSC_ERROR(DSC_ERR_INVALID,
                         "loader: saved position (epoch %lld, index %lld) does not fit %lld examples per epoch in "
                         "batches of %lld",
                         (long long)s->epoch, (long long)s->index, (long long)l->epoch_len,
                         (long long)l->o.batch_size);
    l->epoch = s->epoch;
    l->index = s->index;
    return DSC_OK;
}
