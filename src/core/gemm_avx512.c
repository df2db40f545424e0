/* AVX-512 SGEMM: row-major C = alpha op(A) op(B) + beta C (docs/ALGORITHMS.md).
 *
 * Classic GotoBLAS / BLIS structure (Goto & van de Geijn, "Anatomy of high-performance matrix
 * multiplication", ACM TOMS 2008; Van Zee & van de Geijn, "BLIS", ACM TOMS 2015):
 *
 *   for jc in N by NC:                      B block  (KC x NC)  -> L3 / L2
 *     for pc in K by KC:      pack op(B)[pc:pc+kc, jc:jc+nc] into NR-wide column panels
 *       for ic in M by MC:    pack op(A)[ic:ic+mc, pc:pc+kc] into MR-tall row panels (L2)
 *         for jr in nc by NR:                B micro-panel (kc x NR) stays in L1
 *           for ir in mc by MR:              A micro-panel (MR x kc) streams from L2
 *             micro-kernel: MR x NR tile of C, MR*NR/16 zmm accumulators,
 *             acc[r][:] += op(A)[r, k] * op(B)[k, :]   for k = 0 .. kc-1 in order
 *
 * Micro-tile MR x NR = 12 x 32: 24 zmm accumulators (2 per row), 2 zmm for the row of B and
 * the A element broadcast from memory ({1to16} operand) per FMA: 24 FMAs per 2 loads of B
 * and 12 broadcasts, enough independent FMA chains (24) to hide the FMA latency of two
 * 512-bit FMA pipes (4 cycles x 2 pipes = 8 chains needed).
 *
 * Determinism. Every element of C is computed by the same sequence of operations wherever it
 * lies: the K dimension is cut into blocks that depend on K only (kc = ceil(K / ceil(K /
 * KC_MAX))); within a block the accumulator is a single FMA chain over k = 0 .. kc-1 in
 * order starting from 0; then c = fma(alpha, acc, beta' * c) with beta' = beta for the first
 * block and 1 afterwards (for beta == 0 the first block writes alpha * acc without reading C).
 * Edge tiles use the same kernel on zero-padded panels and masked stores, so an element's
 * result does not depend on its tile, panel, MC/NC block or thread: any partition of C gives
 * bit-identical results. The threads share out blocks of C whose boundaries depend on the
 * shape only (gemm_parts below), and tests/test_gemm.c checks 1 vs 2 threads bit for bit.
 *
 * Portability. Only the functions marked AVX512_FN are compiled for AVX-512 (function-level
 * target attribute), so the library still builds without -march=native and runs on other
 * CPUs; dsc_sgemm calls this file only when __builtin_cpu_supports("avx512f"). */
#include "core/gemm_avx512.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define DSC_GEMM_AVX512 1
#endif

#ifdef DSC_GEMM_AVX512
#include <immintrin.h>

#define AVX512_FN __attribute__((target("avx512f,avx512dq,fma")))

/* Register tile and cache blocking (docs/ALGORITHMS.md has the measurements). */
#define MR 12
#define NR 32
#ifndef GEMM_KC
#define GEMM_KC 256 /* B micro-panel KC x NR x 4 B = 32 KiB of the 48 KiB L1 */
#endif
#ifndef GEMM_MC
#define GEMM_MC (MR * 16) /* A block 192 x 256 x 4 B = 192 KiB of the 1 MiB L2 */
#endif
#ifndef GEMM_NC
#define GEMM_NC (NR * 16) /* B block 256 x 512 x 4 B = 512 KiB, in L2 next to the A block */
#endif

/* Threading: products with fewer multiply-adds than PAR_MIN run in one thread; larger ones
 * are cut along their larger dimension into a power-of-two number of parts (at most
 * PAR_MAX_PARTS, each at least PART_MIN_N columns or PART_MIN_M rows) - a function of the
 * shape only. Each part packs its own copy of the operand it shares with the others. */
#define PAR_MIN (1LL << 20)
#define PAR_MAX_PARTS 8
#define PART_MIN_N 128
#define PART_MIN_M 96

