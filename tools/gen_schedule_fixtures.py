#!/usr/bin/python3
"""Reference tables for descent's learning-rate schedules and gradient clipping, from torch 1.13.

Writes tests/fixtures/schedule/*.txt (read by tests/test_schedule.c). Run with Debian's torch:
    /usr/bin/python3 tools/gen_schedule_fixtures.py

Schedule file format, one block per case:
    case NAME
    spec DESCENT_SPEC
    lr BASE_LR
    torch CONSTRUCTOR (for the reader)
    [metrics m_0 m_1 ...]          (reduce_on_plateau: metric fed after reading step k's lr)
    values N HAS_MOMENTUM
    k lr [momentum]                 (N lines, %.17g, so strtod gives the exact double)
    end
The lr of step k is optimizer.param_groups[0]['lr'] before the k-th optimizer.step(), i.e. after
k calls of scheduler.step() (step 0 = right after construction), as torch training loops see it.
Option sets include those of torch's own test/test_optim.py scheduler tests (TestLRScheduler).
"""
import math
import os
import warnings

import torch
from torch.optim import SGD
from torch.optim import lr_scheduler as S

warnings.filterwarnings("ignore")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "schedule")


def fmt(x):
    return "%.17g" % x


def opt_for(lr, momentum=0.9):
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    return SGD([p], lr=lr, momentum=momentum)


def table(make, lr, n, momentum=False, metrics=None):
    opt = opt_for(lr)
    # batch_scale cases: torch runs with the scaled lr (descent gets the unscaled one)
    if "# lr " in CTOR[0]:
        opt.param_groups[0]["lr"] = float(CTOR[0].split("# lr ")[1].split()[0])
    sched = make(opt)
    rows = []
    for k in range(n):
        g = opt.param_groups[0]
        rows.append((k, g["lr"], g["momentum"]) if momentum else (k, g["lr"]))
        if k == n - 1:
            break
        opt.step()
        if metrics is not None:
            sched.step(metrics[k])
        else:
            sched.step()
    return rows


def block(name, spec, lr, ctor, rows, momentum=False, metrics=None):
    out = ["case " + name, "spec " + spec, "lr " + fmt(lr), "torch " + ctor]
    if metrics is not None:
        out.append("metrics " + " ".join(fmt(m) for m in metrics))
    out.append("values %d %d" % (len(rows), 1 if momentum else 0))
    for r in rows:
        out.append(" ".join([str(r[0])] + [fmt(v) for v in r[1:]]))
    out.append("end")
    return "\n".join(out) + "\n"


CTOR = [""]


def case(name, spec, lr, n, ctor, momentum=False, metrics=None):
    CTOR[0] = ctor
    make = eval("lambda opt: " + ctor, {"S": S, "math": math})
    rows = table(make, lr, n, momentum, metrics)
    return block(name, spec, lr, ctor, rows, momentum, metrics)


