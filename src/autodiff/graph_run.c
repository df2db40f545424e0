/* Running a compiled graph: forward, reverse mode (with gradient checkpointing), forward
 * mode, Hessian-vector products and per-example gradients. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

static dsc_status need_compiled(const dsc_graph *g, const char *what)
{
    if (!g)
        return DSC_ERROR(DSC_ERR_INVALID, "%s: no graph", what);
    if (!g->compiled)
        return DSC_ERROR(DSC_ERR_STATE, "%s: compile the graph first", what);
    return DSC_OK;
}

static int is_alias(const dsc_node *n) { return n->kind == DSC_NODE_OP && (n->op->flags & DSC_OP_ALIAS); }

/* ---- buffers and views ---------------------------------------------------------- */

float *dsc_graph_params(dsc_graph *g, size_t *count)
{
    if (count)
        *count = g->n_params;
    return g->params;
}
float *dsc_graph_grads(dsc_graph *g, size_t *count)
{
    if (count)
        *count = g->n_params;
    return g->grads;
}
float *dsc_graph_buffers(dsc_graph *g, size_t *count)
{
    if (count)
        *count = g->n_buffers;
    return g->buffers;
}
int dsc_graph_param_count(const dsc_graph *g) { return g->n_param_tensors; }
int dsc_graph_buffer_count(const dsc_graph *g) { return g->n_buffer_tensors; }

static dsc_status leaf_info(const dsc_graph *g, dsc_node_kind kind, int idx, const char **name, dsc_shape *shape,
                            size_t *offset)
{
    int k = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const dsc_node *n = &g->nodes[i];
        if (n->kind != kind)
            continue;
        if (k++ == idx) {
            if (name)
                *name = n->name;
            if (shape)
                *shape = n->shape;
            if (offset)
                *offset = n->flat_offset;
            return DSC_OK;
        }
    }
    return DSC_ERROR(DSC_ERR_RANGE, "%s %d does not exist (the graph has %d)",
                     kind == DSC_NODE_PARAM ? "parameter" : "buffer", idx, k);
}

dsc_status dsc_graph_param_info(const dsc_graph *g, int i, const char **name, dsc_shape *shape, size_t *offset)
{
    return leaf_info(g, DSC_NODE_PARAM, i, name, shape, offset);
}
dsc_status dsc_graph_buffer_info(const dsc_graph *g, int i, const char **name, dsc_shape *shape, size_t *offset)
{
    return leaf_info(g, DSC_NODE_BUFFER, i, name, shape, offset);
}

static dsc_tensor view_of(dsc_graph *g, dsc_id id, int which)
{
    dsc_tensor t;
    memset(&t, 0, sizeof t);
    if (!g || id < 0 || id >= g->n_nodes || !g->compiled)
        return t;
    dsc_node *n = &g->nodes[id];
    float *p = which == 0 ? n->value : which == 1 ? n->grad : n->tangent;
    if (!p)
        return t;
    return dsc_tensor_wrap(p, n->shape.ndim, n->shape.dim);
}

dsc_tensor dsc_node_value(dsc_graph *g, dsc_id id) { return view_of(g, id, 0); }
dsc_tensor dsc_node_grad(dsc_graph *g, dsc_id id) { return view_of(g, id, 1); }
dsc_tensor dsc_node_tangent(dsc_graph *g, dsc_id id) { return view_of(g, id, 2); }

dsc_status dsc_graph_set_input(dsc_graph *g, dsc_id input, const float *data, size_t count)
{
    DSC_TRY(need_compiled(g, "set input"));
    if (input < 0 || input >= g->n_nodes || g->nodes[input].kind != DSC_NODE_INPUT)
        return DSC_ERROR(DSC_ERR_INVALID, "set input: node %d is not an input", input);
    dsc_node *n = &g->nodes[input];
    if ((int64_t)count != dsc_numel(n)) {
        char b[96];
        return DSC_ERROR(DSC_ERR_SHAPE, "set input '%s': got %zu values, its shape %s holds %lld", n->name, count,
                         dsc_shape_str(&n->shape, b, sizeof b), (long long)dsc_numel(n));
    }
    memcpy(n->value, data, count * sizeof(float));
    g->forward_done = 0;
    return DSC_OK;
}

