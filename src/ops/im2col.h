/* Helpers shared by the GEMM-based ops (src/ops/matmul.c, src/ops/conv.c). */
#ifndef DSC_OPS_IM2COL_H
#define DSC_OPS_IM2COL_H

/* C = alpha op(A) op(B) + beta C like dsc_sgemm, split over the OpenMP threads into column
 * (or row) blocks whose boundaries depend only on M, N and K, never on the thread count.
 * Each block is one single-threaded dsc_sgemm call (dsc_sgemm runs single-threaded inside
 * an active parallel region), so every element of C is computed by the same call with the
 * same K order for any number of threads: results are bit-identical for 1, 2, ... threads.
 * (Splitting by the thread count is not: OpenBLAS rounds differently for different block
 * shapes, e.g. a 32 x 1296 x 72 product differs in the last bit between 1 and 2 halves.) */
void dsc_gemm_fixed(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                    const float *B, int ldb, float beta, float *C, int ldc);

#endif
