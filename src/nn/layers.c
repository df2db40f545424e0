/* Layers: each adds its parameters/buffers (torch names and layouts) and ops to the model's
 * graph, records its default initializer and a row of the layer table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autodiff/graph_internal.h"
#include "descent/nn.h"

static const char *act_names[] = {"relu", "tanh", "sigmoid", "gelu", "silu", "leaky_relu", "elu"};
static const char *act_kinds[] = {"ReLU", "Tanh", "Sigmoid", "GELU", "SiLU", "LeakyReLU", "ELU"};
#define N_ACTS ((int)(sizeof act_names / sizeof act_names[0]))

const char *dsc_activation_name(dsc_activation a)
{
    return (int)a >= 0 && (int)a < N_ACTS ? act_names[a] : "?";
}

dsc_status dsc_activation_parse(const char *name, dsc_activation *out)
{
    for (int i = 0; i < N_ACTS; i++)
        if (name && !strcmp(name, act_names[i])) {
            *out = (dsc_activation)i;
            return DSC_OK;
        }
    return DSC_ERROR(DSC_ERR_INVALID,
                     "unknown activation '%s' (valid: relu, tanh, sigmoid, gelu, silu, leaky_relu, elu)",
                     name ? name : "(null)");
}

/* ---- model bookkeeping ---------------------------------------------------------------- */

dsc_status dsc_model_begin(dsc_model *m)
{
    if (!m)
        return DSC_ERROR(DSC_ERR_INVALID, "model: NULL");
    memset(m, 0, sizeof *m);
    m->input = m->target = m->logits = m->loss = -1;
    m->g = dsc_graph_new();
    if (!m->g)
        return DSC_ERROR(DSC_ERR_NOMEM, "model: graph allocation failed");
    return DSC_OK;
}

void dsc_model_free(dsc_model *m)
{
    if (!m)
        return;
    dsc_graph_free(m->g);
    free(m->layers);
    free(m->inits);
    memset(m, 0, sizeof *m);
    m->input = m->target = m->logits = m->loss = -1;
}

static int ok(dsc_model *m) { return m && m->g && dsc_graph_status(m->g) == DSC_OK; }

/* Record a row of the layer table and name the output node after the module. */
static dsc_id record(dsc_model *m, const char *name, const char *kind, dsc_id out, int64_t params, int64_t flops)
{
    if (out < 0)
        return -1;
    if (m->n_layers == m->cap_layers) {
        int cap = m->cap_layers ? 2 * m->cap_layers : 32;
        dsc_layer_info *l = realloc(m->layers, (size_t)cap * sizeof *l);
        if (!l)
            return dsc_graph_fail(m->g, DSC_ERR_NOMEM, "model: layer table");
        m->layers = l;
        m->cap_layers = cap;
    }
    dsc_layer_info *L = &m->layers[m->n_layers++];
    memset(L, 0, sizeof *L);
    snprintf(L->name, sizeof L->name, "%s", name);
    snprintf(L->kind, sizeof L->kind, "%s", kind);
    L->out = out;
    L->params = params;
    L->flops = flops;
    if (name[0] && dsc_graph_find(m->g, name) < 0)
        dsc_node_set_name(m->g, out, name);
    return out;
}

static int add_init(dsc_model *m, dsc_id id, dsc_init init, int is_weight)
{
    if (id < 0)
        return -1;
    if (m->n_inits == m->cap_inits) {
        int cap = m->cap_inits ? 2 * m->cap_inits : 32;
        dsc_param_init *p = realloc(m->inits, (size_t)cap * sizeof *p);
        if (!p)
            return dsc_graph_fail(m->g, DSC_ERR_NOMEM, "model: init table");
        m->inits = p;
        m->cap_inits = cap;
    }
    m->inits[m->n_inits].id = id;
    m->inits[m->n_inits].init = init;
    m->inits[m->n_inits].is_weight = is_weight;
    m->n_inits++;
    return 0;
}

static dsc_init constant(double v)
{
    dsc_init d = dsc_init_make(DSC_INIT_CONSTANT);
    d.value = v;
    return d;
}

static dsc_init torch_bias(int64_t fan_in)
{
    dsc_init d = dsc_init_make(DSC_INIT_TORCH_BIAS);
    d.fan_in = fan_in;
    return d;
}

