/* descent plot: curves of one or more metrics of one or more runs, drawn by gnuplot. The run logs
 * (metrics.jsonl, else metrics.csv) are read with dsc_runlog_read; the data go inline into a
 * gnuplot script (datablocks) that is piped to gnuplot, so no temporary files are needed. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "descent/config.h"
#include "descent/descent.h"
#include "plot.h"

#define MAX_METRICS 8

/* Length of run path p without trailing slashes and without a trailing /metrics.jsonl or /metrics.csv
 * (a metrics file named directly is labelled by its run directory). */
size_t dsc_run_path_len(const char *p)
{
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    static const char *const files[2] = {"/metrics.jsonl", "/metrics.csv"};
    for (int k = 0; k < 2; k++) {
        size_t m = strlen(files[k]);
        if (n > m && !memcmp(p + n - m, files[k], m)) {
            n -= m;
            break;
        }
    }
    while (n > 1 && p[n - 1] == '/')
        n--;
    return n;
}

void dsc_run_label(const char *const *runs, int n_runs, int i, char *buf, int size)
{
    /* The base name without trailing slashes. */
    const char *p = runs[i];
    size_t n = dsc_run_path_len(p);
    size_t b = n;
    while (b > 0 && p[b - 1] != '/')
        b--;
    int dup = 0;
    for (int j = 0; j < n_runs && !dup; j++) {
        if (j == i)
            continue;
        const char *q = runs[j];
        size_t m = dsc_run_path_len(q);
        size_t c = m;
        while (c > 0 && q[c - 1] != '/')
            c--;
        dup = (m - c == n - b) && !memcmp(q + c, p + b, n - b);
    }
    if (dup)
        snprintf(buf, (size_t)size, "%.*s", (int)n, p);
    else
        snprintf(buf, (size_t)size, "%.*s", (int)(n - b), p + b);
}

/* s as a gnuplot single-quoted string (where only ' needs escaping, as ''); newlines become spaces. */
static void gp_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("''", f);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
    fputc('\'', f);
}

