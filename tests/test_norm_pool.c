/* Tests of pooling, normalization, dropout and embedding: finite-difference checks of VJP,
 * JVP and HVP (R-op) in train and eval mode, values against PyTorch 1.13 fixtures
 * (tools/gen_norm_fixtures.py), dropout statistics and determinism, running statistics
 * under checkpointing, embedding range errors, per-example gradients. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autodiff/graph_internal.h"
#include "descent/gradcheck.h"
#include "descent/rng.h"
#include "descent/runtime.h"
#include "testing.h"

/* ---- helpers -------------------------------------------------------------------------- */

static void fill_params(dsc_graph *g, uint64_t seed, float lo, float hi)
{
    size_t n;
    float *p = dsc_graph_params(g, &n);
    dsc_test_fill(p, n, seed, lo, hi);
}

static void fill_input(dsc_graph *g, dsc_id x, uint64_t seed, float lo, float hi)
{
    dsc_shape s = dsc_node_shape(g, x);
    size_t n = (size_t)dsc_shape_numel(&s);
    float *v = malloc(n * sizeof(float));
    dsc_test_fill(v, n, seed, lo, hi);
    CHECK_OK(dsc_graph_set_input(g, x, v, n));
    free(v);
}

/* loss = sum(y * (R + 0.25 y)) with R a fixed random constant: the linear part makes the
 * cotangent independent of y (so H v exercises the op's own R-op term), the square part
 * exercises the engine's swapped-VJP term. */
static dsc_id quad_loss(dsc_graph *g, dsc_id y, uint64_t seed)
{
    dsc_shape s = dsc_node_shape(g, y);
    int64_t n = dsc_shape_numel(&s);
    float *r = malloc((size_t)n * sizeof(float));
    dsc_test_fill(r, (size_t)n, seed, -1.0f, 1.0f);
    dsc_id R = dsc_constant(g, s.ndim, s.dim, r);
    free(r);
    return dsc_sum(g, dsc_mul(g, y, dsc_add(g, R, dsc_mul_scalar(g, y, 0.25f))), 0, NULL, 0);
}

/* x (input requiring grad) scaled by a parameter S of x's non-batch shape: gives the op an
 * input whose tangent is non-zero in H v (which is over parameters only). */
static dsc_id scaled_input(dsc_graph *g, int ndim, const int64_t *shape, dsc_id *x)
{
    *x = dsc_input(g, "x", ndim, shape);
    CHECK_OK(dsc_input_requires_grad(g, *x, 1));
    dsc_id S = dsc_param(g, "S", ndim - 1, shape + 1);
    return dsc_mul(g, *x, S);
}

/* Params in [lo, hi], S (the first parameter) near 1, input in [-1, 1]. */
static void gc_setup(dsc_graph *g, dsc_id x, dsc_id loss, uint64_t seed)
{
    CHECK_OK(dsc_graph_compile(g, loss));
    fill_params(g, seed, 0.5f, 1.5f);
    fill_input(g, x, seed + 1, -1.0f, 1.0f);
}

static float *fixture(const char *name, size_t want)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/norm/%s.f32", name);
    size_t n = 0;
    float *d = dsc_test_read_f32(path, &n);
    CHECK(d != NULL);
    if (d && n != want) {
        fprintf(stderr, "fixture %s has %zu floats, expected %zu\n", name, n, want);
        dsc_test_failures++;
    }
    return d;
}

static void check_close(const char *what, const float *a, const float *b, size_t n, double tol)
{
    if (!a || !b)
        return;
    double e = dsc_test_max_rel(a, b, n, 1e-3);
    if (!(e <= tol)) {
        fprintf(stderr, "%s: max relative error %.3g > %.1g\n", what, e, tol);
        dsc_test_failures++;
    }
}

/* ---- batch norm ---------------------------------------------------------------------- */

/* x [shape] * S -> batch_norm (optionally affine / with running stats) -> quad loss. */
static void bn_gradcheck(const char *what, int ndim, const int64_t *shape, int affine, int running, int training)
{
    dsc_graph *g = dsc_graph_new();
    dsc_id x;
    dsc_id h = scaled_input(g, ndim, shape, &x);
    int64_t C = shape[1];
    dsc_id gm = affine ? dsc_param(g, "gamma", 1, &C) : -1, bt = affine ? dsc_param(g, "beta", 1, &C) : -1;
    dsc_id rm = running ? dsc_buffer(g, "rm", 1, &C) : -1, rv = running ? dsc_buffer(g, "rv", 1, &C) : -1;
    dsc_id y = dsc_batch_norm(g, h, gm, bt, rm, rv, 0.1f, 1e-5f);
    dsc_id loss = quad_loss(g, y, 77);
    CHECK(y >= 0 && loss >= 0);
    gc_setup(g, x, loss, 11);
    if (running) {
        float *b = dsc_graph_buffers(g, NULL);
        dsc_test_fill(b, (size_t)C, 12, -0.3f, 0.3f);         /* running mean */
        dsc_test_fill(b + C, (size_t)C, 13, 0.5f, 1.5f);      /* running var */
    }
    dsc_graph_set_training(g, training);
    dsc_test_gradcheck(what, g, 1e-2);
    dsc_graph_free(g);
}

static void test_bn_gradcheck_train(void)
{
    int64_t s2[2] = {6, 3}, s3[3] = {4, 3, 5}, s4[4] = {3, 2, 3, 3};
    bn_gradcheck("bn1d train affine", 2, s2, 1, 1, 1);
    bn_gradcheck("bn1d(L) train plain", 3, s3, 0, 0, 1);
    bn_gradcheck("bn2d train affine", 4, s4, 1, 1, 1);
    bn_gradcheck("bn2d train plain", 4, s4, 0, 1, 1);
}

static void test_bn_gradcheck_eval(void)
{
    int64_t s2[2] = {6, 3}, s3[3] = {4, 3, 5}, s4[4] = {3, 2, 3, 3};
    bn_gradcheck("bn1d eval affine", 2, s2, 1, 1, 0);
    bn_gradcheck("bn1d(L) eval plain", 3, s3, 0, 1, 0);
    bn_gradcheck("bn2d eval affine", 4, s4, 1, 1, 0);
    bn_gradcheck("bn2d eval no running stats", 4, s4, 1, 0, 0); /* batch statistics in eval */
}

