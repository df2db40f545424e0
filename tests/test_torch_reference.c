/* Reference tests against PyTorch 1.13: layers and whole networks.
 *
 * tools/gen_torch_fixtures.py writes, for each case under tests/fixtures/torch/<case>/, the
 * inputs, the parameters (by state_dict name), the outputs, the loss, the input gradient,
 * every parameter gradient and BatchNorm's updated running statistics computed by torch. Here
 * the same layer (built from ops) or zoo network (dsc_model_build) gets exactly those
 * parameters, runs forward/backward, and every tensor is compared with
 * dsc_test_scaled_err: max|a-b| / max(max|b|, 1e-6) <= tolerance (1e-5 unless a case says
 * otherwise; see docs/ALGORITHMS.md). DSC_TEST_VERBOSE=1 prints every error. */
#include <stdlib.h>
#include <string.h>

#include "descent/nn.h"
#include "testing.h"

/* ---- fixture reading ------------------------------------------------------------- */

#define FX_MAX_TENSORS 512
#define FX_MAX_OPTS 32

typedef struct fx_tensor {
    char key[160];
    int stride; /* > 1: only elements 0, stride, 2 stride, ... of the flat tensor are stored */
    dsc_shape shape;
    float *data;
    size_t n; /* stored floats */
} fx_tensor;

typedef struct fx_opt {
    char key[64];
    char str[64];
    double v[4];
    int nv;
} fx_opt;

typedef struct fixture {
    char name[64];
    char kind[64];
    fx_tensor t[FX_MAX_TENSORS];
    int nt;
    fx_opt o[FX_MAX_OPTS];
    int no;
} fixture;

static void fx_free(fixture *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->nt; i++)
        free(f->t[i].data);
    free(f);
}

/* Splits line in place into at most max whitespace-separated tokens; returns how many
 * (max + 1 when there were more). */
static int split(char *line, char **tk, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        p += strspn(p, " \t\r\n");
        if (!*p)
            return n;
        if (n == max)
            return max + 1;
        tk[n++] = p;
        p += strcspn(p, " \t\r\n");
        if (*p)
            *p++ = '\0';
    }
}

/* Loads tests/fixtures/torch/<name>/manifest.txt and its .f32 files; NULL (and a failed
 * CHECK) if anything is missing or inconsistent. */
static fixture *fx_load(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/torch/%s/manifest.txt", dsc_test_source_dir(), name);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "cannot open %s\n", path);
        dsc_test_failures++;
        return NULL;
    }
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    char line[1024];
    int ok = 1;
    while (ok && fgets(line, sizeof line, fp)) {
        char *tk[4 + DSC_MAX_DIMS + 4];
        int nt = split(line, tk, (int)(sizeof tk / sizeof tk[0]));
        if (nt == 0 || tk[0][0] == '#')
            continue;
        if (!strcmp(tk[0], "kind") && nt >= 2) {
            snprintf(f->kind, sizeof f->kind, "%s", tk[1]);
        } else if ((!strcmp(tk[0], "opt") || !strcmp(tk[0], "str")) && nt >= 3) {
            if (f->no == FX_MAX_OPTS) {
                ok = 0;
                break;
            }
            fx_opt *o = &f->o[f->no++];
            snprintf(o->key, sizeof o->key, "%s", tk[1]);
            snprintf(o->str, sizeof o->str, "%s", tk[2]);
            for (int i = 2; i < nt && o->nv < 4; i++)
                o->v[o->nv++] = strtod(tk[i], NULL);
        } else if (!strcmp(tk[0], "tensor") && nt >= 4) {
            if (f->nt == FX_MAX_TENSORS) {
                ok = 0;
                break;
            }
            fx_tensor *t = &f->t[f->nt++];
            snprintf(t->key, sizeof t->key, "%s", tk[1]);
            t->stride = atoi(tk[2]);
            t->shape.ndim = atoi(tk[3]);
            if (t->stride < 1 || t->shape.ndim < 0 || t->shape.ndim > DSC_MAX_DIMS || nt != 4 + t->shape.ndim) {
                ok = 0;
                break;
            }
            for (int d = 0; d < t->shape.ndim; d++)
                t->shape.dim[d] = atoll(tk[4 + d]);
            char rel[512];
            snprintf(rel, sizeof rel, "tests/fixtures/torch/%s/%s.f32", name, t->key);
            t->data = dsc_test_read_f32(rel, &t->n);
            size_t numel = (size_t)dsc_shape_numel(&t->shape);
            size_t want = (numel + (size_t)t->stride - 1) / (size_t)t->stride;
            if (!t->data || t->n != want) {
                fprintf(stderr, "fixture %s: %s holds %zu floats, manifest says %zu\n", name, t->key,
                        t->data ? t->n : 0, want);
                ok = 0;
            }
        } else {
            ok = 0;
        }
    }
    fclose(fp);
    if (!ok) {
        fprintf(stderr, "fixture %s: malformed manifest or data\n", name);
        dsc_test_failures++;
        fx_free(f);
        return NULL;
    }
    return f;
}

