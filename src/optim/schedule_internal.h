/* Private to src/optim/schedule*.c: the schedule node shared by the evaluator (schedule.c)
 * and the spec parser (schedule_spec.c). */
#ifndef DSC_OPTIM_SCHEDULE_INTERNAL_H
#define DSC_OPTIM_SCHEDULE_INTERNAL_H

#include <stdint.h>

#include "descent/schedule.h"

typedef enum dsc_sched_kind {
    DSC_SCHED_CONSTANT,
    DSC_SCHED_STEP,
    DSC_SCHED_MULTISTEP,
    DSC_SCHED_EXPONENTIAL,
    DSC_SCHED_INVTIME,
    DSC_SCHED_POLY,
    DSC_SCHED_LINEAR,
    DSC_SCHED_COSINE,
    DSC_SCHED_RESTARTS,
    DSC_SCHED_WARMUP,
    DSC_SCHED_ONECYCLE,
    DSC_SCHED_CYCLIC,
    DSC_SCHED_PLATEAU,
    DSC_SCHED_WSD,
    DSC_SCHED_SEQUENTIAL,
    DSC_SCHED_CHAIN,
    DSC_SCHED_BATCH_SCALE,
    DSC_SCHED_INV_L,
    DSC_SCHED_TWO_MU_L,
    DSC_SCHED_DGSQRT,
    DSC_SCHED_PL_DECAY,
    DSC_SCHED_CHEBYSHEV,
    DSC_SCHED_SMOOTH_SGD,
    DSC_SCHED_KIND_COUNT
} dsc_sched_kind;

#define DSC_SCHED_N_MEMO 8
#define DSC_SCHED_MAX_LIST 64

struct dsc_schedule {
    dsc_sched_kind kind;
    /* scalar options (meaning per kind: see build() in schedule_spec.c) */
    double gamma, eta_min, factor, start_factor, end_factor, power, rate;
    double max_lr, base_lr, pct_start, div_factor, final_div_factor, base_momentum, max_momentum;
    double threshold, min_lr, eps, L, mu, D, G, batch, base_batch, sigma, delta;
    int64_t step_size, t_max, t_0, t_mult, total, warmup, stable, decay, up, down, patience, cooldown, n, T;
    int mode, anneal, three_phase, cycle_momentum, staircase, threshold_mode, decay_type, anytime, rule;
    double phase_end[3]; /* one-cycle phase ends (torch's 'end_step') */
    int n_phases;
    int64_t ms[DSC_SCHED_MAX_LIST]; /* milestones */
    int n_ms;
    dsc_schedule *ch[DSC_SCHED_MAX_LIST]; /* children */
    int n_ch;
    struct { /* memo of the recursion, per base value */
        int used;
        double base, value;
        int64_t step;
    } memo[DSC_SCHED_N_MEMO];
    int memo_next;
    /* reduce_on_plateau: torch's best, num_bad_epochs, cooldown_counter, last_epoch; and the
     * number of reductions triggered (the lr is a function of it and the base) */
    double best;
    int64_t num_bad, cooldown_counter, epochs, reductions;
};

/* Index of a kind name, -1 if unknown; and back. */
int dsc_sched_kind_from_name(const char *name);
const char *dsc_sched_kind_name(int kind);

#endif
