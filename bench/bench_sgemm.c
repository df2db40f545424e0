/* Peak single-precision GEMM throughput of this machine through dsc_sgemm (OpenBLAS when
 * built with it), the yardstick for "fraction of peak" in bench/run.sh.
 *
 * Usage: bench_sgemm [--threads N] [--sizes 1024,2048,4096] [--reps R]
 *        bench_sgemm --corename  (which OpenBLAS kernels were picked)
 *        bench_sgemm --check   (1 vs 2 threads bit-identical on the models' GEMM shapes)
 * Prints one line:  bench=sgemm threads=N n=2048 gflops=... best_gflops=... (per size),
 * then a summary line with peak_gflops = the best over all sizes.
 * FLOPs of C = A B with square n x n matrices: 2 n^3 (one multiply and one add per MAC). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "descent/runtime.h"

/* The GEMM shapes of bench_train's models (M, N, K, trans_a, trans_b, beta) plus odd ones:
 * dsc_sgemm must give bit-identical C for 1 and 2 threads (the engine's determinism rule). */
static int check_determinism(void)
{
    static const int shapes[][6] = {
        {128, 256, 784, 0, 1, 0}, {128, 256, 256, 0, 1, 0}, {128, 10, 256, 0, 1, 0}, /* linear forward */
        {128, 256, 256, 0, 0, 1}, {128, 256, 10, 0, 0, 1},                         /* input grads */
        {256, 784, 128, 1, 0, 1}, {256, 256, 128, 1, 0, 1}, {10, 256, 128, 1, 0, 1}, /* weight grads */
        {32, 73728, 25, 0, 0, 0}, {64, 8192, 800, 0, 0, 0},                         /* conv forward */
        {64, 800, 8192, 0, 1, 1}, {800, 8192, 64, 1, 0, 0},                         /* conv grads */
        {1000, 999, 517, 0, 0, 1}, {999, 1000, 517, 1, 1, 1}, {77, 3001, 1500, 0, 1, 1}};
    int nshapes = (int)(sizeof shapes / sizeof shapes[0]), bad = 0;
    for (int s = 0; s < nshapes; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], ta = shapes[s][3], tb = shapes[s][4];
        float beta = shapes[s][5] ? 1.0f : 0.0f;
        size_t na = (size_t)M * K, nb = (size_t)K * N, nc = (size_t)M * N;
        float *A = malloc(na * sizeof(float)), *B = malloc(nb * sizeof(float));
        float *C1 = malloc(nc * sizeof(float)), *C2 = malloc(nc * sizeof(float));
        if (!A || !B || !C1 || !C2)
            return 1;
        for (size_t k = 0; k < na; k++)
            A[k] = (float)((k * 2654435761u) % 2003) / 1001.0f - 1.0f;
        for (size_t k = 0; k < nb; k++)
            B[k] = (float)((k * 40503u + 7) % 1999) / 999.0f - 1.0f;
        for (size_t k = 0; k < nc; k++)
            C1[k] = C2[k] = (float)(k % 17) * 0.125f;
        dsc_set_num_threads(1);
        dsc_sgemm(ta, tb, M, N, K, 0.7f, A, ta ? M : K, B, tb ? K : N, beta, C1, N);
        dsc_set_num_threads(2);
        dsc_sgemm(ta, tb, M, N, K, 0.7f, A, ta ? M : K, B, tb ? K : N, beta, C2, N);
        int same = memcmp(C1, C2, nc * sizeof(float)) == 0;
        printf("check=sgemm_threads M=%d N=%d K=%d ta=%d tb=%d beta=%g identical=%d\n", M, N, K, ta, tb,
               (double)beta, same);
        bad += !same;
        free(A);
        free(B);
        free(C1);
        free(C2);
    }
    printf("check=sgemm_threads_summary shapes=%d differing=%d\n", nshapes, bad);
    return bad ? 1 : 0;
}

/* OpenBLAS's name for the kernels it picked for this CPU (weak: NULL without OpenBLAS). */
extern char *openblas_get_corename(void) __attribute__((weak));

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int threads = 1, reps = 5;
    char sizes_arg[256] = "1024,2048,4096";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--corename")) {
            printf("bench=sgemm_info blas=%s corename=%s\n", dsc_blas_backend(),
                   openblas_get_corename ? openblas_get_corename() : "none");
            return 0;
        } else if (!strcmp(argv[i], "--check"))
            return check_determinism();
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
            strncpy(sizes_arg, argv[++i], sizeof sizes_arg - 1);
        } else {
            fprintf(stderr, "usage: %s [--threads N] [--sizes 1024,2048,4096] [--reps R]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1)
        reps = 1;
    dsc_set_num_threads(threads);
    double peak = 0.0;
    int peak_n = 0;
    for (char *tok = strtok(sizes_arg, ","); tok; tok = strtok(NULL, ",")) {
        int n = atoi(tok);
        if (n <= 0)
            continue;
        size_t nn = (size_t)n * (size_t)n;
        float *A = malloc(nn * sizeof(float)), *B = malloc(nn * sizeof(float)), *C = malloc(nn * sizeof(float));
        if (!A || !B || !C) {
            fprintf(stderr, "bench_sgemm: cannot allocate 3 x %d^2 floats\n", n);
            return 1;
        }
        for (size_t k = 0; k < nn; k++) {
            A[k] = (float)((k * 2654435761u) % 1000) / 1000.0f - 0.5f;
            B[k] = (float)((k * 40503u) % 1000) / 1000.0f - 0.5f;
            C[k] = 0.0f;
        }
        /* Warm-up: page in C, let OpenBLAS allocate its buffers and start its threads. */
        dsc_sgemm(0, 0, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n);
        double best = 1e30, total = 0.0;
        /* Small sizes repeat inside one timing so a rep lasts long enough to measure. */
        int inner = n >= 2048 ? 1 : (int)(2048.0 * 2048 * 2048 / ((double)n * n * n));
        if (inner < 1)
            inner = 1;
        for (int r = 0; r < reps; r++) {
            double t0 = now_s();
            for (int q = 0; q < inner; q++)
                dsc_sgemm(0, 0, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n);
            double t = (now_s() - t0) / inner;
            total += t;
            if (t < best)
                best = t;
        }
        double flops = 2.0 * (double)n * n * n;
        double g_best = flops / best * 1e-9, g_mean = flops / (total / reps) * 1e-9;
        printf("bench=sgemm threads=%d n=%d reps=%d best_s=%.6f best_gflops=%.2f mean_gflops=%.2f check=%.4f\n",
               threads, n, reps, best, g_best, g_mean, (double)C[nn / 2]);
        if (g_best > peak) {
            peak = g_best;
            peak_n = n;
        }
        free(A);
        free(B);
        free(C);
    }
    printf("bench=sgemm_peak threads=%d blas=%s peak_gflops=%.2f peak_n=%d\n", threads, dsc_blas_backend(), peak,
           peak_n);
    return 0;
}
