/* descent — built-in derivative checker (finite differences against VJP, JVP and HVP).
 *
 * For a compiled graph with scalar loss L(theta, x) over its parameters and the inputs that
 * require gradients, with random unit directions v (seeded):
 *   vjp: <grad L, v>                 vs  (L(+eps v) - L(-eps v)) / (2 eps)
 *   jvp: tangent of every node       vs  (node(+eps v) - node(-eps v)) / (2 eps)
 *        and tangent of L            vs  <grad L, v> (an identity: tight)
 *   hvp: H v (parameters)            vs  (grad(+eps v) - grad(-eps v)) / (2 eps)
 * Errors are relative: |a - b| / max(|b|, floor) (norms for vectors). Random ops see the same
 * draws in every evaluation. Central differences in float32 are accurate to about
 * eps^2 * |f'''| + ulp(f) / eps; the default eps = 1e-2 with loss values of order one gives
 * errors near 1e-3, so tests use tolerances of 1e-2 (documented in docs/ALGORITHMS.md). */
#ifndef DESCENT_GRADCHECK_H
#define DESCENT_GRADCHECK_H

#include "descent/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dsc_gradcheck_opts {
    float eps;        /* finite-difference step (default 1e-2) */
    int directions;   /* random directions (default 3) */
    uint64_t seed;    /* for the directions */
    int check_jvp, check_hvp; /* default 1, 1 */
    float floor;      /* denominator floor for relative errors (default 1e-3) */
} dsc_gradcheck_opts;

typedef struct dsc_gradcheck_result {
    double vjp_err;      /* worst relative error of directional derivatives */
    double jvp_err;      /* worst relative error (norm) of node tangents vs finite differences */
    double jvp_loss_err; /* |dL tangent - <grad, v>| relative */
    double hvp_err;      /* worst relative error (norm) of H v vs gradient differences */
    double hvp_sym_err;  /* |u'Hv - v'Hu| relative */
    int worst_node;      /* node with the worst JVP error */
} dsc_gradcheck_result;

dsc_gradcheck_opts dsc_gradcheck_defaults(void);
/* Runs the checks on the graph's current parameters and inputs (restored afterwards). */
dsc_status dsc_gradcheck(dsc_graph *g, const dsc_gradcheck_opts *opts, dsc_gradcheck_result *res);

#ifdef __cplusplus
}
#endif
#endif
