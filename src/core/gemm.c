/* GEMM: OpenBLAS when available, else a blocked portable kernel. Row-major. */
#include <stdlib.h>
#include <string.h>

#include "descent/runtime.h"

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

const char *dsc_blas_backend(void) { return "openblas"; }

static void gemm1(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K,
                alpha, A, lda, B, ldb, beta, C, ldc);
}

void dsc_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
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
#else

const char *dsc_blas_backend(void) { return "portable"; }

/* Portable blocked GEMM: the K loop is innermost-but-one so the inner loop streams a row of
 * op(B) into a row of C (vectorizable); blocks keep panels in cache. The summation order
 * over K is fixed, so results do not depend on threads (rows of C are split). */
#define BM 64
#define BN 256
#define BK 128

void dsc_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
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
#endif
