/* Engine invariants on whole small networks (built from ops):
 *   per-example gradients = gradients of each example computed alone;
 *   checkpointed backward = plain backward, bit for bit (values, gradients, HVP);
 *   1 thread = 2 threads, bit for bit, for forward, backward, HVP and per-example gradients;
 *   input gradients match finite differences; whole-network gradcheck (VJP, JVP, HVP). */
#include <stdlib.h>
#include <string.h>

#include "testing.h"

enum { B = 6 };

typedef struct net {
    dsc_graph *g;
    dsc_id x, y, logits, loss;
} net;

/* conv(3x3, 4) - relu - maxpool2 - conv(3x3, 6, pad 1) - tanh - avgpool2 - flatten - linear(16)
 * - gelu - dropout - linear(5) - cross-entropy (class weights). */
static net build_cnn_opt(int batch, int segments, int dropout, int smooth)
{
    net m;
    dsc_graph *g = m.g = dsc_graph_new();
    int64_t xs[4] = {batch, 2, 10, 10}, ys[1] = {batch};
    m.x = dsc_input(g, "x", 4, xs);
    m.y = dsc_input(g, "y", 1, ys);
    dsc_conv_opts o = dsc_conv_defaults();
    dsc_id w1 = dsc_param(g, "c1.weight", 4, (int64_t[]){4, 2, 3, 3}), b1 = dsc_param(g, "c1.bias", 1, (int64_t[]){4});
    dsc_id h = dsc_conv2d(g, m.x, w1, b1, o);                                     /* [B,4,8,8] */
    dsc_pool_opts p = {{2, 2}, {0, 0}, {0, 0}, 0, 1};
    /* smooth: the finite-difference gradcheck of a whole network needs a smooth function;
     * relu and max-pool kinks are crossed by some of the ~700 perturbed parameters. */
    h = smooth ? dsc_avg_pool2d(g, dsc_silu(g, h), p) : dsc_max_pool2d(g, dsc_relu(g, h), p); /* [B,4,4,4] */
    o.padding[0] = o.padding[1] = 1;
    dsc_id w2 = dsc_param(g, "c2.weight", 4, (int64_t[]){6, 4, 3, 3}), b2 = dsc_param(g, "c2.bias", 1, (int64_t[]){6});
    h = dsc_tanh(g, dsc_conv2d(g, h, w2, b2, o));                                  /* [B,6,4,4] */
    h = dsc_avg_pool2d(g, h, p);                                                   /* [B,6,2,2] */
    h = dsc_flatten(g, h);                                                         /* [B,24] */
    dsc_id w3 = dsc_param(g, "f1.weight", 2, (int64_t[]){16, 24}), b3 = dsc_param(g, "f1.bias", 1, (int64_t[]){16});
    h = dsc_gelu(g, dsc_linear(g, h, w3, b3), DSC_GELU_ERF);
    if (dropout)
        h = dsc_dropout(g, h, 0.25f);
    dsc_id w4 = dsc_param(g, "f2.weight", 2, (int64_t[]){5, 16}), b4 = dsc_param(g, "f2.bias", 1, (int64_t[]){5});
    m.logits = dsc_linear(g, h, w4, b4);
    dsc_ce_opts ce = dsc_ce_defaults();
    static const float cw[5] = {1.0f, 2.0f, 0.5f, 1.5f, 1.0f};
    ce.class_weights = cw;
    m.loss = dsc_cross_entropy(g, m.logits, m.y, ce);
    CHECK_OK(dsc_graph_keep(g, m.logits));
    CHECK_OK(dsc_graph_set_checkpoint_segments(g, segments));
    CHECK_OK(dsc_graph_compile(g, m.loss));
    size_t n;
    float *th = dsc_graph_params(g, &n);
    dsc_test_fill(th, n, 11, -0.5f, 0.5f);
    dsc_graph_set_seed(g, 99);
    return m;
}

static net build_cnn(int batch, int segments, int dropout) { return build_cnn_opt(batch, segments, dropout, 0); }

static void set_data(net *m, int64_t batch, int64_t first)
{
    float x[B * 200], y[B];
    float all_x[B * 200], all_y[B];
    dsc_test_fill(all_x, B * 200, 21, -1.0f, 1.0f);
    for (int i = 0; i < B; i++)
        all_y[i] = (float)((i * 3) % 5);
    memcpy(x, all_x + first * 200, (size_t)batch * 200 * sizeof(float));
    memcpy(y, all_y + first, (size_t)batch * sizeof(float));
    CHECK_OK(dsc_graph_set_batch(m->g, batch));
    CHECK_OK(dsc_graph_set_input(m->g, m->x, x, (size_t)batch * 200));
    CHECK_OK(dsc_graph_set_input(m->g, m->y, y, (size_t)batch));
}