FILES = {
    "step.txt": [
        ("torch_test_step", "step:step_size=3,gamma=0.1", 0.05, 12, "S.StepLR(opt, step_size=3, gamma=0.1)"),
        ("step2_half", "step:step_size=2,gamma=0.5", 1.0, 15, "S.StepLR(opt, step_size=2, gamma=0.5)"),
        ("step1_default_gamma", "step:step_size=1", 0.3, 10, "S.StepLR(opt, step_size=1)"),
    ],
    "multistep.txt": [
        ("torch_test_multistep", "multistep:milestones=2+5+9,gamma=0.1", 0.05, 12,
         "S.MultiStepLR(opt, milestones=[2, 5, 9], gamma=0.1)"),
        ("repeated", "multistep:milestones=2+2+6,gamma=0.5", 0.1, 10,
         "S.MultiStepLR(opt, milestones=[2, 2, 6], gamma=0.5)"),
    ],
    "constant.txt": [
        ("torch_test_constant", "constant:factor=0.5,total_iters=4", 0.05, 10,
         "S.ConstantLR(opt, factor=1.0/2, total_iters=4)"),
        ("torch_defaults", "constant:factor=0.3333333333333333,total_iters=5", 0.05, 10, "S.ConstantLR(opt)"),
    ],
    "linear.txt": [
        ("torch_test_linear", "linear:start_factor=0.5,total_iters=4", 0.05, 10,
         "S.LinearLR(opt, start_factor=1.0/2, total_iters=4)"),
        ("torch_defaults", "linear", 0.05, 10, "S.LinearLR(opt)"),
        ("decay_to_end", "linear:start_factor=0.9,end_factor=0.2,total_iters=7", 0.1, 12,
         "S.LinearLR(opt, start_factor=0.9, end_factor=0.2, total_iters=7)"),
    ],
    "exponential.txt": [
        ("torch_test_exp", "exponential:gamma=0.9", 0.05, 40, "S.ExponentialLR(opt, gamma=0.9)"),
        ("half", "exponential:gamma=0.5", 1.0, 20, "S.ExponentialLR(opt, gamma=0.5)"),
    ],
    "polynomial.txt": [
        ("torch_test_poly", "polynomial:total_iters=5,power=1", 0.05, 10,
         "S.PolynomialLR(opt, total_iters=5, power=1.0)"),
        ("square", "polynomial:total_iters=8,power=2", 0.1, 12, "S.PolynomialLR(opt, total_iters=8, power=2.0)"),
        ("sqrt", "polynomial:total_iters=6,power=0.5", 0.1, 9, "S.PolynomialLR(opt, total_iters=6, power=0.5)"),
        ("torch_test_poly_0.9", "polynomial:total_iters=5,power=0.9", 0.05, 10,
         "S.PolynomialLR(opt, total_iters=5, power=0.9)"),
    ],
    "cosine.txt": [
        ("torch_test_cos", "cosine:t_max=10,eta_min=1e-10", 0.05, 20,
         "S.CosineAnnealingLR(opt, T_max=10, eta_min=1e-10)"),
        ("past_t_max", "cosine:t_max=10,eta_min=0", 0.05, 45, "S.CosineAnnealingLR(opt, T_max=10, eta_min=0)"),
        ("eta_min", "cosine:t_max=7,eta_min=0.001", 0.1, 30, "S.CosineAnnealingLR(opt, T_max=7, eta_min=0.001)"),
        ("t_max_1", "cosine:t_max=1", 0.1, 6, "S.CosineAnnealingLR(opt, T_max=1)"),
    ],
    "cosine_restarts.txt": [
        ("t0_5", "cosine_restarts:t_0=5", 0.05, 22, "S.CosineAnnealingWarmRestarts(opt, T_0=5)"),
        ("t0_3_mult2", "cosine_restarts:t_0=3,t_mult=2,eta_min=0.01", 0.1, 50,
         "S.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, eta_min=0.01)"),
        ("torch_test_t0_10", "cosine_restarts:t_0=10,eta_min=1e-10", 0.05, 100,
         "S.CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=1, eta_min=1e-10)"),
        ("torch_test_t0_10_mult2", "cosine_restarts:t_0=10,t_mult=2,eta_min=1e-10", 0.05, 100,
         "S.CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=2, eta_min=1e-10)"),
        ("torch_test_t0_12_mult3", "cosine_restarts:t_0=12,t_mult=3,eta_min=1e-10", 0.05, 100,
         "S.CosineAnnealingWarmRestarts(opt, T_0=12, T_mult=3, eta_min=1e-10)"),
    ],
    "cyclic.txt": [
        ("triangular", "cyclic:base_lr=0.01,max_lr=0.1,step_size_up=4", 0.05, 25,
         "S.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=4)", True),
        ("triangular2", "cyclic:base_lr=1,max_lr=5,step_size_up=3,step_size_down=5,mode=triangular2", 0.05, 40,
         "S.CyclicLR(opt, base_lr=1, max_lr=5, step_size_up=3, step_size_down=5, mode='triangular2')", True),
        ("exp_range", "cyclic:base_lr=0.001,max_lr=0.01,step_size_up=2,mode=exp_range,gamma=0.9,base_momentum=0.7,max_momentum=0.95",
         0.05, 30,
         "S.CyclicLR(opt, base_lr=0.001, max_lr=0.01, step_size_up=2, mode='exp_range', gamma=0.9, base_momentum=0.7, max_momentum=0.95)",
         True),
        ("torch_test_triangular_momentum", "cyclic:base_lr=1,max_lr=5,step_size_up=4,base_momentum=1,max_momentum=5",
         0.05, 30, "S.CyclicLR(opt, base_lr=1, max_lr=5, step_size_up=4, base_momentum=1, max_momentum=5)", True),
        ("torch_test_triangular2", "cyclic:base_lr=1,max_lr=5,step_size_up=4,mode=triangular2,base_momentum=1,max_momentum=5",
         0.05, 40,
         "S.CyclicLR(opt, base_lr=1, max_lr=5, step_size_up=4, mode='triangular2', base_momentum=1, max_momentum=5)",
         True),
        ("torch_test_exp_range", "cyclic:base_lr=1,max_lr=5,step_size_up=4,mode=exp_range,gamma=0.9,base_momentum=1,max_momentum=5",
         0.05, 40,
         "S.CyclicLR(opt, base_lr=1, max_lr=5, step_size_up=4, mode='exp_range', gamma=0.9, base_momentum=1, max_momentum=5)",
         True),
        ("no_momentum", "cyclic:max_lr=0.5,step_size_up=3,cycle_momentum=0", 0.1, 15,
         "S.CyclicLR(opt, base_lr=0.1, max_lr=0.5, step_size_up=3, cycle_momentum=False)"),
    ],
    "onecycle.txt": [
        ("torch_test_cos", "onecycle:max_lr=25,final_div_factor=2,base_momentum=1,max_momentum=22,total_steps=10", 0.05,
         11, "S.OneCycleLR(opt, max_lr=25, final_div_factor=2, base_momentum=1, max_momentum=22, total_steps=10)", True),
        ("torch_test_linear", "onecycle:max_lr=25,final_div_factor=2,base_momentum=1,max_momentum=22,total_steps=10,anneal_strategy=linear",
         0.05, 11,
         "S.OneCycleLR(opt, max_lr=25, final_div_factor=2, base_momentum=1, max_momentum=22, total_steps=10, anneal_strategy='linear')",
         True),
        ("torch_test_three_phase", "onecycle:max_lr=25,final_div_factor=2,base_momentum=1,max_momentum=22,total_steps=10,anneal_strategy=linear,pct_start=0.4,three_phase=1",
         0.05, 11,
         "S.OneCycleLR(opt, max_lr=25, final_div_factor=2, base_momentum=1, max_momentum=22, total_steps=10, anneal_strategy='linear', pct_start=0.4, three_phase=True)",
         True),
        ("tiny_total", "onecycle:max_lr=0.1,total_steps=3", 0.05, 4, "S.OneCycleLR(opt, max_lr=0.1, total_steps=3)", True),
        ("cos_defaults", "onecycle:max_lr=0.1,total_steps=20", 0.05, 21, "S.OneCycleLR(opt, max_lr=0.1, total_steps=20)",
         True),
        ("linear", "onecycle:max_lr=0.1,total_steps=25,anneal_strategy=linear,pct_start=0.25,div_factor=10,final_div_factor=100",
         0.05, 26,
         "S.OneCycleLR(opt, max_lr=0.1, total_steps=25, anneal_strategy='linear', pct_start=0.25, div_factor=10, final_div_factor=100)",
         True),
        ("three_phase", "onecycle:max_lr=1,total_steps=30,three_phase=1,base_momentum=0.8,max_momentum=0.9", 0.05, 31,
         "S.OneCycleLR(opt, max_lr=1.0, total_steps=30, three_phase=True, base_momentum=0.8, max_momentum=0.9)", True),
        ("epochs", "onecycle:max_lr=0.5,epochs=4,steps_per_epoch=6,pct_start=0.4", 0.05, 24,
         "S.OneCycleLR(opt, max_lr=0.5, epochs=4, steps_per_epoch=6, pct_start=0.4)", True),
    ],
    "sequential.txt": [
        ("torch_test_constant_exp", "sequential:milestones=3,schedules=[constant:factor=0.1,total_iters=2]+[exponential:gamma=0.9]",
         0.05, 10,
         "S.SequentialLR(opt, schedulers=[S.ConstantLR(opt, factor=0.1, total_iters=2), S.ExponentialLR(opt, gamma=0.9)], milestones=[3])"),
        ("torch_test_constant_constant_exp",
         "sequential:milestones=2+5,schedules=[constant:factor=0.1,total_iters=2]+[constant:factor=0.2,total_iters=3]+[exponential:gamma=0.9]",
         0.05, 20,
         "S.SequentialLR(opt, schedulers=[S.ConstantLR(opt, factor=0.1, total_iters=2), S.ConstantLR(opt, factor=0.2, total_iters=3), S.ExponentialLR(opt, gamma=0.9)], milestones=[2, 5])"),
        ("cyclic_child", "sequential:milestones=4,schedules=[exponential:gamma=0.5]+[cyclic:base_lr=0.01,max_lr=0.1,step_size_up=3]",
         0.2, 14,
         "S.SequentialLR(opt, schedulers=[S.ExponentialLR(opt, gamma=0.5), S.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=3)], milestones=[4])"),
        ("torch_doc_example", "sequential:milestones=2,schedules=[constant:factor=0.1,total_iters=2]+[exponential:gamma=0.9]",
         1.0, 12,
         "S.SequentialLR(opt, schedulers=[S.ConstantLR(opt, factor=0.1, total_iters=2), S.ExponentialLR(opt, gamma=0.9)], milestones=[2])"),
        ("linear_cosine", "sequential:milestones=5,schedules=[linear:start_factor=0.1,total_iters=5]+[cosine:t_max=10]",
         0.05, 25,
         "S.SequentialLR(opt, schedulers=[S.LinearLR(opt, start_factor=0.1, total_iters=5), S.CosineAnnealingLR(opt, T_max=10)], milestones=[5])"),
        ("three", "sequential:milestones=3+8,schedules=[linear:start_factor=0.25,total_iters=3]+[step:step_size=2,gamma=0.5]+[multistep:milestones=2+4,gamma=0.1]",
         0.2, 16,
         "S.SequentialLR(opt, schedulers=[S.LinearLR(opt, start_factor=0.25, total_iters=3), S.StepLR(opt, step_size=2, gamma=0.5), S.MultiStepLR(opt, milestones=[2, 4], gamma=0.1)], milestones=[3, 8])"),
        ("warmup_cosine", "warmup:steps=5,start_factor=0.1,then=cosine:t_max=20,eta_min=0.001", 0.05, 30,
         "S.SequentialLR(opt, schedulers=[S.LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=5), S.CosineAnnealingLR(opt, T_max=20, eta_min=0.001)], milestones=[5])"),
        ("warmup_restarts", "warmup:steps=3,start_factor=0.5,then=[cosine_restarts:t_0=4,t_mult=2]", 0.1, 20,
         "S.SequentialLR(opt, schedulers=[S.LinearLR(opt, start_factor=0.5, end_factor=1.0, total_iters=3), S.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2)], milestones=[3])"),
    ],
    "chain.txt": [
        ("torch_test_linear_exp", "chain:schedules=[linear:start_factor=0.4,total_iters=3]+[exponential:gamma=0.9]", 0.05,
         10, "S.ChainedScheduler([S.LinearLR(opt, start_factor=0.4, total_iters=3), S.ExponentialLR(opt, gamma=0.9)])"),
        ("torch_test_multistep_exp", "chain:schedules=[multistep:milestones=2+5+9,gamma=0.1]+[exponential:gamma=0.9]", 0.05,
         10,
         "S.ChainedScheduler([S.MultiStepLR(opt, milestones=[2, 5, 9], gamma=0.1), S.ExponentialLR(opt, gamma=0.9)])"),
        ("torch_test_three", "chain:schedules=[exponential:gamma=0.9]+[constant:factor=0.2,total_iters=4]+[step:step_size=2,gamma=0.1]",
         0.05, 10,
         "S.ChainedScheduler([S.ExponentialLR(opt, gamma=0.9), S.ConstantLR(opt, factor=0.2, total_iters=4), S.StepLR(opt, gamma=0.1, step_size=2)])"),
        ("torch_doc_example", "chain:schedules=[constant:factor=0.1,total_iters=2]+[exponential:gamma=0.9]", 1.0, 12,
         "S.ChainedScheduler([S.ConstantLR(opt, factor=0.1, total_iters=2), S.ExponentialLR(opt, gamma=0.9)])"),
        ("linear_cosine", "chain:schedules=[linear:start_factor=0.5,total_iters=4]+[cosine:t_max=10,eta_min=0.001]", 0.05, 25,
         "S.ChainedScheduler([S.LinearLR(opt, start_factor=0.5, total_iters=4), S.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)])"),
        ("step_poly", "chain:schedules=[step:step_size=3,gamma=0.5]+[polynomial:total_iters=10,power=2]", 0.1, 14,
         "S.ChainedScheduler([S.StepLR(opt, step_size=3, gamma=0.5), S.PolynomialLR(opt, total_iters=10, power=2.0)])"),
    ],
    "batch_scale.txt": [
        # sqrt(1024/256) = 2 and 512/256 = 2 exactly: torch runs with lr 0.1
        ("sqrt_cosine", "batch_scale:rule=sqrt,batch=1024,base_batch=256,then=cosine:t_max=10", 0.05, 15,
         "S.CosineAnnealingLR(opt, T_max=10)  # lr 0.1 = 0.05 * sqrt(1024/256)"),
        ("linear_step", "batch_scale:rule=linear,batch=512,base_batch=256,then=step:step_size=2,gamma=0.5", 0.05, 10,
         "S.StepLR(opt, step_size=2, gamma=0.5)  # lr 0.1 = 0.05 * 512/256"),
    ],
}