static fx_tensor *fx_find(fixture *f, const char *key)
{
    for (int i = 0; i < f->nt; i++)
        if (!strcmp(f->t[i].key, key))
            return &f->t[i];
    return NULL;
}

/* A tensor the case needs: a failed CHECK when absent. */
static fx_tensor *fx_get(fixture *f, const char *key)
{
    fx_tensor *t = fx_find(f, key);
    if (!t) {
        fprintf(stderr, "fixture %s: no tensor '%s'\n", f->name, key);
        dsc_test_failures++;
    }
    return t;
}

static fx_opt *fx_find_opt(fixture *f, const char *key)
{
    for (int i = 0; i < f->no; i++)
        if (!strcmp(f->o[i].key, key))
            return &f->o[i];
    return NULL;
}

/* Numeric option value k of key, or def when absent. */
static double fx_num(fixture *f, const char *key, int k, double def)
{
    fx_opt *o = fx_find_opt(f, key);
    return o && k < o->nv ? o->v[k] : def;
}

static const char *fx_str(fixture *f, const char *key)
{
    fx_opt *o = fx_find_opt(f, key);
    return o ? o->str : "";
}

/* ---- comparing --------------------------------------------------------------------- */

#define REF_TOL 1e-5

static int compare_quiet; /* set while a failure is provoked on purpose */

/* Compares got (numel floats, contiguous) with the reference (possibly subsampled) and
 * reports the scaled error. Returns the error. */
static double compare_floor(const fixture *f, const char *what, const float *got, size_t numel,
                            const fx_tensor *ref, double tol, double floor)
{
    if (!ref)
        return INFINITY;
    if (!got || numel != (size_t)dsc_shape_numel(&ref->shape)) {
        fprintf(stderr, "%s: %s: got %zu values (data %p), torch has %lld\n", f->name, what, got ? numel : 0,
                (const void *)got, (long long)dsc_shape_numel(&ref->shape));
        dsc_test_failures++;
        return INFINITY;
    }
    float *sub = NULL;
    const float *a = got;
    if (ref->stride > 1) {
        sub = malloc(ref->n * sizeof *sub);
        for (size_t i = 0; i < ref->n; i++)
            sub[i] = got[i * (size_t)ref->stride];
        a = sub;
    }
    double err = dsc_test_scaled_err(a, ref->data, ref->n, floor);
    free(sub);
    int bad = !(err <= tol);
    if (!compare_quiet && (bad || getenv("DSC_TEST_VERBOSE")))
        fprintf(stderr, "  %-24s %-40s scaled err %.3e (tol %.0e)%s\n", f->name, what, err, tol,
                bad ? "  FAILED" : "");
    if (bad)
        dsc_test_failures++;
    return err;
}

static double compare(const fixture *f, const char *what, const float *got, size_t numel, const fx_tensor *ref,
                      double tol)
{
    return compare_floor(f, what, got, numel, ref, tol, 1e-6);
}

static double max_abs(const float *x, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabs((double)x[i]) > m ? fabs((double)x[i]) : m;
    return m;
}

static void compare_node_value(dsc_graph *g, const fixture *f, const char *what, dsc_id id, const fx_tensor *ref,
                               double tol)
{
    dsc_tensor v = dsc_node_value(g, id);
    CHECK(dsc_tensor_is_contiguous(&v));
    compare(f, what, v.data + v.offset, (size_t)dsc_tensor_numel(&v), ref, tol);
}

