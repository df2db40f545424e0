/* descent — the training loop (docs/TRAINING.md).
 *
 * dsc_trainer_new loads the data (train split, an optional validation split, the test split or a
 * held-out part of the training data), builds and initializes the model from its spec, makes the
 * optimizer, schedule and gradient transforms from theirs, and, with resume_dir, restores the
 * newest valid checkpoint of that run. dsc_trainer_run then trains for the requested epochs or
 * steps, evaluating each epoch, writing metrics and checkpoints into the run directory.
 *
 * Guarantees: a run is a pure function of its options (the seed included) and does not depend
 * on the thread count; a run stopped after any checkpoint and resumed produces bit-identical
 * weights and metrics (apart from the wall-time columns) to an uninterrupted run. */
#ifndef DESCENT_TRAIN_H
#define DESCENT_TRAIN_H

#include <signal.h>
#include <stdint.h>

#include "descent/data.h"
#include "descent/error.h"
#include "descent/loader.h"
#include "descent/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the progress callback sees (after each optimizer step, and at the end of each epoch). */
typedef struct dsc_train_progress {
    int64_t epoch;           /* 1-based epoch in progress */
    int64_t epochs;          /* planned epochs (0 when the run is given in steps) */
    int64_t step;            /* optimizer steps done (whole run) */
    int64_t total_steps;     /* planned steps */
    int64_t epoch_step;      /* steps done in this epoch */
    int64_t epoch_steps;     /* steps per epoch */
    double loss, acc;        /* running means over this epoch */
    double samples_per_s;    /* training throughput (steps only) */
    double eta_s;            /* estimated seconds left (training steps only) */
    int epoch_done;          /* 1 at the end of an epoch: the fields below are set */
    double val_loss, val_acc, test_loss, test_acc, test_top5; /* NaN when not evaluated */
} dsc_train_progress;

/* Feature standardization, fit on the training split: per feature ((x_j - mean_j) / std_j), per
 * channel of [C, H, W] images (torchvision's Normalize with the data's channel statistics), or
 * auto = channel for images, feature otherwise. */
typedef enum dsc_standardize {
    DSC_STANDARDIZE_AUTO = -1,
    DSC_STANDARDIZE_OFF = 0,
    DSC_STANDARDIZE_FEATURE = 1,
    DSC_STANDARDIZE_CHANNEL = 2
} dsc_standardize;

typedef void (*dsc_train_progress_fn)(void *ctx, const dsc_train_progress *p);

typedef struct dsc_train_opts {
    const char *model;      /* zoo spec, e.g. "mlp:64-128-10" (required) */
    const char *data;       /* data spec or path (required) */
    const char *data_dir;   /* for IDX sets (NULL: default search) */
    const char *opt;        /* optimizer spec (default "adam:lr=1e-3") */
    const char *schedule;   /* schedule spec, stepped once per optimizer step (NULL: constant) */
    int64_t epochs;         /* total epochs (used when steps == 0; default 1) */
    int64_t steps;          /* total optimizer steps instead of epochs (0: use epochs) */
    int64_t batch_size;     /* default 32 */
    uint64_t seed;
    int threads;            /* 0: leave the runtime's setting; N: N threads; DSC_TRAIN_THREADS_AUTO: up to
                               every core, the count of each step chosen from measured step times
                               (results do not depend on it; docs/TRAINING.md, "Threads") */
    const char *out_dir;    /* run directory (NULL: no files) */
    const char *resume_dir; /* continue this run (its newest valid checkpoint) */
    int keep;               /* checkpoints kept (0: all; default 2) */
    double clip_norm;       /* 0: off */
    double val_split;       /* fraction of the training data held out for validation (0: none) */
    double test_split;      /* for data without a test split: fraction held out as the test set (default 0.2) */
    int early_stop;         /* patience in epochs on val_loss (0: off; needs val_split > 0) */
    int accumulate;         /* micro-batches per optimizer step (default 1) */
    const char *augment;    /* "crop,flip,noise" (NULL: none) */
    const char *weights;    /* start from these weights (safetensors: a run's model.safetensors, or a PyTorch
                               state_dict saved with safetensors; names as docs/FORMATS.md); NULL: init.
                               Ignored with resume_dir (the checkpoint has the weights) */
    const char *init;       /* initializer of conv/linear weights, a dsc_init_parse spec such as
                               "kaiming_normal:nonlinearity=relu" (NULL or "torch_default": torch's default) */
    int standardize;        /* a dsc_standardize mode (statistics of the training split) */
    int sampling;           /* dsc_sampling: DSC_SAMPLE_SHUFFLE (default) or DSC_SAMPLE_REPLACEMENT */
    int drop_last;
    int log_every;          /* a step line in metrics every this many steps (default 1) */
    const volatile sig_atomic_t *stop; /* when it becomes non-zero: checkpoint and return (Ctrl-C) */
    dsc_train_progress_fn progress;
    void *progress_ctx;
    int eval_only;          /* build and restore the model only, write no files (descent eval): with resume_dir
                               from its checkpoint (and its standardization statistics), else from weights
                               (statistics of the training split, as in training) */
    const char *config_json; /* resolved configuration to store as RUN_DIR/config.json (NULL: built from these options) */
    int no_decay_bias_norm;  /* parameter groups with weight_decay=0 for every parameter named "<module>.bias"
                                and the weight of every layer whose kind contains "Norm" (BatchNorm1d/2d,
                                LayerNorm); must be the same on resume (the CLI keeps it in config.json) */
} dsc_train_opts;