void dsc_graph_set_training(dsc_graph *g, int training) { g->training = training ? 1 : 0; }
int dsc_graph_training(const dsc_graph *g) { return g->training; }
void dsc_graph_set_seed(dsc_graph *g, uint64_t seed) { g->seed = seed; }
uint64_t dsc_graph_forward_counter(const dsc_graph *g) { return g->forward_counter; }
void dsc_graph_set_forward_counter(dsc_graph *g, uint64_t c) { g->forward_counter = c; }

/* ---- forward -------------------------------------------------------------------- */

void dsc_graph_run_error(dsc_graph *g, dsc_status code, const char *fmt, ...)
{
    if (g->run_status != DSC_OK)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->run_error, sizeof g->run_error, fmt, ap);
    va_end(ap);
    g->run_status = code;
}

/* Status of the kernels of the last pass (see dsc_graph_run_error). */
static dsc_status run_result(dsc_graph *g)
{
    if (g->run_status == DSC_OK)
        return DSC_OK;
    g->forward_done = 0;
    return DSC_ERROR(g->run_status, "%s", g->run_error);
}

static void run_forward(dsc_graph *g, int with_tangents)
{
    for (int i = 0; i < g->n_nodes; i++) {
        dsc_node *n = &g->nodes[i];
        if (n->kind != DSC_NODE_OP || is_alias(n))
            continue;
        n->op->forward(g, n);
        if (with_tangents && n->op->jvp && !(n->op->flags & DSC_OP_NO_GRAD))
            n->op->jvp(g, n);
    }
}

dsc_status dsc_graph_forward(dsc_graph *g)
{
    DSC_TRY(need_compiled(g, "forward"));
    g->recomputing = 0;
    /* Random ops key their draws on the counter; it advances before the pass so that a
     * checkpointed recompute during backward sees the same value as the forward did. */
    if (g->training)
        g->forward_counter++;
    g->run_status = DSC_OK;
    run_forward(g, 0);
    g->forward_done = 1;
    return run_result(g);
}

float dsc_graph_loss(const dsc_graph *g)
{
    if (!g || !g->compiled || g->loss < 0)
        return NAN;
    return g->nodes[g->loss].value[0];
}

/* ---- reverse mode ------------------------------------------------------------- */

static void zero_grads(dsc_graph *g, int with_tangents, int include_params)
{
    for (int i = 0; i < g->n_nodes; i++) {
        dsc_node *n = &g->nodes[i];
        if (is_alias(n) || n->kind == DSC_NODE_PARAM)
            continue;
        if (n->grad)
            memset(n->grad, 0, (size_t)dsc_numel(n) * sizeof(float));
        if (with_tangents && n->grad_tangent)
            memset(n->grad_tangent, 0, (size_t)dsc_numel(n) * sizeof(float));
    }
    if (include_params)
        memset(g->grads, 0, g->n_params * sizeof(float));
    if (with_tangents && g->param_grad_tangent)
        memset(g->param_grad_tangent, 0, g->n_params * sizeof(float));
}

static void swap_ptr(float **a, float **b)
{
    float *t = *a;
    *a = *b;
    *b = t;
}

/* Swap grad and grad_tangent of n and of each distinct input with a gradient. */
static void swap_grad_buffers(dsc_graph *g, dsc_node *n)
{
    swap_ptr(&n->grad, &n->grad_tangent);
    for (int j = 0; j < n->n_in; j++) {
        int dup = 0;
        for (int k = 0; k < j; k++)
            if (n->in[k] == n->in[j])
                dup = 1;
        dsc_node *x = dsc_in(g, n, j);
        if (!dup && x->grad)
            swap_ptr(&x->grad, &x->grad_tangent);
    }
}

