/* The training loop with closure optimizers (SAM, L-BFGS, zeroth-order, Polyak), optimizers
 * without an lr, and --no-decay-bias-norm parameter groups; resume bit-identity for both. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descent/train.h"
#include "testing.h"

static void digits_opts(dsc_train_opts *o, const char *model, const char *opt)
{
    dsc_train_opts_init(o);
    o->model = model;
    o->data = "digits";
    o->opt = opt;
    o->batch_size = 32;
    o->seed = 3;
}

/* Runs `steps` steps; returns a copy of the flat parameters followed by the buffers (BatchNorm
 * running statistics), *n floats in all; *loss0 / *loss1 (if non-NULL): test loss before / after. */
static float *run_params(const dsc_train_opts *o, int64_t steps, size_t *n, double *loss0, double *loss1)
{
    dsc_train_opts oo = *o;
    oo.steps = steps;
    dsc_trainer *t = NULL;
    CHECK_OK(dsc_trainer_new(&oo, &t));
    if (!t)
        return NULL;
    dsc_model *m = dsc_trainer_model(t);
    if (loss0)
        CHECK_OK(dsc_evaluate(m, dsc_trainer_test_set(t), loss0, NULL, NULL));
    dsc_train_result r;
    CHECK_OK(dsc_trainer_run(t, &r));
    CHECK(r.steps == steps);
    if (loss1)
        *loss1 = r.test_loss;
    size_t np = 0, nb = 0;
    const float *p = dsc_graph_params(m->g, &np);
    const float *b = dsc_graph_buffers(m->g, &nb);
    float *out = malloc((np + nb + 1) * sizeof *out);
    memcpy(out, p, np * sizeof *out);
    if (nb)
        memcpy(out + np, b, nb * sizeof *out);
    *n = np + nb;
    dsc_trainer_free(t);
    return out;
}

/* (a) SAM and L-BFGS train an MLP on digits (the test loss falls); zo and Polyak run. */
static void test_closure_optimizers_train(void)
{
    static const char *const specs[] = {"sam:base=[sgd:lr=0.1],rho=0.05", "lbfgs:lr=1,history_size=5,max_iter=4",
                                        "zo:base=[sgd:lr=0.01],directions=4", "polyak"};
    for (int i = 0; i < 4; i++) {
        dsc_train_opts o;
        digits_opts(&o, "mlp:64-32-10", specs[i]);
        size_t n = 0;
        double l0 = NAN, l1 = NAN;
        float *p = run_params(&o, 30, &n, &l0, &l1);
        printf("  %-40s test loss %.4f -> %.4f\n", specs[i], l0, l1);
        CHECK(p != NULL && isfinite(l1));
        if (i < 2)
            CHECK(l1 < 0.8 * l0);
        free(p);
    }
}

/* (b) Closure evaluations are deterministic with dropout and BatchNorm: SAM with rho = 0 evaluates
 * twice at the same parameters and steps its base optimizer with the second gradient, so it is
 * bit-identical to the base optimizer alone only if both evaluations draw the same dropout masks,
 * the running statistics are updated once per step and the next step's masks are those of a plain
 * step. The control (rho = 0.05) differs. */
static void test_closure_deterministic(void)
{
    const char *model = "mlp:64-48-10,dropout=0.3,batchnorm=1";
    dsc_train_opts o;
    size_t na = 0, nb = 0, nc = 0;
    digits_opts(&o, model, "sam:base=[sgd:lr=0.1,momentum=0.9],rho=0");
    float *a = run_params(&o, 12, &na, NULL, NULL);
    digits_opts(&o, model, "sgd:lr=0.1,momentum=0.9");
    float *b = run_params(&o, 12, &nb, NULL, NULL);
    digits_opts(&o, model, "sam:base=[sgd:lr=0.1,momentum=0.9],rho=0.05");
    float *c = run_params(&o, 12, &nc, NULL, NULL);
    CHECK(a && b && c && na == nb && nb == nc);
    if (a && b && c) {
        CHECK(memcmp(a, b, na * sizeof *a) == 0);
        CHECK(memcmp(a, c, na * sizeof *a) != 0);
    }
    free(a);
    free(b);
    free(c);
}

/* Polyak has no lr: a schedule is refused (DSC_ERR_INVALID), the constant one runs; closure
 * optimizers refuse gradient accumulation. */
static void test_no_lr_and_accumulate(void)
{
    dsc_train_opts o;
    digits_opts(&o, "mlp:64-32-10", "polyak");
    o.steps = 2;
    o.schedule = "cosine:t_max=10";
    dsc_train_result r;
    CHECK_STATUS(dsc_train(&o, &r), DSC_ERR_INVALID);
    CHECK(strstr(dsc_last_error(), "--schedule") && strstr(dsc_last_error(), "polyak"));
    o.schedule = "constant";
    CHECK_OK(dsc_train(&o, &r));
    digits_opts(&o, "mlp:64-32-10", "lbfgs");
    o.steps = 2;
    o.accumulate = 2;
    CHECK_STATUS(dsc_train(&o, &r), DSC_ERR_INVALID);
    CHECK(strstr(dsc_last_error(), "--accumulate") != NULL);
    /* L-BFGS has a single group (as torch): the flag is an option error. */
    digits_opts(&o, "mlp:64-32-10", "lbfgs");
    o.steps = 2;
    o.no_decay_bias_norm = 1;
    CHECK_STATUS(dsc_train(&o, &r), DSC_ERR_INVALID);
    CHECK(strstr(dsc_last_error(), "--no-decay-bias-norm") != NULL);
}

