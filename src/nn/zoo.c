/* The model zoo: builds mlp / lenet5 / cnn / vgg-small / resnet20 from a parsed spec. Names
 * and layouts match the PyTorch twins in tools/torch_models.py (docs/MODELS.md). */
#include <stdio.h>
#include <string.h>

#include "autodiff/graph_internal.h"
#include "descent/nn.h"
#include "nn/spec.h"

static dsc_conv_opts conv_opts(int stride, int pad)
{
    dsc_conv_opts o = dsc_conv_defaults();
    o.stride[0] = o.stride[1] = stride;
    o.padding[0] = o.padding[1] = pad;
    return o;
}

static dsc_id build_mlp(dsc_model *m, const char *text, const dsc_spec *sp, dsc_id x, int num_classes)
{
    dsc_shape xs = dsc_node_shape(m->g, x);
    int64_t feat = dsc_shape_numel(&xs) / xs.dim[0];
    if (sp->widths[0] != feat)
        return dsc_graph_fail(m->g, DSC_ERR_INVALID,
                              "model spec '%s': the first mlp width %lld must equal the input size %lld", text,
                              (long long)sp->widths[0], (long long)feat);
    if (sp->widths[sp->n_widths - 1] != num_classes)
        return dsc_graph_fail(m->g, DSC_ERR_INVALID,
                              "model spec '%s': the last mlp width %lld must equal the number of classes %d", text,
                              (long long)sp->widths[sp->n_widths - 1], num_classes);
    dsc_id h = xs.ndim > 2 ? dsc_nn_flatten(m, "flatten", x) : x;
    dsc_sequential s = dsc_sequential_start(NULL);
    for (int i = 1; i < sp->n_widths; i++) {
        h = dsc_nn_linear(m, dsc_sequential_name(&s), h, sp->widths[i], 1);
        if (i + 1 < sp->n_widths) {
            if (sp->batchnorm)
                h = dsc_nn_batch_norm(m, dsc_sequential_name(&s), h);
            h = dsc_nn_activation(m, dsc_sequential_name(&s), h, sp->act);
            if (sp->dropout > 0)
                h = dsc_nn_dropout(m, dsc_sequential_name(&s), h, sp->dropout);
        }
    }
    return h;
}

static dsc_id build_lenet5(dsc_model *m, dsc_id x, int num_classes)
{
    dsc_shape xs = dsc_node_shape(m->g, x);
    int pad = xs.dim[2] == 28 && xs.dim[3] == 28 ? 2 : 0; /* 28x28 (MNIST) is padded to 32x32 */
    dsc_sequential s = dsc_sequential_start(NULL);
    dsc_id h = dsc_nn_conv2d(m, dsc_sequential_name(&s), x, 6, 5, conv_opts(1, pad), 1);
    h = dsc_nn_activation(m, dsc_sequential_name(&s), h, DSC_ACT_RELU);
    h = dsc_nn_max_pool2d(m, dsc_sequential_name(&s), h, 2, 2, 0);
    h = dsc_nn_conv2d(m, dsc_sequential_name(&s), h, 16, 5, conv_opts(1, 0), 1);
    h = dsc_nn_activation(m, dsc_sequential_name(&s), h, DSC_ACT_RELU);
    h = dsc_nn_max_pool2d(m, dsc_sequential_name(&s), h, 2, 2, 0);
    h = dsc_nn_flatten(m, dsc_sequential_name(&s), h);
    h = dsc_nn_linear(m, dsc_sequential_name(&s), h, 120, 1);
    h = dsc_nn_activation(m, dsc_sequential_name(&s), h, DSC_ACT_RELU);
    h = dsc_nn_linear(m, dsc_sequential_name(&s), h, 84, 1);
    h = dsc_nn_activation(m, dsc_sequential_name(&s), h, DSC_ACT_RELU);
    return dsc_nn_linear(m, dsc_sequential_name(&s), h, num_classes, 1);
}

