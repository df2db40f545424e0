/* GFLOP/s of dsc_sgemm on the engine's GEMM shapes (docs/ALGORITHMS.md).
 *
 * Usage: bench_gemm [--threads 1,2] [--min-time S] [--trials T]
 * The backend is the one dsc_sgemm picks: set DSC_GEMM=avx512|openblas|portable (and
 * OPENBLAS_CORETYPE for OpenBLAS's kernels) to compare, e.g.
 *   DSC_GEMM=avx512 ./bench_gemm
 *   DSC_GEMM=openblas OPENBLAS_CORETYPE=Haswell ./bench_gemm
 *   env -u OPENBLAS_CORETYPE DSC_GEMM=openblas ./bench_gemm
 * One line per shape and thread count:
 *   bench=gemm backend=B core=C threads=T M= N= K= ta= tb= gflops=G gflops_cpu=P
 * gflops: best of T trials by wall-clock time; gflops_cpu: best by the process's CPU time,
 * the robust figure for one thread on a loaded machine (time spent descheduled does not
 * count; with several threads it also counts OpenMP spin-waiting, so it is per CPU-second).
 * FLOPs: 2 M N K. Each trial repeats the call until it has run min-time seconds. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "descent/runtime.h"

extern char *openblas_get_corename(void) __attribute__((weak));

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
static double now_s(void) { return clock_s(CLOCK_MONOTONIC); }
static double cpu_s(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

/* M, N, K, trans_a, trans_b, beta, label. mlp_*: bench_train's MLP (784-256-256-10, batch
 * 128); conv*: whole-batch conv GEMMs (im2col); c1ch_* / c2ch_*: the per-chunk GEMMs the CNN
 * actually runs (conv.c cuts the batch into chunks of ~2^18 column floats: 16 examples of
 * 576 columns for conv1, 5 of 64 for conv2); cnn_fc1: the CNN's first linear layer. */
static const struct {
    int M, N, K, ta, tb, beta;
    const char *what;
} shapes[] = {
    {128, 256, 784, 0, 1, 0, "mlp_fwd1"},   {128, 256, 256, 0, 1, 0, "mlp_fwd2"},
    {128, 10, 256, 0, 1, 0, "mlp_fwd3"},    {128, 256, 256, 0, 0, 1, "mlp_dx2"},
    {128, 256, 10, 0, 0, 1, "mlp_dx3"},     {256, 784, 128, 1, 0, 1, "mlp_dw1"},
    {256, 256, 128, 1, 0, 1, "mlp_dw2"},    {10, 256, 128, 1, 0, 1, "mlp_dw3"},
    {32, 73728, 25, 0, 0, 0, "conv1_fwd"},  {64, 8192, 800, 0, 0, 0, "conv2_fwd"},
    {64, 800, 8192, 0, 1, 1, "conv2_dw"},   {800, 8192, 64, 1, 0, 0, "conv2_dx"},
    {64, 320, 800, 0, 0, 0, "c2ch_fwd"},    {64, 800, 320, 0, 1, 1, "c2ch_dw"},
    {800, 320, 64, 1, 0, 0, "c2ch_dx"},     {32, 9216, 25, 0, 0, 0, "c1ch_fwd"},
    {32, 25, 9216, 0, 1, 1, "c1ch_dw"},     {128, 128, 1024, 0, 1, 0, "cnn_fc1"},
    {1024, 1024, 1024, 0, 0, 0, "square1k"}};

int main(int argc, char **argv)
{
    char threads_arg[64] = "1,2";
    double min_time = 0.05;
    int trials = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            snprintf(threads_arg, sizeof threads_arg, "%s", argv[++i]);
        else if (!strcmp(argv[i], "--min-time") && i + 1 < argc)
            min_time = atof(argv[++i]);
        else if (!strcmp(argv[i], "--trials") && i + 1 < argc)
            trials = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--threads 1,2] [--min-time S] [--trials T]\n", argv[0]);
            return 2;
        }
    }
    const char *core = openblas_get_corename ? openblas_get_corename() : "none";
    int ns = (int)(sizeof shapes / sizeof shapes[0]);
    for (char *tok = strtok(threads_arg, ","); tok; tok = strtok(NULL, ",")) {
        int nt = atoi(tok);
        dsc_set_num_threads(nt);
        for (int s = 0; s < ns; s++) {
            int M = shapes[s].M, N = shapes[s].N, K = shapes[s].K, ta = shapes[s].ta, tb = shapes[s].tb;
            float beta = shapes[s].beta ? 1.0f : 0.0f;
            size_t na = (size_t)M * K, nb = (size_t)K * N, nc = (size_t)M * N;
            float *A = malloc(na * sizeof(float)), *B = malloc(nb * sizeof(float)), *C = malloc(nc * sizeof(float));
            if (!A || !B || !C)
                return 1;
            for (size_t k = 0; k < na; k++)
                A[k] = (float)((k * 2654435761u) % 2003) / 1001.0f - 1.0f;
            for (size_t k = 0; k < nb; k++)
                B[k] = (float)((k * 40503u + 7) % 1999) / 999.0f - 1.0f;
            memset(C, 0, nc * sizeof(float));
            double flop = 2.0 * M * N * K, best = 0, best_cpu = 0;
            dsc_sgemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, beta, C, N); /* warm-up */
            for (int t = 0; t < trials; t++) {
                long reps = 0;
                double t0 = now_s(), c0 = cpu_s(), el;
                do {
                    dsc_sgemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, beta, C, N);
                    reps++;
                    el = now_s() - t0;
                } while (el < min_time);
                double cel = cpu_s() - c0;
                double gf = flop * reps / el * 1e-9, gc = cel > 0 ? flop * reps / cel * 1e-9 : 0;
                if (gf > best)
                    best = gf;
                if (gc > best_cpu)
                    best_cpu = gc;
            }
            printf("bench=gemm backend=%s core=%s threads=%d shape=%s M=%d N=%d K=%d ta=%d tb=%d gflops=%.1f "
                   "gflops_cpu=%.1f\n",
                   dsc_blas_backend(), core, nt, shapes[s].what, M, N, K, ta, tb, best, best_cpu);
            fflush(stdout);
            free(A);
            free(B);
            free(C);
        }
    }
    return 0;
}
