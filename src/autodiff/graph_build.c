/* Building graphs: leaves, op nodes, sticky errors, names and queries. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

dsc_graph *dsc_graph_new(void)
{
    dsc_graph *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->loss = -1;
    g->training = 1;
    return g;
}

void dsc_graph_free(dsc_graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n_nodes; i++)
        free(g->nodes[i].attr.arr);
    free(g->nodes);
    free(g->params);
    free(g->grads);
    free(g->buffers);
    free(g->param_tangent);
    free(g->param_grad_tangent);
    free(g->arena);
    free(g->tangent_arena);
    free(g);
}

dsc_status dsc_graph_status(const dsc_graph *g) { return g ? g->status : DSC_ERR_INVALID; }
const char *dsc_graph_error(const dsc_graph *g) { return g ? g->error : "no graph"; }

dsc_id dsc_graph_fail(dsc_graph *g, dsc_status code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (g->status == DSC_OK) {
        g->status = code;
        snprintf(g->error, sizeof g->error, "%s", msg);
    }
    dsc_error_at(code, __FILE__, __LINE__, "%s", g->error);
    return -1;
}

static dsc_id new_node(dsc_graph *g, dsc_node_kind kind, const char *name)
{
    if (g->compiled)
        return dsc_graph_fail(g, DSC_ERR_STATE, "cannot add nodes to a compiled graph");
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? 2 * g->cap_nodes : 64;
        dsc_node *nn = realloc(g->nodes, (size_t)cap * sizeof *nn);
        if (!nn)
            return dsc_graph_fail(g, DSC_ERR_NOMEM, "cannot grow the graph to %d nodes", cap);
        g->nodes = nn;
        g->cap_nodes = cap;
    }
    dsc_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->segment = -1;
    if (name)
        snprintf(n->name, sizeof n->name, "%s", name);
    return g->n_nodes++;
}

static dsc_id new_leaf(dsc_graph *g, dsc_node_kind kind, const char *what, const char *name, int ndim,
                       const int64_t *shape)
{
    if (g->status != DSC_OK)
        return -1;
    if (ndim < 0 || ndim > DSC_MAX_DIMS || (ndim > 0 && !shape))
        return dsc_graph_fail(g, DSC_ERR_SHAPE, "%s '%s': %d dimensions (1..%d supported)", what,
                              name ? name : "", ndim, DSC_MAX_DIMS);
    dsc_shape s = dsc_shape_make(ndim, shape);
    for (int i = 0; i < ndim; i++)
        if (s.dim[i] <= 0)
            return dsc_graph_fail(g, DSC_ERR_SHAPE, "%s '%s': dimension %d has size %lld (must be > 0)", what,
                                  name ? name : "", i, (long long)s.dim[i]);
    if (dsc_shape_check(&s) != DSC_OK)
        return dsc_graph_fail(g, DSC_ERR_SHAPE, "%s '%s': %s", what, name ? name : "", dsc_last_error());
    if (name && dsc_graph_find(g, name) >= 0)
        return dsc_graph_fail(g, DSC_ERR_INVALID, "%s '%s': the name is already used", what, name);
    dsc_id id = new_node(g, kind, name);
    if (id < 0)
        return -1;
    g->nodes[id].shape = s;
    return id;
}

dsc_id dsc_input(dsc_graph *g, const char *name, int ndim, const int64_t *shape)
{
    if (ndim < 1 && g->status == DSC_OK)
        return dsc_graph_fail(g, DSC_ERR_SHAPE, "input '%s' needs a batch dimension", name ? name : "");
    dsc_id id = new_leaf(g, DSC_NODE_INPUT, "input", name, ndim, shape);
    if (id >= 0)
        g->nodes[id].has_batch = 1;
    return id;
}

dsc_status dsc_input_requires_grad(dsc_graph *g, dsc_id input, int requires_grad)
{
    if (input < 0 || input >= g->n_nodes || g->nodes[input].kind != DSC_NODE_INPUT)
        return DSC_ERROR(DSC_ERR_INVALID, "node %d is not an input", input);
    if (g->compiled)
        return DSC_ERROR(DSC_ERR_STATE, "set requires_grad on inputs before compiling the graph");
    g->nodes[input].requires_grad = requires_grad ? 1 : 0;
    return DSC_OK;
}

dsc_id dsc_param(dsc_graph *g, const char *name, int ndim, const int64_t *shape)
{
    dsc_id id = new_leaf(g, DSC_NODE_PARAM, "parameter", name, ndim, shape);
    if (id >= 0)
        g->n_param_tensors++;
    return id;
}

dsc_id dsc_buffer(dsc_graph *g, const char *name, int ndim, const int64_t *shape)
{
    dsc_id id = new_leaf(g, DSC_NODE_BUFFER, "buffer", name, ndim, shape);
    if (id >= 0)
        g->n_buffer_tensors++;
    return id;
}

dsc_id dsc_constant(dsc_graph *g, int ndim, const int64_t *shape, const float *data)
{
    dsc_id id = new_leaf(g, DSC_NODE_CONST, "constant", NULL, ndim, shape);
    if (id < 0)
        return -1;
    dsc_node *n = &g->nodes[id];
    int64_t k = dsc_numel(n);
    n->attr.arr = malloc((size_t)k * sizeof(float));
    if (!n->attr.arr)
        return dsc_graph_fail(g, DSC_ERR_NOMEM, "constant of %lld floats", (long long)k);
    n->attr.arr_len = k;
    if (data)
        memcpy(n->attr.arr, data, (size_t)k * sizeof(float));
    else
        memset(n->attr.arr, 0, (size_t)k * sizeof(float));
    snprintf(n->name, sizeof n->name, "const%d", id);
    return id;
}

dsc_id dsc_scalar(dsc_graph *g, float value) { return dsc_constant(g, 0, NULL, &value); }

dsc_id dsc_graph_add_op(dsc_graph *g, const dsc_op *op, int n_in, const dsc_id *in, const dsc_attr *attr)
{
    if (g->status != DSC_OK)
        return -1;
    if (n_in < 0 || n_in > DSC_MAX_INPUTS)
        return dsc_graph_fail(g, DSC_ERR_INVALID, "%s: %d inputs (at most %d)", op->name, n_in, DSC_MAX_INPUTS);
    for (int i = 0; i < n_in; i++)
        if (in[i] < 0 || in[i] >= g->n_nodes)
            return dsc_graph_fail(g, DSC_ERR_INVALID, "%s: input %d is not a node of this graph (id %d)", op->name,
                                  i, in[i]);
    dsc_id id = new_node(g, DSC_NODE_OP, NULL);
    if (id < 0)
        return -1;
    dsc_node *n = &g->nodes[id];
    n->op = op;
    n->n_in = n_in;
    for (int i = 0; i < n_in; i++) {
        n->in[i] = in[i];
        if (g->nodes[in[i]].has_batch)
            n->has_batch = 1;
    }
    if (attr) {
        n->attr = *attr;
        n->attr.arr = NULL;
        n->attr.arr_len = 0;
        if (attr->arr && attr->arr_len > 0) {
            n->attr.arr = malloc((size_t)attr->arr_len * sizeof(float));
            if (!n->attr.arr) {
                g->n_nodes--;
                return dsc_graph_fail(g, DSC_ERR_NOMEM, "%s: attribute array", op->name);
            }
            memcpy(n->attr.arr, attr->arr, (size_t)attr->arr_len * sizeof(float));
            n->attr.arr_len = attr->arr_len;
        }
    }
    snprintf(n->name, sizeof n->name, "%s%d", op->name, id);
    dsc_clear_error();
    dsc_status s = op->infer(g, n);
    if (s == DSC_OK)
        s = dsc_shape_check(&n->shape);
    if (s != DSC_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", dsc_last_error());
        free(n->attr.arr);
        g->n_nodes--;
        return dsc_graph_fail(g, s, "%s", msg[0] ? msg : op->name);
    }
    return id;
}

int dsc_axis(int axis, int ndim)
{
    if (axis < 0)
        axis += ndim;
    return (axis < 0 || axis >= ndim) ? -1 : axis;
}

void dsc_broadcast_strides(const dsc_shape *in, const dsc_shape *out, int64_t *strides)
{
    int64_t st = 1;
    for (int i = out->ndim - 1; i >= 0; i--) {
        int j = in->ndim - out->ndim + i;
        if (j < 0) {
            strides[i] = 0;
            continue;
        }
        strides[i] = in->dim[j] == 1 ? 0 : st;
        st *= in->dim[j];
    }
}

static int valid_id(const dsc_graph *g, dsc_id id) { return g && id >= 0 && id < g->n_nodes; }

dsc_shape dsc_node_shape(const dsc_graph *g, dsc_id id)
{
    dsc_shape s;
    memset(&s, 0, sizeof s);
    return valid_id(g, id) ? g->nodes[id].shape : s;
}

const char *dsc_node_name(const dsc_graph *g, dsc_id id) { return valid_id(g, id) ? g->nodes[id].name : ""; }

const char *dsc_node_op_name(const dsc_graph *g, dsc_id id)
{
    if (!valid_id(g, id))
        return "";
    const dsc_node *n = &g->nodes[id];
    switch (n->kind) {
    case DSC_NODE_OP: return n->op->name;
    case DSC_NODE_INPUT: return "input";
    case DSC_NODE_PARAM: return "param";
    case DSC_NODE_BUFFER: return "buffer";
    case DSC_NODE_CONST: return "constant";
    }
    return "";
}

int dsc_graph_node_count(const dsc_graph *g) { return g ? g->n_nodes : 0; }

dsc_status dsc_node_set_name(dsc_graph *g, dsc_id id, const char *name)
{
    if (!valid_id(g, id) || !name)
        return DSC_ERROR(DSC_ERR_INVALID, "set name: invalid node %d", id);
    dsc_id other = dsc_graph_find(g, name);
    if (other >= 0 && other != id)
        return DSC_ERROR(DSC_ERR_INVALID, "set name: '%s' is already used by node %d", name, other);
    snprintf(g->nodes[id].name, sizeof g->nodes[id].name, "%s", name);
    return DSC_OK;
}

dsc_id dsc_graph_find(const dsc_graph *g, const char *name)
{
    if (!g || !name)
        return -1;
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].name, name) == 0)
            return i;
    return -1;
}

dsc_status dsc_graph_keep(dsc_graph *g, dsc_id id)
{
    if (!valid_id(g, id))
        return DSC_ERROR(DSC_ERR_INVALID, "keep: invalid node %d", id);
    if (g->compiled)
        return DSC_ERROR(DSC_ERR_STATE, "keep: call before compiling the graph");
    g->nodes[id].keep = 1;
    return DSC_OK;
}

dsc_status dsc_graph_set_checkpoint_segments(dsc_graph *g, int segments)
{
    if (g->compiled)
        return DSC_ERROR(DSC_ERR_STATE, "checkpoint segments: call before compiling the graph");
    if (segments < -1)
        return DSC_ERROR(DSC_ERR_RANGE, "checkpoint segments: %d (use 0 = off, -1 = auto, or a count)", segments);
    g->checkpoint_segments = segments;
    return DSC_OK;
}
