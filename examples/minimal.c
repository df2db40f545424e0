/* The README's example: fit y = sin(3x) with a 1-32-1 tanh MLP using the engine directly. */
#include <math.h>
#include <stdio.h>

#include "descent/descent.h"

int main(void)
{
    enum { B = 64 };
    dsc_graph *g = dsc_graph_new();
    dsc_id x = dsc_input(g, "x", 2, (int64_t[]){B, 1}), y = dsc_input(g, "y", 2, (int64_t[]){B, 1});
    dsc_id w1 = dsc_param(g, "0.weight", 2, (int64_t[]){32, 1}), b1 = dsc_param(g, "0.bias", 1, (int64_t[]){32});
    dsc_id w2 = dsc_param(g, "2.weight", 2, (int64_t[]){1, 32}), b2 = dsc_param(g, "2.bias", 1, (int64_t[]){1});
    dsc_id pred = dsc_linear(g, dsc_tanh(g, dsc_linear(g, x, w1, b1)), w2, b2);
    if (dsc_graph_compile(g, dsc_mse_loss(g, pred, y, DSC_REDUCE_MEAN)) != DSC_OK)
        return fprintf(stderr, "%s\n", dsc_last_error()), 1;
    size_t n;
    float *theta = dsc_graph_params(g, &n), *grad = dsc_graph_grads(g, NULL), xs[B], ys[B];
    dsc_rng rng = dsc_rng_seed(0);
    dsc_rng_fill_uniform(&rng, theta, n, -0.5f, 0.5f);
    for (int step = 0; step <= 2000; step++) {
        dsc_rng_fill_uniform(&rng, xs, B, -1.0f, 1.0f);
        for (int i = 0; i < B; i++)
            ys[i] = sinf(3.0f * xs[i]);
        dsc_graph_set_input(g, x, xs, B);
        dsc_graph_set_input(g, y, ys, B);
        dsc_graph_forward(g);
        dsc_graph_backward(g);
        for (size_t k = 0; k < n; k++)
            theta[k] -= 0.1f * grad[k]; /* plain gradient descent on the flat buffer */
        if (step % 500 == 0)
            printf("step %4d  mse %.5f\n", step, dsc_graph_loss(g));
    }
    dsc_graph_free(g);
    return 0;
}