static int ends_with_ci(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    if (n < m)
        return 0;
    for (size_t i = 0; i < m; i++) {
        char a = s[n - m + i], b = suf[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return 0;
    }
    return 1;
}

/* The gnuplot program: $DESCENT_GNUPLOT, else `gnuplot` on PATH. Returns 0 if not found. */
static int find_gnuplot(char *buf, size_t size)
{
    const char *env = getenv("DESCENT_GNUPLOT");
    if (env && env[0]) {
        snprintf(buf, size, "%s", env);
        return access(buf, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    if (!path || !path[0])
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        int w = snprintf(buf, size, "%.*s/gnuplot", (int)n, path);
        if (n > 0 && w > 0 && (size_t)w < size && access(buf, X_OK) == 0)
            return 1;
        path += n + (colon ? 1 : 0);
    }
    return 0;
}

typedef struct curve {
    int run, metric;
    int64_t npts;
    double *x, *y;
} curve;

/* Rows of log to plot metric column mc against x column xc: rows of the preferred kind that have
 * both values (steps for --x step/time, epochs for --x epoch), else epoch rows, else any row. */
static int64_t select_points(const dsc_runlog *log, int xc, int mc, int prefer, int logx, int logy, double *xs,
                             double *ys)
{
    const int order[3] = {prefer, DSC_RUNLOG_EPOCH, -1};
    for (int o = 0; o < 3; o++) {
        int64_t k = 0;
        for (int64_t i = 0; i < log->nrows; i++) {
            if (order[o] >= 0 && log->kind[i] != order[o])
                continue;
            double xv = log->col[xc][i], yv = log->col[mc][i];
            if (!isfinite(xv) || !isfinite(yv) || (logx && xv <= 0) || (logy && yv <= 0))
                continue;
            xs[k] = xv;
            ys[k] = yv;
            k++;
        }
        if (k > 0)
            return k;
    }
    return 0;
}

static void write_script(FILE *f, const dsc_plot_opts *o, const char *term, char metric_names[][64], int n_metrics,
                         const curve *cv, int n_curves, char labels[][256])
{
    fprintf(f, "# descent plot: %s vs %s (regenerate with: gnuplot THIS_FILE)\n", o->metrics, o->x);
    for (int c = 0; c < n_curves; c++) {
        fprintf(f, "$d%d << EOD\n", c);
        for (int64_t i = 0; i < cv[c].npts; i++)
            fprintf(f, "%.10g %.10g\n", cv[c].x[i], cv[c].y[i]);
        fputs("EOD\n", f);
    }
    fprintf(f, "set terminal %s\n", term);
    fputs("set output ", f);
    gp_quote(f, o->out);
    fputs("\nset title ", f);
    if (o->title) {
        gp_quote(f, o->title);
    } else {
        char t[600];
        snprintf(t, sizeof t, "%s", o->metrics);
        for (char *p = t; *p; p++)
            if (*p == ',')
                *p = '/';
        gp_quote(f, t);
    }
    const char *xl = !strcmp(o->x, "time") ? "training time (s)" : o->x;
    fputs("\nset xlabel ", f);
    gp_quote(f, xl);
    fputs("\nset ylabel ", f);
    if (n_metrics == 1) {
        gp_quote(f, metric_names[0]);
    } else {
        char yl[600] = "";
        for (int m = 0; m < n_metrics; m++)
            snprintf(yl + strlen(yl), sizeof yl - strlen(yl), "%s%s", m ? ", " : "", metric_names[m]);
        gp_quote(f, yl);
    }
    fputs("\n", f);
    /* Accuracies rise: their legend goes where loss curves usually are not. Suboptimality curves fall
     * from the top left towards the bottom right (linear rates on a log scale), which leaves the
     * bottom left empty. */
    int rising = strstr(o->metrics, "acc") != NULL || strstr(o->metrics, "top5") != NULL;
    const char *key_pos = rising ? "bottom right" : strstr(o->metrics, "subopt") ? "bottom left" : "top right";
    fprintf(f, "set key %s reverse Left box opaque samplen 3 spacing 1.2 width 1\n", key_pos);
    fputs("set grid xtics ytics lt 1 lc rgb '#e3e3e3' lw 1\n", f);
    fputs("set border 3 lw 1\nset tics nomirror\nset mxtics\nset mytics\n", f);
    fputs("set xtics out\nset ytics out\nset autoscale xfix\n", f);
    if (!strcmp(o->x, "epoch"))
        fputs("set xtics 1\n", f); /* changed to auto below when many epochs */
    if (o->logx)
        fputs("set logscale x\nset format x '%g'\n", f);
    if (o->logy) {
        /* gnuplot's log axes label decades only, which leaves a loss curve that spans one decade with
         * one or two labels: fit the range to the data and label 1-2-5 (or 1..9) multiples. */
        double lo = INFINITY, hi = -INFINITY;
        for (int c = 0; c < n_curves; c++)
            for (int64_t i = 0; i < cv[c].npts; i++) {
                lo = cv[c].y[i] < lo ? cv[c].y[i] : lo;
                hi = cv[c].y[i] > hi ? cv[c].y[i] : hi;
            }
        fputs("set logscale y\nset format y '%g'\n", f);
        if (lo > 0 && isfinite(lo) && isfinite(hi) && hi / lo < 1e4) {
            lo /= 1.12;
            hi *= 1.12;
            fprintf(f, "set yrange [%.6g:%.6g]\n", lo, hi);
            static const int m125[] = {1, 2, 5}, m19[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
            int dense = hi / lo < 8;
            const int *ms = dense ? m19 : m125;
            int nm = dense ? 9 : 3, first = 1;
            if (hi / lo < 300) {
                char tics[1024];
                size_t len = 0;
                int count = 0;
                for (int e = (int)floor(log10(lo)); e <= (int)ceil(log10(hi)); e++)
                    for (int k = 0; k < nm && len + 32 < sizeof tics; k++) {
                        double t = ms[k] * pow(10.0, e);
                        if (t >= lo && t <= hi) {
                            len += (size_t)snprintf(tics + len, sizeof tics - len, "%s%.6g", first ? "" : ", ", t);
                            first = 0;
                            count++;
                        }
                    }
                if (count >= 2)
                    fprintf(f, "set ytics (%s)\n", tics);
            }
        }
    }
    if (!strcmp(o->x, "epoch")) {
        double xmax = 0;
        for (int c = 0; c < n_curves; c++)
            for (int64_t i = 0; i < cv[c].npts; i++)
                xmax = cv[c].x[i] > xmax ? cv[c].x[i] : xmax;
        if (xmax > 20 || o->logx)
            fputs("set xtics autofreq\n", f);
    }
    /* Colours per run (a fixed, colour-blind friendly palette), dash types per metric. */
    static const char *const colors[] = {"#0072b2", "#d55e00", "#009e73", "#cc79a7",
                                         "#e69f00", "#56b4e9", "#000000", "#f0e442"};
    fputs("plot ", f);
    for (int c = 0; c < n_curves; c++) {
        char title[600];
        if (n_metrics > 1 && o->n_runs > 1)
            snprintf(title, sizeof title, "%s: %s", labels[cv[c].run], metric_names[cv[c].metric]);
        else if (n_metrics > 1)
            snprintf(title, sizeof title, "%s", metric_names[cv[c].metric]);
        else
            snprintf(title, sizeof title, "%s", labels[cv[c].run]);
        int few = cv[c].npts <= 40;
        fprintf(f, "%s$d%d using 1:2 with %s lw 2 lc rgb '%s' dt %d%s title ", c ? ", \\\n     " : "", c,
                few ? "linespoints" : "lines", colors[cv[c].run % 8], cv[c].metric % 5 + 1,
                few ? " pt 7 ps 0.7" : "");
        gp_quote(f, title);
    }
    fputs("\n", f);
}

int dsc_plot_runs(const dsc_plot_opts *o)
{
    const char *cmd = o->cmd ? o->cmd : "descent plot";
    const char *term;
    if (ends_with_ci(o->out, ".png"))
        term = "pngcairo size 1000,620 noenhanced font 'sans,11'";
    else if (ends_with_ci(o->out, ".svg"))
        term = "svg size 1000,620 dynamic noenhanced font 'sans,11' background rgb 'white'";
    else if (ends_with_ci(o->out, ".pdf"))
        term = "pdfcairo size 10in,6.2in noenhanced font 'sans,11'";
    else {
        fprintf(stderr, "%s: --out '%s': unknown image type (valid extensions: .png, .svg, .pdf)\n", cmd, o->out);
        return 2;
    }
    const char *xname;
    int prefer;
    if (!strcmp(o->x, "step")) {
        xname = "step";
        prefer = DSC_RUNLOG_STEP;
    } else if (!strcmp(o->x, "epoch")) {
        xname = "epoch";
        prefer = DSC_RUNLOG_EPOCH;
    } else if (!strcmp(o->x, "time")) {
        xname = "time_s";
        prefer = DSC_RUNLOG_STEP;
    } else if (o->x[0] && !strchr(o->x, ',')) {
        /* Any other numeric column of the logs (e.g. samples), from the step lines where it is there. */
        xname = o->x;
        prefer = DSC_RUNLOG_STEP;
    } else {
        fprintf(stderr, "%s: --x '%s' is not valid (valid: step, epoch, time, or one column of metrics.jsonl)\n",
                cmd, o->x);
        return 2;
    }
    char metric_names[MAX_METRICS][64];
    int n_metrics = 0;
    for (const char *p = o->metrics; *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == 0 || n >= sizeof metric_names[0]) {
            fprintf(stderr, "%s: --metric '%s': empty or too long metric name\n", cmd, o->metrics);
            return 2;
        }
        if (n_metrics == MAX_METRICS) {
            fprintf(stderr, "%s: --metric: at most %d metrics in one plot\n", cmd, MAX_METRICS);
            return 2;
        }
        memcpy(metric_names[n_metrics], p, n);
        metric_names[n_metrics++][n] = '\0';
        p += n + (comma ? 1 : 0);
        if (comma && !*p) {
            fprintf(stderr, "%s: --metric '%s': empty metric name after ','\n", cmd, o->metrics);
            return 2;
        }
    }
    if (n_metrics == 0) {
        fprintf(stderr, "%s: --metric is empty\n", cmd);
        return 2;
    }
    char gnuplot[4096];
    if (!find_gnuplot(gnuplot, sizeof gnuplot)) {
        fprintf(stderr, "%s: gnuplot not found (%s); install it: apt-get install gnuplot-nox "
                        "(or bash scripts/install-deps.sh)\n",
                cmd, getenv("DESCENT_GNUPLOT") ? "$DESCENT_GNUPLOT is not executable" : "not on PATH");
        return 1;
    }

    int rc = 0;
    dsc_runlog *logs = calloc((size_t)o->n_runs, sizeof *logs);
    curve *cv = calloc((size_t)o->n_runs * (size_t)n_metrics, sizeof *cv);
    char(*labels)[256] = calloc((size_t)o->n_runs, sizeof *labels);
    int n_curves = 0;
    if (!logs || !cv || !labels) {
        fprintf(stderr, "%s: out of memory\n", cmd);
        rc = 1;
        goto done;
    }
    for (int r = 0; r < o->n_runs; r++) {
        if (o->labels && o->labels[r])
            snprintf(labels[r], 256, "%s", o->labels[r]);
        else
            dsc_run_label(o->runs, o->n_runs, r, labels[r], 256);
        if (dsc_runlog_read(o->runs[r], &logs[r]) != DSC_OK) {
            fprintf(stderr, "%s: %s\n", cmd, dsc_last_error());
            rc = 1;
            goto done;
        }
        if (logs[r].skipped && !o->quiet)
            fprintf(stderr, "%s: warning: %s: %lld line(s) could not be parsed and were skipped (first: line %lld)\n",
                    cmd, logs[r].source, (long long)logs[r].skipped, (long long)logs[r].first_skipped_line);
    }
    for (int m = 0; m < n_metrics; m++) {
        int found = 0;
        for (int r = 0; r < o->n_runs; r++) {
            const dsc_runlog *lg = &logs[r];
            int mc = dsc_runlog_find(lg, metric_names[m]);
            int xc = dsc_runlog_find(lg, xname);
            if (mc < 0) {
                fprintf(stderr, "%s: warning: %s has no metric '%s'\n", cmd, lg->source, metric_names[m]);
                continue;
            }
            if (xc < 0) {
                fprintf(stderr, "%s: warning: %s has no '%s' column to plot against (--x %s)\n", cmd, lg->source,
                        xname, o->x);
                continue;
            }
            curve *c = &cv[n_curves];
            c->x = malloc((size_t)lg->nrows * sizeof(double));
            c->y = malloc((size_t)lg->nrows * sizeof(double));
            if (!c->x || !c->y) {
                free(c->x);
                free(c->y);
                c->x = c->y = NULL;
                fprintf(stderr, "%s: out of memory\n", cmd);
                rc = 1;
                goto done;
            }
            c->run = r;
            c->metric = m;
            c->npts = select_points(lg, xc, mc, prefer, o->logx, o->logy, c->x, c->y);
            if (c->npts == 0) {
                fprintf(stderr, "%s: warning: %s: no %s%s values of '%s' to plot\n", cmd, lg->source,
                        o->logx || o->logy ? "positive " : "", "finite", metric_names[m]);
                free(c->x);
                free(c->y);
                c->x = c->y = NULL;
                continue;
            }
            if (o->smooth > 0) {
                /* Exponential moving average with bias correction (as TensorBoard's smoothing):
                 * s_k = a s_{k-1} + (1 - a) y_k, shown as s_k / (1 - a^k). */
                double sm = 0, ak = 1;
                for (int64_t i = 0; i < c->npts; i++) {
                    sm = o->smooth * sm + (1 - o->smooth) * c->y[i];
                    ak *= o->smooth;
                    c->y[i] = sm / (1 - ak);
                }
            }
            n_curves++;
            found = 1;
        }
        if (!found) {
            /* Name what there is, from the first run. */
            char avail[1024] = "";
            for (int j = 0; j < logs[0].ncols; j++)
                snprintf(avail + strlen(avail), sizeof avail - strlen(avail), "%s%s", j ? ", " : "",
                         logs[0].cols[j]);
            fprintf(stderr, "%s: no run has values of metric '%s' against %s (metrics in %s: %s)\n", cmd,
                    metric_names[m], o->x, logs[0].source, avail);
            rc = 1;
            goto done;
        }
    }

    /* Check the output can be written before running gnuplot, for a clear message. */
    FILE *test = fopen(o->out, "ab");
    if (!test) {
        fprintf(stderr, "%s: cannot write %s: %s\n", cmd, o->out, strerror(errno));
        rc = 1;
        goto done;
    }
    fclose(test);
    if (o->script) {
        FILE *sf = fopen(o->script, "w");
        if (!sf) {
            fprintf(stderr, "%s: cannot write %s: %s\n", cmd, o->script, strerror(errno));
            rc = 1;
            goto done;
        }
        write_script(sf, o, term, metric_names, n_metrics, cv, n_curves, labels);
        if (fclose(sf) != 0) {
            fprintf(stderr, "%s: cannot write %s: %s\n", cmd, o->script, strerror(errno));
            rc = 1;
            goto done;
        }
    }
    fflush(stdout);
    fflush(stderr);
    /* popen runs the command through sh: quote the program path. */
    char command[4200];
    size_t k = 0;
    command[k++] = '\'';
    for (const char *p = gnuplot; *p && k + 6 < sizeof command; p++) {
        if (*p == '\'') {
            memcpy(command + k, "'\\''", 4);
            k += 4;
        } else {
            command[k++] = *p;
        }
    }
    command[k++] = '\'';
    command[k] = '\0';
    FILE *gp = popen(command, "w");
    if (!gp) {
        fprintf(stderr, "%s: cannot run %s: %s\n", cmd, gnuplot, strerror(errno));
        rc = 1;
        goto done;
    }
    write_script(gp, o, term, metric_names, n_metrics, cv, n_curves, labels);
    int status = pclose(gp);
    struct stat st;
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s: gnuplot failed (exit status %d)%s\n", cmd,
                status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                o->script ? "; its script is in the --script file" : "; rerun with --script FILE to see its input");
        rc = 1;
    } else if (stat(o->out, &st) != 0 || st.st_size == 0) {
        fprintf(stderr, "%s: gnuplot wrote nothing to %s\n", cmd, o->out);
        rc = 1;
    }
done:
    if (cv)
        for (int c = 0; c < n_curves; c++) {
            free(cv[c].x);
            free(cv[c].y);
        }
    if (logs)
        for (int r = 0; r < o->n_runs; r++)
            dsc_runlog_free(&logs[r]);
    free(logs);
    free(cv);
    free(labels);
    return rc;
}

