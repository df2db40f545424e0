/* GEMM dispatch (docs/ALGORITHMS.md). Row-major C = alpha op(A) op(B) + beta C through one
 * of three backends, chosen once per process:
 *   avx512    descent's own AVX-512 kernel (src/core/gemm_avx512.c): the default on CPUs with
 *             AVX-512F. OpenBLAS picks its kernels from OPENBLAS_CORETYPE, which this
 *             environment pins to Haswell (AVX2, half the AVX-512 speed) and which a library
 *             cannot change once OpenBLAS is loaded; this kernel does not depend on it.
 *   openblas  cblas_sgemm (builds with OpenBLAS): the default on CPUs without AVX-512F.
 *   portable  the blocked C kernel below: the default without both.
 * DSC_GEMM=avx512|openblas|portable overrides the choice (for comparisons); a backend this
 * build or CPU lacks falls back to the default. Every backend is bit-identical for any
 * thread count; different backends round differently. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/gemm_avx512.h"
#include "descent/runtime.h"

enum { BK_UNSET = 0, BK_AVX512, BK_OPENBLAS, BK_PORTABLE };
static atomic_int gemm_backend = BK_UNSET;

static int pick_backend(void)
{
    int b = atomic_load_explicit(&gemm_backend, memory_order_relaxed);
    if (b != BK_UNSET)
        return b;
#ifdef DSC_HAVE_OPENBLAS
    int def = dsc_gemm_avx512_supported() ? BK_AVX512 : BK_OPENBLAS;
#else
    int def = dsc_gemm_avx512_supported() ? BK_AVX512 : BK_PORTABLE;
#endif
    b = def;
    const char *e = getenv("DSC_GEMM");
    if (e && !strcmp(e, "portable"))
        b = BK_PORTABLE;
    else if (e && !strcmp(e, "avx512") && dsc_gemm_avx512_supported())
        b = BK_AVX512;
#ifdef DSC_HAVE_OPENBLAS
    else if (e && !strcmp(e, "openblas"))
        b = BK_OPENBLAS;
#endif
    atomic_store(&gemm_backend, b);
    return b;
}

const char *dsc_blas_backend(void)
{
    int b = pick_backend();
    return b == BK_AVX512 ? "avx512" : b == BK_OPENBLAS ? "openblas" : "portable";
}

static void gemm_portable(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc);

#ifdef DSC_HAVE_OPENBLAS
#include <cblas.h>

#ifdef _OPENMP
#include <omp.h>
#include <stdatomic.h>

void openblas_set_num_threads(int num_threads);

/* Threading policy.
 *
 * One thread pool, not two. OpenBLAS (pthreads build) keeps its own worker pool, the
 * OpenMP kernels keep libgomp's, and both spin-wait after their work; with as many threads
 * as cores they take turns spinning on each other's cores (a 2-core machine ran an MLP epoch
 * in 4.1 s with 2 threads against 0.69 s with 1; docs/PERFORMANCE.md). So OpenBLAS always
 * runs single-threaded in the calling thread and dsc_sgemm splits large GEMMs over the
 * OpenMP threads itself.
 *
 * Determinism. OpenBLAS's result for an element of C depends on how the call is cut up:
 * its own threading gave different bits for 1 and 2 threads, and so did cutting C into
 * halves by hand (its micro-kernels and K blocking are not position-invariant; measured with
 * OpenBLAS 0.3.21, Haswell and SkylakeX kernels). So the cut depends on the shape only,
 * never on the thread count: a GEMM with at least PAR_MIN_MNK multiply-adds is always cut
 * into GEMM_PARTS blocks of rows or columns of C (the larger of M and N), each one
 * cblas_sgemm call, and the threads share out the blocks. One thread makes the same calls
 * in turn, so C is bit-identical for any thread count (bench_sgemm --check verifies it). */
#ifndef GEMM_PARTS
#define GEMM_PARTS 2
#endif
#define PAR_MIN_MNK (1LL << 20)
#define PART_ALIGN 16 /* cut points at multiples of 16 rows/columns (64-byte aligned offsets) */

static atomic_int blas_single = 0;
static int gemm_parts = GEMM_PARTS;

