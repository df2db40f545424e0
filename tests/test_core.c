/* Core: tensor views, shapes, errors, the Philox RNG (known-answer tests from Random123),
 * and GEMM against a naive reference. */
#include <stdlib.h>
#include <string.h>

#include "testing.h"

static void test_philox_known_answers(void)
{
    /* Known-answer vectors of Random123 (kat_vectors, philox4x32 10 rounds). */
    uint32_t o[4];
    dsc_philox4x32(0, 0, 0, o);
    CHECK(o[0] == 0x6627e8d5u && o[1] == 0xe169c58du && o[2] == 0xbc57ac4cu && o[3] == 0x9b00dbd8u);
    dsc_philox4x32(0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, o);
    CHECK(o[0] == 0x408f276du && o[1] == 0x41c83b0eu && o[2] == 0xa20bc7c6u && o[3] == 0x6d5451fdu);
    dsc_philox4x32(0x299f31d0a4093822ull, 0x85a308d3243f6a88ull, 0x0370734413198a2eull, o);
    CHECK(o[0] == 0xd16cfe09u && o[1] == 0x94fdccebu && o[2] == 0x5001e420u && o[3] == 0x24126ea1u);
}

static void test_rng_statistics_and_threads(void)
{
    size_t n = 1 << 20;
    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
    dsc_rng r1 = dsc_rng_seed(42), r2 = dsc_rng_seed(42);
    dsc_set_num_threads(1);
    dsc_rng_fill_normal(&r1, a, n, 0.0f, 1.0f);
    dsc_set_num_threads(2);
    dsc_rng_fill_normal(&r2, b, n, 0.0f, 1.0f);
    CHECK(memcmp(a, b, n * sizeof(float)) == 0);
    CHECK(r1.counter == r2.counter);
    double m = 0, v = 0;
    for (size_t i = 0; i < n; i++)
        m += a[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++)
        v += (a[i] - m) * (a[i] - m);
    v /= (double)n;
    /* Standard errors: mean 1/sqrt(n) ~ 1e-3, variance sqrt(2/n) ~ 1.4e-3; 5 sigma. */
    CHECK_NEAR(m, 0.0, 5e-3);
    CHECK_NEAR(v, 1.0, 7e-3);
    dsc_rng_fill_uniform(&r1, a, n, -2.0f, 3.0f);
    double lo = 1e9, hi = -1e9;
    m = 0;
    for (size_t i = 0; i < n; i++) {
        lo = a[i] < lo ? a[i] : lo;
        hi = a[i] > hi ? a[i] : hi;
        m += a[i];
    }
    CHECK(lo >= -2.0 && hi < 3.0);
    CHECK_NEAR(m / (double)n, 0.5, 5 * 5.0 / sqrt(12.0 * (double)n));
    /* Different seeds differ; forks differ from the parent. */
    dsc_rng s = dsc_rng_seed(43), f = dsc_rng_fork(&r1, 1);
    CHECK(dsc_rng_u64(&s) != dsc_rng_u64(&r2));
    CHECK(f.key != r1.key);
    int64_t perm[100];
    dsc_rng_permutation(&s, perm, 100);
    int seen[100] = {0};
    for (int i = 0; i < 100; i++)
        seen[perm[i]]++;
    for (int i = 0; i < 100; i++)
        CHECK(seen[i] == 1);
    free(a);
    free(b);
}

