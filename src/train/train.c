/* The training loop: data preparation, steps with gradient accumulation, transforms, schedule
 * and optimizer, evaluation each epoch, early stopping, divergence detection, metrics files and
 * checkpoints with bit-identical resume (docs/TRAINING.md). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "descent/optim.h"
#include "descent/runtime.h"
#include "train/thread_tuner.h"
#include "descent/schedule.h"
#include "descent/transform.h"
#include "train/train_internal.h"

/* Fixed seeds of the held-out splits: the test and validation sets do not change with --seed,
 * so runs with different seeds are evaluated on the same examples. */
#define TEST_SPLIT_SEED 0x7e577e57ull
#define VAL_SPLIT_SEED 0x7a1da7eull

/* Layout of the checkpoint's integer and float64 state vectors (train.counters, train.values). */
enum {
    C_STEP, C_EPOCH, C_FWD, C_SAMPLES, C_LD_EPOCH, C_LD_INDEX, C_EP_SEEN, C_EP_CORRECT, C_EP_STEPS, C_BAD_EPOCHS,
    C_JSONL_SIZE, C_CSV_SIZE, C_OPT_STEPS, C_LOG_SEEN, C_STOPPED_EARLY, C_LOG_STEPS, N_COUNTERS
};
enum { V_EP_LOSS, V_BEST, V_TIME, V_LOG_LOSS, V_LAST_LOSS, V_LAST_ACC, V_LAST_TEST_LOSS, V_LAST_TEST_ACC, N_VALUES };

struct dsc_trainer {
    dsc_train_opts o;
    char *s_model, *s_data, *s_data_dir, *s_opt, *s_sched, *s_out, *s_augment, *s_init, *s_weights, *s_config;
    dsc_dataset train, val, test;
    int has_val;
    double *mean, *std; /* standardization statistics (NULL: not standardized) */
    dsc_model m;
    int model_ok;
    dsc_optim *opt;
    dsc_schedule *sched;
    dsc_transform *tx;
    double *base_lrs;
    int n_groups;
    int needs_closure; /* the optimizer re-evaluates the loss: step through batch_closure */
    int no_lr;         /* the optimizer has no lr (polyak): the lr column is null, no schedule */
    float *buf_snap;   /* closure steps: graph buffers after the step's first evaluation */
    dsc_loader loader;
    float *xb, *yb;
    int64_t steps_per_epoch, total_steps;

    /* Progress (all in the checkpoint). */
    int64_t step, epoch, samples;
    double ep_loss;
    int64_t ep_seen, ep_correct, ep_steps;
    double log_loss;
    int64_t log_seen, log_steps;
    double best;
    int64_t bad_epochs;
    int stopped_early;
    double time_s;
    double last_loss, last_acc, last_test_loss, last_test_acc;

    FILE *jsonl, *csv;
    char ckpt_path[4096];
    dsc_thread_tuner tuner; /* --threads auto (idle otherwise) */
    int threads_now;
};

/* A copy of the last error message: DSC_ERROR must not read the buffer it writes. */
static const char *last_err(void)
{
    static _Thread_local char buf[1024];
    snprintf(buf, sizeof buf, "%s", dsc_last_error());
    return buf;
}

static char *dupstr(const char *s)
{
    char *d = s ? malloc(strlen(s) + 1) : NULL;
    return d ? strcpy(d, s) : NULL;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void dsc_train_opts_init(dsc_train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->opt = "adam:lr=1e-3";
    o->epochs = 1;
    o->batch_size = 32;
    o->keep = 2;
    o->test_split = 0.2;
    o->accumulate = 1;
    o->standardize = -1;
    o->log_every = 1;
}

/* ---- data ------------------------------------------------------------------------------- */

static dsc_status prepare_data(dsc_trainer *t)
{
    const dsc_train_opts *o = &t->o;
    dsc_data_opts dopt;
    dsc_data_opts_init(&dopt);
    dopt.data_dir = o->data_dir;
    dopt.split = "train";
    dopt.seed = o->seed;
    dsc_dataset full;
    memset(&full, 0, sizeof full);
    dsc_status st = dsc_dataset_load_opts(o->data, &dopt, &full);
    if (st != DSC_OK)
        return DSC_ERROR(st, "--data: %s", last_err());
    if (full.sparse && (st = dsc_dataset_densify(&full, 0)) != DSC_OK)
        goto fail;
    if ((st = dsc_dataset_to_dtype(&full, DSC_DATA_F32)) != DSC_OK)
        goto fail;
    if (full.num_classes < 2 || !full.y) {
        st = DSC_ERROR(DSC_ERR_INVALID,
                       "--data: '%s' has %s; descent train fits classifiers (use a classification set such as "
                       "digits, fashion-mnist or blobs)",
                       o->data, full.y ? "regression targets" : "no labels");
        goto fail;
    }
    /* The test split: the data set's own, else a fixed held-out part of the training data. */
    dopt.split = "test";
    st = dsc_dataset_load_opts(o->data, &dopt, &t->test);
    if (st == DSC_ERR_UNSUPPORTED) {
        dsc_clear_error();
        dsc_dataset_free(&t->test);
        memset(&t->test, 0, sizeof t->test);
        if (o->test_split <= 0 || o->test_split >= 1) {
            st = DSC_ERROR(DSC_ERR_RANGE, "--test-split %g: '%s' has no test split, so a fraction in (0, 1) of it is "
                           "held out", o->test_split, o->data);
            goto fail;
        }
        st = dsc_dataset_split(&full, o->test_split, TEST_SPLIT_SEED, &t->train, &t->test);
    } else if (st == DSC_OK) {
        if (t->test.sparse)
            st = dsc_dataset_densify(&t->test, 0);
        if (st == DSC_OK)
            st = dsc_dataset_to_dtype(&t->test, DSC_DATA_F32);
        if (st == DSC_OK)
            st = dsc_dataset_copy(&full, &t->train);
    }
    if (st != DSC_OK)
        goto fail;
    dsc_dataset_free(&full);
    if (t->test.d != t->train.d) {
        st = DSC_ERROR(DSC_ERR_FORMAT, "--data: the test split of '%s' has %lld features, the training split %lld",
                       o->data, (long long)t->test.d, (long long)t->train.d);
        return st;
    }
    if (o->val_split > 0) {
        dsc_dataset tr;
        DSC_TRY(dsc_dataset_split(&t->train, o->val_split, VAL_SPLIT_SEED, &tr, &t->val));
        dsc_dataset_free(&t->train);
        t->train = tr;
        t->has_val = 1;
        if (t->val.n < 1 || t->train.n < 1)
            return DSC_ERROR(DSC_ERR_RANGE, "--val-split %g leaves %lld training and %lld validation examples",
                             o->val_split, (long long)t->train.n, (long long)t->val.n);
    }
    if (t->train.n < 1)
        return DSC_ERROR(DSC_ERR_RANGE, "--data: no training examples left in '%s'", o->data);
    /* auto: per channel for images (torchvision's Normalize with the data set's channel mean and
     * std), per feature for tabular data. */
    int mode = o->standardize;
    if (mode == DSC_STANDARDIZE_AUTO)
        mode = t->train.feat_ndim == 3 ? DSC_STANDARDIZE_CHANNEL : DSC_STANDARDIZE_FEATURE;
    if (mode == DSC_STANDARDIZE_CHANNEL && t->train.feat_ndim != 3)
        return DSC_ERROR(DSC_ERR_INVALID, "--standardize channel needs image data [C, H, W]; '%s' has %d-dimensional "
                         "examples (use feature)", o->data, t->train.feat_ndim);
    /* (evaluating a run's checkpoint: its saved statistics are applied in load_checkpoint instead) */
    if (mode != DSC_STANDARDIZE_OFF && !(o->eval_only && o->resume_dir)) {
        const size_t d = (size_t)t->train.d;
        t->mean = malloc(d * sizeof *t->mean);
        t->std = malloc(d * sizeof *t->std);
        if (!t->mean || !t->std)
            return DSC_ERROR(DSC_ERR_NOMEM, "standardize: out of memory");
        if (mode == DSC_STANDARDIZE_FEATURE) {
            DSC_TRY(dsc_dataset_standardize(&t->train, t->mean, t->std));
        } else {
            /* Population mean and std of each channel over all training pixels (double sums in a
             * fixed order), expanded to per-feature vectors so that the same apply and checkpoint
             * code serve both modes. */
            const int64_t C = t->train.feat_shape[0], HW = (int64_t)d / C, n = t->train.n;
            for (int64_t c = 0; c < C; c++) {
                double s1 = 0, s2 = 0;
                for (int64_t i = 0; i < n; i++)
                    for (int64_t k = 0; k < HW; k++) {
                        const double v = t->train.x[i * (int64_t)d + c * HW + k];
                        s1 += v;
                        s2 += v * v;
                    }
                const double cnt = (double)n * (double)HW, mu = s1 / cnt;
                double var = s2 / cnt - mu * mu;
                double sd = var > 0 ? sqrt(var) : 0;
                if (!(sd > 0))
                    sd = 1;
                for (int64_t k = 0; k < HW; k++) {
                    t->mean[c * HW + k] = mu;
                    t->std[c * HW + k] = sd;
                }
            }
            DSC_TRY(dsc_dataset_apply_standardize(&t->train, t->mean, t->std));
        }
        DSC_TRY(dsc_dataset_apply_standardize(&t->test, t->mean, t->std));
        if (t->has_val)
            DSC_TRY(dsc_dataset_apply_standardize(&t->val, t->mean, t->std));
    }
    return DSC_OK;
fail:
    dsc_dataset_free(&full);
    return st;
}

/* ---- run directory files ----------------------------------------------------------------- */

static dsc_status mkdir_p(const char *dir)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
        return DSC_ERROR(DSC_ERR_INVALID, "--out: path too long");
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) && errno != EEXIST)
                return DSC_ERROR(DSC_ERR_IO, "--out: cannot create %s: %s", buf, strerror(errno));
            *p = '/';
        }
    if (mkdir(buf, 0777) && errno != EEXIST)
        return DSC_ERROR(DSC_ERR_IO, "--out: cannot create %s: %s", buf, strerror(errno));
    return DSC_OK;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        const unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static dsc_status write_config(dsc_trainer *t)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", t->o.out_dir);
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return DSC_ERROR(DSC_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    if (t->o.config_json) {
        const size_t len = strlen(t->o.config_json);
        fputs(t->o.config_json, f);
        if (!len || t->o.config_json[len - 1] != '\n')
            fputc('\n', f);
    } else {
        const dsc_train_opts *o = &t->o;
        fprintf(f, "{\n  \"model\": ");
        json_str(f, o->model);
        fprintf(f, ",\n  \"data\": ");
        json_str(f, o->data);
        fprintf(f, ",\n  \"opt\": ");
        json_str(f, o->opt);
        fprintf(f, ",\n  \"schedule\": ");
        json_str(f, o->schedule ? o->schedule : "constant");
        fprintf(f, ",\n  \"epochs\": %lld,\n  \"steps\": %lld,\n  \"batch-size\": %lld,\n  \"seed\": %llu,\n",
                (long long)o->epochs, (long long)o->steps, (long long)o->batch_size, (unsigned long long)o->seed);
        fprintf(f, "  \"no-decay-bias-norm\": %s,\n", o->no_decay_bias_norm ? "true" : "false");
        fprintf(f, "  \"descent_version\": ");
        json_str(f, dsc_version());
        fprintf(f, ",\n  \"git_commit\": ");
        json_str(f, dsc_git_commit());
        fprintf(f, "\n}\n");
    }
    int bad = fflush(f) != 0 || ferror(f);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path)) {
        remove(tmp);
        return DSC_ERROR(DSC_ERR_IO, "cannot write %s", path);
    }
    return DSC_OK;
}

