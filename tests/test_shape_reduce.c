/* Reductions (max, min, argmax, logsumexp, var, sum/mean determinism) and shape ops
 * (reshape, flatten, permute, transpose, slice, concat, split, expand): finite-difference
 * checks of VJP/JVP/HVP, exact values, reshape aliasing with set_batch and checkpointing,
 * shape errors. Reference values are hand-computed (and agree with torch 1.13). */
#include <stdlib.h>
#include <string.h>

#include "descent/runtime.h"
#include "testing.h"

/* ---- gradient checks ------------------------------------------------------------------- */

typedef dsc_id (*build_fn)(dsc_graph *g, dsc_id h);

/* h = x + p (x an input that requires grad, p a parameter, both of shape s), y = f(h),
 * loss = sum(R * y * y) with a fixed random R in [0.5, 1.5] (so the HVP is not trivial even
 * for linear f). spaced: x holds well-separated values (no near-ties for max/min) and p is
 * small; otherwise both are uniform in [-1, 1]. */
static void gc_op(const char *what, int nd, const int64_t *s, build_fn f, int spaced)
{
    dsc_graph *g = dsc_graph_new();
    dsc_id x = dsc_input(g, "x", nd, s);
    dsc_id p = dsc_param(g, "p", nd, s);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    dsc_id y = f(g, dsc_add(g, x, p));
    if (y < 0) {
        fprintf(stderr, "gradcheck %s: build failed: %s\n", what, dsc_graph_error(g));
        dsc_test_failures++;
        dsc_graph_free(g);
        return;
    }
    dsc_shape ys = dsc_node_shape(g, y);
    size_t ny = (size_t)dsc_shape_numel(&ys), nx = 1;
    for (int d = 0; d < nd; d++)
        nx *= (size_t)s[d];
    float *r = malloc(ny * sizeof(float)), *xv = malloc(nx * sizeof(float));
    dsc_test_fill(r, ny, 11, 0.5f, 1.5f);
    dsc_id R = dsc_constant(g, ys.ndim, ys.dim, r);
    dsc_id loss = dsc_sum(g, dsc_mul(g, dsc_mul(g, y, y), R), 0, NULL, 0);
    CHECK_OK(dsc_graph_compile(g, loss));
    float *pv = dsc_graph_params(g, NULL);
    if (spaced) {
        /* A permutation of a grid with step 0.25: gaps >= 0.15 after adding p. */
        for (size_t k = 0; k < nx; k++)
            xv[k] = (float)((k * 7 + 3) % nx) * 0.25f - 0.125f * (float)nx;
        dsc_test_fill(pv, nx, 12, -0.05f, 0.05f);
    } else {
        dsc_test_fill(xv, nx, 13, -1.0f, 1.0f);
        dsc_test_fill(pv, nx, 14, -1.0f, 1.0f);
    }
    CHECK_OK(dsc_graph_set_input(g, x, xv, nx));
    dsc_test_gradcheck(what, g, 1e-2);
    free(r);
    free(xv);
    dsc_graph_free(g);
}

static dsc_id b_max1(dsc_graph *g, dsc_id h) { return dsc_max(g, h, 1, 0); }
static dsc_id b_max0k(dsc_graph *g, dsc_id h) { return dsc_max(g, h, 0, 1); }
static dsc_id b_min_last(dsc_graph *g, dsc_id h) { return dsc_min(g, h, -1, 1); }
static dsc_id b_lse1(dsc_graph *g, dsc_id h) { return dsc_logsumexp(g, dsc_mul_scalar(g, h, 2.0f), 1, 0); }
static dsc_id b_lse_last(dsc_graph *g, dsc_id h) { return dsc_logsumexp(g, h, -1, 1); }
static dsc_id b_var02(dsc_graph *g, dsc_id h)
{
    int ax[2] = {0, 2};
    return dsc_var(g, h, 2, ax, 1, 0);
}
static dsc_id b_var_all(dsc_graph *g, dsc_id h) { return dsc_var(g, h, 0, NULL, 0, 0); }
static dsc_id b_var1k(dsc_graph *g, dsc_id h)
{
    int ax = -2;
    return dsc_var(g, h, 1, &ax, 1, 1);
}
static dsc_id b_permute(dsc_graph *g, dsc_id h)
{
    int perm[3] = {2, 0, 1};
    return dsc_permute(g, h, perm);
}
static dsc_id b_transpose(dsc_graph *g, dsc_id h) { return dsc_transpose(g, h, 0, -1); }
static dsc_id b_slice(dsc_graph *g, dsc_id h) { return dsc_slice(g, h, 1, 1, -1, 2); }
static dsc_id b_slice_neg(dsc_graph *g, dsc_id h) { return dsc_slice(g, h, -1, -3, INT64_MAX, 1); }
static dsc_id b_concat(dsc_graph *g, dsc_id h)
{
    dsc_id xs[3] = {h, dsc_mul(g, h, h), h};
    return dsc_concat(g, 3, xs, 1);
}
static dsc_id b_split(dsc_graph *g, dsc_id h)
{
    int64_t sizes[3] = {1, 3, 1};
    dsc_id parts[3];
    if (dsc_split(g, h, 1, 3, sizes, parts) != DSC_OK)
        return -1;
    dsc_id xs[3] = {parts[2], dsc_mul(g, parts[1], parts[1]), parts[0]};
    return dsc_concat(g, 3, xs, 1);
}
static dsc_id b_expand(dsc_graph *g, dsc_id h)
{
    int64_t s[4] = {2, 3, 5, -1};
    return dsc_expand(g, h, 4, s);
}
static dsc_id b_flatten(dsc_graph *g, dsc_id h) { return dsc_mul(g, dsc_flatten(g, h), dsc_flatten(g, h)); }

static void test_gradcheck_reductions(void)
{
    int64_t s[3] = {3, 4, 5};
    gc_op("max axis 1", 3, s, b_max1, 1);
    gc_op("max axis 0 keepdim", 3, s, b_max0k, 1);
    gc_op("min axis -1 keepdim", 3, s, b_min_last, 1);
    gc_op("logsumexp axis 1", 3, s, b_lse1, 0);
    gc_op("logsumexp axis -1 keepdim", 3, s, b_lse_last, 0);
    gc_op("var axes 0,2 unbiased", 3, s, b_var02, 0);
    gc_op("var all biased", 3, s, b_var_all, 0);
    gc_op("var axis -2 keepdim", 3, s, b_var1k, 0);
}