/* Train step, running statistics, backward and eval output against torch. */
static void test_bn_torch(void)
{
    int64_t xs[4] = {4, 3, 2, 2}, C = 3;
    size_t nx = 48;
    dsc_graph *g = dsc_graph_new();
    dsc_id x = dsc_input(g, "x", 4, xs);
    dsc_id gm = dsc_param(g, "gamma", 1, &C), bt = dsc_param(g, "beta", 1, &C);
    dsc_id rm = dsc_buffer(g, "rm", 1, &C), rv = dsc_buffer(g, "rv", 1, &C);
    dsc_id y = dsc_batch_norm(g, x, gm, bt, rm, rv, 0.1f, 1e-5f);
    dsc_id cot = dsc_input(g, "cot", 4, xs);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    dsc_id loss = dsc_sum(g, dsc_mul(g, y, cot), 0, NULL, 0);
    CHECK_OK(dsc_graph_keep(g, y));
    CHECK_OK(dsc_graph_compile(g, loss));
    float *xv = fixture("bn_x", nx), *gv = fixture("bn_gamma", 3), *bv = fixture("bn_beta", 3);
    float *rm0 = fixture("bn_rm0", 3), *rv0 = fixture("bn_rv0", 3), *cv = fixture("bn_cot", nx);
    float *ytr = fixture("bn_train_y", nx), *rm1 = fixture("bn_rm1", 3), *rv1 = fixture("bn_rv1", 3);
    float *dx = fixture("bn_train_dx", nx), *dg = fixture("bn_train_dgamma", 3), *db = fixture("bn_train_dbeta", 3);
    float *yev = fixture("bn_eval_y", nx);
    if (xv && gv && bv && rm0 && rv0 && cv) {
        float *p = dsc_graph_params(g, NULL), *b = dsc_graph_buffers(g, NULL);
        memcpy(p, gv, 3 * sizeof(float));
        memcpy(p + 3, bv, 3 * sizeof(float));
        memcpy(b, rm0, 3 * sizeof(float));
        memcpy(b + 3, rv0, 3 * sizeof(float));
        CHECK_OK(dsc_graph_set_input(g, x, xv, nx));
        CHECK_OK(dsc_graph_set_input(g, cot, cv, nx));
        dsc_graph_set_training(g, 1);
        CHECK_OK(dsc_graph_forward(g));
        check_close("bn train y", dsc_node_value(g, y).data, ytr, nx, 1e-4);
        check_close("bn running mean", b, rm1, 3, 1e-5);
        check_close("bn running var", b + 3, rv1, 3, 1e-5);
        CHECK_OK(dsc_graph_backward(g));
        check_close("bn dx", dsc_node_grad(g, x).data, dx, nx, 1e-3);
        check_close("bn dgamma", dsc_graph_grads(g, NULL), dg, 3, 1e-4);
        check_close("bn dbeta", dsc_graph_grads(g, NULL) + 3, db, 3, 1e-5);
        /* Backward must not touch the running statistics. */
        check_close("bn running mean after backward", b, rm1, 3, 1e-5);
        dsc_graph_set_training(g, 0);
        CHECK_OK(dsc_graph_forward(g));
        check_close("bn eval y", dsc_node_value(g, y).data, yev, nx, 1e-4);
        check_close("bn eval keeps running var", b + 3, rv1, 3, 1e-6);
    }
    free(xv); free(gv); free(bv); free(rm0); free(rv0); free(cv); free(ytr); free(rm1); free(rv1);
    free(dx); free(dg); free(db); free(yev);
    dsc_graph_free(g);
}

/* With gradient checkpointing the BN node is recomputed during backward; the running
 * statistics must be updated once per forward, exactly as without checkpointing. */
static void test_bn_checkpoint_running_stats(void)
{
    float bufs[2][6];
    float grads[2][16];
    for (int ck = 0; ck < 2; ck++) {
        dsc_graph *g = dsc_graph_new();
        int64_t xs[2] = {8, 3}, C = 3;
        dsc_id x = dsc_input(g, "x", 2, xs);
        dsc_id S = dsc_param(g, "S", 1, &C);
        dsc_id h = dsc_mul(g, x, S);
        dsc_id rm = dsc_buffer(g, "rm", 1, &C), rv = dsc_buffer(g, "rv", 1, &C);
        dsc_id y = dsc_batch_norm(g, h, -1, -1, rm, rv, 0.1f, 1e-5f);
        dsc_id z = y;
        for (int k = 0; k < 6; k++)
            z = dsc_add(g, dsc_mul(g, z, z), z);
        dsc_id loss = dsc_mean(g, z, 0, NULL, 0);
        CHECK_OK(dsc_graph_set_checkpoint_segments(g, ck ? 3 : 0));
        CHECK_OK(dsc_graph_compile(g, loss));
        if (ck)
            CHECK(g->nodes[y].recompute); /* the test is meaningful only if BN is recomputed */
        fill_params(g, 5, 0.5f, 1.5f);
        float *b = dsc_graph_buffers(g, NULL);
        for (int c = 0; c < 3; c++) {
            b[c] = 0.0f;
            b[3 + c] = 1.0f;
        }
        fill_input(g, x, 6, -0.5f, 0.5f);
        CHECK_OK(dsc_graph_forward(g));
        CHECK_OK(dsc_graph_backward(g));
        memcpy(bufs[ck], b, sizeof bufs[ck]);
        memcpy(grads[ck], dsc_graph_grads(g, NULL), 3 * sizeof(float));
        dsc_graph_free(g);
    }
    CHECK(memcmp(bufs[0], bufs[1], sizeof bufs[0]) == 0);
    CHECK(memcmp(grads[0], grads[1], 3 * sizeof(float)) == 0);
}

