/* Training-step throughput of descent: forward + backward + plain SGD update of
 *   mlp: Linear(784,256)-ReLU-Linear(256,256)-ReLU-Linear(256,10), cross-entropy
 *   cnn: Conv5x5(1->32)-ReLU-MaxPool2-Conv5x5(32->64)-ReLU-MaxPool2-Flatten-
 *        Linear(1024,128)-ReLU-Linear(128,10), cross-entropy
 * on Fashion-MNIST-shaped random data (1x28x28 images, 10 classes). bench/torch_train.py
 * runs the same models in PyTorch and prints the same keys; bench/run.sh compares them.
 *
 * Usage: bench_train [--model mlp|cnn] [--threads N] [--batch B] [--steps S | --epoch]
 *                    [--warmup W] [--repeat R] [--lr LR] [--tag NAME] [--profile]
 *   --tag NAME: the impl= value printed (run.sh: descent_ob for DSC_GEMM=openblas)
 *   --epoch (default for mlp): one pass over 60000 examples = 468 batches of 128 and a
 *     last one of 96 (dsc_graph_set_batch), like a DataLoader with drop_last=False.
 *   --steps S (default 50 for cnn): S full batches; s_per_epoch is extrapolated.
 *   --repeat R: run the whole timed schedule R times (training continues) and report the
 *     fastest repetition (time_s, samples_per_s, ...) and the median (median_time_s): the
 *     machine may be shared, and the fastest run is the least disturbed one.
 *   --profile: also time every node's forward and VJP kernel (a copy of the engine's run
 *     loop with timers around each kernel) and print one `prof` line per node.
 *
 * Data: random inputs from a fixed pool of DATA_POOL batches (generated once, cycled), so
 * that data generation and loading are not timed and do not inflate the memory figure;
 * torch_train.py does the same. Throughput does not depend on the values.
 *
 * FLOP count (analytic, per example; elementwise ops, pooling, bias adds and the loss are
 * O(activations) and not counted):
 *   forward: 2 * MACs of every linear/conv layer;
 *   backward: 2 * MACs for the weight gradient of every layer plus 2 * MACs for the input
 *     gradient of every layer except the first (the data needs no gradient, and neither
 *     descent nor PyTorch computes it).
 *   mlp: MACs = 784*256 + 256*256 + 256*10 = 268800 -> 1,211,392 FLOP/example.
 *   cnn: MACs = 32*24*24*25 + 64*8*8*25*32 + 1024*128 + 128*10 = 3,869,952
 *        -> 22,298,112 FLOP/example.
 *
 * Output: one line of key=value pairs (see print at the end). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "descent/graph.h"
#include "descent/ops.h"
#include "descent/rng.h"
#include "descent/runtime.h"

#include "autodiff/graph_internal.h" /* only for --profile: per-kernel timers */

#define DATA_POOL 8
#define EPOCH_EXAMPLES 60000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss; /* kilobytes on Linux */
}

static int die(dsc_graph *g, const char *what)
{
    fprintf(stderr, "bench_train: %s failed: %s\n", what, g && dsc_graph_status(g) ? dsc_graph_error(g) : dsc_last_error());
    return 1;
}

typedef struct model {
    dsc_graph *g;
    dsc_id x, y, loss;
    int64_t in_numel; /* per example */
    double flop_per_example;
} model;

static dsc_id param(dsc_graph *g, const char *name, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
    int64_t s[4] = {d0, d1, d2, d3};
    return dsc_param(g, name, ndim, s);
}

static int build_mlp(model *m, int64_t batch)
{
    dsc_graph *g = dsc_graph_new();
    int64_t xs[2] = {batch, 784}, ys[1] = {batch};
    m->g = g;
    m->x = dsc_input(g, "x", 2, xs);
    m->y = dsc_input(g, "y", 1, ys);
    dsc_id h = m->x;
    const int64_t sizes[4] = {784, 256, 256, 10};
    for (int l = 0; l < 3; l++) {
        char wn[16], bn[16];
        snprintf(wn, sizeof wn, "fc%d.weight", l + 1);
        snprintf(bn, sizeof bn, "fc%d.bias", l + 1);
        dsc_id w = param(g, wn, 2, sizes[l + 1], sizes[l], 0, 0);
        dsc_id b = param(g, bn, 1, sizes[l + 1], 0, 0, 0);
        h = dsc_linear(g, h, w, b);
        if (l < 2)
            h = dsc_relu(g, h);
    }
    m->loss = dsc_cross_entropy(g, h, m->y, dsc_ce_defaults());
    m->in_numel = 784;
    double macs = 784.0 * 256 + 256.0 * 256 + 256.0 * 10;
    m->flop_per_example = 2 * macs + 2 * macs + 2 * (macs - 784.0 * 256);
    return dsc_graph_status(g) == DSC_OK ? 0 : -1;
}

