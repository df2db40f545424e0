/* descent train: the training loop from the command line (docs/CLI.md, docs/TRAINING.md).
 * Options come from (lowest precedence first) the run's config.json with --resume, a --config
 * file, then the flags. Also the option handling shared with `descent eval`. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "descent/descent.h"

/* ---- options --------------------------------------------------------------------------- */

typedef enum { T_STR, T_INT, T_NUM, T_BOOL } opt_type;

typedef struct opt_def {
    const char *name; /* long name without "--" = config-file key */
    opt_type type;
    const char *def;  /* default value text (NULL: unset) */
    const char *help;
} opt_def;

static const opt_def train_opts[] = {
    {"model", T_STR, NULL, "model spec, e.g. mlp:784-256-256-10, cnn:c32k5-p2-c64k5-p2-f128, resnet20"},
    {"data", T_STR, NULL, "data: digits, iris, wine, breast-cancer, fashion-mnist, mnist, a generator\n"
                          "                       (spirals:n=1000,noise=0.1, blobs, xor, ...) or a .csv/.libsvm/.npy file"},
    {"opt", T_STR, "adam:lr=1e-3", "optimizer spec, e.g. sgd:lr=0.1,momentum=0.9 (see descent optim --help-opt)"},
    {"schedule", T_STR, "constant", "lr schedule spec, stepped once per optimizer step, e.g. cosine:t_max=5000"},
    {"epochs", T_INT, "1", "total epochs (with --resume: the new total)"},
    {"steps", T_INT, "0", "total optimizer steps instead of epochs (0: use --epochs)"},
    {"batch-size", T_INT, "32", "examples per (micro-)batch"},
    {"seed", T_INT, "0", "seed of the initialization, shuffling, augmentation and dropout"},
    {"threads", T_STR, "auto", "threads: N, 0 (all cores) or auto (up to all cores, the count chosen from\n"
                       "                       measured step times); results do not depend on it"},
    {"data-dir", T_STR, NULL, "directory searched first for fashion-mnist / mnist files"},
    {"out", T_STR, NULL, "run directory (default runs/train-DATE-TIME)"},
    {"resume", T_STR, NULL, "continue the run in RUN_DIR from its newest valid checkpoint"},
    {"keep", T_INT, "2", "checkpoints kept (0: all)"},
    {"clip-norm", T_NUM, "0", "clip the gradient's global 2-norm to X (0: off)"},
    {"val-split", T_NUM, "0", "fraction of the training data held out for validation"},
    {"test-split", T_NUM, "0.2", "for data without a test split: fraction held out as the test set"},
    {"early-stop", T_INT, "0", "stop after PATIENCE epochs without a better val_loss (needs --val-split)"},
    {"accumulate", T_INT, "1", "micro-batches per optimizer step (gradient accumulation)"},
    {"weights", T_STR, NULL, "start from the weights of a safetensors file (a run's model.safetensors, or a\n"
                           "                       PyTorch state_dict saved with safetensors; names as docs/FORMATS.md)"},
    {"init", T_STR, "torch_default", "initializer of conv/linear weights, e.g. kaiming_normal:nonlinearity=relu,\n"
                           "                       xavier_uniform, orthogonal:gain=1.41 (biases and norms keep torch's)"},
    {"augment", T_STR, "none", "image augmentation: crop[=PAD],flip,noise[=STD] (comma separated)"},
    {"standardize", T_STR, "auto", "standardize with the training split's statistics: feature (each feature),\n"
                           "                       channel (each image channel), off, auto (channel for images, else feature)"},
    {"sampling", T_STR, "shuffle", "shuffle (a new permutation each epoch) or replacement"},
    {"drop-last", T_BOOL, "false", "drop each epoch's last incomplete batch"},
    {"log-every", T_INT, "1", "write a step line to the metrics every N steps"},
    {"no-decay-bias-norm", T_BOOL, "false", "no weight decay (a parameter group with weight_decay=0) for biases\n"
                           "                       and the weights of BatchNorm/LayerNorm layers"},
    {"config", T_STR, NULL, "JSON config file with these options' names as keys (flags override it)"},
};
#define N_TRAIN_OPTS ((int)(sizeof train_opts / sizeof train_opts[0]))