static void compare_node_grad(dsc_graph *g, const fixture *f, const char *what, dsc_id id, const fx_tensor *ref,
                              double tol)
{
    dsc_tensor v = dsc_node_grad(g, id);
    compare(f, what, v.data ? v.data + v.offset : NULL, (size_t)dsc_tensor_numel(&v), ref, tol);
}

/* Copies every "param.<name>" / "buffer.<name>" tensor of the fixture into the graph's
 * parameter / buffer of that name (shapes must match). When `all` is set, every parameter
 * and buffer of the graph must be covered (by this fixture or by `base`). */
static void load_state(dsc_graph *g, fixture *f, fixture *base, int all)
{
    size_t np, nb;
    float *P = dsc_graph_params(g, &np), *B = dsc_graph_buffers(g, &nb);
    for (int kind = 0; kind < 2; kind++) {
        int count = kind ? dsc_graph_buffer_count(g) : dsc_graph_param_count(g);
        for (int i = 0; i < count; i++) {
            const char *name;
            dsc_shape shape;
            size_t off;
            CHECK_OK(kind ? dsc_graph_buffer_info(g, i, &name, &shape, &off)
                          : dsc_graph_param_info(g, i, &name, &shape, &off));
            char key[200];
            snprintf(key, sizeof key, "%s.%s", kind ? "buffer" : "param", name);
            fx_tensor *t = fx_find(f, key);
            if (!t && base)
                t = fx_find(base, key);
            if (!t) {
                if (all) {
                    fprintf(stderr, "%s: the C model's %s has no torch counterpart\n", f->name, key);
                    dsc_test_failures++;
                }
                continue;
            }
            if (!dsc_shape_equal(&shape, &t->shape) || t->stride != 1) {
                char b1[96], b2[96];
                fprintf(stderr, "%s: %s is %s in C but %s in torch\n", f->name, key,
                        dsc_shape_str(&shape, b1, sizeof b1), dsc_shape_str(&t->shape, b2, sizeof b2));
                dsc_test_failures++;
                continue;
            }
            memcpy((kind ? B : P) + off, t->data, t->n * sizeof(float));
        }
    }
    (void)np;
    (void)nb;
}

/* Every "param."/"buffer." tensor of the fixture must exist in the graph under that name. */
static void check_state_names(dsc_graph *g, fixture *f)
{
    for (int i = 0; i < f->nt; i++) {
        const char *k = f->t[i].key;
        const char *name = !strncmp(k, "param.", 6) ? k + 6 : !strncmp(k, "buffer.", 7) ? k + 7 : NULL;
        if (name && dsc_graph_find(g, name) < 0) {
            fprintf(stderr, "%s: torch's %s has no C counterpart\n", f->name, k);
            dsc_test_failures++;
        }
    }
}

/* Compares the parameter gradients ("<prefix>grad.<name>") and, when present, the updated
 * buffers ("<prefix>buffer_after.<name>") of every parameter/buffer of the graph.
 *
 * Some gradients are exactly zero in exact arithmetic: the bias of a conv/linear layer that
 * feeds a train-mode BatchNorm (the batch mean removes it). torch's and our float32 values
 * of such a tensor are rounding noise (about 1e-8 of the model's gradient scale), so a
 * tensor whose torch values are below 1e-4 of the largest gradient of the pass is measured
 * against that largest gradient instead of its own scale. */