static void test_per_example_equals_alone(void)
{
    net m = build_cnn(B, 0, 0);
    size_t P;
    dsc_graph_params(m.g, &P);
    float *pe = malloc(B * P * sizeof(float));
    set_data(&m, B, 0);
    CHECK_OK(dsc_graph_per_example_grads(m.g, pe));
    double worst = 0;
    for (int b = 0; b < B; b++) {
        set_data(&m, 1, b);
        CHECK_OK(dsc_graph_forward(m.g));
        CHECK_OK(dsc_graph_backward(m.g));
        double e = dsc_test_scaled_err(pe + (size_t)b * P, dsc_graph_grads(m.g, NULL), P, 1e-6);
        if (e > worst)
            worst = e;
    }
    /* Same float32 arithmetic in a different grouping (batched GEMMs vs one example). */
    CHECK(worst < 1e-5);
    if (worst >= 1e-5)
        fprintf(stderr, "per-example worst scaled error %.3g\n", worst);
    /* The mean of the per-example gradients, weighted like the loss, is the batch gradient:
     * with class weights w, grad = sum_b w_b g_b / sum_b w_b. */
    set_data(&m, B, 0);
    CHECK_OK(dsc_graph_forward(m.g));
    CHECK_OK(dsc_graph_backward(m.g));
    static const float cw[5] = {1.0f, 2.0f, 0.5f, 1.5f, 1.0f};
    double W = 0;
    for (int b = 0; b < B; b++)
        W += cw[(b * 3) % 5];
    float *avg = calloc(P, sizeof(float));
    for (int b = 0; b < B; b++)
        for (size_t k = 0; k < P; k++)
            avg[k] += (float)(cw[(b * 3) % 5] / W) * pe[(size_t)b * P + k];
    CHECK(dsc_test_scaled_err(avg, dsc_graph_grads(m.g, NULL), P, 1e-6) < 1e-5);
    free(avg);
    free(pe);
    dsc_graph_free(m.g);
}

static void test_per_example_with_checkpointing(void)
{
    net a = build_cnn(B, 0, 0), b = build_cnn(B, -1, 0);
    size_t P;
    dsc_graph_params(a.g, &P);
    float *p1 = malloc(B * P * sizeof(float)), *p2 = malloc(B * P * sizeof(float));
    set_data(&a, B, 0);
    set_data(&b, B, 0);
    CHECK_OK(dsc_graph_per_example_grads(a.g, p1));
    CHECK_OK(dsc_graph_per_example_grads(b.g, p2));
    CHECK(memcmp(p1, p2, B * P * sizeof(float)) == 0);
    free(p1);
    free(p2);
    dsc_graph_free(a.g);
    dsc_graph_free(b.g);
}

static void test_checkpoint_bit_identical_cnn(void)
{
    net a = build_cnn(B, 0, 1), b = build_cnn(B, -1, 1);
    set_data(&a, B, 0);
    set_data(&b, B, 0);
    size_t P;
    dsc_graph_params(a.g, &P);
    CHECK_OK(dsc_graph_forward(a.g));
    CHECK_OK(dsc_graph_backward(a.g));
    CHECK_OK(dsc_graph_forward(b.g));
    CHECK_OK(dsc_graph_backward(b.g));
    CHECK(dsc_graph_loss(a.g) == dsc_graph_loss(b.g));
    CHECK(memcmp(dsc_graph_grads(a.g, NULL), dsc_graph_grads(b.g, NULL), P * sizeof(float)) == 0);
    CHECK(memcmp(dsc_node_value(a.g, a.logits).data, dsc_node_value(b.g, b.logits).data, B * 5 * sizeof(float)) == 0);
    CHECK(dsc_graph_memory_bytes(b.g) < dsc_graph_memory_bytes(a.g));
    float *v = malloc(P * sizeof(float)), *h1 = malloc(P * sizeof(float)), *h2 = malloc(P * sizeof(float));
    dsc_test_fill(v, P, 5, -1, 1);
    CHECK_OK(dsc_graph_hvp(a.g, v, h1));
    CHECK_OK(dsc_graph_hvp(b.g, v, h2));
    CHECK(memcmp(h1, h2, P * sizeof(float)) == 0);
    free(v);
    free(h1);
    free(h2);
    dsc_graph_free(a.g);
    dsc_graph_free(b.g);
}