/* Keys written into config.json besides options (ignored when read back). */
static const char *const meta_keys[] = {"descent_version", "git_commit", "created", "command", NULL};

static int find_opt(const char *name)
{
    for (int i = 0; i < N_TRAIN_OPTS; i++)
        if (!strcmp(train_opts[i].name, name))
            return i;
    return -1;
}

static void list_opts(FILE *f)
{
    for (int i = 0; i < N_TRAIN_OPTS; i++)
        fprintf(f, "%s--%s", i ? ", " : "", train_opts[i].name);
    fputc('\n', f);
}

/* The resolved values (text) and where each came from. */
typedef struct resolved {
    char *val[N_TRAIN_OPTS];
    int set[N_TRAIN_OPTS]; /* 0 default, 1 resumed run's config.json, 2 --config, 3 flag */
} resolved;

static void res_set(resolved *r, int i, const char *v, int level)
{
    free(r->val[i]);
    r->val[i] = v ? strcpy(malloc(strlen(v) + 1), v) : NULL;
    r->set[i] = level;
}

static void res_free(resolved *r)
{
    for (int i = 0; i < N_TRAIN_OPTS; i++)
        free(r->val[i]);
}

static const char *get(const resolved *r, const char *name) { return r->val[find_opt(name)]; }

static int usage_error(const char *cmd, const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "descent %s: ", cmd);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 2;
}

/* Merges a JSON config file at the given level. Returns 0 or an exit code. */
static int merge_config(const char *cmd, resolved *r, const char *path, int level, int lenient)
{
    dsc_config cfg;
    dsc_status st = dsc_config_read(path, lenient ? DSC_CONFIG_LENIENT : 0, &cfg);
    if (st != DSC_OK) {
        fprintf(stderr, "descent %s: %s%s\n", cmd, level == 1 ? "--resume: " : "--config: ", dsc_last_error());
        dsc_config_free(&cfg);
        return st == DSC_ERR_IO ? 1 : 2;
    }
    for (int k = 0; k < cfg.n; k++) {
        const dsc_config_entry *e = &cfg.entries[k];
        int meta = 0;
        for (int j = 0; meta_keys[j]; j++)
            meta |= !strcmp(meta_keys[j], e->key);
        if (meta)
            continue;
        const int i = find_opt(e->key);
        if (i < 0 || !strcmp(e->key, "config") || (level == 1 && !strcmp(e->key, "resume"))) {
            if (level == 1 && i >= 0)
                continue;
            fprintf(stderr, "descent %s: %s: unknown option '%s'; valid keys: ", cmd, path, e->key);
            list_opts(stderr);
            dsc_config_free(&cfg);
            return 2;
        }
        if (e->type == DSC_CONFIG_NULL)
            continue;
        if (train_opts[i].type == T_BOOL && e->type != DSC_CONFIG_BOOL) {
            fprintf(stderr, "descent %s: %s: '%s' must be true or false, got '%s'\n", cmd, path, e->key, e->value);
            dsc_config_free(&cfg);
            return 2;
        }
        if ((train_opts[i].type == T_INT || train_opts[i].type == T_NUM) && e->type != DSC_CONFIG_NUMBER) {
            fprintf(stderr, "descent %s: %s: '%s' must be a number, got '%s'\n", cmd, path, e->key, e->value);
            dsc_config_free(&cfg);
            return 2;
        }
        res_set(r, i, e->value, level);
    }
    dsc_config_free(&cfg);
    return 0;
}

/* Parses argv into r (flags at level 3) after the config files. allowed: NULL-terminated list of
 * the options this command takes. Returns 0, or an exit code (-1: --help printed). */
