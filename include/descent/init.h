/* descent — parameter initializers (the formulas of torch.nn.init; docs/ALGORITHMS.md).
 *
 * Each initializer fills a float array from a dsc_rng (Philox, so the result is a pure
 * function of the seed) and advances the generator. Shape-aware initializers compute
 * fan_in / fan_out like torch.nn.init._calculate_fan_in_and_fan_out: for a shape
 * [out, in, k1, k2, ...] fan_in = in * k1 * k2 * ..., fan_out = out * k1 * k2 * ...;
 * they need at least 2 dims. The numbers drawn are not torch's (a different generator);
 * the distributions are. */
#ifndef DESCENT_INIT_H
#define DESCENT_INIT_H

#include <stddef.h>
#include <stdint.h>

#include "descent/error.h"
#include "descent/graph.h"
#include "descent/rng.h"
#include "descent/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dsc_fan_mode { DSC_FAN_IN = 0, DSC_FAN_OUT = 1 } dsc_fan_mode;

/* torch.nn.init.calculate_gain's table. */
typedef enum dsc_nonlinearity {
    DSC_NL_LINEAR = 0,  /* 1 (also conv1d/2d/3d, conv_transpose*) */
    DSC_NL_SIGMOID,     /* 1 */
    DSC_NL_TANH,        /* 5/3 */
    DSC_NL_RELU,        /* sqrt(2) */
    DSC_NL_LEAKY_RELU,  /* sqrt(2 / (1 + slope^2)) */
    DSC_NL_SELU         /* 3/4 */
} dsc_nonlinearity;

/* Gain of a nonlinearity; param is leaky_relu's negative slope (torch uses 0.01 when None:
 * pass NAN for that), ignored otherwise. */
double dsc_calculate_gain(dsc_nonlinearity nl, double param);
/* Fans of a weight shape (ndim >= 2, else DSC_ERR_SHAPE). */
dsc_status dsc_calculate_fans(const dsc_shape *shape, int64_t *fan_in, int64_t *fan_out);

/* ---- plain distributions ---------------------------------------------------------- */
void dsc_init_constant(float *x, size_t n, float value);
/* U(a, b); a <= b. */
dsc_status dsc_init_uniform(dsc_rng *r, float *x, size_t n, double a, double b);
/* N(mean, std^2); std >= 0. */
dsc_status dsc_init_normal(dsc_rng *r, float *x, size_t n, double mean, double std);
/* N(mean, std^2) conditioned on [a, b] (torch.nn.init.trunc_normal_; torch's defaults are
 * mean 0, std 1, a -2, b 2). Exact inverse-CDF sampling in double; a < b. */
dsc_status dsc_init_trunc_normal(dsc_rng *r, float *x, size_t n, double mean, double std, double a,
                                 double b);

/* ---- fan-scaled (need the weight's shape) ---------------------------------------------- */
/* Glorot & Bengio 2010: std = gain * sqrt(2 / (fan_in + fan_out)); uniform bound sqrt(3) std. */
dsc_status dsc_init_xavier_uniform(dsc_rng *r, float *x, const dsc_shape *shape, double gain);
dsc_status dsc_init_xavier_normal(dsc_rng *r, float *x, const dsc_shape *shape, double gain);
/* He et al. 2015: std = gain(nl, a) / sqrt(fan); uniform bound sqrt(3) std. torch's defaults
 * are a = 0, mode fan_in, nonlinearity leaky_relu. */
dsc_status dsc_init_kaiming_uniform(dsc_rng *r, float *x, const dsc_shape *shape, double a,
                                    dsc_fan_mode mode, dsc_nonlinearity nl);
dsc_status dsc_init_kaiming_normal(dsc_rng *r, float *x, const dsc_shape *shape, double a,
                                   dsc_fan_mode mode, dsc_nonlinearity nl);