static void test_gradcheck_shape_ops(void)
{
    int64_t s[3] = {3, 5, 4}, se[3] = {3, 1, 4};
    gc_op("permute", 3, s, b_permute, 0);
    gc_op("transpose", 3, s, b_transpose, 0);
    gc_op("slice", 3, s, b_slice, 0);
    gc_op("slice negative", 3, s, b_slice_neg, 0);
    gc_op("concat", 3, s, b_concat, 0);
    gc_op("split", 3, s, b_split, 0);
    gc_op("expand", 3, se, b_expand, 0);
    gc_op("flatten", 3, s, b_flatten, 0);
}

/* ---- exact values ---------------------------------------------------------------------- */

/* A graph with input x (requires grad) of shape s holding v; the caller adds ops. */
static dsc_graph *value_graph(int nd, const int64_t *s, dsc_id *x)
{
    dsc_graph *g = dsc_graph_new();
    *x = dsc_input(g, "x", nd, s);
    CHECK_OK(dsc_input_requires_grad(g, *x, 1));
    return g;
}

static void check_values(dsc_graph *g, dsc_id id, const float *want, size_t n, const char *what)
{
    dsc_tensor t = dsc_node_value(g, id);
    if (!t.data || (size_t)dsc_tensor_numel(&t) != n) {
        fprintf(stderr, "%s: no value or wrong size\n", what);
        dsc_test_failures++;
        return;
    }
    for (size_t k = 0; k < n; k++)
        if (!(t.data[k] == want[k] || (isnan(want[k]) && isnan(t.data[k])))) {
            fprintf(stderr, "%s: element %zu is %.9g, expected %.9g\n", what, k, t.data[k], want[k]);
            dsc_test_failures++;
            return;
        }
}

static void check_grad(dsc_graph *g, dsc_id id, const float *want, size_t n, double tol, const char *what)
{
    dsc_tensor t = dsc_node_grad(g, id);
    if (!t.data) {
        fprintf(stderr, "%s: no gradient\n", what);
        dsc_test_failures++;
        return;
    }
    for (size_t k = 0; k < n; k++)
        if (!(fabs(t.data[k] - want[k]) <= tol)) {
            fprintf(stderr, "%s: grad element %zu is %.9g, expected %.9g\n", what, k, t.data[k], want[k]);
            dsc_test_failures++;
            return;
        }
}

static void test_max_min_argmax_ties(void)
{
    int64_t s[2] = {2, 3};
    float xv[6] = {1, 3, 3, 2, 2, 1};
    dsc_id x;
    dsc_graph *g = value_graph(2, s, &x);
    dsc_id mx = dsc_max(g, x, 1, 0), mn = dsc_min(g, x, 1, 0), am = dsc_argmax(g, x, 1, 0);
    dsc_id mx0 = dsc_max(g, x, 0, 1), am0 = dsc_argmax(g, x, -2, 1);
    CHECK(dsc_node_shape(g, mx0).ndim == 2 && dsc_node_shape(g, mx0).dim[0] == 1);
    /* loss = sum(max1) + 10 sum(min1) + 100 sum(max0) (+ 0 * argmax: no gradient path). */
    dsc_id l = dsc_add(g, dsc_sum(g, mx, 0, NULL, 0), dsc_mul_scalar(g, dsc_sum(g, mn, 0, NULL, 0), 10.0f));
    l = dsc_add(g, l, dsc_mul_scalar(g, dsc_sum(g, mx0, 0, NULL, 0), 100.0f));
    l = dsc_add(g, l, dsc_mul_scalar(g, dsc_sum(g, am, 0, NULL, 0), 0.0f));
    l = dsc_add(g, l, dsc_mul_scalar(g, dsc_sum(g, am0, 0, NULL, 0), 0.0f));
    CHECK_OK(dsc_graph_compile(g, l));
    CHECK_OK(dsc_graph_set_input(g, x, xv, 6));
    CHECK_OK(dsc_graph_forward(g));
    const float w_mx[2] = {3, 2}, w_mn[2] = {1, 1}, w_am[2] = {1, 0}, w_mx0[3] = {2, 3, 3}, w_am0[3] = {1, 0, 0};
    check_values(g, mx, w_mx, 2, "max axis 1");
    check_values(g, mn, w_mn, 2, "min axis 1");
    check_values(g, am, w_am, 2, "argmax axis 1");
    check_values(g, mx0, w_mx0, 3, "max axis 0");
    check_values(g, am0, w_am0, 3, "argmax axis 0");
    CHECK_OK(dsc_graph_backward(g));
    /* Gradient to the first extremum only: max1 -> (0,1), (1,0); min1 -> (0,0), (1,2);
     * max0 -> (1,0), (0,1), (0,2). */
    const float w_g[6] = {10, 1 + 100, 100, 1 + 100, 0, 10};
    check_grad(g, x, w_g, 6, 0, "max/min grad");
    /* JVP picks the tangent at the same index. */
    float tv[6] = {1, 2, 3, 4, 5, 6};
    CHECK_OK(dsc_graph_set_input_tangent(g, x, tv, 6));
    CHECK_OK(dsc_graph_jvp(g, NULL));
    dsc_tensor t = dsc_node_tangent(g, mx);
    CHECK(t.data && t.data[0] == 2 && t.data[1] == 4);
    t = dsc_node_tangent(g, mn);
    CHECK(t.data && t.data[0] == 1 && t.data[1] == 6);
    /* NaN propagates (torch.max semantics). */
    float nv[6] = {1, NAN, 3, 2, 2, 1};
    CHECK_OK(dsc_graph_set_input(g, x, nv, 6));
    CHECK_OK(dsc_graph_forward(g));
    const float w_nan[2] = {NAN, 2}, w_amn[2] = {1, 0};
    check_values(g, mx, w_nan, 2, "max with NaN");
    check_values(g, am, w_amn, 2, "argmax with NaN");
    dsc_graph_free(g);
}

