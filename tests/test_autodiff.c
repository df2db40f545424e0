/* Engine tests on the core ops: finite-difference checks of VJP/JVP/HVP, broadcasting,
 * weight sharing, input gradients, checkpointing, batch resizing, sticky errors. */
#include <stdlib.h>
#include <string.h>

#include "testing.h"

static void fill_params(dsc_graph *g, uint64_t seed)
{
    size_t n;
    float *p = dsc_graph_params(g, &n);
    dsc_test_fill(p, n, seed, -1.0f, 1.0f);
}

static void test_binary_gradcheck(void)
{
    dsc_graph *g = dsc_graph_new();
    int64_t xs[2] = {4, 3}, ws[1] = {3}, bs[2] = {1, 3};
    dsc_id x = dsc_input(g, "x", 2, xs);
    dsc_id w = dsc_param(g, "w", 1, ws);
    dsc_id b = dsc_param(g, "b", 2, bs);
    dsc_id c = dsc_param(g, "c", 1, ws);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    dsc_id y = dsc_mul(g, x, w);             /* broadcast [4,3] * [3] */
    y = dsc_add(g, y, b);                    /* + [1,3] */
    y = dsc_div(g, y, dsc_add_scalar(g, dsc_mul(g, c, c), 1.5f));
    y = dsc_mul(g, y, y);                    /* weight sharing: same node twice */
    y = dsc_sub(g, y, dsc_mul(g, x, x));
    dsc_id loss = dsc_mean(g, y, 0, NULL, 0);
    CHECK_OK(dsc_graph_compile(g, loss));
    fill_params(g, 1);
    float xv[12];
    dsc_test_fill(xv, 12, 2, -1, 1);
    CHECK_OK(dsc_graph_set_input(g, x, xv, 12));
    dsc_test_gradcheck("binary", g, 1e-2);
    dsc_graph_free(g);
}

static void test_pow_gradcheck(void)
{
    dsc_graph *g = dsc_graph_new();
    int64_t s[2] = {3, 4};
    dsc_id x = dsc_input(g, "x", 2, s);
    dsc_id p = dsc_param(g, "p", 2, s);
    dsc_id y = dsc_pow(g, dsc_add_scalar(g, dsc_mul(g, x, x), 0.5f), p);
    dsc_id loss = dsc_sum(g, y, 0, NULL, 0);
    CHECK_OK(dsc_graph_compile(g, loss));
    fill_params(g, 3);
    float xv[12];
    dsc_test_fill(xv, 12, 4, -1, 1);
    CHECK_OK(dsc_graph_set_input(g, x, xv, 12));
    dsc_test_gradcheck("pow", g, 1e-2);
    dsc_graph_free(g);
}

static void test_sticky_error(void)
{
    dsc_graph *g = dsc_graph_new();
    int64_t a[2] = {2, 3}, b[2] = {4, 5};
    dsc_id x = dsc_input(g, "x", 2, a);
    dsc_id y = dsc_param(g, "y", 2, b);
    dsc_id z = dsc_add(g, x, y);
    CHECK(z == -1);
    CHECK(dsc_graph_status(g) == DSC_ERR_SHAPE);
    CHECK(strstr(dsc_graph_error(g), "broadcast") != NULL);
    CHECK(dsc_mul(g, z, x) == -1); /* sticky */
    CHECK_STATUS(dsc_graph_compile(g, z), DSC_ERR_SHAPE);
    dsc_graph_free(g);
}

