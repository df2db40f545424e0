/* Model spec strings (grammar in docs/MODELS.md): parsed by spec.c, built by zoo.c. */
#ifndef DSC_NN_SPEC_H
#define DSC_NN_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "descent/nn.h"

#define DSC_SPEC_MAX 64

typedef enum dsc_zoo_model { DSC_ZOO_MLP = 0, DSC_ZOO_LENET5, DSC_ZOO_CNN, DSC_ZOO_VGG_SMALL, DSC_ZOO_RESNET20 } dsc_zoo_model;

/* One token of a cnn spec. */
typedef struct dsc_cnn_tok {
    char kind;          /* 'c' conv, 'p' max pool, 'a' avg pool, 'f' linear, 'd' dropout, 'b' batch norm */
    int64_t n;          /* conv out channels, linear width, pool kernel */
    int k, stride, pad; /* conv */
    float p;            /* dropout */
    int pos;            /* 1-based position of the token in the spec string */
    char text[32];
} dsc_cnn_tok;

typedef struct dsc_spec {
    dsc_zoo_model model;
    /* mlp */
    int64_t widths[DSC_SPEC_MAX];
    int n_widths;
    dsc_activation act;
    float dropout;
    int batchnorm;
    /* cnn */
    dsc_cnn_tok toks[DSC_SPEC_MAX];
    int n_toks;
} dsc_spec;

/* The spec as shown in messages: cut to DSC_SPEC_DISPLAY - 1 characters ("...") so that a
 * hostile spec cannot crowd the message out. */
#define DSC_SPEC_DISPLAY 72
void dsc_spec_display(const char *text, char *buf, size_t size);

/* DSC_ERR_INVALID with a message naming the bad token and its position. */
dsc_status dsc_spec_parse(const char *text, dsc_spec *out);

#endif