static int parse_args(const char *cmd, int argc, char **argv, resolved *r, const char *const *allowed,
                      void (*help)(FILE *))
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < N_TRAIN_OPTS; i++)
        if (train_opts[i].def)
            res_set(r, i, train_opts[i].def, 0);
    /* First pass: flags into a temporary list (they override the files read afterwards). */
    const char *flag_val[N_TRAIN_OPTS] = {0};
    char *owned[N_TRAIN_OPTS] = {0};
    int code = 0;
    for (int a = 1; a < argc && !code; a++) {
        const char *arg = argv[a];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            help(stdout);
            code = -1;
            break;
        }
        if (strncmp(arg, "--", 2)) {
            code = usage_error(cmd, "unexpected argument '%s' (options start with --; see descent %s --help)", arg,
                               cmd);
            break;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        char key[64];
        const size_t kl = eq ? (size_t)(eq - name) : strlen(name);
        snprintf(key, sizeof key, "%.*s", (int)(kl < sizeof key ? kl : sizeof key - 1), name);
        const int i = find_opt(key);
        int ok = i >= 0;
        for (int j = 0; ok && allowed && allowed[j]; j++)
            if (!strcmp(allowed[j], key))
                goto allowed_ok;
        if (allowed)
            ok = 0;
    allowed_ok:
        if (!ok) {
            fprintf(stderr, "descent %s: unknown option '--%s'; valid options: ", cmd, key);
            if (allowed)
                for (int j = 0; allowed[j]; j++)
                    fprintf(stderr, "%s--%s", j ? ", " : "", allowed[j]);
            else
                list_opts(stderr);
            if (allowed)
                fputc('\n', stderr);
            code = 2;
            break;
        }
        const char *v;
        if (train_opts[i].type == T_BOOL && !eq) {
            v = "true";
        } else if (eq) {
            v = eq + 1;
        } else if (a + 1 < argc) {
            v = argv[++a];
        } else {
            code = usage_error(cmd, "option '--%s' needs a value%s", key, "");
            break;
        }
        free(owned[i]);
        owned[i] = strcpy(malloc(strlen(v) + 1), v);
        flag_val[i] = owned[i];
    }
    if (!code && flag_val[find_opt("resume")]) {
        char path[4200];
        snprintf(path, sizeof path, "%s/config.json", flag_val[find_opt("resume")]);
        if (access(path, R_OK)) {
            fprintf(stderr, "descent %s: --resume %s: no config.json there (%s): not a run directory\n", cmd,
                    flag_val[find_opt("resume")], strerror(errno));
            code = 1;
        } else {
            code = merge_config(cmd, r, path, 1, 1);
        }
    }
    if (!code && flag_val[find_opt("config")])
        code = merge_config(cmd, r, flag_val[find_opt("config")], 2, 0);
    for (int i = 0; i < N_TRAIN_OPTS; i++) {
        if (!code && flag_val[i])
            res_set(r, i, flag_val[i], 3);
        free(owned[i]);
    }
    return code;
}

/* Typed getters with range checks; print the error and return 2 on failure. */
static int get_int(const char *cmd, const resolved *r, const char *name, int64_t lo, int64_t hi, int64_t *out)
{
    const char *v = get(r, name);
    char what[80];
    snprintf(what, sizeof what, "--%s", name);
    if (!v) {
        *out = 0;
        return 0;
    }
    if (dsc_parse_int64(v, what, out) != DSC_OK) {
        fprintf(stderr, "descent %s: %s\n", cmd, dsc_last_error());
        return 2;
    }
    if (*out < lo || *out > hi) {
        fprintf(stderr, "descent %s: --%s %s is out of range [%lld, %lld]\n", cmd, name, v, (long long)lo,
                (long long)hi);
        return 2;
    }
    return 0;
}