static int build_cnn(model *m, int64_t batch)
{
    dsc_graph *g = dsc_graph_new();
    int64_t xs[4] = {batch, 1, 28, 28}, ys[1] = {batch};
    m->g = g;
    m->x = dsc_input(g, "x", 4, xs);
    m->y = dsc_input(g, "y", 1, ys);
    dsc_conv_opts co = dsc_conv_defaults();
    dsc_pool_opts po;
    memset(&po, 0, sizeof po);
    po.kernel[0] = po.kernel[1] = 2;
    po.stride[0] = po.stride[1] = 2;
    dsc_id h = dsc_conv2d(g, m->x, param(g, "conv1.weight", 4, 32, 1, 5, 5), param(g, "conv1.bias", 1, 32, 0, 0, 0), co);
    h = dsc_max_pool2d(g, dsc_relu(g, h), po);
    h = dsc_conv2d(g, h, param(g, "conv2.weight", 4, 64, 32, 5, 5), param(g, "conv2.bias", 1, 64, 0, 0, 0), co);
    h = dsc_max_pool2d(g, dsc_relu(g, h), po);
    h = dsc_flatten(g, h);
    h = dsc_relu(g, dsc_linear(g, h, param(g, "fc1.weight", 2, 128, 1024, 0, 0), param(g, "fc1.bias", 1, 128, 0, 0, 0)));
    h = dsc_linear(g, h, param(g, "fc2.weight", 2, 10, 128, 0, 0), param(g, "fc2.bias", 1, 10, 0, 0, 0));
    m->loss = dsc_cross_entropy(g, h, m->y, dsc_ce_defaults());
    m->in_numel = 784;
    double conv1 = 32.0 * 24 * 24 * 25, macs = conv1 + 64.0 * 8 * 8 * 25 * 32 + 1024.0 * 128 + 128.0 * 10;
    m->flop_per_example = 2 * macs + 2 * macs + 2 * (macs - conv1);
    return dsc_graph_status(g) == DSC_OK ? 0 : -1;
}

/* PyTorch's default init for Linear and Conv2d: kaiming_uniform(a = sqrt(5)) for the weight
 * and U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias; both bounds are 1/sqrt(fan_in). */
static void init_params(dsc_graph *g, uint64_t seed)
{
    dsc_rng r = dsc_rng_seed(seed);
    float *p = dsc_graph_params(g, NULL);
    int64_t fan_in = 1;
    for (int i = 0; i < dsc_graph_param_count(g); i++) {
        dsc_shape s;
        size_t off;
        dsc_graph_param_info(g, i, NULL, &s, &off);
        if (s.ndim >= 2) { /* a weight: fan_in = prod(dims[1:]); the bias after it shares it */
            fan_in = 1;
            for (int d = 1; d < s.ndim; d++)
                fan_in *= s.dim[d];
        }
        float bound = 1.0f / sqrtf((float)fan_in);
        dsc_rng_fill_uniform(&r, p + off, (size_t)dsc_shape_numel(&s), -bound, bound);
    }
}

/* ---- --profile: the engine's run loop (no checkpointing) with a timer per kernel ---- */
typedef struct prof {
    double *fwd, *bwd, zero;
    int steps;
} prof;

static int is_alias(const dsc_node *n) { return n->kind == DSC_NODE_OP && (n->op->flags & DSC_OP_ALIAS); }

static void prof_step(dsc_graph *g, prof *pf)
{
    g->recomputing = 0;
    if (g->training)
        g->forward_counter++;
    for (int i = 0; i < g->n_nodes; i++) {
        dsc_node *n = &g->nodes[i];
        if (n->kind != DSC_NODE_OP || is_alias(n))
            continue;
        double t0 = now_s();
        n->op->forward(g, n);
        pf->fwd[i] += now_s() - t0;
    }
    g->forward_done = 1;
    double t0 = now_s();
    for (int i = 0; i < g->n_nodes; i++) {
        dsc_node *n = &g->nodes[i];
        if (is_alias(n) || n->kind == DSC_NODE_PARAM)
            continue;
        if (n->grad)
            memset(n->grad, 0, (size_t)dsc_numel(n) * sizeof(float));
    }
    memset(g->grads, 0, g->n_params * sizeof(float));
    pf->zero += now_s() - t0;
    g->nodes[g->loss].grad[0] += 1.0f;
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        dsc_node *n = &g->nodes[i];
        if (n->kind != DSC_NODE_OP || !n->requires_grad || is_alias(n) || !n->op->vjp)
            continue;
        double t1 = now_s();
        n->op->vjp(g, n);
        pf->bwd[i] += now_s() - t1;
    }
    pf->steps++;
}

