/* descent compare: a table of the final metrics of several runs (their last epoch line) with the
 * model and optimizer from each run's config.json, and optionally their curves overlaid. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descent/config.h"
#include "descent/descent.h"
#include "plot.h"

static void compare_usage(FILE *f)
{
    fprintf(f,
            "usage: descent compare RUN_DIR... [--metric M] [--plot FILE] [--x epoch|step|time] [--logy]\n"
            "                       [--format table|csv]\n\n"
            "Prints one row per run with its final metrics (the last per-epoch line of metrics.jsonl or\n"
            "metrics.csv) and the model and optimizer of its config.json, and names the best run by\n"
            "the metric M (the lowest for losses, the highest otherwise).\n\n"
            "options:\n"
            "  --metric M      metric that ranks the runs and that --plot draws (default test_acc)\n"
            "  --plot FILE     also overlay the runs' curves of M in FILE (.png, .svg or .pdf; gnuplot)\n"
            "  --x X           horizontal axis of the plot: epoch (default), step or time\n"
            "  --logy          logarithmic vertical axis in the plot\n"
            "  --format F      table (default, aligned columns) or csv\n"
            "  -h, --help      this help\n\n"
            "example: descent compare runs/adam runs/sgd --metric test_acc --plot acc.png\n");
}

/* The columns shown, in order, when at least one run has them ("epoch" always). */
static const char *const metric_cols[] = {"epoch",    "step",     "train_loss", "train_acc", "val_loss",
                                          "val_acc",  "test_loss", "test_acc",  "test_top5", "time_s",
                                          "samples_per_s"};
#define N_METRIC_COLS ((int)(sizeof metric_cols / sizeof metric_cols[0]))
static const char *const config_cols[] = {"model", "opt", "schedule", "data"};
#define N_CONFIG_COLS 4

typedef struct run_row {
    char label[256];
    double v[N_METRIC_COLS + 1]; /* + the --metric when not among the columns */
    const char *cfg[N_CONFIG_COLS];
    dsc_config config;
} run_row;

/* Row of the final values: the last epoch line, else the last line. */
static int64_t final_row(const dsc_runlog *log)
{
    for (int64_t i = log->nrows - 1; i >= 0; i--)
        if (log->kind[i] == DSC_RUNLOG_EPOCH)
            return i;
    return log->nrows - 1;
}

static void fmt_value(const char *col, double v, char *buf, size_t size)
{
    if (isnan(v))
        snprintf(buf, size, "-");
    else if (!strcmp(col, "epoch") || !strcmp(col, "step") || !strcmp(col, "samples_per_s"))
        snprintf(buf, size, "%.0f", v);
    else if (!strcmp(col, "time_s"))
        snprintf(buf, size, v < 10 ? "%.3f" : "%.1f", v); /* small sets train in milliseconds */
    else
        snprintf(buf, size, "%.4f", v);
}

