/* Learning-rate schedules: torch 1.13's lr_scheduler recursions evaluated in the same operation
 * order (bit-identical values), plus Optax/theory schedules. Formulas, sources and the spec
 * grammar: docs/ALGORITHMS.md; checked by tests/test_schedule.c against tables that
 * tools/gen_schedule_fixtures.py wrote with torch.
 *
 * Model of torch's stepping. A torch scheduler holds the group's lr; its get_lr() maps
 * (last_epoch k, current group lr "prev", base_lr) to the new lr. Each kind here implements
 *   init(prev, base)     the value after construction (get_lr at k = 0 with group lr = prev),
 *   restart(prev, base)  the value of step(epoch=0), i.e. the closed form at 0 (SequentialLR
 *                        calls it when a child's milestone is reached),
 *   next(k, prev, base)  get_lr at k >= 1 with group lr = prev.
 * Kinds torch computes from scratch (cyclic, one-cycle, warm restarts) and descent's own
 * closed forms ignore prev. A standalone schedule is v_0 = init(base, base),
 * v_k = next(k, v_{k-1}, base); ChainedScheduler folds its children over the same prev. */
#include "descent/schedule.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optim/schedule_internal.h"

/* Bit-exactness needs each a*b+c rounded twice, as Python does: no FMA contraction (GCC in
 * ISO C mode does not contract; clang would, within an expression, without this pragma). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static const char *kind_names[DSC_SCHED_KIND_COUNT] = {
    "constant", "step",   "multistep",  "exponential", "inverse_time", "polynomial", "linear", "cosine",
    "cosine_restarts", "warmup", "onecycle", "cyclic", "reduce_on_plateau", "wsd", "sequential", "chain",
    "batch_scale", "inv_l", "two_mu_l", "dgsqrt", "pl_decay", "chebyshev", "smooth_sgd"};

const char *dsc_schedule_names(void)
{
    return "constant, step, multistep, exponential, inverse_time, polynomial, linear, cosine, cosine_restarts, "
           "warmup, onecycle, cyclic, reduce_on_plateau, wsd, sequential, chain, batch_scale, inv_l, two_mu_l, "
           "dgsqrt, pl_decay, chebyshev, smooth_sgd";
}

int dsc_sched_kind_from_name(const char *name)
{
    for (int i = 0; i < DSC_SCHED_KIND_COUNT; i++)
        if (!strcmp(name, kind_names[i]))
            return i;
    return -1;
}

const char *dsc_sched_kind_name(int kind)
{
    return kind >= 0 && kind < DSC_SCHED_KIND_COUNT ? kind_names[kind] : "?";
}

const char *dsc_schedule_kind(const dsc_schedule *s) { return s ? kind_names[s->kind] : "none"; }

void dsc_schedule_free(dsc_schedule *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n_ch; i++)
        dsc_schedule_free(s->ch[i]);
    free(s);
}

/* ------------------------------------------------------------------------------------------ */
/* Evaluation                                                                                   */

static int absolute_kind(dsc_sched_kind k)
{
    switch (k) {
    case DSC_SCHED_RESTARTS:
    case DSC_SCHED_ONECYCLE:
    case DSC_SCHED_CYCLIC:
    case DSC_SCHED_INVTIME:
    case DSC_SCHED_WSD:
    case DSC_SCHED_INV_L:
    case DSC_SCHED_TWO_MU_L:
    case DSC_SCHED_DGSQRT:
    case DSC_SCHED_PL_DECAY:
    case DSC_SCHED_CHEBYSHEV:
    case DSC_SCHED_SMOOTH_SGD:
        return 1;
    default:
        return 0;
    }
}

/* torch OneCycleLR._annealing_cos / _annealing_linear */
static double anneal(int linear, double start, double end, double pct)
{
    if (linear)
        return (end - start) * pct + start;
    double cos_out = cos(M_PI * pct) + 1;
    return end + (start - end) / 2.0 * cos_out;
}

