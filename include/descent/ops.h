/* descent — graph operations.
 *
 * Every op has a forward kernel, a VJP (reverse mode), a JVP (forward mode) and the
 * R-operator of its VJP (for Hessian-vector products); see src/ops/. Builders check shapes
 * and return -1 with a message naming the op and the shapes on a mismatch.
 * Conventions follow PyTorch: NCHW images, Linear weight [out, in], Conv weight
 * [out, in/groups, kh, kw], axis arguments may be negative. */
#ifndef DESCENT_OPS_H
#define DESCENT_OPS_H

#include "descent/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- elementwise, broadcasting (src/ops/elementwise.c) ---- */
dsc_id dsc_add(dsc_graph *g, dsc_id a, dsc_id b);
dsc_id dsc_sub(dsc_graph *g, dsc_id a, dsc_id b);
dsc_id dsc_mul(dsc_graph *g, dsc_id a, dsc_id b);
dsc_id dsc_div(dsc_graph *g, dsc_id a, dsc_id b);
dsc_id dsc_pow(dsc_graph *g, dsc_id a, dsc_id b);        /* a^b, a > 0 where b is not an integer */
dsc_id dsc_pow_scalar(dsc_graph *g, dsc_id a, float p);  /* a^p */
dsc_id dsc_add_scalar(dsc_graph *g, dsc_id a, float c);
dsc_id dsc_mul_scalar(dsc_graph *g, dsc_id a, float c);
dsc_id dsc_neg(dsc_graph *g, dsc_id a);
dsc_id dsc_abs(dsc_graph *g, dsc_id a);
dsc_id dsc_clamp(dsc_graph *g, dsc_id a, float lo, float hi); /* -INFINITY/INFINITY for none */
dsc_id dsc_exp(dsc_graph *g, dsc_id a);
dsc_id dsc_log(dsc_graph *g, dsc_id a);
dsc_id dsc_sqrt(dsc_graph *g, dsc_id a);
dsc_id dsc_square(dsc_graph *g, dsc_id a);
/* where(cond, a, b): cond is a 0/1 mask (no gradient), all three broadcast. */
dsc_id dsc_where(dsc_graph *g, dsc_id cond, dsc_id a, dsc_id b);
/* masked_fill(a, mask, value): value where mask != 0. */
dsc_id dsc_masked_fill(dsc_graph *g, dsc_id a, dsc_id mask, float value);

/* ---- activations (src/ops/activation.c) ---- */
dsc_id dsc_relu(dsc_graph *g, dsc_id x);
dsc_id dsc_leaky_relu(dsc_graph *g, dsc_id x, float negative_slope); /* torch default 0.01 */
dsc_id dsc_elu(dsc_graph *g, dsc_id x, float alpha);                 /* torch default 1.0 */
typedef enum dsc_gelu_approx { DSC_GELU_ERF = 0, DSC_GELU_TANH = 1 } dsc_gelu_approx;
dsc_id dsc_gelu(dsc_graph *g, dsc_id x, dsc_gelu_approx approx);
dsc_id dsc_silu(dsc_graph *g, dsc_id x);
dsc_id dsc_sigmoid(dsc_graph *g, dsc_id x);
dsc_id dsc_tanh(dsc_graph *g, dsc_id x);
dsc_id dsc_softplus(dsc_graph *g, dsc_id x, float beta, float threshold); /* torch: 1, 20 */
dsc_id dsc_softmax(dsc_graph *g, dsc_id x, int axis);
dsc_id dsc_log_softmax(dsc_graph *g, dsc_id x, int axis);

/* ---- reductions (src/ops/reduce.c) ----
 * axes: `naxes` axis indices (negative allowed); naxes = 0 reduces over all axes.
 * keepdim as in torch. Fixed summation order: results do not depend on thread count. */
dsc_id dsc_sum(dsc_graph *g, dsc_id x, int naxes, const int *axes, int keepdim);
dsc_id dsc_mean(dsc_graph *g, dsc_id x, int naxes, const int *axes, int keepdim);
dsc_id dsc_max(dsc_graph *g, dsc_id x, int axis, int keepdim); /* gradient to the first maximum */
dsc_id dsc_min(dsc_graph *g, dsc_id x, int axis, int keepdim);
dsc_id dsc_argmax(dsc_graph *g, dsc_id x, int axis, int keepdim); /* indices as float, no gradient */
dsc_id dsc_logsumexp(dsc_graph *g, dsc_id x, int axis, int keepdim);
dsc_id dsc_var(dsc_graph *g, dsc_id x, int naxes, const int *axes, int correction, int keepdim);

/* ---- linear algebra (src/ops/matmul.c) ---- */
/* torch.matmul semantics for ndim >= 2 with batch broadcasting: [..., n, k] @ [..., k, m]. */
dsc_id dsc_matmul(dsc_graph *g, dsc_id a, dsc_id b);
/* y = x W^T + b for x [..., in], W [out, in], b [out] or -1 (torch.nn.functional.linear). */
dsc_id dsc_linear(dsc_graph *g, dsc_id x, dsc_id w, dsc_id b);

