/* Muon: Newton-Schulz orthogonalized momentum for matrix parameters. Each parameter group is
 * one matrix (option rows; one slice). Update rule in optim_muon_tmpl.h. */
#include <string.h>

#include "descent/runtime.h"
#include "optim/optim_internal.h"

/* No FMA contraction (see optim_sgd.c). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

enum { MU_LR, MU_MOMENTUM, MU_NESTEROV, MU_NS_STEPS, MU_WD, MU_ROWS };

/* Row-major GEMMs: float through dsc_sgemm (deterministic for any thread count), double with a
 * plain loop in a fixed order. */
static void gemm_f32(int ta, int tb, size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
                     const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    dsc_sgemm(ta, tb, (int)M, (int)N, (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

static void gemm_f64(int ta, int tb, size_t M, size_t N, size_t K, double alpha, const double *A, size_t lda,
                     const double *B, size_t ldb, double beta, double *C, size_t ldc)
{
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            double s = 0;
            for (size_t k = 0; k < K; k++)
                s += (ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
            C[i * ldc + j] = beta == 0 ? alpha * s : beta * C[i * ldc + j] + alpha * s;
        }
}

#define T float
#define SFX _f32
#define MUON_GEMM gemm_f32
#include "optim/optim_muon_tmpl.h"
#undef T
#undef SFX
#undef MUON_GEMM
#define T double
#define SFX _f64
#define MUON_GEMM gemm_f64
#include "optim/optim_muon_tmpl.h"
#undef T
#undef SFX
#undef MUON_GEMM

static const optim_key muon_keys[] = {
    K_LR(0.02),
    KREAL("momentum", 0.95, 0, 1, 0, 1),
    KBOOL("nesterov", 1),
    KREAL("ns_steps", 5, 0, 100, 0, 0),
    K_WD(0),
    KREAL("rows", 0, 0, 1e12, 0, 0),
};

static size_t muon_scratch(const double *hp, size_t len)
{
    const size_t R = hp[MU_ROWS] > 0 ? (size_t)hp[MU_ROWS] : 1, C = R ? len / R : 0;
    const size_t m = R < C ? R : C, k = R < C ? C : R;
    return 2 * m * k + 3 * m * m;
}

static dsc_status muon_check(const double *hp)
{
    if (hp[MU_ROWS] != floor(hp[MU_ROWS]) || hp[MU_NS_STEPS] != floor(hp[MU_NS_STEPS]))
        return DSC_ERROR(DSC_ERR_RANGE, "muon: options 'rows' and 'ns_steps' must be integers");
    return DSC_OK;
}

static dsc_status muon_layout(const optim_group *g, int index)
{
    size_t len = 0;
    for (int s = 0; s < g->nseg; s++)
        len += g->segs[s].len;
    if (g->nseg > 1)
        return DSC_ERROR(DSC_ERR_INVALID, "muon: group %d is split into %d slices by the groups added after it; each "
                                          "group must be one matrix (give group 0 to one matrix, or add a group for "
                                          "every matrix)",
                         index, g->nseg);
    const size_t R = g->hp[MU_ROWS] > 0 ? (size_t)g->hp[MU_ROWS] : 1;
    if (len % R)
        return DSC_ERROR(DSC_ERR_SHAPE, "muon: group %d has %zu elements, not a multiple of rows=%zu", index, len, R);
    return DSC_OK;
}

const optim_algo dsc_optim_algo_muon = {
    .name = "muon",
    .summary = "Muon (Jordan et al. 2024): Newton-Schulz orthogonalized Nesterov momentum; one matrix per "
               "group (rows=R)",
    .keys = muon_keys,
    .n_keys = (int)(sizeof muon_keys / sizeof muon_keys[0]),
    .state_names = {"momentum_buffer"},
    .n_state = 1,
    .check = muon_check,
    .step = {muon_step_f32, muon_step_f64},
    .scratch_len = muon_scratch,
    .check_layout = muon_layout,
};
