/* GEMM-based ops: matmul, linear, conv2d, conv1d.
 * - finite-difference checks of VJP, JVP and HVP (R-op) on small cases, including batch
 *   broadcasting, 3-D linear inputs, stride/padding/dilation/groups;
 * - exact values against PyTorch 1.13 (tests/fixtures/conv, tools/gen_conv_fixtures.py);
 * - per-example gradients equal to the gradients of each example computed alone;
 * - bit-identical results for 1 and 2 threads;
 * - shape errors with readable messages. */
#include <stdlib.h>
#include <string.h>

#include "autodiff/graph_internal.h"
#include "descent/runtime.h"
#include "testing.h"

/* ---- a test-local loss: L = (1/B) sum_b 0.5 ||y_b||^2 (mean over the batch) ---------- */

static dsc_status tl_infer(dsc_graph *g, dsc_node *n)
{
    (void)g;
    n->shape.ndim = 0;
    return DSC_OK;
}
static void tl_forward(dsc_graph *g, dsc_node *n)
{
    const dsc_node *y = dsc_in(g, n, 0);
    double s = 0;
    for (int64_t k = 0; k < dsc_numel(y); k++)
        s += 0.5 * (double)y->value[k] * y->value[k];
    n->value[0] = (float)(s / (double)y->shape.dim[0]);
}
static void tl_vjp(dsc_graph *g, dsc_node *n)
{
    dsc_node *y = dsc_in(g, n, 0);
    if (!y->grad)
        return;
    float s = n->grad[0] / (float)y->shape.dim[0];
    for (int64_t k = 0; k < dsc_numel(y); k++)
        y->grad[k] += s * y->value[k];
}
static void tl_scale(dsc_graph *g, dsc_node *n, float *scale)
{
    int64_t B = dsc_in(g, n, 0)->shape.dim[0];
    for (int64_t b = 0; b < B; b++)
        scale[b] = (float)B;
}
static const dsc_op OP_TEST_LOSS = {"test_loss", tl_infer, tl_forward, tl_vjp, NULL, NULL, NULL, tl_scale,
                                    DSC_OP_LOSS};
static dsc_id test_loss(dsc_graph *g, dsc_id y) { return dsc_graph_add_op(g, &OP_TEST_LOSS, 1, &y, NULL); }

/* mean(y * y): a loss with a non-zero Hessian for the gradient checks. */
static dsc_id sq_mean(dsc_graph *g, dsc_id y) { return dsc_mean(g, dsc_mul(g, y, y), 0, NULL, 0); }

/* ---- gradient checks ------------------------------------------------------------------ */

/* Compile mean(y^2), fill the parameters and inputs (uniform [-1, 1]) and run the
 * finite-difference checks. */
static void gradcheck_graph(const char *what, dsc_graph *g, dsc_id y)
{
    dsc_id loss = sq_mean(g, y);
    CHECK_OK(dsc_graph_compile(g, loss));
    size_t P;
    float *p = dsc_graph_params(g, &P);
    dsc_test_fill(p, P, 99, -1, 1);
    for (int i = 0; i < dsc_graph_node_count(g); i++) {
        dsc_node *n = &g->nodes[i];
        if (n->kind != DSC_NODE_INPUT)
            continue;
        size_t k = (size_t)dsc_numel(n);
        float *v = malloc(k * sizeof(float));
        dsc_test_fill(v, k, 100 + (uint64_t)i, -1, 1);
        CHECK_OK(dsc_graph_set_input(g, i, v, k));
        free(v);
    }
    dsc_test_gradcheck(what, g, 1e-2);
}

/* A data input that requires a gradient, scaled elementwise by a parameter (broadcast over
 * the batch). The parameter makes the op's input tangent non-zero in the HVP, so the R-op
 * terms that pair the cotangent with the input's tangent are checked too (with a raw data
 * input they only reach the input's grad_tangent, which the HVP check does not see). */
static dsc_id scaled_input(dsc_graph *g, const char *name, int nd, const int64_t *shape)
{
    dsc_id x = dsc_input(g, name, nd, shape);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    char pn[64];
    snprintf(pn, sizeof pn, "%s_scale", name);
    dsc_id s = dsc_param(g, pn, nd - 1, shape + 1);
    return dsc_mul(g, x, s);
}