static void test_logsumexp_stable(void)
{
    int64_t s[2] = {1, 2};
    float xv[2] = {1000, 1001};
    dsc_id x;
    dsc_graph *g = value_graph(2, s, &x);
    dsc_id y = dsc_logsumexp(g, x, 1, 0);
    CHECK_OK(dsc_graph_compile(g, dsc_sum(g, y, 0, NULL, 0)));
    CHECK_OK(dsc_graph_set_input(g, x, xv, 2));
    CHECK_OK(dsc_graph_forward(g));
    /* 1001 + log(1 + e^-1) = 1001.31326... */
    CHECK_NEAR(dsc_graph_loss(g), 1001.3132616875, 1e-4);
    CHECK_OK(dsc_graph_backward(g));
    const float w_g[2] = {0.26894142f, 0.73105858f}; /* softmax */
    check_grad(g, x, w_g, 2, 1e-6, "logsumexp grad");
    float ninf[2] = {-INFINITY, -INFINITY};
    CHECK_OK(dsc_graph_set_input(g, x, ninf, 2));
    CHECK_OK(dsc_graph_forward(g));
    CHECK(isinf(dsc_graph_loss(g)) && dsc_graph_loss(g) < 0);
    float small[2] = {-1000, -1001};
    CHECK_OK(dsc_graph_set_input(g, x, small, 2));
    CHECK_OK(dsc_graph_forward(g));
    CHECK_NEAR(dsc_graph_loss(g), -999.6867383125, 1e-4);
    dsc_graph_free(g);
}

static void test_var_values(void)
{
    int64_t s[2] = {2, 3};
    float xv[6] = {1, 2, 4, 3, 5, 9};
    dsc_id x;
    dsc_graph *g = value_graph(2, s, &x);
    int ax1 = 1;
    dsc_id vu = dsc_var(g, x, 1, &ax1, 1, 0);  /* torch.var(x, 1) */
    dsc_id vb = dsc_var(g, x, 1, &ax1, 0, 1);  /* torch.var(x, 1, correction=0, keepdim=True) */
    dsc_id va = dsc_var(g, x, 0, NULL, 0, 0);  /* biased over all */
    dsc_id vc = dsc_var(g, x, 1, &ax1, 3, 0);  /* N - correction = 0: inf (torch) */
    dsc_id l = dsc_add(g, dsc_sum(g, vu, 0, NULL, 0), dsc_sum(g, va, 0, NULL, 0));
    l = dsc_add(g, l, dsc_mul_scalar(g, dsc_sum(g, dsc_add(g, vb, vc), 0, NULL, 0), 0.0f));
    CHECK_OK(dsc_graph_compile(g, l));
    CHECK_OK(dsc_graph_set_input(g, x, xv, 6));
    CHECK_OK(dsc_graph_forward(g));
    dsc_tensor t = dsc_node_value(g, vu);
    CHECK_NEAR(t.data[0], 7.0 / 3.0, 1e-6);
    CHECK_NEAR(t.data[1], 28.0 / 3.0, 1e-5);
    t = dsc_node_value(g, vb);
    CHECK(t.shape.ndim == 2 && t.shape.dim[1] == 1);
    CHECK_NEAR(t.data[0], 14.0 / 9.0, 1e-6);
    CHECK_NEAR(t.data[1], 56.0 / 9.0, 1e-5);
    t = dsc_node_value(g, va);
    CHECK_NEAR(t.data[0], 40.0 / 6.0, 1e-5);
    t = dsc_node_value(g, vc);
    CHECK(isinf(t.data[0]) && isinf(t.data[1]));
    /* d/dx [var_unbiased(row) + var_biased(all)] = 2 (x - mu_row) / 2 + 2 (x - 4) / 6. */
    float mu[2] = {7.0f / 3.0f, 17.0f / 3.0f}, w_g[6];
    for (int k = 0; k < 6; k++)
        w_g[k] = (xv[k] - mu[k / 3]) + (xv[k] - 4.0f) / 3.0f;
    /* (the 0 * vc term contributes 0 * inf = NaN in IEEE; keep it out of the check by
     * using a second graph) */
    dsc_graph_free(g);
    g = value_graph(2, s, &x);
    vu = dsc_var(g, x, 1, &ax1, 1, 0);
    va = dsc_var(g, x, 0, NULL, 0, 0);
    CHECK_OK(dsc_graph_compile(g, dsc_add(g, dsc_sum(g, vu, 0, NULL, 0), dsc_sum(g, va, 0, NULL, 0))));
    CHECK_OK(dsc_graph_set_input(g, x, xv, 6));
    CHECK_OK(dsc_graph_forward(g));
    CHECK_OK(dsc_graph_backward(g));
    check_grad(g, x, w_g, 6, 1e-5, "var grad");
    dsc_graph_free(g);
}

/* x = arange(n) of shape s, y = f(x), loss = sum(y * W) with W = arange(numel y) + 1.
 * Returns the graph after forward and backward. */
static dsc_graph *arange_graph(int nd, const int64_t *s, build_fn f, dsc_id *xo, dsc_id *yo)
{
    dsc_id x;
    dsc_graph *g = value_graph(nd, s, &x);
    dsc_id y = f(g, x);
    CHECK(y >= 0);
    if (y < 0) {
        fprintf(stderr, "build failed: %s\n", dsc_graph_error(g));
        *xo = x;
        *yo = y;
        return g;
    }
    dsc_shape ys = dsc_node_shape(g, y);
    size_t ny = (size_t)dsc_shape_numel(&ys), nx = 1;
    for (int d = 0; d < nd; d++)
        nx *= (size_t)s[d];
    float *w = malloc(ny * sizeof(float)), *xv = malloc(nx * sizeof(float));
    for (size_t k = 0; k < ny; k++)
        w[k] = (float)k + 1.0f;
    for (size_t k = 0; k < nx; k++)
        xv[k] = (float)k;
    dsc_id W = dsc_constant(g, ys.ndim, ys.dim, w);
    CHECK_OK(dsc_graph_compile(g, dsc_sum(g, dsc_mul(g, y, W), 0, NULL, 0)));
    CHECK_OK(dsc_graph_set_input(g, x, xv, nx));
    CHECK_OK(dsc_graph_forward(g));
    CHECK_OK(dsc_graph_backward(g));
    free(w);
    free(xv);
    *xo = x;
    *yo = y;
    return g;
}

