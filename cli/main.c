/* descent — command-line tool: dispatch to one file per subcommand. */
#include <stdio.h>
#include <string.h>

#include "descent/descent.h"

/* Subcommands: one file each (cli/cmd_<name>.c), int cmd_<name>(argc, argv) with argv[0] the
 * command name; returns the exit code (0 ok, 2 bad usage, 1 failure). */
int cmd_eval(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_convex(int argc, char **argv);
int cmd_datasets(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_optim(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_schedule(int argc, char **argv);
int cmd_train(int argc, char **argv);

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"train", cmd_train, "train a model on a data set (run directory, checkpoints, resume)"},
    {"eval", cmd_eval, "evaluate a run's checkpoint on a data set"},
    {"info", cmd_info, "layers, parameter count and FLOPs of a model"},
    {"datasets", cmd_datasets, "list the data sets: embedded, IDX files found, generators, formats"},
    {"plot", cmd_plot, "draw metrics of runs with gnuplot (PNG, SVG, PDF)"},
    {"compare", cmd_compare, "table of the final metrics of runs; overlaid curves"},
    {"optim", cmd_optim, "run an optimizer on a test function and print its trajectory"},
    {"convex", cmd_convex, "run convex-lab solvers on a problem: f - f* per pass, plots, exact optimum"},
    {"schedule", cmd_schedule, "print a learning-rate schedule, one line per step"},
};
#define N_COMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void usage(FILE *f)
{
    fprintf(f, "usage: descent <command> [options]\n\n"
               "commands:\n"
               "  version    print the version and build features\n");
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nRun 'descent <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        printf("descent %s (blas: %s, threads: %s)\n", dsc_version(), dsc_blas_backend(), dsc_thread_backend());
        return 0;
    }
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "descent: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
