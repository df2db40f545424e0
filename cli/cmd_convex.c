/* descent convex: run solvers of the convex lab on a problem, print suboptimality per effective pass,
 * compare several solvers in one plot, or compute the exact optimum. docs/CLI.md, "descent convex". */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "descent/convex.h"
#include "descent/descent.h"
#include "descent/solvers.h"
#include "plot.h"

#define CMD "descent convex"
#define MAX_SOLVERS 32

static void convex_usage(FILE *f)
{
    fprintf(f,
            "usage: descent convex --problem SPEC [--data SET] [--standardize] --solver SPEC [options]\n"
            "       descent convex --problem SPEC [--data SET] [--standardize] --solve-exact [--out DIR]\n\n"
            "Runs solvers of the convex lab (float64) on a problem and prints one line per effective pass\n"
            "(pass, gradient evaluations, solver time, f, f - f*, gradient norm), then\n"
            "  final: f=... f_star=... subopt=... grad_norm=... passes=... grad_evals=... time_s=... solver=...\n"
            "f* comes from the exact solver (cached in --out DIR); time_s is the solver's wall time only.\n\n"
            "options:\n"
            "  --problem SPEC      e.g. 'logreg:l2=1e-3', 'lasso:l1=0.05', 'quadratic:d=10,kappa=100'\n"
            "  --data SET          data set for the data-driven problems: breast-cancer, iris, wine, digits,\n"
            "                      a generator spec ('logistic:n=2000,d=20') or a file (.libsvm, .csv, .npy)\n"
            "  --standardize       scale the features to mean 0, std 1 (CSR data: scaled only)\n"
            "  --layout L          native (default: CSR for LIBSVM files and sparse generators) | dense | csr\n"
            "  --solver SPEC       a solver, e.g. 'saga', 'sag:sampling=mixed', 'svrg:lr=0.01' (repeatable)\n"
            "  --solvers LIST      several solvers, comma separated: 'sgd,svrg,saga,sag'; an item with '='\n"
            "                      but no ':' continues the previous spec ('sag:lr=0.1,init=zero,saga')\n"
            "  --epochs E          budget in effective passes (default 50)\n"
            "  --seed S            seed of the stochastic solvers and generators (default 0)\n"
            "  --record-every P    passes between printed lines (default 1)\n"
            "  --tol T             stop a solver once f - f* <= T\n"
            "  --out DIR           run directory: the optimum cache (w_star.npy, f_star.txt) and\n"
            "                      metrics.csv (one solver) or DIR/<solver>/metrics.csv (several)\n"
            "  --plot FILE         draw log10(f - f*) against passes for every solver (gnuplot; .png/.svg/.pdf)\n"
            "  --solve-exact       compute w* and f* (printed %%.17g), write DIR/w_star.npy (--out, default '.')\n"
            "  --no-fstar          do not compute f* (nonconvex problems without a known optimum)\n"
            "  --quiet             only the final lines\n"
            "  --help-solvers      list the solvers and their options\n"
            "  --help-problems     list the problems and their options\n"
            "  -h, --help          this help\n\n"
            "exit status: 0 ok, 1 runtime failure, 2 bad usage (unknown option, bad spec, missing value)\n");
}

static int mkdir_p(const char *path)
{
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -1;
    for (char *q = buf + 1; *q; q++) {
        if (*q == '/') {
            *q = 0;
            if (mkdir(buf, 0777) && errno != EEXIST)
                return -1;
            *q = '/';
        }
    }
    if (mkdir(buf, 0777) && errno != EEXIST)
        return -1;
    return 0;
}

/* Splits a --solvers list into specs (see the help for the continuation rule). */
static int split_solvers(const char *list, char **out, int n, int max)
{
    const char *p = list;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == 0)
            return -1;
        int cont = n > 0 && memchr(p, '=', len) && !memchr(p, ':', len);
        if (cont) {
            size_t old = strlen(out[n - 1]);
            char *s = realloc(out[n - 1], old + len + 2);
            if (!s)
                return -1;
            s[old] = ',';
            memcpy(s + old + 1, p, len);
            s[old + 1 + len] = 0;
            out[n - 1] = s;
        } else {
            if (n == max)
                return -1;
            out[n] = malloc(len + 1);
            if (!out[n])
                return -1;
            memcpy(out[n], p, len);
            out[n][len] = 0;
            n++;
        }
        p += len;
        if (*p == ',') {
            p++;
            if (!*p)
                return -1;
        }
    }
    return n;
}

/* A directory name for a solver spec: ':' -> '_', ',' -> '_', '/' -> '-'. */
static void spec_label(const char *spec, char *buf, size_t size)
{
    size_t k = 0;
    for (const char *c = spec; *c && k + 1 < size; c++)
        buf[k++] = (*c == ':' || *c == ',') ? '_' : (*c == '/' ? '-' : *c);
    buf[k] = 0;
}