static void test_bn_errors(void)
{
    dsc_graph *g = dsc_graph_new();
    int64_t xs[4] = {2, 3, 4, 4}, c4 = 4, c3 = 3;
    dsc_id x = dsc_input(g, "x", 4, xs);
    dsc_id gm = dsc_param(g, "g4", 1, &c4);
    CHECK(dsc_batch_norm(g, x, gm, -1, -1, -1, 0.1f, 1e-5f) == -1);
    CHECK(dsc_graph_status(g) == DSC_ERR_SHAPE);
    CHECK(strstr(dsc_graph_error(g), "gamma") != NULL && strstr(dsc_graph_error(g), "[2, 3, 4, 4]") != NULL);
    dsc_graph_free(g);
    g = dsc_graph_new();
    x = dsc_input(g, "x", 4, xs);
    dsc_id rm = dsc_buffer(g, "rm", 1, &c3);
    CHECK(dsc_batch_norm(g, x, -1, -1, rm, -1, 0.1f, 1e-5f) == -1); /* only one running buffer */
    CHECK(dsc_graph_status(g) == DSC_ERR_INVALID);
    dsc_graph_free(g);
    /* Batch of one value per channel in training: forward reports it. */
    g = dsc_graph_new();
    int64_t s1[2] = {1, 3};
    x = dsc_input(g, "x", 2, s1);
    dsc_id S = dsc_param(g, "S", 1, &c3);
    rm = dsc_buffer(g, "rm", 1, &c3);
    dsc_id rv = dsc_buffer(g, "rv", 1, &c3);
    dsc_id y = dsc_batch_norm(g, dsc_mul(g, x, S), -1, -1, rm, rv, 0.1f, 1e-5f);
    CHECK_OK(dsc_graph_compile(g, dsc_sum(g, y, 0, NULL, 0)));
    CHECK_STATUS(dsc_graph_forward(g), DSC_ERR_SHAPE);
    CHECK(strstr(dsc_last_error(), "more than 1 value per channel") != NULL);
    dsc_graph_set_training(g, 0);
    CHECK_OK(dsc_graph_forward(g)); /* eval with running stats: fine */
    dsc_graph_free(g);
}

/* ---- layer norm ---------------------------------------------------------------------- */

static void ln_gradcheck(const char *what, int ndim, const int64_t *shape, int nnorm, int affine)
{
    dsc_graph *g = dsc_graph_new();
    dsc_id x;
    dsc_id h = scaled_input(g, ndim, shape, &x);
    const int64_t *ps = shape + ndim - nnorm;
    dsc_id gm = affine ? dsc_param(g, "gamma", nnorm, ps) : -1, bt = affine ? dsc_param(g, "beta", nnorm, ps) : -1;
    dsc_id y = dsc_layer_norm(g, h, nnorm, gm, bt, 1e-5f);
    dsc_id loss = quad_loss(g, y, 78);
    CHECK(y >= 0);
    gc_setup(g, x, loss, 21);
    dsc_test_gradcheck(what, g, 1e-2);
    dsc_graph_free(g);
}

static void test_ln_gradcheck(void)
{
    int64_t s2[2] = {4, 6}, s3[3] = {3, 4, 5};
    ln_gradcheck("ln last dim affine", 2, s2, 1, 1);
    ln_gradcheck("ln last dim plain", 2, s2, 1, 0);
    ln_gradcheck("ln last 2 dims affine", 3, s3, 2, 1);
    ln_gradcheck("ln last dim of 3-d", 3, s3, 1, 1);
}

static void test_ln_torch(void)
{
    int64_t xs[3] = {3, 4, 5}, ps[2] = {4, 5};
    size_t nx = 60;
    dsc_graph *g = dsc_graph_new();
    dsc_id x = dsc_input(g, "x", 3, xs), cot = dsc_input(g, "cot", 3, xs);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    dsc_id gm = dsc_param(g, "gamma", 2, ps), bt = dsc_param(g, "beta", 2, ps);
    dsc_id y = dsc_layer_norm(g, x, 2, gm, bt, 1e-5f);
    dsc_id loss = dsc_sum(g, dsc_mul(g, y, cot), 0, NULL, 0);
    CHECK_OK(dsc_graph_keep(g, y));
    CHECK_OK(dsc_graph_compile(g, loss));
    float *xv = fixture("ln_x", nx), *gv = fixture("ln_gamma", 20), *bv = fixture("ln_beta", 20);
    float *cv = fixture("ln_cot", nx), *yv = fixture("ln_y", nx), *dx = fixture("ln_dx", nx);
    float *dg = fixture("ln_dgamma", 20), *db = fixture("ln_dbeta", 20);
    if (xv && gv && bv && cv) {
        float *p = dsc_graph_params(g, NULL);
        memcpy(p, gv, 20 * sizeof(float));
        memcpy(p + 20, bv, 20 * sizeof(float));
        CHECK_OK(dsc_graph_set_input(g, x, xv, nx));
        CHECK_OK(dsc_graph_set_input(g, cot, cv, nx));
        CHECK_OK(dsc_graph_forward(g));
        check_close("ln y", dsc_node_value(g, y).data, yv, nx, 1e-4);
        CHECK_OK(dsc_graph_backward(g));
        check_close("ln dx", dsc_node_grad(g, x).data, dx, nx, 1e-3);
        check_close("ln dgamma", dsc_graph_grads(g, NULL), dg, 20, 1e-4);
        check_close("ln dbeta", dsc_graph_grads(g, NULL) + 20, db, 20, 1e-5);
    }
    free(xv); free(gv); free(bv); free(cv); free(yv); free(dx); free(dg); free(db);
    dsc_graph_free(g);
}

/* Per-example gradients of layer_norm's gamma/beta (and of a scale before it) equal the
 * gradients of each example's loss computed alone (batch of one). */
static void test_ln_per_example(void)
{
    const int64_t B = 4;
    int64_t xs[3] = {B, 3, 5}, ps[1] = {5};
    dsc_graph *g = dsc_graph_new();
    dsc_id x = dsc_input(g, "x", 3, xs), t = dsc_input(g, "t", 3, xs);
    dsc_id gm = dsc_param(g, "gamma", 1, ps), bt = dsc_param(g, "beta", 1, ps);
    dsc_id y = dsc_layer_norm(g, x, 1, gm, bt, 1e-5f);
    dsc_id loss = dsc_mse_loss(g, y, t, DSC_REDUCE_MEAN);
    CHECK_OK(dsc_graph_compile(g, loss));
    fill_params(g, 31, 0.5f, 1.5f);
    float xv[60], tv[60];
    dsc_test_fill(xv, 60, 32, -1, 1);
    dsc_test_fill(tv, 60, 33, -1, 1);
    CHECK_OK(dsc_graph_set_input(g, x, xv, 60));
    CHECK_OK(dsc_graph_set_input(g, t, tv, 60));
    size_t P;
    dsc_graph_params(g, &P);
    float *pe = calloc((size_t)B * P, sizeof(float));
    CHECK_OK(dsc_graph_per_example_grads(g, pe));
    CHECK_OK(dsc_graph_set_batch(g, 1));
    for (int64_t b = 0; b < B; b++) {
        CHECK_OK(dsc_graph_set_input(g, x, xv + b * 15, 15));
        CHECK_OK(dsc_graph_set_input(g, t, tv + b * 15, 15));
        CHECK_OK(dsc_graph_forward(g));
        CHECK_OK(dsc_graph_backward(g));
        double e = dsc_test_scaled_err(pe + b * P, dsc_graph_grads(g, NULL), P, 1e-6);
        if (!(e <= 1e-5)) {
            fprintf(stderr, "ln per-example row %lld: error %.3g\n", (long long)b, e);
            dsc_test_failures++;
        }
    }
    free(pe);
    dsc_graph_free(g);
}

