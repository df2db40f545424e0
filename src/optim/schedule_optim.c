/* Glue: a schedule drives an optimizer's parameter groups (torch's scheduler.step() writing
 * param_group['lr'] and, for one-cycle/cyclic, 'momentum' or betas[0]). */
#include "descent/optim.h"
#include "descent/schedule.h"

dsc_status dsc_schedule_apply(dsc_schedule *s, dsc_optim *opt, const double *base_lrs, int64_t step)
{
    if (!s || !opt || !base_lrs)
        return DSC_ERROR(DSC_ERR_INVALID, "schedule apply: schedule, optimizer and base lrs are required");
    int ng = dsc_optim_num_groups(opt);
    double m;
    int cycles = dsc_schedule_momentum(s, step, &m);
    for (int g = 0; g < ng; g++) {
        DSC_TRY(dsc_optim_set_lr(opt, g, dsc_schedule_value(s, base_lrs[g], step)));
        if (!cycles)
            continue;
        /* torch OneCycleLR/CyclicLR: betas[0] for Adam-like optimizers, else momentum */
        double cur;
        const char *key = dsc_optim_get_hparam(opt, g, "beta1", &cur) == DSC_OK      ? "beta1"
                          : dsc_optim_get_hparam(opt, g, "momentum", &cur) == DSC_OK ? "momentum"
                                                                                      : NULL;
        dsc_clear_error();
        if (!key)
            return DSC_ERROR(DSC_ERR_INVALID,
                             "schedule %s cycles momentum, but optimizer %s has neither momentum nor beta1 "
                             "(use cycle_momentum=0)",
                             dsc_schedule_kind(s), dsc_optim_name(opt));
        DSC_TRY(dsc_optim_set_hparam(opt, g, key, m));
    }
    return DSC_OK;
}