/* __builtin_cpu_supports also checks that the OS saves the AVX-512 state (XCR0). */
int dsc_gemm_avx512_supported(void)
{
    static atomic_int cached = -1;
    int c = atomic_load_explicit(&cached, memory_order_relaxed);
    if (c < 0) {
        __builtin_cpu_init();
        c = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") ? 1 : 0;
        atomic_store_explicit(&cached, c, memory_order_relaxed);
    }
    return c;
}

/* ---- packing buffers: one pair per thread, grown (never shrunk) outside the hot loops ---- */

/* The buffers of a thread live in a struct owned through a pthread key whose destructor frees
 * them when the thread exits: OpenMP creates and retires worker threads (nested regions, a
 * changed thread count), and a plain _Thread_local pointer would leak their buffers. */
typedef struct pack_bufs {
    float *a, *b;
    size_t cap_a, cap_b;
} pack_bufs;

static pthread_key_t bufs_key;
static pthread_once_t bufs_once = PTHREAD_ONCE_INIT;

static void bufs_free(void *p)
{
    pack_bufs *pb = p;
    if (pb) {
        free(pb->a);
        free(pb->b);
        free(pb);
    }
}

static void bufs_key_init(void) { (void)pthread_key_create(&bufs_key, bufs_free); }

static pack_bufs *thread_bufs(void)
{
    pthread_once(&bufs_once, bufs_key_init);
    pack_bufs *pb = pthread_getspecific(bufs_key);
    if (!pb) {
        pb = calloc(1, sizeof *pb);
        if (pb && pthread_setspecific(bufs_key, pb) != 0) {
            free(pb);
            pb = NULL;
        }
    }
    return pb;
}

static float *grow(float **buf, size_t *cap, size_t n)
{
    if (n > *cap) {
        size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
        float *p = aligned_alloc(64, bytes);
        if (!p)
            return NULL;
        free(*buf);
        *buf = p;
        *cap = bytes / sizeof(float);
    }
    return *buf;
}

static inline AVX512_FN __mmask16 mask_first(int n)
{
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

/* In-register transpose of a 16 x 16 block: r[i] (row i) becomes column i. Three rounds:
 * 32-bit interleave, 64-bit interleave (4x4 blocks inside each 128-bit lane), then a 4x4
 * transpose of the 128-bit lanes with shuffle_f32x4. */
static inline AVX512_FN void transpose16(__m512 r[16])
{
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 2]);
        __m512d c = _mm512_castps_pd(t[4 * i + 1]), d = _mm512_castps_pd(t[4 * i + 3]);
        u[4 * i + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b)); /* lane L: column 4L,   rows 4i..4i+3 */
        u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)); /* column 4L+1 */
        u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d)); /* column 4L+2 */
        u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d)); /* column 4L+3 */
    }
    for (int q = 0; q < 4; q++) {
        __m512 w0 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0x44);
        __m512 w1 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0xEE);
        __m512 w2 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0x44);
        __m512 w3 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0xEE);
        r[q] = _mm512_shuffle_f32x4(w0, w2, 0x88);
        r[4 + q] = _mm512_shuffle_f32x4(w0, w2, 0xDD);
        r[8 + q] = _mm512_shuffle_f32x4(w1, w3, 0x88);
        r[12 + q] = _mm512_shuffle_f32x4(w1, w3, 0xDD);
    }
}

/* Panels of width W from a block whose rows are contiguous in memory (op(A) for trans_a,
 * op(B) for !trans_b): panel p (columns p*W .. p*W+W-1 of the block) goes to dst + p*W*kc,
 * dst[p*W*kc + k*W + c] = src[k*ld + p*W + c], zero past column n. Row by row over the whole
 * block, so the reads stream along each row (few pages, prefetcher-friendly) instead of
 * striding down one panel at a time. */
static AVX512_FN void pack_direct(int W, const float *src, size_t ld, int n, int kc, float *dst)
{
    for (int k = 0; k < kc; k++) {
        const float *s = src + (size_t)k * ld;
        for (int p0 = 0; p0 < n; p0 += W) {
            float *d = dst + (size_t)p0 * kc + (size_t)k * W;
            for (int c0 = 0; c0 < W; c0 += 16) {
                int left = n - p0 - c0;
                __m512 v = left > 0 ? _mm512_maskz_loadu_ps(mask_first(left), s + p0 + c0) : _mm512_setzero_ps();
                _mm512_mask_storeu_ps(d + c0, mask_first(W - c0), v);
            }
        }
    }
}

