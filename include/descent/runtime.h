/* descent — runtime settings: threads, version, build features. */
#ifndef DESCENT_RUNTIME_H
#define DESCENT_RUNTIME_H

#ifdef __cplusplus
extern "C" {
#endif

#define DESCENT_VERSION "0.1.0"

/* Number of threads used by kernels (OpenMP and BLAS). 0 = all cores. Results do not
 * depend on the thread count: work is split into fixed chunks and reduced in a fixed order. */
void dsc_set_num_threads(int n);
int dsc_get_num_threads(void);
const char *dsc_version(void);
/* GEMM backend in use: "avx512" (descent's kernel), "openblas" or "portable"; threads: "openmp"
 * or "single-thread". */
const char *dsc_blas_backend(void);
const char *dsc_thread_backend(void);

/* Row-major single-precision GEMM: C = alpha * op(A) op(B) + beta * C, op(X) = X or X^T.
 * op(A) is M x K, op(B) is K x N, C is M x N. descent's AVX-512 kernel on CPUs that have
 * AVX-512F, else OpenBLAS when built with it, else a blocked portable kernel; the environment
 * variable DSC_GEMM=avx512|openblas|portable overrides the choice. Deterministic for any
 * thread count (the work is split by shape, never by the number of threads). */
void dsc_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
               const float *B, int ldb, float beta, float *C, int ldc);

#ifdef __cplusplus
}
#endif
#endif