static int get_num(const char *cmd, const resolved *r, const char *name, double lo, double hi, int hi_open,
                   double *out)
{
    const char *v = get(r, name);
    char what[80];
    snprintf(what, sizeof what, "--%s", name);
    if (dsc_parse_double(v, what, out) != DSC_OK) {
        fprintf(stderr, "descent %s: %s\n", cmd, dsc_last_error());
        return 2;
    }
    if (!(*out >= lo && (hi_open ? *out < hi : *out <= hi))) {
        fprintf(stderr, "descent %s: --%s %s is out of range [%g, %g%c\n", cmd, name, v, lo, hi, hi_open ? ')' : ']');
        return 2;
    }
    return 0;
}

static int get_choice(const char *cmd, const resolved *r, const char *name, const char *const *choices, int *out)
{
    const char *v = get(r, name);
    for (int i = 0; choices[i]; i++)
        if (!strcmp(v, choices[i])) {
            *out = i;
            return 0;
        }
    fprintf(stderr, "descent %s: --%s '%s' is not valid; choices: ", cmd, name, v);
    for (int i = 0; choices[i]; i++)
        fprintf(stderr, "%s%s", i ? ", " : "", choices[i]);
    fputc('\n', stderr);
    return 2;
}

/* Fills a dsc_train_opts from the resolved values (strings point into r). Returns 0 or 2. */
static int to_train_opts(const char *cmd, const resolved *r, dsc_train_opts *o)
{
    dsc_train_opts_init(o);
    int64_t v;
    double x;
    int c, code = 0;
    o->model = get(r, "model");
    o->data = get(r, "data");
    o->opt = get(r, "opt");
    o->schedule = get(r, "schedule");
    o->data_dir = get(r, "data-dir");
    o->out_dir = get(r, "out");
    o->resume_dir = get(r, "resume");
    o->augment = get(r, "augment");
    o->init = get(r, "init");
    o->weights = get(r, "weights");
    if (!o->model)
        return usage_error(cmd, "--model is required (e.g. --model mlp:64-128-10); models: %s%s", dsc_model_names(),
                           "");
    if (!o->data)
        return usage_error(cmd, "--data is required (e.g. --data digits, fashion-mnist, spirals:n=1000%s%s)", "", "");
    if ((code = get_int(cmd, r, "epochs", 0, 1000000000, &v)))
        return code;
    o->epochs = v;
    if ((code = get_int(cmd, r, "steps", 0, INT64_C(1) << 50, &v)))
        return code;
    o->steps = v;
    if (o->epochs == 0 && o->steps == 0)
        return usage_error(cmd, "--epochs 0 without --steps: nothing to train%s%s", "", "");
    if ((code = get_int(cmd, r, "batch-size", 1, 1 << 20, &v)))
        return code;
    o->batch_size = v;
    if ((code = get_int(cmd, r, "seed", 0, INT64_MAX, &v)))
        return code;
    o->seed = (uint64_t)v;
    if (get(r, "threads") && !strcmp(get(r, "threads"), "auto")) {
        o->threads = DSC_TRAIN_THREADS_AUTO;
    } else {
        if ((code = get_int(cmd, r, "threads", 0, 1024, &v)))
            return code;
        o->threads = (int)v;
    }
    if ((code = get_int(cmd, r, "keep", 0, 1000000, &v)))
        return code;
    o->keep = (int)v;
    if ((code = get_num(cmd, r, "clip-norm", 0, 1e30, 0, &x)))
        return code;
    o->clip_norm = x;
    if ((code = get_num(cmd, r, "val-split", 0, 1, 1, &x)))
        return code;
    o->val_split = x;
    if ((code = get_num(cmd, r, "test-split", 0, 1, 1, &x)))
        return code;
    o->test_split = x;
    if ((code = get_int(cmd, r, "early-stop", 0, 1000000, &v)))
        return code;
    o->early_stop = (int)v;
    if ((code = get_int(cmd, r, "accumulate", 1, 65536, &v)))
        return code;
    o->accumulate = (int)v;
    if ((code = get_int(cmd, r, "log-every", 1, 1000000000, &v)))
        return code;
    o->log_every = (int)v;
    static const char *const std_choices[] = {"auto", "off", "feature", "channel", NULL};
    if ((code = get_choice(cmd, r, "standardize", std_choices, &c)))
        return code;
    o->standardize = c == 0 ? DSC_STANDARDIZE_AUTO : c - 1;
    static const char *const samp_choices[] = {"shuffle", "replacement", NULL};
    if ((code = get_choice(cmd, r, "sampling", samp_choices, &c)))
        return code;
    o->sampling = c == 0 ? DSC_SAMPLE_SHUFFLE : DSC_SAMPLE_REPLACEMENT;
    int b;
    if (dsc_parse_bool(get(r, "drop-last"), "--drop-last", &b) != DSC_OK) {
        fprintf(stderr, "descent %s: %s\n", cmd, dsc_last_error());
        return 2;
    }
    o->drop_last = b;
    if (dsc_parse_bool(get(r, "no-decay-bias-norm"), "--no-decay-bias-norm", &b) != DSC_OK) {
        fprintf(stderr, "descent %s: %s\n", cmd, dsc_last_error());
        return 2;
    }
    o->no_decay_bias_norm = b;
    if (o->early_stop > 0 && o->val_split <= 0)
        return usage_error(cmd, "--early-stop needs a validation set: add --val-split F (e.g. 0.1)%s%s", "", "");
    dsc_augment aug;
    if (dsc_augment_parse(o->augment, &aug) != DSC_OK) {
        fprintf(stderr, "descent %s: %s\n", cmd, dsc_last_error());
        return 2;
    }
    dsc_init wi;
    if (o->init && dsc_init_parse(o->init, &wi) != DSC_OK) {
        fprintf(stderr, "descent %s: --init: %s\n", cmd, dsc_last_error());
        return 2;
    }
    return 0;
}