/* A parameter or buffer "<module>.<leaf>". */
static dsc_id leaf(dsc_model *m, int buffer, const char *module, const char *leafname, int ndim, const int64_t *shape)
{
    char full[64];
    int n = snprintf(full, sizeof full, "%s%s%s", module, module[0] ? "." : "", leafname);
    if (n >= (int)sizeof full)
        return dsc_graph_fail(m->g, DSC_ERR_INVALID, "model: name '%s.%s' longer than %d characters", module,
                              leafname, (int)sizeof full - 1);
    return buffer ? dsc_buffer(m->g, full, ndim, shape) : dsc_param(m->g, full, ndim, shape);
}

static int64_t numel_of(const dsc_model *m, dsc_id id)
{
    dsc_shape s = dsc_node_shape(m->g, id);
    return dsc_shape_numel(&s);
}

/* Elements per example of a node whose dim 0 is the batch. */
static int64_t per_example(const dsc_model *m, dsc_id id)
{
    dsc_shape s = dsc_node_shape(m->g, id);
    return s.ndim > 0 && s.dim[0] > 0 ? dsc_shape_numel(&s) / s.dim[0] : dsc_shape_numel(&s);
}

/* ---- layers ----------------------------------------------------------------------------- */

dsc_id dsc_nn_linear(dsc_model *m, const char *name, dsc_id x, int64_t out_features, int bias)
{
    if (!ok(m) || x < 0)
        return -1;
    dsc_shape xs = dsc_node_shape(m->g, x);
    if (xs.ndim < 1 || out_features <= 0)
        return dsc_graph_fail(m->g, DSC_ERR_SHAPE, "Linear '%s': needs an input with a feature dim and out > 0", name);
    int64_t in = xs.dim[xs.ndim - 1];
    int64_t ws[2] = {out_features, in};
    dsc_id w = leaf(m, 0, name, "weight", 2, ws);
    dsc_id b = bias ? leaf(m, 0, name, "bias", 1, &out_features) : -1;
    if (w < 0 || (bias && b < 0))
        return -1;
    add_init(m, w, dsc_init_make(DSC_INIT_TORCH_DEFAULT), 1);
    if (bias)
        add_init(m, b, torch_bias(in), 0);
    dsc_id y = dsc_linear(m->g, x, w, b);
    if (y < 0)
        return -1;
    int64_t params = in * out_features + (bias ? out_features : 0);
    return record(m, name, "Linear", y, params, 2 * in * per_example(m, y));
}

static dsc_id conv(dsc_model *m, const char *name, dsc_id x, int64_t out_ch, int kernel, dsc_conv_opts o, int bias,
                   int dims)
{
    const char *kind = dims == 2 ? "Conv2d" : "Conv1d";
    if (!ok(m) || x < 0)
        return -1;
    dsc_shape xs = dsc_node_shape(m->g, x);
    if (xs.ndim != dims + 2)
        return dsc_graph_fail(m->g, DSC_ERR_SHAPE, "%s '%s': input must have %d dims ([N, C, %s]), got %d", kind,
                              name, dims + 2, dims == 2 ? "H, W" : "L", xs.ndim);
    int groups = o.groups > 0 ? o.groups : 1;
    int64_t in = xs.dim[1];
    if (out_ch <= 0 || kernel <= 0 || in % groups || out_ch % groups)
        return dsc_graph_fail(m->g, DSC_ERR_SHAPE,
                              "%s '%s': in %lld / out %lld channels must be > 0 and divisible by groups %d, kernel %d > 0",
                              kind, name, (long long)in, (long long)out_ch, groups, kernel);
    int64_t ws[4] = {out_ch, in / groups, kernel, kernel};
    dsc_id w = leaf(m, 0, name, "weight", dims + 2, ws);
    dsc_id b = bias ? leaf(m, 0, name, "bias", 1, &out_ch) : -1;
    if (w < 0 || (bias && b < 0))
        return -1;
    int64_t fan_in = in / groups * kernel * (dims == 2 ? kernel : 1);
    add_init(m, w, dsc_init_make(DSC_INIT_TORCH_DEFAULT), 1);
    if (bias)
        add_init(m, b, torch_bias(fan_in), 0);
    dsc_id y = dims == 2 ? dsc_conv2d(m->g, x, w, b, o) : dsc_conv1d(m->g, x, w, b, o);
    if (y < 0)
        return -1;
    int64_t params = out_ch * fan_in + (bias ? out_ch : 0);
    return record(m, name, kind, y, params, 2 * fan_in * per_example(m, y));
}