/* dst[k*W + r] = src[r*ld + k] for r < n, 0 for n <= r < W (k < kc): a panel whose
 * columns are contiguous in memory (op(A) for !trans_a, op(B) for trans_b), transposed in
 * 16 x 16 blocks. */
static AVX512_FN void pack_trans(int W, const float *src, size_t ld, int n, int kc, float *dst)
{
    __m512 v[16];
    for (int r0 = 0; r0 < W; r0 += 16) {
        int w = W - r0 < 16 ? W - r0 : 16;
        int rows = n - r0 < w ? n - r0 : w;
        __mmask16 wmask = mask_first(w);
        for (int k0 = 0; k0 < kc; k0 += 16) {
            int kk = kc - k0 < 16 ? kc - k0 : 16;
            __mmask16 kmask = mask_first(kk);
            for (int r = 0; r < 16; r++)
                v[r] = r < rows ? _mm512_maskz_loadu_ps(kmask, src + (size_t)(r0 + r) * ld + k0) : _mm512_setzero_ps();
            transpose16(v);
            for (int t = 0; t < kk; t++)
                _mm512_mask_storeu_ps(dst + (size_t)(k0 + t) * W + r0, wmask, v[t]);
        }
    }
}

/* The micro-kernel on a ROWS x COLS tile (ROWS <= MR, COLS in {16, 32}; panels keep the MR
 * and NR strides): acc = sum_k pa[k*MR + r] * pb[k*NR + c], one FMA chain per element with
 * k ascending, then C[r, c] = fma(alpha, acc, beta * C[r, c]) for r < m, c < n; read_c == 0
 * writes alpha * acc without reading C (beta == 0). Narrower instances only skip rows and
 * columns that edge tiles would compute into padding: every element they do compute goes
 * through the same operations as in the full 12 x 32 kernel. */
static inline __attribute__((always_inline)) AVX512_FN void
micro_kernel_t(const int ROWS, const int COLS, int kc, const float *restrict pa, const float *restrict pb, float *C,
               size_t ldc, int m, int n, float alpha, float beta, int read_c)
{
    __m512 c0[MR], c1[MR];
#pragma GCC unroll 12
    for (int r = 0; r < ROWS; r++)
        c0[r] = c1[r] = _mm512_setzero_ps();
    for (int k = 0; k < kc; k++) {
        __m512 b0 = _mm512_load_ps(pb), b1 = COLS > 16 ? _mm512_load_ps(pb + 16) : b0;
#pragma GCC unroll 12
        for (int r = 0; r < ROWS; r++) {
            __m512 a = _mm512_set1_ps(pa[r]);
            c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);
            if (COLS > 16)
                c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);
        }
        pa += MR;
        pb += NR;
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    if (n == COLS) {
#pragma GCC unroll 12
        for (int r = 0; r < ROWS; r++) {
            if (r >= m)
                break;
            float *c = C + (size_t)r * ldc;
            if (read_c) {
                _mm512_storeu_ps(c, _mm512_fmadd_ps(va, c0[r], _mm512_mul_ps(vb, _mm512_loadu_ps(c))));
                if (COLS > 16)
                    _mm512_storeu_ps(c + 16, _mm512_fmadd_ps(va, c1[r], _mm512_mul_ps(vb, _mm512_loadu_ps(c + 16))));
            } else {
                _mm512_storeu_ps(c, _mm512_mul_ps(va, c0[r]));
                if (COLS > 16)
                    _mm512_storeu_ps(c + 16, _mm512_mul_ps(va, c1[r]));
            }
        }
    } else {
        __mmask16 m0 = mask_first(n), m1 = mask_first(n - 16);
#pragma GCC unroll 12
        for (int r = 0; r < ROWS; r++) {
            if (r >= m)
                break;
            float *c = C + (size_t)r * ldc;
            if (read_c) {
                _mm512_mask_storeu_ps(
                    c, m0, _mm512_fmadd_ps(va, c0[r], _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m0, c))));
                if (COLS > 16 && m1)
                    _mm512_mask_storeu_ps(
                        c + 16, m1, _mm512_fmadd_ps(va, c1[r], _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m1, c + 16))));
            } else {
                _mm512_mask_storeu_ps(c, m0, _mm512_mul_ps(va, c0[r]));
                if (COLS > 16 && m1)
                    _mm512_mask_storeu_ps(c + 16, m1, _mm512_mul_ps(va, c1[r]));
            }
        }
    }
}