/* The exit code for a library status: 2 for bad options/usage, 1 for run-time failures. */
static int exit_code(dsc_status s)
{
    return s == DSC_ERR_INVALID || s == DSC_ERR_RANGE || s == DSC_ERR_SHAPE ? 2 : 1;
}

/* ---- progress -------------------------------------------------------------------------------- */

typedef struct progress_ctx {
    int tty;
    double last_draw;
    int64_t batch;
} progress_ctx;

static double mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void fmt_eta(double s, char *buf, size_t n)
{
    if (!isfinite(s) || s < 0) {
        snprintf(buf, n, "--:--");
        return;
    }
    const long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static void on_progress(void *vctx, const dsc_train_progress *p)
{
    progress_ctx *c = vctx;
    char eta[32], ep[48];
    fmt_eta(p->eta_s, eta, sizeof eta);
    if (p->epochs > 0)
        snprintf(ep, sizeof ep, "epoch %lld/%lld", (long long)p->epoch, (long long)p->epochs);
    else
        snprintf(ep, sizeof ep, "epoch %lld", (long long)p->epoch);
    if (p->epoch_done) {
        if (c->tty)
            fprintf(stderr, "\r\033[K");
        fprintf(stderr, "%s: step %lld/%lld train_loss=%.4f train_acc=%.4f", ep, (long long)p->step,
                (long long)p->total_steps, p->loss, p->acc);
        if (!isnan(p->val_loss))
            fprintf(stderr, " val_loss=%.4f val_acc=%.4f", p->val_loss, p->val_acc);
        fprintf(stderr, " test_loss=%.4f test_acc=%.4f", p->test_loss, p->test_acc);
        if (!isnan(p->test_top5))
            fprintf(stderr, " test_top5=%.4f", p->test_top5);
        fprintf(stderr, " samples/s=%.0f\n", p->samples_per_s);
        return;
    }
    if (!c->tty)
        return;
    const double t = mono();
    if (t - c->last_draw < 0.1 && p->epoch_step < p->epoch_steps)
        return;
    c->last_draw = t;
    const int width = 24;
    const int fill = p->epoch_steps > 0 ? (int)((double)width * (double)p->epoch_step / (double)p->epoch_steps) : 0;
    char bar[32];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
    bar[width] = 0;
    fprintf(stderr, "\r\033[K%s [%s] %lld/%lld loss %.4f acc %.4f %.0f samples/s ETA %s", ep, bar,
            (long long)p->epoch_step, (long long)p->epoch_steps, p->loss, p->acc, p->samples_per_s, eta);
    fflush(stderr);
}

/* ---- Ctrl-C ------------------------------------------------------------------------------- */

static volatile sig_atomic_t g_stop;

static void on_sigint(int sig)
{
    (void)sig;
    g_stop = 1;
    signal(SIGINT, SIG_DFL); /* a second Ctrl-C ends the process at once */
}

/* ---- the resolved configuration as config.json ------------------------------------------ */

static char *config_text(const resolved *r)
{
    dsc_config cfg = {0, NULL};
    for (int i = 0; i < N_TRAIN_OPTS; i++) {
        const opt_def *d = &train_opts[i];
        if (!r->val[i] || !strcmp(d->name, "config") || !strcmp(d->name, "resume"))
            continue;
        dsc_config_type t = d->type == T_STR ? DSC_CONFIG_STRING : d->type == T_BOOL ? DSC_CONFIG_BOOL : DSC_CONFIG_NUMBER;
        const char *v = r->val[i];
        if (d->type == T_BOOL) {
            int b = 0;
            dsc_parse_bool(v, d->name, &b);
            v = b ? "true" : "false";
        }
        dsc_config_set(&cfg, d->name, v, t);
    }
    dsc_config_set(&cfg, "descent_version", dsc_version(), DSC_CONFIG_STRING);
    dsc_config_set(&cfg, "git_commit", dsc_git_commit(), DSC_CONFIG_STRING);
    char created[32];
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    dsc_config_set(&cfg, "created", created, DSC_CONFIG_STRING);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f) {
        dsc_config_write(f, &cfg);
        fclose(f);
    }
    dsc_config_free(&cfg);
    return buf;
}