dsc_id dsc_nn_conv2d(dsc_model *m, const char *name, dsc_id x, int64_t out_channels, int kernel, dsc_conv_opts o,
                     int bias)
{
    return conv(m, name, x, out_channels, kernel, o, bias, 2);
}

dsc_id dsc_nn_conv1d(dsc_model *m, const char *name, dsc_id x, int64_t out_channels, int kernel, dsc_conv_opts o,
                     int bias)
{
    return conv(m, name, x, out_channels, kernel, o, bias, 1);
}

static dsc_id pool(dsc_model *m, const char *name, dsc_id x, int kernel, int stride, int padding, int avg)
{
    if (!ok(m) || x < 0)
        return -1;
    dsc_pool_opts o;
    memset(&o, 0, sizeof o);
    o.kernel[0] = o.kernel[1] = kernel;
    o.stride[0] = o.stride[1] = stride > 0 ? stride : kernel;
    o.padding[0] = o.padding[1] = padding;
    o.count_include_pad = 1;
    dsc_id y = avg ? dsc_avg_pool2d(m->g, x, o) : dsc_max_pool2d(m->g, x, o);
    return record(m, name, avg ? "AvgPool2d" : "MaxPool2d", y, 0, 0);
}

dsc_id dsc_nn_max_pool2d(dsc_model *m, const char *name, dsc_id x, int kernel, int stride, int padding)
{
    return pool(m, name, x, kernel, stride, padding, 0);
}

dsc_id dsc_nn_avg_pool2d(dsc_model *m, const char *name, dsc_id x, int kernel, int stride, int padding)
{
    return pool(m, name, x, kernel, stride, padding, 1);
}

dsc_id dsc_nn_global_avg_pool(dsc_model *m, const char *name, dsc_id x)
{
    if (!ok(m) || x < 0)
        return -1;
    return record(m, name, "GlobalAvgPool", dsc_global_avg_pool2d(m->g, x), 0, 0);
}

dsc_id dsc_nn_batch_norm(dsc_model *m, const char *name, dsc_id x)
{
    if (!ok(m) || x < 0)
        return -1;
    dsc_shape xs = dsc_node_shape(m->g, x);
    if (xs.ndim < 2 || xs.ndim > 4)
        return dsc_graph_fail(m->g, DSC_ERR_SHAPE, "BatchNorm '%s': input must be [N, C], [N, C, L] or [N, C, H, W], got %d dims",
                              name, xs.ndim);
    int64_t c = xs.dim[1];
    dsc_id w = leaf(m, 0, name, "weight", 1, &c);
    dsc_id b = leaf(m, 0, name, "bias", 1, &c);
    dsc_id rm = leaf(m, 1, name, "running_mean", 1, &c);
    dsc_id rv = leaf(m, 1, name, "running_var", 1, &c);
    if (w < 0 || b < 0 || rm < 0 || rv < 0)
        return -1;
    add_init(m, w, constant(1), 0);
    add_init(m, b, constant(0), 0);
    add_init(m, rm, constant(0), 0);
    add_init(m, rv, constant(1), 0);
    dsc_id y = dsc_batch_norm(m->g, x, w, b, rm, rv, 0.1f, 1e-5f);
    return record(m, name, xs.ndim == 4 ? "BatchNorm2d" : "BatchNorm1d", y, 2 * c, 0);
}

dsc_id dsc_nn_layer_norm(dsc_model *m, const char *name, dsc_id x, int nnorm)
{
    if (!ok(m) || x < 0)
        return -1;
    dsc_shape xs = dsc_node_shape(m->g, x);
    if (nnorm < 1 || nnorm >= xs.ndim)
        return dsc_graph_fail(m->g, DSC_ERR_SHAPE, "LayerNorm '%s': cannot normalize the last %d of %d dims", name,
                              nnorm, xs.ndim);
    const int64_t *ns = &xs.dim[xs.ndim - nnorm];
    dsc_id w = leaf(m, 0, name, "weight", nnorm, ns);
    dsc_id b = leaf(m, 0, name, "bias", nnorm, ns);
    if (w < 0 || b < 0)
        return -1;
    add_init(m, w, constant(1), 0);
    add_init(m, b, constant(0), 0);
    dsc_id y = dsc_layer_norm(m->g, x, nnorm, w, b, 1e-5f);
    return record(m, name, "LayerNorm", y, 2 * numel_of(m, w), 0);
}

