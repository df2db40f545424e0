/* Loss ops (src/ops/loss.c): values and gradients against PyTorch 1.13 fixtures
 * (tools/gen_loss_fixtures.py -> tests/fixtures/loss/), finite-difference checks of VJP, JVP
 * and HVP for every loss and reduction, per-example gradients, shape errors, invalid class
 * indices, thread-count determinism. */
#include <stdlib.h>
#include <string.h>

#include "testing.h"

enum { K_MSE, K_L1, K_HUBER, K_SL1, K_HINGE, K_BCE, K_KL, K_CE, K_NLL, K_MM };

typedef struct loss_case {
    const char *name; /* fixture file (without .f32) */
    int kind;
    int red;          /* dsc_reduction */
    int pnd;
    int64_t pshape[3];
    int tnd;
    int64_t tshape[3];
    float a;          /* huber delta, smooth_l1 beta, ce label smoothing, multi-margin margin */
    int opt;          /* bce: pos_weight; kl: log_target; ce/nll: class weights; mm: p */
    int opt2;         /* kl: batchmean; ce/nll: ignore_index */
    int target_grad;  /* the target gets a gradient (torch gives one) */
} loss_case;

static const float POS_WEIGHT[3] = {0.5f, 2.0f, 3.0f};
static const float CLASS_W[4] = {0.3f, 1.0f, 2.0f, 0.7f};

#define M DSC_REDUCE_MEAN
#define S DSC_REDUCE_SUM
#define N DSC_REDUCE_NONE
#define P43 2, {4, 3}
#define REG(nm, k, r, a) {nm, k, r, P43, P43, a, 0, 0, 1}
static const loss_case CASES[] = {
    REG("mse_mean", K_MSE, M, 0), REG("mse_sum", K_MSE, S, 0), REG("mse_none", K_MSE, N, 0),
    REG("l1_mean", K_L1, M, 0), REG("l1_sum", K_L1, S, 0), REG("l1_none", K_L1, N, 0),
    REG("huber_mean", K_HUBER, M, 0.7f), REG("huber_sum", K_HUBER, S, 0.7f), REG("huber_none", K_HUBER, N, 0.7f),
    REG("smooth_l1_mean", K_SL1, M, 0.6f), REG("smooth_l1_sum", K_SL1, S, 0.6f),
    REG("smooth_l1_none", K_SL1, N, 0.6f), REG("smooth_l1_beta0_mean", K_SL1, M, 0.0f),
    {"hinge_mean", K_HINGE, M, 2, {5, 2}, 2, {5, 2}, 0, 0, 0, 0},
    {"hinge_sum", K_HINGE, S, 2, {5, 2}, 2, {5, 2}, 0, 0, 0, 0},
    {"hinge_none", K_HINGE, N, 2, {5, 2}, 2, {5, 2}, 0, 0, 0, 0},
    {"bce_pw_mean", K_BCE, M, P43, P43, 0, 1, 0, 1},
    {"bce_pw_sum", K_BCE, S, P43, P43, 0, 1, 0, 1},
    {"bce_pw_none", K_BCE, N, P43, P43, 0, 1, 0, 1},
    {"bce_mean", K_BCE, M, P43, P43, 0, 0, 0, 1},
#define KL(nm, lt, r, bm) {nm, K_KL, r, 2, {3, 4}, 2, {3, 4}, 0, lt, bm, 1}
    KL("kl_lt0_mean", 0, M, 0), KL("kl_lt0_batchmean", 0, M, 1), KL("kl_lt0_sum", 0, S, 0),
    KL("kl_lt0_none", 0, N, 0), KL("kl_lt1_mean", 1, M, 0), KL("kl_lt1_batchmean", 1, M, 1),
    KL("kl_lt1_sum", 1, S, 0), KL("kl_lt1_none", 1, N, 0),
#define CE(nm, r, ls, w, ig) {nm, K_CE, r, 2, {5, 4}, 1, {5}, ls, w, ig, 0}
    CE("ce_mean", M, 0, 0, -100), CE("ce_sum", S, 0, 0, -100), CE("ce_none", N, 0, 0, -100),
    CE("ce_w_mean", M, 0, 1, -100), CE("ce_w_sum", S, 0, 1, -100), CE("ce_w_none", N, 0, 1, -100),
    CE("ce_ls_mean", M, 0.2f, 0, -100), CE("ce_ls_sum", S, 0.2f, 0, -100), CE("ce_ls_none", N, 0.2f, 0, -100),
    CE("ce_ls_w_ign_mean", M, 0.2f, 1, -100), CE("ce_ls_w_ign_sum", S, 0.2f, 1, -100),
    CE("ce_ls_w_ign_none", N, 0.2f, 1, -100), CE("ce_ign_mean", M, 0, 0, -100),
    CE("ce_ls_ign_mean", M, 0.3f, 0, -100), CE("ce_ignore1_w_mean", M, 0, 1, 1),
#define CESP(nm, r) {nm, K_CE, r, 3, {2, 4, 3}, 2, {2, 3}, 0.1f, 1, -100, 0}
    CESP("ce_sp_ls_w_ign_mean", M), CESP("ce_sp_ls_w_ign_sum", S), CESP("ce_sp_ls_w_ign_none", N),
#define NLL(nm, r) {nm, K_NLL, r, 2, {5, 4}, 1, {5}, 0, 1, -100, 0}
    NLL("nll_w_ign_mean", M), NLL("nll_w_ign_sum", S), NLL("nll_w_ign_none", N),
#define MM(nm, p, r) {nm, K_MM, r, 2, {4, 5}, 1, {4}, 0.8f, p, 0, 0}
    MM("mm_p1_mean", 1, M), MM("mm_p1_sum", 1, S), MM("mm_p1_none", 1, N),
    MM("mm_p2_mean", 2, M), MM("mm_p2_sum", 2, S), MM("mm_p2_none", 2, N),
};
#define NCASES ((int)(sizeof CASES / sizeof CASES[0]))