static void test_permute_transpose_values(void)
{
    int64_t s[3] = {2, 3, 4};
    dsc_id x, y;
    dsc_graph *g = arange_graph(3, s, b_permute, &x, &y); /* perm {2, 0, 1}: y[i,j,k] = x[j,k,i] */
    dsc_tensor v = dsc_node_value(g, y), gx = dsc_node_grad(g, x);
    CHECK(v.shape.dim[0] == 4 && v.shape.dim[1] == 2 && v.shape.dim[2] == 3);
    int bad = 0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 2; j++)
            for (int k = 0; k < 3; k++) {
                int yk = (i * 2 + j) * 3 + k, xk = (j * 3 + k) * 4 + i;
                bad += v.data[yk] != (float)xk;
                bad += gx.data[xk] != (float)(yk + 1); /* inverse permutation of W */
            }
    CHECK(bad == 0);
    dsc_graph_free(g);
    g = arange_graph(3, s, b_transpose, &x, &y); /* transpose(0, -1): y[i,j,k] = x[k,j,i] */
    v = dsc_node_value(g, y);
    gx = dsc_node_grad(g, x);
    CHECK(v.shape.dim[0] == 4 && v.shape.dim[1] == 3 && v.shape.dim[2] == 2);
    bad = 0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 2; k++) {
                int yk = (i * 3 + j) * 2 + k, xk = (k * 3 + j) * 4 + i;
                bad += v.data[yk] != (float)xk;
                bad += gx.data[xk] != (float)(yk + 1);
            }
    CHECK(bad == 0);
    dsc_graph_free(g);
}

static dsc_id b_slice_cols(dsc_graph *g, dsc_id h) { return dsc_slice(g, h, 1, 1, -1, 2); }
static dsc_id b_slice_tail(dsc_graph *g, dsc_id h) { return dsc_slice(g, h, -1, -3, 1000, 1); }
static dsc_id b_slice_step3(dsc_graph *g, dsc_id h) { return dsc_slice(g, h, 1, -100, 6, 3); }

static void test_slice_values(void)
{
    int64_t s[2] = {2, 6};
    dsc_id x, y;
    dsc_graph *g = arange_graph(2, s, b_slice_cols, &x, &y); /* x[:, 1:-1:2] */
    const float w1[4] = {1, 3, 7, 9}, g1[12] = {0, 1, 0, 2, 0, 0, 0, 3, 0, 4, 0, 0};
    check_values(g, y, w1, 4, "slice 1:-1:2");
    check_grad(g, x, g1, 12, 0, "slice 1:-1:2");
    dsc_graph_free(g);
    g = arange_graph(2, s, b_slice_tail, &x, &y); /* x[:, -3:1000] */
    const float w2[6] = {3, 4, 5, 9, 10, 11};
    check_values(g, y, w2, 6, "slice -3:");
    dsc_graph_free(g);
    g = arange_graph(2, s, b_slice_step3, &x, &y); /* x[:, -100:6:3] */
    const float w3[4] = {0, 3, 6, 9};
    check_values(g, y, w3, 4, "slice ::3");
    dsc_graph_free(g);
}

static dsc_id b_concat_cols(dsc_graph *g, dsc_id h)
{
    /* x [2, 5] -> split into [2, 2] and [2, 3] -> concat(b, a, b) along 1 */
    int64_t sizes[2] = {2, 3};
    dsc_id p[2];
    if (dsc_split(g, h, -1, 2, sizes, p) != DSC_OK)
        return -1;
    dsc_id xs[3] = {p[1], p[0], p[1]};
    return dsc_concat(g, 3, xs, 1);
}

static dsc_id b_concat_rows(dsc_graph *g, dsc_id h)
{
    dsc_id t = dsc_slice(g, h, 0, 1, 2, 1); /* [1, 5] */
    dsc_id xs[2] = {t, h};
    return dsc_concat(g, 2, xs, 0);
}