/* Per-example rule of batch_norm: supported in eval mode (running statistics), refused in
 * train mode. */
static void test_bn_per_example(void)
{
    const int64_t B = 3;
    int64_t xs[4] = {B, 2, 2, 2}, C = 2;
    dsc_graph *g = dsc_graph_new();
    dsc_id x = dsc_input(g, "x", 4, xs), t = dsc_input(g, "t", 4, xs);
    dsc_id gm = dsc_param(g, "gamma", 1, &C), bt = dsc_param(g, "beta", 1, &C);
    dsc_id rm = dsc_buffer(g, "rm", 1, &C), rv = dsc_buffer(g, "rv", 1, &C);
    dsc_id y = dsc_batch_norm(g, x, gm, bt, rm, rv, 0.1f, 1e-5f);
    dsc_id loss = dsc_mse_loss(g, y, t, DSC_REDUCE_MEAN);
    CHECK_OK(dsc_graph_compile(g, loss));
    fill_params(g, 41, 0.5f, 1.5f);
    float *bf = dsc_graph_buffers(g, NULL);
    bf[0] = 0.1f, bf[1] = -0.2f, bf[2] = 0.8f, bf[3] = 1.3f;
    float xv[24], tv[24];
    dsc_test_fill(xv, 24, 42, -1, 1);
    dsc_test_fill(tv, 24, 43, -1, 1);
    CHECK_OK(dsc_graph_set_input(g, x, xv, 24));
    CHECK_OK(dsc_graph_set_input(g, t, tv, 24));
    size_t P;
    dsc_graph_params(g, &P);
    float *pe = calloc((size_t)B * P, sizeof(float));
    dsc_graph_set_training(g, 1);
    CHECK_STATUS(dsc_graph_per_example_grads(g, pe), DSC_ERR_UNSUPPORTED);
    CHECK(strstr(dsc_last_error(), "batch_norm") != NULL);
    dsc_graph_set_training(g, 0);
    CHECK_OK(dsc_graph_per_example_grads(g, pe));
    CHECK_OK(dsc_graph_set_batch(g, 1));
    for (int64_t b = 0; b < B; b++) {
        CHECK_OK(dsc_graph_set_input(g, x, xv + b * 8, 8));
        CHECK_OK(dsc_graph_set_input(g, t, tv + b * 8, 8));
        CHECK_OK(dsc_graph_forward(g));
        CHECK_OK(dsc_graph_backward(g));
        double e = dsc_test_scaled_err(pe + b * P, dsc_graph_grads(g, NULL), P, 1e-6);
        if (!(e <= 1e-5)) {
            fprintf(stderr, "bn per-example row %lld: error %.3g\n", (long long)b, e);
            dsc_test_failures++;
        }
    }
    free(pe);
    dsc_graph_free(g);
    /* Eval mode without running buffers normalizes with batch statistics: refused. */
    g = dsc_graph_new();
    x = dsc_input(g, "x", 4, xs), t = dsc_input(g, "t", 4, xs);
    gm = dsc_param(g, "gamma", 1, &C);
    y = dsc_batch_norm(g, x, gm, -1, -1, -1, 0.1f, 1e-5f);
    CHECK_OK(dsc_graph_compile(g, dsc_mse_loss(g, y, t, DSC_REDUCE_MEAN)));
    CHECK_OK(dsc_graph_set_input(g, x, xv, 24));
    CHECK_OK(dsc_graph_set_input(g, t, tv, 24));
    dsc_graph_set_training(g, 0);
    dsc_graph_params(g, &P);
    pe = calloc((size_t)B * P, sizeof(float));
    CHECK_STATUS(dsc_graph_per_example_grads(g, pe), DSC_ERR_UNSUPPORTED);
    CHECK(strstr(dsc_last_error(), "batch statistics") != NULL);
    free(pe);
    dsc_graph_free(g);
}

/* ---- pooling ---------------------------------------------------------------------------- */

static dsc_pool_opts popts(int kh, int kw, int sh, int sw, int ph, int pw, int ceil_mode, int include_pad)
{
    dsc_pool_opts o;
    memset(&o, 0, sizeof o);
    o.kernel[0] = kh, o.kernel[1] = kw, o.stride[0] = sh, o.stride[1] = sw;
    o.padding[0] = ph, o.padding[1] = pw, o.ceil_mode = ceil_mode, o.count_include_pad = include_pad;
    return o;
}

/* Pool of (x + B) with B a small parameter; x holds distinct values 0.05 apart (shuffled),
 * so no finite-difference step crosses a tie of max pooling. */
static void pool_gradcheck(const char *what, int is_max, dsc_pool_opts o, int64_t H, int64_t W)
{
    dsc_graph *g = dsc_graph_new();
    int64_t xs[4] = {2, 2, H, W};
    dsc_id x = dsc_input(g, "x", 4, xs);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    dsc_id Bp = dsc_param(g, "B", 3, xs + 1);
    dsc_id h = dsc_add(g, x, Bp);
    dsc_id y = is_max ? dsc_max_pool2d(g, h, o) : dsc_avg_pool2d(g, h, o);
    dsc_id loss = quad_loss(g, y, 79);
    CHECK(y >= 0);
    CHECK_OK(dsc_graph_compile(g, loss));
    fill_params(g, 51, -0.005f, 0.005f);
    size_t n = (size_t)(2 * 2 * H * W);
    float *v = malloc(n * sizeof(float));
    int64_t *perm = malloc(n * sizeof(int64_t));
    dsc_rng r = dsc_rng_seed(52);
    dsc_rng_permutation(&r, perm, (int64_t)n);
    for (size_t i = 0; i < n; i++)
        v[i] = -1.0f + 0.05f * (float)perm[i] * (40.0f / (float)n);
    CHECK_OK(dsc_graph_set_input(g, x, v, n));
    dsc_test_gradcheck(what, g, 1e-2);
    free(v);
    free(perm);
    dsc_graph_free(g);
}

