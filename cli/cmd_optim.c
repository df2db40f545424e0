/* descent optim: run an optimizer in float64 on a test function and print the trajectory. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descent/descent.h"

static void optim_usage(FILE *f)
{
    fprintf(f,
            "usage: descent optim --opt SPEC --fn FUNCTION [--x0 X1,X2,...] [--steps N]\n"
            "                     [--print-steps S1,S2,...] [--float32]\n\n"
            "Runs an optimizer on a test function (float64 unless --float32) and prints one line per\n"
            "printed step: the step, every coordinate, then f, separated by spaces (%%.17g).\n"
            "Step 0 is the starting point. One step is one step(closure) call, as in torch\n"
            "(L-BFGS evaluates the function several times per step).\n\n"
            "options:\n"
            "  --opt SPEC          optimizer spec, e.g. 'adam:lr=0.01,amsgrad=1', 'sgd:lr=1e-3,momentum=0.9'\n"
            "                      (--help-opt NAME lists an optimizer's options)\n"
            "  --fn FUNCTION       test function (list below), e.g. 'rosenbrock', 'quadratic:d=10,kappa=100'\n"
            "  --x0 LIST           starting point, comma separated; one value is repeated for every\n"
            "                      coordinate (default 1.5)\n"
            "  --steps N           number of steps (default: the largest printed step, or 100)\n"
            "  --print-steps LIST  steps to print (default: every step)\n"
            "  --float32           run the optimizer's float32 path (the function stays float64)\n"
            "  --help-opt [NAME]   options of one optimizer (or of all)\n"
            "  -h, --help          this help\n\n"
            "functions: %s\n"
            "optimizers: %s\n",
            dsc_testfn_names(), dsc_optim_names());
}

/* Comma-separated doubles; returns the count or -1. */
static long parse_list(const char *s, double *out, long max)
{
    long n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        const double v = strtod(p, &end);
        if (end == p || errno || !isfinite(v) || n == max)
            return -1;
        out[n++] = v;
        p = end;
        if (*p == ',') {
            p++;
            if (!*p)
                return -1;
        } else if (*p) {
            return -1;
        }
    }
    return n;
}

/* The closure: f and its gradient at params (float64, or float32 converted through x). */
typedef struct optim_cli_ctx {
    const dsc_testfn *fn;
    int f32;
    double *x, *g;
    size_t d;
} optim_cli_ctx;

static double cli_closure(void *ctx, const void *params, void *grads)
{
    optim_cli_ctx *c = ctx;
    if (!c->f32)
        return dsc_testfn_eval(c->fn, params, grads);
    for (size_t i = 0; i < c->d; i++)
        c->x[i] = ((const float *)params)[i];
    const double f = dsc_testfn_eval(c->fn, c->x, c->g);
    for (size_t i = 0; i < c->d; i++)
        ((float *)grads)[i] = (float)c->g[i];
    return f;
}