static dsc_id build_loss(dsc_graph *g, const loss_case *c, dsc_id p, dsc_id t)
{
    dsc_reduction r = (dsc_reduction)c->red;
    switch (c->kind) {
    case K_MSE: return dsc_mse_loss(g, p, t, r);
    case K_L1: return dsc_l1_loss(g, p, t, r);
    case K_HUBER: return dsc_huber_loss(g, p, t, c->a, r);
    case K_SL1: return dsc_smooth_l1_loss(g, p, t, c->a, r);
    case K_HINGE: return dsc_hinge_loss(g, p, t, r);
    case K_BCE: return dsc_bce_with_logits(g, p, t, c->opt ? POS_WEIGHT : NULL, r);
    case K_KL: return dsc_kl_div_loss(g, p, t, c->opt, c->opt2, r);
    case K_CE:
    case K_NLL: {
        dsc_ce_opts o = dsc_ce_defaults();
        o.reduction = r;
        o.label_smoothing = c->a;
        o.class_weights = c->opt ? CLASS_W : NULL;
        o.ignore_index = c->opt2;
        return c->kind == K_CE ? dsc_cross_entropy(g, p, t, o) : dsc_nll_loss(g, p, t, o);
    }
    default: return dsc_multi_margin_loss(g, p, t, c->opt, c->a, r);
    }
}

static int64_t numel_of(int nd, const int64_t *s)
{
    int64_t k = 1;
    for (int d = 0; d < nd; d++)
        k *= s[d];
    return k;
}

/* The fixture's layout: pred, target, [r], loss, grad. */
typedef struct fixture {
    float *data;
    const float *pred, *target, *r, *loss, *grad;
    int64_t np, nt, nl;
} fixture;

static int load_fixture(const loss_case *c, fixture *f)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/loss/%s.f32", c->name);
    size_t n = 0;
    f->data = dsc_test_read_f32(path, &n);
    if (!f->data)
        return 0;
    f->np = numel_of(c->pnd, c->pshape);
    f->nt = numel_of(c->tnd, c->tshape);
    int is_class = c->kind == K_CE || c->kind == K_NLL || c->kind == K_MM;
    f->nl = c->red == DSC_REDUCE_NONE ? (is_class ? f->nt : f->np) : 1;
    int64_t nr = c->red == DSC_REDUCE_NONE ? f->nl : 0;
    if ((int64_t)n != f->np * 2 + f->nt + nr + f->nl) {
        fprintf(stderr, "fixture %s: %zu floats, expected %lld\n", c->name, n,
                (long long)(f->np * 2 + f->nt + nr + f->nl));
        free(f->data);
        return 0;
    }
    f->pred = f->data;
    f->target = f->pred + f->np;
    f->r = nr ? f->target + f->nt : NULL;
    f->loss = f->target + f->nt + nr;
    f->grad = f->loss + f->nl;
    return 1;
}