static const char *const csv_cols[] = {"kind", "step", "epoch", "train_loss", "lr", "time_s", "samples",
                                       "train_acc", "val_loss", "val_acc", "val_top5", "test_loss", "test_acc",
                                       "test_top5", "samples_per_s", "grad_norm", NULL};
#define N_CSV_COLS 16

/* One metrics line: values by column (NaN = absent, except train_loss which is null when not finite). */
typedef struct mline {
    const char *kind;
    int64_t step, epoch, samples;
    double v[N_CSV_COLS];
} mline;

static void mline_init(mline *l, const char *kind, int64_t step, int64_t epoch, int64_t samples)
{
    l->kind = kind;
    l->step = step;
    l->epoch = epoch;
    l->samples = samples;
    for (int i = 0; i < N_CSV_COLS; i++)
        l->v[i] = NAN;
}

static int col_of(const char *name)
{
    for (int i = 0; csv_cols[i]; i++)
        if (!strcmp(csv_cols[i], name))
            return i;
    return -1;
}

#define MSET(l, name, val) ((l)->v[col_of(name)] = (val))

static void fmt_num(char *buf, size_t n, const char *col, double v)
{
    if (!strcmp(col, "time_s"))
        snprintf(buf, n, "%.3f", v);
    else if (!strcmp(col, "samples_per_s"))
        snprintf(buf, n, "%.0f", v);
    else
        snprintf(buf, n, "%.9g", v);
}

static dsc_status write_mline(dsc_trainer *t, const mline *l)
{
    if (!t->jsonl)
        return DSC_OK;
    char num[64];
    fprintf(t->jsonl, "{\"kind\":\"%s\",\"step\":%lld,\"epoch\":%lld", l->kind, (long long)l->step,
            (long long)l->epoch);
    fprintf(t->csv, "%s,%lld,%lld", l->kind, (long long)l->step, (long long)l->epoch);
    for (int i = 3; i < N_CSV_COLS; i++) {
        const char *c = csv_cols[i];
        if (!strcmp(c, "samples")) {
            fprintf(t->jsonl, ",\"samples\":%lld", (long long)l->samples);
            fprintf(t->csv, ",%lld", (long long)l->samples);
            continue;
        }
        const double v = l->v[i];
        if (isnan(v) && strcmp(c, "train_loss")) {
            fputc(',', t->csv);
            continue;
        }
        if (!isfinite(v)) {
            fprintf(t->jsonl, ",\"%s\":null", c);
            fputc(',', t->csv);
            continue;
        }
        fmt_num(num, sizeof num, c, v);
        fprintf(t->jsonl, ",\"%s\":%s", c, num);
        fprintf(t->csv, ",%s", num);
    }
    fputs("}\n", t->jsonl);
    fputc('\n', t->csv);
    if (fflush(t->jsonl) || fflush(t->csv))
        return DSC_ERROR(DSC_ERR_IO, "cannot write the metrics files in %s: %s", t->o.out_dir, strerror(errno));
    return DSC_OK;
}

