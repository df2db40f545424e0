/* The measured choice of the training steps' thread count; see thread_tuner.h. */
#include "train/thread_tuner.h"

#include <string.h>

void dsc_thread_tuner_init(dsc_thread_tuner *t, int max_threads, double first_s, double period_s)
{
    memset(t, 0, sizeof *t);
    for (int n = max_threads > 1 ? max_threads : 1; t->n_cand < DSC_TUNER_MAX_CAND; n /= 2) {
        t->cand[t->n_cand++] = n;
        if (n == 1)
            break;
    }
    t->period0 = t->period_s = period_s > 0 ? period_s : 1.0;
    t->next_probe_time = first_s > 0 ? first_s : 0.0;
}

int dsc_thread_tuner_next(const dsc_thread_tuner *t)
{
    return t->cand[t->probing ? t->probe_i : t->best];
}

static void start_probe(dsc_thread_tuner *t)
{
    t->probing = 1;
    t->probe_i = 0;
    t->probe_steps = 0;
    t->probe_time = t->probe_examples = 0.0;
}

void dsc_thread_tuner_record(dsc_thread_tuner *t, double seconds, double examples)
{
    t->steps++;
    t->time += seconds;
    if (t->n_cand <= 1)
        return;
    if (!t->probing) {
        if (t->steps >= DSC_TUNER_WARMUP && t->time >= t->next_probe_time)
            start_probe(t);
        return;
    }
    t->probe_steps++;
    t->probe_time += seconds;
    t->probe_examples += examples;
    if (t->probe_steps < DSC_TUNER_PROBE_STEPS || t->probe_time < DSC_TUNER_PROBE_SECONDS)
        return;
    t->rate[t->probe_i] = t->probe_examples > 0 ? t->probe_time / t->probe_examples : t->probe_time;
    t->probe_steps = 0;
    t->probe_time = t->probe_examples = 0.0;
    if (++t->probe_i < t->n_cand)
        return;
    /* every candidate measured: keep the fastest if it clearly beats the current choice */
    int fast = 0;
    for (int i = 1; i < t->n_cand; i++)
        if (t->rate[i] < t->rate[fast])
            fast = i;
    if (fast != t->best && t->rate[fast] < 0.95 * t->rate[t->best]) {
        t->best = fast;
        t->switches++;
        t->period_s = t->period0;
    } else if (t->period_s < DSC_TUNER_MAX_PERIOD) {
        t->period_s *= 2.0;
    }
    t->probing = 0;
    t->probes++;
    t->next_probe_time = t->time + t->period_s;
}