/* One-cycle: lr (which = 0) or momentum (which = 1) at step k (torch OneCycleLR.get_lr). */
static double onecycle_at(const dsc_schedule *s, double base, int64_t k, int which)
{
    double max_lr = isnan(s->max_lr) ? base : s->max_lr;
    double initial = max_lr / s->div_factor;
    double min_lr = initial / s->final_div_factor;
    /* phase endpoints: (start lr, end lr, start momentum, end momentum) */
    double lr_a[3], lr_b[3], m_a[3], m_b[3];
    double mmax = s->max_momentum, mbase = s->base_momentum;
    if (s->three_phase) {
        lr_a[0] = initial, lr_b[0] = max_lr, m_a[0] = mmax, m_b[0] = mbase;
        lr_a[1] = max_lr, lr_b[1] = initial, m_a[1] = mbase, m_b[1] = mmax;
        lr_a[2] = initial, lr_b[2] = min_lr, m_a[2] = mmax, m_b[2] = mmax;
    } else {
        lr_a[0] = initial, lr_b[0] = max_lr, m_a[0] = mmax, m_b[0] = mbase;
        lr_a[1] = max_lr, lr_b[1] = min_lr, m_a[1] = mbase, m_b[1] = mmax;
    }
    /* torch raises past total_steps; descent holds the value of step total_steps */
    if (k > s->total)
        k = s->total;
    double start_step = 0;
    for (int i = 0; i < s->n_phases; i++) {
        double end_step = s->phase_end[i];
        if ((double)k <= end_step || i == s->n_phases - 1) {
            double pct = ((double)k - start_step) / (end_step - start_step);
            return which ? anneal(s->anneal, m_a[i], m_b[i], pct) : anneal(s->anneal, lr_a[i], lr_b[i], pct);
        }
        start_step = end_step;
    }
    return base; /* not reached */
}

/* Cyclic (torch CyclicLR.get_lr): lr (which = 0) or momentum (which = 1). */
static double cyclic_at(const dsc_schedule *s, double base, int64_t k, int which)
{
    double total_size = (double)s->up + (double)s->down;
    double step_ratio = (double)s->up / total_size;
    double cycle = floor(1 + (double)k / total_size);
    double x = 1. + (double)k / total_size - cycle;
    double scale_factor = x <= step_ratio ? x / step_ratio : (x - 1) / (step_ratio - 1);
    double scale;
    if (s->mode == 0)
        scale = 1.;
    else if (s->mode == 1)
        scale = 1 / pow(2., cycle - 1);
    else
        scale = pow(s->gamma, (double)k); /* exp_range scales per iteration */
    if (which) {
        double base_height = (s->max_momentum - s->base_momentum) * scale_factor;
        return s->max_momentum - base_height * scale;
    }
    double base_lr = isnan(s->base_lr) ? base : s->base_lr;
    double base_height = (s->max_lr - base_lr) * scale_factor;
    return base_lr + base_height * scale;
}

