/* Thread count of the training steps, chosen from measured step times (descent train --threads auto).
 *
 * Why: descent's results do not depend on the thread count (every parallel loop splits its work
 * into a fixed partition), so the count may change at any step. On a quiet machine all cores are
 * fastest; when another process takes one of them, each parallel region may wait at its barrier for
 * the descheduled thread (up to a scheduler tick) and fewer threads are faster — measured on the
 * 2-core machine with one busy core: MLP 51k samples/s on 2 threads vs 119k on 1; CNN 2.9k vs 4.3k.
 *
 * How: candidates max, max/2, ..., 1. A probe runs each candidate for at least PROBE_STEPS steps and
 * PROBE_SECONDS of step time and keeps the one with the smallest time per example over its whole
 * window (the total, not a median: the slowdown comes as rare long stalls, which a median hides). It
 * replaces the current choice only when at least 5 % faster (noise must not make it flap). The
 * first probe starts after `first_s` seconds of step time (0.5 s in the trainer; and WARMUP steps:
 * they touch fresh memory), so that short runs pay nothing; the next one `period_s` later. A probe that confirms the choice
 * doubles the period (up to MAX_PERIOD seconds: on a quiet machine probes become rare), one that
 * changes it resets the period. A pure state machine: the caller measures, tests feed it synthetic
 * times. */
#ifndef DSC_THREAD_TUNER_H
#define DSC_THREAD_TUNER_H

#include <stdint.h>

#define DSC_TUNER_MAX_CAND 8
#define DSC_TUNER_PROBE_STEPS 3
#define DSC_TUNER_PROBE_SECONDS 0.05
#define DSC_TUNER_WARMUP 2
#define DSC_TUNER_MAX_PERIOD 64.0

typedef struct dsc_thread_tuner {
    int n_cand;                 /* 1: nothing to choose (the tuner is idle) */
    int cand[DSC_TUNER_MAX_CAND];
    int best;                   /* index of the candidate in use outside probes */
    int probing, probe_i;
    int64_t probe_steps;        /* steps of the candidate being probed */
    double probe_time, probe_examples;
    double rate[DSC_TUNER_MAX_CAND]; /* seconds per example of each candidate in the last probe */
    int64_t steps;
    double time, next_probe_time, period_s, period0;
    int64_t probes, switches;   /* statistics */
} dsc_thread_tuner;

/* max_threads <= 1 makes an idle tuner (always 1). first_s: step time before the first probe (>= 0);
 * period_s: step time between the next probes (> 0). */
void dsc_thread_tuner_init(dsc_thread_tuner *t, int max_threads, double first_s, double period_s);
/* The thread count for the next step. */
int dsc_thread_tuner_next(const dsc_thread_tuner *t);
/* Reports the step just run with dsc_thread_tuner_next()'s count: its time and its examples. */
void dsc_thread_tuner_record(dsc_thread_tuner *t, double seconds, double examples);

#endif
