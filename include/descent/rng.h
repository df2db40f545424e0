/* descent — counter-based random numbers (Philox4x32-10, Salmon et al., SC'11).
 *
 * A draw is a pure function of (key, counter): element i of a fill uses counter
 * base + i, so results do not depend on how the work is split over threads. A
 * dsc_rng is a key plus a running counter; its whole state is two uint64 words,
 * which checkpoints save and restore. */
#ifndef DESCENT_RNG_H
#define DESCENT_RNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dsc_rng {
    uint64_t key;     /* the seed */
    uint64_t counter; /* number of 128-bit blocks consumed */
} dsc_rng;

/* Philox4x32-10 block: four 32-bit outputs for a 64-bit key and 128-bit counter. */
void dsc_philox4x32(uint64_t key, uint64_t ctr_lo, uint64_t ctr_hi, uint32_t out[4]);

dsc_rng dsc_rng_seed(uint64_t seed);
/* A generator for a sub-stream (e.g. one per layer or purpose) that never overlaps the parent. */
dsc_rng dsc_rng_fork(const dsc_rng *r, uint64_t stream);

/* Single draws (advance the counter by one block each). */
uint32_t dsc_rng_u32(dsc_rng *r);
uint64_t dsc_rng_u64(dsc_rng *r);
double dsc_rng_uniform01(dsc_rng *r);           /* in [0, 1) with 53 bits */
uint64_t dsc_rng_below(dsc_rng *r, uint64_t n); /* uniform in [0, n), unbiased */
double dsc_rng_normal(dsc_rng *r);               /* standard normal */

/* Bulk fills; each advances the counter by ceil(n/4) blocks (normals: ceil(n/2)).
 * Element i depends only on (key, counter_at_call, i). Parallel over threads. */
void dsc_rng_fill_uniform(dsc_rng *r, float *out, size_t n, float lo, float hi);
void dsc_rng_fill_normal(dsc_rng *r, float *out, size_t n, float mean, float std);
/* out[i] = 1 with probability p, else 0 (as float). */
void dsc_rng_fill_bernoulli(dsc_rng *r, float *out, size_t n, float p);
/* Fisher-Yates permutation of 0..n-1. */
void dsc_rng_permutation(dsc_rng *r, int64_t *perm, int64_t n);

/* Stateless helper: uniform float in [0,1) for (key, index) — used by kernels such as dropout. */
float dsc_rng_uniform_at(uint64_t key, uint64_t stream, uint64_t index);

#ifdef __cplusplus
}
#endif
#endif