/* ---- descent train ------------------------------------------------------------------------- */

static void train_usage(FILE *f)
{
    fprintf(f, "usage: descent train --model SPEC --data DATA [options]\n"
               "       descent train --resume RUN_DIR --epochs N\n\n"
               "Trains a model and writes a run directory (config.json, metrics.jsonl, metrics.csv,\n"
               "checkpoints/, model.safetensors). Ends with one line:\n"
               "  final: epochs=E train_loss=L test_loss=L test_acc=A time_s=T samples_per_s=S\n"
               "(time_s: wall time of the training steps only). Options can also come from a JSON file\n"
               "(--config) with the same names as keys; flags override it.\n\noptions:\n");
    for (int i = 0; i < N_TRAIN_OPTS; i++) {
        const opt_def *d = &train_opts[i];
        char left[40];
        snprintf(left, sizeof left, "--%s%s", d->name,
                 d->type == T_BOOL ? "" : d->type == T_STR ? " S" : d->type == T_INT ? " N" : " X");
        fprintf(f, "  %-20s %s", left, d->help);
        if (d->def)
            fprintf(f, " (default %s)", d->def);
        fputc('\n', f);
    }
    fprintf(f, "  -h, --help           this help\n\n"
               "Exit status: 0 done, 2 bad usage (unknown/invalid option, value out of range, model not\n"
               "fitting the data), 1 run-time failure (unreadable data, divergence), 130 interrupted\n"
               "(Ctrl-C: a checkpoint was saved; continue with --resume RUN_DIR).\n\n"
               "models: %s\noptimizers: %s\nschedules: %s\n",
            dsc_model_names(), dsc_optim_names(), dsc_schedule_names());
}