static void test_concat_split_values(void)
{
    int64_t s[2] = {2, 5};
    dsc_id x, y;
    dsc_graph *g = arange_graph(2, s, b_concat_cols, &x, &y);
    /* x = [[0..4],[5..9]]; a = [[0,1],[5,6]], b = [[2,3,4],[7,8,9]] -> [b a b] */
    const float w[16] = {2, 3, 4, 0, 1, 2, 3, 4, 7, 8, 9, 5, 6, 7, 8, 9};
    check_values(g, y, w, 16, "concat(split)");
    /* W = 1..16: grad x[0,0] = W[0,3] = 4, x[0,2] = W[0,0] + W[0,5] = 1 + 6, ... */
    const float gw[10] = {4, 5, 1 + 6, 2 + 7, 3 + 8, 12, 13, 9 + 14, 10 + 15, 11 + 16};
    check_grad(g, x, gw, 10, 0, "concat(split)");
    dsc_graph_free(g);
    g = arange_graph(2, s, b_concat_rows, &x, &y);
    const float w2[15] = {5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    check_values(g, y, w2, 15, "concat axis 0");
    const float g2[10] = {6, 7, 8, 9, 10, 1 + 11, 2 + 12, 3 + 13, 4 + 14, 5 + 15};
    check_grad(g, x, g2, 10, 0, "concat axis 0");
    dsc_graph_free(g);
}

static dsc_id b_expand_vals(dsc_graph *g, dsc_id h)
{
    int64_t s[3] = {2, -1, 4}; /* [3, 1] -> [2, 3, 4] */
    return dsc_expand(g, h, 3, s);
}

static void test_expand_values(void)
{
    int64_t s[2] = {3, 1};
    dsc_id x, y;
    dsc_graph *g = arange_graph(2, s, b_expand_vals, &x, &y);
    dsc_tensor v = dsc_node_value(g, y);
    CHECK(v.shape.ndim == 3 && v.shape.dim[0] == 2 && v.shape.dim[1] == 3 && v.shape.dim[2] == 4);
    int bad = 0;
    for (int k = 0; k < 24; k++)
        bad += v.data[k] != (float)((k / 4) % 3);
    CHECK(bad == 0);
    /* grad x[j] = sum over (i, l) of W[i, j, l] = sum (i*12 + j*4 + l + 1) */
    float gw[3];
    for (int j = 0; j < 3; j++) {
        gw[j] = 0;
        for (int i = 0; i < 2; i++)
            for (int l = 0; l < 4; l++)
                gw[j] += (float)(i * 12 + j * 4 + l + 1);
    }
    check_grad(g, x, gw, 3, 0, "expand");
    dsc_graph_free(g);
}

/* ---- reshape: aliasing, chains, set_batch, checkpointing -------------------------------- */

/* x [B, 2, 3] -> h = x * p -> reshape [B, 6] -> * w (w = reshape(q [2, 3]) to [6]) -> square
 * -> reshape [B, 3, 2] -> transpose -> * h (source used again next to its alias)
 * -> flatten -> reshape [B, -1] (alias chain) -> logsumexp -> mean. */
static dsc_graph *reshape_chain(int64_t B, int segments, dsc_id *xo, dsc_id *ho, dsc_id *ro)
{
    dsc_graph *g = dsc_graph_new();
    int64_t xs[3] = {B, 2, 3}, ps[2] = {2, 3};
    dsc_id x = dsc_input(g, "x", 3, xs);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    dsc_id p = dsc_param(g, "p", 2, ps), q = dsc_param(g, "q", 2, ps);
    dsc_id h = dsc_mul(g, x, p);
    int64_t s1[2] = {0, -1}, s2[3] = {0, 3, 2}, s6[1] = {6}, s3[2] = {0, -1};
    dsc_id r = dsc_reshape(g, h, 2, s1);
    dsc_id w = dsc_reshape(g, q, 1, s6);
    dsc_id y = dsc_mul(g, r, w);
    y = dsc_mul(g, y, y);
    y = dsc_reshape(g, y, 3, s2);
    y = dsc_transpose(g, y, 1, 2);
    y = dsc_mul(g, y, h);
    y = dsc_reshape(g, dsc_flatten(g, y), 2, s3);
    y = dsc_logsumexp(g, y, 1, 0);
    dsc_id loss = dsc_mean(g, y, 0, NULL, 0);
    CHECK_OK(dsc_graph_set_checkpoint_segments(g, segments));
    CHECK_OK(dsc_graph_compile(g, loss));
    float *pv = dsc_graph_params(g, NULL);
    dsc_test_fill(pv, 12, 21, -1.0f, 1.0f);
    *xo = x;
    if (ho)
        *ho = h;
    if (ro)
        *ro = r;
    return g;
}

/* Checkpointed graphs overlay interior activations, so the gradcheck's per-node JVP check
 * (which reads every node's value after a whole forward) does not apply to them. Check VJP
 * and HVP by finite differences, and require the JVP tangents of every node to equal those
 * of the same graph built without checkpointing, bit for bit (tangents are never overlaid). */
static void gradcheck_ckpt(const char *what, dsc_graph *ck, dsc_graph *plain, dsc_id x, size_t nx)
{
    dsc_gradcheck_opts o = dsc_gradcheck_defaults();
    o.check_jvp = 0;
    dsc_gradcheck_result r;
    CHECK_OK(dsc_gradcheck(ck, &o, &r));
    if (!(r.vjp_err <= 1e-2 && r.hvp_err <= 1e-2 && r.hvp_sym_err <= 1e-2)) {
        fprintf(stderr, "gradcheck %s: vjp %.2e hvp %.2e hvp-sym %.2e  FAILED\n", what, r.vjp_err, r.hvp_err,
                r.hvp_sym_err);
        dsc_test_failures++;
    }
    size_t np;
    dsc_graph_params(plain, &np);
    float *v = malloc(np * sizeof(float)), *tx = malloc(nx * sizeof(float));
    dsc_test_fill(v, np, 41, -1.0f, 1.0f);
    dsc_test_fill(tx, nx, 42, -1.0f, 1.0f);
    dsc_graph *gs[2] = {ck, plain};
    for (int k = 0; k < 2; k++) {
        CHECK_OK(dsc_graph_set_input_tangent(gs[k], x, tx, nx));
        CHECK_OK(dsc_graph_jvp(gs[k], v));
    }
    int bad = 0;
    for (dsc_id i = 0; i < dsc_graph_node_count(plain); i++) {
        dsc_tensor a = dsc_node_tangent(ck, i), b = dsc_node_tangent(plain, i);
        if (!a.data || !b.data || dsc_tensor_numel(&a) != dsc_tensor_numel(&b) ||
            memcmp(a.data, b.data, (size_t)dsc_tensor_numel(&a) * sizeof(float)) != 0)
            bad++;
    }
    if (bad) {
        fprintf(stderr, "gradcheck %s: %d node tangents differ from the plain graph\n", what, bad);
        dsc_test_failures++;
    }
    free(v);
    free(tx);
}

static void test_reshape_alias_chain(void)
{
    dsc_id x, h, r;
    dsc_graph *g = reshape_chain(4, 0, &x, &h, &r);
    CHECK(dsc_graph_status(g) == DSC_OK);
    float xv[24];
    dsc_test_fill(xv, 24, 22, -1.0f, 1.0f);
    CHECK_OK(dsc_graph_set_input(g, x, xv, 24));
    CHECK_OK(dsc_graph_forward(g));
    /* The reshape shares memory with its source. */
    CHECK(dsc_node_value(g, r).data == dsc_node_value(g, h).data);
    dsc_shape rs = dsc_node_shape(g, r);
    CHECK(rs.ndim == 2 && rs.dim[0] == 4 && rs.dim[1] == 6);
    dsc_test_gradcheck("reshape chain", g, 1e-2);
    dsc_graph_free(g);
    /* Same with checkpointing: gradcheck, and bit-identical gradients and HVP. */
    dsc_id x2;
    dsc_graph *a = reshape_chain(4, 0, &x, NULL, NULL), *b = reshape_chain(4, -1, &x2, NULL, NULL);
    CHECK_OK(dsc_graph_set_input(a, x, xv, 24));
    CHECK_OK(dsc_graph_set_input(b, x2, xv, 24));
    gradcheck_ckpt("reshape chain checkpointed", b, a, x, 24);
    CHECK_OK(dsc_graph_forward(a));
    CHECK_OK(dsc_graph_backward(a));
    CHECK_OK(dsc_graph_forward(b));
    CHECK_OK(dsc_graph_backward(b));
    size_t n;
    const float *ga = dsc_graph_grads(a, &n);
    CHECK(memcmp(ga, dsc_graph_grads(b, NULL), n * sizeof(float)) == 0);
    CHECK(memcmp(dsc_node_grad(a, x).data, dsc_node_grad(b, x2).data, 24 * sizeof(float)) == 0);
    CHECK(dsc_graph_loss(a) == dsc_graph_loss(b));
    float v[12], h1[12], h2[12];
    dsc_test_fill(v, 12, 23, -1.0f, 1.0f);
    CHECK_OK(dsc_graph_hvp(a, v, h1));
    CHECK_OK(dsc_graph_hvp(b, v, h2));
    CHECK(memcmp(h1, h2, sizeof h1) == 0);
    dsc_graph_free(a);
    dsc_graph_free(b);
}

static void test_reshape_set_batch(void)
{
    /* Compiled for batch 4, run at batch 2: must equal a graph built for batch 2. */
    dsc_id x4, x2, h, r;
    dsc_graph *a = reshape_chain(4, 0, &x4, &h, &r), *b = reshape_chain(2, 0, &x2, NULL, NULL);
    dsc_graph *c = reshape_chain(4, -1, &x4, NULL, NULL);
    float xv[12];
    dsc_test_fill(xv, 12, 24, -1.0f, 1.0f);
    CHECK_OK(dsc_graph_set_batch(a, 2));
    CHECK_OK(dsc_graph_set_batch(c, 2));
    dsc_shape rs = dsc_node_shape(a, r);
    CHECK(rs.ndim == 2 && rs.dim[0] == 2 && rs.dim[1] == 6);
    CHECK_OK(dsc_graph_set_input(a, x4, xv, 12));
    CHECK_OK(dsc_graph_set_input(b, x2, xv, 12));
    CHECK_OK(dsc_graph_set_input(c, x4, xv, 12));
    dsc_graph *gs[3] = {a, b, c};
    for (int k = 0; k < 3; k++) {
        CHECK_OK(dsc_graph_forward(gs[k]));
        CHECK_OK(dsc_graph_backward(gs[k]));
    }
    size_t n;
    const float *gb = dsc_graph_grads(b, &n);
    CHECK(dsc_graph_loss(a) == dsc_graph_loss(b) && dsc_graph_loss(c) == dsc_graph_loss(b));
    CHECK(memcmp(dsc_graph_grads(a, NULL), gb, n * sizeof(float)) == 0);
    CHECK(memcmp(dsc_graph_grads(c, NULL), gb, n * sizeof(float)) == 0);
    dsc_test_gradcheck("reshape chain at batch 2", a, 1e-2);
    gradcheck_ckpt("reshape chain checkpointed at batch 2", c, a, x4, 12);
    dsc_graph_free(a);
    dsc_graph_free(b);
    dsc_graph_free(c);
}

static void test_reshape_values(void)
{
    dsc_graph *g = dsc_graph_new();
    int64_t xs[3] = {2, 3, 4};
    dsc_id x = dsc_input(g, "x", 3, xs);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    int64_t s1[3] = {4, -1, 2}, s2[1] = {-1};
    dsc_id r1 = dsc_reshape(g, x, 3, s1);
    dsc_shape rs = dsc_node_shape(g, r1);
    CHECK(rs.ndim == 3 && rs.dim[0] == 4 && rs.dim[1] == 3 && rs.dim[2] == 2);
    dsc_id r2 = dsc_reshape(g, r1, 1, s2);
    dsc_id f = dsc_flatten(g, x);
    rs = dsc_node_shape(g, f);
    CHECK(rs.ndim == 2 && rs.dim[0] == 2 && rs.dim[1] == 12);
    /* The loss itself is an alias: reshape of a [1, 1] sum to a scalar. */
    int ax[2] = {0, 1};
    dsc_id s = dsc_sum(g, dsc_mul(g, dsc_mul(g, r2, r2), dsc_scalar(g, 0.5f)), 1, ax, 1);
    s = dsc_add(g, dsc_sum(g, dsc_reshape(g, s, 2, (int64_t[]){1, 1}), 2, ax, 1), dsc_sum(g, f, 0, NULL, 1));
    dsc_id loss = dsc_reshape(g, s, 0, NULL);
    CHECK(dsc_node_shape(g, loss).ndim == 0);
    CHECK_OK(dsc_graph_compile(g, loss));
    float xv[24];
    for (int k = 0; k < 24; k++)
        xv[k] = (float)k;
    CHECK_OK(dsc_graph_set_input(g, x, xv, 24));
    CHECK_OK(dsc_graph_forward(g));
    /* sum k^2 / 2 + sum k for k < 24 = 2162 + 276 */
    CHECK_NEAR(dsc_graph_loss(g), 2162.0 + 276.0, 1e-3);
    CHECK_OK(dsc_graph_backward(g));
    float want[24];
    for (int k = 0; k < 24; k++)
        want[k] = (float)k + 1.0f;
    check_grad(g, x, want, 24, 0, "reshape grad");
    check_values(g, r2, xv, 24, "reshape values");
    /* Aliases of the input itself and of the loss pass the derivative checks too. */
    dsc_test_gradcheck("reshape of input, loss as reshape", g, 1e-2);
    dsc_graph_free(g);
}

/* ---- errors ------------------------------------------------------------------------------ */

static void expect_shape_error(dsc_graph *g, dsc_id id, const char *op, const char *what)
{
    if (id != -1 || dsc_graph_status(g) != DSC_ERR_SHAPE || !strstr(dsc_graph_error(g), op)) {
        fprintf(stderr, "%s: expected a shape error naming '%s', got id %d, status %d, '%s'\n", what, op, id,
                (int)dsc_graph_status(g), dsc_graph_error(g));
        dsc_test_failures++;
    }
}

typedef dsc_id (*bad_fn)(dsc_graph *g, dsc_id x);
static dsc_id e_concat(dsc_graph *g, dsc_id x)
{
    int64_t s[2] = {2, 5};
    dsc_id b = dsc_param(g, "b", 2, s);
    dsc_id xs[2] = {x, b};
    return dsc_concat(g, 2, xs, 0); /* [2, 3] vs [2, 5] along 0 */
}
static dsc_id e_concat_axis(dsc_graph *g, dsc_id x)
{
    dsc_id xs[2] = {x, x};
    return dsc_concat(g, 2, xs, 2);
}
static dsc_id e_reshape(dsc_graph *g, dsc_id x)
{
    int64_t s[2] = {4, 2};
    return dsc_reshape(g, x, 2, s);
}
static dsc_id e_reshape_infer(dsc_graph *g, dsc_id x)
{
    int64_t s[2] = {4, -1};
    return dsc_reshape(g, x, 2, s);
}
static dsc_id e_reshape_two(dsc_graph *g, dsc_id x)
{
    int64_t s[2] = {-1, -1};
    return dsc_reshape(g, x, 2, s);
}
static dsc_id e_max(dsc_graph *g, dsc_id x) { return dsc_max(g, x, 2, 0); }
static dsc_id e_min(dsc_graph *g, dsc_id x) { return dsc_min(g, x, -3, 0); }
static dsc_id e_argmax(dsc_graph *g, dsc_id x) { return dsc_argmax(g, x, 5, 0); }
static dsc_id e_lse(dsc_graph *g, dsc_id x) { return dsc_logsumexp(g, x, 2, 0); }
static dsc_id e_var(dsc_graph *g, dsc_id x)
{
    int ax = 3;
    return dsc_var(g, x, 1, &ax, 1, 0);
}
static dsc_id e_permute(dsc_graph *g, dsc_id x)
{
    int perm[2] = {1, 1};
    return dsc_permute(g, x, perm);
}
static dsc_id e_transpose(dsc_graph *g, dsc_id x) { return dsc_transpose(g, x, 0, 2); }
static dsc_id e_slice(dsc_graph *g, dsc_id x) { return dsc_slice(g, x, 2, 0, 1, 1); }
static dsc_id e_slice_empty(dsc_graph *g, dsc_id x) { return dsc_slice(g, x, 1, 2, 1, 1); }
static dsc_id e_slice_step(dsc_graph *g, dsc_id x) { return dsc_slice(g, x, 1, 0, 3, 0); }
static dsc_id e_expand(dsc_graph *g, dsc_id x)
{
    int64_t s[2] = {2, 4};
    return dsc_expand(g, x, 2, s);
}
static dsc_id e_split(dsc_graph *g, dsc_id x)
{
    int64_t sizes[2] = {1, 1};
    dsc_id out[2];
    dsc_status s = dsc_split(g, x, 1, 2, sizes, out);
    CHECK(s == DSC_ERR_SHAPE && out[0] == -1 && out[1] == -1);
    return out[0];
}

static void test_shape_errors(void)
{
    struct {
        bad_fn f;
        const char *op;
    } cases[] = {{e_concat, "concat"},   {e_concat_axis, "concat"}, {e_reshape, "reshape"},
                 {e_reshape_infer, "reshape"}, {e_reshape_two, "reshape"}, {e_max, "max"},
                 {e_min, "min"},         {e_argmax, "argmax"},      {e_lse, "logsumexp"},
                 {e_var, "var"},         {e_permute, "permute"},    {e_transpose, "transpose"},
                 {e_slice, "slice"},     {e_slice_empty, "slice"},  {e_slice_step, "slice"},
                 {e_expand, "expand"},   {e_split, "split"}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        dsc_graph *g = dsc_graph_new();
        int64_t s[2] = {2, 3};
        dsc_id x = dsc_input(g, "x", 2, s);
        dsc_id y = cases[k].f(g, x);
        expect_shape_error(g, y, cases[k].op, cases[k].op);
        /* The error is sticky: compile reports it. */
        CHECK(dsc_graph_compile(g, x) == DSC_ERR_SHAPE);
        dsc_graph_free(g);
    }
    /* Reshape with a fixed batch fails at set_batch with a message naming reshape. */
    dsc_graph *g = dsc_graph_new();
    int64_t s[2] = {4, 3}, t[2] = {2, 6};
    dsc_id x = dsc_input(g, "x", 2, s);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    dsc_id y = dsc_reshape(g, x, 2, t);
    CHECK_OK(dsc_graph_compile(g, dsc_sum(g, y, 0, NULL, 0)));
    CHECK_STATUS(dsc_graph_set_batch(g, 3), DSC_ERR_SHAPE);
    CHECK(strstr(dsc_last_error(), "reshape") != NULL);
    dsc_graph_free(g);
    /* var: negative correction */
    g = dsc_graph_new();
    x = dsc_input(g, "x", 2, s);
    CHECK(dsc_var(g, x, 0, NULL, -1, 0) == -1 && dsc_graph_status(g) == DSC_ERR_INVALID &&
          strstr(dsc_graph_error(g), "var"));
    dsc_graph_free(g);
}

/* ---- determinism across thread counts ---------------------------------------------------- */

static void run_reductions(int threads, float *out, size_t *n_out)
{
    dsc_set_num_threads(threads);
    dsc_graph *g = dsc_graph_new();
    int64_t s[3] = {4, 300, 100}; /* 120000 elements */
    dsc_id x = dsc_input(g, "x", 3, s);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    int ax1 = 1, ax02[2] = {0, 2};
    dsc_id ys[8] = {dsc_sum(g, x, 0, NULL, 0),         dsc_mean(g, x, 1, &ax1, 0),
                    dsc_sum(g, x, 2, ax02, 1),         dsc_max(g, x, 2, 0),
                    dsc_max(g, x, 0, 0),               dsc_min(g, x, 1, 1),
                    dsc_logsumexp(g, x, 1, 0),         dsc_var(g, x, 2, ax02, 1, 0)};
    dsc_id loss = dsc_scalar(g, 0.0f);
    for (int k = 0; k < 8; k++)
        loss = dsc_add(g, loss, dsc_mean(g, dsc_mul(g, ys[k], ys[k]), 0, NULL, 0));
    CHECK_OK(dsc_graph_compile(g, loss));
    float *xv = malloc(120000 * sizeof(float));
    dsc_test_fill(xv, 120000, 31, -2.0f, 2.0f);
    CHECK_OK(dsc_graph_set_input(g, x, xv, 120000));
    CHECK_OK(dsc_graph_forward(g));
    CHECK_OK(dsc_graph_backward(g));
    size_t o = 0;
    for (int k = 0; k < 8; k++) {
        dsc_tensor t = dsc_node_value(g, ys[k]);
        memcpy(out + o, t.data, (size_t)dsc_tensor_numel(&t) * sizeof(float));
        o += (size_t)dsc_tensor_numel(&t);
    }
    memcpy(out + o, dsc_node_grad(g, x).data, 120000 * sizeof(float));
    o += 120000;
    *n_out = o;
    free(xv);
    dsc_graph_free(g);
}

static void test_threads_bit_identical(void)
{
    size_t cap = 400000, n1 = 0, n2 = 0;
    float *a = calloc(cap, sizeof(float)), *b = calloc(cap, sizeof(float));
    int before = dsc_get_num_threads();
    run_reductions(1, a, &n1);
    run_reductions(2, b, &n2);
    dsc_set_num_threads(before);
    CHECK(n1 == n2 && n1 > 120000 && n1 < cap);
    CHECK(memcmp(a, b, n1 * sizeof(float)) == 0);
    /* Sanity: the full sum is close to its double-precision value. */
    float *xv = malloc(120000 * sizeof(float));
    dsc_test_fill(xv, 120000, 31, -2.0f, 2.0f);
    double s = 0;
    for (int k = 0; k < 120000; k++)
        s += xv[k];
    CHECK_NEAR(a[0], s, 1e-2 * fmax(1.0, fabs(s)));
    free(xv);
    free(a);
    free(b);
}

/* Shape ops on 80 000 elements (their copy kernels split rows over threads above 65 536):
 * exact permute contents, and values plus input gradient bit-identical for 1 and 2 threads. */
static void run_shape_ops(int threads, float *out, size_t *n_out)
{
    dsc_set_num_threads(threads);
    dsc_graph *g = dsc_graph_new();
    int64_t s[3] = {4, 200, 100}, e[3] = {4, -1, -1};
    dsc_id x = dsc_input(g, "x", 3, s);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    int perm[3] = {2, 0, 1};
    dsc_id cat_in[2] = {x, x};
    dsc_id ys[5] = {dsc_permute(g, x, perm), dsc_slice(g, x, 1, 10, -10, 3), dsc_concat(g, 2, cat_in, 2),
                    dsc_expand(g, dsc_slice(g, x, 0, 1, 2, 1), 3, e), dsc_transpose(g, x, 1, 2)};
    dsc_id loss = dsc_scalar(g, 0.0f);
    for (int k = 0; k < 5; k++)
        loss = dsc_add(g, loss, dsc_mean(g, dsc_mul(g, ys[k], ys[k]), 0, NULL, 0));
    CHECK_OK(dsc_graph_compile(g, loss));
    float *xv = malloc(80000 * sizeof(float));
    dsc_test_fill(xv, 80000, 32, -2.0f, 2.0f);
    CHECK_OK(dsc_graph_set_input(g, x, xv, 80000));
    CHECK_OK(dsc_graph_forward(g));
    CHECK_OK(dsc_graph_backward(g));
    dsc_tensor pt = dsc_node_value(g, ys[0]);
    int bad = 0;
    for (int64_t i = 0; i < 100; i++)
        for (int64_t j = 0; j < 4; j++)
            for (int64_t k = 0; k < 200; k++)
                bad += pt.data[(i * 4 + j) * 200 + k] != xv[(j * 200 + k) * 100 + i];
    CHECK(bad == 0);
    size_t o = 0;
    for (int k = 0; k < 5; k++) {
        dsc_tensor t = dsc_node_value(g, ys[k]);
        memcpy(out + o, t.data, (size_t)dsc_tensor_numel(&t) * sizeof(float));
        o += (size_t)dsc_tensor_numel(&t);
    }
    memcpy(out + o, dsc_node_grad(g, x).data, 80000 * sizeof(float));
    o += 80000;
    *n_out = o;
    free(xv);
    dsc_graph_free(g);
}

static void test_shape_threads_bit_identical(void)
{
    size_t cap = 600000, n1 = 0, n2 = 0;
    float *a = calloc(cap, sizeof(float)), *b = calloc(cap, sizeof(float));
    int before = dsc_get_num_threads();
    run_shape_ops(1, a, &n1);
    run_shape_ops(2, b, &n2);
    dsc_set_num_threads(before);
    CHECK(n1 == n2 && n1 > 80000 && n1 < cap);
    CHECK(memcmp(a, b, n1 * sizeof(float)) == 0);
    free(a);
    free(b);
}

DSC_TEST_MAIN("shape_reduce", TEST(test_gradcheck_reductions), TEST(test_gradcheck_shape_ops),
              TEST(test_max_min_argmax_ties), TEST(test_logsumexp_stable), TEST(test_var_values),
              TEST(test_permute_transpose_values), TEST(test_slice_values), TEST(test_concat_split_values),
              TEST(test_expand_values), TEST(test_reshape_alias_chain), TEST(test_reshape_set_batch),
              TEST(test_reshape_values), TEST(test_shape_errors), TEST(test_threads_bit_identical),
              TEST(test_shape_threads_bit_identical))