static double absolute_at(const dsc_schedule *s, double base, int64_t k)
{
    switch (s->kind) {
    case DSC_SCHED_RESTARTS: {
        /* torch CosineAnnealingWarmRestarts.step(): T_cur counts up, restarts at T_i, T_i *= T_mult */
        int64_t t_cur = s->t_mult == 1 ? k % s->t_0 : k, t_i = s->t_0;
        while (t_cur >= t_i) { /* O(log k) restarts for t_mult >= 2 */
            t_cur -= t_i;
            t_i *= s->t_mult;
        }
        return s->eta_min + (base - s->eta_min) * (1 + cos(M_PI * (double)t_cur / (double)t_i)) / 2;
    }
    case DSC_SCHED_ONECYCLE:
        return onecycle_at(s, base, k, 0);
    case DSC_SCHED_CYCLIC:
        return cyclic_at(s, base, k, 0);
    case DSC_SCHED_INVTIME: {
        /* Optax inverse_time_decay / Keras InverseTimeDecay, with an exponent:
         * base / (1 + rate * t / decay_steps)^power, t floored to whole decay_steps if staircase */
        double t = (double)k / (double)s->step_size;
        if (s->staircase)
            t = floor(t);
        return base / pow(1 + s->rate * t, s->power);
    }
    case DSC_SCHED_WSD: {
        /* warmup-stable-decay (Hägele et al. 2024): linear warm-up from start_factor*base, constant
         * base, then a decay to end_factor*base of shape linear, cosine or 1-sqrt */
        if (k < s->warmup)
            return base * (s->start_factor + (1 - s->start_factor) * (double)k / (double)s->warmup);
        int64_t j = k - s->warmup - s->stable;
        if (j < 0)
            return base;
        double frac = j >= s->decay ? 1.0 : (double)j / (double)s->decay, shape;
        if (s->decay_type == 0)
            shape = 1 - frac;
        else if (s->decay_type == 1)
            shape = 0.5 * (1 + cos(M_PI * frac));
        else
            shape = 1 - sqrt(frac);
        return base * (s->end_factor + (1 - s->end_factor) * shape);
    }
    case DSC_SCHED_INV_L:
        return 1 / s->L;
    case DSC_SCHED_TWO_MU_L:
        return 2 / (s->mu + s->L);
    case DSC_SCHED_DGSQRT: {
        double T = s->anytime ? (double)(k + 1) : (double)s->T;
        if (s->sigma == 0) /* convex Lipschitz GD: D / (G sqrt T) */
            return s->D / (s->G * sqrt(T));
        /* convex SGD with gradient noise variance sigma^2: D / sqrt(T (G^2 + sigma^2)) */
        return s->D / sqrt(T * (s->G * s->G + s->sigma * s->sigma));
    }
    case DSC_SCHED_SMOOTH_SGD: {
        /* L-smooth minibatch SGD: min{1/L, sqrt(2 Delta B / (L sigma^2 T))} (catalog-000 (72), (190)) */
        double a = 1 / s->L;
        if (s->sigma == 0)
            return a;
        double b = sqrt(2 * s->delta * s->batch / (s->L * s->sigma * s->sigma * (double)s->T));
        return a < b ? a : b;
    }
    case DSC_SCHED_PL_DECAY: {
        double kk = (double)k;
        return (2 * kk + 1) / (2 * s->mu * (kk + 1) * (kk + 1));
    }
    case DSC_SCHED_CHEBYSHEV: {
        int64_t i = k % s->n;
        double mid = (s->mu + s->L) / 2, half = (s->L - s->mu) / 2;
        if (s->n == 2) /* 1/eta_{1,2} = (mu+L)/2 +- (L-mu)/(2 sqrt 2) */
            return 1 / (i == 0 ? mid + (s->L - s->mu) / (2 * sqrt(2.0)) : mid - (s->L - s->mu) / (2 * sqrt(2.0)));
        /* roots of the degree-n Chebyshev polynomial mapped to [mu, L] */
        return 1 / (mid + half * cos((double)(2 * i + 1) * M_PI / (double)(2 * s->n)));
    }
    default:
        return base;
    }
}

static double sched_init(dsc_schedule *s, double prev, double base);
static double sched_restart(dsc_schedule *s, double prev, double base);
static double sched_next(dsc_schedule *s, int64_t k, double prev, double base);

static int bisect_right(const int64_t *a, int n, int64_t x)
{
    int i = 0;
    while (i < n && a[i] <= x)
        i++;
    return i;
}