static void compare_state_grads(dsc_graph *g, fixture *f, const char *prefix, double tol)
{
    float *G = dsc_graph_grads(g, NULL), *B = dsc_graph_buffers(g, NULL);
    double gmax = 0;
    size_t plen = strlen(prefix);
    for (int i = 0; i < f->nt; i++)
        if (!strncmp(f->t[i].key, prefix, plen) && !strncmp(f->t[i].key + plen, "grad.", 5) &&
            strcmp(f->t[i].key + plen, "grad.x") != 0) {
            double m = max_abs(f->t[i].data, f->t[i].n);
            gmax = m > gmax ? m : gmax;
        }
    for (int kind = 0; kind < 2; kind++) {
        int count = kind ? dsc_graph_buffer_count(g) : dsc_graph_param_count(g);
        for (int i = 0; i < count; i++) {
            const char *name;
            dsc_shape shape;
            size_t off;
            CHECK_OK(kind ? dsc_graph_buffer_info(g, i, &name, &shape, &off)
                          : dsc_graph_param_info(g, i, &name, &shape, &off));
            char key[200];
            snprintf(key, sizeof key, "%s%s.%s", prefix, kind ? "buffer_after" : "grad", name);
            fx_tensor *t = kind ? fx_find(f, key) : fx_get(f, key);
            if (!t)
                continue;
            double floor = 1e-6;
            if (!kind && max_abs(t->data, t->n) < 1e-4 * gmax) {
                floor = gmax;
                strncat(key, " (zero gradient)", sizeof key - strlen(key) - 1);
            }
            compare_floor(f, key, (kind ? B : G) + off, (size_t)dsc_shape_numel(&shape), t, tol, floor);
        }
    }
}

static dsc_id input_like(dsc_graph *g, const char *name, const fx_tensor *t)
{
    return dsc_input(g, name, t->shape.ndim, t->shape.dim);
}

static dsc_id param_like(dsc_graph *g, fixture *f, const char *name)
{
    char key[128];
    snprintf(key, sizeof key, "param.%s", name);
    fx_tensor *t = fx_find(f, key);
    return t ? dsc_param(g, name, t->shape.ndim, t->shape.dim) : -1;
}

/* ---- layer cases --------------------------------------------------------------------- */

static dsc_id buffer_like(dsc_graph *g, fixture *f, const char *name)
{
    char key[128];
    snprintf(key, sizeof key, "buffer.%s", name);
    fx_tensor *t = fx_find(f, key);
    return t ? dsc_buffer(g, name, t->shape.ndim, t->shape.dim) : -1;
}

static dsc_conv_opts conv_opts(fixture *f)
{
    dsc_conv_opts o = dsc_conv_defaults();
    for (int k = 0; k < 2; k++) {
        o.stride[k] = (int)fx_num(f, "stride", k, fx_num(f, "stride", 0, 1));
        o.padding[k] = (int)fx_num(f, "padding", k, fx_num(f, "padding", 0, 0));
        o.dilation[k] = (int)fx_num(f, "dilation", k, fx_num(f, "dilation", 0, 1));
    }
    o.groups = (int)fx_num(f, "groups", 0, 1);
    return o;
}

static dsc_pool_opts pool_opts(fixture *f)
{
    dsc_pool_opts o;
    memset(&o, 0, sizeof o);
    for (int k = 0; k < 2; k++) {
        o.kernel[k] = (int)fx_num(f, "kernel", k, 0);
        o.stride[k] = (int)fx_num(f, "stride", k, 0);
        o.padding[k] = (int)fx_num(f, "padding", k, 0);
    }
    o.ceil_mode = (int)fx_num(f, "ceil_mode", 0, 0);
    o.count_include_pad = (int)fx_num(f, "count_include_pad", 0, 1);
    return o;
}

/* Builds the layer of the fixture's kind on x; -1 for an unknown kind. */
static dsc_id build_layer(dsc_graph *g, fixture *f, dsc_id x)
{
    const char *k = f->kind;
    dsc_id w = param_like(g, f, "weight"), b = param_like(g, f, "bias"); /* -1 when absent */
    if (!strcmp(k, "linear"))
        return dsc_linear(g, x, w, b);
    if (!strcmp(k, "conv1d"))
        return dsc_conv1d(g, x, w, b, conv_opts(f));
    if (!strcmp(k, "conv2d"))
        return dsc_conv2d(g, x, w, b, conv_opts(f));
    if (!strcmp(k, "max_pool2d"))
        return dsc_max_pool2d(g, x, pool_opts(f));
    if (!strcmp(k, "avg_pool2d"))
        return dsc_avg_pool2d(g, x, pool_opts(f));
    if (!strcmp(k, "global_avg_pool2d"))
        return dsc_global_avg_pool2d(g, x);
    if (!strcmp(k, "batch_norm")) {
        dsc_id rm = buffer_like(g, f, "running_mean"), rv = buffer_like(g, f, "running_var");
        return dsc_batch_norm(g, x, w, b, rm, rv, (float)fx_num(f, "momentum", 0, 0.1),
                              (float)fx_num(f, "eps", 0, 1e-5));
    }
    if (!strcmp(k, "layer_norm"))
        return dsc_layer_norm(g, x, (int)fx_num(f, "nnorm", 0, 1), w, b, (float)fx_num(f, "eps", 0, 1e-5));
    if (!strcmp(k, "dropout"))
        return dsc_dropout(g, x, (float)fx_num(f, "p", 0, 0.5));
    if (!strcmp(k, "embedding"))
        return dsc_embedding(g, x, w);
    fprintf(stderr, "%s: unknown layer kind '%s'\n", f->name, k);
    dsc_test_failures++;
    return -1;
}

