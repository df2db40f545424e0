/* Curves of run logs drawn with gnuplot: shared by `descent plot` and `descent compare --plot`. */
#ifndef DSC_CLI_PLOT_H
#define DSC_CLI_PLOT_H

#include <stddef.h>

typedef struct dsc_plot_opts {
    const char *const *runs; /* run directories */
    int n_runs;
    const char *metrics; /* comma-separated metric names, e.g. "train_loss" or "train_loss,test_loss" */
    const char *x;       /* "step", "epoch" or "time" */
    const char *out;     /* output file: .png, .svg or .pdf */
    const char *title;   /* NULL: the metric names */
    const char *const *labels; /* legend names of the runs (NULL: dsc_run_label, the directory names) */
    const char *script;  /* also save the gnuplot script here (NULL: no) */
    int logx, logy;
    double smooth;       /* EMA weight in [0, 1): 0 = raw values */
    const char *cmd;     /* program name for messages, e.g. "descent plot" */
    int quiet;           /* no warning about skipped lines (the caller has warned) */
} dsc_plot_opts;

/* Draws the plot; prints errors prefixed by cmd. Returns the exit code (0, 1 runtime, 2 usage). */
int dsc_plot_runs(const dsc_plot_opts *o);

/* Label of a run in legends and tables: its directory's base name, or the path as given when
 * two runs share a base name. buf gets at most size bytes. */
void dsc_run_label(const char *const *runs, int n_runs, int i, char *buf, int size);

/* Length of the run directory part of a run argument: without trailing slashes and without a trailing
 * /metrics.jsonl or /metrics.csv (a metrics file may be named instead of its directory). */
size_t dsc_run_path_len(const char *run);

/* Option parsing shared by plot and compare: splits argv[i] "--key=value" into key and *val; when
 * takes_value and no '=' was given, the value is the next argument. Returns the index of the last
 * argument used, or -1 (with a message) when the value is missing. */
int dsc_cli_option(int argc, char **argv, int i, const char *cmd, char *key, size_t key_size, const char **val,
                   int takes_value);

#endif
