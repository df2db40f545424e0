/* Compiling a graph: which nodes need gradients, which activations gradient checkpointing
 * may overwrite, and one arena holding every value, gradient and workspace. */
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

#define ALIGN_FLOATS 16 /* 64-byte alignment of every buffer */

static int64_t round_up(int64_t n) { return (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS; }

/* The node whose memory an alias chain (reshape of reshape ...) uses. */
static int alias_root(const dsc_graph *g, int id)
{
    while (g->nodes[id].kind == DSC_NODE_OP && (g->nodes[id].op->flags & DSC_OP_ALIAS))
        id = g->nodes[id].in[0];
    return id;
}

/* Assign checkpoint segments: op nodes with a batch dimension are split into S runs of
 * consecutive nodes. A node's activation is "interior" (recomputed, not stored) when every
 * consumer of it (and of its aliases) lies in the same segment and it is not the last node
 * of the segment, the loss, or kept. Interior memory of all segments overlays one region. */
static void assign_segments(dsc_graph *g, int *interior)
{
    int n_act = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].kind == DSC_NODE_OP && g->nodes[i].has_batch)
            n_act++;
    int S = g->checkpoint_segments;
    if (S == -1) {
        S = 1;
        while ((S + 1) * (S + 1) <= n_act)
            S++;
    }
    if (S > n_act)
        S = n_act;
    g->n_segments = S;
    if (S <= 1 && g->checkpoint_segments == 0)
        return;
    if (S < 1)
        return;
    int per = (n_act + S - 1) / S, k = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        dsc_node *n = &g->nodes[i];
        if (n->kind == DSC_NODE_OP && n->has_batch)
            n->segment = k++ / per;
    }
    /* Consumers outside the segment force storage. */
    int *stored = calloc((size_t)g->n_nodes, sizeof *stored);
    int *last = calloc((size_t)(S + 1), sizeof *last);
    if (!stored || !last) {
        free(stored);
        free(last);
        g->n_segments = 0;
        return;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const dsc_node *n = &g->nodes[i];
        if (n->segment >= 0)
            last[n->segment] = i;
        for (int j = 0; j < n->n_in; j++) {
            int r = alias_root(g, n->in[j]);
            if (g->nodes[r].segment != n->segment)
                stored[r] = 1;
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        dsc_node *n = &g->nodes[i];
        int r = alias_root(g, i);
        if (n->keep || i == g->loss)
            stored[r] = 1;
    }
    for (int s = 0; s < S; s++)
        stored[alias_root(g, last[s])] = 1;
    for (int i = 0; i < g->n_nodes; i++) {
        const dsc_node *n = &g->nodes[i];
        interior[i] = n->segment >= 0 && !stored[alias_root(g, i)] && !(n->op->flags & DSC_OP_ALIAS);
    }
    free(stored);
    free(last);
}

static dsc_status reinfer(dsc_graph *g, int64_t batch)
{
    for (int i = 0; i < g->n_nodes; i++) {
        dsc_node *n = &g->nodes[i];
        if (n->kind == DSC_NODE_INPUT) {
            n->shape.dim[0] = batch;
        } else if (n->kind == DSC_NODE_OP && n->has_batch) {
            dsc_status s = n->op->infer(g, n);
            if (s != DSC_OK)
                return s;
        }
    }
    return DSC_OK;
}