#define DSC_TRAIN_THREADS_AUTO (-1)

void dsc_train_opts_init(dsc_train_opts *o);

typedef struct dsc_train_result {
    int64_t epochs;          /* epochs completed */
    int64_t steps;           /* optimizer steps done */
    double train_loss, train_acc; /* of the last (possibly partial) epoch */
    double val_loss, val_acc;     /* NaN without a validation split */
    double test_loss, test_acc, test_top5; /* NaN when unavailable (top-5 only with > 5 classes) */
    double time_s;           /* wall time of the training steps (this process and the resumed part before) */
    double samples_per_s;
    int64_t samples;         /* training examples processed (whole run) */
    int stopped_early;       /* early stopping triggered */
    int interrupted;         /* *stop was set: a checkpoint was saved */
    int threads;             /* threads of the last step (with DSC_TRAIN_THREADS_AUTO: the tuner's choice) */
    int64_t thread_probes;   /* DSC_TRAIN_THREADS_AUTO: measurements of the candidate counts made */
    int64_t thread_switches; /* DSC_TRAIN_THREADS_AUTO: times the measured choice changed */
    char checkpoint[4096];   /* the last checkpoint written ("" if none) */
} dsc_train_result;

typedef struct dsc_trainer dsc_trainer;

/* Errors: DSC_ERR_INVALID / DSC_ERR_RANGE / DSC_ERR_SHAPE for bad options (the message names the
 * option, e.g. "--model: ..."), DSC_ERR_IO / DSC_ERR_FORMAT for unreadable data or checkpoints. */
dsc_status dsc_trainer_new(const dsc_train_opts *o, dsc_trainer **out);
void dsc_trainer_free(dsc_trainer *t);
/* Trains to the requested total. DSC_ERR_NUMERIC when the run diverges: the message names the
 * step and the tensor (node or parameter); no checkpoint is written after the last good one. */
dsc_status dsc_trainer_run(dsc_trainer *t, dsc_train_result *res);
dsc_model *dsc_trainer_model(dsc_trainer *t);
/* The data the trainer uses (after splitting and standardization); val may be empty (n == 0). */
const dsc_dataset *dsc_trainer_train_set(const dsc_trainer *t);
const dsc_dataset *dsc_trainer_test_set(const dsc_trainer *t);
const dsc_dataset *dsc_trainer_val_set(const dsc_trainer *t); /* NULL without a validation split */
/* The checkpoint restored or last written ("" if none). */
const char *dsc_trainer_checkpoint(const dsc_trainer *t);

/* One-call form: new, run, free. */
dsc_status dsc_train(const dsc_train_opts *o, dsc_train_result *res);

/* Evaluation in eval mode (dsc_graph_set_training(g, 0)) over a whole data set in batches of
 * the model's compiled batch size (the last one partial): mean loss, accuracy and top-5
 * accuracy (NaN with <= 5 classes). Restores the training mode and batch size. */
dsc_status dsc_evaluate(dsc_model *m, const dsc_dataset *ds, double *loss, double *acc, double *top5);

/* Loads the model weights (and buffers) of a checkpoint or weights file into m by name. */
dsc_status dsc_model_load_weights(dsc_model *m, const char *path);
/* Writes the weights and buffers as a safetensors file loadable by PyTorch (names as state_dict). */
dsc_status dsc_model_save_weights(dsc_model *m, const char *path);

/* The git commit descent was built from ("unknown" outside a git checkout). */
const char *dsc_git_commit(void);

#ifdef __cplusplus
}
#endif
#endif