#define KERNEL(R, CC)                                                                                              \
    static AVX512_FN void kernel_##R##x##CC(int kc, const float *restrict pa, const float *restrict pb, float *C,  \
                                            size_t ldc, int m, int n, float alpha, float beta, int read_c)       \
    {                                                                                                              \
        micro_kernel_t(R, CC, kc, pa, pb, C, ldc, m, n, alpha, beta, read_c);                                      \
    }
KERNEL(12, 32)
KERNEL(8, 32)
KERNEL(4, 32)
KERNEL(12, 16)
KERNEL(8, 16)
KERNEL(4, 16)

typedef void (*kernel_fn)(int, const float *restrict, const float *restrict, float *, size_t, int, int, float, float,
                          int);
/* kernels[(m - 1) / 4][n > 16]: the smallest instance covering an m x n edge tile. */
static const kernel_fn kernels[3][2] = {
    {kernel_4x16, kernel_4x32}, {kernel_8x16, kernel_8x32}, {kernel_12x16, kernel_12x32}};

static inline void micro_kernel(int kc, const float *pa, const float *pb, float *C, size_t ldc, int m, int n,
                                float alpha, float beta, int read_c)
{
    kernels[(m - 1) / 4][n > 16](kc, pa, pb, C, ldc, m, n, alpha, beta, read_c);
}

/* K blocking: a function of K only (the determinism argument above relies on it). */
static int k_block(int K)
{
    int nk = (K + GEMM_KC - 1) / GEMM_KC;
    return (K + nk - 1) / nk;
}

/* Fallback when a packing buffer cannot be allocated: plain loops, fixed order. */
static void gemm_plain(int ta, int tb, int M, int N, int K, float alpha, const float *A, size_t lda, const float *B,
                       size_t ldb, float beta, float *C, size_t ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float s = 0.0f;
            for (int k = 0; k < K; k++)
                s += (ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]) *
                     (tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j]);
            float *c = C + (size_t)i * ldc + j;
            *c = beta == 0.0f ? alpha * s : alpha * s + beta * *c;
        }
}

