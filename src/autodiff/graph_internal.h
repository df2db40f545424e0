/* Internal view of graphs and nodes, shared by the graph engine (src/autodiff) and the op
 * kernels (src/ops). Not installed.
 *
 * How to write an op (see src/ops/elementwise.c for a complete example):
 *   static const dsc_op OP_FOO = {"foo", foo_infer, foo_forward, foo_vjp, foo_jvp, foo_vjp_rop,
 *                                 foo_per_example, flags};
 *   dsc_id dsc_foo(dsc_graph *g, dsc_id x) { return dsc_graph_add_op(g, &OP_FOO, 1, &x, NULL); }
 *
 * - infer(g, n): validate attributes and input shapes (return DSC_ERROR with a message naming
 *   the op and the shapes), set n->shape, and set n->aux_size / n->scratch_size (floats) for
 *   the current batch. It is re-run by dsc_graph_set_batch, so it must not allocate.
 * - forward(g, n): n->value = f(inputs). May write n->aux (kept until backward: masks, saved
 *   statistics, argmax indices). When g->recomputing is set (gradient checkpointing) it must
 *   not repeat side effects (running statistics).
 * - vjp(g, n): for every input i with in->grad != NULL, in->grad += (df/dx_i)^T n->grad.
 *   Always accumulate (weight sharing, several consumers). Inputs without grad are skipped.
 * - jvp(g, n): n->tangent = sum_i (df/dx_i) in->tangent. Every node has a tangent buffer
 *   during JVP/HVP (zeros for inputs/constants without a given tangent).
 * - vjp_rop(g, n): the second-order part of the R-operator of the VJP. The engine computes
 *   R{x_i->grad} = VJP(x, n->grad_tangent) + sum_j d/dx_j [VJP(x, n->grad)] x_j->tangent;
 *   it does the first term by calling vjp with the grad and grad_tangent buffers swapped,
 *   and calls vjp_rop for the second term, which accumulates into in->grad_tangent.
 *   NULL for ops whose VJP does not depend on the input values (linear ops).
 * - per_example(g, n, i, out, ld): for parameter input i (no batch dim), write the
 *   per-example gradient: out[b*ld + k] += contribution of example b to d loss/d param[k],
 *   using n->grad (which holds per-example cotangents) and the input values. NULL if the op
 *   does not take parameters in a way that supports it.
 * - example_scale(g, n, scale): loss ops only: scale[b] converts example b's share of the
 *   batch gradient into the gradient of its loss computed alone (mean reduction: batch size).
 */
#ifndef DESCENT_GRAPH_INTERNAL_H
#define DESCENT_GRAPH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "descent/graph.h"
#include "descent/rng.h"
#include "descent/tensor.h"

#define DSC_MAX_INPUTS 8

typedef struct dsc_node dsc_node;

/* Op attributes: small integer and float parameters, plus an optional owned array (class
 * weights, constant data) that the graph frees. */
typedef struct dsc_attr {
    int64_t i[16];
    float f[8];
    float *arr;
    int64_t arr_len;
} dsc_attr;

enum dsc_op_flags {
    DSC_OP_ALIAS = 1 << 0,   /* output shares input 0's memory (value, grad, tangents): reshape */
    DSC_OP_NO_GRAD = 1 << 1, /* output is not differentiable (argmax); no vjp/jvp needed */
    DSC_OP_LOSS = 1 << 2,    /* reduces over the batch: dsc_graph_per_example_grads starts here */
    DSC_OP_RANDOM = 1 << 3,  /* draws random numbers (dropout) */
    DSC_OP_MIXES_BATCH = 1 << 4 /* examples interact in train mode (batch_norm): no per-example */
};

typedef struct dsc_op {
    const char *name;
    dsc_status (*infer)(dsc_graph *g, dsc_node *n);
    void (*forward)(dsc_graph *g, dsc_node *n);
    void (*vjp)(dsc_graph *g, dsc_node *n);
    void (*jvp)(dsc_graph *g, dsc_node *n);
    void (*vjp_rop)(dsc_graph *g, dsc_node *n);
    void (*per_example)(dsc_graph *g, dsc_node *n, int input, float *out, size_t ld);
    void (*example_scale)(dsc_graph *g, dsc_node *n, float *scale);
    unsigned flags;
} dsc_op;

