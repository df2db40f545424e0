/* Deterministic partitioned GEMM for the GEMM-based ops; see im2col.h. */
#include "ops/im2col.h"

#include <stddef.h>
#include <stdint.h>

#include "descent/runtime.h"

#define GEMM_SPLIT_MIN (1LL << 20) /* multiply-adds below which one call does it all */
#define GEMM_MAX_PARTS 8
#define GEMM_PART_MIN 64   /* narrowest block (rows or columns) */
#define GEMM_PART_ALIGN 32 /* block boundaries at whole micro-tiles */

void dsc_gemm_fixed(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                    const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    int split_n = N >= M;
    int dim = split_n ? N : M;
    int parts = 1;
    if ((int64_t)M * N * (K > 0 ? K : 1) >= GEMM_SPLIT_MIN) {
        parts = dim / GEMM_PART_MIN;
        if (parts > GEMM_MAX_PARTS)
            parts = GEMM_MAX_PARTS;
        if (parts < 1)
            parts = 1;
    }
    int chunk = (dim + parts - 1) / parts;
    chunk = (chunk + GEMM_PART_ALIGN - 1) / GEMM_PART_ALIGN * GEMM_PART_ALIGN;
    parts = (dim + chunk - 1) / chunk;
    /* Always inside a parallel region (even for one block): dsc_sgemm then stays in the
     * calling thread instead of splitting by the thread count itself. */
#pragma omp parallel for schedule(static)
    for (int p = 0; p < parts; p++) {
        int s = p * chunk, len = dim - s < chunk ? dim - s : chunk;
        if (split_n)
            dsc_sgemm(trans_a, trans_b, M, len, K, alpha, A, lda, trans_b ? B + (size_t)s * ldb : B + s, ldb, beta,
                      C + s, ldc);
        else
            dsc_sgemm(trans_a, trans_b, len, N, K, alpha, trans_a ? A + s : A + (size_t)s * lda, lda, B, ldb, beta,
                      C + (size_t)s * ldc, ldc);
    }
}
