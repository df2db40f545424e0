/* Data loader and training loop: determinism, reshuffling, drop_last, sampling with replacement,
 * augmentation, saved positions; training on digits, early stopping, gradient accumulation,
 * evaluation with a partial last batch, divergence (library and CLI). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testing.h"
#include "train/thread_tuner.h"

/* n examples of d features, x[i][j] = i + j / 1000, labels i % classes. */
static void make_set(dsc_dataset *ds, int64_t n, int feat_ndim, const int64_t *shape, int64_t classes)
{
    memset(ds, 0, sizeof *ds);
    snprintf(ds->name, sizeof ds->name, "synthetic");
    ds->dtype = DSC_DATA_F32;
    ds->n = n;
    ds->feat_ndim = feat_ndim;
    ds->d = 1;
    for (int k = 0; k < feat_ndim; k++) {
        ds->feat_shape[k] = shape[k];
        ds->d *= shape[k];
    }
    ds->num_classes = classes;
    ds->x = malloc((size_t)(n * ds->d) * sizeof(float));
    ds->y = malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < ds->d; j++)
            ds->x[i * ds->d + j] = (float)i + (float)j / 1000.0f;
        ds->y[i] = (float)(i % classes);
    }
}

static void free_set(dsc_dataset *ds)
{
    free(ds->x);
    free(ds->y);
}

/* One epoch's example ids (x[.][0]) and batch sizes. Returns the number of batches. */
static int64_t epoch_ids(dsc_loader *l, int64_t d, int64_t *ids, int64_t *sizes)
{
    float *x = malloc((size_t)(l->o.batch_size * d) * sizeof(float)), *y = malloc((size_t)l->o.batch_size * sizeof(float));
    int64_t nb = 0, k = 0;
    int end = 0;
    while (!end) {
        int64_t b;
        CHECK_OK(dsc_loader_next(l, x, y, &b, &end));
        for (int64_t i = 0; i < b; i++)
            ids[k++] = (int64_t)x[i * d];
        sizes[nb++] = b;
    }
    free(x);
    free(y);
    return nb;
}

static void test_reshuffle_covers_each_example_once(void)
{
    dsc_dataset ds;
    const int64_t shape[1] = {3};
    make_set(&ds, 103, 1, shape, 4);
    dsc_loader_opts o;
    dsc_loader_opts_init(&o);
    o.batch_size = 10;
    o.seed = 5;
    dsc_loader l;
    CHECK_OK(dsc_loader_init(&l, &ds, &o));
    CHECK(dsc_loader_batches_per_epoch(&l) == 11);
    int64_t ids[2][103], sizes[16];
    for (int e = 0; e < 2; e++) {
        CHECK(epoch_ids(&l, 3, ids[e], sizes) == 11);
        CHECK(sizes[10] == 3); /* the last batch keeps the 3 remaining examples */
        int seen[103] = {0};
        for (int i = 0; i < 103; i++)
            seen[ids[e][i]]++;
        int all_once = 1;
        for (int i = 0; i < 103; i++)
            all_once &= seen[i] == 1;
        CHECK(all_once);
    }
    CHECK(memcmp(ids[0], ids[1], sizeof ids[0]) != 0); /* a fresh permutation each epoch */
    int identity = 1;
    for (int i = 0; i < 103; i++)
        identity &= ids[0][i] == i;
    CHECK(!identity);
    CHECK(l.epoch == 2 && l.index == 0);
    dsc_loader_free(&l);
    free_set(&ds);
}

static void test_drop_last(void)
{
    dsc_dataset ds;
    const int64_t shape[1] = {2};
    make_set(&ds, 103, 1, shape, 2);
    dsc_loader_opts o;
    dsc_loader_opts_init(&o);
    o.batch_size = 10;
    o.drop_last = 1;
    dsc_loader l;
    CHECK_OK(dsc_loader_init(&l, &ds, &o));
    CHECK(dsc_loader_batches_per_epoch(&l) == 10);
    int64_t ids[103], sizes[16];
    CHECK(epoch_ids(&l, 2, ids, sizes) == 10);
    for (int i = 0; i < 10; i++)
        CHECK(sizes[i] == 10);
    int seen[103] = {0}, dup = 0;
    for (int i = 0; i < 100; i++)
        dup |= seen[ids[i]]++;
    CHECK(!dup);
    dsc_loader_free(&l);
    /* drop_last with a batch larger than the data set leaves nothing: refused. */
    o.batch_size = 200;
    CHECK_STATUS(dsc_loader_init(&l, &ds, &o), DSC_ERR_RANGE);
    dsc_loader_free(&l);
    free_set(&ds);
}