/* ---- convolution and pooling (src/ops/conv.c, src/ops/pool.c) ---- */
typedef struct dsc_conv_opts {
    int stride[2], padding[2], dilation[2];
    int groups;
} dsc_conv_opts;
dsc_conv_opts dsc_conv_defaults(void); /* stride 1, padding 0, dilation 1, groups 1 */
/* x [N, C, L], w [O, C/groups, K], b [O] or -1. Uses index 0 of the opts arrays. */
dsc_id dsc_conv1d(dsc_graph *g, dsc_id x, dsc_id w, dsc_id b, dsc_conv_opts o);
/* x [N, C, H, W], w [O, C/groups, KH, KW], b [O] or -1. */
dsc_id dsc_conv2d(dsc_graph *g, dsc_id x, dsc_id w, dsc_id b, dsc_conv_opts o);
typedef struct dsc_pool_opts {
    int kernel[2], stride[2], padding[2];
    int ceil_mode;
    int count_include_pad; /* avg pool; torch default 1 */
} dsc_pool_opts;
/* stride defaults to kernel when given as 0. */
dsc_id dsc_max_pool2d(dsc_graph *g, dsc_id x, dsc_pool_opts o);
dsc_id dsc_avg_pool2d(dsc_graph *g, dsc_id x, dsc_pool_opts o);
dsc_id dsc_global_avg_pool2d(dsc_graph *g, dsc_id x); /* [N,C,H,W] -> [N,C] */

/* ---- normalization, dropout, embedding (src/ops/norm.c, src/ops/dropout.c, src/ops/embedding.c) ---- */
/* x [N, C] or [N, C, L] (1d) / [N, C, H, W] (2d). gamma, beta [C] or -1; running_mean/var
 * buffers [C] or -1 (track_running_stats=False). torch semantics: biased variance to
 * normalize, unbiased variance in the running estimate, running = (1-m) running + m batch. */
dsc_id dsc_batch_norm(dsc_graph *g, dsc_id x, dsc_id gamma, dsc_id beta, dsc_id running_mean,
                      dsc_id running_var, float momentum, float eps);
/* Normalizes over the last `nnorm` dims; gamma/beta have those dims' shape, or -1. */
dsc_id dsc_layer_norm(dsc_graph *g, dsc_id x, int nnorm, dsc_id gamma, dsc_id beta, float eps);
/* Inverted dropout: in training, zero with probability p and scale by 1/(1-p); identity in eval. */
dsc_id dsc_dropout(dsc_graph *g, dsc_id x, float p);
/* indices (float holding integers in [0, num)) of any shape -> [..., dim]; weight [num, dim]. */
dsc_id dsc_embedding(dsc_graph *g, dsc_id indices, dsc_id weight);

/* ---- shape ops (src/ops/shape.c) ---- */
dsc_id dsc_reshape(dsc_graph *g, dsc_id x, int ndim, const int64_t *shape); /* one -1 allowed; dim 0 may be 0 = keep batch */
dsc_id dsc_flatten(dsc_graph *g, dsc_id x); /* [N, ...] -> [N, prod(...)] */
dsc_id dsc_permute(dsc_graph *g, dsc_id x, const int *perm);
dsc_id dsc_transpose(dsc_graph *g, dsc_id x, int d0, int d1);
dsc_id dsc_slice(dsc_graph *g, dsc_id x, int axis, int64_t start, int64_t stop, int64_t step);
dsc_id dsc_concat(dsc_graph *g, int n, const dsc_id *xs, int axis);
/* Split into n parts of the given sizes along axis; writes n ids into out. */
dsc_status dsc_split(dsc_graph *g, dsc_id x, int axis, int n, const int64_t *sizes, dsc_id *out);
dsc_id dsc_expand(dsc_graph *g, dsc_id x, int ndim, const int64_t *shape);

/* ---- losses (src/ops/loss.c) ----
 * Targets are inputs of the graph. Class targets are floats holding integer class indices. */
typedef enum dsc_reduction { DSC_REDUCE_MEAN = 0, DSC_REDUCE_SUM = 1, DSC_REDUCE_NONE = 2 } dsc_reduction;
dsc_id dsc_mse_loss(dsc_graph *g, dsc_id pred, dsc_id target, dsc_reduction r);
dsc_id dsc_l1_loss(dsc_graph *g, dsc_id pred, dsc_id target, dsc_reduction r);
dsc_id dsc_huber_loss(dsc_graph *g, dsc_id pred, dsc_id target, float delta, dsc_reduction r);
dsc_id dsc_smooth_l1_loss(dsc_graph *g, dsc_id pred, dsc_id target, float beta, dsc_reduction r);
typedef struct dsc_ce_opts {
    dsc_reduction reduction;
    float label_smoothing; /* 0 = none */
    const float *class_weights; /* NULL or [C], copied */
    int ignore_index;      /* torch default -100 */
} dsc_ce_opts;
dsc_ce_opts dsc_ce_defaults(void);
/* logits [N, C] (or [N, C, d...]), target [N] (or [N, d...]) class indices. */
dsc_id dsc_cross_entropy(dsc_graph *g, dsc_id logits, dsc_id target, dsc_ce_opts o);
/* log_probs [N, C], target [N]. label_smoothing is ignored. */
dsc_id dsc_nll_loss(dsc_graph *g, dsc_id log_probs, dsc_id target, dsc_ce_opts o);
/* pos_weight: NULL or [C] (copied). */
dsc_id dsc_bce_with_logits(dsc_graph *g, dsc_id logits, dsc_id target, const float *pos_weight,
                           dsc_reduction r);
/* Binary hinge: targets in {-1, +1}: max(0, 1 - y f). */
dsc_id dsc_hinge_loss(dsc_graph *g, dsc_id scores, dsc_id target, dsc_reduction r);
/* torch.nn.MultiMarginLoss(p=1 or 2, margin). */
dsc_id dsc_multi_margin_loss(dsc_graph *g, dsc_id scores, dsc_id target, int p, float margin,
                             dsc_reduction r);
/* torch.nn.KLDivLoss: input is log-probabilities; log_target as in torch. reduction mean is
 * torch's 'batchmean' when batchmean = 1. */
dsc_id dsc_kl_div_loss(dsc_graph *g, dsc_id log_input, dsc_id target, int log_target, int batchmean,
                       dsc_reduction r);

#ifdef __cplusplus
}
#endif
#endif
