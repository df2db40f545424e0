/* descent schedule: print a learning-rate schedule, one line per step. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descent/descent.h"
#include "descent/schedule.h"

static void schedule_usage(FILE *f)
{
    static char help[4096];
    fprintf(f,
            "usage: descent schedule --schedule SPEC [--lr X] [--steps N] [--momentum]\n"
            "                        [--metrics M0,M1,...]\n\n"
            "Prints one line per step: the step (from 0, like torch's first epoch) and the learning\n"
            "rate, with %%.17g. Values equal torch.optim.lr_scheduler's where torch has the schedule.\n\n"
            "options:\n"
            "  --schedule SPEC  e.g. 'step:step_size=3,gamma=0.1', 'exponential:gamma=0.9',\n"
            "                   'cosine:t_max=10,eta_min=0', 'warmup:steps=5,then=cosine:t_max=100',\n"
            "                   'multistep:milestones=30+60+90,gamma=0.1',\n"
            "                   'sequential:milestones=5,schedules=[linear:total_iters=5]+[cosine:t_max=95]'\n"
            "                   kinds: %s\n"
            "                   (grammar and options: docs/ALGORITHMS.md)\n"
            "  --lr X           base learning rate (the optimizer's initial lr; default 0.1)\n"
            "  --steps N        number of steps to print (default 10)\n"
            "  --momentum       add a third column: the momentum cycled by onecycle/cyclic\n"
            "  --metrics LIST   reduce_on_plateau: the metric of each epoch, comma separated; the\n"
            "                   metric of step k is reported after printing step k's lr\n"
            "  -h, --help       this help\n\n"
            "kinds and their options:\n%s",
            dsc_schedule_names(), dsc_schedule_help(help, sizeof help));
}

static int parse_num(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

int cmd_schedule(int argc, char **argv)
{
    const char *spec = NULL, *metrics = NULL;
    double lr = 0.1;
    long long steps = 10;
    int momentum = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        char key[32];
        const char *eq = strchr(a, '=');
        if (!strncmp(a, "--", 2) && eq && (size_t)(eq - a) < sizeof key) {
            memcpy(key, a, (size_t)(eq - a));
            key[eq - a] = 0;
            val = eq + 1;
        } else {
            snprintf(key, sizeof key, "%s", a);
        }
        if (!strcmp(key, "-h") || !strcmp(key, "--help")) {
            schedule_usage(stdout);
            return 0;
        }
        if (!strcmp(key, "--momentum")) {
            momentum = 1;
            continue;
        }
        if (strcmp(key, "--schedule") && strcmp(key, "--lr") && strcmp(key, "--steps") && strcmp(key, "--metrics")) {
            fprintf(stderr, "descent schedule: unknown option '%s' (valid: --schedule, --lr, --steps, --momentum, "
                            "--metrics, --help)\n", a);
            return 2;
        }
        if (!val) {
            if (i + 1 >= argc) {
                fprintf(stderr, "descent schedule: %s needs a value\n", key);
                return 2;
            }
            val = argv[++i];
        }
        if (!strcmp(key, "--schedule")) {
            spec = val;
        } else if (!strcmp(key, "--metrics")) {
            metrics = val;
        } else if (!strcmp(key, "--lr")) {
            if (!parse_num(val, &lr)) {
                fprintf(stderr, "descent schedule: --lr '%s' is not a finite number\n", val);
                return 2;
            }
        } else {
            double v;
            if (!parse_num(val, &v) || v < 0 || v > 1e9 || v != floor(v)) {
                fprintf(stderr, "descent schedule: --steps '%s' is not an integer in [0, 1000000000]\n", val);
                return 2;
            }
            steps = (long long)v;
        }
    }
    if (!spec) {
        fprintf(stderr, "descent schedule: --schedule SPEC is required\n");
        schedule_usage(stderr);
        return 2;
    }
    dsc_schedule *s = NULL;
    if (dsc_schedule_new(spec, &s) != DSC_OK) {
        fprintf(stderr, "descent schedule: %s\n", dsc_last_error());
        return 2;
    }
    if (metrics && !dsc_schedule_is_stateful(s)) {
        fprintf(stderr, "descent schedule: --metrics is only for reduce_on_plateau (the schedule is %s)\n",
                dsc_schedule_kind(s));
        dsc_schedule_free(s);
        return 2;
    }
    const char *mp = metrics;
    int rc = 0;
    for (long long k = 0; k < steps; k++) {
        double v = dsc_schedule_value(s, lr, k);
        double m;
        if (momentum && dsc_schedule_momentum(s, k, &m))
            printf("%lld %.17g %.17g\n", k, v, m);
        else
            printf("%lld %.17g\n", k, v);
        if (mp && *mp) {
            char *end;
            errno = 0;
            double x = strtod(mp, &end);
            if (end == mp || (*end && *end != ',')) {
                fprintf(stderr, "descent schedule: --metrics: bad number at '%s'\n", mp);
                rc = 2;
                break;
            }
            if (dsc_schedule_observe(s, x) != DSC_OK) {
                fprintf(stderr, "descent schedule: %s\n", dsc_last_error());
                rc = 1;
                break;
            }
            mp = *end ? end + 1 : end;
        }
    }
    dsc_schedule_free(s);
    return rc;
}