static void test_set_batch(void)
{
    dsc_graph *g = dsc_graph_new();
    int64_t xs[2] = {8, 3}, ws[1] = {3};
    dsc_id x = dsc_input(g, "x", 2, xs);
    dsc_id w = dsc_param(g, "w", 1, ws);
    dsc_id loss = dsc_sum(g, dsc_mul(g, x, w), 0, NULL, 0);
    CHECK_OK(dsc_graph_compile(g, loss));
    float *p = dsc_graph_params(g, NULL);
    p[0] = 1;
    p[1] = 2;
    p[2] = 3;
    CHECK_OK(dsc_graph_set_batch(g, 2));
    float xv[6] = {1, 1, 1, 2, 2, 2};
    CHECK_OK(dsc_graph_set_input(g, x, xv, 6));
    CHECK_OK(dsc_graph_forward(g));
    CHECK_NEAR(dsc_graph_loss(g), 18.0, 1e-6);
    CHECK_OK(dsc_graph_backward(g));
    CHECK_NEAR(dsc_graph_grads(g, NULL)[1], 3.0, 1e-6);
    CHECK_STATUS(dsc_graph_set_batch(g, 9), DSC_ERR_RANGE);
    CHECK_STATUS(dsc_graph_set_input(g, x, xv, 5), DSC_ERR_SHAPE);
    dsc_graph_free(g);
}

/* A deep chain, with and without checkpointing: gradients must be bit-identical. */
static dsc_graph *chain(int segments, dsc_id *xin)
{
    dsc_graph *g = dsc_graph_new();
    int64_t xs[2] = {5, 7}, ws[1] = {7};
    dsc_id x = dsc_input(g, "x", 2, xs);
    dsc_id h = x;
    char name[16];
    for (int l = 0; l < 16; l++) {
        snprintf(name, sizeof name, "w%d", l);
        dsc_id w = dsc_param(g, name, 1, ws);
        h = dsc_mul(g, h, w);
        h = dsc_add(g, h, dsc_mul(g, h, h));
        h = dsc_div(g, h, dsc_add_scalar(g, dsc_mul(g, h, h), 1.0f));
    }
    dsc_id loss = dsc_mean(g, h, 0, NULL, 0);
    CHECK_OK(dsc_graph_set_checkpoint_segments(g, segments));
    CHECK_OK(dsc_graph_compile(g, loss));
    *xin = x;
    return g;
}

static void test_checkpoint_bit_identical(void)
{
    dsc_id x1, x2;
    dsc_graph *a = chain(0, &x1), *b = chain(-1, &x2);
    size_t n;
    fill_params(a, 5);
    const float *pa = dsc_graph_params(a, &n);
    memcpy(dsc_graph_params(b, NULL), pa, n * sizeof(float));
    float xv[35];
    dsc_test_fill(xv, 35, 6, -1, 1);
    CHECK_OK(dsc_graph_set_input(a, x1, xv, 35));
    CHECK_OK(dsc_graph_set_input(b, x2, xv, 35));
    CHECK_OK(dsc_graph_forward(a));
    CHECK_OK(dsc_graph_backward(a));
    CHECK_OK(dsc_graph_forward(b));
    CHECK_OK(dsc_graph_backward(b));
    CHECK(memcmp(dsc_graph_grads(a, NULL), dsc_graph_grads(b, NULL), n * sizeof(float)) == 0);
    CHECK(dsc_graph_loss(a) == dsc_graph_loss(b));
    CHECK(dsc_graph_memory_bytes(b) < dsc_graph_memory_bytes(a));
    /* HVP agrees too. */
    float *v = calloc(n, sizeof(float)), *h1 = calloc(n, sizeof(float)), *h2 = calloc(n, sizeof(float));
    dsc_test_fill(v, n, 7, -1, 1);
    CHECK_OK(dsc_graph_hvp(a, v, h1));
    CHECK_OK(dsc_graph_hvp(b, v, h2));
    CHECK(memcmp(h1, h2, n * sizeof(float)) == 0);
    free(v);
    free(h1);
    free(h2);
    dsc_graph_free(a);
    dsc_graph_free(b);
}

DSC_TEST_MAIN("autodiff", TEST(test_binary_gradcheck), TEST(test_pow_gradcheck), TEST(test_sticky_error),
              TEST(test_set_batch), TEST(test_checkpoint_bit_identical))