/* One thread's GEMM (K >= 1, alpha != 0): the five loops of the header comment. */
static AVX512_FN void gemm_serial(int ta, int tb, int M, int N, int K, float alpha, const float *A, size_t lda,
                                  const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    const int kcb = k_block(K);
    const int ncmax = N < GEMM_NC ? (N + NR - 1) / NR * NR : GEMM_NC;
    const int mcmax = M < GEMM_MC ? (M + MR - 1) / MR * MR : GEMM_MC;
    pack_bufs *bufs = thread_bufs();
    float *pa = bufs ? grow(&bufs->a, &bufs->cap_a, (size_t)mcmax * kcb) : NULL;
    float *pb = bufs ? grow(&bufs->b, &bufs->cap_b, (size_t)ncmax * kcb) : NULL;
    if (!pa || !pb) {
        gemm_plain(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    for (int jc = 0; jc < N; jc += GEMM_NC) {
        const int nc = N - jc < GEMM_NC ? N - jc : GEMM_NC;
        for (int pc = 0; pc < K; pc += kcb) {
            const int kc = K - pc < kcb ? K - pc : kcb;
            const int first = pc == 0;
            const float be = first ? beta : 1.0f;
            const int read_c = !(first && beta == 0.0f);
            if (tb)
                for (int jr = 0; jr < nc; jr += NR) {
                    int n = nc - jr < NR ? nc - jr : NR;
                    pack_trans(NR, B + (size_t)(jc + jr) * ldb + pc, ldb, n, kc, pb + (size_t)jr * kc);
                }
            else
                pack_direct(NR, B + (size_t)pc * ldb + jc, ldb, nc, kc, pb);
            for (int ic = 0; ic < M; ic += GEMM_MC) {
                const int mc = M - ic < GEMM_MC ? M - ic : GEMM_MC;
                if (ta)
                    pack_direct(MR, A + (size_t)pc * lda + ic, lda, mc, kc, pa);
                else
                    for (int ir = 0; ir < mc; ir += MR) {
                        int m = mc - ir < MR ? mc - ir : MR;
                        pack_trans(MR, A + (size_t)(ic + ir) * lda + pc, lda, m, kc, pa + (size_t)ir * kc);
                    }
                for (int jr = 0; jr < nc; jr += NR) {
                    int n = nc - jr < NR ? nc - jr : NR;
                    for (int ir = 0; ir < mc; ir += MR) {
                        int m = mc - ir < MR ? mc - ir : MR;
                        micro_kernel(kc, pa + (size_t)ir * kc, pb + (size_t)jr * kc,
                                     C + (size_t)(ic + ir) * ldc + jc + jr, ldc, m, n, alpha, be, read_c);
                    }
                }
            }
        }
    }
}

/* C = beta C (K == 0 or alpha == 0: BLAS semantics, A and B are not read). */
static void scale_c(int M, int N, float beta, float *C, size_t ldc)
{
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        if (beta == 0.0f)
            memset(c, 0, (size_t)N * sizeof(float));
        else if (beta != 1.0f)
            for (int j = 0; j < N; j++)
                c[j] *= beta;
    }
}

/* Number of parts C is cut into: a power of two that depends on the shape only. */
static int gemm_parts(int M, int N, int K, int *split_n)
{
    *split_n = N >= M;
    if ((int64_t)M * N * K < PAR_MIN)
        return 1;
    int dim = *split_n ? N : M, min_part = *split_n ? PART_MIN_N : PART_MIN_M;
    int parts = 1;
    while (parts * 2 <= PAR_MAX_PARTS && dim / (parts * 2) >= min_part)
        parts *= 2;
    return parts;
}

void dsc_sgemm_avx512(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0 || alpha == 0.0f) {
        scale_c(M, N, beta, C, (size_t)ldc);
        return;
    }
    int split_n, parts = gemm_parts(M, N, K, &split_n);
    int nt = 1;
#ifdef _OPENMP
    if (parts > 1 && !omp_in_parallel())
        nt = omp_get_max_threads();
#endif
    if (parts == 1 || nt == 1) {
        /* One thread does all parts: since no element depends on its part, one call over
         * the whole of C gives the same bits as the parts one after another. */
        gemm_serial(trans_a, trans_b, M, N, K, alpha, A, (size_t)lda, B, (size_t)ldb, beta, C, (size_t)ldc);
        return;
    }
    /* Parts are whole micro-tiles, shared out as evenly as possible. */
    const int T = split_n ? NR : MR, dim = split_n ? N : M;
    const int tiles = (dim + T - 1) / T;
#pragma omp parallel for schedule(static) num_threads(nt < parts ? nt : parts)
    for (int p = 0; p < parts; p++) {
        int s = (int)((int64_t)tiles * p / parts) * T, e = (int)((int64_t)tiles * (p + 1) / parts) * T;
        if (e > dim)
            e = dim;
        if (e <= s)
            continue;
        if (split_n)
            gemm_serial(trans_a, trans_b, M, e - s, K, alpha, A, (size_t)lda,
                        trans_b ? B + (size_t)s * ldb : B + s, (size_t)ldb, beta, C + s, (size_t)ldc);
        else
            gemm_serial(trans_a, trans_b, e - s, N, K, alpha, trans_a ? A + s : A + (size_t)s * lda, (size_t)lda, B,
                        (size_t)ldb, beta, C + (size_t)s * ldc, (size_t)ldc);
    }
}

#else /* no x86 GCC/Clang: the kernel is not built */

int dsc_gemm_avx512_supported(void) { return 0; }

void dsc_sgemm_avx512(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *B, int ldb, float beta, float *C, int ldc)
{
    (void)trans_a, (void)trans_b, (void)M, (void)N, (void)K, (void)alpha, (void)A, (void)lda, (void)B, (void)ldb,
        (void)beta, (void)C, (void)ldc;
}
#endif