/* Graph: pred and target are inputs (pred, and the target where torch differentiates it,
 * require gradients); with reduction none the scalar is sum(loss * r). */
typedef struct loss_graph {
    dsc_graph *g;
    dsc_id pred, target, loss, total;
} loss_graph;

static int make_graph(const loss_case *c, const float *r, int pred_param, int target_grad, loss_graph *lg)
{
    dsc_graph *g = dsc_graph_new();
    lg->g = g;
    lg->pred = pred_param ? dsc_param(g, "pred", c->pnd, c->pshape) : dsc_input(g, "pred", c->pnd, c->pshape);
    lg->target = dsc_input(g, "target", c->tnd, c->tshape);
    if (!pred_param)
        CHECK_OK(dsc_input_requires_grad(g, lg->pred, 1));
    if (target_grad)
        CHECK_OK(dsc_input_requires_grad(g, lg->target, 1));
    lg->loss = build_loss(g, c, lg->pred, lg->target);
    lg->total = lg->loss;
    if (c->red == DSC_REDUCE_NONE && lg->loss >= 0) {
        dsc_shape s = dsc_node_shape(g, lg->loss);
        dsc_id rc = dsc_constant(g, s.ndim, s.dim, r);
        lg->total = dsc_sum(g, dsc_mul(g, lg->loss, rc), 0, NULL, 0);
    }
    if (lg->total < 0) {
        fprintf(stderr, "%s: build failed: %s\n", c->name, dsc_graph_error(g));
        dsc_test_failures++;
        return 0;
    }
    dsc_status s = dsc_graph_compile(g, lg->total);
    if (s != DSC_OK) {
        fprintf(stderr, "%s: compile failed: %s\n", c->name, dsc_last_error());
        dsc_test_failures++;
        return 0;
    }
    return 1;
}

/* Values and gradients vs torch: relative error <= 1e-5. */
static void test_fixtures(void)
{
    for (int i = 0; i < NCASES; i++) {
        const loss_case *c = &CASES[i];
        fixture f;
        if (!load_fixture(c, &f)) {
            dsc_test_failures++;
            continue;
        }
        loss_graph lg;
        if (make_graph(c, f.r, 0, c->target_grad, &lg)) {
            CHECK_OK(dsc_graph_set_input(lg.g, lg.pred, f.pred, (size_t)f.np));
            CHECK_OK(dsc_graph_set_input(lg.g, lg.target, f.target, (size_t)f.nt));
            CHECK_OK(dsc_graph_forward(lg.g));
            CHECK_OK(dsc_graph_backward(lg.g));
            dsc_tensor lv = dsc_node_value(lg.g, lg.loss), gv = dsc_node_grad(lg.g, lg.pred);
            double el = dsc_test_max_rel(lv.data, f.loss, (size_t)f.nl, 1e-4);
            double eg = dsc_test_scaled_err(gv.data, f.grad, (size_t)f.np, 1e-4);
            double et = 0.0;
            if (c->target_grad) {
                char path[256];
                size_t n = 0;
                snprintf(path, sizeof path, "tests/fixtures/loss/%s_tgrad.f32", c->name);
                float *tg = dsc_test_read_f32(path, &n);
                dsc_tensor tv = dsc_node_grad(lg.g, lg.target);
                et = tg && (int64_t)n == f.nt && tv.data ? dsc_test_scaled_err(tv.data, tg, n, 1e-4) : INFINITY;
                free(tg);
            }
            if (!(el <= 1e-5) || !(eg <= 1e-5) || !(et <= 1e-5)) {
                fprintf(stderr, "fixture %s: loss rel err %.3g (got %.9g, torch %.9g), grad err %.3g, target grad err %.3g\n",
                        c->name, el, (double)lv.data[0], (double)f.loss[0], eg, et);
                dsc_test_failures++;
            }
        }
        dsc_graph_free(lg.g);
        free(f.data);
    }
}

/* Finite differences of VJP, JVP and HVP at the fixture points (pred is a parameter so the
 * HVP covers it; targets that torch differentiates require gradients too). The fixture
 * inputs of the piecewise losses are checked to be away from kinks by the generator. */