static double sched_init(dsc_schedule *s, double prev, double base)
{
    if (absolute_kind(s->kind))
        return absolute_at(s, base, 0);
    switch (s->kind) {
    case DSC_SCHED_CONSTANT:
        return prev * s->factor;
    case DSC_SCHED_LINEAR:
        return prev * s->start_factor;
    case DSC_SCHED_MULTISTEP: {
        int c = 0;
        for (int i = 0; i < s->n_ms; i++)
            c += s->ms[i] == 0;
        return c ? prev * pow(s->gamma, c) : prev;
    }
    case DSC_SCHED_SEQUENTIAL:
    case DSC_SCHED_WARMUP:
        /* SequentialLR resets the group lr to initial_lr, then initial-steps its first child */
        return sched_init(s->ch[0], base, base);
    case DSC_SCHED_CHAIN: {
        double v = prev;
        for (int i = 0; i < s->n_ch; i++)
            v = sched_init(s->ch[i], v, base);
        return v;
    }
    case DSC_SCHED_BATCH_SCALE:
        return sched_init(s->ch[0], prev * s->factor, base * s->factor);
    default: /* step, exponential, polynomial, cosine: get_lr(0) returns the group lr */
        return prev;
    }
}

/* step(epoch=0): torch's _get_closed_form_lr at last_epoch 0 where the kind has one. */
static double sched_restart(dsc_schedule *s, double prev, double base)
{
    if (absolute_kind(s->kind))
        return absolute_at(s, base, 0);
    switch (s->kind) {
    case DSC_SCHED_CONSTANT:
        return base * (s->factor + (0 >= s->total ? 1 - s->factor : 0.0));
    case DSC_SCHED_STEP:
        return base * pow(s->gamma, 0.0);
    case DSC_SCHED_MULTISTEP:
        return base * pow(s->gamma, (double)bisect_right(s->ms, s->n_ms, 0));
    case DSC_SCHED_EXPONENTIAL:
        return base * pow(s->gamma, 0.0);
    case DSC_SCHED_POLY:
        return base * pow(1.0 - 0.0 / (double)s->total, s->power);
    case DSC_SCHED_LINEAR:
        return base * (s->start_factor + (s->end_factor - s->start_factor) * 0.0 / (double)s->total);
    case DSC_SCHED_COSINE:
        return s->eta_min + (base - s->eta_min) * (1 + cos(M_PI * 0.0 / (double)s->t_max)) / 2;
    case DSC_SCHED_BATCH_SCALE:
        return sched_restart(s->ch[0], prev * s->factor, base * s->factor);
    default: /* composites restart as if constructed afresh */
        return sched_init(s, prev, base);
    }
}

static double sched_next(dsc_schedule *s, int64_t k, double prev, double base)
{
    if (absolute_kind(s->kind))
        return absolute_at(s, base, k);
    switch (s->kind) {
    case DSC_SCHED_CONSTANT: /* ConstantLR.get_lr */
        if (k != s->total)
            return prev;
        if (s->factor == 0) /* torch divides by zero here; use its closed form */
            return base;
        return prev * (1.0 / s->factor);
    case DSC_SCHED_STEP: /* StepLR.get_lr */
        return k % s->step_size != 0 ? prev : prev * s->gamma;
    case DSC_SCHED_MULTISTEP: { /* MultiStepLR.get_lr: gamma ** (number of times k is a milestone) */
        int c = 0;
        for (int i = 0; i < s->n_ms; i++)
            c += s->ms[i] == k;
        return c ? prev * pow(s->gamma, c) : prev;
    }
    case DSC_SCHED_EXPONENTIAL: /* ExponentialLR.get_lr */
        return prev * s->gamma;
    case DSC_SCHED_POLY: { /* PolynomialLR.get_lr */
        if (k > s->total)
            return prev;
        double T = (double)s->total;
        double decay = pow((1.0 - (double)k / T) / (1.0 - (double)(k - 1) / T), s->power);
        return prev * decay;
    }
    case DSC_SCHED_LINEAR: { /* LinearLR.get_lr */
        if (k > s->total)
            return prev;
        double d = s->end_factor - s->start_factor;
        if (s->start_factor == 0) /* torch's recursion divides by zero; its closed form */
            return base * (s->start_factor + d * (double)k / (double)s->total);
        return prev * (1. + d / ((double)s->total * s->start_factor + (double)(k - 1) * d));
    }
    case DSC_SCHED_COSINE: { /* CosineAnnealingLR.get_lr (recursive form) */
        int64_t T = s->t_max, r = (k - 1 - T) % (2 * T);
        if (r < 0)
            r += 2 * T; /* Python's modulo */
        if (r == 0)
            return prev + (base - s->eta_min) * (1 - cos(M_PI / (double)T)) / 2;
        return (1 + cos(M_PI * (double)k / (double)T)) / (1 + cos(M_PI * (double)(k - 1) / (double)T)) *
                   (prev - s->eta_min) +
               s->eta_min;
    }
    case DSC_SCHED_SEQUENTIAL:
    case DSC_SCHED_WARMUP: { /* SequentialLR.step */
        int idx = bisect_right(s->ms, s->n_ms, k);
        dsc_schedule *c = s->ch[idx];
        if (idx > 0 && s->ms[idx - 1] == k)
            return sched_restart(c, prev, base);
        return sched_next(c, idx == 0 ? k : k - s->ms[idx - 1], prev, base);
    }
    case DSC_SCHED_CHAIN: { /* ChainedScheduler.step: every child steps on the shared lr, in order */
        double v = prev;
        for (int i = 0; i < s->n_ch; i++)
            v = sched_next(s->ch[i], k, v, base);
        return v;
    }
    case DSC_SCHED_BATCH_SCALE:
        return sched_next(s->ch[0], k, prev, base * s->factor);
    default:
        return prev;
    }
}