/* n draws with replacement per epoch: each epoch covers 1 - (1 - 1/n)^n of the examples on
 * average (0.634 for n = 100, per-epoch sd about 0.031); over 200 epochs the mean has sd 0.0022,
 * so +-0.01 is 4.5 sd. Every example is drawn 200 times on average over the 200 epochs
 * (binomial sd 14): all counts must lie in [120, 280] (5.7 sd). */
static void test_with_replacement_statistics(void)
{
    dsc_dataset ds;
    const int64_t shape[1] = {1};
    make_set(&ds, 100, 1, shape, 2);
    dsc_loader_opts o;
    dsc_loader_opts_init(&o);
    o.batch_size = 25;
    o.sampling = DSC_SAMPLE_REPLACEMENT;
    o.seed = 11;
    dsc_loader l;
    CHECK_OK(dsc_loader_init(&l, &ds, &o));
    int64_t count[100] = {0}, ids[100], sizes[8];
    double distinct_sum = 0;
    int repeats_seen = 0;
    for (int e = 0; e < 200; e++) {
        CHECK(epoch_ids(&l, 1, ids, sizes) == 4);
        int seen[100] = {0}, distinct = 0;
        for (int i = 0; i < 100; i++) {
            count[ids[i]]++;
            distinct += !seen[ids[i]]++;
        }
        repeats_seen |= distinct < 100;
        distinct_sum += distinct / 100.0;
    }
    const double expect = 1.0 - pow(1.0 - 1.0 / 100, 100);
    CHECK_NEAR(distinct_sum / 200, expect, 0.01);
    CHECK(repeats_seen);
    int64_t lo = count[0], hi = count[0];
    for (int i = 1; i < 100; i++) {
        lo = count[i] < lo ? count[i] : lo;
        hi = count[i] > hi ? count[i] : hi;
    }
    CHECK(lo >= 120 && hi <= 280);
    dsc_loader_free(&l);
    free_set(&ds);
}

/* Two loaders with the same seed give the same batches; another seed gives others; a loader
 * restored from a saved position continues identically (augmentation included). */
static void test_determinism_and_saved_position(void)
{
    dsc_dataset ds;
    const int64_t shape[3] = {1, 4, 5};
    make_set(&ds, 37, 3, shape, 3);
    dsc_loader_opts o;
    dsc_loader_opts_init(&o);
    o.batch_size = 8;
    o.seed = 42;
    CHECK_OK(dsc_augment_parse("crop=1,flip,noise=0.2", &o.augment));
    CHECK(o.augment.flags == (DSC_AUG_CROP | DSC_AUG_FLIP | DSC_AUG_NOISE));
    dsc_loader a, b, c;
    CHECK_OK(dsc_loader_init(&a, &ds, &o));
    CHECK_OK(dsc_loader_init(&b, &ds, &o));
    o.seed = 43;
    CHECK_OK(dsc_loader_init(&c, &ds, &o));
    float xa[8 * 20], ya[8], xb[8 * 20], yb[8], xc[8 * 20], yc[8];
    int64_t na, nb, nc;
    int end, differs = 0;
    for (int s = 0; s < 7; s++) { /* 5 batches per epoch: crosses an epoch boundary */
        CHECK_OK(dsc_loader_next(&a, xa, ya, &na, &end));
        CHECK_OK(dsc_loader_next(&b, xb, yb, &nb, &end));
        CHECK_OK(dsc_loader_next(&c, xc, yc, &nc, &end));
        CHECK(na == nb && !memcmp(xa, xb, (size_t)na * 20 * sizeof(float)) && !memcmp(ya, yb, (size_t)na * sizeof(float)));
        differs |= memcmp(xa, xc, (size_t)na * 20 * sizeof(float)) != 0;
    }
    CHECK(differs);
    /* Save a's position (epoch 1, index 16), draw 6 more batches; a fresh loader restored to the
     * position must give the same 6. */
    dsc_loader_state st = dsc_loader_get_state(&a);
    CHECK(st.epoch == 1 && st.index == 16);
    float rec[6][8 * 20];
    for (int s = 0; s < 6; s++)
        CHECK_OK(dsc_loader_next(&a, rec[s], ya, &na, &end));
    dsc_loader r;
    o.seed = 42;
    CHECK_OK(dsc_loader_init(&r, &ds, &o));
    CHECK_OK(dsc_loader_set_state(&r, &st));
    for (int s = 0; s < 6; s++) {
        CHECK_OK(dsc_loader_next(&r, xb, yb, &nb, &end));
        CHECK(!memcmp(rec[s], xb, (size_t)nb * 20 * sizeof(float)));
    }
    /* A state from another seed is refused. */
    dsc_loader_state other = dsc_loader_get_state(&c);
    CHECK_STATUS(dsc_loader_set_state(&r, &other), DSC_ERR_INVALID);
    dsc_loader_free(&a);
    dsc_loader_free(&b);
    dsc_loader_free(&c);
    dsc_loader_free(&r);
    free_set(&ds);
}