dsc_id dsc_nn_dropout(dsc_model *m, const char *name, dsc_id x, float p)
{
    if (!ok(m) || x < 0)
        return -1;
    return record(m, name, "Dropout", dsc_dropout(m->g, x, p), 0, 0);
}

dsc_id dsc_nn_embedding(dsc_model *m, const char *name, dsc_id indices, int64_t num, int64_t dim)
{
    if (!ok(m) || indices < 0)
        return -1;
    int64_t ws[2] = {num, dim};
    dsc_id w = leaf(m, 0, name, "weight", 2, ws);
    if (w < 0)
        return -1;
    add_init(m, w, dsc_init_make(DSC_INIT_NORMAL), 0);
    return record(m, name, "Embedding", dsc_embedding(m->g, indices, w), num * dim, 0);
}

dsc_id dsc_nn_flatten(dsc_model *m, const char *name, dsc_id x)
{
    if (!ok(m) || x < 0)
        return -1;
    return record(m, name, "Flatten", dsc_flatten(m->g, x), 0, 0);
}

dsc_id dsc_nn_activation(dsc_model *m, const char *name, dsc_id x, dsc_activation a)
{
    if (!ok(m) || x < 0)
        return -1;
    dsc_id y = -1;
    switch (a) {
    case DSC_ACT_RELU: y = dsc_relu(m->g, x); break;
    case DSC_ACT_TANH: y = dsc_tanh(m->g, x); break;
    case DSC_ACT_SIGMOID: y = dsc_sigmoid(m->g, x); break;
    case DSC_ACT_GELU: y = dsc_gelu(m->g, x, DSC_GELU_ERF); break;
    case DSC_ACT_SILU: y = dsc_silu(m->g, x); break;
    case DSC_ACT_LEAKY_RELU: y = dsc_leaky_relu(m->g, x, 0.01f); break;
    case DSC_ACT_ELU: y = dsc_elu(m->g, x, 1.0f); break;
    default: return dsc_graph_fail(m->g, DSC_ERR_INVALID, "activation '%s': unknown kind %d", name, (int)a);
    }
    return record(m, name, act_kinds[a], y, 0, 0);
}

dsc_id dsc_nn_basic_block(dsc_model *m, const char *name, dsc_id x, int64_t out_channels, int stride)
{
    if (!ok(m) || x < 0)
        return -1;
    dsc_shape xs = dsc_node_shape(m->g, x);
    if (xs.ndim != 4)
        return dsc_graph_fail(m->g, DSC_ERR_SHAPE, "BasicBlock '%s': input must be [N, C, H, W]", name);
    char n[64];
    dsc_conv_opts o = dsc_conv_defaults();
    o.stride[0] = o.stride[1] = stride;
    o.padding[0] = o.padding[1] = 1;
    /* Parameters are created in torch's registration order: conv1, bn1, conv2, bn2, downsample. */
#define SUB(s) (snprintf(n, sizeof n, "%s.%s", name, s), n)
    dsc_id h = dsc_nn_conv2d(m, SUB("conv1"), x, out_channels, 3, o, 0);
    h = dsc_nn_batch_norm(m, SUB("bn1"), h);
    h = dsc_nn_activation(m, SUB("relu1"), h, DSC_ACT_RELU);
    o.stride[0] = o.stride[1] = 1;
    h = dsc_nn_conv2d(m, SUB("conv2"), h, out_channels, 3, o, 0);
    h = dsc_nn_batch_norm(m, SUB("bn2"), h);
    dsc_id sc = x;
    if (stride != 1 || xs.dim[1] != out_channels) {
        dsc_conv_opts p = dsc_conv_defaults();
        p.stride[0] = p.stride[1] = stride;
        sc = dsc_nn_conv2d(m, SUB("downsample.0"), x, out_channels, 1, p, 0);
        sc = dsc_nn_batch_norm(m, SUB("downsample.1"), sc);
    }
    if (h < 0 || sc < 0)
        return -1;
    dsc_id y = record(m, SUB("add"), "Add", dsc_add(m->g, h, sc), 0, 0);
    y = dsc_nn_activation(m, SUB("relu2"), y, DSC_ACT_RELU);
#undef SUB
    return y;
}

