/* Per-layer timing of conv2d (forward and backward) on the shapes of the benchmark CNN
 * (bench_train --model cnn): conv5x5 1->32 on 28x28 and conv5x5 32->64 on 12x12, batch 128,
 * plus a 3x3 padded conv with groups. Loss = sum(y), so backward computes the weight, bias
 * and (except for the first layer) input gradients; the conv node's kernels are timed alone.
 *
 * Usage: bench_conv [--threads N] [--reps R] [--wall]
 * Output: one line per layer: fwd_ms, bwd_ms, GFLOP/s (2 * MACs forward, 2 * MACs for each
 * gradient computed). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "descent/graph.h"
#include "descent/ops.h"
#include "descent/rng.h"
#include "descent/runtime.h"

#include "autodiff/graph_internal.h" /* to time the conv kernels alone */

/* Process CPU time: on a loaded machine it tracks the work done better than wall time
 * (with 1 thread; with several it sums over threads). --wall switches to wall time. */
static int use_wall = 0;
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(use_wall ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void layer(const char *name, int N, int C, int H, int O, int K, int pad, int groups, int input_grad, int reps)
{
    dsc_graph *g = dsc_graph_new();
    int64_t xs[4] = {N, C, H, H}, ws[4] = {O, C / groups, K, K}, bs[1] = {O};
    dsc_id x = dsc_input(g, "x", 4, xs);
    if (input_grad)
        dsc_input_requires_grad(g, x, 1);
    dsc_id w = dsc_param(g, "w", 4, ws), b = dsc_param(g, "b", 1, bs);
    dsc_conv_opts o = dsc_conv_defaults();
    o.padding[0] = o.padding[1] = pad;
    o.groups = groups;
    dsc_id y = dsc_conv2d(g, x, w, b, o);
    dsc_id loss = dsc_sum(g, y, 0, NULL, 0);
    if (dsc_graph_compile(g, loss) != DSC_OK) {
        fprintf(stderr, "bench_conv: %s\n", dsc_graph_error(g));
        exit(1);
    }
    size_t P, nx = (size_t)N * C * H * H;
    dsc_rng r = dsc_rng_seed(1);
    float *p = dsc_graph_params(g, &P);
    dsc_rng_fill_uniform(&r, p, P, -0.1f, 0.1f);
    float *xv = malloc(nx * sizeof(float));
    dsc_rng_fill_uniform(&r, xv, nx, 0, 1);
    dsc_graph_set_input(g, x, xv, nx);
    dsc_shape s = dsc_node_shape(g, y);
    double macs = (double)N * O * s.dim[2] * s.dim[3] * (C / groups) * K * K;
    /* Time the conv kernels alone (not the loss): one full pass sets the cotangent. */
    dsc_graph_forward(g);
    dsc_graph_backward(g);
    dsc_node *n = &g->nodes[y];
    double tf = 0, tb = 0;
    for (int i = 0; i < reps + 2; i++) {
        double t0 = now_s();
        n->op->forward(g, n);
        double t1 = now_s();
        n->op->vjp(g, n);
        double t2 = now_s();
        if (i >= 2) {
            tf += t1 - t0;
            tb += t2 - t1;
        }
    }
    tf /= reps, tb /= reps;
    double fl_f = 2 * macs, fl_b = 2 * macs * (input_grad ? 2 : 1);
    printf("layer=%s threads=%d clock=%s fwd_ms=%.3f bwd_ms=%.3f fwd_gflops=%.1f bwd_gflops=%.1f\n", name, dsc_get_num_threads(),
           use_wall ? "wall" : "cpu", 1e3 * tf, 1e3 * tb, fl_f / tf * 1e-9, fl_b / tb * 1e-9);
    free(xv);
    dsc_graph_free(g);
}

int main(int argc, char **argv)
{
    int threads = 1, reps = 10;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--wall"))
            use_wall = 1;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
    }
    dsc_set_num_threads(threads);
    layer("conv1_1x28x28_32_5x5", 128, 1, 28, 32, 5, 0, 1, 0, reps);
    layer("conv2_32x12x12_64_5x5", 128, 32, 12, 64, 5, 0, 1, 1, reps);
    layer("conv3x3_64x16x16_64_g2_pad1", 128, 64, 16, 64, 3, 1, 2, 1, reps);
    return 0;
}
