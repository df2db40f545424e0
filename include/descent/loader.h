/* descent — mini-batch loader over a dsc_dataset (docs/TRAINING.md).
 *
 * Batches of a dense float32 data set: random reshuffling each epoch (every example exactly
 * once per epoch), sampling with replacement (n uniform draws per epoch) or the data set's
 * order; drop_last; image augmentation (random crop with zero padding, horizontal flip,
 * Gaussian noise) for [C, H, W] examples.
 *
 * Determinism: everything random is a pure function of the seed and the position, through
 * Philox sub-streams (descent/rng.h): the order of epoch e comes from fork(seed, e), the
 * augmentation of the example at position p of epoch e from fork(fork(aug(seed), e), p). The
 * loader's whole state is therefore (epoch, index in the epoch) plus the seed's rng words,
 * which dsc_loader_get_state / dsc_loader_set_state save and restore: a resumed run draws the
 * same batches, bit for bit, as an uninterrupted one. Results do not depend on the thread
 * count. */
#ifndef DESCENT_LOADER_H
#define DESCENT_LOADER_H

#include <stdint.h>

#include "descent/data.h"
#include "descent/error.h"
#include "descent/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dsc_sampling {
    DSC_SAMPLE_SHUFFLE = 0,     /* random reshuffling: a fresh permutation each epoch */
    DSC_SAMPLE_REPLACEMENT = 1, /* n draws with replacement each epoch */
    DSC_SAMPLE_SEQUENTIAL = 2   /* the data set's order (evaluation) */
} dsc_sampling;

/* Augmentation flags and their parameters. */
#define DSC_AUG_CROP 1u  /* pad every side with crop_pad zeros, cut a random HxW window */
#define DSC_AUG_FLIP 2u  /* mirror left-right with probability 1/2 */
#define DSC_AUG_NOISE 4u /* add N(0, noise_std^2) to every feature */

typedef struct dsc_augment {
    unsigned flags;
    int crop_pad;    /* default 2 */
    float noise_std; /* default 0.05 */
} dsc_augment;

/* Parses "crop,flip,noise", with optional values "crop=4,noise=0.1" ("" or "none": nothing).
 * DSC_ERR_INVALID / DSC_ERR_RANGE name the item and list the valid ones. */
dsc_status dsc_augment_parse(const char *text, dsc_augment *out);

typedef struct dsc_loader_opts {
    int64_t batch_size;   /* >= 1 */
    dsc_sampling sampling;
    int drop_last;        /* drop the last incomplete batch of each epoch */
    dsc_augment augment;  /* flags 0: none */
    uint64_t seed;
} dsc_loader_opts;

void dsc_loader_opts_init(dsc_loader_opts *o); /* batch 32, shuffle, keep last, no augmentation, seed 0 */

typedef struct dsc_loader_state {
    int64_t epoch;        /* epochs completed (0-based index of the current epoch) */
    int64_t index;        /* examples already given out in the current epoch */
    uint64_t rng_key;     /* the seed's Philox key and counter (checked on restore) */
    uint64_t rng_counter;
} dsc_loader_state;

typedef struct dsc_loader {
    const dsc_dataset *ds; /* dense float32 with labels; not owned */
    dsc_loader_opts o;
    dsc_rng rng;           /* dsc_rng_seed(seed): the root of every sub-stream */
    int64_t epoch, index;
    int64_t epoch_len;     /* examples per epoch given out (n, or full batches with drop_last) */
    int64_t *order;        /* order of the current epoch (n entries) */
    int64_t order_epoch;   /* which epoch `order` holds (-1: none) */
} dsc_loader;

/* The data set must be dense float32 with labels and outlive the loader. Augmentation other
 * than noise needs [C, H, W] examples (feat_ndim 3). */
dsc_status dsc_loader_init(dsc_loader *l, const dsc_dataset *ds, const dsc_loader_opts *o);
void dsc_loader_free(dsc_loader *l);

/* Batches per epoch: ceil(n / B), or floor(n / B) with drop_last. */
int64_t dsc_loader_batches_per_epoch(const dsc_loader *l);

/* The next batch of the current epoch: x gets bsz*d features, y bsz labels (buffers of at least
 * batch_size*d and batch_size floats). *epoch_end is set to 1 when this batch was the epoch's
 * last; the loader then moves on to the next epoch (state (epoch + 1, 0)). */
dsc_status dsc_loader_next(dsc_loader *l, float *x, float *y, int64_t *bsz, int *epoch_end);

/* The indices of the current epoch's order (n entries) — for tests. */
const int64_t *dsc_loader_order(dsc_loader *l);

dsc_loader_state dsc_loader_get_state(const dsc_loader *l);
/* DSC_ERR_INVALID if the state was saved with another seed or does not fit this data set. */
dsc_status dsc_loader_set_state(dsc_loader *l, const dsc_loader_state *s);

/* Augments one example in place ([C, H, W] floats, tmp of C*H*W floats) with the draws of
 * (seed, epoch, position): what dsc_loader_next applies. */
void dsc_augment_example(const dsc_augment *a, const dsc_rng *root, int64_t epoch, int64_t position, int c, int h,
                         int w, float *x, float *tmp);

#ifdef __cplusplus
}
#endif
#endif