static dsc_id build_cnn(dsc_model *m, const char *text, const dsc_spec *sp, dsc_id x, int num_classes)
{
    dsc_sequential s = dsc_sequential_start(NULL);
    dsc_id h = x;
    int flat = 0;
    for (int i = 0; i < sp->n_toks && h >= 0; i++) {
        const dsc_cnn_tok *t = &sp->toks[i];
        dsc_shape hs = dsc_node_shape(m->g, h);
        int next_b = i + 1 < sp->n_toks && sp->toks[i + 1].kind == 'b';
        switch (t->kind) {
        case 'c': {
            if (flat)
                return dsc_graph_fail(m->g, DSC_ERR_INVALID,
                                      "model spec '%s': conv token '%s' at position %d comes after a linear layer", text,
                                      t->text, t->pos);
            for (int d = 2; d < 4; d++)
                if (hs.dim[d] + 2 * t->pad < t->k)
                    return dsc_graph_fail(m->g, DSC_ERR_INVALID,
                                          "model spec '%s': token '%s' at position %d: kernel %d (padding %d) does not "
                                          "fit the %lldx%lld input",
                                          text, t->text, t->pos, t->k, t->pad, (long long)hs.dim[2], (long long)hs.dim[3]);
            h = dsc_nn_conv2d(m, dsc_sequential_name(&s), h, t->n, t->k, conv_opts(t->stride, t->pad), 1);
            if (next_b)
                h = dsc_nn_batch_norm(m, dsc_sequential_name(&s), h);
            h = dsc_nn_activation(m, dsc_sequential_name(&s), h, DSC_ACT_RELU);
            break;
        }
        case 'p':
        case 'a':
            if (flat)
                return dsc_graph_fail(m->g, DSC_ERR_INVALID,
                                      "model spec '%s': pool token '%s' at position %d comes after a linear layer", text,
                                      t->text, t->pos);
            if (hs.dim[2] < t->n || hs.dim[3] < t->n)
                return dsc_graph_fail(m->g, DSC_ERR_INVALID,
                                      "model spec '%s': token '%s' at position %d: pool %lld does not fit the %lldx%lld "
                                      "input",
                                      text, t->text, t->pos, (long long)t->n, (long long)hs.dim[2], (long long)hs.dim[3]);
            h = t->kind == 'p' ? dsc_nn_max_pool2d(m, dsc_sequential_name(&s), h, (int)t->n, (int)t->n, 0)
                               : dsc_nn_avg_pool2d(m, dsc_sequential_name(&s), h, (int)t->n, (int)t->n, 0);
            break;
        case 'f':
            if (!flat) {
                h = dsc_nn_flatten(m, dsc_sequential_name(&s), h);
                flat = 1;
            }
            h = dsc_nn_linear(m, dsc_sequential_name(&s), h, t->n, 1);
            if (next_b)
                h = dsc_nn_batch_norm(m, dsc_sequential_name(&s), h);
            h = dsc_nn_activation(m, dsc_sequential_name(&s), h, DSC_ACT_RELU);
            break;
        case 'd':
            h = dsc_nn_dropout(m, dsc_sequential_name(&s), h, t->p);
            break;
        case 'b':
            /* Already placed by the conv/linear token before it (between the layer and its ReLU). */
            if (i == 0 || (sp->toks[i - 1].kind != 'c' && sp->toks[i - 1].kind != 'f'))
                return dsc_graph_fail(m->g, DSC_ERR_INVALID,
                                      "model spec '%s': token 'b' at position %d must follow a conv (c...) or linear "
                                      "(f...) token",
                                      text, t->pos);
            break;
        default:
            return dsc_graph_fail(m->g, DSC_ERR_INVALID, "model spec '%s': bad token '%s' at position %d", text,
                                  t->text, t->pos);
        }
    }
    if (!flat)
        h = dsc_nn_flatten(m, dsc_sequential_name(&s), h);
    return dsc_nn_linear(m, dsc_sequential_name(&s), h, num_classes, 1);
}

/* vgg-small: [64, 64, M, 128, 128, M, 256, 256, M], each number a conv3x3 pad 1 (no bias)
 * + BatchNorm2d + ReLU, M a 2x2 max pool; then global average pool and one Linear. */
static dsc_id build_vgg_small(dsc_model *m, dsc_id x, int num_classes)
{
    static const int cfg[] = {64, 64, 0, 128, 128, 0, 256, 256, 0};
    dsc_sequential s = dsc_sequential_start(NULL);
    dsc_id h = x;
    for (size_t i = 0; i < sizeof cfg / sizeof cfg[0]; i++) {
        if (cfg[i] == 0) {
            h = dsc_nn_max_pool2d(m, dsc_sequential_name(&s), h, 2, 2, 0);
            continue;
        }
        h = dsc_nn_conv2d(m, dsc_sequential_name(&s), h, cfg[i], 3, conv_opts(1, 1), 0);
        h = dsc_nn_batch_norm(m, dsc_sequential_name(&s), h);
        h = dsc_nn_activation(m, dsc_sequential_name(&s), h, DSC_ACT_RELU);
    }
    h = dsc_nn_global_avg_pool(m, dsc_sequential_name(&s), h);
    return dsc_nn_linear(m, dsc_sequential_name(&s), h, num_classes, 1);
}

