/* descent — layers and the model zoo (docs/MODELS.md).
 *
 * A dsc_model wraps a graph being built plus what the layers record: a table of layers (for
 * `descent info`: name, kind, output node, parameter count, FLOPs) and each parameter's
 * default initializer. Layers create parameters/buffers named like PyTorch's state_dict
 * ("<module>.weight", "<module>.bias", "<module>.running_mean", ...) with torch's layouts,
 * so weights round-trip by name with the twins in tools/torch_models.py. BatchNorm has no
 * `num_batches_tracked` buffer (descent uses a fixed momentum; see docs/MODELS.md).
 *
 * Layer builders follow the graph's sticky-error convention: they return the output node
 * id, or -1 after recording the first error on the graph (dsc_graph_status/_error). */
#ifndef DESCENT_NN_H
#define DESCENT_NN_H

#include <stdint.h>

#include "descent/graph.h"
#include "descent/init.h"
#include "descent/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dsc_activation {
    DSC_ACT_RELU = 0,
    DSC_ACT_TANH,
    DSC_ACT_SIGMOID,
    DSC_ACT_GELU,       /* exact (erf), torch default */
    DSC_ACT_SILU,
    DSC_ACT_LEAKY_RELU, /* slope 0.01 */
    DSC_ACT_ELU         /* alpha 1 */
} dsc_activation;
/* "relu", "tanh", ... ; parse returns DSC_ERR_INVALID naming the bad name and listing the valid ones. */
const char *dsc_activation_name(dsc_activation a);
dsc_status dsc_activation_parse(const char *name, dsc_activation *out);

typedef struct dsc_layer_info {
    char name[64];  /* module name ("0", "layer1.0.conv1", "fc") */
    char kind[24];  /* "Linear", "Conv2d", "BatchNorm2d", "ReLU", "Add", ... */
    dsc_id out;     /* its output node */
    int64_t params; /* trainable parameters it owns */
    int64_t flops;  /* per example: 2 * multiply-adds of conv/linear; 0 for other layers */
} dsc_layer_info;

typedef struct dsc_param_init {
    dsc_id id;     /* parameter or buffer */
    dsc_init init; /* its torch default initializer */
    int is_weight; /* a conv/linear weight: dsc_model_init_custom may replace its init */
} dsc_param_init;

/* Options applied when a model is compiled (dsc_model_finish / dsc_model_build_opts). */
typedef struct dsc_model_opts {
    int input_requires_grad; /* also compute d loss / d x (saliency, adversarial examples) */
    int checkpoint_segments; /* gradient checkpointing: 0 off, -1 about sqrt(#nodes), or a count */
} dsc_model_opts;

typedef struct dsc_model {
    dsc_graph *g;
    dsc_model_opts opts;                /* set before dsc_model_finish; zero = defaults */
    dsc_id input, target, logits, loss; /* "x", "y", logits (kept), mean cross-entropy */
    int64_t batch;                      /* compiled batch size */
    int num_classes;
    dsc_layer_info *layers;
    int n_layers, cap_layers;
    dsc_param_init *inits;
    int n_inits, cap_inits;
} dsc_model;

/* ---- building a model by hand ------------------------------------------------------- */
/* Zero *m and create its graph. */
dsc_status dsc_model_begin(dsc_model *m);
void dsc_model_free(dsc_model *m);

/* nn.Linear: x [..., in] -> [..., out]; "<name>.weight" [out, in], "<name>.bias" [out]. */
dsc_id dsc_nn_linear(dsc_model *m, const char *name, dsc_id x, int64_t out_features, int bias);
/* nn.Conv2d with a square kernel: "<name>.weight" [out, in/groups, k, k]. o: stride, padding,
 * dilation, groups (dsc_conv_defaults()). */
dsc_id dsc_nn_conv2d(dsc_model *m, const char *name, dsc_id x, int64_t out_channels, int kernel,
                     dsc_conv_opts o, int bias);
/* nn.Conv1d: x [N, C, L]; "<name>.weight" [out, in/groups, k]. */
dsc_id dsc_nn_conv1d(dsc_model *m, const char *name, dsc_id x, int64_t out_channels, int kernel,
                     dsc_conv_opts o, int bias);