static void node_backward(dsc_graph *g, dsc_node *n, int with_tangents)
{
    if (n->kind != DSC_NODE_OP || !n->requires_grad || is_alias(n) || !n->op->vjp)
        return;
    n->op->vjp(g, n);
    if (g->pe_out) {
        /* Per-example parameter gradients, taken while n's cotangent and its inputs' values
         * are valid (with checkpointing they are overwritten by later segments). */
        for (int j = 0; j < n->n_in; j++) {
            dsc_node *x = dsc_in(g, n, j);
            if (x->kind == DSC_NODE_PARAM)
                n->op->per_example(g, n, j, g->pe_out + x->flat_offset, g->n_params);
        }
    }
    if (with_tangents) {
        swap_grad_buffers(g, n);
        n->op->vjp(g, n);
        swap_grad_buffers(g, n);
        if (n->op->vjp_rop)
            n->op->vjp_rop(g, n);
    }
}

/* Recompute the interior nodes of checkpoint segment s lying in [first, last] and zero
 * their gradients (nothing outside the segment consumes them). */
static void recompute_segment(dsc_graph *g, int s, int first, int last)
{
    g->recomputing = 1;
    for (int i = first; i <= last; i++) {
        dsc_node *n = &g->nodes[i];
        if (n->recompute && n->segment == s) {
            n->op->forward(g, n);
            if (n->grad)
                memset(n->grad, 0, (size_t)dsc_numel(n) * sizeof(float));
        }
    }
    g->recomputing = 0;
}

/* Reverse sweep. With gradient checkpointing the nodes are visited in the same reverse
 * order; on entering the index range of a segment its interior values are recomputed
 * first (values only: tangent buffers are never overlaid). */
static void run_backward(dsc_graph *g, int with_tangents)
{
    dsc_node *L = &g->nodes[g->loss];
    L->grad[0] += 1.0f;
    int i = g->n_nodes - 1;
    while (i >= 0) {
        int s = g->n_segments > 1 ? g->nodes[i].segment : -1;
        if (s < 0) {
            node_backward(g, &g->nodes[i], with_tangents);
            i--;
            continue;
        }
        int first = i;
        for (int k = i; k >= 0; k--) {
            int sk = g->nodes[k].segment;
            if (sk == s)
                first = k;
            else if (sk >= 0)
                break;
        }
        recompute_segment(g, s, first, i);
        for (int k = i; k >= first; k--)
            node_backward(g, &g->nodes[k], with_tangents);
        i = first - 1;
    }
}

static dsc_status backward_common(dsc_graph *g, int zero)
{
    DSC_TRY(need_compiled(g, "backward"));
    if (!g->forward_done)
        return DSC_ERROR(DSC_ERR_STATE, "backward: run forward first (inputs or batch changed since)");
    if (!g->nodes[g->loss].grad)
        return DSC_ERROR(DSC_ERR_STATE, "backward: the loss does not depend on any parameter or input that "
                                        "requires a gradient");
    zero_grads(g, 0, zero);
    run_backward(g, 0);
    return DSC_OK;
}

dsc_status dsc_graph_backward(dsc_graph *g) { return backward_common(g, 1); }
dsc_status dsc_graph_backward_accumulate(dsc_graph *g) { return backward_common(g, 0); }

/* ---- forward mode and HVP ------------------------------------------------------- */