static dsc_status open_metrics(dsc_trainer *t, int64_t jsonl_size, int64_t csv_size)
{
    char pj[4200], pc[4200];
    snprintf(pj, sizeof pj, "%s/metrics.jsonl", t->o.out_dir);
    snprintf(pc, sizeof pc, "%s/metrics.csv", t->o.out_dir);
    if (jsonl_size >= 0) {
        /* Resume: cut what the run wrote after its checkpoint, so the files continue exactly. */
        if (truncate(pj, (off_t)jsonl_size) || truncate(pc, (off_t)csv_size))
            return DSC_ERROR(DSC_ERR_IO, "--resume: cannot truncate the metrics files of %s to the checkpoint: %s",
                             t->o.out_dir, strerror(errno));
        t->jsonl = fopen(pj, "a");
        t->csv = fopen(pc, "a");
    } else {
        t->jsonl = fopen(pj, "w");
        t->csv = fopen(pc, "w");
        if (t->csv) {
            for (int i = 0; csv_cols[i]; i++)
                fprintf(t->csv, "%s%s", i ? "," : "", csv_cols[i]);
            fputc('\n', t->csv);
            fflush(t->csv);
        }
    }
    if (!t->jsonl || !t->csv)
        return DSC_ERROR(DSC_ERR_IO, "cannot open the metrics files in %s: %s", t->o.out_dir, strerror(errno));
    return DSC_OK;
}

/* ---- checkpoints -------------------------------------------------------------------------- */

static dsc_status save_checkpoint(dsc_trainer *t)
{
    if (!t->o.out_dir)
        return DSC_OK;
    const int nm = dsc_train_model_tensor_count(&t->m);
    const int nob = dsc_optim_num_buffers(t->opt);
    const int cap = nm + nob + 8;
    dsc_st_tensor *ts = calloc((size_t)cap, sizeof *ts);
    char(*names)[96] = calloc((size_t)(nob > 0 ? nob : 1), sizeof *names);
    if (!ts || !names) {
        free(ts);
        free(names);
        return DSC_ERROR(DSC_ERR_NOMEM, "checkpoint: out of memory");
    }
    int n = dsc_train_model_tensors(&t->m, ts, nm);
    dsc_status st = DSC_OK;
    for (int i = 0; i < nob && st == DSC_OK; i++) {
        dsc_optim_buffer b;
        st = dsc_optim_buffer_at(t->opt, i, &b);
        if (st != DSC_OK)
            break;
        snprintf(names[i], sizeof names[i], "optim.%d.%s", i, b.name);
        const int64_t len = (int64_t)b.len;
        ts[n++] = dsc_st_tensor_make(names[i], b.dtype == DSC_FLOAT64 ? DSC_ST_F64 : DSC_ST_F32, 1, &len, b.data);
    }
    const dsc_loader_state ls = dsc_loader_get_state(&t->loader);
    int64_t cnt[N_COUNTERS] = {0};
    cnt[C_STEP] = t->step;
    cnt[C_EPOCH] = t->epoch;
    cnt[C_FWD] = (int64_t)dsc_graph_forward_counter(t->m.g);
    cnt[C_SAMPLES] = t->samples;
    cnt[C_LD_EPOCH] = ls.epoch;
    cnt[C_LD_INDEX] = ls.index;
    cnt[C_EP_SEEN] = t->ep_seen;
    cnt[C_EP_CORRECT] = t->ep_correct;
    cnt[C_EP_STEPS] = t->ep_steps;
    cnt[C_BAD_EPOCHS] = t->bad_epochs;
    cnt[C_JSONL_SIZE] = t->jsonl ? (int64_t)ftell(t->jsonl) : 0;
    cnt[C_CSV_SIZE] = t->csv ? (int64_t)ftell(t->csv) : 0;
    cnt[C_OPT_STEPS] = dsc_optim_steps(t->opt);
    cnt[C_LOG_SEEN] = t->log_seen;
    cnt[C_STOPPED_EARLY] = t->stopped_early;
    cnt[C_LOG_STEPS] = t->log_steps;
    double val[N_VALUES] = {t->ep_loss, t->best, t->time_s, t->log_loss, t->last_loss, t->last_acc,
                            t->last_test_loss, t->last_test_acc};
    uint64_t rng[2] = {ls.rng_key, ls.rng_counter};
    double sstate[DSC_SCHEDULE_STATE_LEN];
    dsc_schedule_state_save(t->sched, sstate);
    const int64_t ncnt = N_COUNTERS, nval = N_VALUES, two = 2, nss = DSC_SCHEDULE_STATE_LEN, d = t->train.d;
    ts[n++] = dsc_st_tensor_make("train.counters", DSC_ST_I64, 1, &ncnt, cnt);
    ts[n++] = dsc_st_tensor_make("train.values", DSC_ST_F64, 1, &nval, val);
    ts[n++] = dsc_st_tensor_make("loader.rng", DSC_ST_U64, 1, &two, rng);
    ts[n++] = dsc_st_tensor_make("schedule.state", DSC_ST_F64, 1, &nss, sstate);
    if (t->mean) {
        ts[n++] = dsc_st_tensor_make("data.mean", DSC_ST_F64, 1, &d, t->mean);
        ts[n++] = dsc_st_tensor_make("data.std", DSC_ST_F64, 1, &d, t->std);
    }
    const dsc_st_meta meta[3] = {{"model", t->o.model}, {"opt", t->o.opt}, {"data", t->o.data}};
    if (st == DSC_OK)
        st = dsc_checkpoint_save(t->o.out_dir, t->epoch, t->step, ts, n, meta, 3, t->o.keep, t->ckpt_path,
                                 sizeof t->ckpt_path);
    free(ts);
    free(names);
    return st;
}

static dsc_status get_vec(const dsc_safetensors *s, const char *what, const char *name, dsc_st_dtype dt, int64_t len,
                          void *dst)
{
    return dsc_safetensors_get(s, what, name, dt, 1, &len, dst);
}

static void warn_ckpt(const char *msg, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "warning: %s\n", msg);
}

