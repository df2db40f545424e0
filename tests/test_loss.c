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
        if (make_graph(c, f.r, 0, 0, &lg)) {
            CHECK_OK(dsc_graph_set_input(lg.g, lg.pred, f.pred, (size_t)f.np));
            CHECK_OK(dsc_graph_set_input(lg.g, lg.target, f.target, (size_t)f.nt));
            CHECK_OK(dsc_graph_forward(lg.g));
            CHECK_OK(dsc_graph_backward(lg.g));
            dsc_tensor lv = dsc_node_value(lg.g, lg.loss), gv = dsc_node_grad(lg.g, lg.pred);
            double el = dsc_test_max_rel(lv.data, f.loss, (size_t)f.nl, 1e-4);
            double eg = dsc_test_scaled_err(gv.data, f.grad, (size_t)f.np, 1e-4);
            if (!(el <= 1e-5) || !(eg <= 1e-5)) {
                fprintf(stderr, "fixture %s: loss rel err %.3g (got %.9g, torch %.9g), grad err %.3g\n", c->name, el,
                        (double)lv.data[0], (double)f.loss[0], eg);
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

DSC_TEST_MAIN("loss", TEST(test_fixtures), TEST(test_gradcheck))