static void test_gradcheck(void)
{
    for (int i = 0; i < NCASES; i++) {
        const loss_case *c = &CASES[i];
        fixture f;
        if (!load_fixture(c, &f)) {
            dsc_test_failures++;
            continue;
        }
        loss_graph lg;
        if (make_graph(c, f.r, 1, c->target_grad, &lg)) {
            memcpy(dsc_graph_params(lg.g, NULL), f.pred, (size_t)f.np * sizeof(float));
            CHECK_OK(dsc_graph_set_input(lg.g, lg.target, f.target, (size_t)f.nt));
            dsc_test_gradcheck(c->name, lg.g, 1e-2);
        }
        dsc_graph_free(lg.g);
        free(f.data);
    }
}

/* ---- per-example gradients through y = x * w + b ---------------------------------- */

enum { PE_MSE_MEAN, PE_MSE_SUM, PE_CE_W_MEAN, PE_CE_SUM, PE_CE_SP_MEAN };

static void per_example_case(int which)
{
    static const float W3[3] = {0.5f, 2.0f, 1.2f};
    enum { B = 4, D = 3 };
    const int spatial = which == PE_CE_SP_MEAN;
    dsc_graph *g = dsc_graph_new();
    int64_t xs[3] = {B, D, 2}, ps[2] = {D, 1}, ts[2] = {B, 2};
    /* Spatial case: x [B, 3, 2] with w, b [3, 1] broadcast over the last dim. */
    dsc_id x = dsc_input(g, "x", spatial ? 3 : 2, xs);
    dsc_id w = dsc_param(g, "w", spatial ? 2 : 1, ps);
    dsc_id b = dsc_param(g, "b", spatial ? 2 : 1, ps);
    dsc_id y = dsc_add(g, dsc_mul(g, x, w), b);
    int is_ce = which >= PE_CE_W_MEAN;
    dsc_id t = dsc_input(g, "t", is_ce ? (spatial ? 2 : 1) : 2, is_ce ? ts : xs);
    dsc_id loss;
    if (is_ce) {
        dsc_ce_opts o = dsc_ce_defaults();
        o.reduction = which == PE_CE_SUM ? DSC_REDUCE_SUM : DSC_REDUCE_MEAN;
        o.class_weights = which == PE_CE_SUM ? NULL : W3;
        o.label_smoothing = which == PE_CE_SP_MEAN ? 0.1f : 0.0f;
        loss = dsc_cross_entropy(g, y, t, o);
    } else {
        loss = dsc_mse_loss(g, y, t, which == PE_MSE_SUM ? DSC_REDUCE_SUM : DSC_REDUCE_MEAN);
    }
    CHECK_OK(dsc_graph_compile(g, loss));
    if (dsc_graph_status(g) != DSC_OK) {
        dsc_graph_free(g);
        return;
    }
    size_t P = 0;
    float *params = dsc_graph_params(g, &P);
    dsc_test_fill(params, P, 11, -1.0f, 1.0f);
    const int64_t nx = spatial ? B * D * 2 : B * D, nt = is_ce ? (spatial ? B * 2 : B) : B * D;
    float xv[B * D * 2], tv[B * D * 2];
    dsc_test_fill(xv, (size_t)nx, 12, -2.0f, 2.0f);
    if (is_ce) {
        /* Example 2 has all its targets ignored: its per-example gradient must be 0. */
        static const float cls[B] = {2, 0, -100, 1}, cls_sp[B * 2] = {2, 1, 0, -100, -100, -100, 1, 1};
        memcpy(tv, spatial ? cls_sp : cls, (size_t)nt * sizeof(float));
    } else {
        dsc_test_fill(tv, (size_t)nt, 13, -1.0f, 1.0f);
    }
    CHECK_OK(dsc_graph_set_input(g, x, xv, (size_t)nx));
    CHECK_OK(dsc_graph_set_input(g, t, tv, (size_t)nt));
    float pe[B * 16], alone[16];
    CHECK(P <= 16);
    CHECK_OK(dsc_graph_per_example_grads(g, pe));
    const int64_t rx = nx / B, rt = nt / B;
    for (int e = 0; e < B; e++) {
        CHECK_OK(dsc_graph_set_batch(g, 1));
        CHECK_OK(dsc_graph_set_input(g, x, xv + e * rx, (size_t)rx));
        CHECK_OK(dsc_graph_set_input(g, t, tv + e * rt, (size_t)rt));
        CHECK_OK(dsc_graph_forward(g));
        CHECK_OK(dsc_graph_backward(g));
        memcpy(alone, dsc_graph_grads(g, NULL), P * sizeof(float));
        double err = dsc_test_scaled_err(pe + (size_t)e * P, alone, P, 1e-3);
        if (!(err <= 1e-5)) {
            fprintf(stderr, "per-example case %d, example %d: error %.3g (pe[0] %.7g, alone[0] %.7g)\n", which, e,
                    err, (double)pe[e * P], (double)alone[0]);
            dsc_test_failures++;
        }
    }
    if (is_ce && which != PE_CE_SUM) {
        for (size_t k = 0; k < P; k++)
            CHECK(pe[2 * P + k] == 0.0f);
    }
    CHECK_OK(dsc_graph_set_batch(g, B));
    dsc_graph_free(g);
}

