/* Philox4x32-10 counter-based RNG (Salmon, Moraes, Dror, Shaw: "Parallel random numbers:
 * as easy as 1, 2, 3", SC 2011). Constants are those of the paper and of Random123. */
#include "descent/rng.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void dsc_philox4x32(uint64_t key, uint64_t ctr_lo, uint64_t ctr_hi, uint32_t out[4])
{
    uint32_t c0 = (uint32_t)ctr_lo, c1 = (uint32_t)(ctr_lo >> 32);
    uint32_t c2 = (uint32_t)ctr_hi, c3 = (uint32_t)(ctr_hi >> 32);
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n1 = (uint32_t)p1;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        uint32_t n3 = (uint32_t)p0;
        c0 = n0;
        c1 = n1;
        c2 = n2;
        c3 = n3;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

dsc_rng dsc_rng_seed(uint64_t seed)
{
    dsc_rng r = {seed, 0};
    return r;
}

dsc_rng dsc_rng_fork(const dsc_rng *r, uint64_t stream)
{
    /* A new key derived from the parent key and the stream id through one Philox block,
     * so forked streams are unrelated to each other and to the parent. */
    uint32_t o[4];
    dsc_philox4x32(r->key, stream, 0xF0F0F0F0F0F0F0F0ull, o);
    dsc_rng f = {((uint64_t)o[1] << 32) | o[0], 0};
    return f;
}

static void next_block(dsc_rng *r, uint32_t out[4]) { dsc_philox4x32(r->key, r->counter++, 0, out); }

uint32_t dsc_rng_u32(dsc_rng *r)
{
    uint32_t o[4];
    next_block(r, o);
    return o[0];
}

uint64_t dsc_rng_u64(dsc_rng *r)
{
    uint32_t o[4];
    next_block(r, o);
    return ((uint64_t)o[1] << 32) | o[0];
}

static double u64_to_01(uint64_t x) { return (double)(x >> 11) * (1.0 / 9007199254740992.0); }

double dsc_rng_uniform01(dsc_rng *r) { return u64_to_01(dsc_rng_u64(r)); }

uint64_t dsc_rng_below(dsc_rng *r, uint64_t n)
{
    if (n <= 1)
        return 0;
    /* Rejection sampling removes modulo bias. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    for (;;) {
        uint64_t x = dsc_rng_u64(r);
        if (x < limit)
            return x % n;
    }
}

static void box_muller(uint32_t a, uint32_t b, double *z0, double *z1)
{
    /* u1 in (0,1] so log is finite. */
    double u1 = ((double)a + 1.0) * (1.0 / 4294967296.0);
    double u2 = (double)b * (1.0 / 4294967296.0);
    double rad = sqrt(-2.0 * log(u1));
    double th = 6.283185307179586476925 * u2;
    *z0 = rad * cos(th);
    *z1 = rad * sin(th);
}

double dsc_rng_normal(dsc_rng *r)
{
    uint32_t o[4];
    next_block(r, o);
    double z0, z1;
    box_muller(o[0], o[1], &z0, &z1);
    return z0;
}

static float u32_to_01f(uint32_t x) { return (float)(x >> 8) * (1.0f / 16777216.0f); }

void dsc_rng_fill_uniform(dsc_rng *r, float *out, size_t n, float lo, float hi)
{
    uint64_t base = r->counter;
    size_t blocks = (n + 3) / 4;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (long long b = 0; b < (long long)blocks; b++) {
        uint32_t o[4];
        dsc_philox4x32(r->key, base + (uint64_t)b, 0, o);
        for (int j = 0; j < 4; j++) {
            size_t i = (size_t)b * 4 + (size_t)j;
            if (i < n)
                out[i] = lo + (hi - lo) * u32_to_01f(o[j]);
        }
    }
    r->counter = base + blocks;
}

void dsc_rng_fill_normal(dsc_rng *r, float *out, size_t n, float mean, float std)
{
    uint64_t base = r->counter;
    size_t blocks = (n + 3) / 4;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (long long b = 0; b < (long long)blocks; b++) {
        uint32_t o[4];
        double z[4];
        dsc_philox4x32(r->key, base + (uint64_t)b, 0, o);
        box_muller(o[0], o[1], &z[0], &z[1]);
        box_muller(o[2], o[3], &z[2], &z[3]);
        for (int j = 0; j < 4; j++) {
            size_t i = (size_t)b * 4 + (size_t)j;
            if (i < n)
                out[i] = mean + std * (float)z[j];
        }
    }
    r->counter = base + blocks;
}

void dsc_rng_fill_bernoulli(dsc_rng *r, float *out, size_t n, float p)
{
    uint64_t base = r->counter;
    size_t blocks = (n + 3) / 4;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (long long b = 0; b < (long long)blocks; b++) {
        uint32_t o[4];
        dsc_philox4x32(r->key, base + (uint64_t)b, 0, o);
        for (int j = 0; j < 4; j++) {
            size_t i = (size_t)b * 4 + (size_t)j;
            if (i < n)
                out[i] = u32_to_01f(o[j]) < p ? 1.0f : 0.0f;
        }
    }
    r->counter = base + blocks;
}

void dsc_rng_permutation(dsc_rng *r, int64_t *perm, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)dsc_rng_below(r, (uint64_t)i + 1);
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

float dsc_rng_uniform_at(uint64_t key, uint64_t stream, uint64_t index)
{
    uint32_t o[4];
    dsc_philox4x32(key, index >> 2, stream, o);
    return u32_to_01f(o[index & 3]);
}