/* Augmentation on [C, H, W] = [2, 4, 5]: shapes kept; flip alone gives the example or its mirror
 * (both seen); crop alone gives a shifted copy with zero fill; noise alone has about the
 * requested standard deviation; deterministic by (seed, epoch, position). */
static void test_augmentation(void)
{
    const int C = 2, H = 4, W = 5, D = C * H * W;
    float src[40], x[40], tmp[40];
    for (int i = 0; i < D; i++)
        src[i] = 1.0f + (float)i;
    dsc_rng root = dsc_rng_seed(9);
    dsc_augment flip = {DSC_AUG_FLIP, 2, 0.05f};
    int n_same = 0, n_mirror = 0;
    for (int p = 0; p < 40; p++) {
        memcpy(x, src, sizeof x);
        dsc_augment_example(&flip, &root, 0, p, C, H, W, x, tmp);
        int same = !memcmp(x, src, sizeof x), mirror = 1;
        for (int c = 0; c < C; c++)
            for (int i = 0; i < H; i++)
                for (int j = 0; j < W; j++)
                    mirror &= x[(c * H + i) * W + j] == src[(c * H + i) * W + (W - 1 - j)];
        n_same += same;
        n_mirror += mirror;
        CHECK(same || mirror);
    }
    CHECK(n_same > 5 && n_mirror > 5);
    dsc_augment crop = {DSC_AUG_CROP, 1, 0.05f};
    int shifted = 0;
    for (int p = 0; p < 40; p++) {
        memcpy(x, src, sizeof x);
        dsc_augment_example(&crop, &root, 3, p, C, H, W, x, tmp);
        /* Find the shift (dy, dx) in [-1, 1]^2 that explains every pixel. */
        int found = 0;
        for (int dy = -1; dy <= 1 && !found; dy++)
            for (int dx = -1; dx <= 1 && !found; dx++) {
                int ok = 1;
                for (int c = 0; c < C; c++)
                    for (int i = 0; i < H; i++)
                        for (int j = 0; j < W; j++) {
                            const int si = i + dy, sj = j + dx;
                            const float want = si >= 0 && si < H && sj >= 0 && sj < W ? src[(c * H + si) * W + sj] : 0.0f;
                            ok &= x[(c * H + i) * W + j] == want;
                        }
                if (ok) {
                    found = 1;
                    shifted += dy != 0 || dx != 0;
                }
            }
        CHECK(found);
    }
    CHECK(shifted > 10);
    /* Noise: 4000 draws of N(0, 0.5^2): the sample sd is within 5% (sd of the estimate ~1.1%). */
    dsc_augment noise = {DSC_AUG_NOISE, 2, 0.5f};
    double s2 = 0;
    for (int p = 0; p < 100; p++) {
        memcpy(x, src, sizeof x);
        dsc_augment_example(&noise, &root, 1, p, C, H, W, x, tmp);
        for (int i = 0; i < D; i++)
            s2 += (double)(x[i] - src[i]) * (x[i] - src[i]);
    }
    CHECK_NEAR(sqrt(s2 / (100.0 * D)), 0.5, 0.025);
    /* Deterministic: the same (seed, epoch, position) gives the same result, another epoch not. */
    dsc_augment all = {DSC_AUG_CROP | DSC_AUG_FLIP | DSC_AUG_NOISE, 1, 0.1f};
    float y1[40], y2[40], y3[40];
    memcpy(y1, src, sizeof y1);
    memcpy(y2, src, sizeof y2);
    memcpy(y3, src, sizeof y3);
    dsc_augment_example(&all, &root, 2, 5, C, H, W, y1, tmp);
    dsc_augment_example(&all, &root, 2, 5, C, H, W, y2, tmp);
    dsc_augment_example(&all, &root, 4, 5, C, H, W, y3, tmp);
    CHECK(!memcmp(y1, y2, sizeof y1));
    CHECK(memcmp(y1, y3, sizeof y1) != 0);
    /* Parsing. */
    dsc_augment a;
    CHECK_STATUS(dsc_augment_parse("rotate", &a), DSC_ERR_INVALID);
    CHECK(strstr(dsc_last_error(), "crop") != NULL);
    CHECK_STATUS(dsc_augment_parse("noise=-1", &a), DSC_ERR_RANGE);
    CHECK_OK(dsc_augment_parse("none", &a));
    CHECK(a.flags == 0);
    /* crop/flip need images: tabular data refused, noise allowed. */
    dsc_dataset ds;
    const int64_t shape[1] = {4};
    make_set(&ds, 10, 1, shape, 2);
    dsc_loader_opts o;
    dsc_loader_opts_init(&o);
    dsc_loader l;
    o.augment.flags = DSC_AUG_FLIP;
    CHECK_STATUS(dsc_loader_init(&l, &ds, &o), DSC_ERR_INVALID);
    dsc_loader_free(&l);
    o.augment.flags = DSC_AUG_NOISE;
    CHECK_OK(dsc_loader_init(&l, &ds, &o));
    dsc_loader_free(&l);
    free_set(&ds);
}