static void test_per_example(void)
{
    per_example_case(PE_MSE_MEAN);
    per_example_case(PE_MSE_SUM);
    per_example_case(PE_CE_W_MEAN);
    per_example_case(PE_CE_SUM);
    per_example_case(PE_CE_SP_MEAN);
}

/* ---- errors -------------------------------------------------------------------------- */

static int has(const char *s, const char *sub) { return s && strstr(s, sub) != NULL; }

static void test_shape_errors(void)
{
    int64_t a[2] = {4, 3}, b5[1] = {5}, b42[2] = {4, 2}, b4[1] = {4};
    dsc_graph *g = dsc_graph_new();
    dsc_id x = dsc_input(g, "logits", 2, a), t = dsc_input(g, "t", 1, b5);
    CHECK(dsc_cross_entropy(g, x, t, dsc_ce_defaults()) == -1);
    CHECK(dsc_graph_status(g) == DSC_ERR_SHAPE);
    CHECK(has(dsc_graph_error(g), "cross_entropy") && has(dsc_graph_error(g), "[4, 3]") &&
          has(dsc_graph_error(g), "[5]"));
    dsc_graph_free(g);

    g = dsc_graph_new();
    x = dsc_input(g, "p", 2, a);
    t = dsc_input(g, "t", 2, b42);
    CHECK(dsc_mse_loss(g, x, t, DSC_REDUCE_MEAN) == -1);
    CHECK(dsc_graph_status(g) == DSC_ERR_SHAPE);
    CHECK(has(dsc_graph_error(g), "mse_loss") && has(dsc_graph_error(g), "[4, 2]"));
    dsc_graph_free(g);

    g = dsc_graph_new();
    x = dsc_input(g, "p", 1, b4);
    t = dsc_input(g, "t", 1, b4);
    CHECK(dsc_nll_loss(g, x, t, dsc_ce_defaults()) == -1); /* needs [N, C] */
    CHECK(dsc_graph_status(g) == DSC_ERR_SHAPE && has(dsc_graph_error(g), "nll_loss"));
    dsc_graph_free(g);

    g = dsc_graph_new();
    x = dsc_input(g, "s", 2, a);
    t = dsc_input(g, "t", 1, b4);
    CHECK(dsc_multi_margin_loss(g, x, t, 3, 1.0f, DSC_REDUCE_MEAN) == -1);
    CHECK(dsc_graph_status(g) == DSC_ERR_INVALID && has(dsc_graph_error(g), "multi_margin_loss"));
    dsc_graph_free(g);

    g = dsc_graph_new();
    x = dsc_input(g, "p", 2, a);
    CHECK(dsc_huber_loss(g, x, x, -1.0f, DSC_REDUCE_MEAN) == -1);
    CHECK(dsc_graph_status(g) == DSC_ERR_INVALID && has(dsc_graph_error(g), "delta"));
    dsc_graph_free(g);

    g = dsc_graph_new();
    x = dsc_input(g, "p", 2, a);
    t = dsc_input(g, "t", 1, b4);
    dsc_ce_opts o = dsc_ce_defaults();
    o.label_smoothing = 1.5f;
    CHECK(dsc_cross_entropy(g, x, t, o) == -1);
    CHECK(dsc_graph_status(g) == DSC_ERR_INVALID && has(dsc_graph_error(g), "label_smoothing"));
    dsc_graph_free(g);
}