/* LeCun 1998: std = 1 / sqrt(fan_in) (plain normal; uniform bound sqrt(3 / fan_in)). */
dsc_status dsc_init_lecun_uniform(dsc_rng *r, float *x, const dsc_shape *shape);
dsc_status dsc_init_lecun_normal(dsc_rng *r, float *x, const dsc_shape *shape);
/* Saxe et al. 2014 (torch.nn.init.orthogonal_): the [rows = shape[0], cols = numel/rows]
 * matrix has orthonormal rows (rows <= cols) or columns (rows > cols), times gain. QR of a
 * Gaussian matrix by Householder in double, sign-corrected (diag R > 0) like torch. */
dsc_status dsc_init_orthogonal(dsc_rng *r, float *x, const dsc_shape *shape, double gain);
/* PyTorch's default for nn.Linear / nn.ConvNd weights: kaiming_uniform_(a = sqrt(5)), which
 * is U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
dsc_status dsc_init_torch_default_weight(dsc_rng *r, float *x, const dsc_shape *shape);
/* ... and biases: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with the weight's fan_in (0 when
 * fan_in is 0). */
dsc_status dsc_init_torch_default_bias(dsc_rng *r, float *x, size_t n, int64_t fan_in);

/* ---- a descriptor, for choosing an initializer at run time --------------------------- */
typedef enum dsc_init_kind {
    DSC_INIT_CONSTANT = 0, /* value */
    DSC_INIT_UNIFORM,      /* a, b */
    DSC_INIT_NORMAL,       /* mean, std */
    DSC_INIT_TRUNC_NORMAL, /* mean, std, a, b */
    DSC_INIT_XAVIER_UNIFORM, /* gain */
    DSC_INIT_XAVIER_NORMAL,  /* gain */
    DSC_INIT_KAIMING_UNIFORM, /* a, mode, nonlinearity */
    DSC_INIT_KAIMING_NORMAL,  /* a, mode, nonlinearity */
    DSC_INIT_LECUN_UNIFORM,
    DSC_INIT_LECUN_NORMAL,
    DSC_INIT_ORTHOGONAL,      /* gain */
    DSC_INIT_TORCH_DEFAULT,   /* weight: U(+-1/sqrt(fan_in)) */
    DSC_INIT_TORCH_BIAS       /* bias: U(+-1/sqrt(fan_in)), fan_in given */
} dsc_init_kind;

typedef struct dsc_init {
    dsc_init_kind kind;
    double value, a, b, mean, std, gain;
    dsc_fan_mode mode;
    dsc_nonlinearity nonlinearity;
    int64_t fan_in; /* DSC_INIT_TORCH_BIAS */
} dsc_init;

/* Descriptors with torch's defaults for each kind (uniform: a 0, b 1; normal: 0, 1;
 * trunc_normal: 0, 1, -2, 2; gains 1; kaiming: a 0, fan_in, leaky_relu). */
dsc_init dsc_init_make(dsc_init_kind kind);
/* Parse "NAME[:key=value,...]", e.g. "kaiming_normal:mode=fan_out,nonlinearity=relu",
 * "uniform:a=-0.1,b=0.1", "trunc_normal:std=0.02", "orthogonal:gain=1.41", "constant:0.5".
 * Names: constant zeros ones uniform normal trunc_normal xavier_uniform xavier_normal
 * kaiming_uniform kaiming_normal lecun_uniform lecun_normal orthogonal torch_default.
 * DSC_ERR_INVALID with a message naming the bad name/key/value. */
dsc_status dsc_init_parse(const char *text, dsc_init *out);
/* Fill x (numel(shape) floats) according to the descriptor. */
dsc_status dsc_init_apply(const dsc_init *init, dsc_rng *r, float *x, const dsc_shape *shape);
/* Fill the named parameter (or buffer) of a compiled graph. */
dsc_status dsc_init_graph_tensor(dsc_graph *g, const char *name, const dsc_init *init, dsc_rng *r);

#ifdef __cplusplus
}
#endif
#endif