/* A table cell: src cut to CELL - 1 bytes (long spec strings are rare; the table stays usable). */
#define CELL 160
static void copy_cell(char *dst, const char *src)
{
    size_t n = strlen(src);
    if (n > CELL - 1)
        n = CELL - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void csv_field(const char *s)
{
    if (strpbrk(s, ",\"\n")) {
        putchar('"');
        for (; *s; s++) {
            if (*s == '"')
                putchar('"');
            putchar(*s);
        }
        putchar('"');
    } else {
        fputs(s, stdout);
    }
}

int cmd_compare(int argc, char **argv)
{
    const char *cmd = "descent compare";
    const char *metric = "test_acc", *plot = NULL, *x = "epoch", *format = "table";
    int logy = 0;
    const char **runs = calloc((size_t)argc, sizeof *runs);
    if (!runs)
        return 1;
    int n_runs = 0, rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            compare_usage(stdout);
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
        if (!strcmp(key, "--logy") && !val) {
            logy = 1;
            continue;
        }
        if (strcmp(key, "--metric") && strcmp(key, "--plot") && strcmp(key, "--x") && strcmp(key, "--format")) {
            fprintf(stderr, "%s: unknown option '%s' (valid: --metric, --plot, --x, --logy, --format, --help)\n",
                    cmd, a);
            rc = 2;
            break;
        }
        i = dsc_cli_option(argc, argv, i, cmd, key, sizeof key, &val, 1);
        if (i < 0) {
            rc = 2;
            break;
        }
        if (!strcmp(key, "--metric"))
            metric = val;
        else if (!strcmp(key, "--plot"))
            plot = val;
        else if (!strcmp(key, "--x"))
            x = val;
        else
            format = val;
    }
    if (rc == 0 && strcmp(format, "table") && strcmp(format, "csv")) {
        fprintf(stderr, "%s: --format '%s' is not valid (valid: table, csv)\n", cmd, format);
        rc = 2;
    }
    if (rc == 0 && (!metric[0] || strchr(metric, ','))) {
        fprintf(stderr, "%s: --metric takes one metric name (got '%s')\n", cmd, metric);
        rc = 2;
    }
    if (rc == 0 && n_runs == 0) {
        fprintf(stderr, "%s: no run directory given\n", cmd);
        compare_usage(stderr);
        rc = 2;
    }
    if (rc) {
        free(runs);
        return rc;
    }

    run_row *rows = calloc((size_t)n_runs, sizeof *rows);
    if (!rows) {
        free(runs);
        return 1;
    }
    int extra = 1; /* the --metric as an extra column when it is not among metric_cols */
    for (int c = 0; c < N_METRIC_COLS; c++)
        if (!strcmp(metric_cols[c], metric))
            extra = 0;
    int shown[N_METRIC_COLS + 1] = {0};
    int cfg_shown[N_CONFIG_COLS] = {0};
    int metric_seen = 0;
    for (int r = 0; r < n_runs && rc == 0; r++) {
        run_row *row = &rows[r];
        dsc_run_label(runs, n_runs, r, row->label, sizeof row->label);
        dsc_runlog log;
        if (dsc_runlog_read(runs[r], &log) != DSC_OK) {
            fprintf(stderr, "%s: %s\n", cmd, dsc_last_error());
            rc = 1;
            break;
        }
        if (log.skipped)
            fprintf(stderr, "%s: warning: %s: %lld line(s) could not be parsed and were skipped (first: line %lld)\n",
                    cmd, log.source, (long long)log.skipped, (long long)log.first_skipped_line);
        int64_t fr = final_row(&log);
        for (int c = 0; c <= N_METRIC_COLS; c++) {
            const char *name = c < N_METRIC_COLS ? metric_cols[c] : metric;
            int j = dsc_runlog_find(&log, name);
            row->v[c] = j >= 0 ? log.col[j][fr] : NAN;
            if (c == N_METRIC_COLS && !extra)
                row->v[c] = NAN;
        }
        /* Throughput from the totals when the line has no samples_per_s. */
        int ks = dsc_runlog_find(&log, "samples");
        if (isnan(row->v[N_METRIC_COLS - 1]) && ks >= 0 && row->v[N_METRIC_COLS - 2] > 0)
            row->v[N_METRIC_COLS - 1] = log.col[ks][fr] / row->v[N_METRIC_COLS - 2];
        for (int c = 0; c <= N_METRIC_COLS; c++)
            if (!isnan(row->v[c]))
                shown[c] = 1;
        if (dsc_runlog_find(&log, metric) >= 0)
            metric_seen = 1;
        dsc_runlog_free(&log);

        char path[4200];
        snprintf(path, sizeof path, "%.*s/config.json", (int)dsc_run_path_len(runs[r]), runs[r]);
        if (dsc_config_read(path, DSC_CONFIG_LENIENT, &row->config) != DSC_OK) {
            fprintf(stderr, "%s: warning: %s\n", cmd, dsc_last_error());
            row->config.n = 0;
            row->config.entries = NULL;
        }
        for (int c = 0; c < N_CONFIG_COLS; c++) {
            row->cfg[c] = dsc_config_get(&row->config, config_cols[c]);
            if (row->cfg[c] && row->cfg[c][0])
                cfg_shown[c] = 1;
            else
                row->cfg[c] = "-";
        }
    }
    if (rc == 0) {
        shown[0] = 1;
        if (extra)
            shown[N_METRIC_COLS] = 1;
        /* Header and cells as text, then aligned. */
        int ncol = 1 + N_METRIC_COLS + 1 + N_CONFIG_COLS;
        char(*cells)[CELL] = calloc((size_t)(n_runs + 1) * (size_t)ncol, sizeof *cells);
        int *width = calloc((size_t)ncol, sizeof *width);
        int *on = calloc((size_t)ncol, sizeof *on);
        if (!cells || !width || !on) {
            fprintf(stderr, "%s: out of memory\n", cmd);
            rc = 1;
        } else {
            on[0] = 1;
            snprintf(cells[0], sizeof cells[0], "run");
            for (int c = 0; c <= N_METRIC_COLS; c++) {
                const char *name = c < N_METRIC_COLS ? metric_cols[c] : metric;
                on[1 + c] = shown[c];
                copy_cell(cells[1 + c], !strcmp(name, "epoch") ? "epochs" : name);
            }
            for (int c = 0; c < N_CONFIG_COLS; c++) {
                on[2 + N_METRIC_COLS + c] = cfg_shown[c];
                snprintf(cells[2 + N_METRIC_COLS + c], sizeof cells[0], "%s", config_cols[c]);
            }
            for (int r = 0; r < n_runs; r++) {
                char(*row)[CELL] = cells + (size_t)(r + 1) * (size_t)ncol;
                copy_cell(row[0], rows[r].label);
                for (int c = 0; c <= N_METRIC_COLS; c++)
                    fmt_value(c < N_METRIC_COLS ? metric_cols[c] : metric, rows[r].v[c], row[1 + c], sizeof row[0]);
                for (int c = 0; c < N_CONFIG_COLS; c++)
                    copy_cell(row[2 + N_METRIC_COLS + c], rows[r].cfg[c]);
            }
            for (int r = 0; r <= n_runs; r++)
                for (int c = 0; c < ncol; c++) {
                    int w = (int)strlen(cells[(size_t)r * (size_t)ncol + (size_t)c]);
                    width[c] = w > width[c] ? w : width[c];
                }
            int csv = !strcmp(format, "csv");
            for (int r = 0; r <= n_runs; r++) {
                int first = 1;
                for (int c = 0; c < ncol; c++) {
                    if (!on[c])
                        continue;
                    const char *cell = cells[(size_t)r * (size_t)ncol + (size_t)c];
                    if (csv) {
                        if (!first)
                            putchar(',');
                        csv_field(r > 0 && !strcmp(cell, "-") ? "" : cell);
                    } else {
                        /* Names left-aligned, numbers right-aligned; the last column unpadded. */
                        int left = c == 0 || c >= 2 + N_METRIC_COLS;
                        int last = 1;
                        for (int d = c + 1; d < ncol; d++)
                            last &= !on[d];
                        printf("%s%*s", first ? "" : "  ", left ? (last ? 0 : -width[c]) : width[c], cell);
                    }
                    first = 0;
                }
                putchar('\n');
            }
            /* The best run by the metric: lowest for losses, highest otherwise. */
            int mcol = -1;
            for (int c = 0; c < N_METRIC_COLS; c++)
                if (!strcmp(metric_cols[c], metric))
                    mcol = c;
            if (mcol < 0)
                mcol = N_METRIC_COLS;
            int lower = strstr(metric, "loss") != NULL || !strcmp(metric, "time_s");
            int best = -1;
            for (int r = 0; r < n_runs; r++) {
                double v = rows[r].v[mcol];
                if (isnan(v))
                    continue;
                if (best < 0 || (lower ? v < rows[best].v[mcol] : v > rows[best].v[mcol]))
                    best = r;
            }
            if (!csv) {
                if (best >= 0 && n_runs > 1)
                    printf("best %s: %s (%.4f)\n", metric, rows[best].label, rows[best].v[mcol]);
                else if (!metric_seen)
                    fprintf(stderr, "%s: warning: no run has metric '%s'\n", cmd, metric);
            }
        }
        free(cells);
        free(width);
        free(on);
    }
    if (rc == 0 && plot) {
        fflush(stdout);
        dsc_plot_opts o = {0};
        o.runs = runs;
        o.n_runs = n_runs;
        o.metrics = metric;
        o.x = x;
        o.out = plot;
        o.logy = logy;
        o.cmd = cmd;
        o.quiet = 1;
        rc = dsc_plot_runs(&o);
        if (rc == 0)
            printf("plot: %s\n", plot);
    }
    for (int r = 0; r < n_runs; r++)
        dsc_config_free(&rows[r].config);
    free(rows);
    free(runs);
    return rc;
}