static void run_all(net *m, float *grads, float *hv, float *pe)
{
    size_t P;
    dsc_graph_params(m->g, &P);
    float *v = malloc(P * sizeof(float));
    dsc_test_fill(v, P, 8, -1, 1);
    set_data(m, B, 0);
    dsc_graph_set_forward_counter(m->g, 0);
    CHECK_OK(dsc_graph_forward(m->g));
    CHECK_OK(dsc_graph_backward(m->g));
    memcpy(grads, dsc_graph_grads(m->g, NULL), P * sizeof(float));
    CHECK_OK(dsc_graph_hvp(m->g, v, hv));
    dsc_graph_set_training(m->g, 0);
    CHECK_OK(dsc_graph_per_example_grads(m->g, pe));
    dsc_graph_set_training(m->g, 1);
    free(v);
}

static void test_threads_bit_identical(void)
{
    net a = build_cnn(B, 0, 1);
    size_t P;
    dsc_graph_params(a.g, &P);
    float *g1 = malloc(P * sizeof(float)), *g2 = malloc(P * sizeof(float));
    float *h1 = malloc(P * sizeof(float)), *h2 = malloc(P * sizeof(float));
    float *p1 = malloc(B * P * sizeof(float)), *p2 = malloc(B * P * sizeof(float));
    dsc_set_num_threads(1);
    run_all(&a, g1, h1, p1);
    dsc_set_num_threads(2);
    run_all(&a, g2, h2, p2);
    CHECK(memcmp(g1, g2, P * sizeof(float)) == 0);
    CHECK(memcmp(h1, h2, P * sizeof(float)) == 0);
    CHECK(memcmp(p1, p2, B * P * sizeof(float)) == 0);
    /* Same seed, a new graph: same bits. */
    net b = build_cnn(B, 0, 1);
    run_all(&b, g2, h2, p2);
    CHECK(memcmp(g1, g2, P * sizeof(float)) == 0);
    free(g1);
    free(g2);
    free(h1);
    free(h2);
    free(p1);
    free(p2);
    dsc_graph_free(a.g);
    dsc_graph_free(b.g);
}

static void test_whole_network_gradcheck(void)
{
    net m = build_cnn_opt(B, 0, 1, 1);
    set_data(&m, B, 0);
    dsc_test_gradcheck("cnn (train mode, dropout)", m.g, 1e-2);
    dsc_graph_free(m.g);
}

static void test_input_gradient(void)
{
    /* d loss / d x by reverse mode against central differences on a few pixels. */
    dsc_graph *g = dsc_graph_new();
    int64_t xs[2] = {3, 8}, ys[1] = {3};
    dsc_id x = dsc_input(g, "x", 2, xs), y = dsc_input(g, "y", 1, ys);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    dsc_id w = dsc_param(g, "w", 2, (int64_t[]){4, 8}), b = dsc_param(g, "b", 1, (int64_t[]){4});
    dsc_id loss = dsc_cross_entropy(g, dsc_linear(g, dsc_sigmoid(g, x), w, b), y, dsc_ce_defaults());
    CHECK_OK(dsc_graph_compile(g, loss));
    size_t P;
    float *theta = dsc_graph_params(g, &P);
    dsc_test_fill(theta, P, 3, -1, 1);
    float xv[24], yv[3] = {0, 3, 1};
    dsc_test_fill(xv, 24, 4, -2, 2);
    CHECK_OK(dsc_graph_set_input(g, y, yv, 3));
    CHECK_OK(dsc_graph_set_input(g, x, xv, 24));
    CHECK_OK(dsc_graph_forward(g));
    CHECK_OK(dsc_graph_backward(g));
    float gx[24];
    memcpy(gx, dsc_node_grad(g, x).data, sizeof gx);
    for (int i = 0; i < 24; i += 5) {
        const float e = 1e-2f;
        float s = xv[i];
        xv[i] = s + e;
        dsc_graph_set_input(g, x, xv, 24);
        dsc_graph_forward(g);
        double lp = dsc_graph_loss(g);
        xv[i] = s - e;
        dsc_graph_set_input(g, x, xv, 24);
        dsc_graph_forward(g);
        double lm = dsc_graph_loss(g);
        xv[i] = s;
        CHECK_NEAR(gx[i], (lp - lm) / (2 * e), 2e-4);
    }
    dsc_graph_free(g);
}

DSC_TEST_MAIN("engine_models", TEST(test_per_example_equals_alone), TEST(test_per_example_with_checkpointing),
              TEST(test_checkpoint_bit_identical_cnn),
              TEST(test_threads_bit_identical), TEST(test_whole_network_gradcheck), TEST(test_input_gradient))