/* One layer: loss = sum(layer(x) * R); compares out, loss, d loss/dx, parameter gradients
 * and (BatchNorm in train mode) the updated running statistics. */
static void run_layer_case(const char *name, double tol)
{
    fixture *f = fx_load(name);
    if (!f)
        return;
    fx_tensor *xt = fx_get(f, "x"), *rt = fx_get(f, "R");
    if (!xt || !rt) {
        fx_free(f);
        return;
    }
    int is_index = !strcmp(f->kind, "embedding");
    dsc_graph *g = dsc_graph_new();
    dsc_id x = input_like(g, "x", xt);
    if (!is_index)
        CHECK_OK(dsc_input_requires_grad(g, x, 1));
    dsc_id out = build_layer(g, f, x);
    dsc_id R = dsc_constant(g, rt->shape.ndim, rt->shape.dim, rt->data);
    dsc_id loss = dsc_sum(g, dsc_mul(g, out, R), 0, NULL, 0);
    if (loss < 0) {
        fprintf(stderr, "%s: building failed: %s\n", name, dsc_graph_error(g));
        dsc_test_failures++;
        goto done;
    }
    CHECK_OK(dsc_graph_keep(g, out));
    CHECK_OK(dsc_graph_compile(g, loss));
    check_state_names(g, f);
    load_state(g, f, NULL, 1);
    dsc_graph_set_training(g, (int)fx_num(f, "train", 0, 0));
    CHECK_OK(dsc_graph_set_input(g, x, xt->data, xt->n));
    CHECK_OK(dsc_graph_forward(g));
    CHECK_OK(dsc_graph_backward(g));
    compare_node_value(g, f, "out", out, fx_get(f, "out"), tol);
    float l = dsc_graph_loss(g);
    compare(f, "loss", &l, 1, fx_get(f, "loss"), tol);
    if (!is_index)
        compare_node_grad(g, f, "grad.x", x, fx_get(f, "grad.x"), tol);
    compare_state_grads(g, f, "", tol);
done:
    dsc_graph_free(g);
    fx_free(f);
}

#define LAYER_TEST(name) \
    static void test_##name(void) { run_layer_case(#name, REF_TOL); }

LAYER_TEST(linear)
LAYER_TEST(linear_3d_nobias)

LAYER_TEST(conv1d)
LAYER_TEST(conv1d_s2_p2_d2_g2)
LAYER_TEST(conv2d)
LAYER_TEST(conv2d_s2_p1)
LAYER_TEST(conv2d_d2_p2)
LAYER_TEST(conv2d_g2)
LAYER_TEST(conv2d_depthwise)
LAYER_TEST(conv2d_rect)
LAYER_TEST(conv2d_1x1_s2_nobias)

LAYER_TEST(maxpool2d)
LAYER_TEST(maxpool2d_k3_s2_p1)
LAYER_TEST(maxpool2d_ceil)
LAYER_TEST(maxpool2d_rect)
LAYER_TEST(avgpool2d)
LAYER_TEST(avgpool2d_k3_s2_p1)
LAYER_TEST(avgpool2d_k3_s2_p1_nopad)
LAYER_TEST(avgpool2d_ceil)
LAYER_TEST(avgpool2d_ceil_nopad)
LAYER_TEST(adaptive_avgpool2d)