/* ReduceLROnPlateau._reduce_lr applied `reductions` times to base. */
static double plateau_value(const dsc_schedule *s, double base)
{
    double lr = base;
    for (int64_t r = 0; r < s->reductions; r++) {
        double new_lr = fmax(lr * s->factor, s->min_lr);
        if (lr - new_lr > s->eps)
            lr = new_lr;
        else
            break; /* once a reduction is ignored, every later one is too */
    }
    return lr;
}

double dsc_schedule_value(dsc_schedule *s, double base, int64_t step)
{
    if (!s || step < 0)
        return base;
    if (s->kind == DSC_SCHED_PLATEAU)
        return plateau_value(s, base);
    if (absolute_kind(s->kind))
        return absolute_at(s, base, step);
    /* memo: resume the recursion from the last step evaluated for this base */
    int slot = -1;
    for (int i = 0; i < DSC_SCHED_N_MEMO; i++)
        if (s->memo[i].used && s->memo[i].base == base) {
            slot = i;
            break;
        }
    if (slot < 0) {
        slot = s->memo_next;
        s->memo_next = (s->memo_next + 1) % DSC_SCHED_N_MEMO;
        s->memo[slot].used = 0;
    }
    int64_t k;
    double v;
    if (s->memo[slot].used && s->memo[slot].step <= step) {
        k = s->memo[slot].step;
        v = s->memo[slot].value;
    } else {
        k = 0;
        v = sched_init(s, base, base);
    }
    while (k < step) {
        k++;
        v = sched_next(s, k, v, base);
    }
    s->memo[slot].used = 1;
    s->memo[slot].base = base;
    s->memo[slot].step = k;
    s->memo[slot].value = v;
    return v;
}

int dsc_schedule_momentum(dsc_schedule *s, int64_t step, double *momentum)
{
    if (!s)
        return 0;
    if (step < 0)
        step = 0;
    switch (s->kind) {
    case DSC_SCHED_ONECYCLE:
        if (!s->cycle_momentum)
            return 0;
        *momentum = onecycle_at(s, 0, step, 1);
        return 1;
    case DSC_SCHED_CYCLIC:
        if (!s->cycle_momentum)
            return 0;
        *momentum = cyclic_at(s, 0, step, 1);
        return 1;
    case DSC_SCHED_SEQUENTIAL:
    case DSC_SCHED_WARMUP: {
        int idx = bisect_right(s->ms, s->n_ms, step);
        return dsc_schedule_momentum(s->ch[idx], idx == 0 ? step : step - s->ms[idx - 1], momentum);
    }
    case DSC_SCHED_CHAIN: {
        int got = 0;
        for (int i = 0; i < s->n_ch; i++)
            got |= dsc_schedule_momentum(s->ch[i], step, momentum);
        return got;
    }
    case DSC_SCHED_BATCH_SCALE:
        return dsc_schedule_momentum(s->ch[0], step, momentum);
    default:
        return 0;
    }
}