typedef struct printer {
    int quiet;
    FILE *csv;
} printer;

static int on_record(void *ctx, const dsc_solver_point *pt)
{
    printer *pr = ctx;
    if (!pr->quiet)
        printf("%10.3f %14.0f %11.6f %24.17g %14.6e %14.6e %14.6e\n", pt->passes, pt->grad_evals, pt->time_s, pt->f,
               pt->subopt, pt->grad_norm, pt->dist);
    if (pr->csv)
        fprintf(pr->csv, "step,%lld,%.17g,%.17g,%.9g,%.17g,%.17g,%.17g,%.17g\n", (long long)pt->iter, pt->passes,
                pt->grad_evals, pt->time_s, pt->f, pt->subopt, pt->grad_norm, pt->dist);
    return 0;
}

static int status_exit(dsc_status st)
{
    return st == DSC_ERR_INVALID || st == DSC_ERR_RANGE || st == DSC_ERR_FORMAT ? 2 : 1;
}

int cmd_convex(int argc, char **argv)
{
    const char *problem = NULL, *data = NULL, *out = NULL, *plot = NULL;
    dsc_data_layout layout = DSC_LAYOUT_NATIVE;
    char *specs[MAX_SOLVERS];
    int nspecs = 0, standardize = 0, solve_exact = 0, quiet = 0, no_fstar = 0, rc = 0;
    double epochs = 50.0, record_every = 1.0, tol = 0.0;
    uint64_t seed = 0;
    for (int i = 1; i < argc; i++) {
        char key[64];
        const char *val = NULL;
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            convex_usage(stdout);
            rc = 0;
            goto out_specs;
        }
        if (!strcmp(a, "--help-solvers")) {
            fputs(dsc_solver_help(), stdout);
            goto out_specs;
        }
        if (!strcmp(a, "--help-problems")) {
            fputs(dsc_convex_help(), stdout);
            goto out_specs;
        }
        static const char *const flags[] = {"--standardize", "--solve-exact", "--quiet", "--no-fstar", NULL};
        int is_flag = 0;
        for (int k = 0; flags[k]; k++)
            if (!strcmp(a, flags[k]))
                is_flag = k + 1;
        if (is_flag) {
            if (is_flag == 1)
                standardize = 1;
            else if (is_flag == 2)
                solve_exact = 1;
            else if (is_flag == 3)
                quiet = 1;
            else
                no_fstar = 1;
            continue;
        }
        if (strncmp(a, "--", 2)) {
            fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", CMD, a);
            rc = 2;
            goto out_specs;
        }
        int last = dsc_cli_option(argc, argv, i, CMD, key, sizeof key, &val, 1);
        const char *kn = key + 2; /* without the leading "--" */
        if (last < 0) {
            rc = 2;
            goto out_specs;
        }
        i = last;
        char *end = NULL;
        if (!strcmp(kn, "problem")) {
            problem = val;
        } else if (!strcmp(kn, "data")) {
            data = val;
        } else if (!strcmp(kn, "layout")) {
            if (!strcmp(val, "native"))
                layout = DSC_LAYOUT_NATIVE;
            else if (!strcmp(val, "dense"))
                layout = DSC_LAYOUT_DENSE;
            else if (!strcmp(val, "csr"))
                layout = DSC_LAYOUT_CSR;
            else {
                fprintf(stderr, "%s: --layout '%s' is not valid (valid: native, dense, csr)\n", CMD, val);
                rc = 2;
                goto out_specs;
            }
        } else if (!strcmp(kn, "out")) {
            out = val;
        } else if (!strcmp(kn, "plot")) {
            plot = val;
        } else if (!strcmp(kn, "solver") || !strcmp(kn, "solvers")) {
            int n = split_solvers(val, specs, nspecs, MAX_SOLVERS);
            if (n < 0) {
                fprintf(stderr, "%s: --%s '%s': empty item or more than %d solvers\n", CMD, kn, val, MAX_SOLVERS);
                rc = 2;
                goto out_specs;
            }
            nspecs = n;
        } else if (!strcmp(kn, "epochs") || !strcmp(kn, "record-every") || !strcmp(kn, "tol")) {
            errno = 0;
            double v = strtod(val, &end);
            if (end == val || *end || errno || !isfinite(v) || v < 0 || (v == 0 && strcmp(kn, "tol"))) {
                fprintf(stderr, "%s: --%s '%s' must be a %s number\n", CMD, kn, val,
                        strcmp(kn, "tol") ? "positive" : "nonnegative");
                rc = 2;
                goto out_specs;
            }
            if (!strcmp(kn, "epochs"))
                epochs = v;
            else if (!strcmp(kn, "tol"))
                tol = v;
            else
                record_every = v;
        } else if (!strcmp(kn, "seed")) {
            errno = 0;
            unsigned long long v = strtoull(val, &end, 0);
            if (end == val || *end || errno || val[0] == '-') {
                fprintf(stderr, "%s: --seed '%s' must be a nonnegative integer\n", CMD, val);
                rc = 2;
                goto out_specs;
            }
            seed = v;
        } else {
            fprintf(stderr, "%s: unknown option '--%s' (see --help)\n", CMD, kn);
            rc = 2;
            goto out_specs;
        }
    }
    if (!problem) {
        fprintf(stderr, "%s: --problem is required (see --help)\n", CMD);
        rc = 2;
        goto out_specs;
    }
    if (!solve_exact && nspecs == 0) {
        fprintf(stderr, "%s: give --solver SPEC, --solvers LIST or --solve-exact (see --help)\n", CMD);
        rc = 2;
        goto out_specs;
    }
    for (int k = 0; k < nspecs; k++) {
        if (dsc_solver_check(specs[k])) {
            fprintf(stderr, "%s: %s\n", CMD, dsc_last_error());
            rc = 2;
            goto out_specs;
        }
    }

    /* the problem */
    dsc_dataset ds;
    memset(&ds, 0, sizeof ds);
    int have_ds = 0;
    dsc_convex_problem *p = NULL;
    double *wstar = NULL, *w = NULL, fstar = NAN;
    dsc_status st;
    if (data) {
        dsc_data_opts o;
        dsc_data_opts_init(&o);
        o.dtype = DSC_DATA_F64;
        o.layout = layout;
        o.seed = seed;
        if ((st = dsc_dataset_load_opts(data, &o, &ds))) {
            fprintf(stderr, "%s: --data '%s': %s\n", CMD, data, dsc_last_error());
            rc = status_exit(st) == 2 ? 2 : 1;
            goto out_specs;
        }
        have_ds = 1;
        if (standardize && (st = dsc_dataset_standardize(&ds, NULL, NULL))) {
            fprintf(stderr, "%s: --standardize: %s\n", CMD, dsc_last_error());
            rc = 1;
            goto out;
        }
    }
    if ((st = dsc_convex_problem_new(problem, have_ds ? &ds : NULL, seed, &p))) {
        fprintf(stderr, "%s: --problem '%s': %s\n", CMD, problem, dsc_last_error());
        rc = 2;
        goto out;
    }
    wstar = calloc((size_t)p->dim, sizeof *wstar);
    w = calloc((size_t)p->dim, sizeof *w);
    if (!wstar || !w) {
        fprintf(stderr, "%s: out of memory (dim %lld)\n", CMD, (long long)p->dim);
        rc = 1;
        goto out;
    }
    if (out && mkdir_p(out)) {
        fprintf(stderr, "%s: cannot create --out directory '%s': %s\n", CMD, out, strerror(errno));
        rc = 1;
        goto out;
    }

    /* the optimum: cached in --out, else solved (and cached) */
    if (!no_fstar) {
        int cached = out && !solve_exact && dsc_convex_optimum_read(out, p, wstar, &fstar) == DSC_OK;
        if (!cached) {
            st = dsc_convex_solve_exact(p, wstar, &fstar);
            if (st == DSC_ERR_UNSUPPORTED && !solve_exact) {
                fprintf(stderr, "%s: note: no exact optimum for '%s' (%s); f - f* is not reported\n", CMD, problem,
                        dsc_last_error());
                fstar = NAN;
            } else if (st) {
                fprintf(stderr, "%s: exact optimum of '%s': %s\n", CMD, problem, dsc_last_error());
                rc = 1;
                goto out;
            } else if (out || solve_exact) {
                const char *dir = out ? out : ".";
                if ((st = dsc_convex_optimum_write(dir, p, wstar, fstar))) {
                    fprintf(stderr, "%s: writing the optimum to '%s': %s\n", CMD, dir, dsc_last_error());
                    rc = 1;
                    goto out;
                }
            }
        }
    }
    if (solve_exact) {
        printf("f_star=%.17g\n", fstar);
        if (!no_fstar)
            printf("w_star: %s/w_star.npy (%lld values)\n", out ? out : ".", (long long)p->dim);
        if (nspecs == 0)
            goto out;
    }

    /* the solvers */
    char **runs = calloc((size_t)(nspecs > 0 ? nspecs : 1), sizeof *runs);
    char tmpdir[64] = "";
    if (!runs) {
        rc = 1;
        goto out;
    }
    const char *base = out;
    if (plot && !out) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/descent-convex-XXXXXX");
        if (!mkdtemp(tmpdir)) {
            fprintf(stderr, "%s: cannot create a temporary directory for --plot: %s\n", CMD, strerror(errno));
            rc = 1;
            goto out_runs;
        }
        base = tmpdir;
    }
    for (int k = 0; k < nspecs; k++) {
        printer pr = {quiet, NULL};
        if (base) {
            char label[200], dir[1200], file[1300];
            spec_label(specs[k], label, sizeof label);
            if (nspecs == 1 && !tmpdir[0])
                snprintf(dir, sizeof dir, "%s", base);
            else
                snprintf(dir, sizeof dir, "%s/%s", base, label);
            if (mkdir_p(dir)) {
                fprintf(stderr, "%s: cannot create '%s': %s\n", CMD, dir, strerror(errno));
                rc = 1;
                break;
            }
            runs[k] = strdup(dir);
            snprintf(file, sizeof file, "%s/metrics.csv", dir);
            pr.csv = fopen(file, "w");
            if (!pr.csv) {
                fprintf(stderr, "%s: cannot write '%s': %s\n", CMD, file, strerror(errno));
                rc = 1;
                break;
            }
            fprintf(pr.csv, "kind,step,passes,grad_evals,time_s,f,subopt,grad_norm,dist\n");
        }
        dsc_solver_opts o;
        dsc_solver_opts_init(&o);
        o.epochs = epochs;
        o.seed = seed;
        o.f_star = fstar;
        o.w_star = isnan(fstar) ? NULL : wstar;
        o.record_every = record_every;
        o.tol = tol;
        o.monitor = on_record;
        o.monitor_ctx = &pr;
        dsc_convex_initial_point(p, seed, w);
        if (!quiet)
            printf("# solver %s, problem %s%s%s\n#%9s %14s %11s %24s %14s %14s %14s\n", specs[k], problem,
                   data ? ", data " : "", data ? data : "", "pass", "grad_evals", "time_s", "f", "f-f*", "grad_norm",
                   "|w-w*|");
        dsc_solver_result r;
        st = dsc_solver_run(specs[k], p, &o, w, &r);
        if (pr.csv)
            fclose(pr.csv);
        if (st) {
            /* report and go on with the other solvers; the exit status says that one failed */
            fprintf(stderr, "%s: solver '%s': %s\n", CMD, specs[k], dsc_last_error());
            if (rc != 2)
                rc = status_exit(st) == 2 ? 2 : 1;
            if (runs[k]) { /* drop its (empty) log so that plots and compare skip it */
                char file[1300];
                snprintf(file, sizeof file, "%s/metrics.csv", runs[k]);
                remove(file);
                if (nspecs > 1 || tmpdir[0])
                    rmdir(runs[k]);
                free(runs[k]);
                runs[k] = NULL;
            }
            continue;
        }
        printf("final: f=%.17g f_star=%.17g subopt=%.6g grad_norm=%.6g passes=%.6g grad_evals=%.0f time_s=%.6f "
               "solver=%s%s\n",
               r.f, fstar, r.subopt, r.grad_norm, r.passes, r.grad_evals, r.time_s, specs[k],
               r.stopped == 4 ? " (diverged)" : "");
        fflush(stdout);
        dsc_solver_result_free(&r);
    }
    if (plot && rc != 2) {
        dsc_plot_opts po;
        memset(&po, 0, sizeof po);
        int nr = 0;
        const char *names[MAX_SOLVERS];
        for (int k = 0; k < nspecs; k++)
            if (runs[k]) {
                names[nr] = specs[k]; /* the legend shows the solver spec, not its directory name */
                runs[nr++] = runs[k];
            }
        for (int k = nr; k < nspecs; k++)
            runs[k] = NULL;
        po.runs = (const char *const *)runs;
        po.labels = names;
        po.n_runs = nr;
        if (nr == 0)
            goto out_runs;
        po.metrics = "subopt";
        po.x = "passes";
        po.out = plot;
        char title[512];
        snprintf(title, sizeof title, "f - f* on %s%s%s", problem, data ? " / " : "", data ? data : "");
        po.title = title;
        po.logy = 1;
        po.cmd = CMD;
        po.quiet = 1;
        int prc = dsc_plot_runs(&po);
        if (prc)
            rc = prc;
    }
out_runs:
    for (int k = 0; k < nspecs; k++)
        free(runs[k]);
    free(runs);
    if (tmpdir[0]) {
        /* remove the temporary runs */
        for (int k = 0; k < nspecs; k++) {
            char label[200], file[1300];
            spec_label(specs[k], label, sizeof label);
            snprintf(file, sizeof file, "%s/%s/metrics.csv", tmpdir, label);
            remove(file);
            snprintf(file, sizeof file, "%s/%s", tmpdir, label);
            rmdir(file);
        }
        rmdir(tmpdir);
    }
out:
    free(w);
    free(wstar);
    dsc_convex_problem_free(p);
    if (have_ds)
        dsc_dataset_free(&ds);
out_specs:
    for (int k = 0; k < nspecs; k++)
        free(specs[k]);
    return rc;
}
