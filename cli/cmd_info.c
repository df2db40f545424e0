/* descent info: the layer table of a zoo model (output shapes, parameters, FLOPs). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descent/descent.h"

static void info_usage(FILE *f)
{
    fprintf(f,
            "usage: descent info --model SPEC [--input CxHxW] [--classes N]\n\n"
            "Prints the layers of a model (name, kind, output shape per example, parameters,\n"
            "FLOPs per example), the parameter total and the FLOPs per example.\n\n"
            "options:\n"
            "  --model SPEC     model spec: %s, e.g. 'mlp:784-256-10,act=relu',\n"
            "                   'cnn:c32k5-p2-c64k5-p2-f128' (grammar in docs/MODELS.md)\n"
            "  --input SHAPE    input shape without the batch dim, e.g. 1x28x28, 3x32x32, 784\n"
            "                   (default 1x28x28)\n"
            "  --classes N      number of classes (default: the mlp's last width, else 10)\n"
            "  -h, --help       this help\n\n"
            "FLOPs count 2 x multiply-adds of conv and linear layers (bias adds, activations,\n"
            "pooling, normalization and residual adds are not counted).\n",
            dsc_model_names());
}

/* "1x28x28" -> dims. Returns the number of dims, 0 if malformed. */
static int parse_shape(const char *s, int64_t *dims, int max)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        if (n == max || *p < '0' || *p > '9')
            return 0;
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (errno || v <= 0 || v > 1000000000LL)
            return 0;
        dims[n++] = v;
        p = end;
        if (*p == 'x') {
            p++;
            if (!*p)
                return 0;
        } else if (*p) {
            return 0;
        }
    }
    return n;
}

static void fmt_shape(const dsc_shape *s, char *buf, size_t size)
{
    /* Per example: drop the batch dim. */
    size_t len = (size_t)snprintf(buf, size, "[");
    for (int d = 1; d < s->ndim && len < size; d++)
        len += (size_t)snprintf(buf + len, size - len, "%s%lld", d > 1 ? ", " : "", (long long)s->dim[d]);
    if (len < size)
        snprintf(buf + len, size - len, "]");
}

/* 1234567 -> "1,234,567" */
static const char *grouped(int64_t v, char *buf, size_t size)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    size_t n = strlen(tmp), j = 0;
    for (size_t i = 0; i < n && j + 2 < size; i++) {
        buf[j++] = tmp[i];
        if ((n - i - 1) % 3 == 0 && i + 1 < n)
            buf[j++] = ',';
    }
    buf[j] = 0;
    return buf;
}

int cmd_info(int argc, char **argv)
{
    const char *spec = NULL, *input = "1x28x28", *classes = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            info_usage(stdout);
            return 0;
        }
        const char **dst = NULL;
        const char *val = NULL;
        static const char *names[] = {"--model", "--input", "--classes"};
        const char **dsts[] = {&spec, &input, &classes};
        for (int k = 0; k < 3; k++) {
            size_t l = strlen(names[k]);
            if (!strncmp(a, names[k], l) && (a[l] == 0 || a[l] == '=')) {
                dst = dsts[k];
                if (a[l] == '=')
                    val = a + l + 1;
                else if (i + 1 < argc)
                    val = argv[++i];
                else {
                    fprintf(stderr, "descent info: option '%s' needs a value\n", a);
                    return 2;
                }
            }
        }
        if (!dst) {
            fprintf(stderr, "descent info: unknown option '%s' (see 'descent info --help')\n", a);
            return 2;
        }
        *dst = val;
    }
    if (!spec) {
        fprintf(stderr, "descent info: --model SPEC is required (see 'descent info --help')\n");
        return 2;
    }
    int64_t dims[DSC_MAX_DIMS];
    int nd = parse_shape(input, dims, DSC_MAX_DIMS - 1);
    if (nd == 0) {
        fprintf(stderr, "descent info: bad --input '%s' (expected positive sizes joined by 'x', e.g. 1x28x28)\n",
                input);
        return 2;
    }
    int nclasses = 0;
    if (classes) {
        char *end;
        errno = 0;
        long v = strtol(classes, &end, 10);
        if (errno || *end || !*classes || v < 1 || v > 1000000) {
            fprintf(stderr, "descent info: bad --classes '%s' (expected an integer >= 1)\n", classes);
            return 2;
        }
        nclasses = (int)v;
    }
    dsc_model m;
    dsc_status st = dsc_model_build(spec, nd, dims, nclasses, 1, &m);
    if (st != DSC_OK) {
        fprintf(stderr, "descent info: %s\n", dsc_last_error());
        return st == DSC_ERR_INVALID || st == DSC_ERR_SHAPE ? 2 : 1;
    }
    printf("model %s, input %s, %d classes\n\n", spec, input, m.num_classes);
    int wname = 5, wkind = 4;
    for (int i = 0; i < m.n_layers; i++) {
        int l = (int)strlen(m.layers[i].name), k = (int)strlen(m.layers[i].kind);
        wname = l > wname ? l : wname;
        wkind = k > wkind ? k : wkind;
    }
    printf("%-*s  %-*s  %-18s %12s %16s\n", wname, "layer", wkind, "kind", "output", "params", "FLOPs");
    char sb[96], g1[32], g2[32];
    for (int i = 0; i < m.n_layers; i++) {
        const dsc_layer_info *L = &m.layers[i];
        dsc_shape s = dsc_node_shape(m.g, L->out);
        fmt_shape(&s, sb, sizeof sb);
        printf("%-*s  %-*s  %-18s %12s %16s\n", wname, L->name, wkind, L->kind, sb, grouped(L->params, g1, sizeof g1),
               grouped(L->flops, g2, sizeof g2));
    }
    int64_t np = dsc_model_param_count(&m), fl = dsc_model_flops(&m);
    size_t nbuf = 0;
    (void)dsc_graph_buffers(m.g, &nbuf);
    printf("\ntotal parameters: %lld (%s, %.2f M)\n", (long long)np, grouped(np, g1, sizeof g1), (double)np / 1e6);
    printf("buffers: %zu floats (BatchNorm running statistics)\n", nbuf);
    printf("FLOPs per example: %lld (%.2f MFLOPs; 2 x multiply-adds of conv and linear layers)\n", (long long)fl,
           (double)fl / 1e6);
    dsc_model_free(&m);
    return 0;
}