int dsc_schedule_is_stateful(const dsc_schedule *s) { return s && s->kind == DSC_SCHED_PLATEAU; }

dsc_status dsc_schedule_observe(dsc_schedule *s, double metric)
{
    if (!s || s->kind != DSC_SCHED_PLATEAU)
        return DSC_ERROR(DSC_ERR_STATE, "schedule %s: observe(metric) is only for reduce_on_plateau",
                         dsc_schedule_kind(s));
    if (isnan(metric))
        return DSC_ERROR(DSC_ERR_NUMERIC, "reduce_on_plateau: metric is NaN at epoch %lld",
                         (long long)s->epochs + 1);
    /* ReduceLROnPlateau.step(metrics) */
    s->epochs++;
    int better;
    if (s->mode == 0 && s->threshold_mode == 0)
        better = metric < s->best * (1. - s->threshold);
    else if (s->mode == 0)
        better = metric < s->best - s->threshold;
    else if (s->threshold_mode == 0)
        better = metric > s->best * (s->threshold + 1.);
    else
        better = metric > s->best + s->threshold;
    if (better) {
        s->best = metric;
        s->num_bad = 0;
    } else {
        s->num_bad++;
    }
    if (s->cooldown_counter > 0) {
        s->cooldown_counter--;
        s->num_bad = 0; /* ignore bad epochs in cooldown */
    }
    if (s->num_bad > s->patience) {
        s->reductions++;
        s->cooldown_counter = s->cooldown;
        s->num_bad = 0;
    }
    return DSC_OK;
}

void dsc_schedule_state_save(const dsc_schedule *s, double state[DSC_SCHEDULE_STATE_LEN])
{
    memset(state, 0, sizeof(double) * DSC_SCHEDULE_STATE_LEN);
    if (!s || s->kind != DSC_SCHED_PLATEAU)
        return;
    state[0] = s->best;
    state[1] = (double)s->num_bad;
    state[2] = (double)s->cooldown_counter;
    state[3] = (double)s->epochs;
    state[4] = (double)s->reductions;
    state[5] = 1; /* marks a plateau state */
}

dsc_status dsc_schedule_state_load(dsc_schedule *s, const double state[DSC_SCHEDULE_STATE_LEN])
{
    if (!s)
        return DSC_ERROR(DSC_ERR_INVALID, "schedule state load: no schedule");
    if (s->kind != DSC_SCHED_PLATEAU)
        return state[5] == 0 ? DSC_OK
                             : DSC_ERROR(DSC_ERR_FORMAT, "schedule %s: state is reduce_on_plateau's",
                                         dsc_schedule_kind(s));
    if (state[5] != 1 || state[1] < 0 || state[2] < 0 || state[3] < 0 || state[4] < 0)
        return DSC_ERROR(DSC_ERR_FORMAT, "reduce_on_plateau: malformed saved state");
    s->best = state[0];
    s->num_bad = (int64_t)state[1];
    s->cooldown_counter = (int64_t)state[2];
    s->epochs = (int64_t)state[3];
    s->reductions = (int64_t)state[4];
    return DSC_OK;
}

double dsc_batch_scale_lr(double lr, dsc_batch_rule rule, double batch, double base_batch)
{
    if (rule == DSC_BATCH_LINEAR)
        return lr * (batch / base_batch);
    if (rule == DSC_BATCH_SQRT)
        return lr * sqrt(batch / base_batch);
    return lr;
}