typedef enum dsc_node_kind {
    DSC_NODE_OP = 0,
    DSC_NODE_INPUT,
    DSC_NODE_PARAM,
    DSC_NODE_BUFFER,
    DSC_NODE_CONST
} dsc_node_kind;

struct dsc_node {
    dsc_node_kind kind;
    const dsc_op *op; /* NULL for leaves */
    int n_in;
    dsc_id in[DSC_MAX_INPUTS];
    dsc_shape shape;
    dsc_attr attr;
    char name[64];

    /* Sizes in floats, set by infer for the current batch. */
    int64_t aux_size;     /* kept from forward to backward, per node */
    int64_t scratch_size; /* temporary, shared by all nodes, valid during one kernel call */

    /* Memory (after compile). grad is NULL when no gradient flows here. */
    float *value, *grad, *aux;
    float *tangent, *grad_tangent; /* allocated on the first JVP/HVP */

    int requires_grad; /* a gradient flows to this node */
    int has_batch;     /* dim 0 is the batch (depends on an input) */
    int keep;          /* value must stay readable (dsc_graph_keep) */
    int mixes_batch;   /* set by infer: combines examples (e.g. reduces over dim 0) */
    int segment;       /* checkpoint segment of this node's position, -1 if none */
    int recompute;     /* interior of its segment: value recomputed during backward */
    size_t flat_offset; /* params/buffers: offset in their flat buffer */
    int64_t capacity;   /* floats reserved for value (and grad) at the compiled batch */
    int64_t aux_capacity;
};

struct dsc_graph {
    dsc_node *nodes;
    int n_nodes, cap_nodes;
    dsc_status status;
    char error[512];

    int compiled;
    dsc_id loss;
    int64_t batch, max_batch;
    int training;
    int recomputing; /* set while gradient checkpointing recomputes a segment */
    uint64_t seed;
    uint64_t forward_counter;
    int forward_done;

    /* Flat buffers. */
    float *params, *grads, *buffers;
    float *param_tangent, *param_grad_tangent;
    size_t n_params, n_buffers;
    int n_param_tensors, n_buffer_tensors;

    /* Arena. */
    void *arena;
    size_t arena_bytes;
    float *scratch;
    int64_t scratch_capacity;
    void *tangent_arena;

    float *pe_out; /* during dsc_graph_per_example_grads: [batch][n_params] output */
    int checkpoint_segments; /* requested: 0 off, -1 auto */
    int n_segments;

    /* Problems found by kernels during a pass (forward kernels cannot return a status, e.g.
     * an embedding index out of range): the first one is kept here (dsc_graph_run_error) and
     * dsc_graph_forward / dsc_graph_jvp / dsc_graph_per_example_grads return it. */
    dsc_status run_status;
    char run_error[256];
};

/* Add an op node: checks inputs, copies attr (may be NULL), runs op->infer. */
dsc_id dsc_graph_add_op(dsc_graph *g, const dsc_op *op, int n_in, const dsc_id *in, const dsc_attr *attr);
/* Record a building error on the graph (sticky) and return -1. */
dsc_id dsc_graph_fail(dsc_graph *g, dsc_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Record a problem met by a kernel during a pass (first one wins; call outside parallel
 * regions). The pass finishes; the public entry point then returns `code` with the message. */
void dsc_graph_run_error(dsc_graph *g, dsc_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static inline dsc_node *dsc_in(dsc_graph *g, const dsc_node *n, int i) { return &g->nodes[n->in[i]]; }
static inline int64_t dsc_numel(const dsc_node *n) { return dsc_shape_numel(&n->shape); }

/* Normalize a possibly negative axis for ndim dims; -1 if out of range. */
int dsc_axis(int axis, int ndim);

/* Helpers for broadcasting kernels: strides (in elements) of `in` broadcast to `out`'s shape
 * (0 where broadcast), aligned to out's ndim. */
void dsc_broadcast_strides(const dsc_shape *in, const dsc_shape *out, int64_t *strides);

#endif