static int bad(const char *msg, const char *arg)
{
    fprintf(stderr, "descent optim: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
    fprintf(stderr, "Run 'descent optim --help' for the options.\n");
    return 2;
}

int cmd_optim(int argc, char **argv)
{
    const char *opt_spec = NULL, *fn_spec = NULL, *x0_text = NULL, *print_text = NULL;
    long steps = -1;
    int f32 = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *inline_v = NULL;
        char key[64];
        const char *eq = strncmp(a, "--", 2) ? NULL : strchr(a, '=');
        if (eq && (size_t)(eq - a) < sizeof key) { /* --key=value */
            memcpy(key, a, (size_t)(eq - a));
            key[eq - a] = 0;
            a = key;
            inline_v = eq + 1;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            optim_usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--help-opt")) {
            static char buf[16384];
            const char *name = i + 1 < argc && argv[i + 1][0] != '-' ? argv[++i] : NULL;
            fputs(dsc_optim_help(name, buf, sizeof buf), stdout);
            return 0;
        }
        if (!strcmp(a, "--float32")) {
            f32 = 1;
            continue;
        }
        if (!inline_v && i + 1 >= argc)
            return bad("missing value for", a);
        const char *v = inline_v ? inline_v : argv[++i];
        if (!strcmp(a, "--opt"))
            opt_spec = v;
        else if (!strcmp(a, "--fn"))
            fn_spec = v;
        else if (!strcmp(a, "--x0"))
            x0_text = v;
        else if (!strcmp(a, "--print-steps"))
            print_text = v;
        else if (!strcmp(a, "--steps")) {
            char *end;
            errno = 0;
            steps = strtol(v, &end, 10);
            if (end == v || *end || errno || steps < 0 || steps > 1000000000L)
                return bad("--steps needs an integer in [0, 1e9], got", v);
        } else {
            return bad("unknown option", a);
        }
    }
    if (!opt_spec)
        return bad("--opt is required", NULL);
    if (!fn_spec)
        return bad("--fn is required", NULL);

    dsc_testfn *fn = NULL;
    if (dsc_testfn_new(fn_spec, &fn) != DSC_OK) {
        fprintf(stderr, "descent optim: %s\n", dsc_last_error());
        return 2;
    }
    const size_t d = dsc_testfn_dim(fn);
    int rc = 2;
    double *x = calloc(d, sizeof *x), *g = calloc(d, sizeof *g), *x0 = calloc(d, sizeof *x0);
    float *xf = calloc(d, sizeof *xf), *gf = calloc(d, sizeof *gf);
    long n_print = 0, max_print = 4096;
    double *print = calloc((size_t)max_print, sizeof *print);
    dsc_optim *opt = NULL;
    if (!x || !g || !x0 || !xf || !gf || !print) {
        fprintf(stderr, "descent optim: out of memory\n");
        rc = 1;
        goto done;
    }
    for (size_t i = 0; i < d; i++)
        x[i] = 1.5;
    if (x0_text) {
        const long n = parse_list(x0_text, x0, (long)d);
        if (n == 1) {
            for (size_t i = 0; i < d; i++)
                x[i] = x0[0];
        } else if (n == (long)d) {
            memcpy(x, x0, d * sizeof *x);
        } else {
            fprintf(stderr, "descent optim: --x0 '%s' must be 1 or %zu comma-separated numbers for %s\n", x0_text, d,
                    fn_spec);
            goto done;
        }
    }
    if (print_text) {
        n_print = parse_list(print_text, print, max_print);
        if (n_print < 0) {
            fprintf(stderr, "descent optim: --print-steps '%s' must be comma-separated step numbers\n", print_text);
            goto done;
        }
        for (long k = 0; k < n_print; k++)
            if (print[k] < 0 || print[k] != (double)(long)print[k]) {
                fprintf(stderr, "descent optim: --print-steps: '%g' is not a step number\n", print[k]);
                goto done;
            }
    }
    if (steps < 0) {
        steps = n_print ? 0 : 100;
        for (long k = 0; k < n_print; k++)
            if (print[k] > (double)steps)
                steps = (long)print[k];
    }
    if (dsc_optim_new(opt_spec, d, f32 ? DSC_FLOAT32 : DSC_FLOAT64, &opt) != DSC_OK) {
        fprintf(stderr, "descent optim: %s\n", dsc_last_error());
        goto done;
    }
    rc = 0;
    double *xs = calloc(d, sizeof *xs), *gs = calloc(d, sizeof *gs);
    optim_cli_ctx cctx = {fn, f32, xs, gs, d};
    if (!xs || !gs) {
        fprintf(stderr, "descent optim: out of memory\n");
        rc = 1;
        steps = -1;
    }
    for (long t = 0; t <= steps; t++) {
        if (t > 0) {
            /* One step = one step(closure) call, as torch (L-BFGS evaluates several times). */
            dsc_status s;
            if (f32) {
                s = dsc_optim_step_closure(opt, xf, gf, cli_closure, &cctx, NULL);
                for (size_t i = 0; i < d; i++)
                    x[i] = xf[i];
            } else {
                s = dsc_optim_step_closure(opt, x, g, cli_closure, &cctx, NULL);
            }
            if (s != DSC_OK) {
                fprintf(stderr, "descent optim: step %ld: %s\n", t, dsc_last_error());
                rc = 1;
                break;
            }
        } else if (f32) {
            for (size_t i = 0; i < d; i++)
                x[i] = xf[i] = (float)x[i];
        }
        int show = !print_text && t > 0;
        for (long k = 0; k < n_print && !show; k++)
            show = print[k] == (double)t;
        if (show) {
            printf("%ld", t);
            for (size_t i = 0; i < d; i++)
                printf(" %.17g", x[i]);
            printf(" %.17g\n", dsc_testfn_eval(fn, x, NULL));
        }
    }
    free(xs);
    free(gs);
done:
    dsc_optim_free(opt);
    dsc_testfn_free(fn);
    free(x);
    free(g);
    free(x0);
    free(xf);
    free(gf);
    free(print);
    return rc;
}