static void test_pool_gradcheck(void)
{
    pool_gradcheck("max 2x2", 1, popts(2, 2, 0, 0, 0, 0, 0, 1), 6, 6);
    pool_gradcheck("max 2x2 ceil odd", 1, popts(2, 2, 2, 2, 0, 0, 1, 1), 5, 7);
    pool_gradcheck("max 3x3 s2 p1 ceil", 1, popts(3, 3, 2, 2, 1, 1, 1, 1), 7, 6);
    pool_gradcheck("max 2x3 s1x2 p1", 1, popts(2, 3, 1, 2, 1, 1, 0, 1), 5, 6);
    pool_gradcheck("avg 2x2", 0, popts(2, 2, 0, 0, 0, 0, 0, 1), 6, 6);
    pool_gradcheck("avg 3x3 s2 p1 ceil nopad", 0, popts(3, 3, 2, 2, 1, 1, 1, 0), 7, 6);
    pool_gradcheck("avg 3x3 s2 p1 ceil pad", 0, popts(3, 3, 2, 2, 1, 1, 1, 1), 7, 6);
    /* global average pool */
    dsc_graph *g = dsc_graph_new();
    int64_t xs[4] = {2, 3, 4, 5};
    dsc_id x;
    dsc_id h = scaled_input(g, 4, xs, &x);
    dsc_id y = dsc_global_avg_pool2d(g, h);
    dsc_shape ys = dsc_node_shape(g, y);
    CHECK(ys.ndim == 2 && ys.dim[0] == 2 && ys.dim[1] == 3);
    gc_setup(g, x, quad_loss(g, y, 80), 53);
    dsc_test_gradcheck("global avg pool", g, 1e-2);
    dsc_graph_free(g);
}

static void pool_torch_case(const char *fix, int is_max, int gap, dsc_pool_opts o, int64_t OH, int64_t OW,
                            const float *xv)
{
    dsc_graph *g = dsc_graph_new();
    int64_t xs[4] = {2, 3, 7, 6};
    dsc_id x = dsc_input(g, "x", 4, xs);
    dsc_id y = gap ? dsc_global_avg_pool2d(g, x) : is_max ? dsc_max_pool2d(g, x, o) : dsc_avg_pool2d(g, x, o);
    dsc_shape s = dsc_node_shape(g, y);
    size_t ny = (size_t)dsc_shape_numel(&s);
    if (!gap)
        CHECK(s.ndim == 4 && s.dim[2] == OH && s.dim[3] == OW);
    CHECK_OK(dsc_graph_compile(g, dsc_sum(g, y, 0, NULL, 0)));
    CHECK_OK(dsc_graph_set_input(g, x, xv, 252));
    CHECK_OK(dsc_graph_forward(g));
    float *want = fixture(fix, gap ? 6 : (size_t)(6 * OH * OW));
    if (want && ny == (gap ? 6 : (size_t)(6 * OH * OW)))
        check_close(fix, dsc_node_value(g, y).data, want, ny, 1e-5);
    free(want);
    dsc_graph_free(g);
}

static void test_pool_torch(void)
{
    float *xv = fixture("pool_x", 252);
    if (!xv)
        return;
    pool_torch_case("mp_k3s2p1_ceil", 1, 0, popts(3, 3, 2, 2, 1, 1, 1, 1), 4, 4, xv);
    pool_torch_case("mp_k2s2_ceil", 1, 0, popts(2, 2, 0, 0, 0, 0, 1, 1), 4, 3, xv);
    pool_torch_case("mp_k2x3s1x2_floor", 1, 0, popts(2, 3, 1, 2, 1, 1, 0, 1), 8, 3, xv);
    pool_torch_case("ap_k3s2p1_ceil_nopad", 0, 0, popts(3, 3, 2, 2, 1, 1, 1, 0), 4, 4, xv);
    pool_torch_case("ap_k3s2p1_ceil_pad", 0, 0, popts(3, 3, 2, 2, 1, 1, 1, 1), 4, 4, xv);
    pool_torch_case("gap", 0, 1, popts(1, 1, 0, 0, 0, 0, 0, 1), 1, 1, xv);
    free(xv);
}

/* The vectorized 2x2 / stride-2 max pool against the general loop (DSC_POOL_GENERIC=1):
 * values and argmax bit-identical on data with many ties, NaNs and -inf. The argmax is read
 * through the JVP: with input tangent x' = flat index, y' = x'[argmax] is the argmax itself. */
static void pool2x2_run(int64_t N, int64_t C, int64_t H, int64_t W, int ceil_mode, const float *xv, float *yv,
                        float *iv)
{
    dsc_graph *g = dsc_graph_new();
    int64_t xs[4] = {N, C, H, W};
    dsc_id x = dsc_input(g, "x", 4, xs);
    dsc_id y = dsc_max_pool2d(g, x, popts(2, 2, 0, 0, 0, 0, ceil_mode, 1));
    CHECK_OK(dsc_graph_compile(g, dsc_sum(g, y, 0, NULL, 0)));
    size_t nx = (size_t)(N * C * H * W);
    float *t = malloc(nx * sizeof(float));
    for (size_t i = 0; i < nx; i++)
        t[i] = (float)i;
    CHECK_OK(dsc_graph_set_input(g, x, xv, nx));
    CHECK_OK(dsc_graph_set_input_tangent(g, x, t, nx));
    CHECK_OK(dsc_graph_jvp(g, NULL));
    dsc_tensor yt = dsc_node_value(g, y), tt = dsc_node_tangent(g, y);
    memcpy(yv, yt.data, (size_t)dsc_tensor_numel(&yt) * sizeof(float));
    memcpy(iv, tt.data, (size_t)dsc_tensor_numel(&yt) * sizeof(float));
    free(t);
    dsc_graph_free(g);
}