static dsc_status ensure_tangents(dsc_graph *g)
{
    if (g->tangent_arena)
        return DSC_OK;
    int64_t total = 16;
    for (int i = 0; i < g->n_nodes; i++) {
        const dsc_node *n = &g->nodes[i];
        if (n->kind == DSC_NODE_PARAM || is_alias(n))
            continue;
        int64_t c = (dsc_numel(n) + 15) / 16 * 16;
        if (n->kind == DSC_NODE_OP)
            c = n->capacity;
        total += c * (n->grad ? 2 : 1);
    }
    g->tangent_arena = calloc((size_t)total, sizeof(float));
    g->param_tangent = calloc(g->n_params ? g->n_params : 1, sizeof(float));
    g->param_grad_tangent = calloc(g->n_params ? g->n_params : 1, sizeof(float));
    if (!g->tangent_arena || !g->param_tangent || !g->param_grad_tangent)
        return DSC_ERROR(DSC_ERR_NOMEM, "JVP: cannot allocate tangent buffers (%lld floats)", (long long)total);
    float *p = (float *)g->tangent_arena;
    for (int i = 0; i < g->n_nodes; i++) {
        dsc_node *n = &g->nodes[i];
        if (n->kind == DSC_NODE_PARAM) {
            n->tangent = g->param_tangent + n->flat_offset;
            n->grad_tangent = g->param_grad_tangent + n->flat_offset;
            continue;
        }
        if (is_alias(n)) {
            dsc_node *src = &g->nodes[n->in[0]];
            n->tangent = src->tangent;
            n->grad_tangent = n->grad ? src->grad_tangent : NULL;
            continue;
        }
        int64_t c = n->kind == DSC_NODE_OP ? n->capacity : (dsc_numel(n) + 15) / 16 * 16;
        n->tangent = p;
        p += c;
        if (n->grad) {
            n->grad_tangent = p;
            p += c;
        }
    }
    return DSC_OK;
}

dsc_status dsc_graph_set_input_tangent(dsc_graph *g, dsc_id input, const float *data, size_t count)
{
    DSC_TRY(need_compiled(g, "set input tangent"));
    DSC_TRY(ensure_tangents(g));
    if (input < 0 || input >= g->n_nodes || g->nodes[input].kind != DSC_NODE_INPUT)
        return DSC_ERROR(DSC_ERR_INVALID, "set input tangent: node %d is not an input", input);
    dsc_node *n = &g->nodes[input];
    if ((int64_t)count != dsc_numel(n))
        return DSC_ERROR(DSC_ERR_SHAPE, "set input tangent '%s': got %zu values, expected %lld", n->name, count,
                         (long long)dsc_numel(n));
    memcpy(n->tangent, data, count * sizeof(float));
    return DSC_OK;
}

dsc_status dsc_graph_jvp(dsc_graph *g, const float *param_tangent)
{
    DSC_TRY(need_compiled(g, "JVP"));
    DSC_TRY(ensure_tangents(g));
    if (param_tangent)
        memcpy(g->param_tangent, param_tangent, g->n_params * sizeof(float));
    else
        memset(g->param_tangent, 0, g->n_params * sizeof(float));
    g->recomputing = 0;
    if (g->training)
        g->forward_counter++;
    g->run_status = DSC_OK;
    run_forward(g, 1);
    g->forward_done = 1;
    return run_result(g);
}

dsc_status dsc_graph_hvp(dsc_graph *g, const float *v, float *hv)
{
    DSC_TRY(need_compiled(g, "HVP"));
    if (!v || !hv)
        return DSC_ERROR(DSC_ERR_INVALID, "HVP: v and hv must not be NULL");
    if (!g->nodes[g->loss].grad)
        return DSC_ERROR(DSC_ERR_STATE, "HVP: the loss does not depend on any parameter");
    DSC_TRY(ensure_tangents(g));
    DSC_TRY(dsc_graph_jvp(g, v));
    zero_grads(g, 1, 1);
    run_backward(g, 1);
    memcpy(hv, g->param_grad_tangent, g->n_params * sizeof(float));
    return DSC_OK;
}

/* ---- per-example gradients --------------------------------------------------------- */

