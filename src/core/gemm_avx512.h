/* AVX-512 SGEMM (src/core/gemm_avx512.c), used by dsc_sgemm (src/core/gemm.c) on CPUs with
 * AVX-512F. Internal to the library; docs/ALGORITHMS.md describes the design. */
#ifndef DSC_GEMM_AVX512_H
#define DSC_GEMM_AVX512_H

/* 1 when this build has the kernel and the CPU (and OS) support AVX-512F, else 0. */
int dsc_gemm_avx512_supported(void);

/* Row-major C = alpha op(A) op(B) + beta C, same contract as dsc_sgemm. Must only be called
 * when dsc_gemm_avx512_supported() is 1. Splits large products over the OpenMP threads
 * (unless called inside a parallel region) in blocks of C fixed by the shape; the result
 * of every element of C is independent of the block it lies in, so C is bit-identical for
 * any thread count. beta == 0 never reads C. */
void dsc_sgemm_avx512(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *B, int ldb, float beta, float *C, int ldc);

#endif