/* Class indices out of range are found in forward: NaN loss and DSC_ERR_RANGE. */
static void test_invalid_class(void)
{
    int64_t a[2] = {3, 4}, b[1] = {3};
    for (int red = 0; red < 3; red++) {
        for (int k = 0; k < 3; k++) {
            dsc_graph *g = dsc_graph_new();
            dsc_id x = dsc_param(g, "x", 2, a), t = dsc_input(g, "t", 1, b);
            dsc_ce_opts o = dsc_ce_defaults();
            o.reduction = (dsc_reduction)red;
            dsc_id l = k == 0 ? dsc_cross_entropy(g, x, t, o)
                     : k == 1 ? dsc_nll_loss(g, x, t, o)
                              : dsc_multi_margin_loss(g, x, t, 1, 1.0f, (dsc_reduction)red);
            dsc_id total = red == DSC_REDUCE_NONE ? dsc_sum(g, l, 0, NULL, 0) : l;
            CHECK_OK(dsc_graph_compile(g, total));
            dsc_test_fill(dsc_graph_params(g, NULL), 12, 3, -1, 1);
            const float bad[3] = {1, 4, 1.5f}, good[3] = {1, 3, -100};
            CHECK_OK(dsc_graph_set_input(g, t, bad, 3));
            CHECK_STATUS(dsc_graph_forward(g), DSC_ERR_RANGE);
            CHECK(has(dsc_last_error(), k == 2 ? "multi_margin_loss" : k ? "nll_loss" : "cross_entropy"));
            CHECK(has(dsc_last_error(), "target 4"));
            float *v = dsc_node_value(g, l).data;
            if (red == DSC_REDUCE_NONE)
                CHECK(isfinite(v[0]) && isnan(v[1]) && isnan(v[2]));
            else
                CHECK(isnan(v[0]));
            if (k < 2) { /* valid again: the error does not stick */
                CHECK_OK(dsc_graph_set_input(g, t, good, 3));
                CHECK_OK(dsc_graph_forward(g));
                CHECK(isfinite(dsc_graph_loss(g)));
            }
            dsc_graph_free(g);
        }
    }
}

/* Extreme logits: the fused cross-entropy and the BCE stay finite and exact. */
static void test_stability(void)
{
    int64_t a[2] = {2, 3}, b[1] = {2};
    dsc_graph *g = dsc_graph_new();
    dsc_id x = dsc_input(g, "x", 2, a), t = dsc_input(g, "t", 1, b);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    dsc_id l = dsc_cross_entropy(g, x, t, dsc_ce_defaults());
    CHECK_OK(dsc_graph_compile(g, l));
    const float xv[6] = {1000, 0, -1000, -500, 500, 480}, tv[2] = {1, 2};
    CHECK_OK(dsc_graph_set_input(g, x, xv, 6));
    CHECK_OK(dsc_graph_set_input(g, t, tv, 2));
    CHECK_OK(dsc_graph_forward(g));
    CHECK_OK(dsc_graph_backward(g));
    /* row 0: 1000; row 1: 500 + log(1 + e^-20) - 480 = 20 + 2.06e-9 */
    CHECK_REL(dsc_graph_loss(g), (1000.0 + 20.0) / 2, 1e-6, 1e-6);
    float *gx = dsc_node_grad(g, x).data;
    CHECK_NEAR(gx[0], 0.5, 1e-6);
    CHECK_NEAR(gx[1], -0.5, 1e-6);
    CHECK_NEAR(gx[4], 0.5, 1e-6);
    CHECK_NEAR(gx[5], -0.5, 1e-6);
    /* -inf logits (masking) get probability 0; a NaN logit makes the loss NaN. */
    const float xm[6] = {0, -INFINITY, 1, 0.5f, NAN, 0}, tm[2] = {0, 0};
    CHECK_OK(dsc_graph_set_input(g, x, xm, 6));
    CHECK_OK(dsc_graph_set_input(g, t, tm, 2));
    CHECK_OK(dsc_graph_forward(g));
    CHECK(isnan(dsc_graph_loss(g)));
    const float xm2[6] = {0, -INFINITY, 1, 0.5f, 0.25f, -INFINITY};
    CHECK_OK(dsc_graph_set_input(g, x, xm2, 6));
    CHECK_OK(dsc_graph_forward(g));
    CHECK_OK(dsc_graph_backward(g));
    CHECK_REL(dsc_graph_loss(g), (log(1.0 + exp(1.0)) + log(1.0 + exp(-0.25)) - 0.0) / 2, 1e-6, 1e-6);
    CHECK(dsc_node_grad(g, x).data[1] == 0.0f && dsc_node_grad(g, x).data[5] == 0.0f);
    dsc_graph_free(g);

    g = dsc_graph_new();
    x = dsc_input(g, "x", 2, a);
    t = dsc_input(g, "t", 2, a);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    l = dsc_bce_with_logits(g, x, t, NULL, DSC_REDUCE_SUM);
    CHECK_OK(dsc_graph_compile(g, l));
    const float bx[6] = {100, -100, 100, -100, 0, 30}, by[6] = {0, 1, 1, 0, 1, 1};
    CHECK_OK(dsc_graph_set_input(g, x, bx, 6));
    CHECK_OK(dsc_graph_set_input(g, t, by, 6));
    CHECK_OK(dsc_graph_forward(g));
    CHECK_OK(dsc_graph_backward(g));
    CHECK_REL(dsc_graph_loss(g), 200.0 + log(2.0) + log1p(exp(-30.0)), 1e-6, 1e-6);
    gx = dsc_node_grad(g, x).data;
    CHECK_NEAR(gx[0], 1.0, 1e-6);
    CHECK_NEAR(gx[1], -1.0, 1e-6);
    CHECK_NEAR(gx[2], 0.0, 1e-6);
    CHECK_NEAR(gx[4], -0.5, 1e-6);
    dsc_graph_free(g);
}