static void test_pool2x2_fast_vs_general(void)
{
    const int64_t cases[][5] = {{3, 5, 24, 24, 0}, {2, 7, 8, 8, 0}, {2, 3, 7, 9, 0}, {1, 2, 2, 34, 0},
                                {2, 3, 5, 7, 1}, {1, 1, 2, 2, 0}, {2, 2, 10, 66, 0}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const int64_t N = cases[c][0], C = cases[c][1], H = cases[c][2], W = cases[c][3];
        const int ceil_mode = (int)cases[c][4];
        const size_t nx = (size_t)(N * C * H * W), ny = (size_t)(N * C * ((H + ceil_mode) / 2) * ((W + ceil_mode) / 2));
        float *xv = malloc(nx * sizeof(float)), *y[2], *ix[2];
        dsc_test_fill(xv, nx, 500 + c, -2, 2);
        for (size_t i = 0; i < nx; i++) {
            xv[i] = floorf(xv[i]); /* 4 levels: ties in most windows */
            if (i % 11 == 3)
                xv[i] = NAN;
            else if (i % 13 == 5)
                xv[i] = -INFINITY;
            else if (i % 17 == 2)
                xv[i] = -NAN;
        }
        for (int k = 0; k < 2; k++) {
            y[k] = malloc(ny * sizeof(float));
            ix[k] = malloc(ny * sizeof(float));
            if (k)
                setenv("DSC_POOL_GENERIC", "1", 1);
            pool2x2_run(N, C, H, W, ceil_mode, xv, y[k], ix[k]);
            unsetenv("DSC_POOL_GENERIC");
        }
        if (memcmp(y[0], y[1], ny * sizeof(float)) != 0 || memcmp(ix[0], ix[1], ny * sizeof(float)) != 0) {
            fprintf(stderr, "max_pool2d 2x2 fast vs general differ on [%lld, %lld, %lld, %lld] ceil %d\n",
                    (long long)N, (long long)C, (long long)H, (long long)W, ceil_mode);
            dsc_test_failures++;
        }
        for (int k = 0; k < 2; k++) {
            free(y[k]);
            free(ix[k]);
        }
        free(xv);
    }
}

/* Ties go to the first maximum (gradient lands there), and bad options are rejected. */
static void test_pool_ties_and_errors(void)
{
    dsc_graph *g = dsc_graph_new();
    int64_t xs[4] = {1, 1, 2, 2};
    dsc_id x = dsc_input(g, "x", 4, xs);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    dsc_id y = dsc_max_pool2d(g, x, popts(2, 2, 0, 0, 0, 0, 0, 1));
    CHECK_OK(dsc_graph_compile(g, dsc_sum(g, y, 0, NULL, 0)));
    float v[4] = {1.0f, 3.0f, 3.0f, 2.0f};
    CHECK_OK(dsc_graph_set_input(g, x, v, 4));
    CHECK_OK(dsc_graph_forward(g));
    CHECK_OK(dsc_graph_backward(g));
    const float *gx = dsc_node_grad(g, x).data;
    CHECK(gx[0] == 0.0f && gx[1] == 1.0f && gx[2] == 0.0f && gx[3] == 0.0f);
    dsc_graph_free(g);

    g = dsc_graph_new();
    int64_t s4[4] = {1, 1, 4, 4}, s3[3] = {1, 4, 4};
    x = dsc_input(g, "x", 4, s4);
    CHECK(dsc_max_pool2d(g, x, popts(2, 2, 0, 0, 2, 0, 0, 1)) == -1); /* padding > kernel/2 */
    CHECK(dsc_graph_status(g) == DSC_ERR_INVALID && strstr(dsc_graph_error(g), "half") != NULL);
    dsc_graph_free(g);
    g = dsc_graph_new();
    x = dsc_input(g, "x", 3, s3);
    CHECK(dsc_avg_pool2d(g, x, popts(2, 2, 0, 0, 0, 0, 0, 1)) == -1);
    CHECK(strstr(dsc_graph_error(g), "4-d") != NULL);
    dsc_graph_free(g);
    g = dsc_graph_new();
    x = dsc_input(g, "x", 4, s4);
    CHECK(dsc_max_pool2d(g, x, popts(5, 5, 0, 0, 0, 0, 0, 1)) == -1); /* kernel larger than input */
    CHECK(dsc_graph_status(g) == DSC_ERR_SHAPE);
    dsc_graph_free(g);
}

/* ---- dropout ----------------------------------------------------------------------------- */

static void test_dropout_gradcheck(void)
{
    dsc_graph *g = dsc_graph_new();
    int64_t xs[3] = {4, 3, 5};
    dsc_id x;
    dsc_id h = scaled_input(g, 3, xs, &x);
    dsc_id y = dsc_dropout(g, h, 0.3f);
    dsc_id loss = quad_loss(g, y, 81);
    gc_setup(g, x, loss, 61);
    dsc_graph_set_seed(g, 99);
    dsc_graph_set_training(g, 1);
    dsc_test_gradcheck("dropout train", g, 1e-2);
    dsc_graph_set_training(g, 0);
    dsc_test_gradcheck("dropout eval", g, 1e-2);
    dsc_graph_free(g);
}