static dsc_status load_checkpoint(dsc_trainer *t, int64_t *jsonl_size, int64_t *csv_size)
{
    dsc_safetensors s;
    char path[4096];
    dsc_status st = dsc_checkpoint_load_latest(t->o.resume_dir, warn_ckpt, NULL, &s, path, sizeof path, NULL, NULL);
    if (st != DSC_OK)
        return DSC_ERROR(st, "--resume %s: %s", t->o.resume_dir, last_err());
    st = dsc_train_model_from(&t->m, &s, path);
    if (t->o.eval_only) {
        /* Evaluation: the weights and the training split's standardization statistics. */
        const size_t d = (size_t)t->train.d;
        if (st == DSC_OK && dsc_safetensors_find(&s, "data.mean")) {
            t->mean = malloc(d * sizeof *t->mean);
            t->std = malloc(d * sizeof *t->std);
            if (!t->mean || !t->std)
                st = DSC_ERROR(DSC_ERR_NOMEM, "--resume: out of memory");
            if (st == DSC_OK)
                st = get_vec(&s, path, "data.mean", DSC_ST_F64, (int64_t)d, t->mean);
            if (st == DSC_OK)
                st = get_vec(&s, path, "data.std", DSC_ST_F64, (int64_t)d, t->std);
            if (st == DSC_OK)
                st = dsc_dataset_apply_standardize(&t->test, t->mean, t->std);
            if (st == DSC_OK && t->has_val)
                st = dsc_dataset_apply_standardize(&t->val, t->mean, t->std);
            if (st == DSC_OK)
                st = dsc_dataset_apply_standardize(&t->train, t->mean, t->std);
        }
        if (st == DSC_OK)
            snprintf(t->ckpt_path, sizeof t->ckpt_path, "%s", path);
        dsc_safetensors_free(&s);
        return st;
    }
    for (int i = 0; st == DSC_OK && i < dsc_optim_num_buffers(t->opt); i++) {
        dsc_optim_buffer b;
        char name[96];
        st = dsc_optim_buffer_at(t->opt, i, &b);
        snprintf(name, sizeof name, "optim.%d.%s", i, b.name);
        if (st == DSC_OK)
            st = get_vec(&s, path, name, b.dtype == DSC_FLOAT64 ? DSC_ST_F64 : DSC_ST_F32, (int64_t)b.len, b.data);
    }
    int64_t cnt[N_COUNTERS];
    double val[N_VALUES], sstate[DSC_SCHEDULE_STATE_LEN];
    uint64_t rng[2];
    if (st == DSC_OK)
        st = get_vec(&s, path, "train.counters", DSC_ST_I64, N_COUNTERS, cnt);
    if (st == DSC_OK)
        st = get_vec(&s, path, "train.values", DSC_ST_F64, N_VALUES, val);
    if (st == DSC_OK)
        st = get_vec(&s, path, "loader.rng", DSC_ST_U64, 2, rng);
    if (st == DSC_OK)
        st = get_vec(&s, path, "schedule.state", DSC_ST_F64, DSC_SCHEDULE_STATE_LEN, sstate);
    if (st == DSC_OK && t->mean) {
        /* The statistics are recomputed from the same data; the saved ones must agree. */
        const size_t d = (size_t)t->train.d;
        double *m2 = malloc(2 * d * sizeof *m2);
        if (!m2)
            st = DSC_ERROR(DSC_ERR_NOMEM, "--resume: out of memory");
        if (st == DSC_OK)
            st = get_vec(&s, path, "data.mean", DSC_ST_F64, (int64_t)d, m2);
        if (st == DSC_OK)
            st = get_vec(&s, path, "data.std", DSC_ST_F64, (int64_t)d, m2 + d);
        if (st == DSC_OK && (memcmp(m2, t->mean, d * sizeof *m2) || memcmp(m2 + d, t->std, d * sizeof *m2)))
            st = DSC_ERROR(DSC_ERR_INVALID, "--resume %s: the data's standardization statistics differ from the "
                           "checkpoint's (another --data, --val-split or --test-split?)", t->o.resume_dir);
        free(m2);
    }
    if (st == DSC_OK) {
        dsc_loader_state ls = {cnt[C_LD_EPOCH], cnt[C_LD_INDEX], rng[0], rng[1]};
        st = dsc_loader_set_state(&t->loader, &ls);
        if (st != DSC_OK)
            st = DSC_ERROR(st, "--resume %s: %s (another --seed or --batch-size?)", t->o.resume_dir, last_err());
    }
    if (st == DSC_OK)
        st = dsc_schedule_state_load(t->sched, sstate);
    if (st == DSC_OK)
        st = dsc_optim_set_steps(t->opt, cnt[C_OPT_STEPS]);
    if (st == DSC_OK) {
        t->step = cnt[C_STEP];
        t->epoch = cnt[C_EPOCH];
        dsc_graph_set_forward_counter(t->m.g, (uint64_t)cnt[C_FWD]);
        t->samples = cnt[C_SAMPLES];
        t->ep_seen = cnt[C_EP_SEEN];
        t->ep_correct = cnt[C_EP_CORRECT];
        t->ep_steps = cnt[C_EP_STEPS];
        t->bad_epochs = cnt[C_BAD_EPOCHS];
        *jsonl_size = cnt[C_JSONL_SIZE];
        *csv_size = cnt[C_CSV_SIZE];
        t->log_seen = cnt[C_LOG_SEEN];
        t->stopped_early = (int)cnt[C_STOPPED_EARLY];
        t->log_steps = cnt[C_LOG_STEPS];
        t->ep_loss = val[V_EP_LOSS];
        t->best = val[V_BEST];
        t->time_s = val[V_TIME];
        t->log_loss = val[V_LOG_LOSS];
        t->last_loss = val[V_LAST_LOSS];
        t->last_acc = val[V_LAST_ACC];
        t->last_test_loss = val[V_LAST_TEST_LOSS];
        t->last_test_acc = val[V_LAST_TEST_ACC];
        snprintf(t->ckpt_path, sizeof t->ckpt_path, "%s", path);
    }
    dsc_safetensors_free(&s);
    return st;
}

/* ---- parameter groups ---------------------------------------------------------------------- */

/* 1 for the parameters --no-decay-bias-norm exempts from weight decay: every "<module>.bias", and
 * "<module>.weight" of a layer whose kind (in the model's layer table) contains "Norm"
 * (BatchNorm1d, BatchNorm2d, LayerNorm), as in the usual recipe (e.g. Goyal et al. 2017, timm's
 * param_groups_weight_decay, which exempts all 1-D parameters). */
static int no_decay_param(const dsc_model *m, const char *name)
{
    const size_t len = strlen(name);
    if (len >= 5 && !strcmp(name + len - 5, ".bias"))
        return 1;
    if (len < 7 || strcmp(name + len - 7, ".weight"))
        return 0;
    for (int i = 0; i < m->n_layers; i++) {
        const char *ln = m->layers[i].name;
        if (strstr(m->layers[i].kind, "Norm") && strlen(ln) == len - 7 && !strncmp(ln, name, len - 7))
            return 1;
    }
    return 0;
}

/* One group "weight_decay=0" per run of adjacent exempt tensors in the flat buffer (fewer groups,
 * the same update). The groups depend only on the model spec, so a resumed run rebuilds them. */
static dsc_status add_no_decay_groups(dsc_trainer *t)
{
    dsc_graph *g = t->m.g;
    size_t run_off = 0, run_len = 0;
    for (int i = 0; i <= dsc_graph_param_count(g); i++) {
        const char *name = NULL;
        dsc_shape sh;
        size_t off = 0;
        int exempt = 0;
        if (i < dsc_graph_param_count(g)) {
            DSC_TRY(dsc_graph_param_info(g, i, &name, &sh, &off));
            exempt = no_decay_param(&t->m, name);
        }
        const size_t n = exempt ? (size_t)dsc_shape_numel(&sh) : 0;
        if (exempt && run_len && off == run_off + run_len) {
            run_len += n;
            continue;
        }
        if (run_len) {
            const dsc_status st = dsc_optim_add_group(t->opt, run_off, run_len, "weight_decay=0", NULL);
            if (st != DSC_OK)
                return DSC_ERROR(st == DSC_ERR_UNSUPPORTED ? DSC_ERR_INVALID : st, "--no-decay-bias-norm: %s",
                                 last_err());
        }
        run_off = off;
        run_len = n;
    }
    return DSC_OK;
}

/* ---- construction ------------------------------------------------------------------------ */