dsc_status dsc_graph_per_example_grads(dsc_graph *g, float *out)
{
    DSC_TRY(need_compiled(g, "per-example gradients"));
    dsc_node *L = &g->nodes[g->loss];
    if (!L->op || !(L->op->flags & DSC_OP_LOSS) || !L->op->example_scale)
        return DSC_ERROR(DSC_ERR_UNSUPPORTED,
                         "per-example gradients: the loss '%s' must be a loss op reducing over the batch "
                         "(mean or sum)", L->name);
    for (int i = 0; i < g->n_nodes; i++) {
        const dsc_node *n = &g->nodes[i];
        if (n->kind != DSC_NODE_OP || !n->requires_grad)
            continue;
        if (n->mixes_batch && i != g->loss)
            return DSC_ERROR(DSC_ERR_UNSUPPORTED,
                             "per-example gradients: '%s' (%s) combines the examples of the batch "
                             "(it reduces over dimension 0)", n->name, n->op->name);
        if ((n->op->flags & DSC_OP_MIXES_BATCH) && g->training)
            return DSC_ERROR(DSC_ERR_UNSUPPORTED,
                             "per-example gradients: '%s' (%s) mixes the examples of a batch in training mode; "
                             "use eval mode or a per-example normalization (layer_norm)", n->name, n->op->name);
        for (int j = 0; j < n->n_in; j++) {
            const dsc_node *x = dsc_in(g, n, j);
            if (x->kind == DSC_NODE_PARAM && (!n->op->per_example || !n->has_batch))
                return DSC_ERROR(DSC_ERR_UNSUPPORTED,
                                 "per-example gradients: parameter '%s' is used by '%s' (%s), which has no "
                                 "per-example rule",
                                 x->name, n->name, n->op->name);
            if (x->kind == DSC_NODE_OP && !x->has_batch && x->requires_grad)
                return DSC_ERROR(DSC_ERR_UNSUPPORTED,
                                 "per-example gradients: '%s' (%s) transforms a parameter before use; "
                                 "use parameters directly in layers", x->name, x->op->name);
        }
    }
    DSC_TRY(dsc_graph_forward(g));
    /* Backward with parameter gradients switched off (their per-example versions are made
     * below from the per-example cotangents of the ops that use them). */
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].kind == DSC_NODE_PARAM)
            g->nodes[i].grad = NULL;
    zero_grads(g, 0, 0);
    size_t P = g->n_params;
    int64_t B = g->batch;
    memset(out, 0, (size_t)B * P * sizeof(float));
    g->pe_out = out;
    run_backward(g, 0);
    g->pe_out = NULL;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].kind == DSC_NODE_PARAM)
            g->nodes[i].grad = g->grads + g->nodes[i].flat_offset;
    DSC_TRY(run_result(g));
    float *scale = g->scratch_capacity >= B ? g->scratch : NULL;
    float stack_scale[256];
    float *heap = NULL;
    if (!scale) {
        if (B <= 256)
            scale = stack_scale;
        else if (!(scale = heap = malloc((size_t)B * sizeof(float))))
            return DSC_ERROR(DSC_ERR_NOMEM, "per-example gradients: scale buffer");
    }
    L->op->example_scale(g, L, scale);
    for (int64_t b = 0; b < B; b++)
        for (size_t k = 0; k < P; k++)
            out[(size_t)b * P + k] *= scale[b];
    free(heap);
    return DSC_OK;
}

/* ---- diagnostics ----------------------------------------------------------------- */

static int has_nonfinite(const float *p, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(p[i]))
            return 1;
    return 0;
}

dsc_id dsc_graph_find_nonfinite(const dsc_graph *g, int in_grads)
{
    if (!g || !g->compiled)
        return -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const dsc_node *n = &g->nodes[i];
        const float *p = in_grads ? n->grad : n->value;
        if (!p || is_alias(n))
            continue;
        if (n->recompute)
            continue; /* overwritten by later segments */
        if (has_nonfinite(p, dsc_numel(n)))
            return i;
    }
    return -1;
}