static void digits_opts(dsc_train_opts *o)
{
    dsc_train_opts_init(o);
    o->model = "mlp:64-32-10";
    o->data = "digits";
    o->opt = "adam:lr=1e-3";
    o->batch_size = 32;
    o->seed = 0;
}

static void test_training_decreases_loss(void)
{
    dsc_train_opts o;
    digits_opts(&o);
    dsc_train_result r1, r4;
    o.epochs = 1;
    CHECK_OK(dsc_train(&o, &r1));
    o.epochs = 4;
    CHECK_OK(dsc_train(&o, &r4));
    CHECK(r1.epochs == 1 && r4.epochs == 4);
    CHECK(r1.steps == 45 && r4.steps == 180); /* 1438 training examples in batches of 32 */
    CHECK(r4.train_loss < 0.5 * r1.train_loss);
    CHECK(r4.test_loss < r1.test_loss);
    CHECK(r4.test_acc > 0.9);
    CHECK(r4.test_top5 >= r4.test_acc);
    CHECK(r4.samples == 4 * 1438);
}

/* Evaluation with a partial last batch (359 test examples in batches of 32, last 7) equals
 * evaluation in one batch of 359: the same per-example values, summed in another grouping
 * (float32 batch means weighted in double: agreement to ~1e-6 relative). */
