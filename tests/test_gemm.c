/* GEMM (src/core/gemm.c, src/core/gemm_avx512.c): all transpose combinations, alpha/beta,
 * odd sizes and padded leading dimensions against a double-precision reference with a
 * rounding-error bound; beta == 0 never reads C; bit-identical results for 1 and 2 threads,
 * run to run, and (AVX-512 kernel) for any sub-block of C computed on its own.
 *
 * dsc_sgemm is tested with the backend this process picked (DSC_GEMM or the default), the
 * AVX-512 kernel also directly when the CPU has it. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/gemm_avx512.h"
#include "testing.h"

typedef void (*gemm_fn)(int, int, int, int, int, float, const float *, int, const float *, int, float, float *,
                        int);

static const int sizes[] = {1, 7, 15, 17, 33, 100, 257};
#define NSIZES ((int)(sizeof sizes / sizeof sizes[0]))

/* Reference C = alpha op(A) op(B) + beta C in double, and the error bound
 * (K + 8) * eps * (|alpha| sum_k |a_ik b_kj| + |beta c_ij|) + tiny: each element is a chain of
 * at most K FMAs plus a few roundings for the K blocks and the alpha/beta update. */
static void reference(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                      int ldb, float beta, const float *C0, int ldc, double *ref, double *bound)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0, sa = 0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += a * b;
                sa += fabs(a * b);
            }
            double c = beta == 0.0f ? 0.0 : (double)beta * C0[(size_t)i * ldc + j];
            ref[(size_t)i * N + j] = alpha * s + c;
            bound[(size_t)i * N + j] = (K + 8) * (double)FLT_EPSILON * (fabs(alpha) * sa + fabs(c)) + 1e-30;
        }
}

/* One product with padded leading dimensions; returns the number of elements out of bounds
 * (C's padding must stay untouched too). */
static int check_one(gemm_fn f, int ta, int tb, int M, int N, int K, float alpha, float beta, uint64_t seed,
                     int nan_c)
{
    int ra = ta ? K : M, ca = ta ? M : K, rb = tb ? N : K, cb = tb ? K : N;
    int lda = ca + 3, ldb = cb + 5, ldc = N + 2;
    float *A = malloc((size_t)ra * lda * sizeof(float)), *B = malloc((size_t)rb * ldb * sizeof(float));
    float *C = malloc((size_t)M * ldc * sizeof(float)), *C0 = malloc((size_t)M * ldc * sizeof(float));
    double *ref = malloc((size_t)M * N * sizeof(double)), *bound = malloc((size_t)M * N * sizeof(double));
    dsc_test_fill(A, (size_t)ra * lda, seed, -1.0f, 1.0f);
    dsc_test_fill(B, (size_t)rb * ldb, seed + 1, -1.0f, 1.0f);
    dsc_test_fill(C0, (size_t)M * ldc, seed + 2, -1.0f, 1.0f);
    if (nan_c)
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                C0[(size_t)i * ldc + j] = NAN;
    memcpy(C, C0, (size_t)M * ldc * sizeof(float));
    reference(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C0, ldc, ref, bound);
    f(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    int bad = 0;
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double c = C[(size_t)i * ldc + j], r = ref[(size_t)i * N + j];
            if (!(fabs(c - r) <= bound[(size_t)i * N + j])) {
                if (bad < 3)
                    fprintf(stderr, "gemm ta=%d tb=%d M=%d N=%d K=%d alpha=%g beta=%g: C[%d,%d] = %.9g, ref %.9g\n", ta,
                            tb, M, N, K, (double)alpha, (double)beta, i, j, c, r);
                bad++;
            }
        }
        for (int j = N; j < ldc; j++)
            if (memcmp(&C[(size_t)i * ldc + j], &C0[(size_t)i * ldc + j], sizeof(float)) != 0)
                bad++;
    }
    free(A);
    free(B);
    free(C);
    free(C0);
    free(ref);
    free(bound);
    return bad;
}

/* All transpose combinations x odd sizes (1 .. 257) for M, N and K, cycling alpha/beta. */
static void sweep(gemm_fn f)
{
    static const float ab[][2] = {{1.0f, 0.0f}, {0.7f, -1.3f}, {-2.0f, 1.0f}, {1.0f, 1.0f}};
    int bad = 0, n = 0;
    for (int t = 0; t < 4; t++)
        for (int im = 0; im < NSIZES; im++)
            for (int in = 0; in < NSIZES; in++)
                for (int ik = 0; ik < NSIZES; ik++, n++)
                    bad += check_one(f, t >> 1, t & 1, sizes[im], sizes[in], sizes[ik], ab[n % 4][0], ab[n % 4][1],
                                     (uint64_t)n * 7 + 1, 0);
    CHECK(bad == 0);
}

