/* descent — computation graphs and automatic differentiation.
 *
 * A model is a graph built once: inputs (fed each step), parameters (trainable, stored in
 * one flat float buffer), buffers (non-trainable state such as BatchNorm running
 * statistics, in a second flat buffer) and op nodes. dsc_graph_compile plans all memory
 * in one arena; after that, forward, backward (VJP), forward-mode (JVP), Hessian-vector
 * products (forward-over-reverse) and per-example gradients run without allocating.
 *
 * Builder functions return a node id (>= 0). On error they return -1 and the graph keeps
 * the first error (sticky, like cairo/ggml): later builder calls given -1 return -1, and
 * dsc_graph_status / dsc_graph_compile report the first error with its message. This keeps
 * model-building code free of checks after every line.
 *
 * Dimension 0 of inputs is the batch dimension; dsc_graph_set_batch changes it (up to the
 * size the graph was compiled for) without re-planning memory. */
#ifndef DESCENT_GRAPH_H
#define DESCENT_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "descent/error.h"
#include "descent/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dsc_graph dsc_graph;
typedef int dsc_id;

/* ---- building ---------------------------------------------------------------- */
dsc_graph *dsc_graph_new(void);
void dsc_graph_free(dsc_graph *g);
/* First error met while building (DSC_OK if none); its message is in dsc_graph_error. */
dsc_status dsc_graph_status(const dsc_graph *g);
const char *dsc_graph_error(const dsc_graph *g);

/* A data input of the given shape (dim 0 = batch). requires_grad: also compute d loss/d input
 * (saliency maps, adversarial attacks). Integer data (class labels, token ids) is stored as
 * float holding exact integers. */
dsc_id dsc_input(dsc_graph *g, const char *name, int ndim, const int64_t *shape);
dsc_status dsc_input_requires_grad(dsc_graph *g, dsc_id input, int requires_grad);
/* A trainable parameter (in the flat parameter buffer, in creation order). */
dsc_id dsc_param(dsc_graph *g, const char *name, int ndim, const int64_t *shape);
/* A non-trainable state tensor (in the flat buffer of buffers), e.g. running_mean. */
dsc_id dsc_buffer(dsc_graph *g, const char *name, int ndim, const int64_t *shape);
/* A constant tensor (copied). */
dsc_id dsc_constant(dsc_graph *g, int ndim, const int64_t *shape, const float *data);
dsc_id dsc_scalar(dsc_graph *g, float value);

/* Shape of a node (valid after building it; batch-dependent shapes follow set_batch). */
dsc_shape dsc_node_shape(const dsc_graph *g, dsc_id id);
const char *dsc_node_name(const dsc_graph *g, dsc_id id);
const char *dsc_node_op_name(const dsc_graph *g, dsc_id id);
int dsc_graph_node_count(const dsc_graph *g);
/* Give a node a name (used in messages, e.g. "NaN in node 'fc2' (linear)"). */
dsc_status dsc_node_set_name(dsc_graph *g, dsc_id id, const char *name);

/* ---- compiling and memory ---------------------------------------------------- */
/* Plan memory for computing `loss` (a scalar node) and its gradients; every node is
 * computed by forward. Call once after building. */
dsc_status dsc_graph_compile(dsc_graph *g, dsc_id loss);
/* Before compile: keep this node's value readable after forward even when gradient
 * checkpointing would otherwise overwrite it (e.g. logits for accuracy). */
dsc_status dsc_graph_keep(dsc_graph *g, dsc_id id);
/* Change the batch size (dim 0 of every input), 1 <= batch <= the compiled size. */
dsc_status dsc_graph_set_batch(dsc_graph *g, int64_t batch);
int64_t dsc_graph_batch(const dsc_graph *g);
/* Bytes held by the graph's arena (activations, gradients, workspace). */
size_t dsc_graph_memory_bytes(const dsc_graph *g);

/* Gradient checkpointing: before compile, split the forward pass into `segments` segments
 * (0 = off, -1 = about sqrt(#nodes)). Activations inside a segment are recomputed during
 * backward from the segment's input; gradients are bit-identical to plain backward. */