static void test_evaluate_partial_batch(void)
{
    dsc_train_opts o;
    digits_opts(&o);
    o.steps = 20;
    dsc_trainer *t;
    CHECK_OK(dsc_trainer_new(&o, &t));
    dsc_train_result r;
    CHECK_OK(dsc_trainer_run(t, &r));
    const dsc_dataset *ts = dsc_trainer_test_set(t);
    CHECK(ts->n == 359);
    double l32, a32, t32;
    CHECK_OK(dsc_evaluate(dsc_trainer_model(t), ts, &l32, &a32, &t32));
    CHECK(dsc_graph_batch(dsc_trainer_model(t)->g) == 32); /* restored */
    /* The same weights in a model compiled for the whole test set. */
    dsc_model big;
    const int64_t shape[3] = {1, 8, 8};
    CHECK_OK(dsc_model_build("mlp:64-32-10", 3, shape, 10, 359, &big));
    size_t n1, n2;
    float *p1 = dsc_graph_params(dsc_trainer_model(t)->g, &n1), *p2 = dsc_graph_params(big.g, &n2);
    CHECK(n1 == n2);
    memcpy(p2, p1, n1 * sizeof(float));
    double l1, a1, t1;
    CHECK_OK(dsc_evaluate(&big, ts, &l1, &a1, &t1));
    CHECK_REL(l32, l1, 1e-5, 1e-3);
    CHECK(a32 == a1 && t32 == t1);
    CHECK_NEAR(l32, r.test_loss, 0);
    dsc_model_free(&big);
    dsc_trainer_free(t);
}

static void test_early_stopping(void)
{
    dsc_train_opts o;
    digits_opts(&o);
    o.model = "mlp:64-64-10";
    o.opt = "sgd:lr=2"; /* too large to keep improving val_loss */
    o.epochs = 30;
    o.val_split = 0.2;
    o.early_stop = 1;
    dsc_train_result r;
    CHECK_OK(dsc_train(&o, &r));
    CHECK(r.stopped_early);
    CHECK(r.epochs < 30);
    CHECK(!isnan(r.val_loss));
    /* Without a validation split: refused, naming the options. */
    o.val_split = 0;
    CHECK_STATUS(dsc_train(&o, &r), DSC_ERR_INVALID);
    CHECK(strstr(dsc_last_error(), "--early-stop") && strstr(dsc_last_error(), "--val-split"));
}

/* Parameters after `steps` SGD steps (no momentum). */
static float *sgd_params(int64_t batch, int accumulate, int64_t steps, size_t *n)
{
    dsc_train_opts o;
    digits_opts(&o);
    o.opt = "sgd:lr=0.1";
    o.batch_size = batch;
    o.accumulate = accumulate;
    o.steps = steps;
    dsc_trainer *t;
    float *out = NULL;
    CHECK_OK(dsc_trainer_new(&o, &t));
    if (!t)
        return NULL;
    dsc_train_result r;
    CHECK_OK(dsc_trainer_run(t, &r));
    CHECK(r.steps == steps);
    const float *p = dsc_graph_params(dsc_trainer_model(t)->g, n);
    out = malloc(*n * sizeof(float));
    memcpy(out, p, *n * sizeof(float));
    dsc_trainer_free(t);
    return out;
}

/* K = 4 micro-batches of B = 8 accumulated equal one batch of 32 for plain SGD: the loader's
 * order does not depend on the batch size, and the mean of 4 equal-size batch means is the mean
 * over the 32 examples. Only the summation order differs (float32: each gradient element
 * changes by a few ulp, ~1e-7 relative); over 20 steps of lr 0.1 on weights of size ~0.1
 * the weights then agree to ~1e-6, so the tolerance is 2e-5 absolute. The control (one batch
 * of 8 per step, i.e. another algorithm) differs by far more (> 1e-3). */
static void test_accumulation_equals_large_batch(void)
{
    size_t n1 = 0, n2 = 0, n3 = 0;
    float *a = sgd_params(8, 4, 20, &n1), *b = sgd_params(32, 1, 20, &n2), *c = sgd_params(8, 1, 20, &n3);
    CHECK(a && b && c && n1 == n2 && n2 == n3);
    if (a && b && c) {
        double dab = 0, dac = 0;
        for (size_t i = 0; i < n1; i++) {
            dab = fmax(dab, fabs((double)a[i] - b[i]));
            dac = fmax(dac, fabs((double)a[i] - c[i]));
        }
        printf("  accumulation: max abs difference %.3g (control: %.3g)\n", dab, dac);
        CHECK(dab <= 2e-5);
        CHECK(dac > 1e-3);
    }
    free(a);
    free(b);
    free(c);
}

