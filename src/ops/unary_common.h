/* Generic elementwise unary op: an op supplies one function computing y = f(x), f'(x) and
 * f''(x) for one element (with the node for its attributes); this file turns it into
 * forward, VJP, JVP and R-op kernels. The definition pointer travels in attr.i[15].
 *   VJP   x.grad += g f'(x)
 *   JVP   y' = f'(x) x'
 *   R-op  x.grad_tangent += g f''(x) x'   (vjp_rop; NULL when f'' = 0 everywhere) */
#ifndef DSC_OPS_UNARY_COMMON_H
#define DSC_OPS_UNARY_COMMON_H

#include <stdint.h>
#include <string.h>

#include "autodiff/graph_internal.h"

typedef struct dsc_unary_def {
    void (*eval)(const dsc_node *n, float x, float *y, float *d1, float *d2);
} dsc_unary_def;

static inline const dsc_unary_def *dsc_unary_of(const dsc_node *n)
{
    return (const dsc_unary_def *)(uintptr_t)n->attr.i[15];
}

dsc_status dsc_unary_infer(dsc_graph *g, dsc_node *n);
void dsc_unary_forward(dsc_graph *g, dsc_node *n);
void dsc_unary_vjp(dsc_graph *g, dsc_node *n);
void dsc_unary_jvp(dsc_graph *g, dsc_node *n);
void dsc_unary_vjp_rop(dsc_graph *g, dsc_node *n);

/* An op table entry for a unary op; rop is dsc_unary_vjp_rop or NULL (linear f). */
#define DSC_UNARY_OP(name, rop) \
    {(name), dsc_unary_infer, dsc_unary_forward, dsc_unary_vjp, dsc_unary_jvp, (rop), NULL, NULL, 0}

/* Adds the node; attr may be NULL. */
dsc_id dsc_unary_add(dsc_graph *g, const dsc_op *op, const dsc_unary_def *def, dsc_id x, const dsc_attr *attr);

#endif
