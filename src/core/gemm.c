/* GEMM: OpenBLAS when available, else a blocked portable kernel. Row-major. */
#include <string.h>

#include "descent/runtime.h"

#ifdef DSC_HAVE_OPENBLAS
#include <cblas.h>

const char *dsc_blas_backend(void) { return "openblas"; }

void dsc_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
               const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K,
                alpha, A, lda, B, ldb, beta, C, ldc);
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