int cmd_train(int argc, char **argv)
{
    resolved r;
    int code = parse_args("train", argc, argv, &r, NULL, train_usage);
    if (code) {
        res_free(&r);
        return code < 0 ? 0 : code;
    }
    const int ri = find_opt("resume"), oi = find_opt("out"), ei = find_opt("epochs"), si = find_opt("steps");
    /* --epochs on the command line means a run in epochs, even when the resumed run or the config
     * file was given in --steps (and the other way round for --steps: steps > 0 win anyway). */
    if (r.set[ei] == 3 && r.set[si] != 3)
        res_set(&r, si, "0", 3);
    if (r.val[ri]) {
        /* A resumed run continues in its own directory. */
        if (r.set[oi] == 3 && strcmp(r.val[oi], r.val[ri])) {
            fprintf(stderr, "descent train: --out %s differs from --resume %s (a resumed run continues in its run "
                            "directory)\n", r.val[oi], r.val[ri]);
            res_free(&r);
            return 2;
        }
        res_set(&r, oi, r.val[ri], 3);
    } else if (!r.val[oi]) {
        char dir[64];
        time_t now = time(NULL);
        struct tm tmv;
        localtime_r(&now, &tmv);
        strftime(dir, sizeof dir, "runs/train-%Y%m%d-%H%M%S", &tmv);
        res_set(&r, oi, dir, 0);
    }
    dsc_train_opts o;
    if ((code = to_train_opts("train", &r, &o))) {
        res_free(&r);
        return code;
    }
    char *cfg = config_text(&r);
    o.config_json = cfg;
    progress_ctx pc = {isatty(STDERR_FILENO), 0, o.batch_size};
    o.progress = on_progress;
    o.progress_ctx = &pc;
    g_stop = 0;
    o.stop = &g_stop;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);

    dsc_trainer *t = NULL;
    dsc_status st = dsc_trainer_new(&o, &t);
    if (st != DSC_OK) {
        fprintf(stderr, "descent train: %s\n", dsc_last_error());
        code = exit_code(st);
        goto done;
    }
    if (o.resume_dir)
        fprintf(stderr, "resumed from %s\n", dsc_trainer_checkpoint(t));
    fprintf(stderr, "run directory: %s\n", o.out_dir);
    dsc_train_result res;
    st = dsc_trainer_run(t, &res);
    if (pc.tty)
        fprintf(stderr, "\r\033[K");
    if (st != DSC_OK) {
        fprintf(stderr, "descent train: %s\n", dsc_last_error());
        code = st == DSC_ERR_NUMERIC ? 1 : exit_code(st);
        goto done;
    }
    if (res.interrupted) {
        fprintf(stderr, "interrupted at step %lld: checkpoint saved to %s; continue with: descent train --resume %s\n",
                (long long)res.steps, res.checkpoint, o.out_dir);
        code = 130;
        goto done;
    }
    if (res.stopped_early)
        fprintf(stderr, "early stopping: no better val_loss for %d epochs\n", o.early_stop);
    if (res.thread_probes > 0)
        fprintf(stderr, "threads: auto: %lld measurement(s), %lld change(s); the last step ran on %d thread(s)\n",
                (long long)res.thread_probes, (long long)res.thread_switches, res.threads);
    printf("final: epochs=%lld train_loss=%.4f test_loss=%.4f test_acc=%.4f time_s=%.1f samples_per_s=%.0f\n",
           (long long)res.epochs, res.train_loss, res.test_loss, res.test_acc, res.time_s, res.samples_per_s);
    fflush(stdout);
    code = 0;
done:
    sigaction(SIGINT, &old, NULL);
    dsc_trainer_free(t);
    free(cfg);
    res_free(&r);
    return code;
}

/* ---- descent eval -------------------------------------------------------------------------- */