/* Results are bit-identical for 1 and 2 threads (chunked reductions, per-output loops). */
static void run_big(int threads, int which, float *out_loss, float *out_grad, size_t *ng)
{
    dsc_set_num_threads(threads);
    dsc_graph *g = dsc_graph_new();
    int64_t xs[3] = {3000, 37, 2}, ts[2] = {3000, 2};
    int nd = which == 2 ? 3 : 2;
    dsc_id x = dsc_input(g, "x", nd, xs);
    dsc_id t = dsc_input(g, "t", which == 0 ? 2 : nd - 1, which == 0 ? xs : ts);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    dsc_ce_opts o = dsc_ce_defaults();
    o.label_smoothing = 0.1f;
    dsc_id l = which == 0 ? dsc_mse_loss(g, x, t, DSC_REDUCE_MEAN) : dsc_cross_entropy(g, x, t, o);
    CHECK_OK(dsc_graph_compile(g, l));
    size_t nx = which == 2 ? 3000 * 37 * 2 : 3000 * 37;
    size_t nt = which == 0 ? nx : (size_t)(which == 2 ? 6000 : 3000);
    float *xv = malloc(nx * sizeof(float)), *tv = malloc(nx * sizeof(float));
    dsc_test_fill(xv, nx, 5, -3, 3);
    dsc_test_fill(tv, nt, 6, 0, 37);
    if (which)
        for (size_t i = 0; i < nt; i++)
            tv[i] = i % 17 == 0 ? -100.0f : floorf(tv[i]);
    CHECK_OK(dsc_graph_set_input(g, x, xv, nx));
    CHECK_OK(dsc_graph_set_input(g, t, tv, nt));
    CHECK_OK(dsc_graph_forward(g));
    CHECK_OK(dsc_graph_backward(g));
    *out_loss = dsc_graph_loss(g);
    memcpy(out_grad, dsc_node_grad(g, x).data, nx * sizeof(float));
    *ng = nx;
    free(xv);
    free(tv);
    dsc_graph_free(g);
}

static void test_threads_deterministic(void)
{
    int prev = dsc_get_num_threads();
    float *g1 = malloc(3000 * 37 * 2 * sizeof(float)), *g2 = malloc(3000 * 37 * 2 * sizeof(float));
    for (int which = 0; which < 3; which++) {
        float l1, l2;
        size_t n1, n2;
        run_big(1, which, &l1, g1, &n1);
        run_big(2, which, &l2, g2, &n2);
        CHECK(n1 == n2 && memcmp(&l1, &l2, sizeof l1) == 0 && memcmp(g1, g2, n1 * sizeof(float)) == 0);
        CHECK(isfinite(l1));
    }
    free(g1);
    free(g2);
    dsc_set_num_threads(prev);
}

DSC_TEST_MAIN("loss", TEST(test_fixtures), TEST(test_gradcheck), TEST(test_per_example), TEST(test_shape_errors),
              TEST(test_invalid_class), TEST(test_stability), TEST(test_threads_deterministic))