dsc_status dsc_trainer_new(const dsc_train_opts *opts, dsc_trainer **out)
{
    if (!opts || !out)
        return DSC_ERROR(DSC_ERR_INVALID, "trainer: NULL argument");
    *out = NULL;
    const dsc_train_opts *o = opts;
    if (!o->model || !*o->model)
        return DSC_ERROR(DSC_ERR_INVALID, "--model: missing (valid models: %s)", dsc_model_names());
    if (!o->data || !*o->data)
        return DSC_ERROR(DSC_ERR_INVALID, "--data: missing (a name such as digits or fashion-mnist, a generator "
                         "spec such as spirals:n=1000, or a .csv/.libsvm/.npy file)");
    if (o->epochs < 0 || o->steps < 0 || (o->epochs == 0 && o->steps == 0))
        return DSC_ERROR(DSC_ERR_RANGE, "--epochs %lld / --steps %lld: give a positive number of epochs or steps",
                         (long long)o->epochs, (long long)o->steps);
    if (o->batch_size < 1 || o->batch_size > (1 << 20))
        return DSC_ERROR(DSC_ERR_RANGE, "--batch-size %lld is out of range [1, 1048576]", (long long)o->batch_size);
    if (o->accumulate < 1 || o->accumulate > 1 << 16)
        return DSC_ERROR(DSC_ERR_RANGE, "--accumulate %d is out of range [1, 65536]", o->accumulate);
    if (!(o->val_split >= 0 && o->val_split < 1))
        return DSC_ERROR(DSC_ERR_RANGE, "--val-split %g is out of range [0, 1)", o->val_split);
    if (o->early_stop < 0)
        return DSC_ERROR(DSC_ERR_RANGE, "--early-stop %d must be >= 0", o->early_stop);
    if (o->early_stop > 0 && o->val_split <= 0)
        return DSC_ERROR(DSC_ERR_INVALID, "--early-stop needs a validation set: add --val-split F (e.g. 0.1)");
    if (!(o->clip_norm >= 0) || !isfinite(o->clip_norm))
        return DSC_ERROR(DSC_ERR_RANGE, "--clip-norm %g must be a finite number >= 0", o->clip_norm);
    if (o->keep < 0)
        return DSC_ERROR(DSC_ERR_RANGE, "--keep %d must be >= 0 (0 keeps every checkpoint)", o->keep);
    if ((o->threads < 0 && o->threads != DSC_TRAIN_THREADS_AUTO) || o->threads > 1024)
        return DSC_ERROR(DSC_ERR_RANGE, "--threads %d is out of range [0, 1024] (or auto)", o->threads);

    dsc_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return DSC_ERROR(DSC_ERR_NOMEM, "trainer: out of memory");
    t->o = *o;
    t->s_model = dupstr(o->model);
    t->s_data = dupstr(o->data);
    t->s_data_dir = dupstr(o->data_dir);
    t->s_opt = dupstr(o->opt ? o->opt : "adam:lr=1e-3");
    t->s_sched = dupstr(o->schedule && *o->schedule ? o->schedule : "constant");
    t->s_out = dupstr(o->out_dir ? o->out_dir : o->resume_dir);
    t->s_augment = dupstr(o->augment);
    t->s_init = dupstr(o->init);
    t->s_weights = dupstr(o->weights);
    t->s_config = dupstr(o->config_json);
    t->o.model = t->s_model;
    t->o.data = t->s_data;
    t->o.data_dir = t->s_data_dir;
    t->o.opt = t->s_opt;
    t->o.schedule = t->s_sched;
    t->o.out_dir = t->s_out;
    t->o.augment = t->s_augment;
    t->o.init = t->s_init;
    t->o.weights = t->s_weights;
    t->o.config_json = t->s_config;
    if (t->o.log_every < 1)
        t->o.log_every = 1;
    t->best = INFINITY;
    t->last_loss = t->last_acc = t->last_test_loss = t->last_test_acc = NAN;
    if (o->threads > 0 || o->threads == DSC_TRAIN_THREADS_AUTO)
        dsc_set_num_threads(o->threads > 0 ? o->threads : 0);
    t->threads_now = dsc_get_num_threads();
    /* auto: the first probe after 0.5 s of step time (DESCENT_THREADS_PROBE_AFTER=SECONDS changes it),
     * then every 2 s, doubling while the choice holds; on a quiet machine under 1 % of the time goes to
     * the slower candidates (0.05 s each) */
    {
        double first = 0.5;
        const char *env = getenv("DESCENT_THREADS_PROBE_AFTER");
        if (env && *env) {
            char *end;
            double v = strtod(env, &end);
            if (*end == '\0' && v >= 0 && v < 1e9)
                first = v;
        }
        dsc_thread_tuner_init(&t->tuner, o->threads == DSC_TRAIN_THREADS_AUTO ? t->threads_now : 1, first, 2.0);
    }

    dsc_status st;
    dsc_augment aug;
    if ((st = dsc_augment_parse(t->o.augment, &aug)) != DSC_OK)
        goto fail;
    if ((st = prepare_data(t)) != DSC_OK)
        goto fail;
    {
        const dsc_dataset *ds = &t->train;
        char shp[64];
        dsc_shape fs = dsc_shape_make(ds->feat_ndim, ds->feat_shape);
        dsc_shape_str(&fs, shp, sizeof shp);
        st = dsc_model_build(t->o.model, ds->feat_ndim, ds->feat_shape, (int)ds->num_classes, o->batch_size, &t->m);
        if (st != DSC_OK) {
            st = DSC_ERROR(st, "--model: %s (data '%s' has examples of shape %s and %lld classes)", last_err(),
                           t->o.data, shp, (long long)ds->num_classes);
            goto fail;
        }
        t->model_ok = 1;
        if (t->m.num_classes != ds->num_classes) {
            st = DSC_ERROR(DSC_ERR_SHAPE, "--model: '%s' has %d outputs but data '%s' has %lld classes", t->o.model,
                           t->m.num_classes, t->o.data, (long long)ds->num_classes);
            goto fail;
        }
    }
    {
        dsc_init wi;
        if (t->o.init && (st = dsc_init_parse(t->o.init, &wi)) != DSC_OK) {
            st = DSC_ERROR(st, "--init: %s", last_err());
            goto fail;
        }
        if ((st = dsc_model_init_custom(&t->m, o->seed, t->o.init ? &wi : NULL)) != DSC_OK)
            goto fail;
        /* a warm start (PyTorch's load_state_dict): every parameter and buffer by name and shape;
         * tensors of the file that the model lacks (e.g. num_batches_tracked) are ignored */
        if (t->o.weights && !t->o.resume_dir && (st = dsc_model_load_weights(&t->m, t->o.weights)) != DSC_OK) {
            st = DSC_ERROR(st, "--weights: %s", last_err());
            goto fail;
        }
    }
    dsc_graph_set_seed(t->m.g, o->seed);
    dsc_graph_set_training(t->m.g, 1);
    size_t P;
    dsc_graph_params(t->m.g, &P);
    if ((st = dsc_optim_new(t->o.opt, P, DSC_FLOAT32, &t->opt)) != DSC_OK) {
        st = DSC_ERROR(st, "--opt: %s", last_err());
        goto fail;
    }
    if (o->no_decay_bias_norm && (st = add_no_decay_groups(t)) != DSC_OK)
        goto fail;
    t->needs_closure = dsc_optim_needs_closure(t->opt);
    if (t->needs_closure && o->accumulate > 1) {
        st = DSC_ERROR(DSC_ERR_INVALID, "--accumulate %d: optimizer %s re-evaluates the loss on the step's batch "
                       "(a closure), which needs --accumulate 1", o->accumulate, dsc_optim_name(t->opt));
        goto fail;
    }
    t->n_groups = dsc_optim_num_groups(t->opt);
    t->base_lrs = malloc((size_t)t->n_groups * sizeof *t->base_lrs);
    if (!t->base_lrs) {
        st = DSC_ERROR(DSC_ERR_NOMEM, "trainer: out of memory");
        goto fail;
    }
    for (int gi = 0; gi < t->n_groups; gi++)
        t->base_lrs[gi] = dsc_optim_get_lr(t->opt, gi);
    if ((st = dsc_schedule_new(t->o.schedule, &t->sched)) != DSC_OK) {
        st = DSC_ERROR(st, "--schedule: %s", last_err());
        goto fail;
    }
    /* Optimizers without an lr (polyak computes its step size): nothing for a schedule to drive. */
    t->no_lr = isnan(t->base_lrs[0]);
    if (t->no_lr && strcmp(dsc_schedule_kind(t->sched), "constant")) {
        st = DSC_ERROR(DSC_ERR_INVALID, "--schedule %s: optimizer %s has no lr to schedule (it computes its own "
                       "step size); use --schedule constant", t->o.schedule, dsc_optim_name(t->opt));
        goto fail;
    }
    if (t->needs_closure) {
        size_t nb = 0;
        dsc_graph_buffers(t->m.g, &nb);
        t->buf_snap = malloc((nb ? nb : 1) * sizeof *t->buf_snap);
        if (!t->buf_snap) {
            st = DSC_ERROR(DSC_ERR_NOMEM, "trainer: out of memory");
            goto fail;
        }
    }
    {
        char spec[128] = "";
        if (o->clip_norm > 0)
            snprintf(spec, sizeof spec, "clip_norm:max_norm=%.17g", o->clip_norm);
        if ((st = dsc_transform_new(spec, &t->tx)) != DSC_OK) {
            st = DSC_ERROR(st, "--clip-norm: %s", last_err());
            goto fail;
        }
    }
    {
        dsc_loader_opts lo;
        dsc_loader_opts_init(&lo);
        lo.batch_size = o->batch_size;
        lo.sampling = o->sampling == DSC_SAMPLE_REPLACEMENT ? DSC_SAMPLE_REPLACEMENT : DSC_SAMPLE_SHUFFLE;
        lo.drop_last = o->drop_last;
        lo.augment = aug;
        lo.seed = o->seed;
        if ((st = dsc_loader_init(&t->loader, &t->train, &lo)) != DSC_OK) {
            goto fail;
        }
    }
    t->xb = malloc((size_t)(o->batch_size * t->train.d) * sizeof *t->xb);
    t->yb = malloc((size_t)o->batch_size * sizeof *t->yb);
    if (!t->xb || !t->yb) {
        st = DSC_ERROR(DSC_ERR_NOMEM, "trainer: out of memory for a batch of %lld", (long long)o->batch_size);
        goto fail;
    }
    {
        const int64_t nb = dsc_loader_batches_per_epoch(&t->loader);
        t->steps_per_epoch = (nb + o->accumulate - 1) / o->accumulate;
        t->total_steps = o->steps > 0 ? o->steps : o->epochs * t->steps_per_epoch;
    }
    int64_t jsonl_size = -1, csv_size = -1;
    if (t->o.resume_dir && (st = load_checkpoint(t, &jsonl_size, &csv_size)) != DSC_OK)
        goto fail;
    if (t->o.eval_only)
        t->o.out_dir = NULL;
    if (t->o.out_dir) {
        if ((st = mkdir_p(t->o.out_dir)) != DSC_OK || (st = write_config(t)) != DSC_OK ||
            (st = open_metrics(t, t->o.resume_dir ? jsonl_size : -1, csv_size)) != DSC_OK)
            goto fail;
    }
    *out = t;
    return DSC_OK;
fail:;
    /* Keep the message across the frees (they do not record errors, but be safe). */
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", dsc_last_error());
    dsc_trainer_free(t);
    return DSC_ERROR(st, "%s", msg);
}