static void plot_usage(FILE *f)
{
    fprintf(f,
            "usage: descent plot RUN_DIR... [--metric M[,M2...]] [--x step|epoch|time|COL] [--out FILE]\n"
            "                    [--logx] [--logy] [--smooth A] [--title T] [--script FILE]\n\n"
            "Draws metrics of one or more runs (written by 'descent train --out RUN_DIR') with gnuplot,\n"
            "one curve per run and metric, labelled with the run directory's name. Reads\n"
            "RUN_DIR/metrics.jsonl, or RUN_DIR/metrics.csv when there is no .jsonl (a metrics file\n"
            "may also be named directly).\n\n"
            "options:\n"
            "  --metric M     metric(s) to draw, comma separated (default train_loss); e.g. test_acc,\n"
            "                 test_loss, test_top5, lr, or any numeric key of metrics.jsonl\n"
            "  --x X          horizontal axis: step (default; per-step lines), epoch (per-epoch lines),\n"
            "                 time (training seconds), or another numeric column (e.g. samples)\n"
            "  --out FILE     image to write: .png (pngcairo), .svg or .pdf (default <metric>.png)\n"
            "  --logx, --logy logarithmic axes (non-positive values are left out)\n"
            "  --smooth A     exponential moving average of each curve, weight A in [0, 1) (e.g. 0.9;\n"
            "                 default 0: raw values)\n"
            "  --title T      plot title (default: the metric names)\n"
            "  --script FILE  also save the gnuplot script, data included (run: gnuplot FILE)\n"
            "  -h, --help     this help\n\n"
            "Needs gnuplot (Debian: gnuplot-nox); $DESCENT_GNUPLOT names another gnuplot program.\n"
            "example: descent plot runs/adam runs/sgd --metric test_acc --x epoch --out acc.png\n");
}