static void blas_single_thread(void)
{
    if (!atomic_load_explicit(&blas_single, memory_order_relaxed)) {
        const char *e = getenv("DSC_GEMM_PARTS"); /* tuning experiments only */
        if (e && atoi(e) >= 1)
            gemm_parts = atoi(e);
        openblas_set_num_threads(1);
        atomic_store(&blas_single, 1);
    }
}
#endif

static void gemm1(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K,
                alpha, A, lda, B, ldb, beta, C, ldc);
}

static void gemm_openblas(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
#ifdef _OPENMP
    blas_single_thread();
    if (gemm_parts > 1 && (long long)M * N * (K > 0 ? K : 1) >= PAR_MIN_MNK) {
        int split_n = N >= M;
        int dim = split_n ? N : M;
        int chunk = (dim + gemm_parts - 1) / gemm_parts;
        chunk = (chunk + PART_ALIGN - 1) / PART_ALIGN * PART_ALIGN;
        int parts = (dim + chunk - 1) / chunk;
        if (parts > 1) {
            int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
#pragma omp parallel for schedule(static) num_threads(nt < parts ? nt : parts) if (nt > 1)
            for (int p = 0; p < parts; p++) {
                int s = p * chunk, len = dim - s < chunk ? dim - s : chunk;
                if (split_n)
                    gemm1(trans_a, trans_b, M, len, K, alpha, A, lda, trans_b ? B + (size_t)s * ldb : B + s, ldb,
                          beta, C + s, ldc);
                else
                    gemm1(trans_a, trans_b, len, N, K, alpha, trans_a ? A + s : A + (size_t)s * lda, lda, B, ldb,
                          beta, C + (size_t)s * ldc, ldc);
            }
            return;
        }
    }
#endif
    gemm1(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
#endif

/* Portable blocked GEMM: the K loop is innermost-but-one so the inner loop streams a row of
 * op(B) into a row of C (vectorizable); blocks keep panels in cache. The summation order
 * over K is fixed, so results do not depend on threads (rows of C are split). */
#define BM 64
#define BN 256
#define BK 128

static void gemm_portable(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
#pragma omp parallel for schedule(static) if ((long long)M * N * K > 262144)
    for (int i0 = 0; i0 < M; i0 += BM) {
        float bt[BK * BN];
        int i1 = i0 + BM < M ? i0 + BM : M;
        for (int i = i0; i < i1; i++) {
            float *c = C + (size_t)i * ldc;
            if (beta == 0.0f)
                memset(c, 0, (size_t)N * sizeof(float));
            else if (beta != 1.0f)
                for (int j = 0; j < N; j++)
                    c[j] *= beta;
        }
        for (int j0 = 0; j0 < N; j0 += BN) {
            int j1 = j0 + BN < N ? j0 + BN : N, nb = j1 - j0;
            for (int k0 = 0; k0 < K; k0 += BK) {
                int k1 = k0 + BK < K ? k0 + BK : K;
                /* Pack op(B)[k0:k1, j0:j1] contiguously. */
                for (int k = k0; k < k1; k++)
                    for (int j = 0; j < nb; j++)
                        bt[(k - k0) * BN + j] = trans_b ? B[(size_t)(j0 + j) * ldb + k] : B[(size_t)k * ldb + j0 + j];
                for (int i = i0; i < i1; i++) {
                    float *c = C + (size_t)i * ldc + j0;
                    for (int k = k0; k < k1; k++) {
                        float a = alpha * (trans_a ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]);
                        const float *b = bt + (k - k0) * BN;
                        for (int j = 0; j < nb; j++)
                            c[j] += a * b[j];
                    }
                }
            }
        }
    }
}

void dsc_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
               const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0 || alpha == 0.0f) { /* C = beta C, A and B unread (BLAS semantics) */
        for (int i = 0; i < M; i++) {
            float *c = C + (size_t)i * ldc;
            if (beta == 0.0f)
                memset(c, 0, (size_t)N * sizeof(float));
            else if (beta != 1.0f)
                for (int j = 0; j < N; j++)
                    c[j] *= beta;
        }
        return;
    }
    switch (pick_backend()) {
    case BK_AVX512:
        dsc_sgemm_avx512(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
#ifdef DSC_HAVE_OPENBLAS
    case BK_OPENBLAS:
        gemm_openblas(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
#endif
    default:
        gemm_portable(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
}