void dsc_trainer_free(dsc_trainer *t)
{
    if (!t)
        return;
    if (t->jsonl)
        fclose(t->jsonl);
    if (t->csv)
        fclose(t->csv);
    free(t->xb);
    free(t->yb);
    dsc_loader_free(&t->loader);
    dsc_transform_free(t->tx);
    dsc_schedule_free(t->sched);
    dsc_optim_free(t->opt);
    free(t->base_lrs);
    free(t->buf_snap);
    if (t->model_ok)
        dsc_model_free(&t->m);
    dsc_dataset_free(&t->train);
    dsc_dataset_free(&t->val);
    dsc_dataset_free(&t->test);
    free(t->mean);
    free(t->std);
    free(t->s_model);
    free(t->s_data);
    free(t->s_data_dir);
    free(t->s_opt);
    free(t->s_sched);
    free(t->s_out);
    free(t->s_augment);
    free(t->s_init);
    free(t->s_weights);
    free(t->s_config);
    free(t);
}

dsc_model *dsc_trainer_model(dsc_trainer *t) { return t ? &t->m : NULL; }
const dsc_dataset *dsc_trainer_val_set(const dsc_trainer *t) { return t && t->has_val ? &t->val : NULL; }
const char *dsc_trainer_checkpoint(const dsc_trainer *t) { return t ? t->ckpt_path : NULL; }
const dsc_dataset *dsc_trainer_train_set(const dsc_trainer *t) { return t ? &t->train : NULL; }
const dsc_dataset *dsc_trainer_test_set(const dsc_trainer *t) { return t ? &t->test : NULL; }

/* ---- the loop ------------------------------------------------------------------------------ */

/* Names the first parameter whose gradient holds NaN/Inf. */
static const char *nonfinite_param(dsc_graph *g, const float *grads)
{
    for (int i = 0; i < dsc_graph_param_count(g); i++) {
        const char *name;
        dsc_shape s;
        size_t off;
        dsc_graph_param_info(g, i, &name, &s, &off);
        const int64_t k = dsc_shape_numel(&s);
        for (int64_t j = 0; j < k; j++)
            if (!isfinite(grads[off + (size_t)j]))
                return name;
    }
    return NULL;
}

static dsc_status diverged_in_node(dsc_trainer *t, int in_grads, double loss)
{
    dsc_graph *g = t->m.g;
    const dsc_id id = dsc_graph_find_nonfinite(g, in_grads);
    const char *name = id >= 0 ? dsc_node_name(g, id) : NULL;
    const char *op = id >= 0 ? dsc_node_op_name(g, id) : NULL;
    char where[256] = "";
    if (id >= 0)
        snprintf(where, sizeof where, "; first non-finite value in node %d%s%s%s (%s)", id, name ? " '" : "",
                 name ? name : "", name ? "'" : "", op ? op : "?");
    return DSC_ERROR(DSC_ERR_NUMERIC,
                     "diverged at step %lld (epoch %lld): the loss is %s%s; stopped, the last good checkpoint is "
                     "kept%s%s",
                     (long long)(t->step + 1), (long long)(t->epoch + 1), isnan(loss) ? "NaN" : loss > 0 ? "+Inf" : "-Inf", where, t->ckpt_path[0] ? ": " : "",
                     t->ckpt_path);
}

static double current_lr(dsc_trainer *t) { return dsc_optim_get_lr(t->opt, 0); }

/* ---- closure steps --------------------------------------------------------------------------- */

/* State of one closure step: the optimizer (L-BFGS, SAM, zeroth-order, Polyak, Armijo, ...)
 * evaluates the loss and gradient of the step's batch at parameters of its choice, any number of
 * times. */
typedef struct batch_ctx {
    dsc_trainer *t;
    float *params, *grads; /* the graph's flat buffers */
    size_t P, nbuf;
    int64_t b;
    uint64_t fc, fc_after; /* forward counter before / after the step's first evaluation */
    int evals;
    dsc_status st;          /* first failure (the closure cannot return one) */
    char msg[1024];
    dsc_tx_args *ta;
    dsc_tx_stats *ts;       /* of the first evaluation (the metrics' grad_norm) */
} batch_ctx;

static double batch_fail(batch_ctx *c, dsc_status st)
{
    c->st = st;
    snprintf(c->msg, sizeof c->msg, "%s", dsc_last_error());
    return NAN;
}

/* dsc_closure over the current batch: loss and (transformed) gradient at params. Every evaluation
 * starts from the step's forward counter, so dropout draws the same masks and two evaluations at
 * the same parameters agree bit for bit. The first evaluation is the step's: it counts the
 * accuracy, checks for divergence and leaves the BatchNorm running statistics that the step
 * keeps (later evaluations' updates are undone in closure_step). */