/* nn.MaxPool2d / nn.AvgPool2d(kernel, stride (0 = kernel), padding). */
dsc_id dsc_nn_max_pool2d(dsc_model *m, const char *name, dsc_id x, int kernel, int stride, int padding);
dsc_id dsc_nn_avg_pool2d(dsc_model *m, const char *name, dsc_id x, int kernel, int stride, int padding);
/* Mean over H, W: [N, C, H, W] -> [N, C]. */
dsc_id dsc_nn_global_avg_pool(dsc_model *m, const char *name, dsc_id x);
/* nn.BatchNorm1d (x [N, C] or [N, C, L]) / nn.BatchNorm2d (x [N, C, H, W]), momentum 0.1,
 * eps 1e-5: params weight, bias [C]; buffers running_mean, running_var [C]. */
dsc_id dsc_nn_batch_norm(dsc_model *m, const char *name, dsc_id x);
/* nn.LayerNorm over the last nnorm dims (eps 1e-5): weight, bias of those dims' shape. */
dsc_id dsc_nn_layer_norm(dsc_model *m, const char *name, dsc_id x, int nnorm);
dsc_id dsc_nn_dropout(dsc_model *m, const char *name, dsc_id x, float p);
/* nn.Embedding(num, dim): indices (floats holding integers) -> [..., dim]; weight N(0, 1). */
dsc_id dsc_nn_embedding(dsc_model *m, const char *name, dsc_id indices, int64_t num, int64_t dim);
dsc_id dsc_nn_flatten(dsc_model *m, const char *name, dsc_id x);
dsc_id dsc_nn_activation(dsc_model *m, const char *name, dsc_id x, dsc_activation a);
/* He et al. 2016 BasicBlock named like torchvision: conv1 (3x3, stride) bn1 relu conv2 bn2,
 * plus "downsample.0" (1x1 conv, stride, no bias) and "downsample.1" (BatchNorm2d) when the
 * shape changes (projection shortcut, option B); output relu(main + shortcut). */
dsc_id dsc_nn_basic_block(dsc_model *m, const char *name, dsc_id x, int64_t out_channels, int stride);

/* Sequential-style naming: each call returns "<prefix>.<i>" (or "<i>" without prefix) and
 * advances i, like the indices of torch.nn.Sequential. */
typedef struct dsc_sequential {
    char prefix[48];
    int next;
    char buf[64];
} dsc_sequential;
dsc_sequential dsc_sequential_start(const char *prefix);
const char *dsc_sequential_name(dsc_sequential *s);

/* Finish a hand-built model: add input "y" [B] (class labels), loss = mean cross-entropy
 * of logits, keep the logits, compile for the input's batch size. */
dsc_status dsc_model_finish(dsc_model *m, dsc_id logits);

/* ---- the zoo ------------------------------------------------------------------------ */
/* Build a model from a spec string (grammar in docs/MODELS.md), e.g. "mlp:784-256-10,act=tanh",
 * "lenet5", "cnn:c32k5-p2-c64k5-p2-f128", "vgg-small", "resnet20", for inputs "x" of shape
 * [batch, in_shape...], num_classes classes (0: the mlp's last width, 10 otherwise). The
 * graph is compiled; call dsc_model_init next. DSC_ERR_INVALID names the bad token/option. */
dsc_status dsc_model_build(const char *spec, int ndim_in, const int64_t *in_shape, int num_classes, int64_t batch,
                           dsc_model *out);
/* The same with compile options (NULL = defaults). */
dsc_status dsc_model_build_opts(const char *spec, int ndim_in, const int64_t *in_shape, int num_classes,
                                int64_t batch, const dsc_model_opts *opts, dsc_model *out);
/* Names of the zoo's models, comma separated. */
const char *dsc_model_names(void);

/* Torch's default initialization of every parameter and buffer (Linear/Conv: U(+-1/sqrt(fan_in))
 * for weight and bias; BatchNorm/LayerNorm weight 1, bias 0; running_mean 0, running_var 1;
 * Embedding N(0, 1)). Parameter i draws from dsc_rng_fork(seed, i): deterministic by seed. */
dsc_status dsc_model_init(dsc_model *m, uint64_t seed);
/* Same, but conv/linear weights use weight_init (NULL = torch default). */
dsc_status dsc_model_init_custom(dsc_model *m, uint64_t seed, const dsc_init *weight_init);

int64_t dsc_model_param_count(const dsc_model *m);
int64_t dsc_model_flops(const dsc_model *m); /* per example, sum over layers */

#ifdef __cplusplus
}
#endif
#endif