static void test_divergence_library(void)
{
    dsc_train_opts o;
    digits_opts(&o);
    o.opt = "sgd:lr=1e30";
    o.epochs = 2;
    dsc_train_result r;
    CHECK_STATUS(dsc_train(&o, &r), DSC_ERR_NUMERIC);
    const char *m = dsc_last_error();
    CHECK(strstr(m, "diverged at step ") != NULL);
    CHECK(strstr(m, "node") != NULL || strstr(m, "parameter") != NULL);
}

/* Through the CLI: exit status != 0 and a message naming the step and the tensor. */
static void test_divergence_cli(void)
{
    const char *cli = getenv("DSC_CLI");
    if (!cli) {
        printf("  (DSC_CLI not set: CLI check skipped)\n");
        return;
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "'%s' train --model mlp:64-32-10 --data digits --opt sgd:lr=1e30 --epochs 2 --out '%s/test_train_div' "
             "2>&1 >/dev/null",
             cli, DSC_BINARY_DIR);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    if (!p)
        return;
    char out[4096] = "";
    size_t len = fread(out, 1, sizeof out - 1, p);
    out[len] = 0;
    const int status = pclose(p);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 0);
    CHECK(strstr(out, "diverged at step ") != NULL);
    CHECK(strstr(out, "first non-finite value in node ") != NULL);
}

static void test_option_errors(void)
{
    dsc_train_opts o;
    digits_opts(&o);
    dsc_train_result r;
    o.model = "mlp:784-256-10";
    CHECK_STATUS(dsc_train(&o, &r), DSC_ERR_INVALID);
    CHECK(strstr(dsc_last_error(), "--model") && strstr(dsc_last_error(), "[1, 8, 8]"));
    digits_opts(&o);
    o.batch_size = 0;
    CHECK_STATUS(dsc_train(&o, &r), DSC_ERR_RANGE);
    CHECK(strstr(dsc_last_error(), "--batch-size") != NULL);
    digits_opts(&o);
    o.schedule = "cosinus";
    CHECK(dsc_train(&o, &r) != DSC_OK);
    CHECK(strstr(dsc_last_error(), "--schedule") != NULL);
    digits_opts(&o);
    o.data = "linreg:n=100";
    CHECK_STATUS(dsc_train(&o, &r), DSC_ERR_INVALID);
    CHECK(strstr(dsc_last_error(), "regression") != NULL);
}

/* The --threads auto tuner as a state machine fed with synthetic step times: ms_at[k] is the time of
 * a 100-example step on cand[k] threads. Runs until `seconds` of step time; returns the tuner. */
static dsc_thread_tuner simulate(int max_threads, const double *ms_at, double seconds)
{
    dsc_thread_tuner t;
    dsc_thread_tuner_init(&t, max_threads, 0.5, 2.0);
    while (t.time < seconds) {
        int n = dsc_thread_tuner_next(&t), k = 0;
        while (t.cand[k] != n)
            k++;
        dsc_thread_tuner_record(&t, ms_at[k] * 1e-3, 100.0);
    }
    return t;
}