static void test_dropout_stats_and_determinism(void)
{
    const int64_t N = 100000;
    const float p = 0.3f;
    int64_t xs[2] = {100, 1000};
    dsc_graph *g = dsc_graph_new();
    dsc_id x = dsc_input(g, "x", 2, xs);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    dsc_id y = dsc_dropout(g, x, p);
    CHECK_OK(dsc_graph_compile(g, dsc_sum(g, y, 0, NULL, 0)));
    float *xv = malloc((size_t)N * sizeof(float)), *y1 = malloc((size_t)N * sizeof(float));
    dsc_test_fill(xv, (size_t)N, 71, 0.5f, 1.5f); /* never zero */
    CHECK_OK(dsc_graph_set_input(g, x, xv, (size_t)N));
    dsc_graph_set_seed(g, 1234);
    int nt = dsc_get_num_threads();
    dsc_set_num_threads(1);
    dsc_graph_set_forward_counter(g, 10);
    CHECK_OK(dsc_graph_forward(g));
    const float *yv = dsc_node_value(g, y).data;
    memcpy(y1, yv, (size_t)N * sizeof(float));
    int64_t zeros = 0, badscale = 0;
    for (int64_t i = 0; i < N; i++) {
        if (yv[i] == 0.0f)
            zeros++;
        else if (fabsf(yv[i] - xv[i] / (1.0f - p)) > 1e-6f * fabsf(yv[i]))
            badscale++;
    }
    double frac = (double)zeros / (double)N;
    CHECK(fabs(frac - p) < 0.006); /* 4 standard deviations */
    CHECK(badscale == 0);
    /* Backward: gradient is the mask. */
    CHECK_OK(dsc_graph_backward(g));
    const float *gx = dsc_node_grad(g, x).data;
    int64_t badgrad = 0;
    for (int64_t i = 0; i < N; i++)
        if ((yv[i] == 0.0f) != (gx[i] == 0.0f))
            badgrad++;
    CHECK(badgrad == 0);
    /* Same (seed, counter) with 2 threads: identical mask. */
    dsc_set_num_threads(2);
    dsc_graph_set_forward_counter(g, 10);
    CHECK_OK(dsc_graph_forward(g));
    CHECK(memcmp(y1, dsc_node_value(g, y).data, (size_t)N * sizeof(float)) == 0);
    /* Next forward (counter advances): a different mask. */
    CHECK_OK(dsc_graph_forward(g));
    CHECK(memcmp(y1, dsc_node_value(g, y).data, (size_t)N * sizeof(float)) != 0);
    /* Another seed: a different mask. */
    dsc_graph_set_seed(g, 1235);
    dsc_graph_set_forward_counter(g, 10);
    CHECK_OK(dsc_graph_forward(g));
    CHECK(memcmp(y1, dsc_node_value(g, y).data, (size_t)N * sizeof(float)) != 0);
    dsc_set_num_threads(nt);
    /* Eval: identity, and the forward counter does not move. */
    dsc_graph_set_training(g, 0);
    uint64_t c = dsc_graph_forward_counter(g);
    CHECK_OK(dsc_graph_forward(g));
    CHECK(memcmp(xv, dsc_node_value(g, y).data, (size_t)N * sizeof(float)) == 0);
    CHECK(dsc_graph_forward_counter(g) == c);
    free(xv);
    free(y1);
    dsc_graph_free(g);
    /* p outside [0, 1) */
    g = dsc_graph_new();
    x = dsc_input(g, "x", 2, xs);
    CHECK(dsc_dropout(g, x, 1.0f) == -1);
    CHECK(dsc_graph_status(g) == DSC_ERR_RANGE);
    dsc_graph_free(g);
    g = dsc_graph_new();
    x = dsc_input(g, "x", 2, xs);
    CHECK(dsc_dropout(g, x, -0.1f) == -1);
    dsc_graph_free(g);
}


/* A checkpointed segment holding dropout is recomputed during backward with the same mask:
 * gradients are bit-identical to those without checkpointing. */
static void test_dropout_checkpoint(void)
{
    float grads[2][5];
    for (int ck = 0; ck < 2; ck++) {
        dsc_graph *g = dsc_graph_new();
        int64_t xs[2] = {16, 5};
        dsc_id x = dsc_input(g, "x", 2, xs);
        dsc_id S = dsc_param(g, "S", 1, xs + 1);
        dsc_id h = dsc_mul(g, x, S);
        dsc_id d = dsc_dropout(g, h, 0.5f);
        dsc_id z = d;
        for (int k = 0; k < 6; k++)
            z = dsc_add(g, dsc_mul(g, z, z), z);
        dsc_id loss = dsc_mean(g, z, 0, NULL, 0);
        CHECK_OK(dsc_graph_set_checkpoint_segments(g, ck ? 3 : 0));
        CHECK_OK(dsc_graph_compile(g, loss));
        if (ck)
            CHECK(g->nodes[d].recompute);
        fill_params(g, 7, 0.5f, 1.5f);
        fill_input(g, x, 8, -0.5f, 0.5f);
        dsc_graph_set_seed(g, 5);
        CHECK_OK(dsc_graph_forward(g));
        CHECK_OK(dsc_graph_backward(g));
        memcpy(grads[ck], dsc_graph_grads(g, NULL), sizeof grads[ck]);
        dsc_graph_free(g);
    }
    CHECK(memcmp(grads[0], grads[1], sizeof grads[0]) == 0);
}


/* Gradients (and HVP) through batch_norm, max/avg pool, layer_norm and embedding are
 * bit-identical for 1 and 2 threads (sizes above the parallel thresholds). */
static void test_threads_bit_identical(void)
{
    int64_t xs[4] = {8, 8, 16, 20}, C = 8, L = 10, is[2] = {8, 300}, ws[2] = {50, 70};
    dsc_graph *g = dsc_graph_new();
    dsc_id x;
    dsc_id h = scaled_input(g, 4, xs, &x);
    dsc_id gm = dsc_param(g, "gamma", 1, &C), bt = dsc_param(g, "beta", 1, &C);
    dsc_id rm = dsc_buffer(g, "rm", 1, &C), rv = dsc_buffer(g, "rv", 1, &C);
    h = dsc_batch_norm(g, h, gm, bt, rm, rv, 0.1f, 1e-5f);
    dsc_id m = dsc_max_pool2d(g, h, popts(2, 2, 0, 0, 0, 0, 0, 1));
    dsc_id a = dsc_avg_pool2d(g, h, popts(3, 3, 2, 2, 1, 1, 1, 0));
    dsc_id lg = dsc_param(g, "lg", 1, &L);
    dsc_id y1 = dsc_layer_norm(g, m, 1, lg, -1, 1e-5f);
    dsc_id ix = dsc_input(g, "idx", 2, is);
    dsc_id w = dsc_param(g, "w", 2, ws);
    dsc_id e = dsc_embedding(g, ix, w);
    dsc_id loss = dsc_add(g, dsc_add(g, quad_loss(g, y1, 1), quad_loss(g, a, 2)), quad_loss(g, e, 3));
    CHECK_OK(dsc_graph_compile(g, loss));
    fill_params(g, 3, 0.5f, 1.5f);
    fill_input(g, x, 4, -1.0f, 1.0f);
    float idx[2400];
    for (int i = 0; i < 2400; i++)
        idx[i] = (float)((i * 37) % 50);
    CHECK_OK(dsc_graph_set_input(g, ix, idx, 2400));
    size_t P;
    dsc_graph_params(g, &P);
    float *g1 = malloc(P * sizeof(float)), *h1 = malloc(P * sizeof(float)), *h2 = malloc(P * sizeof(float));
    float *v = malloc(P * sizeof(float));
    dsc_test_fill(v, P, 9, -1, 1);
    int nt = dsc_get_num_threads();
    for (int t = 1; t <= 2; t++) {
        dsc_set_num_threads(t);
        dsc_graph_set_forward_counter(g, 0);
        CHECK_OK(dsc_graph_forward(g));
        CHECK_OK(dsc_graph_backward(g));
        dsc_graph_set_forward_counter(g, 0);
        CHECK_OK(dsc_graph_hvp(g, v, t == 1 ? h1 : h2));
        if (t == 1)
            memcpy(g1, dsc_graph_grads(g, NULL), P * sizeof(float));
    }
    dsc_set_num_threads(nt);
    CHECK(memcmp(g1, dsc_graph_grads(g, NULL), P * sizeof(float)) == 0);
    CHECK(memcmp(h1, h2, P * sizeof(float)) == 0);
    free(g1);
    free(h1);
    free(h2);
    free(v);
    dsc_graph_free(g);
}