LAYER_TEST(bn1d_train)
LAYER_TEST(bn1d_eval)
LAYER_TEST(bn1d_3d_train)
LAYER_TEST(bn2d_train)
LAYER_TEST(bn2d_eval)
LAYER_TEST(bn2d_noaffine_train)
LAYER_TEST(bn2d_nostats_train)
LAYER_TEST(bn2d_nostats_eval)
LAYER_TEST(layernorm)
LAYER_TEST(layernorm_2d)
LAYER_TEST(layernorm_noaffine)

LAYER_TEST(dropout_eval)

/* Train-mode dropout cannot match torch's random stream; check its statistics instead:
 * the dropped fraction is p (binomial, n = 16384: 5 sigma = 0.018), kept entries are
 * x / (1 - p), the gradient is the same mask and scale, and a second forward draws a new mask. */
static void test_dropout_train_stats(void)
{
    const float p = 0.3f;
    int64_t s[2] = {64, 256};
    size_t n = 64 * 256;
    dsc_graph *g = dsc_graph_new();
    dsc_id x = dsc_input(g, "x", 2, s);
    CHECK_OK(dsc_input_requires_grad(g, x, 1));
    float *R = malloc(n * sizeof *R), *ones = malloc(n * sizeof *ones), *first = malloc(n * sizeof *first);
    dsc_test_fill(R, n, 7, 0.5f, 1.5f);
    for (size_t i = 0; i < n; i++)
        ones[i] = 1.0f;
    dsc_id out = dsc_dropout(g, x, p);
    dsc_id loss = dsc_sum(g, dsc_mul(g, out, dsc_constant(g, 2, s, R)), 0, NULL, 0);
    CHECK_OK(dsc_graph_keep(g, out));
    CHECK_OK(dsc_graph_compile(g, loss));
    dsc_graph_set_training(g, 1);
    dsc_graph_set_seed(g, 42);
    CHECK_OK(dsc_graph_set_input(g, x, ones, n));
    CHECK_OK(dsc_graph_forward(g));
    CHECK_OK(dsc_graph_backward(g));
    const float *o = dsc_node_value(g, out).data, *gx = dsc_node_grad(g, x).data;
    size_t zeros = 0, bad = 0;
    const float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) {
        if (o[i] == 0.0f) {
            zeros++;
            bad += gx[i] != 0.0f;
        } else {
            bad += fabsf(o[i] - scale) > 1e-6f * scale || fabsf(gx[i] - scale * R[i]) > 1e-6f * scale * R[i];
        }
    }
    CHECK_NEAR((double)zeros / (double)n, p, 0.018);
    CHECK(bad == 0);
    memcpy(first, o, n * sizeof *first);
    CHECK_OK(dsc_graph_forward(g));
    o = dsc_node_value(g, out).data;
    size_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff += (o[i] == 0.0f) != (first[i] == 0.0f);
    CHECK(diff > n / 10); /* independent masks differ in about 2 p (1 - p) = 42% of entries */
    dsc_graph_free(g);
    free(R);
    free(ones);
    free(first);
}

LAYER_TEST(embedding)

/* ---- network cases (the zoo) -------------------------------------------------------------- */

static void copy_buffers_from(dsc_graph *g, fixture *f, const char *prefix)
{
    float *B = dsc_graph_buffers(g, NULL);
    for (int i = 0; i < dsc_graph_buffer_count(g); i++) {
        const char *name;
        dsc_shape shape;
        size_t off;
        CHECK_OK(dsc_graph_buffer_info(g, i, &name, &shape, &off));
        char key[200];
        snprintf(key, sizeof key, "%s%s", prefix, name);
        fx_tensor *t = fx_get(f, key);
        if (t && t->n == (size_t)dsc_shape_numel(&shape))
            memcpy(B + off, t->data, t->n * sizeof(float));
    }
}

/* The hand-built "textnet" (twin: TextNet in tools/gen_torch_fixtures.py): the dsc_nn_* layers
 * that no zoo spec uses. Embedding(20, 8) -> LayerNorm(8) -> permute to [N, 8, L] ->
 * Conv1d(8, 6, 3, padding 1) -> BatchNorm1d(6) -> ReLU -> flatten -> Linear(6 L, classes). */
