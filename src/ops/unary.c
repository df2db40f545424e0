/* Elementwise unary ops y = f(x) with parameters: scalar add/mul.
 *
 * For y = f(x): VJP x.grad += g f'(x); JVP y' = f'(x) x'; R-op x.grad_tangent += g f''(x) x'.
 * Each op supplies f, f' and f'' through unary_eval below. */
#include <math.h>
#include <string.h>

#include "descent/ops.h"
#include "ops/unary_common.h"

static void scalar_eval(const dsc_node *n, float x, float *y, float *d1, float *d2)
{
    float c = n->attr.f[0];
    if (n->attr.i[0] == 0) { /* add_scalar */
        *y = x + c;
        *d1 = 1.0f;
    } else { /* mul_scalar */
        *y = x * c;
        *d1 = c;
    }
    *d2 = 0.0f;
}

static const dsc_unary_def ADD_SCALAR = {scalar_eval};
static const dsc_op OP_ADD_SCALAR = DSC_UNARY_OP("add_scalar", NULL);
static const dsc_op OP_MUL_SCALAR = DSC_UNARY_OP("mul_scalar", NULL);

dsc_id dsc_add_scalar(dsc_graph *g, dsc_id a, float c)
{
    dsc_attr at;
    memset(&at, 0, sizeof at);
    at.f[0] = c;
    at.arr = NULL;
    return dsc_unary_add(g, &OP_ADD_SCALAR, &ADD_SCALAR, a, &at);
}

dsc_id dsc_mul_scalar(dsc_graph *g, dsc_id a, float c)
{
    dsc_attr at;
    memset(&at, 0, sizeof at);
    at.i[0] = 1;
    at.f[0] = c;
    return dsc_unary_add(g, &OP_MUL_SCALAR, &ADD_SCALAR, a, &at);
}