/* ---- embedding ---------------------------------------------------------------------------- */

static void test_embedding(void)
{
    int64_t is[2] = {3, 4}, ws[2] = {6, 3};
    dsc_graph *g = dsc_graph_new();
    dsc_id ix = dsc_input(g, "idx", 2, is);
    dsc_id w = dsc_param(g, "w", 2, ws);
    dsc_id y = dsc_embedding(g, ix, w);
    dsc_shape s = dsc_node_shape(g, y);
    CHECK(s.ndim == 3 && s.dim[0] == 3 && s.dim[1] == 4 && s.dim[2] == 3);
    dsc_id loss = quad_loss(g, y, 82);
    CHECK_OK(dsc_graph_keep(g, y));
    CHECK_OK(dsc_graph_compile(g, loss));
    fill_params(g, 91, -1.0f, 1.0f);
    float idx[12] = {0, 5, 2, 2, 1, 1, 1, 3, 5, 0, 4, 2}; /* repeated rows */
    CHECK_OK(dsc_graph_set_input(g, ix, idx, 12));
    dsc_test_gradcheck("embedding", g, 1e-2);
    /* Values: row lookup. */
    CHECK_OK(dsc_graph_forward(g));
    const float *wv = dsc_graph_params(g, NULL), *yv = dsc_node_value(g, y).data;
    int ok = 1;
    for (int i = 0; i < 12; i++)
        for (int j = 0; j < 3; j++)
            ok &= yv[i * 3 + j] == wv[(int)idx[i] * 3 + j];
    CHECK(ok);
    /* Out-of-range and non-integer indices: forward reports them, rows are zeros. */
    float bad[12] = {0, 5, 2, 6, 1, 1, 1, 3, 5, 0, 4, 2};
    CHECK_OK(dsc_graph_set_input(g, ix, bad, 12));
    CHECK_STATUS(dsc_graph_forward(g), DSC_ERR_RANGE);
    CHECK(strstr(dsc_last_error(), "index 6 at position 3") != NULL);
    CHECK(yv[9] == 0.0f && yv[10] == 0.0f && yv[11] == 0.0f);
    CHECK_STATUS(dsc_graph_backward(g), DSC_ERR_STATE); /* the failed forward does not count */
    bad[3] = 1.5f;
    CHECK_OK(dsc_graph_set_input(g, ix, bad, 12));
    CHECK_STATUS(dsc_graph_forward(g), DSC_ERR_RANGE);
    bad[3] = -1.0f;
    CHECK_OK(dsc_graph_set_input(g, ix, bad, 12));
    CHECK_STATUS(dsc_graph_forward(g), DSC_ERR_RANGE);
    CHECK_OK(dsc_graph_set_input(g, ix, idx, 12));
    CHECK_OK(dsc_graph_forward(g));
    dsc_graph_free(g);
}

/* Per-example weight gradients of embedding equal one-at-a-time gradients. */
static void test_embedding_per_example(void)
{
    const int64_t B = 3;
    int64_t is[2] = {B, 4}, ws[2] = {5, 2}, ts[3] = {B, 4, 2};
    dsc_graph *g = dsc_graph_new();
    dsc_id ix = dsc_input(g, "idx", 2, is), t = dsc_input(g, "t", 3, ts);
    dsc_id w = dsc_param(g, "w", 2, ws);
    dsc_id loss = dsc_mse_loss(g, dsc_embedding(g, ix, w), t, DSC_REDUCE_MEAN);
    CHECK_OK(dsc_graph_compile(g, loss));
    fill_params(g, 95, -1.0f, 1.0f);
    float idx[12] = {0, 4, 4, 1, 2, 2, 2, 3, 0, 1, 1, 4}, tv[24];
    dsc_test_fill(tv, 24, 96, -1, 1);
    CHECK_OK(dsc_graph_set_input(g, ix, idx, 12));
    CHECK_OK(dsc_graph_set_input(g, t, tv, 24));
    size_t P;
    dsc_graph_params(g, &P);
    float *pe = calloc((size_t)B * P, sizeof(float));
    CHECK_OK(dsc_graph_per_example_grads(g, pe));
    CHECK_OK(dsc_graph_set_batch(g, 1));
    for (int64_t b = 0; b < B; b++) {
        CHECK_OK(dsc_graph_set_input(g, ix, idx + b * 4, 4));
        CHECK_OK(dsc_graph_set_input(g, t, tv + b * 8, 8));
        CHECK_OK(dsc_graph_forward(g));
        CHECK_OK(dsc_graph_backward(g));
        double e = dsc_test_scaled_err(pe + b * P, dsc_graph_grads(g, NULL), P, 1e-6);
        if (!(e <= 1e-5)) {
            fprintf(stderr, "embedding per-example row %lld: error %.3g\n", (long long)b, e);
            dsc_test_failures++;
        }
    }
    free(pe);
    dsc_graph_free(g);
}

DSC_TEST_MAIN("norm_pool", TEST(test_bn_gradcheck_train), TEST(test_bn_gradcheck_eval), TEST(test_bn_torch),
              TEST(test_bn_checkpoint_running_stats), TEST(test_bn_errors), TEST(test_bn_per_example),
              TEST(test_ln_gradcheck), TEST(test_ln_torch), TEST(test_ln_per_example), TEST(test_pool_gradcheck),
              TEST(test_pool_torch), TEST(test_pool_ties_and_errors), TEST(test_pool2x2_fast_vs_general), TEST(test_dropout_gradcheck),
              TEST(test_dropout_stats_and_determinism), TEST(test_dropout_checkpoint), TEST(test_embedding), TEST(test_embedding_per_example),
              TEST(test_threads_bit_identical))