dsc_status dsc_graph_compile(dsc_graph *g, dsc_id loss)
{
    if (!g)
        return DSC_ERROR(DSC_ERR_INVALID, "compile: no graph");
    if (g->status != DSC_OK)
        return DSC_ERROR(g->status, "%s", g->error);
    if (g->compiled)
        return DSC_ERROR(DSC_ERR_STATE, "compile: the graph is already compiled");
    if (loss < 0 || loss >= g->n_nodes)
        return DSC_ERROR(DSC_ERR_INVALID, "compile: loss node %d does not exist", loss);
    if (dsc_numel(&g->nodes[loss]) != 1)
        return DSC_ERROR(DSC_ERR_SHAPE, "compile: the loss '%s' must be a scalar (it has %lld elements)",
                         g->nodes[loss].name, (long long)dsc_numel(&g->nodes[loss]));
    g->loss = loss;

    /* Batch size: dim 0 of the inputs, which must agree. */
    g->max_batch = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const dsc_node *n = &g->nodes[i];
        if (n->kind != DSC_NODE_INPUT)
            continue;
        if (g->max_batch && n->shape.dim[0] != g->max_batch)
            return DSC_ERROR(DSC_ERR_SHAPE, "compile: input '%s' has batch %lld but another input has %lld",
                             n->name, (long long)n->shape.dim[0], (long long)g->max_batch);
        g->max_batch = n->shape.dim[0];
    }
    g->batch = g->max_batch;

    /* Which nodes a gradient flows to: descendants of params / grad-requiring inputs that
     * are also ancestors of the loss. */
    char *anc = calloc((size_t)g->n_nodes, 1);
    int *interior = calloc((size_t)g->n_nodes, sizeof *interior);
    if (!anc || !interior) {
        free(anc);
        free(interior);
        return DSC_ERROR(DSC_ERR_NOMEM, "compile: bookkeeping for %d nodes", g->n_nodes);
    }
    anc[loss] = 1;
    for (int i = loss; i >= 0; i--)
        if (anc[i])
            for (int j = 0; j < g->nodes[i].n_in; j++)
                anc[g->nodes[i].in[j]] = 1;
    for (int i = 0; i < g->n_nodes; i++) {
        dsc_node *n = &g->nodes[i];
        if (n->kind == DSC_NODE_PARAM)
            n->requires_grad = 1;
        else if (n->kind == DSC_NODE_OP && !(n->op->flags & DSC_OP_NO_GRAD)) {
            n->requires_grad = 0;
            for (int j = 0; j < n->n_in; j++)
                if (g->nodes[n->in[j]].requires_grad)
                    n->requires_grad = 1;
        }
        if (!anc[i] && n->kind == DSC_NODE_OP)
            n->requires_grad = 0;
    }
    free(anc);

    /* Flat parameter and buffer storage. */
    g->n_params = g->n_buffers = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        dsc_node *n = &g->nodes[i];
        if (n->kind == DSC_NODE_PARAM) {
            n->flat_offset = g->n_params;
            g->n_params += (size_t)dsc_numel(n);
        } else if (n->kind == DSC_NODE_BUFFER) {
            n->flat_offset = g->n_buffers;
            g->n_buffers += (size_t)dsc_numel(n);
        }
    }
    g->params = calloc(g->n_params ? g->n_params : 1, sizeof(float));
    g->grads = calloc(g->n_params ? g->n_params : 1, sizeof(float));
    g->buffers = calloc(g->n_buffers ? g->n_buffers : 1, sizeof(float));
    if (!g->params || !g->grads || !g->buffers) {
        free(interior);
        return DSC_ERROR(DSC_ERR_NOMEM, "compile: %zu parameters", g->n_params);
    }

    if (g->checkpoint_segments != 0)
        assign_segments(g, interior);

    /* Arena: stored values/grads/aux first, then one overlay region shared by the interior
     * nodes of all checkpoint segments, then the scratch workspace. */
    int64_t stored = 0, scratch = 0;
    int64_t *seg_size = calloc((size_t)(g->n_segments + 1), sizeof *seg_size);
    if (!seg_size) {
        free(interior);
        return DSC_ERROR(DSC_ERR_NOMEM, "compile: segments");
    }
    for (int i = 0; i < g->n_nodes; i++) {
        dsc_node *n = &g->nodes[i];
        if (n->kind == DSC_NODE_PARAM || n->kind == DSC_NODE_BUFFER)
            continue;
        if (n->kind == DSC_NODE_OP && (n->op->flags & DSC_OP_ALIAS)) {
            if (n->aux_size || n->scratch_size) {
                free(interior);
                free(seg_size);
                return DSC_ERROR(DSC_ERR_INVALID, "compile: alias op %s uses workspace", n->op->name);
            }
            continue;
        }
        n->capacity = round_up(dsc_numel(n));
        n->aux_capacity = round_up(n->aux_size);
        int64_t need = n->capacity * (n->requires_grad ? 2 : 1) + n->aux_capacity;
        if (interior[i]) {
            seg_size[n->segment] += need;
        } else {
            stored += need;
        }
        if (n->scratch_size > scratch)
            scratch = n->scratch_size;
    }
    int64_t overlay = 0;
    for (int s = 0; s < g->n_segments; s++)
        if (seg_size[s] > overlay)
            overlay = seg_size[s];
    free(seg_size);
    scratch = round_up(scratch);
    int64_t total = stored + overlay + scratch + ALIGN_FLOATS;
    g->arena_bytes = (size_t)total * sizeof(float);
    g->arena = calloc((size_t)total, sizeof(float));
    if (!g->arena) {
        free(interior);
        return DSC_ERROR(DSC_ERR_NOMEM, "compile: cannot allocate %zu bytes for activations", g->arena_bytes);
    }
    float *base = (float *)(((uintptr_t)g->arena + 63) & ~(uintptr_t)63);
    float *p_stored = base, *p_overlay0 = base + stored;
    int cur_seg = -1;
    float *p_overlay = p_overlay0;
    for (int i = 0; i < g->n_nodes; i++) {
        dsc_node *n = &g->nodes[i];
        if (n->kind == DSC_NODE_PARAM) {
            n->value = g->params + n->flat_offset;
            n->grad = g->grads + n->flat_offset;
            continue;
        }
        if (n->kind == DSC_NODE_BUFFER) {
            n->value = g->buffers + n->flat_offset;
            continue;
        }
        if (n->kind == DSC_NODE_OP && (n->op->flags & DSC_OP_ALIAS)) {
            dsc_node *src = &g->nodes[n->in[0]];
            n->value = src->value;
            n->grad = n->requires_grad ? src->grad : NULL;
            if (n->requires_grad && !src->grad) {
                free(interior);
                return DSC_ERROR(DSC_ERR_INVALID, "compile: alias '%s' needs a gradient its source lacks", n->name);
            }
            continue;
        }
        float **pp = &p_stored;
        n->recompute = interior[i];
        if (interior[i]) {
            if (n->segment != cur_seg) {
                cur_seg = n->segment;
                p_overlay = p_overlay0;
            }
            pp = &p_overlay;
        }
        n->value = *pp;
        *pp += n->capacity;
        n->grad = NULL;
        if (n->requires_grad) {
            n->grad = *pp;
            *pp += n->capacity;
        }
        n->aux = n->aux_capacity ? *pp : NULL;
        *pp += n->aux_capacity;
        if (n->kind == DSC_NODE_CONST)
            memcpy(n->value, n->attr.arr, (size_t)dsc_numel(n) * sizeof(float));
    }
    g->scratch = p_overlay0 + overlay;
    g->scratch_capacity = scratch;
    free(interior);
    g->compiled = 1;
    return DSC_OK;
}