static double batch_closure(void *ctx, const void *params, void *grads_out)
{
    batch_ctx *c = ctx;
    dsc_trainer *t = c->t;
    dsc_graph *g = t->m.g;
    if (c->st != DSC_OK)
        return NAN;
    if (params != c->params)
        memcpy(c->params, params, c->P * sizeof *c->params);
    dsc_graph_set_forward_counter(g, c->fc);
    dsc_status st = dsc_graph_forward(g);
    if (st != DSC_OK)
        return batch_fail(c, st);
    const double loss = dsc_graph_loss(g);
    if (c->evals == 0) {
        if (!isfinite(loss))
            return batch_fail(c, diverged_in_node(t, 0, loss));
        c->fc_after = dsc_graph_forward_counter(g);
        if (c->nbuf)
            memcpy(t->buf_snap, dsc_graph_buffers(g, NULL), c->nbuf * sizeof *t->buf_snap);
    }
    if ((st = dsc_graph_backward(g)) != DSC_OK)
        return batch_fail(c, st);
    if (c->evals == 0) {
        dsc_tensor lg = dsc_node_value(g, t->m.logits);
        dsc_train_count_correct(lg.data + lg.offset, t->yb, c->b, t->m.num_classes, &t->ep_correct, NULL);
        const char *bad = nonfinite_param(g, c->grads);
        if (bad)
            return batch_fail(c, DSC_ERROR(DSC_ERR_NUMERIC,
                                           "diverged at step %lld (epoch %lld): the gradient of parameter '%s' is "
                                           "not finite (loss %g); stopped, the last good checkpoint is kept%s%s",
                                           (long long)(t->step + 1), (long long)(t->epoch + 1), bad, loss,
                                           t->ckpt_path[0] ? ": " : "", t->ckpt_path));
    }
    dsc_tx_stats ts;
    memset(&ts, 0, sizeof ts);
    if (dsc_transform_len(t->tx) > 0) {
        if ((st = dsc_transform_apply(t->tx, c->ta, &ts)) != DSC_OK)
            return batch_fail(c, st);
    } else if (c->evals == 0) {
        ts.grad_norm = dsc_grad_norm(DSC_FLOAT32, c->grads, c->P, 2.0);
    }
    if (c->evals == 0)
        *c->ts = ts;
    if (grads_out != c->grads)
        memcpy(grads_out, c->grads, c->P * sizeof *c->grads);
    c->evals++;
    return loss;
}

/* One optimizer step through dsc_optim_step_closure on the batch in t->xb / t->yb (b examples). */
static dsc_status closure_step(dsc_trainer *t, int64_t b, dsc_tx_args *ta, dsc_tx_stats *ts, double *loss)
{
    dsc_graph *g = t->m.g;
    batch_ctx c;
    memset(&c, 0, sizeof c);
    c.t = t;
    c.params = dsc_graph_params(g, &c.P);
    c.grads = dsc_graph_grads(g, NULL);
    dsc_graph_buffers(g, &c.nbuf);
    c.b = b;
    c.fc = dsc_graph_forward_counter(g);
    c.ta = ta;
    c.ts = ts;
    double f = NAN;
    const dsc_status st = dsc_optim_step_closure(t->opt, c.params, c.grads, batch_closure, &c, &f);
    if (c.st != DSC_OK)
        return DSC_ERROR(c.st, "%s", c.msg);
    if (st != DSC_OK)
        return st;
    if (c.evals == 0)
        return DSC_ERROR(DSC_ERR_STATE, "optimizer %s stepped without evaluating the loss", dsc_optim_name(t->opt));
    /* As if the step had run one forward pass: the first evaluation's running statistics and
     * forward counter (the next step's dropout masks do not depend on the evaluation count). */
    if (c.nbuf)
        memcpy(dsc_graph_buffers(g, NULL), t->buf_snap, c.nbuf * sizeof *t->buf_snap);
    dsc_graph_set_forward_counter(g, c.fc_after);
    *loss = f;
    return DSC_OK;
}

static void report(dsc_trainer *t, int epoch_done, double vl, double va, double tl, double ta, double t5,
                   double run_time, int64_t run_steps)
{
    if (!t->o.progress)
        return;
    dsc_train_progress p;
    memset(&p, 0, sizeof p);
    p.epoch = t->epoch + (epoch_done ? 0 : 1);
    p.epochs = t->o.steps > 0 ? 0 : t->o.epochs;
    p.step = t->step;
    p.total_steps = t->total_steps;
    p.epoch_step = epoch_done ? t->steps_per_epoch : t->ep_steps;
    p.epoch_steps = t->steps_per_epoch;
    p.loss = epoch_done ? t->last_loss : (t->ep_seen ? t->ep_loss / (double)t->ep_seen : NAN);
    p.acc = epoch_done ? t->last_acc : (t->ep_seen ? (double)t->ep_correct / (double)t->ep_seen : NAN);
    p.samples_per_s = t->time_s > 0 ? (double)t->samples / t->time_s : 0;
    p.eta_s = run_steps > 0 ? run_time / (double)run_steps * (double)(t->total_steps - t->step) : NAN;
    p.epoch_done = epoch_done;
    p.val_loss = vl;
    p.val_acc = va;
    p.test_loss = tl;
    p.test_acc = ta;
    p.test_top5 = t5;
    t->o.progress(t->o.progress_ctx, &p);
}

/* End of an epoch: evaluate, log, early stopping, schedule observation, checkpoint. */
static dsc_status end_epoch(dsc_trainer *t, dsc_train_result *res, double run_time, int64_t run_steps)
{
    t->epoch++;
    t->last_loss = t->ep_seen ? t->ep_loss / (double)t->ep_seen : NAN;
    t->last_acc = t->ep_seen ? (double)t->ep_correct / (double)t->ep_seen : NAN;
    double vl = NAN, va = NAN, v5 = NAN, tl = NAN, ta = NAN, t5 = NAN;
    if (t->has_val)
        DSC_TRY(dsc_evaluate(&t->m, &t->val, &vl, &va, &v5));
    DSC_TRY(dsc_evaluate(&t->m, &t->test, &tl, &ta, &t5));
    t->last_test_loss = tl;
    t->last_test_acc = ta;
    res->val_loss = vl;
    res->val_acc = va;
    res->test_top5 = t5;
    mline l;
    mline_init(&l, "epoch", t->step, t->epoch, t->samples);
    MSET(&l, "train_loss", t->last_loss);
    MSET(&l, "train_acc", t->last_acc);
    MSET(&l, "lr", current_lr(t));
    MSET(&l, "time_s", t->time_s);
    MSET(&l, "val_loss", vl);
    MSET(&l, "val_acc", va);
    MSET(&l, "val_top5", v5);
    MSET(&l, "test_loss", tl);
    MSET(&l, "test_acc", ta);
    MSET(&l, "test_top5", t5);
    MSET(&l, "samples_per_s", t->time_s > 0 ? (double)t->samples / t->time_s : NAN);
    DSC_TRY(write_mline(t, &l));
    t->ep_loss = 0;
    t->ep_seen = t->ep_correct = t->ep_steps = 0;
    if (dsc_schedule_is_stateful(t->sched)) {
        const double metric = t->has_val ? vl : t->last_loss;
        dsc_status s = dsc_schedule_observe(t->sched, metric);
        if (s != DSC_OK)
            return DSC_ERROR(s, "--schedule: %s", last_err());
    }
    if (t->o.early_stop > 0) {
        if (vl < t->best) {
            t->best = vl;
            t->bad_epochs = 0;
        } else if (++t->bad_epochs >= t->o.early_stop) {
            t->stopped_early = 1;
        }
    }
    report(t, 1, vl, va, tl, ta, t5, run_time, run_steps);
    return save_checkpoint(t);
}

static void fill_result(dsc_trainer *t, dsc_train_result *res)
{
    res->epochs = t->epoch;
    res->steps = t->step;
    res->train_loss = t->last_loss;
    res->train_acc = t->last_acc;
    res->test_loss = t->last_test_loss;
    res->test_acc = t->last_test_acc;
    res->time_s = t->time_s;
    res->samples = t->samples;
    res->samples_per_s = t->time_s > 0 ? (double)t->samples / t->time_s : 0;
    res->stopped_early = t->stopped_early;
    res->threads = t->threads_now;
    res->thread_probes = t->tuner.probes;
    res->thread_switches = t->tuner.switches;
    snprintf(res->checkpoint, sizeof res->checkpoint, "%s", t->ckpt_path);
}