int dsc_cli_option(int argc, char **argv, int i, const char *cmd, char *key, size_t key_size, const char **val,
                   int takes_value)
{
    const char *a = argv[i];
    const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
    *val = NULL;
    if (eq && (size_t)(eq - a) < key_size) {
        memcpy(key, a, (size_t)(eq - a));
        key[eq - a] = '\0';
        *val = eq + 1;
    } else {
        snprintf(key, key_size, "%s", a);
    }
    if (!takes_value)
        return i;
    if (!*val) {
        if (i + 1 >= argc) {
            fprintf(stderr, "%s: %s needs a value\n", cmd, key);
            return -1;
        }
        *val = argv[++i];
    }
    return i;
}

int cmd_plot(int argc, char **argv)
{
    const char *cmd = "descent plot";
    dsc_plot_opts o = {0};
    o.metrics = "train_loss";
    o.x = "step";
    o.cmd = cmd;
    const char **runs = calloc((size_t)argc, sizeof *runs);
    if (!runs)
        return 1;
    int n_runs = 0, rc = 0;
    char default_out[80];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            plot_usage(stdout);
            free(runs);
            return 0;
        }
        if (a[0] != '-' || !strcmp(a, "-")) {
            runs[n_runs++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            while (++i < argc)
                runs[n_runs++] = argv[i];
            break;
        }
        char key[32];
        const char *val;
        dsc_cli_option(argc, argv, i, cmd, key, sizeof key, &val, 0);
        if (!strcmp(key, "--logx") || !strcmp(key, "--logy")) {
            if (val) {
                fprintf(stderr, "%s: %s takes no value\n", cmd, key);
                rc = 2;
                break;
            }
            if (key[5] == 'x')
                o.logx = 1;
            else
                o.logy = 1;
            continue;
        }
        if (strcmp(key, "--metric") && strcmp(key, "--x") && strcmp(key, "--out") && strcmp(key, "--title") &&
            strcmp(key, "--script") && strcmp(key, "--smooth")) {
            fprintf(stderr, "%s: unknown option '%s' (valid: --metric, --x, --out, --logx, --logy, --title, "
                            "--smooth, --script, --help)\n", cmd, a);
            rc = 2;
            break;
        }
        i = dsc_cli_option(argc, argv, i, cmd, key, sizeof key, &val, 1);
        if (i < 0) {
            rc = 2;
            break;
        }
        if (!strcmp(key, "--metric"))
            o.metrics = val;
        else if (!strcmp(key, "--x"))
            o.x = val;
        else if (!strcmp(key, "--out"))
            o.out = val;
        else if (!strcmp(key, "--title"))
            o.title = val;
        else if (!strcmp(key, "--smooth")) {
            char *end;
            o.smooth = strtod(val, &end);
            if (end == val || *end || !(o.smooth >= 0 && o.smooth < 1)) {
                fprintf(stderr, "%s: --smooth '%s' is not a number in [0, 1)\n", cmd, val);
                rc = 2;
                break;
            }
        }
        else
            o.script = val;
    }
    if (rc == 0 && n_runs == 0) {
        fprintf(stderr, "%s: no run directory given\n", cmd);
        plot_usage(stderr);
        rc = 2;
    }
    if (rc == 0) {
        if (!o.out) {
            snprintf(default_out, sizeof default_out, "%.40s.png", o.metrics);
            for (char *p = default_out; *p; p++)
                if (*p == ',' || *p == '/')
                    *p = '-';
            o.out = default_out;
        }
        o.runs = runs;
        o.n_runs = n_runs;
        rc = dsc_plot_runs(&o);
        if (rc == 0)
            printf("%s\n", o.out);
    }
    free(runs);
    return rc;
}
