/* Finite-difference checks of VJP, JVP and HVP; see include/descent/gradcheck.h. */
#include "descent/gradcheck.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autodiff/graph_internal.h"
#include "descent/rng.h"

dsc_gradcheck_opts dsc_gradcheck_defaults(void)
{
    dsc_gradcheck_opts o = {1e-2f, 3, 1234, 1, 1, 1e-3f};
    return o;
}

/* The perturbed variables: parameters, then inputs that require gradients. */
typedef struct var_set {
    int n;
    float *ptr[64];
    int64_t len[64];
    int64_t total;
} var_set;

static void collect(dsc_graph *g, var_set *vs)
{
    vs->n = 0;
    vs->total = 0;
    if (g->n_params) {
        vs->ptr[vs->n] = g->params;
        vs->len[vs->n++] = (int64_t)g->n_params;
        vs->total += (int64_t)g->n_params;
    }
    for (int i = 0; i < g->n_nodes && vs->n < 64; i++) {
        dsc_node *n = &g->nodes[i];
        if (n->kind == DSC_NODE_INPUT && n->requires_grad) {
            vs->ptr[vs->n] = n->value;
            vs->len[vs->n++] = dsc_numel(n);
            vs->total += dsc_numel(n);
        }
    }
}

static void axpy_vars(var_set *vs, float a, const float *v)
{
    int64_t o = 0;
    for (int k = 0; k < vs->n; k++)
        for (int64_t i = 0; i < vs->len[k]; i++)
            vs->ptr[k][i] += a * v[o++];
}

static void save_vars(var_set *vs, float *dst)
{
    int64_t o = 0;
    for (int k = 0; k < vs->n; k++) {
        memcpy(dst + o, vs->ptr[k], (size_t)vs->len[k] * sizeof(float));
        o += vs->len[k];
    }
}

static void load_vars(var_set *vs, const float *src)
{
    int64_t o = 0;
    for (int k = 0; k < vs->n; k++) {
        memcpy(vs->ptr[k], src + o, (size_t)vs->len[k] * sizeof(float));
        o += vs->len[k];
    }
}

/* Gradient of L w.r.t. the variables, concatenated. */
static dsc_status grad_vars(dsc_graph *g, float *out)
{
    DSC_TRY(dsc_graph_backward(g));
    int64_t o = 0;
    if (g->n_params) {
        memcpy(out, g->grads, g->n_params * sizeof(float));
        o = (int64_t)g->n_params;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        dsc_node *n = &g->nodes[i];
        if (n->kind == DSC_NODE_INPUT && n->requires_grad) {
            memcpy(out + o, n->grad, (size_t)dsc_numel(n) * sizeof(float));
            o += dsc_numel(n);
        }
    }
    return DSC_OK;
}