static void test_matmul_gradcheck(void)
{
    struct {
        const char *what;
        int na, nb, a_input;
        int64_t as[4], bs[4];
    } cases[] = {
        {"matmul 2-D", 2, 2, 1, {3, 4}, {4, 5}},
        {"matmul batched", 3, 3, 1, {2, 3, 4}, {2, 4, 5}},
        {"matmul broadcast", 4, 3, 1, {2, 1, 3, 4}, {3, 4, 2}},
        {"matmul shared left", 2, 3, 0, {3, 4}, {2, 4, 5}},
        {"matmul batch x 2-D", 3, 2, 1, {2, 3, 4}, {4, 2}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        dsc_graph *g = dsc_graph_new();
        dsc_id a = cases[c].a_input ? scaled_input(g, "a", cases[c].na, cases[c].as)
                                    : dsc_param(g, "a", cases[c].na, cases[c].as);
        dsc_id b = cases[c].a_input ? dsc_param(g, "b", cases[c].nb, cases[c].bs)
                                    : scaled_input(g, "b", cases[c].nb, cases[c].bs);
        gradcheck_graph(cases[c].what, g, dsc_matmul(g, a, b));
        dsc_graph_free(g);
    }
    /* x @ x: the same node on both sides. */
    dsc_graph *g = dsc_graph_new();
    int64_t s[3] = {2, 3, 3};
    dsc_id x = dsc_input(g, "x", 3, s);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    dsc_id p = dsc_param(g, "p", 3, s);
    gradcheck_graph("matmul x@x", g, dsc_matmul(g, dsc_mul(g, x, p), dsc_mul(g, x, p)));
    dsc_graph_free(g);
}

static void test_matmul_shapes(void)
{
    dsc_graph *g = dsc_graph_new();
    int64_t as[4] = {2, 1, 3, 4}, bs[3] = {5, 4, 6};
    dsc_id y = dsc_matmul(g, dsc_input(g, "a", 4, as), dsc_param(g, "b", 3, bs));
    dsc_shape s = dsc_node_shape(g, y);
    CHECK(s.ndim == 4 && s.dim[0] == 2 && s.dim[1] == 5 && s.dim[2] == 3 && s.dim[3] == 6);
    dsc_graph_free(g);
    g = dsc_graph_new();
    int64_t cs[2] = {3, 5};
    CHECK(dsc_matmul(g, dsc_input(g, "a", 4, as), dsc_param(g, "c", 2, cs)) == -1);
    CHECK(strstr(dsc_graph_error(g), "matmul: inner dimensions differ") != NULL);
    dsc_graph_free(g);
    g = dsc_graph_new();
    int64_t ds[3] = {3, 4, 6};
    CHECK(dsc_matmul(g, dsc_input(g, "a", 4, as), dsc_param(g, "d", 3, ds)) >= 0);
    int64_t es[3] = {2, 4, 6}, fs[3] = {3, 3, 4};
    CHECK(dsc_matmul(g, dsc_input(g, "f", 3, fs), dsc_param(g, "e", 3, es)) == -1);
    CHECK(strstr(dsc_graph_error(g), "do not broadcast") != NULL);
    dsc_graph_free(g);
}

static void test_linear_gradcheck(void)
{
    for (int bias = 0; bias < 2; bias++)
        for (int three_d = 0; three_d < 2; three_d++) {
            dsc_graph *g = dsc_graph_new();
            int64_t xs3[3] = {2, 3, 5}, xs2[2] = {4, 5}, ws[2] = {3, 5}, bs[1] = {3};
            dsc_id x = three_d ? scaled_input(g, "x", 3, xs3) : scaled_input(g, "x", 2, xs2);
            dsc_id w = dsc_param(g, "w", 2, ws);
            dsc_id b = bias ? dsc_param(g, "b", 1, bs) : -1;
            char what[64];
            snprintf(what, sizeof what, "linear bias=%d 3d=%d", bias, three_d);
            gradcheck_graph(what, g, dsc_linear(g, x, w, b));
            dsc_graph_free(g);
        }
    dsc_graph *g = dsc_graph_new();
    int64_t xs[2] = {4, 5}, ws[2] = {3, 6}, bs[1] = {4};
    CHECK(dsc_linear(g, dsc_input(g, "x", 2, xs), dsc_param(g, "w", 2, ws), -1) == -1);
    CHECK(strstr(dsc_graph_error(g), "linear: input [4, 5] has 5 features but weight [3, 6] expects 6") != NULL);
    dsc_graph_free(g);
    g = dsc_graph_new();
    int64_t ws2[2] = {3, 5};
    CHECK(dsc_linear(g, dsc_input(g, "x", 2, xs), dsc_param(g, "w", 2, ws2), dsc_param(g, "b", 1, bs)) == -1);
    CHECK(strstr(dsc_graph_error(g), "bias") != NULL);
    dsc_graph_free(g);
}

static void test_conv_gradcheck(void)
{
    struct {
        const char *what;
        int is1d, bias;
        int64_t xs[4], ws[4];
        int stride, pad, dil, groups;
    } cases[] = {
        {"conv2d s2 p1 d2 g2 nobias", 0, 0, {2, 4, 7, 6}, {6, 2, 3, 3}, 2, 1, 2, 2},
        {"conv2d bias", 0, 1, {2, 3, 5, 5}, {4, 3, 3, 2}, 1, 0, 1, 1},
        {"conv2d pad2 3x3 depthwise", 0, 1, {1, 3, 4, 4}, {3, 1, 3, 3}, 1, 2, 1, 3},
        {"conv1d s2 p1 d2 g2", 1, 1, {2, 4, 9, 0}, {6, 2, 3, 0}, 2, 1, 2, 2},
        {"conv1d plain", 1, 0, {3, 2, 6, 0}, {3, 2, 2, 0}, 1, 0, 1, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        dsc_graph *g = dsc_graph_new();
        int nd = cases[c].is1d ? 3 : 4;
        dsc_id x = scaled_input(g, "x", nd, cases[c].xs);
        dsc_id w = dsc_param(g, "w", nd, cases[c].ws);
        int64_t bs[1] = {cases[c].ws[0]};
        dsc_id b = cases[c].bias ? dsc_param(g, "b", 1, bs) : -1;
        dsc_conv_opts o = dsc_conv_defaults();
        o.stride[0] = o.stride[1] = cases[c].stride;
        o.padding[0] = o.padding[1] = cases[c].pad;
        o.dilation[0] = o.dilation[1] = cases[c].dil;
        o.groups = cases[c].groups;
        dsc_id y = cases[c].is1d ? dsc_conv1d(g, x, w, b, o) : dsc_conv2d(g, x, w, b, o);
        CHECK(y >= 0);
        gradcheck_graph(cases[c].what, g, y);
        dsc_graph_free(g);
    }
}

/* Several chunks of examples (160000 column floats per example: one example per chunk).
 * Too many variables for the default finite differences in float32 (the loss's rounding
 * swamps eps * <grad, v>), so x is data and eps is large: the loss is then exactly quadratic
 * in (w, b) and central differences have no truncation error. */
static void test_conv_gradcheck_chunks(void)
{
    dsc_graph *g = dsc_graph_new();
    int64_t xs[4] = {3, 16, 24, 24}, ws[4] = {2, 16, 5, 5}, bs[1] = {2};
    dsc_id x = dsc_input(g, "x", 4, xs);
    dsc_id w = dsc_param(g, "w", 4, ws), b = dsc_param(g, "b", 1, bs);
    dsc_conv_opts o = dsc_conv_defaults();
    o.padding[0] = 1;
    dsc_id loss = sq_mean(g, dsc_conv2d(g, x, w, b, o));
    CHECK_OK(dsc_graph_compile(g, loss));
    size_t P, nx = 3 * 16 * 24 * 24;
    float *p = dsc_graph_params(g, &P);
    dsc_test_fill(p, P, 3, -0.2f, 0.2f);
    float *xv = malloc(nx * sizeof(float));
    dsc_test_fill(xv, nx, 4, -1, 1);
    CHECK_OK(dsc_graph_set_input(g, x, xv, nx));
    dsc_gradcheck_opts go = dsc_gradcheck_defaults();
    go.eps = 0.5f;
    dsc_gradcheck_result r;
    CHECK_OK(dsc_gradcheck(g, &go, &r));
    if (getenv("DSC_TEST_VERBOSE"))
        fprintf(stderr, "gradcheck conv2d chunks: vjp %.2e jvp %.2e hvp %.2e\n", r.vjp_err, r.jvp_err, r.hvp_err);
    CHECK(r.vjp_err <= 1e-2 && r.jvp_err <= 1e-2 && r.hvp_err <= 1e-2);
    free(xv);
    dsc_graph_free(g);
}

static void test_conv_errors(void)
{
    dsc_graph *g = dsc_graph_new();
    int64_t xs[4] = {2, 3, 8, 8}, ws[4] = {4, 2, 3, 3};
    CHECK(dsc_conv2d(g, dsc_input(g, "x", 4, xs), dsc_param(g, "w", 4, ws), -1, dsc_conv_defaults()) == -1);
    CHECK(strstr(dsc_graph_error(g), "conv2d: input [2, 3, 8, 8] has 3 channels but weight [4, 2, 3, 3] expects 2 "
                                     "(groups 1)") != NULL);
    dsc_graph_free(g);
    g = dsc_graph_new();
    int64_t ws2[4] = {4, 3, 9, 3};
    CHECK(dsc_conv2d(g, dsc_input(g, "x", 4, xs), dsc_param(g, "w", 4, ws2), -1, dsc_conv_defaults()) == -1);
    CHECK(strstr(dsc_graph_error(g), "empty output") != NULL);
    dsc_graph_free(g);
    g = dsc_graph_new();
    dsc_conv_opts o = dsc_conv_defaults();
    o.stride[1] = 0;
    int64_t ws3[4] = {4, 3, 3, 3};
    CHECK(dsc_conv2d(g, dsc_input(g, "x", 4, xs), dsc_param(g, "w", 4, ws3), -1, o) == -1);
    CHECK(strstr(dsc_graph_error(g), "stride") != NULL);
    dsc_graph_free(g);
    g = dsc_graph_new();
    o = dsc_conv_defaults();
    o.groups = 2;
    int64_t ws4[4] = {3, 2, 3, 3}, xs4[4] = {1, 4, 5, 5};
    CHECK(dsc_conv2d(g, dsc_input(g, "x", 4, xs4), dsc_param(g, "w", 4, ws4), -1, o) == -1);
    CHECK(strstr(dsc_graph_error(g), "not divisible by groups 2") != NULL);
    dsc_graph_free(g);
}

/* ---- exact values against PyTorch ------------------------------------------------------ */

typedef enum { FX_CONV2D, FX_CONV1D, FX_LINEAR } fx_kind;

static float *fx(const char *cs, const char *t, size_t *n)
{
    char p[256];
    snprintf(p, sizeof p, "tests/fixtures/conv/%s_%s.f32", cs, t);
    float *d = dsc_test_read_f32(p, n);
    CHECK(d != NULL);
    return d;
}

/* loss = sum(y * r): gradients are the VJP of the fixed cotangent r. */
static void check_fixture(const char *cs, fx_kind kind, int nd, const int64_t *xs, const int64_t *ws, dsc_conv_opts o)
{
    size_t nx, nw, nb, nr, ny, ngx, ngw, ngb;
    float *x = fx(cs, "x", &nx), *w = fx(cs, "w", &nw), *b = fx(cs, "b", &nb), *r = fx(cs, "r", &nr);
    float *y = fx(cs, "y", &ny), *gx = fx(cs, "gx", &ngx), *gw = fx(cs, "gw", &ngw), *gb = fx(cs, "gb", &ngb);
    if (!x || !w || !b || !r || !y || !gx || !gw || !gb)
        goto done;
    dsc_graph *g = dsc_graph_new();
    dsc_id xi = dsc_input(g, "x", nd, xs);
    CHECK_OK(dsc_input_requires_grad(g, xi, 1));
    int wnd = kind == FX_LINEAR ? 2 : nd;
    dsc_id wi = dsc_param(g, "w", wnd, ws);
    int64_t bs[1] = {ws[0]};
    dsc_id bi = dsc_param(g, "b", 1, bs);
    dsc_id yi = kind == FX_LINEAR ? dsc_linear(g, xi, wi, bi)
                : kind == FX_CONV1D ? dsc_conv1d(g, xi, wi, bi, o)
                                    : dsc_conv2d(g, xi, wi, bi, o);
    dsc_shape ys = dsc_node_shape(g, yi);
    CHECK((size_t)dsc_shape_numel(&ys) == ny);
    dsc_id ri = dsc_input(g, "r", ys.ndim, ys.dim);
    dsc_id loss = dsc_sum(g, dsc_mul(g, yi, ri), 0, NULL, 0);
    CHECK_OK(dsc_graph_compile(g, loss));
    float *p = dsc_graph_params(g, NULL);
    memcpy(p, w, nw * sizeof(float));
    memcpy(p + nw, b, nb * sizeof(float));
    CHECK_OK(dsc_graph_set_input(g, xi, x, nx));
    CHECK_OK(dsc_graph_set_input(g, ri, r, nr));
    CHECK_OK(dsc_graph_forward(g));
    CHECK_OK(dsc_graph_backward(g));
    /* The references are float64 results rounded to float32; errors relative to each
     * array's largest magnitude (float32 sums of ~40 terms are accurate to a few 1e-7). */
    double ey = dsc_test_scaled_err(dsc_node_value(g, yi).data, y, ny, 1e-3);
    double egx = dsc_test_scaled_err(dsc_node_grad(g, xi).data, gx, ngx, 1e-3);
    double egw = dsc_test_scaled_err(dsc_graph_grads(g, NULL), gw, ngw, 1e-3);
    double egb = dsc_test_scaled_err(dsc_graph_grads(g, NULL) + nw, gb, ngb, 1e-3);
    if (getenv("DSC_TEST_VERBOSE"))
        fprintf(stderr, "%s vs torch: y %.2e gx %.2e gw %.2e gb %.2e\n", cs, ey, egx, egw, egb);
    CHECK(ey <= 1e-5);
    CHECK(egx <= 1e-5);
    CHECK(egw <= 1e-5);
    CHECK(egb <= 1e-5);
    dsc_graph_free(g);
done:
    free(x), free(w), free(b), free(r), free(y), free(gx), free(gw), free(gb);
}

static void test_torch_fixtures(void)
{
    dsc_conv_opts o = dsc_conv_defaults();
    o.stride[0] = o.stride[1] = 2;
    o.padding[0] = o.padding[1] = 1;
    o.dilation[0] = o.dilation[1] = 2;
    o.groups = 2;
    int64_t xs[4] = {2, 4, 7, 6}, ws[4] = {6, 2, 3, 3};
    check_fixture("conv2d", FX_CONV2D, 4, xs, ws, o);
    int64_t xs1[3] = {2, 4, 9}, ws1[3] = {6, 2, 3};
    check_fixture("conv1d", FX_CONV1D, 3, xs1, ws1, o);
    dsc_conv_opts o2 = dsc_conv_defaults();
    o2.stride[0] = 1, o2.stride[1] = 2;
    o2.padding[0] = 2, o2.padding[1] = 0;
    int64_t xs2[4] = {2, 3, 6, 5}, ws2[4] = {4, 3, 2, 3};
    check_fixture("conv2d_rect", FX_CONV2D, 4, xs2, ws2, o2);
    int64_t xl[3] = {2, 3, 5}, wl[2] = {4, 5};
    check_fixture("linear", FX_LINEAR, 3, xl, wl, o);
}

/* A hand-computed case: 1 channel 3x3 image, 2x2 kernel of ones, stride 1, no padding. */
static void test_conv_hand(void)
{
    dsc_graph *g = dsc_graph_new();
    int64_t xs[4] = {1, 1, 3, 3}, ws[4] = {1, 1, 2, 2}, bs[1] = {1};
    dsc_id x = dsc_input(g, "x", 4, xs);
    dsc_id w = dsc_param(g, "w", 4, ws), b = dsc_param(g, "b", 1, bs);
    dsc_id y = dsc_conv2d(g, x, w, b, dsc_conv_defaults());
    CHECK_OK(dsc_graph_compile(g, dsc_sum(g, y, 0, NULL, 0)));
    float *p = dsc_graph_params(g, NULL);
    p[0] = 1, p[1] = 1, p[2] = 1, p[3] = 1, p[4] = 0.5f;
    float xv[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    CHECK_OK(dsc_graph_set_input(g, x, xv, 9));
    CHECK_OK(dsc_graph_forward(g));
    const float *yv = dsc_node_value(g, y).data;
    CHECK_NEAR(yv[0], 12.5, 1e-6);
    CHECK_NEAR(yv[1], 16.5, 1e-6);
    CHECK_NEAR(yv[2], 24.5, 1e-6);
    CHECK_NEAR(yv[3], 28.5, 1e-6);
    CHECK_OK(dsc_graph_backward(g));
    const float *gw = dsc_graph_grads(g, NULL); /* dL/dw[kh,kw] = sum of the 2x2 window sums */
    CHECK_NEAR(gw[0], 1 + 2 + 4 + 5, 1e-6);
    CHECK_NEAR(gw[3], 5 + 6 + 8 + 9, 1e-6);
    CHECK_NEAR(gw[4], 4, 1e-6);
    dsc_graph_free(g);
}

/* ---- per-example gradients ----------------------------------------------------------- */

static void check_per_example(const char *what, dsc_graph *g, dsc_id x, int64_t B, size_t xper)
{
    size_t P;
    dsc_graph_params(g, &P);
    float *xv = malloc((size_t)B * xper * sizeof(float));
    float *pe = malloc((size_t)B * P * sizeof(float));
    dsc_test_fill(xv, (size_t)B * xper, 77, -1, 1);
    dsc_test_fill(dsc_graph_params(g, NULL), P, 78, -1, 1);
    CHECK_OK(dsc_graph_set_input(g, x, xv, (size_t)B * xper));
    CHECK_OK(dsc_graph_per_example_grads(g, pe));
    double worst = 0;
    for (int64_t b = 0; b < B; b++) {
        CHECK_OK(dsc_graph_set_batch(g, 1));
        CHECK_OK(dsc_graph_set_input(g, x, xv + (size_t)b * xper, xper));
        CHECK_OK(dsc_graph_forward(g));
        CHECK_OK(dsc_graph_backward(g));
        double e = dsc_test_scaled_err(pe + (size_t)b * P, dsc_graph_grads(g, NULL), P, 1e-6);
        if (e > worst)
            worst = e;
        CHECK_OK(dsc_graph_set_batch(g, B));
    }
    if (getenv("DSC_TEST_VERBOSE") || !(worst <= 1e-5))
        fprintf(stderr, "per-example %s: worst relative error %.2e\n", what, worst);
    CHECK(worst <= 1e-5);
    free(xv);
    free(pe);
}

static void test_per_example(void)
{
    const int64_t B = 4;
    { /* conv2d with bias, stride 2, groups 2 */
        dsc_graph *g = dsc_graph_new();
        int64_t xs[4] = {B, 4, 7, 6}, ws[4] = {6, 2, 3, 3}, bs[1] = {6};
        dsc_id x = dsc_input(g, "x", 4, xs);
        dsc_conv_opts o = dsc_conv_defaults();
        o.stride[0] = o.stride[1] = 2, o.padding[0] = o.padding[1] = 1, o.groups = 2;
        dsc_id y = dsc_conv2d(g, x, dsc_param(g, "w", 4, ws), dsc_param(g, "b", 1, bs), o);
        CHECK_OK(dsc_graph_compile(g, test_loss(g, y)));
        check_per_example("conv2d", g, x, B, 4 * 7 * 6);
        dsc_graph_free(g);
    }
    { /* several chunks of examples (80000 column floats per example: chunks of 3) */
        dsc_graph *g = dsc_graph_new();
        int64_t xs[4] = {6, 8, 24, 24}, ws[4] = {4, 8, 5, 5}, bs[1] = {4};
        dsc_id x = dsc_input(g, "x", 4, xs);
        dsc_id w = dsc_param(g, "w", 4, ws), b = dsc_param(g, "b", 1, bs);
        dsc_id y = dsc_conv2d(g, x, w, b, dsc_conv_defaults());
        CHECK_OK(dsc_graph_compile(g, test_loss(g, y)));
        check_per_example("conv2d chunks", g, x, 6, 8 * 24 * 24);
        dsc_graph_free(g);
    }
    { /* conv1d then linear on [B, C, L] (T = C rows per example) */
        dsc_graph *g = dsc_graph_new();
        int64_t xs[3] = {B, 2, 9}, ws[3] = {3, 2, 3}, bs[1] = {3}, lw[2] = {5, 7}, lb[1] = {5};
        dsc_id x = dsc_input(g, "x", 3, xs);
        dsc_id y = dsc_conv1d(g, x, dsc_param(g, "w", 3, ws), dsc_param(g, "b", 1, bs), dsc_conv_defaults());
        y = dsc_linear(g, y, dsc_param(g, "lw", 2, lw), dsc_param(g, "lb", 1, lb));
        CHECK_OK(dsc_graph_compile(g, test_loss(g, y)));
        check_per_example("conv1d+linear3d", g, x, B, 2 * 9);
        dsc_graph_free(g);
    }
    { /* linear [B, in] with bias, then matmul with a 2-D parameter, then shared-left matmul */
        dsc_graph *g = dsc_graph_new();
        int64_t xs[2] = {B, 5}, ws[2] = {6, 5}, bs[1] = {6}, ms[2] = {6, 3};
        dsc_id x = dsc_input(g, "x", 2, xs);
        dsc_id y = dsc_linear(g, x, dsc_param(g, "w", 2, ws), dsc_param(g, "b", 1, bs));
        y = dsc_matmul(g, y, dsc_param(g, "m", 2, ms));
        CHECK_OK(dsc_graph_compile(g, test_loss(g, y)));
        check_per_example("linear+matmul2d", g, x, B, 5);
        dsc_graph_free(g);
    }
    { /* matmul [B, T, k] @ W [k, m] and W2 [n, T] @ [B, T, m] */
        dsc_graph *g = dsc_graph_new();
        int64_t xs[3] = {B, 3, 4}, ws[2] = {4, 5}, vs[2] = {2, 3};
        dsc_id x = dsc_input(g, "x", 3, xs);
        dsc_id y = dsc_matmul(g, x, dsc_param(g, "w", 2, ws));
        y = dsc_matmul(g, dsc_param(g, "v", 2, vs), y);
        CHECK_OK(dsc_graph_compile(g, test_loss(g, y)));
        check_per_example("matmul3d", g, x, B, 3 * 4);
        dsc_graph_free(g);
    }
}

/* ---- thread independence ------------------------------------------------------------- */

/* Forward, backward and HVP of a conv-conv-linear net; returns the concatenated results. */
static float *run_net(int threads, size_t *count)
{
    dsc_set_num_threads(threads);
    dsc_graph *g = dsc_graph_new();
    int64_t xs[4] = {16, 3, 20, 20}, w1[4] = {16, 3, 5, 5}, b1[1] = {16}, w2[4] = {32, 8, 3, 3}, b2[1] = {32};
    int64_t lw[2] = {10, 9}, lb[1] = {10};
    dsc_id x = dsc_input(g, "x", 4, xs);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    dsc_conv_opts o = dsc_conv_defaults();
    o.padding[0] = o.padding[1] = 2;
    dsc_id y = dsc_conv2d(g, x, dsc_param(g, "w1", 4, w1), dsc_param(g, "b1", 1, b1), o);
    o = dsc_conv_defaults();
    o.stride[0] = o.stride[1] = 2, o.groups = 2;
    y = dsc_conv2d(g, dsc_mul(g, y, y), dsc_param(g, "w2", 4, w2), dsc_param(g, "b2", 1, b2), o);
    y = dsc_linear(g, dsc_mul(g, y, y), dsc_param(g, "lw", 2, lw), dsc_param(g, "lb", 1, lb));
    dsc_id loss = sq_mean(g, y);
    CHECK_OK(dsc_graph_compile(g, loss));
    size_t P;
    float *p = dsc_graph_params(g, &P);
    dsc_test_fill(p, P, 5, -0.3f, 0.3f);
    size_t nx = 16 * 3 * 20 * 20, ny = (size_t)dsc_numel(&g->nodes[y]);
    float *xv = malloc(nx * sizeof(float));
    dsc_test_fill(xv, nx, 6, -1, 1);
    CHECK_OK(dsc_graph_set_input(g, x, xv, nx));
    *count = ny + 2 * P + nx;
    float *res = malloc(*count * sizeof(float));
    CHECK_OK(dsc_graph_forward(g));
    memcpy(res, dsc_node_value(g, y).data, ny * sizeof(float));
    CHECK_OK(dsc_graph_backward(g));
    memcpy(res + ny, dsc_graph_grads(g, NULL), P * sizeof(float));
    memcpy(res + ny + P, dsc_node_grad(g, x).data, nx * sizeof(float));
    float *v = malloc(P * sizeof(float));
    dsc_test_fill(v, P, 7, -1, 1);
    CHECK_OK(dsc_graph_hvp(g, v, res + ny + P + nx));
    free(v);
    free(xv);
    dsc_graph_free(g);
    return res;
}

/* Batched matmuls (parallel over batch matrices): values, gradients, HVP. */
static float *run_bmm(int threads, size_t *count)
{
    dsc_set_num_threads(threads);
    dsc_graph *g = dsc_graph_new();
    int64_t xs[3] = {8, 64, 32}, ps[3] = {8, 32, 48}, qs[2] = {48, 16};
    dsc_id x = dsc_input(g, "x", 3, xs);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    dsc_id y = dsc_matmul(g, x, dsc_param(g, "p", 3, ps));
    y = dsc_matmul(g, dsc_mul(g, y, y), dsc_param(g, "q", 2, qs));
    CHECK_OK(dsc_graph_compile(g, sq_mean(g, y)));
    size_t P, nx = 8 * 64 * 32, ny = (size_t)dsc_numel(&g->nodes[y]);
    dsc_test_fill(dsc_graph_params(g, &P), 8 * 32 * 48 + 48 * 16, 8, -0.3f, 0.3f);
    float *xv = malloc(nx * sizeof(float));
    dsc_test_fill(xv, nx, 9, -1, 1);
    CHECK_OK(dsc_graph_set_input(g, x, xv, nx));
    *count = ny + 2 * P + nx;
    float *res = malloc(*count * sizeof(float)), *v = malloc(P * sizeof(float));
    CHECK_OK(dsc_graph_forward(g));
    memcpy(res, dsc_node_value(g, y).data, ny * sizeof(float));
    CHECK_OK(dsc_graph_backward(g));
    memcpy(res + ny, dsc_graph_grads(g, NULL), P * sizeof(float));
    memcpy(res + ny + P, dsc_node_grad(g, x).data, nx * sizeof(float));
    dsc_test_fill(v, P, 10, -1, 1);
    CHECK_OK(dsc_graph_hvp(g, v, res + ny + P + nx));
    free(v);
    free(xv);
    dsc_graph_free(g);
    return res;
}

static void test_thread_independence(void)
{
    size_t m1, m2;
    float *c = run_bmm(1, &m1);
    float *d = run_bmm(2, &m2);
    CHECK(m1 == m2 && memcmp(c, d, m1 * sizeof(float)) == 0);
    free(c);
    free(d);
    size_t n1, n2;
    float *a = run_net(1, &n1);
    float *b = run_net(2, &n2);
    CHECK(n1 == n2);
    CHECK(memcmp(a, b, n1 * sizeof(float)) == 0);
    for (size_t i = 0; i < n1; i++)
        if (a[i] != b[i]) {
            fprintf(stderr, "threads 1 vs 2: first difference at %zu of %zu: %.9g vs %.9g\n", i, n1, a[i], b[i]);
            break;
        }
    dsc_set_num_threads(0);
    free(a);
    free(b);
}

DSC_TEST_MAIN("conv_matmul", TEST(test_matmul_gradcheck), TEST(test_matmul_shapes), TEST(test_linear_gradcheck),
              TEST(test_conv_gradcheck),
              TEST(test_conv_gradcheck_chunks), TEST(test_conv_errors), TEST(test_torch_fixtures), TEST(test_conv_hand),
              TEST(test_per_example), TEST(test_thread_independence))