static dsc_status build_textnet(int64_t len, int classes, int64_t batch, dsc_model *m)
{
    DSC_TRY(dsc_model_begin(m));
    int64_t xs[2] = {batch, len};
    static const int perm[3] = {0, 2, 1};
    dsc_conv_opts o = dsc_conv_defaults();
    o.padding[0] = 1;
    dsc_id x = m->input = dsc_input(m->g, "x", 2, xs);
    dsc_id h = dsc_nn_embedding(m, "emb", x, 20, 8);
    h = dsc_nn_layer_norm(m, "ln", h, 1);
    h = dsc_permute(m->g, h, perm);
    h = dsc_nn_conv1d(m, "conv", h, 6, 3, o, 1);
    h = dsc_nn_batch_norm(m, "bn", h);
    h = dsc_nn_activation(m, "relu", h, DSC_ACT_RELU);
    h = dsc_nn_flatten(m, "flatten", h);
    h = dsc_nn_linear(m, "fc", h, classes, 1);
    dsc_status st = dsc_model_finish(m, h);
    if (st != DSC_OK)
        dsc_model_free(m);
    return st;
}

/* A zoo network: build it from the fixture's spec, load torch's initial state, then a
 * train-mode pass and an eval-mode pass (the latter with torch's updated running statistics),
 * each compared in logits, loss, d loss/dx, every parameter gradient (subsampled where the
 * fixture stores a subsample) and the updated buffers. */
static void run_model_case(const char *name, double tol)
{
    fixture *f = fx_load(name), *base = NULL;
    if (!f)
        return;
    if (fx_find_opt(f, "params_from")) {
        base = fx_load(fx_str(f, "params_from"));
        if (!base) {
            fx_free(f);
            return;
        }
    }
    fx_opt *io = fx_find_opt(f, "in_shape");
    int nin = io ? io->nv : 0;
    int64_t in_shape[4] = {0};
    for (int k = 0; k < nin; k++)
        in_shape[k] = (int64_t)io->v[k];
    fx_tensor *xt = fx_get(f, "x"), *yt = fx_get(f, "y");
    int classes = (int)fx_num(f, "num_classes", 0, 10);
    int64_t batch = (int64_t)fx_num(f, "batch", 0, 1);
    dsc_model m;
    dsc_status st;
    /* token-index inputs (textnet) have no gradient */
    int with_gx = fx_find(f, "train.grad.x") != NULL;
    dsc_model_opts mo = {with_gx, 0};
    if (!strcmp(f->kind, "hand") && !strcmp(fx_str(f, "spec"), "textnet"))
        st = build_textnet(in_shape[0], classes, batch, &m);
    else if (!strcmp(f->kind, "model"))
        st = dsc_model_build_opts(fx_str(f, "spec"), nin, in_shape, classes, batch, &mo, &m);
    else
        st = DSC_ERROR(DSC_ERR_INVALID, "fixture %s: unknown network %s %s", name, f->kind, fx_str(f, "spec"));
    CHECK_OK(st);
    if (st != DSC_OK || !xt || !yt) {
        if (st == DSC_OK)
            dsc_model_free(&m);
        fx_free(f);
        fx_free(base);
        return;
    }
    dsc_graph *g = m.g;
    check_state_names(g, f);
    if (base)
        check_state_names(g, base);
    load_state(g, f, base, 1);
    CHECK_OK(dsc_graph_set_input(g, m.input, xt->data, xt->n));
    CHECK_OK(dsc_graph_set_input(g, m.target, yt->data, yt->n));
    static const char *const modes[2] = {"train.", "eval."};
    for (int mode = 0; mode < 2; mode++) {
        const char *pre = modes[mode];
        char key[64];
        if (mode == 1)
            copy_buffers_from(g, f, "train.buffer_after.");
        dsc_graph_set_training(g, mode == 0);
        CHECK_OK(dsc_graph_forward(g));
        CHECK_OK(dsc_graph_backward(g));
        snprintf(key, sizeof key, "%sout", pre);
        compare_node_value(g, f, key, m.logits, fx_get(f, key), tol);
        float l = dsc_graph_loss(g);
        snprintf(key, sizeof key, "%sloss", pre);
        compare(f, key, &l, 1, fx_get(f, key), tol);
        snprintf(key, sizeof key, "%sgrad.x", pre);
        if (with_gx)
            compare(f, key, dsc_node_grad(g, m.input).data, xt->n, fx_get(f, key), tol);
        compare_state_grads(g, f, pre, tol);
    }
    dsc_model_free(&m);
    fx_free(f);
    fx_free(base);
}