PLATEAU = [
    # (name, spec, lr, torch kwargs, metrics)
    ("torch_test_min", "reduce_on_plateau:factor=0.5,patience=2,threshold=0.01", 0.5,
     "factor=0.5, patience=2, threshold=0.01",
     [10, 9, 9, 9, 9, 8.95, 8.95, 8.95, 8.95, 8, 8, 8, 8, 8, 7, 7, 7, 7, 7, 7]),
    ("max_abs_cooldown", "reduce_on_plateau:mode=max,factor=0.1,patience=1,threshold=0.5,threshold_mode=abs,cooldown=2",
     1.0, "mode='max', factor=0.1, patience=1, threshold=0.5, threshold_mode='abs', cooldown=2",
     [1, 2, 2.2, 2.4, 3, 3.1, 3.2, 3.3, 3.4, 3.5, 5, 5, 5, 5, 5, 5]),
    ("min_lr_eps", "reduce_on_plateau:factor=0.3,patience=0,min_lr=0.01,eps=1e-3", 0.2,
     "factor=0.3, patience=0, min_lr=0.01, eps=1e-3",
     [5, 5, 5, 5, 5, 5, 5, 5, 4, 5, 5]),
    ("min_abs_threshold", "reduce_on_plateau:threshold_mode=abs,threshold=0.1,patience=3,factor=0.5", 0.1,
     "threshold_mode='abs', threshold=0.1, patience=3, factor=0.5",
     [1.0, 0.95, 0.91, 0.85, 0.84, 0.83, 0.82, 0.7, 0.69, 0.68, 0.67, 0.66, 0.65, 0.64]),
    # torch's TestLRScheduler.test_reduce_lr_on_plateau1..7 option sets and metric sequences
    ("torch_test_1", "reduce_on_plateau:threshold_mode=abs,mode=min,threshold=0.01,patience=5,cooldown=5", 0.5,
     "threshold_mode='abs', mode='min', threshold=0.01, patience=5, cooldown=5", [10 - i * 0.0167 for i in range(20)]),
    ("torch_test_2", "reduce_on_plateau:threshold_mode=abs,mode=min,threshold=0.1,patience=5,cooldown=0", 0.5,
     "threshold_mode='abs', mode='min', threshold=0.1, patience=5, cooldown=0", [10 - i * 0.0165 for i in range(22)]),
    ("torch_test_3", "reduce_on_plateau:threshold_mode=abs,mode=max,patience=5,cooldown=5", 0.5,
     "threshold_mode='abs', mode='max', patience=5, cooldown=5", [-0.8] * 2 + [-0.234] * 20),
    ("torch_test_4", "reduce_on_plateau:mode=max,patience=3,threshold_mode=rel,threshold=0.1", 0.5,
     "mode='max', patience=3, threshold_mode='rel', threshold=0.1", [1.5 * (1.025 ** i) for i in range(20)]),
    ("torch_test_5", "reduce_on_plateau:mode=max,patience=3,threshold_mode=rel,threshold=0.1", 0.5,
     "mode='max', patience=3, threshold_mode='rel', threshold=0.1", [1.5 * (1.005 ** i) for i in range(20)]),
    ("torch_test_6", "reduce_on_plateau:mode=min,patience=3,threshold_mode=rel,threshold=0.1", 0.5,
     "mode='min', patience=3, threshold_mode='rel', threshold=0.1", [1.5 * (0.85 ** i) for i in range(20)]),
    ("torch_test_7", "reduce_on_plateau:mode=min,patience=3,threshold_mode=rel,threshold=0.1,cooldown=5", 0.05,
     "mode='min', patience=3, threshold_mode='rel', threshold=0.1, cooldown=5", [1] * 7 + [0.6] + [0.5] * 12),
]


