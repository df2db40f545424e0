/* descent — command-line tool: dispatch to one file per subcommand. */
#include <stdio.h>
#include <string.h>

#include "descent/descent.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: descent <command> [options]\n\n"
               "commands:\n"
               "  version    print the version and build features\n\n"
               "Run 'descent <command> --help' for a command's options.\n");
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
    fprintf(stderr, "descent: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