#define MODEL_TEST(name, tol) \
    static void test_##name(void) { run_model_case(#name, tol); }

MODEL_TEST(lenet5, REF_TOL)
MODEL_TEST(mlp_bn_gelu, REF_TOL)
MODEL_TEST(cnn_bn, REF_TOL)
MODEL_TEST(resnet20, REF_TOL)
MODEL_TEST(resnet20_mnist, REF_TOL)
MODEL_TEST(textnet, REF_TOL)

/* The fixture reader itself (always on): a manifest is parsed and a comparison can fail. */
static void test_fixture_reader(void)
{
    fixture *f = fx_load("conv2d_rect");
    if (!f)
        return;
    CHECK(!strcmp(f->kind, "conv2d"));
    CHECK(fx_num(f, "stride", 0, 0) == 2 && fx_num(f, "stride", 1, 0) == 1);
    CHECK(fx_num(f, "dilation", 1, 0) == 2);
    fx_tensor *w = fx_get(f, "param.weight");
    CHECK(w && w->shape.ndim == 4 && w->shape.dim[0] == 4 && w->shape.dim[3] == 2 && w->n == 4 * 3 * 3 * 2);
    CHECK(fx_find(f, "no.such") == NULL);
    CHECK(!strcmp(fx_str(f, "none"), ""));
    if (w) {
        float *c = malloc(w->n * sizeof *c);
        memcpy(c, w->data, w->n * sizeof *c);
        c[5] += 1e-3f;
        int before = dsc_test_failures;
        compare_quiet = 1;
        double e = compare(f, "perturbed copy", c, w->n, w, REF_TOL);
        compare_quiet = 0;
        CHECK(e > REF_TOL && dsc_test_failures == before + 1);
        dsc_test_failures = before; /* that failure was the point */
        free(c);
    }
    fx_free(f);
}

DSC_TEST_MAIN("torch_reference",
              TEST(test_fixture_reader),
              TEST(test_linear),
              TEST(test_linear_3d_nobias),
              TEST(test_conv1d),
              TEST(test_conv1d_s2_p2_d2_g2),
              TEST(test_conv2d),
              TEST(test_conv2d_s2_p1),
              TEST(test_conv2d_d2_p2),
              TEST(test_conv2d_g2),
              TEST(test_conv2d_depthwise),
              TEST(test_conv2d_rect),
              TEST(test_conv2d_1x1_s2_nobias),
              TEST(test_maxpool2d),
              TEST(test_maxpool2d_k3_s2_p1),
              TEST(test_maxpool2d_ceil),
              TEST(test_maxpool2d_rect),
              TEST(test_avgpool2d),
              TEST(test_avgpool2d_k3_s2_p1),
              TEST(test_avgpool2d_k3_s2_p1_nopad),
              TEST(test_avgpool2d_ceil),
              TEST(test_avgpool2d_ceil_nopad),
              TEST(test_adaptive_avgpool2d),
              TEST(test_bn1d_train),
              TEST(test_bn1d_eval),
              TEST(test_bn1d_3d_train),
              TEST(test_bn2d_train),
              TEST(test_bn2d_eval),
              TEST(test_bn2d_noaffine_train),
              TEST(test_bn2d_nostats_train),
              TEST(test_bn2d_nostats_eval),
              TEST(test_layernorm),
              TEST(test_layernorm_2d),
              TEST(test_layernorm_noaffine),
              TEST(test_dropout_eval),
              TEST(test_dropout_train_stats),
              TEST(test_embedding),
              TEST(test_lenet5),
              TEST(test_mlp_bn_gelu),
              TEST(test_cnn_bn),
              TEST(test_resnet20),
              TEST(test_resnet20_mnist),
              TEST(test_textnet))