static void test_sgemm_sweep(void) { sweep(dsc_sgemm); }

static void test_avx512_sweep(void)
{
    if (!dsc_gemm_avx512_supported()) {
        printf("  (no AVX-512F on this CPU: kernel not tested directly)\n");
        return;
    }
    sweep(dsc_sgemm_avx512);
}

/* Larger products that take the threaded path and several K blocks, MC and NC blocks. */
static void test_large_shapes(void)
{
    static const int shapes[][5] = {{128, 256, 784, 0, 1}, {300, 2100, 530, 1, 0}, {1000, 70, 600, 1, 1},
                                    {64, 3000, 800, 0, 0}};
    for (int s = 0; s < 4; s++)
        CHECK(check_one(dsc_sgemm, shapes[s][3], shapes[s][4], shapes[s][0], shapes[s][1], shapes[s][2], 0.5f,
                        s % 2 ? 0.0f : 2.0f, 100 + (uint64_t)s, 0) == 0);
}

/* beta == 0 must not read C: NaN there must not leak into the result. */
static void test_beta_zero_ignores_nan(void)
{
    int bad = 0;
    for (int t = 0; t < 4; t++) {
        bad += check_one(dsc_sgemm, t >> 1, t & 1, 17, 33, 15, 1.0f, 0.0f, 7 + (uint64_t)t, 1);
        bad += check_one(dsc_sgemm, t >> 1, t & 1, 130, 300, 600, 0.5f, 0.0f, 11 + (uint64_t)t, 1);
    }
    CHECK(bad == 0);
}

/* K == 0 or alpha == 0: C = beta C without reading A and B (BLAS semantics). */
static void test_degenerate(void)
{
    float A[6] = {NAN, NAN, NAN, NAN, NAN, NAN}, B[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
    float C[4] = {1, 2, 3, 4};
    dsc_sgemm(0, 0, 2, 2, 3, 0.0f, A, 3, B, 2, 2.0f, C, 2);
    CHECK(C[0] == 2 && C[1] == 4 && C[2] == 6 && C[3] == 8);
    dsc_sgemm(0, 0, 2, 2, 0, 1.0f, A, 1, B, 2, 0.5f, C, 2);
    CHECK(C[0] == 1 && C[1] == 2 && C[2] == 3 && C[3] == 4);
    float Cn[4] = {NAN, NAN, NAN, NAN};
    dsc_sgemm(0, 0, 2, 2, 0, 1.0f, A, 1, B, 2, 0.0f, Cn, 2);
    CHECK(Cn[0] == 0 && Cn[1] == 0 && Cn[2] == 0 && Cn[3] == 0);
    /* A 1 x 1 x 1 product and exact small integers. */
    float a = 3, b = -2, c = 10;
    dsc_sgemm(1, 1, 1, 1, 1, 1.0f, &a, 1, &b, 1, 1.0f, &c, 1);
    CHECK(c == 4);
}

/* The engine's GEMM shapes (MLP batch 128, conv) and odd ones, 1 vs 2 threads and twice. */
static void test_threads_bit_identical(void)
{
    static const int shapes[][6] = {
        {128, 256, 784, 0, 1, 0}, {128, 10, 256, 0, 1, 0},   {128, 784, 256, 0, 0, 1}, {256, 784, 128, 1, 0, 1},
        {10, 256, 128, 1, 0, 1},  {64, 8192, 800, 0, 0, 0},  {64, 800, 8192, 0, 1, 1}, {800, 8192, 64, 1, 0, 0},
        {999, 1000, 517, 1, 1, 1}, {77, 3001, 1500, 0, 1, 1}, {1000, 33, 700, 0, 0, 1}};
    int ns = (int)(sizeof shapes / sizeof shapes[0]), differ = 0;
    for (int s = 0; s < ns; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], ta = shapes[s][3], tb = shapes[s][4];
        float beta = shapes[s][5] ? 0.75f : 0.0f;
        size_t na = (size_t)M * K, nb = (size_t)K * N, nc = (size_t)M * N;
        float *A = malloc(na * sizeof(float)), *B = malloc(nb * sizeof(float));
        float *C0 = malloc(nc * sizeof(float)), *C1 = malloc(nc * sizeof(float)), *C2 = malloc(nc * sizeof(float));
        dsc_test_fill(A, na, 1000 + (uint64_t)s, -1.0f, 1.0f);
        dsc_test_fill(B, nb, 2000 + (uint64_t)s, -1.0f, 1.0f);
        dsc_test_fill(C0, nc, 3000 + (uint64_t)s, -1.0f, 1.0f);
        memcpy(C1, C0, nc * sizeof(float));
        memcpy(C2, C0, nc * sizeof(float));
        dsc_set_num_threads(1);
        dsc_sgemm(ta, tb, M, N, K, 0.9f, A, ta ? M : K, B, tb ? K : N, beta, C1, N);
        dsc_set_num_threads(2);
        dsc_sgemm(ta, tb, M, N, K, 0.9f, A, ta ? M : K, B, tb ? K : N, beta, C2, N);
        int d = memcmp(C1, C2, nc * sizeof(float)) != 0;
        memcpy(C2, C0, nc * sizeof(float));
        dsc_sgemm(ta, tb, M, N, K, 0.9f, A, ta ? M : K, B, tb ? K : N, beta, C2, N);
        d |= memcmp(C1, C2, nc * sizeof(float)) != 0;
        if (d)
            fprintf(stderr, "gemm M=%d N=%d K=%d ta=%d tb=%d: 1 and 2 threads (or two runs) differ\n", M, N, K, ta,
                    tb);
        differ += d;
        free(A);
        free(B);
        free(C0);
        free(C1);
        free(C2);
    }
    dsc_set_num_threads(0);
    CHECK(differ == 0);
}