int main(int argc, char **argv)
{
    const char *model_name = "mlp", *tag = "descent";
    int threads = 1, steps = -1, warmup = 5, epoch = -1, profile = 0, repeat = 1;
    int64_t batch = 128;
    float lr = 0.01f;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--model") && i + 1 < argc)
            model_name = argv[++i];
        else if (!strcmp(a, "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(a, "--batch") && i + 1 < argc)
            batch = atoll(argv[++i]);
        else if (!strcmp(a, "--steps") && i + 1 < argc)
            steps = atoi(argv[++i]), epoch = 0;
        else if (!strcmp(a, "--epoch"))
            epoch = 1;
        else if (!strcmp(a, "--warmup") && i + 1 < argc)
            warmup = atoi(argv[++i]);
        else if (!strcmp(a, "--repeat") && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (!strcmp(a, "--lr") && i + 1 < argc)
            lr = (float)atof(argv[++i]);
        else if (!strcmp(a, "--tag") && i + 1 < argc)
            tag = argv[++i];
        else if (!strcmp(a, "--profile"))
            profile = 1;
        else {
            fprintf(stderr,
                    "usage: %s [--model mlp|cnn] [--threads N] [--batch B] [--steps S | --epoch] [--warmup W] "
                    "[--repeat R] [--lr LR] [--tag NAME] [--profile]\n",
                    argv[0]);
            return 2;
        }
    }
    int is_cnn = !strcmp(model_name, "cnn");
    if (!is_cnn && strcmp(model_name, "mlp")) {
        fprintf(stderr, "bench_train: unknown model '%s' (mlp or cnn)\n", model_name);
        return 2;
    }
    if (repeat < 1)
        repeat = 1;
    if (batch < 1 || threads < 1) {
        fprintf(stderr, "bench_train: batch and threads must be >= 1\n");
        return 2;
    }
    if (epoch < 0)
        epoch = is_cnn ? 0 : 1;
    if (!epoch && steps < 0)
        steps = 50;
    dsc_set_num_threads(threads);
    long rss_base = maxrss_kb();

    model m;
    memset(&m, 0, sizeof m);
    if ((is_cnn ? build_cnn(&m, batch) : build_mlp(&m, batch)) != 0)
        return die(m.g, "building the model");
    dsc_graph *g = m.g;
    if (dsc_graph_compile(g, m.loss) != DSC_OK)
        return die(g, "compile");
    dsc_graph_set_training(g, 1);
    init_params(g, 1234);
    size_t np;
    float *params = dsc_graph_params(g, &np);
    float *grads = dsc_graph_grads(g, NULL);

    /* Fixed pool of random batches: x ~ U(0, 1) like scaled pixels, y uniform classes. */
    size_t xb = (size_t)batch * (size_t)m.in_numel;
    float *xpool = malloc(DATA_POOL * xb * sizeof(float)), *ypool = malloc(DATA_POOL * (size_t)batch * sizeof(float));
    if (!xpool || !ypool) {
        fprintf(stderr, "bench_train: out of memory for the data pool\n");
        return 1;
    }
    dsc_rng dr = dsc_rng_seed(99);
    dsc_rng_fill_uniform(&dr, xpool, DATA_POOL * xb, 0.0f, 1.0f);
    for (size_t k = 0; k < DATA_POOL * (size_t)batch; k++)
        ypool[k] = (float)dsc_rng_below(&dr, 10);

    /* Schedule: `nsteps` batches; in epoch mode the last one may be smaller. */
    int nsteps;
    int64_t last_batch = batch;
    if (epoch) {
        nsteps = (int)((EPOCH_EXAMPLES + batch - 1) / batch);
        last_batch = EPOCH_EXAMPLES - (int64_t)(nsteps - 1) * batch;
    } else
        nsteps = steps;

    prof pf;
    memset(&pf, 0, sizeof pf);
    if (batch != dsc_graph_batch(g) && dsc_graph_set_batch(g, batch) != DSC_OK)
        return die(g, "set_batch");
    if (profile) {
        pf.fwd = calloc((size_t)g->n_nodes, sizeof(double));
        pf.bwd = calloc((size_t)g->n_nodes, sizeof(double));
    }
    /* Per repetition: wall time, phase times, CPU time. The fastest repetition is reported. */
    double *times = calloc((size_t)repeat, sizeof(double));
    double best = 1e30, b_fwd = 0, b_bwd = 0, b_sgd = 0, b_cpu = 0;
    float loss_first = NAN, loss_last = NAN;
    long long samples = 0;
    for (int rep = 0; rep < repeat; rep++) {
        double t_fwd = 0, t_bwd = 0, t_sgd = 0, t_start = 0, c_start = 0;
        samples = 0;
        for (int s = (rep == 0 ? -warmup : 0); s < nsteps; s++) {
            if (s == 0) {
                t_start = now_s();
                c_start = cpu_s();
                if (profile) {
                    memset(pf.fwd, 0, (size_t)g->n_nodes * sizeof(double));
                    memset(pf.bwd, 0, (size_t)g->n_nodes * sizeof(double));
                    pf.zero = 0;
                    pf.steps = 0;
                }
            }
            int64_t b = (s == nsteps - 1) ? last_batch : batch;
            if (b != dsc_graph_batch(g) && dsc_graph_set_batch(g, b) != DSC_OK)
                return die(g, "set_batch");
            int slot = (s + warmup) % DATA_POOL;
            double t0 = now_s();
            if (dsc_graph_set_input(g, m.x, xpool + (size_t)slot * xb, (size_t)b * (size_t)m.in_numel) != DSC_OK ||
                dsc_graph_set_input(g, m.y, ypool + (size_t)slot * (size_t)batch, (size_t)b) != DSC_OK)
                return die(g, "set_input");
            double t1;
            if (profile) {
                prof_step(g, &pf);
                t1 = now_s();
            } else {
                if (dsc_graph_forward(g) != DSC_OK)
                    return die(g, "forward");
                t1 = now_s();
                if (dsc_graph_backward(g) != DSC_OK)
                    return die(g, "backward");
            }
            double t2 = now_s();
            /* Plain SGD over the flat buffers: theta -= lr * grad. */
            for (size_t k = 0; k < np; k++)
                params[k] -= lr * grads[k];
            double t3 = now_s();
            if (s >= 0) {
                t_fwd += t1 - t0;
                t_bwd += t2 - t1;
                t_sgd += t3 - t2;
                samples += b;
                float l = dsc_graph_loss(g);
                if (s == 0 && rep == 0)
                    loss_first = l;
                loss_last = l;
            }
        }
        times[rep] = now_s() - t_start;
        if (times[rep] < best) {
            best = times[rep];
            b_fwd = t_fwd;
            b_bwd = t_bwd;
            b_sgd = t_sgd;
            b_cpu = cpu_s() - c_start;
        }
    }
    /* Fingerprint of the trained parameters: the same schedule must give bit-identical
     * parameters for any thread count (run.sh compares 1 and 2 threads). */
    double checksum = 0.0;
    for (size_t k = 0; k < np; k++)
        checksum += (double)params[k] * (double)((k % 7) + 1);
    qsort(times, (size_t)repeat, sizeof(double), cmp_double);
    double median = times[repeat / 2];
    double elapsed = best;
    double sps = (double)samples / elapsed;
    double gflops = m.flop_per_example * sps * 1e-9;
    if (profile) {
        /* Per-node lines (last repetition), times in ms per step, shapes at the full batch. */
        dsc_graph_set_batch(g, batch);
        for (int i = 0; i < g->n_nodes; i++) {
            dsc_node *n = &g->nodes[i];
            if (n->kind != DSC_NODE_OP)
                continue;
            char sb[96];
            printf("prof node=%d op=%s shape=%s fwd_ms=%.3f vjp_ms=%.3f\n", i, n->op->name,
                   dsc_shape_str(&n->shape, sb, sizeof sb), 1e3 * pf.fwd[i] / pf.steps, 1e3 * pf.bwd[i] / pf.steps);
        }
        printf("prof zero_grads_ms=%.3f\n", 1e3 * pf.zero / pf.steps);
    }
    printf("bench=train impl=%s model=%s threads=%d batch=%lld steps=%d samples=%lld time_s=%.4f "
           "samples_per_s=%.1f s_per_epoch=%.4f flop_per_example=%.0f gflops=%.2f fwd_s=%.4f bwd_s=%.4f sgd_s=%.4f "
           "cpu_s=%.4f repeat=%d median_time_s=%.4f peak_rss_kb=%ld base_rss_kb=%ld arena_bytes=%zu params=%zu "
           "loss_first=%.4f loss_last=%.9g param_checksum=%.17g blas=%s\n",
           tag, model_name, threads, (long long)batch, nsteps, samples, elapsed, sps, EPOCH_EXAMPLES / sps,
           m.flop_per_example, gflops, b_fwd, b_bwd, b_sgd, b_cpu, repeat, median, maxrss_kb(), rss_base,
           dsc_graph_memory_bytes(g), np, (double)loss_first, (double)loss_last, checksum, dsc_blas_backend());
    free(xpool);
    free(ypool);
    free(times);
    free(pf.fwd);
    free(pf.bwd);
    dsc_graph_free(g);
    return 0;
}