/* 1 for the parameters the flag exempts in mlp:...,batchnorm=1 (biases, BatchNorm weights). */
static int exempt(const dsc_model *m, const char *name)
{
    const size_t len = strlen(name);
    if (len >= 5 && !strcmp(name + len - 5, ".bias"))
        return 1;
    for (int i = 0; i < m->n_layers; i++) {
        const size_t ln = strlen(m->layers[i].name);
        if (strstr(m->layers[i].kind, "BatchNorm") && !strncmp(name, m->layers[i].name, ln) &&
            !strcmp(name + ln, ".weight"))
            return 1;
    }
    return 0;
}

/* (c) --no-decay-bias-norm with adamw weight_decay=0.1: after one step (from the same
 * initialization and batch, hence the same gradient), the exempt tensors equal a run with
 * weight_decay=0 and the other weights equal a run with weight_decay=0.1 everywhere (bit for bit:
 * AdamW's update of an element depends only on that element's parameter and gradient), and the
 * weights differ from the weight_decay=0 run. */
static void test_no_decay_bias_norm(void)
{
    const char *model = "mlp:64-48-10,batchnorm=1";
    dsc_train_opts o;
    digits_opts(&o, model, "adamw:lr=0.01,weight_decay=0.1");
    o.no_decay_bias_norm = 1;
    o.steps = 1;
    dsc_trainer *t = NULL;
    CHECK_OK(dsc_trainer_new(&o, &t));
    size_t nf = 0, n0 = 0, n1 = 0;
    digits_opts(&o, model, "adamw:lr=0.01,weight_decay=0");
    float *p0 = run_params(&o, 1, &n0, NULL, NULL);
    digits_opts(&o, model, "adamw:lr=0.01,weight_decay=0.1");
    float *p1 = run_params(&o, 1, &n1, NULL, NULL);
    if (!t || !p0 || !p1) {
        CHECK(0);
        dsc_trainer_free(t);
        free(p0);
        free(p1);
        return;
    }
    dsc_train_result r;
    CHECK_OK(dsc_trainer_run(t, &r));
    dsc_model *m = dsc_trainer_model(t);
    const float *pf = dsc_graph_params(m->g, &nf);
    int n_exempt = 0, n_bn = 0, n_decayed = 0, n_exempt_differ = 0;
    for (int i = 0; i < dsc_graph_param_count(m->g); i++) {
        const char *name;
        dsc_shape s;
        size_t off;
        dsc_graph_param_info(m->g, i, &name, &s, &off);
        const size_t k = (size_t)dsc_shape_numel(&s);
        if (exempt(m, name)) {
            n_exempt++;
            n_bn += strstr(name, ".bias") == NULL;
            CHECK(memcmp(pf + off, p0 + off, k * sizeof *pf) == 0);
            /* decay changes every nonzero tensor (the BatchNorm bias starts at 0: unchanged) */
            n_exempt_differ += memcmp(pf + off, p1 + off, k * sizeof *pf) != 0;
        } else {
            n_decayed++;
            CHECK(memcmp(pf + off, p1 + off, k * sizeof *pf) == 0);
            CHECK(memcmp(pf + off, p0 + off, k * sizeof *pf) != 0);
        }
    }
    printf("  %d exempt tensors (%d BatchNorm weights; %d differ from full decay), %d decayed\n", n_exempt, n_bn,
           n_exempt_differ, n_decayed);
    CHECK(n_exempt >= 3 && n_bn >= 1 && n_decayed >= 2 && n_exempt_differ >= n_exempt - 1);
    dsc_trainer_free(t);
    free(p0);
    free(p1);
}

/* (d) Stopped after 7 steps and resumed to 15: bit-identical to 15 steps in one go (parameters and
 * BatchNorm buffers), for SAM (with dropout) and for AdamW with --no-decay-bias-norm. */
static void resume_case(const char *model, const char *opt, int no_decay, const char *dir)
{
    char full[4096], part[4096];
    snprintf(full, sizeof full, "%s/%s-full", DSC_BINARY_DIR, dir);
    snprintf(part, sizeof part, "%s/%s-part", DSC_BINARY_DIR, dir);
    dsc_train_opts o;
    digits_opts(&o, model, opt);
    o.no_decay_bias_norm = no_decay;
    o.out_dir = full;
    size_t na = 0, nb = 0;
    float *a = run_params(&o, 15, &na, NULL, NULL);
    o.out_dir = part;
    free(run_params(&o, 7, &nb, NULL, NULL));
    o.out_dir = NULL;
    o.resume_dir = part;
    float *b = run_params(&o, 15, &nb, NULL, NULL);
    CHECK(a && b && na == nb);
    if (a && b)
        CHECK(memcmp(a, b, na * sizeof *a) == 0);
    free(a);
    free(b);
}

static void test_resume_bit_identical(void)
{
    resume_case("mlp:64-48-10,dropout=0.2,batchnorm=1", "sam:base=[adam:lr=1e-3],rho=0.05", 0, "test_train_optim_sam");
    resume_case("mlp:64-48-10,batchnorm=1", "adamw:lr=1e-2,weight_decay=0.1", 1, "test_train_optim_nodecay");
}

DSC_TEST_MAIN("train_optim", TEST(test_closure_optimizers_train), TEST(test_closure_deterministic),
              TEST(test_no_lr_and_accumulate), TEST(test_no_decay_bias_norm), TEST(test_resume_bit_identical))