/* The AVX-512 kernel's determinism argument: an element's bits do not depend on where it
 * lies, so a sub-block of C computed by its own call (other tiles, panels, blocks, parts)
 * equals the same block of the whole product. */
static void test_avx512_position_invariant(void)
{
    if (!dsc_gemm_avx512_supported())
        return;
    const int M = 301, N = 517, K = 700;
    for (int t = 0; t < 4; t++) {
        int ta = t >> 1, tb = t & 1, lda = ta ? M : K, ldb = tb ? K : N;
        float *A = malloc((size_t)M * K * sizeof(float)), *B = malloc((size_t)K * N * sizeof(float));
        float *C = malloc((size_t)M * N * sizeof(float)), *S = malloc((size_t)M * N * sizeof(float));
        dsc_test_fill(A, (size_t)M * K, 5 + (uint64_t)t, -1.0f, 1.0f);
        dsc_test_fill(B, (size_t)K * N, 6 + (uint64_t)t, -1.0f, 1.0f);
        dsc_test_fill(C, (size_t)M * N, 7, -1.0f, 1.0f);
        memcpy(S, C, (size_t)M * N * sizeof(float));
        dsc_sgemm_avx512(ta, tb, M, N, K, 1.5f, A, lda, B, ldb, 0.5f, C, N);
        /* Rows 5..294, columns 3..493 (not tile-aligned) in one call: 290 = 24*12 + 2 rows
         * and 491 = 15*32 + 11 columns, so edge elements go through the 4-row and 16-column
         * kernel instances here and through the 12 x 32 one in the whole product. */
        int i0 = 5, i1 = 295, j0 = 3, j1 = 494;
        dsc_sgemm_avx512(ta, tb, i1 - i0, j1 - j0, K, 1.5f, ta ? A + i0 : A + (size_t)i0 * lda, lda,
                         tb ? B + (size_t)j0 * ldb : B + j0, ldb, 0.5f, S + (size_t)i0 * N + j0, N);
        int differ = 0;
        for (int i = i0; i < i1; i++)
            differ += memcmp(C + (size_t)i * N + j0, S + (size_t)i * N + j0, (size_t)(j1 - j0) * sizeof(float)) != 0;
        CHECK(differ == 0);
        free(A);
        free(B);
        free(C);
        free(S);
    }
}

DSC_TEST_MAIN("gemm", TEST(test_sgemm_sweep), TEST(test_avx512_sweep), TEST(test_large_shapes),
              TEST(test_beta_zero_ignores_nan), TEST(test_degenerate), TEST(test_threads_bit_identical),
              TEST(test_avx512_position_invariant))
