/* Shared macros of the optimizer kernel templates. A template (optim_*_tmpl.h) is included
 * once with T = float, SFX = _f32 and once with T = double, SFX = _f64, so that each update
 * rule is written once for both dtypes. Hyperparameters are float64; like torch, a kernel
 * converts each scalar coefficient to T once ((T)(1 - beta1), (T)(-lr), ...) and does the
 * elementwise arithmetic in T, in the order of torch's single-tensor code. */
#ifndef DSC_OPTIM_TMPL_BEGIN_H
#define DSC_OPTIM_TMPL_BEGIN_H

#define OPT_CAT_(a, b) a##b
#define OPT_CAT(a, b) OPT_CAT_(a, b)

/* for each slice of group g, for i over its elements: body (parallel on large slices). */
#define OPT_FOR_EACH(...)                                                                     \
    for (int s_ = 0; s_ < g->nseg; s_++) {                                                    \
        const size_t o_ = g->segs[s_].off, e_ = o_ + g->segs[s_].len;                         \
        _Pragma("omp parallel for schedule(static) if (e_ - o_ > OPT_PAR_MIN)")               \
        for (size_t i = o_; i < e_; i++) {                                                    \
            __VA_ARGS__                                                                       \
        }                                                                                     \
    }

#endif