static const char *const eval_allowed[] = {"resume", "data", "data-dir", "batch-size", "threads", "model", "weights",
                                           "standardize", "test-split", NULL};

static void eval_usage(FILE *f)
{
    fprintf(f, "usage: descent eval --resume RUN_DIR [--data DATA] [--data-dir DIR] [--batch-size N] [--threads N]\n"
               "       descent eval --model SPEC --weights FILE --data DATA [--standardize M] [--test-split F] [...]\n\n"
               "Evaluates the newest valid checkpoint of a run (eval mode: dropout off, BatchNorm running\n"
               "statistics) on the test split of DATA (default: the run's --data; data without a test split\n"
               "use the same held-out part as training). Applies the training split's standardization saved\n"
               "in the checkpoint. Or evaluates a weights file (a run's model.safetensors, or a PyTorch\n"
               "state_dict saved with safetensors) in a model of the zoo, standardizing as 'descent train'\n"
               "does (statistics of DATA's training split). Prints one line:\n"
               "  eval: data=D examples=N loss=L acc=A [top5=A5] checkpoint=PATH | weights=FILE\n\n"
               "options:\n"
               "  --resume RUN_DIR     the run directory\n"
               "  --model SPEC         with --weights: the model the weights belong to\n"
               "  --weights FILE       a safetensors file of the model's parameters and buffers\n"
               "  --standardize M      with --weights: auto (default), feature, channel or off\n"
               "  --test-split F       with --weights: held-out fraction of data without a test split (0.2)\n"
               "  --data DATA          data to evaluate on (must have the model's example shape and classes)\n"
               "  --data-dir DIR       directory searched first for fashion-mnist / mnist files\n"
               "  --batch-size N       evaluation batch size (default: the run's)\n"
               "  --threads N          threads (N, 0 or auto: all cores)\n"
               "  -h, --help           this help\n");
}

int cmd_eval_main(int argc, char **argv)
{
    resolved r;
    int code = parse_args("eval", argc, argv, &r, eval_allowed, eval_usage);
    if (code) {
        res_free(&r);
        return code < 0 ? 0 : code;
    }
    if (!get(&r, "resume") && !get(&r, "weights")) {
        fprintf(stderr, "descent eval: give --resume RUN_DIR (a run's checkpoint) or --model SPEC --weights FILE "
                        "--data DATA\n");
        res_free(&r);
        return 2;
    }
    if (get(&r, "resume") && get(&r, "weights")) {
        fprintf(stderr, "descent eval: --resume and --weights exclude each other (a run's checkpoint has its weights)\n");
        res_free(&r);
        return 2;
    }
    dsc_train_opts o;
    if ((code = to_train_opts("eval", &r, &o))) {
        res_free(&r);
        return code;
    }
    o.eval_only = 1;
    o.out_dir = NULL;
    o.augment = NULL;
    o.early_stop = 0;
    dsc_trainer *t = NULL;
    dsc_status st = dsc_trainer_new(&o, &t);
    if (st != DSC_OK) {
        fprintf(stderr, "descent eval: %s\n", dsc_last_error());
        res_free(&r);
        return exit_code(st);
    }
    double loss, acc, top5;
    const dsc_dataset *ts = dsc_trainer_test_set(t);
    st = dsc_evaluate(dsc_trainer_model(t), ts, &loss, &acc, &top5);
    if (st != DSC_OK) {
        fprintf(stderr, "descent eval: %s\n", dsc_last_error());
        code = exit_code(st);
    } else {
        printf("eval: data=%s examples=%lld loss=%.4f acc=%.4f", o.data, (long long)ts->n, loss, acc);
        if (!isnan(top5))
            printf(" top5=%.4f", top5);
        if (o.resume_dir)
            printf(" checkpoint=%s\n", dsc_trainer_checkpoint(t));
        else
            printf(" weights=%s\n", o.weights);
    }
    dsc_trainer_free(t);
    res_free(&r);
    return code;
}