/* resnet20 (He et al. 2016, CIFAR): conv3x3 16 + BN + ReLU, 3 stages x 3 BasicBlocks of
 * 16/32/64 channels (stride 2 first in stages 2, 3; projection shortcuts), GAP, fc. */
static dsc_id build_resnet20(dsc_model *m, dsc_id x, int num_classes)
{
    static const int widths[3] = {16, 32, 64};
    dsc_id h = dsc_nn_conv2d(m, "conv1", x, 16, 3, conv_opts(1, 1), 0);
    h = dsc_nn_batch_norm(m, "bn1", h);
    h = dsc_nn_activation(m, "relu", h, DSC_ACT_RELU);
    char name[32];
    for (int st = 0; st < 3; st++)
        for (int b = 0; b < 3; b++) {
            snprintf(name, sizeof name, "layer%d.%d", st + 1, b);
            h = dsc_nn_basic_block(m, name, h, widths[st], st > 0 && b == 0 ? 2 : 1);
        }
    h = dsc_nn_global_avg_pool(m, "avgpool", h);
    return dsc_nn_linear(m, "fc", h, num_classes, 1);
}

dsc_status dsc_model_build(const char *spec, int ndim_in, const int64_t *in_shape, int num_classes, int64_t batch,
                           dsc_model *out)
{
    return dsc_model_build_opts(spec, ndim_in, in_shape, num_classes, batch, NULL, out);
}

dsc_status dsc_model_build_opts(const char *spec, int ndim_in, const int64_t *in_shape, int num_classes,
                                int64_t batch, const dsc_model_opts *opts, dsc_model *out)
{
    if (!out)
        return DSC_ERROR(DSC_ERR_INVALID, "model build: NULL output");
    memset(out, 0, sizeof *out);
    dsc_spec sp;
    DSC_TRY(dsc_spec_parse(spec, &sp));
    char disp[DSC_SPEC_DISPLAY];
    dsc_spec_display(spec, disp, sizeof disp);
    if (ndim_in < 1 || ndim_in >= DSC_MAX_DIMS || !in_shape)
        return DSC_ERROR(DSC_ERR_INVALID, "model '%s': the input needs 1 to %d dims, got %d", disp, DSC_MAX_DIMS - 1,
                         ndim_in);
    for (int i = 0; i < ndim_in; i++)
        if (in_shape[i] <= 0)
            return DSC_ERROR(DSC_ERR_INVALID, "model '%s': input dim %d has size %lld", disp, i,
                             (long long)in_shape[i]);
    if (batch < 1)
        return DSC_ERROR(DSC_ERR_INVALID, "model '%s': batch %lld must be >= 1", disp, (long long)batch);
    if (num_classes < 0)
        return DSC_ERROR(DSC_ERR_INVALID, "model '%s': %d classes", disp, num_classes);
    if (sp.model != DSC_ZOO_MLP && ndim_in != 3)
        return DSC_ERROR(DSC_ERR_INVALID, "model '%s': needs an input of shape CxHxW (3 dims), got %d dims", disp,
                         ndim_in);
    if (num_classes == 0)
        num_classes = sp.model == DSC_ZOO_MLP ? (int)sp.widths[sp.n_widths - 1] : 10;

    DSC_TRY(dsc_model_begin(out));
    if (opts)
        out->opts = *opts;
    int64_t xs[DSC_MAX_DIMS];
    xs[0] = batch;
    for (int i = 0; i < ndim_in; i++)
        xs[i + 1] = in_shape[i];
    dsc_id x = out->input = dsc_input(out->g, "x", ndim_in + 1, xs);
    dsc_id logits = -1;
    if (x >= 0) {
        switch (sp.model) {
        case DSC_ZOO_MLP: logits = build_mlp(out, disp, &sp, x, num_classes); break;
        case DSC_ZOO_LENET5: logits = build_lenet5(out, x, num_classes); break;
        case DSC_ZOO_CNN: logits = build_cnn(out, disp, &sp, x, num_classes); break;
        case DSC_ZOO_VGG_SMALL: logits = build_vgg_small(out, x, num_classes); break;
        case DSC_ZOO_RESNET20: logits = build_resnet20(out, x, num_classes); break;
        }
    }
    dsc_status st = dsc_graph_status(out->g);
    if (st == DSC_OK && logits < 0)
        st = DSC_ERROR(DSC_ERR_INVALID, "model '%s': building failed", disp);
    else if (st != DSC_OK)
        st = DSC_ERROR(st, "%s", dsc_graph_error(out->g));
    if (st == DSC_OK)
        st = dsc_model_finish(out, logits);
    if (st != DSC_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", dsc_last_error());
        dsc_model_free(out);
        return DSC_ERROR(st, "%s", msg);
    }
    return DSC_OK;
}