static void test_thread_tuner(void)
{
    /* one core: idle, always 1 */
    const double one[] = {1.0};
    dsc_thread_tuner t = simulate(1, one, 10.0);
    CHECK(t.n_cand == 1 && dsc_thread_tuner_next(&t) == 1 && t.probes == 0);
    /* candidates halve down to 1 */
    dsc_thread_tuner_init(&t, 8, 0.5, 2.0);
    CHECK(t.n_cand == 4 && t.cand[0] == 8 && t.cand[1] == 4 && t.cand[2] == 2 && t.cand[3] == 1);
    CHECK(dsc_thread_tuner_next(&t) == 8);
    /* quiet machine: 2 threads stay; unchanged probes double the period (0.5 s, then 2, 4, 8, 16, 32,
     * 64 s apart: the probes of 100 s start at about 0.5, 2.6, 6.7, 14.8, 31, 63) */
    const double quiet[] = {1.0, 1.8};
    t = simulate(2, quiet, 100.0);
    CHECK(dsc_thread_tuner_next(&t) == 2);
    CHECK(t.switches == 0);
    CHECK(t.probes >= 5 && t.probes <= 7);
    /* a busy core: 1 thread is faster, chosen at the first probe and kept */
    const double busy[] = {3.0, 2.0};
    t = simulate(2, busy, 0.4);
    CHECK(t.probes == 0 && dsc_thread_tuner_next(&t) == 2); /* not before 0.5 s of steps */
    t = simulate(2, busy, 10.0);
    CHECK(dsc_thread_tuner_next(&t) == 1);
    CHECK(t.switches == 1);
    /* 3 % faster is within the noise margin (5 %): no change */
    const double close[] = {1.0, 0.97};
    t = simulate(2, close, 30.0);
    CHECK(dsc_thread_tuner_next(&t) == 2 && t.switches == 0 && t.probes > 0);
    /* each probe measures every candidate for >= 3 steps and >= 0.05 s: with 1 ms steps, 50 steps */
    dsc_thread_tuner_init(&t, 2, 0.5, 2.0);
    int64_t on_one = 0;
    while (t.probes == 0) {
        int n = dsc_thread_tuner_next(&t);
        on_one += n == 1;
        dsc_thread_tuner_record(&t, 1e-3, 100.0);
    }
    CHECK(on_one == 50);
}

/* A warm start from a PyTorch state_dict (tests/fixtures/safetensors/mlp_bn.safetensors, written by
 * tools/gen_safetensors_fixture.py from torch_models.build("mlp:64-32-10,batchnorm=1"); value k, i =
 * ((i*7 + k*13) % 101 - 50) / 64 with k the state_dict index): every parameter and buffer lands by
 * name, num_batches_tracked (not in descent's model) is ignored; a model of another shape is refused
 * with the tensor's name and both shapes. */
static void test_weights_from_torch(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/safetensors/mlp_bn.safetensors", dsc_test_source_dir());
    const int64_t in[1] = {64};
    dsc_model m;
    CHECK_OK(dsc_model_build("mlp:64-32-10,batchnorm=1", 1, in, 10, 8, &m));
    CHECK_OK(dsc_model_init(&m, 0));
    CHECK_OK(dsc_model_load_weights(&m, path));
    /* state_dict order: 0.weight 0.bias 1.weight 1.bias 1.running_mean 1.running_var
     * 1.num_batches_tracked 3.weight 3.bias */
    static const struct { const char *name; int k; int64_t i; } probe[] = {
        {"0.weight", 0, 100}, {"0.bias", 1, 31}, {"1.weight", 2, 5}, {"1.bias", 3, 0},
        {"1.running_mean", 4, 7}, {"1.running_var", 5, 30}, {"3.weight", 7, 319}, {"3.bias", 8, 9}};
    for (size_t q = 0; q < sizeof probe / sizeof probe[0]; q++) {
        dsc_id id = dsc_graph_find(m.g, probe[q].name);
        CHECK(id >= 0);
        if (id < 0)
            continue;
        dsc_tensor v = dsc_node_value(m.g, id);
        float want = (float)((double)(((probe[q].i * 7 + probe[q].k * 13) % 101) - 50) / 64.0);
        CHECK(v.data[v.offset + probe[q].i] == want);
    }
    dsc_model_free(&m);
    CHECK_OK(dsc_model_build("mlp:64-16-10,batchnorm=1", 1, in, 10, 8, &m));
    CHECK_OK(dsc_model_init(&m, 0));
    CHECK_ERR(dsc_model_load_weights(&m, path), DSC_ERR_SHAPE, "tensor '0.weight' has shape [32, 64], expected [16, 64]");
    dsc_model_free(&m);
}

DSC_TEST_MAIN("train", TEST(test_reshuffle_covers_each_example_once), TEST(test_drop_last),
              TEST(test_with_replacement_statistics), TEST(test_determinism_and_saved_position),
              TEST(test_augmentation), TEST(test_training_decreases_loss), TEST(test_evaluate_partial_batch),
              TEST(test_early_stopping), TEST(test_accumulation_equals_large_batch), TEST(test_divergence_library),
              TEST(test_divergence_cli), TEST(test_option_errors), TEST(test_thread_tuner), TEST(test_weights_from_torch))