static double dot(const float *a, const float *b, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

static double rel(double a, double b, double floor)
{
    double d = fabs(b) > floor ? fabs(b) : floor;
    return fabs(a - b) / d;
}

static dsc_status forward_at(dsc_graph *g, uint64_t counter)
{
    g->forward_counter = counter;
    return dsc_graph_forward(g);
}

dsc_status dsc_gradcheck(dsc_graph *g, const dsc_gradcheck_opts *opts_in, dsc_gradcheck_result *res)
{
    dsc_gradcheck_opts o = opts_in ? *opts_in : dsc_gradcheck_defaults();
    memset(res, 0, sizeof *res);
    res->worst_node = -1;
    if (!g || !g->compiled)
        return DSC_ERROR(DSC_ERR_STATE, "gradcheck: compile the graph first");
    var_set vs;
    collect(g, &vs);
    if (vs.total == 0)
        return DSC_ERROR(DSC_ERR_INVALID, "gradcheck: nothing to differentiate");
    int64_t T = vs.total;
    int64_t nodes_total = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].kind == DSC_NODE_OP)
            nodes_total += dsc_numel(&g->nodes[i]);
    float *x0 = malloc((size_t)T * sizeof(float)), *v = malloc((size_t)T * sizeof(float));
    float *gr = malloc((size_t)T * sizeof(float)), *gp = malloc((size_t)T * sizeof(float));
    float *gm = malloc((size_t)T * sizeof(float)), *hv = malloc((size_t)T * sizeof(float));
    float *u = malloc((size_t)T * sizeof(float)), *hu = malloc((size_t)T * sizeof(float));
    float *vp = malloc((size_t)(nodes_total + 1) * sizeof(float));
    float *tang = malloc((size_t)(nodes_total + 1) * sizeof(float));
    dsc_status st = DSC_OK;
    if (!x0 || !v || !gr || !gp || !gm || !hv || !u || !hu || !vp || !tang) {
        st = DSC_ERROR(DSC_ERR_NOMEM, "gradcheck: buffers");
        goto done;
    }
    save_vars(&vs, x0);
    uint64_t c0 = g->forward_counter;
    dsc_rng rng = dsc_rng_seed(o.seed);
    for (int d = 0; d < o.directions; d++) {
        dsc_rng_fill_normal(&rng, v, (size_t)T, 0.0f, 1.0f);
        double nv = sqrt(dot(v, v, T));
        for (int64_t i = 0; i < T; i++)
            v[i] = (float)(v[i] / nv);
        /* Gradient at x0. */
        if ((st = forward_at(g, c0)) != DSC_OK || (st = grad_vars(g, gr)) != DSC_OK)
            goto done;
        double dd = dot(gr, v, T);
        /* Loss and node values at x0 +- eps v. */
        axpy_vars(&vs, o.eps, v);
        if ((st = forward_at(g, c0)) != DSC_OK)
            goto done;
        double Lp = dsc_graph_loss(g);
        int64_t off = 0;
        for (int i = 0; i < g->n_nodes; i++) {
            dsc_node *n = &g->nodes[i];
            if (n->kind != DSC_NODE_OP)
                continue;
            memcpy(vp + off, n->value, (size_t)dsc_numel(n) * sizeof(float));
            off += dsc_numel(n);
        }
        if (o.check_hvp && (st = grad_vars(g, gp)) != DSC_OK)
            goto done;
        axpy_vars(&vs, -2.0f * o.eps, v);
        if ((st = forward_at(g, c0)) != DSC_OK)
            goto done;
        double Lm = dsc_graph_loss(g);
        off = 0;
        for (int i = 0; i < g->n_nodes; i++) {
            dsc_node *n = &g->nodes[i];
            if (n->kind != DSC_NODE_OP)
                continue;
            for (int64_t k = 0; k < dsc_numel(n); k++)
                vp[off + k] = (vp[off + k] - n->value[k]) / (2.0f * o.eps);
            off += dsc_numel(n);
        }
        if (o.check_hvp && (st = grad_vars(g, gm)) != DSC_OK)
            goto done;
        load_vars(&vs, x0);
        double fd = (Lp - Lm) / (2.0 * o.eps);
        double e = rel(dd, fd, o.floor);
        if (e > res->vjp_err)
            res->vjp_err = e;

        if (o.check_jvp) {
            /* Split v into the parameter part and the input parts. */
            int64_t p = 0;
            if (g->n_params)
                p = (int64_t)g->n_params;
            for (int i = 0; i < g->n_nodes; i++) {
                dsc_node *n = &g->nodes[i];
                if (n->kind == DSC_NODE_INPUT && n->requires_grad) {
                    if ((st = dsc_graph_set_input_tangent(g, i, v + p, (size_t)dsc_numel(n))) != DSC_OK)
                        goto done;
                    p += dsc_numel(n);
                }
            }
            g->forward_counter = c0;
            if ((st = dsc_graph_jvp(g, g->n_params ? v : NULL)) != DSC_OK)
                goto done;
            off = 0;
            for (int i = 0; i < g->n_nodes; i++) {
                dsc_node *n = &g->nodes[i];
                if (n->kind != DSC_NODE_OP)
                    continue;
                int64_t m = dsc_numel(n);
                /* Recomputed (checkpointed) nodes hold a later segment's values after a
                 * full forward, so their finite differences cannot be read here. */
                if (!(n->op->flags & DSC_OP_NO_GRAD) && !n->recompute) {
                    double num = 0, den = 0;
                    for (int64_t k = 0; k < m; k++) {
                        double df = (double)n->tangent[k] - vp[off + k];
                        num += df * df;
                        den += (double)vp[off + k] * vp[off + k];
                    }
                    double en = sqrt(num) / fmax(sqrt(den), o.floor);
                    if (en > res->jvp_err) {
                        res->jvp_err = en;
                        res->worst_node = i;
                    }
                }
                off += m;
            }
            double tl = g->nodes[g->loss].tangent[0];
            e = rel(tl, dd, o.floor * 1e-2);
            if (e > res->jvp_loss_err)
                res->jvp_loss_err = e;
            /* Reset input tangents. */
            for (int i = 0; i < g->n_nodes; i++) {
                dsc_node *n = &g->nodes[i];
                if (n->kind == DSC_NODE_INPUT && n->tangent)
                    memset(n->tangent, 0, (size_t)dsc_numel(n) * sizeof(float));
            }
        }
        if (o.check_hvp && g->n_params) {
            int64_t P = (int64_t)g->n_params;
            /* HVP is over parameters only: use the parameter part of v, normalized, and
             * compare with the parameter part of the gradient differences taken along the
             * same direction. */
            float *vpar = u;
            memcpy(vpar, v, (size_t)P * sizeof(float));
            for (int64_t i = P; i < T; i++)
                v[i] = 0.0f;
            double np_ = sqrt(dot(vpar, vpar, P));
            if (np_ > 0) {
                for (int64_t i = 0; i < P; i++)
                    v[i] = (float)(vpar[i] / np_);
                axpy_vars(&vs, o.eps, v);
                if ((st = forward_at(g, c0)) != DSC_OK || (st = grad_vars(g, gp)) != DSC_OK)
                    goto done;
                axpy_vars(&vs, -2.0f * o.eps, v);
                if ((st = forward_at(g, c0)) != DSC_OK || (st = grad_vars(g, gm)) != DSC_OK)
                    goto done;
                load_vars(&vs, x0);
                g->forward_counter = c0;
                if ((st = dsc_graph_hvp(g, v, hv)) != DSC_OK)
                    goto done;
                double num = 0, den = 0;
                for (int64_t i = 0; i < P; i++) {
                    double f = ((double)gp[i] - gm[i]) / (2.0 * o.eps);
                    num += (hv[i] - f) * (hv[i] - f);
                    den += f * f;
                }
                e = sqrt(num) / fmax(sqrt(den), o.floor);
                if (e > res->hvp_err)
                    res->hvp_err = e;
                /* Symmetry: u'Hv = v'Hu for a second random u. */
                dsc_rng_fill_normal(&rng, u, (size_t)P, 0.0f, 1.0f);
                g->forward_counter = c0;
                if ((st = dsc_graph_hvp(g, u, hu)) != DSC_OK)
                    goto done;
                double a = dot(u, hv, P), b = dot(v, hu, P);
                e = fabs(a - b) / fmax(fmax(fabs(a), fabs(b)), o.floor);
                if (e > res->hvp_sym_err)
                    res->hvp_sym_err = e;
            }
        }
    }
    load_vars(&vs, x0);
    g->forward_counter = c0;
done:
    free(x0);
    free(v);
    free(gr);
    free(gp);
    free(gm);
    free(hv);
    free(u);
    free(hu);
    free(vp);
    free(tang);
    return st;
}