dsc_status dsc_trainer_run(dsc_trainer *t, dsc_train_result *res)
{
    if (!t || !res)
        return DSC_ERROR(DSC_ERR_INVALID, "trainer run: NULL argument");
    memset(res, 0, sizeof *res);
    res->val_loss = res->val_acc = res->test_top5 = NAN;
    dsc_graph *g = t->m.g;
    dsc_model *m = &t->m;
    size_t P;
    float *params = dsc_graph_params(g, &P), *grads = dsc_graph_grads(g, NULL);
    const int64_t d = t->train.d, C = m->num_classes;
    const int K = t->o.accumulate;
    double run_time = 0;
    int64_t run_steps = 0;
    dsc_graph_set_training(g, 1);
    while (t->step < t->total_steps && !t->stopped_early) {
        if (t->o.stop && *t->o.stop) {
            DSC_TRY(save_checkpoint(t));
            res->interrupted = 1;
            break;
        }
        double step_time = 0, step_loss = 0;
        int64_t step_seen = 0;
        int k = 0, epoch_end = 0;
        if (t->tuner.n_cand > 1 && dsc_thread_tuner_next(&t->tuner) != t->threads_now) {
            t->threads_now = dsc_thread_tuner_next(&t->tuner);
            dsc_set_num_threads(t->threads_now);
        }
        dsc_tx_args ta;
        memset(&ta, 0, sizeof ta);
        ta.dtype = DSC_FLOAT32;
        ta.grad = grads;
        ta.params = params;
        ta.n = P;
        ta.step = t->step;
        dsc_tx_stats ts;
        memset(&ts, 0, sizeof ts);
        if (t->needs_closure) {
            int64_t b;
            DSC_TRY(dsc_loader_next(&t->loader, t->xb, t->yb, &b, &epoch_end));
            const double t0 = now_s();
            if (dsc_graph_batch(g) != b)
                DSC_TRY(dsc_graph_set_batch(g, b));
            DSC_TRY(dsc_graph_set_input(g, m->input, t->xb, (size_t)(b * d)));
            DSC_TRY(dsc_graph_set_input(g, m->target, t->yb, (size_t)b));
            if (!t->no_lr)
                DSC_TRY(dsc_schedule_apply(t->sched, t->opt, t->base_lrs, t->step));
            ta.lr = current_lr(t);
            double loss = NAN;
            DSC_TRY(closure_step(t, b, &ta, &ts, &loss));
            step_loss = loss * (double)b;
            step_seen = b;
            step_time = now_s() - t0;
        } else {
            do {
                int64_t b;
                DSC_TRY(dsc_loader_next(&t->loader, t->xb, t->yb, &b, &epoch_end));
                const double t0 = now_s();
                if (dsc_graph_batch(g) != b)
                    DSC_TRY(dsc_graph_set_batch(g, b));
                DSC_TRY(dsc_graph_set_input(g, m->input, t->xb, (size_t)(b * d)));
                DSC_TRY(dsc_graph_set_input(g, m->target, t->yb, (size_t)b));
                DSC_TRY(dsc_graph_forward(g));
                const double loss = dsc_graph_loss(g);
                if (!isfinite(loss))
                    return diverged_in_node(t, 0, loss);
                DSC_TRY(k == 0 ? dsc_graph_backward(g) : dsc_graph_backward_accumulate(g));
                step_time += now_s() - t0;
                dsc_tensor lg = dsc_node_value(g, m->logits);
                dsc_train_count_correct(lg.data + lg.offset, t->yb, b, C, &t->ep_correct, NULL);
                step_loss += loss * (double)b;
                step_seen += b;
                k++;
            } while (k < K && !epoch_end);
            const double t1 = now_s();
            /* Each backward gives the gradient of its micro-batch's mean loss; the step uses their
             * mean (PyTorch's `(loss / K).backward()` recipe). */
            if (k > 1) {
                const float inv = 1.0f / (float)k;
                for (size_t i = 0; i < P; i++)
                    grads[i] *= inv;
            }
            const char *bad = nonfinite_param(g, grads);
            if (bad)
                return DSC_ERROR(DSC_ERR_NUMERIC,
                                 "diverged at step %lld (epoch %lld): the gradient of parameter '%s' is not finite "
                                 "(loss %g); stopped, the last good checkpoint is kept%s%s",
                                 (long long)(t->step + 1), (long long)(t->epoch + 1), bad,
                                 step_loss / (double)step_seen,
                                 t->ckpt_path[0] ? ": " : "", t->ckpt_path);
            if (!t->no_lr)
                DSC_TRY(dsc_schedule_apply(t->sched, t->opt, t->base_lrs, t->step));
            ta.lr = current_lr(t);
            if (dsc_transform_len(t->tx) > 0)
                DSC_TRY(dsc_transform_apply(t->tx, &ta, &ts));
            else
                ts.grad_norm = dsc_grad_norm(DSC_FLOAT32, grads, P, 2.0);
            DSC_TRY(dsc_optim_step(t->opt, params, grads));
            step_time += now_s() - t1;
        }
        t->time_s += step_time;
        run_time += step_time;
        run_steps++;
        dsc_thread_tuner_record(&t->tuner, step_time, (double)step_seen);
        t->step++;
        t->ep_steps++;
        t->samples += step_seen;
        t->ep_loss += step_loss;
        t->ep_seen += step_seen;
        t->log_loss += step_loss;
        t->log_seen += step_seen;
        t->log_steps++;
        if (t->log_steps >= t->o.log_every || epoch_end || t->step == t->total_steps) {
            mline l;
            mline_init(&l, "step", t->step, t->epoch + 1, t->samples);
            MSET(&l, "train_loss", t->log_loss / (double)t->log_seen);
            MSET(&l, "lr", ta.lr);
            MSET(&l, "time_s", t->time_s);
            MSET(&l, "grad_norm", ts.grad_norm);
            DSC_TRY(write_mline(t, &l));
            t->log_loss = 0;
            t->log_seen = t->log_steps = 0;
        }
        if (epoch_end)
            DSC_TRY(end_epoch(t, res, run_time, run_steps));
        else
            report(t, 0, NAN, NAN, NAN, NAN, NAN, run_time, run_steps);
    }
    if (!res->interrupted && (t->ep_steps > 0 || isnan(t->last_test_loss))) {
        /* Stopped inside an epoch (--steps) or nothing to do: evaluate the current weights. */
        double tl, ta, t5;
        DSC_TRY(dsc_evaluate(m, &t->test, &tl, &ta, &t5));
        t->last_test_loss = tl;
        t->last_test_acc = ta;
        res->test_top5 = t5;
        if (t->ep_steps > 0) {
            t->last_loss = t->ep_loss / (double)t->ep_seen;
            t->last_acc = (double)t->ep_correct / (double)t->ep_seen;
            DSC_TRY(save_checkpoint(t));
        }
    } else if (!res->interrupted && isnan(res->test_top5) && C > 5) {
        double t5;
        DSC_TRY(dsc_evaluate(m, &t->test, NULL, NULL, &t5));
        res->test_top5 = t5;
    }
    if (t->o.out_dir && !res->interrupted) {
        char path[4200];
        snprintf(path, sizeof path, "%s/model.safetensors", t->o.out_dir);
        DSC_TRY(dsc_model_save_weights(m, path));
    }
    fill_result(t, res);
    return DSC_OK;
}

dsc_status dsc_train(const dsc_train_opts *o, dsc_train_result *res)
{
    dsc_trainer *t;
    DSC_TRY(dsc_trainer_new(o, &t));
    dsc_status s = dsc_trainer_run(t, res);
    if (s != DSC_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", dsc_last_error());
        dsc_trainer_free(t);
        return DSC_ERROR(s, "%s", msg);
    }
    dsc_trainer_free(t);
    return DSC_OK;
}