dsc_status dsc_graph_set_checkpoint_segments(dsc_graph *g, int segments);

/* ---- flat buffers and named views -------------------------------------------- */
float *dsc_graph_params(dsc_graph *g, size_t *count);
float *dsc_graph_grads(dsc_graph *g, size_t *count);
float *dsc_graph_buffers(dsc_graph *g, size_t *count);
int dsc_graph_param_count(const dsc_graph *g); /* number of parameter tensors */
/* The i-th parameter tensor: its name, shape and offset in the flat buffers. */
dsc_status dsc_graph_param_info(const dsc_graph *g, int i, const char **name, dsc_shape *shape,
                                size_t *offset);
int dsc_graph_buffer_count(const dsc_graph *g);
dsc_status dsc_graph_buffer_info(const dsc_graph *g, int i, const char **name, dsc_shape *shape,
                                 size_t *offset);
/* Find a parameter/buffer/input by name; -1 if none. */
dsc_id dsc_graph_find(const dsc_graph *g, const char *name);

/* Value / gradient / tangent of any node as a contiguous tensor view (after compile). */
dsc_tensor dsc_node_value(dsc_graph *g, dsc_id id);
dsc_tensor dsc_node_grad(dsc_graph *g, dsc_id id);    /* data NULL if it has no gradient */
dsc_tensor dsc_node_tangent(dsc_graph *g, dsc_id id); /* data NULL before a JVP */

/* ---- running --------------------------------------------------------------------- */
/* Copy `count` floats into an input (count must equal its current numel). */
dsc_status dsc_graph_set_input(dsc_graph *g, dsc_id input, const float *data, size_t count);
/* Train mode (dropout active, BatchNorm uses and updates batch statistics) or eval mode. */
void dsc_graph_set_training(dsc_graph *g, int training);
int dsc_graph_training(const dsc_graph *g);
/* Seed of the graph's random ops (dropout). Each forward call in train mode draws fresh
 * masks from (seed, forward counter); the counter is part of the saved state. */
void dsc_graph_set_seed(dsc_graph *g, uint64_t seed);
uint64_t dsc_graph_forward_counter(const dsc_graph *g);
void dsc_graph_set_forward_counter(dsc_graph *g, uint64_t counter);

dsc_status dsc_graph_forward(dsc_graph *g);
/* Value of the loss after forward. */
float dsc_graph_loss(const dsc_graph *g);
/* Reverse mode: zero the gradients, then d loss / d (params, inputs that require grad).
 * The parameter gradients land in dsc_graph_grads. */
dsc_status dsc_graph_backward(dsc_graph *g);
/* Backward without zeroing first: gradients accumulate (gradient accumulation). */
dsc_status dsc_graph_backward_accumulate(dsc_graph *g);

/* Forward mode: with parameter tangent v (flat, like the params; NULL = 0) and optional
 * input tangents (set with dsc_graph_set_input_tangent), computes values and tangents of
 * every node; read them with dsc_node_tangent. */
dsc_status dsc_graph_set_input_tangent(dsc_graph *g, dsc_id input, const float *data, size_t count);
dsc_status dsc_graph_jvp(dsc_graph *g, const float *param_tangent);
/* Hessian-vector product of the loss w.r.t. the parameters: hv = (d^2 loss / d theta^2) v,
 * by forward-over-reverse (Pearlmutter's R-operator applied to the backward pass). Also
 * leaves the ordinary gradient in dsc_graph_grads. */
dsc_status dsc_graph_hvp(dsc_graph *g, const float *v, float *hv);

/* Per-example gradients: out is [batch][param count], row b = gradient of the loss of example
 * b computed alone (as if the batch held only it). Needs a loss op that reduces over the
 * batch and layers whose examples are independent (BatchNorm only in eval mode). */
dsc_status dsc_graph_per_example_grads(dsc_graph *g, float *out);

/* First node whose value (or gradient) holds NaN/Inf after the last pass; -1 if none. */
dsc_id dsc_graph_find_nonfinite(const dsc_graph *g, int in_grads);

#ifdef __cplusplus
}
#endif
#endif