def clip_fixture():
    """clip_grad_norm_ over three tensors of sizes 3, 5, 7 with g_i = s * sin(0.37 i + 0.1)."""
    sizes = [3, 5, 7]
    lines = ["# clip_grad_norm_(params, max_norm, norm_type) on g_i = scale * sin(0.37 i + 0.1), i = 0..14,",
             "# tensors of sizes 3, 5, 7. Per case: 'case DTYPE NORM_TYPE MAX_NORM SCALE', 'norm N', then the",
             "# 15 clipped values (%.17g)."]
    for dtype, dname in ((torch.float64, "f64"), (torch.float32, "f32")):
        for norm_type in (2.0, math.inf):
            for max_norm, scale in ((1.0, 1.0), (10.0, 1.0), (0.5, 3.0), (2.0, 1e-3)):
                vals = [scale * math.sin(0.37 * i + 0.1) for i in range(15)]
                params, off = [], 0
                for n in sizes:
                    p = torch.nn.Parameter(torch.zeros(n, dtype=dtype))
                    p.grad = torch.tensor(vals[off:off + n], dtype=dtype)
                    params.append(p)
                    off += n
                total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
                out = torch.cat([p.grad for p in params]).tolist()
                lines.append("case %s %s %s %s" % (dname, "inf" if norm_type == math.inf else "2", fmt(max_norm),
                                                    fmt(scale)))
                lines.append("norm " + fmt(float(total)))
                lines.append(" ".join(fmt(v) for v in out))
    return "\n".join(lines) + "\n"


def main():
    os.makedirs(OUT, exist_ok=True)
    for fname, cases in FILES.items():
        text = "# torch %s lr_scheduler tables, written by tools/gen_schedule_fixtures.py\n" % torch.__version__
        for c in cases:
            name, spec, lr, n, ctor = c[:5]
            mom = len(c) > 5 and c[5]
            text += case(name, spec, lr, n, ctor, momentum=mom)
        with open(os.path.join(OUT, fname), "w") as f:
            f.write(text)
    text = "# torch %s ReduceLROnPlateau tables, written by tools/gen_schedule_fixtures.py\n" % torch.__version__
    for name, spec, lr, kw, metrics in PLATEAU:
        ctor = "S.ReduceLROnPlateau(opt, %s)" % kw
        text += case(name, spec, lr, len(metrics), ctor, metrics=[float(m) for m in metrics])
    with open(os.path.join(OUT, "plateau.txt"), "w") as f:
        f.write(text)
    with open(os.path.join(OUT, "clip.txt"), "w") as f:
        f.write(clip_fixture())


if __name__ == "__main__":
    main()