dsc_status dsc_graph_set_batch(dsc_graph *g, int64_t batch)
{
    if (!g->compiled)
        return DSC_ERROR(DSC_ERR_STATE, "set batch: compile the graph first");
    if (batch < 1 || batch > g->max_batch)
        return DSC_ERROR(DSC_ERR_RANGE, "set batch: %lld is outside 1..%lld (the compiled batch size)",
                         (long long)batch, (long long)g->max_batch);
    if (batch == g->batch)
        return DSC_OK;
    DSC_TRY(reinfer(g, batch));
    for (int i = 0; i < g->n_nodes; i++) {
        const dsc_node *n = &g->nodes[i];
        if (n->kind == DSC_NODE_OP && !(n->op->flags & DSC_OP_ALIAS) &&
            (dsc_numel(n) > n->capacity || n->aux_size > n->aux_capacity || n->scratch_size > g->scratch_capacity))
            return DSC_ERROR(DSC_ERR_INVALID, "set batch: node '%s' needs more memory at batch %lld than planned",
                             n->name, (long long)batch);
    }
    g->batch = batch;
    g->forward_done = 0;
    return DSC_OK;
}

int64_t dsc_graph_batch(const dsc_graph *g) { return g->batch; }
size_t dsc_graph_memory_bytes(const dsc_graph *g) { return g->arena_bytes; }