dsc_sequential dsc_sequential_start(const char *prefix)
{
    dsc_sequential s;
    memset(&s, 0, sizeof s);
    snprintf(s.prefix, sizeof s.prefix, "%s", prefix ? prefix : "");
    return s;
}

const char *dsc_sequential_name(dsc_sequential *s)
{
    if (s->prefix[0])
        snprintf(s->buf, sizeof s->buf, "%s.%d", s->prefix, s->next++);
    else
        snprintf(s->buf, sizeof s->buf, "%d", s->next++);
    return s->buf;
}

/* ---- finishing and initializing ----------------------------------------------------------- */

dsc_status dsc_model_finish(dsc_model *m, dsc_id logits)
{
    if (!m || !m->g)
        return DSC_ERROR(DSC_ERR_INVALID, "model: not begun");
    dsc_graph *g = m->g;
    if (dsc_graph_status(g) != DSC_OK)
        return DSC_ERROR(dsc_graph_status(g), "%s", dsc_graph_error(g));
    if (m->input < 0)
        m->input = dsc_graph_find(g, "x");
    dsc_shape xs = dsc_node_shape(g, m->input);
    dsc_shape ls = dsc_node_shape(g, logits);
    if (ls.ndim != 2)
        return DSC_ERROR(DSC_ERR_SHAPE, "model: logits must be [batch, classes], got %d dims", ls.ndim);
    int64_t ys[1] = {xs.dim[0]};
    m->target = dsc_input(g, "y", 1, ys);
    m->logits = logits;
    m->num_classes = (int)ls.dim[1];
    m->loss = dsc_cross_entropy(g, logits, m->target, dsc_ce_defaults());
    if (m->loss >= 0 && dsc_graph_find(g, "loss") < 0)
        dsc_node_set_name(g, m->loss, "loss");
    if (dsc_graph_status(g) != DSC_OK)
        return DSC_ERROR(dsc_graph_status(g), "%s", dsc_graph_error(g));
    DSC_TRY(dsc_graph_keep(g, logits));
    if (m->opts.input_requires_grad)
        DSC_TRY(dsc_input_requires_grad(g, m->input, 1));
    if (m->opts.checkpoint_segments)
        DSC_TRY(dsc_graph_set_checkpoint_segments(g, m->opts.checkpoint_segments));
    m->batch = xs.dim[0];
    return dsc_graph_compile(g, m->loss);
}

dsc_status dsc_model_init_custom(dsc_model *m, uint64_t seed, const dsc_init *weight_init)
{
    if (!m || !m->g)
        return DSC_ERROR(DSC_ERR_INVALID, "model init: no model");
    dsc_rng root = dsc_rng_seed(seed);
    for (int i = 0; i < m->n_inits; i++) {
        const dsc_param_init *p = &m->inits[i];
        dsc_tensor t = dsc_node_value(m->g, p->id);
        if (!t.data)
            return DSC_ERROR(DSC_ERR_STATE, "model init: compile the model before initializing '%s'",
                             dsc_node_name(m->g, p->id));
        dsc_rng r = dsc_rng_fork(&root, (uint64_t)i);
        const dsc_init *d = p->is_weight && weight_init ? weight_init : &p->init;
        dsc_status s = dsc_init_apply(d, &r, t.data, &t.shape);
        if (s != DSC_OK)
            return DSC_ERROR(s, "model init of '%s': %s", dsc_node_name(m->g, p->id), dsc_last_error());
    }
    return DSC_OK;
}

dsc_status dsc_model_init(dsc_model *m, uint64_t seed) { return dsc_model_init_custom(m, seed, NULL); }

int64_t dsc_model_param_count(const dsc_model *m)
{
    int64_t n = 0;
    int k = dsc_graph_param_count(m->g);
    for (int i = 0; i < k; i++) {
        dsc_shape s;
        if (dsc_graph_param_info(m->g, i, NULL, &s, NULL) == DSC_OK)
            n += dsc_shape_numel(&s);
    }
    return n;
}

int64_t dsc_model_flops(const dsc_model *m)
{
    int64_t f = 0;
    for (int i = 0; i < m->n_layers; i++)
        f += m->layers[i].flops;
    return f;
}