static void test_tensor_views(void)
{
    dsc_tensor t, v, w;
    int64_t d[3] = {2, 3, 4};
    CHECK_OK(dsc_tensor_new(&t, 3, d));
    for (int i = 0; i < 24; i++)
        t.data[i] = (float)i;
    int perm[3] = {2, 0, 1};
    CHECK_OK(dsc_tensor_permute(&t, perm, &v)); /* [4, 2, 3] */
    int64_t idx[3] = {3, 1, 2};                 /* = t[1, 2, 3] = 12 + 8 + 3 */
    CHECK(*dsc_tensor_at(&v, idx) == 23.0f);
    CHECK(!dsc_tensor_is_contiguous(&v));
    int64_t r[2] = {6, -1};
    CHECK_STATUS(dsc_tensor_reshape(&v, 2, r, &w), DSC_ERR_SHAPE);
    CHECK(strstr(dsc_last_error(), "not contiguous") != NULL);
    CHECK_OK(dsc_tensor_reshape(&t, 2, r, &w));
    CHECK(w.shape.dim[1] == 4);
    CHECK_OK(dsc_tensor_slice(&t, 2, 1, 4, 2, &v)); /* last dim: 1, 3 */
    int64_t i2[3] = {1, 2, 1};
    CHECK(v.shape.dim[2] == 2 && *dsc_tensor_at(&v, i2) == 23.0f);
    dsc_tensor c;
    CHECK_OK(dsc_tensor_contiguous(&v, &c));
    CHECK(c.data[0] == 1.0f && c.data[1] == 3.0f && c.data[11] == 23.0f);
    dsc_tensor_free(&c);
    int64_t e[3] = {5, 3, 4};
    CHECK_STATUS(dsc_tensor_expand(&t, 3, e, &v), DSC_ERR_SHAPE);
    CHECK_OK(dsc_tensor_slice(&t, 0, 0, 1, 1, &v));
    CHECK_OK(dsc_tensor_expand(&v, 3, e, &w));
    int64_t i3[3] = {4, 2, 3};
    CHECK(*dsc_tensor_at(&w, i3) == 11.0f && w.stride[0] == 0);
    CHECK_OK(dsc_tensor_transpose(&t, 0, -1, &v));
    CHECK(v.shape.dim[0] == 4 && v.shape.dim[2] == 2);
    int64_t bad[2] = {-3, 2};
    CHECK_STATUS(dsc_tensor_new(&w, 2, bad), DSC_ERR_SHAPE);
    int64_t huge[6] = {1 << 20, 1 << 20, 1 << 20, 1 << 20, 1 << 20, 1 << 20};
    CHECK_STATUS(dsc_tensor_new(&w, 6, huge), DSC_ERR_NOMEM);
    dsc_tensor_free(&t);
    /* Broadcast shapes. */
    dsc_shape a = dsc_shape_make(3, (int64_t[]){4, 1, 3}), b = dsc_shape_make(2, (int64_t[]){5, 1}), o;
    CHECK_OK(dsc_shape_broadcast(&a, &b, &o));
    CHECK(o.ndim == 3 && o.dim[0] == 4 && o.dim[1] == 5 && o.dim[2] == 3);
}

static void test_sgemm(void)
{
    int M = 37, N = 53, K = 129;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
            float *C = malloc(sizeof(float) * M * N), *R = malloc(sizeof(float) * M * N);
            dsc_test_fill(A, (size_t)M * K, 1, -1, 1);
            dsc_test_fill(B, (size_t)K * N, 2, -1, 1);
            dsc_test_fill(C, (size_t)M * N, 3, -1, 1);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double s = 0;
                    for (int k = 0; k < K; k++)
                        s += (double)(ta ? A[k * M + i] : A[i * K + k]) * (tb ? B[j * K + k] : B[k * N + j]);
                    R[i * N + j] = (float)(0.5 * s + 2.0 * C[i * N + j]);
                }
            dsc_sgemm(ta, tb, M, N, K, 0.5f, A, ta ? M : K, B, tb ? K : N, 2.0f, C, N);
            CHECK(dsc_test_max_rel(C, R, (size_t)M * N, 1.0) < 1e-5);
            free(A);
            free(B);
            free(C);
            free(R);
        }
}

DSC_TEST_MAIN("core", TEST(test_philox_known_answers), TEST(test_rng_statistics_and_threads),
              TEST(test_tensor_views), TEST(test_sgemm))
