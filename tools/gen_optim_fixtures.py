#!/usr/bin/python3
"""Reference trajectories of torch.optim optimizers on the 2-D Rosenbrock function.

Run with Debian's torch 1.13:  /usr/bin/python3 tools/gen_optim_fixtures.py
Writes tests/fixtures/optim/<case>.txt (one line per recorded step: step, x, y, f, all %.17g),
<case>.f32.txt (the same with float32 parameters and gradients; x, y are the float32 values)
and tests/fixtures/optim/cases.txt (case name and descent spec), read by tests/test_optim.c.

Reproducibility choices (see docs/ALGORITHMS.md):
- float64 parameters and torch.set_default_dtype(torch.float64), so that torch's scalar state
  tensors (NAdam's mu_product, ASGD's eta and mu, the step counters) are float64 too;
- ATEN_CPU_CAPABILITY=default, so that ATen's add/addcmul kernels do not use fused
  multiply-adds (with AVX2 dispatch they do, which changes the last bits by machine);
- the gradient is computed with Python floats in the exact operation order of
  src/optim/testfns.c (checked against autograd), so both sides see identical gradients.
"""
import os
os.environ["ATEN_CPU_CAPABILITY"] = "default"
import math  # noqa: E402
import sys  # noqa: E402

import torch  # noqa: E402

torch.set_default_dtype(torch.float64)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "optim")
STEPS = [1, 2, 3, 10, 100, 1000]
X0 = (1.5, 1.5)


def rosenbrock(x):
    """f and gradient, same operation order as testfns.c (TF_ROSENBROCK)."""
    d = len(x)
    g = [0.0] * d
    v = 0.0
    for i in range(d - 1):
        a = x[i + 1] - x[i] * x[i]
        b = 1 - x[i]
        v = v + (100 * a * a + b * b)
        g[i] = g[i] + (-400 * x[i] * a - 2 * b)
        g[i + 1] = g[i + 1] + 200 * a
    return v, g


def check_gradient():
    x = torch.tensor([1.3, 0.7, -0.4], requires_grad=True)
    f = sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(2))
    f.backward()
    v, g = rosenbrock([1.3, 0.7, -0.4])
    assert abs(v - f.item()) < 1e-12 and all(abs(a - b) < 1e-12 for a, b in zip(g, x.grad.tolist())), (v, g, x.grad)


class Torch2Variant:
    """torch 2.x's NAdam / RAdam step with decoupled_weight_decay (and NAdam's corrected
    mu_product_next), transcribed from torch 2.x's _single_tensor_nadam/_single_tensor_radam with
    torch 1.13 tensor ops (including torch 2.x's exp_avg.lerp_). torch 1.13 lacks these options."""

    def __init__(self, params, kind, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3):
        self.p = list(params)[0]
        self.kind, self.lr, self.betas, self.eps, self.wd, self.md = kind, lr, betas, eps, weight_decay, momentum_decay
        self.step_n = 0
        self.exp_avg = torch.zeros_like(self.p)
        self.exp_avg_sq = torch.zeros_like(self.p)
        self.mu_product = torch.tensor(1.0, dtype=torch.float64)

    @torch.no_grad()
    def step(self, closure):
        closure()
        param, grad = self.p, self.p.grad
        beta1, beta2 = self.betas
        lr, eps, wd = self.lr, self.eps, self.wd
        self.step_n += 1
        step = float(self.step_n)
        if wd != 0:
            param.mul_(1 - lr * wd)  # decoupled_weight_decay=True
        if self.kind == "nadam":
            bias_correction2 = 1 - beta2 ** step
            mu = beta1 * (1. - 0.5 * (0.96 ** (step * self.md)))
            mu_next = beta1 * (1. - 0.5 * (0.96 ** ((step + 1) * self.md)))
            self.mu_product *= mu
            self.exp_avg.lerp_(grad, 1 - beta1)
            self.exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            denom = self.exp_avg_sq.div(bias_correction2).sqrt()
            denom.add_(eps)
            mu_product_next = self.mu_product.item() * mu_next
            param.addcdiv_(grad, denom, value=(-lr * (1. - mu) / (1. - self.mu_product.item())))
            param.addcdiv_(self.exp_avg, denom, value=(-lr * mu_next) / (1. - mu_product_next))
        else:
            self.exp_avg.lerp_(grad, 1 - beta1)
            self.exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            bias_correction1 = 1 - beta1 ** step
            bias_correction2 = 1 - beta2 ** step
            bias_corrected_exp_avg = self.exp_avg / bias_correction1
            rho_inf = 2 / (1 - beta2) - 1
            rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
            if rho_t > 5.0:
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                adaptive_lr = (bias_correction2 ** 0.5) / self.exp_avg_sq.sqrt().add_(eps)
                param.add_(bias_corrected_exp_avg * lr * adaptive_lr * rect, alpha=-1.0)
            else:
                param.add_(bias_corrected_exp_avg * lr, alpha=-1.0)


O = torch.optim
# case name, descent spec, torch constructor
CASES = [
    ("sgd", "sgd:lr=2e-4", lambda p: O.SGD(p, lr=2e-4)),
    ("sgd_momentum", "sgd:lr=2e-4,momentum=0.9", lambda p: O.SGD(p, lr=2e-4, momentum=0.9)),
    ("sgd_nesterov", "sgd:lr=2e-4,momentum=0.9,nesterov=1", lambda p: O.SGD(p, lr=2e-4, momentum=0.9, nesterov=True)),
    ("sgd_dampening_wd", "sgd:lr=2e-4,momentum=0.5,dampening=0.3,weight_decay=0.01",
     lambda p: O.SGD(p, lr=2e-4, momentum=0.5, dampening=0.3, weight_decay=0.01)),
    ("adagrad", "adagrad:lr=0.1", lambda p: O.Adagrad(p, lr=0.1)),
    ("adagrad_opts", "adagrad:lr=0.1,lr_decay=0.01,initial_accumulator_value=0.1,weight_decay=0.01,eps=1e-8",
     lambda p: O.Adagrad(p, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.01, eps=1e-8)),
    ("rmsprop", "rmsprop:lr=1e-3", lambda p: O.RMSprop(p, lr=1e-3)),
    ("rmsprop_centered_momentum", "rmsprop:lr=1e-3,alpha=0.9,centered=1,momentum=0.9,weight_decay=0.01",
     lambda p: O.RMSprop(p, lr=1e-3, alpha=0.9, centered=True, momentum=0.9, weight_decay=0.01)),
    ("rmsprop_centered", "rmsprop:lr=1e-3,centered=1", lambda p: O.RMSprop(p, lr=1e-3, centered=True)),
    ("adadelta", "adadelta", lambda p: O.Adadelta(p)),
    ("adadelta_opts", "adadelta:lr=0.5,rho=0.95,eps=1e-5,weight_decay=0.01",
     lambda p: O.Adadelta(p, lr=0.5, rho=0.95, eps=1e-5, weight_decay=0.01)),
    ("adam", "adam:lr=0.01", lambda p: O.Adam(p, lr=0.01)),
    ("adam_amsgrad", "adam:lr=0.01,beta1=0.8,amsgrad=1,weight_decay=0.01",
     lambda p: O.Adam(p, lr=0.01, betas=(0.8, 0.999), amsgrad=True, weight_decay=0.01)),
    ("adamw", "adamw:lr=0.01", lambda p: O.AdamW(p, lr=0.01)),
    ("adamw_amsgrad", "adamw:lr=0.01,weight_decay=0.1,amsgrad=1,beta2=0.99",
     lambda p: O.AdamW(p, lr=0.01, weight_decay=0.1, amsgrad=True, betas=(0.9, 0.99))),
    ("adamax", "adamax:lr=0.01", lambda p: O.Adamax(p, lr=0.01)),
    ("adamax_opts", "adamax:lr=0.01,beta2=0.99,weight_decay=0.01,eps=1e-6",
     lambda p: O.Adamax(p, lr=0.01, betas=(0.9, 0.99), weight_decay=0.01, eps=1e-6)),
    ("nadam", "nadam:lr=0.01", lambda p: O.NAdam(p, lr=0.01)),
    ("nadam_opts", "nadam:lr=0.01,momentum_decay=0.01,weight_decay=0.01,beta1=0.95",
     lambda p: O.NAdam(p, lr=0.01, momentum_decay=0.01, weight_decay=0.01, betas=(0.95, 0.999))),
    ("radam", "radam:lr=5e-4", lambda p: O.RAdam(p, lr=5e-4)),
    ("radam_opts", "radam:lr=5e-4,weight_decay=0.01,beta2=0.99",
     lambda p: O.RAdam(p, lr=5e-4, weight_decay=0.01, betas=(0.9, 0.99))),
    ("rprop", "rprop", lambda p: O.Rprop(p)),
    ("rprop_opts", "rprop:lr=1e-3,eta_minus=0.3,eta_plus=1.5,step_min=1e-4,step_max=0.1",
     lambda p: O.Rprop(p, lr=1e-3, etas=(0.3, 1.5), step_sizes=(1e-4, 0.1))),
    ("asgd", "asgd:lr=2e-4", lambda p: O.ASGD(p, lr=2e-4)),
    ("lbfgs", "lbfgs:max_iter=2", lambda p: O.LBFGS(p, max_iter=2)),
    ("lbfgs_opts", "lbfgs:lr=0.5,max_iter=5,history_size=2,tolerance_grad=1e-12,tolerance_change=1e-14",
     lambda p: O.LBFGS(p, lr=0.5, max_iter=5, history_size=2, tolerance_grad=1e-12, tolerance_change=1e-14)),
    ("lbfgs_wolfe", "lbfgs:line_search_fn=strong_wolfe", lambda p: O.LBFGS(p, line_search_fn="strong_wolfe")),
    ("lbfgs_wolfe_opts", "lbfgs:max_iter=3,history_size=3,line_search_fn=strong_wolfe,tolerance_change=1e-12",
     lambda p: O.LBFGS(p, max_iter=3, history_size=3, line_search_fn="strong_wolfe", tolerance_change=1e-12)),
    ("nadam_torch2", "nadam:lr=0.01,weight_decay=0.01,decoupled_weight_decay=1,fix_mu_product=1",
     lambda p: Torch2Variant(p, "nadam", lr=0.01, weight_decay=0.01)),
    ("radam_torch2", "radam:lr=5e-4,weight_decay=0.01,decoupled_weight_decay=1",
     lambda p: Torch2Variant(p, "radam", lr=5e-4, weight_decay=0.01)),
    ("asgd_opts", "asgd:lr=2e-4,lambd=1e-3,alpha=0.5,t0=50,weight_decay=0.01",
     lambda p: O.ASGD(p, lr=2e-4, lambd=1e-3, alpha=0.5, t0=50, weight_decay=0.01)),
]


class Point(torch.nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = torch.nn.Parameter(p)


# Iterate averaging (descent's average:...,base=[...]) against torch.optim.swa_utils.AveragedModel:
# case name, descent spec, base optimizer, start, every, avg_fn (None: torch's default mean).
AVG_CASES = [
    ("average_mean", "average:start=1,every=3,base=[sgd:lr=2e-4,momentum=0.9]",
     lambda p: O.SGD(p, lr=2e-4, momentum=0.9), 1, 3, None),
    ("average_ema", "average:mode=ema,decay=0.9,base=[adam:lr=0.01]",
     lambda p: O.Adam(p, lr=0.01), 0, 1, lambda a, m, n: a + (m - a) * (1 - 0.9)),
]


def run_average(make, start, every, avg_fn, dtype=torch.float64):
    """The averaged weights at the recorded steps (updated after step t when t >= start and
    (t - start) % every == 0, as descent does)."""
    model = Point(torch.tensor(X0, dtype=dtype))
    swa = torch.optim.swa_utils.AveragedModel(model, avg_fn=avg_fn) if avg_fn else \
        torch.optim.swa_utils.AveragedModel(model)
    opt = make(model.parameters())

    def closure():
        f, g = rosenbrock(model.p.tolist())
        model.p.grad = torch.tensor(g, dtype=dtype)
        return f

    rows = []
    for t in range(1, STEPS[-1] + 1):
        opt.step(closure)
        if t >= start and (t - start) % every == 0:
            swa.update_parameters(model)
        if t in STEPS:
            x = swa.module.p.tolist()
            f, _ = rosenbrock(x)
            rows.append([t] + x + [f])
    return rows


def adafactor_torch25(x, grad_fn, steps, lr=1e-2, beta2_decay=-0.8, eps1=None, eps2=1e-3, d=1.0, weight_decay=0.0,
                      rows=0):
    """torch.optim.Adafactor (torch 2.5, _single_tensor_adafactor) transcribed with torch 1.13 tensor
    ops (torch 1.13 has no Adafactor): x is a flat float64 tensor; rows > 1 views it as a matrix."""
    param = x.clone().view(rows, -1) if rows > 1 else x.clone()
    dtype = x.dtype
    row_var = torch.zeros(param.shape[0], 1, dtype=x.dtype) if rows > 1 else None
    col_var = torch.zeros(1, param.shape[1], dtype=x.dtype) if rows > 1 else None
    variance = torch.zeros_like(param) if rows <= 1 else None
    if eps1 is None:
        eps1 = torch.finfo(param.dtype).eps
    out = {}
    for step in range(1, steps + 1):
        grad = torch.tensor(grad_fn(param.reshape(-1).tolist()), dtype=x.dtype).view(param.shape)
        one_minus_beta2_t = float(step) ** beta2_decay
        rho_t = min(lr, 1 / (float(step) ** 0.5))
        alpha = max(eps2, param.norm(2).item() / (param.numel() ** 0.5)) * rho_t
        if weight_decay != 0:
            param.mul_(1 - lr * weight_decay)
        if grad.dim() > 1:
            row_mean = torch.norm(grad, dim=-1, keepdim=True).square_().div_(grad.size(-1))
            row_var.lerp_(row_mean, one_minus_beta2_t)
            col_mean = torch.norm(grad, dim=-2, keepdim=True).square_().div_(grad.size(-2))
            col_var.lerp_(col_mean, one_minus_beta2_t)
            var_estimate = row_var @ col_var
            var_estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
        else:
            grad_squared = grad * grad
            variance.lerp_(grad_squared, one_minus_beta2_t)
            var_estimate = variance.clone()
        update = var_estimate.clamp_(min=eps1 * eps1).rsqrt_()
        update.mul_(grad)
        denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * d))
        param.add_(update, alpha=-alpha / denom)
        if step in STEPS:
            out[step] = param.reshape(-1).tolist()
    return out


def run(make, dtype=torch.float64):
    """Trajectory of one optimizer. float32: the parameters and gradients are float32 (the
    gradient is computed in float64 from the float32 values, then rounded), as the float32
    path of tests/test_optim.c does."""
    p = torch.tensor(X0, dtype=dtype)
    p.requires_grad_(False)
    opt = make([p])
    rows = []
    def closure():
        f, g = rosenbrock(p.tolist())
        p.grad = torch.tensor(g, dtype=dtype)
        return f

    for t in range(1, STEPS[-1] + 1):
        opt.step(closure)  # one step = one step(closure) call (L-BFGS evaluates several times)
        if t in STEPS:
            x = p.tolist()
            f, _ = rosenbrock(x)
            rows.append([t] + x + [f])
    return rows


def main():
    check_gradient()
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "cases.txt"), "w") as idx:
        idx.write("# case spec (generated by tools/gen_optim_fixtures.py, torch %s, rosenbrock from (1.5, 1.5))\n"
                  % torch.__version__)
        for name, spec, make in CASES:
            rows = run(make)
            for r in rows:
                assert all(math.isfinite(v) for v in r), (name, r)
            with open(os.path.join(OUT, name + ".txt"), "w") as f:
                for r in rows:
                    f.write("%d %s\n" % (r[0], " ".join("%.17g" % v for v in r[1:])))
            idx.write("%s %s\n" % (name, spec))
            print("%-28s %s" % (name, " ".join("%.6g" % v for v in rows[-1][1:])), file=sys.stderr)
            # The same run with float32 parameters (values written exactly, %.17g of the float).
            rows = run(make, torch.float32)
            with open(os.path.join(OUT, name + ".f32.txt"), "w") as f:
                for r in rows:
                    f.write("%d %s\n" % (r[0], " ".join("%.17g" % v for v in r[1:])))
        # Adafactor (torch >= 2.5) through the transcription above: the vector path on 2-D
        # Rosenbrock, and the factored path on 6-D Rosenbrock viewed as a 2 x 3 matrix.
        for name, spec, kw, d in (("adafactor", "adafactor", {}, 2),
                                  ("adafactor_opts", "adafactor:lr=0.05,beta2_decay=-0.5,eps2=1e-2,weight_decay=0.01",
                                   dict(lr=0.05, beta2_decay=-0.5, eps2=1e-2, weight_decay=0.01), 2),
                                  ("adafactor_matrix", "adafactor:lr=0.05,rows=2", dict(lr=0.05, rows=2), 6)):
            for dtype, suffix in ((torch.float64, ""), (torch.float32, ".f32")):
                x0 = torch.full((d,), 1.5, dtype=dtype)
                res = adafactor_torch25(x0, lambda v: rosenbrock(v)[1], STEPS[-1], **kw)
                with open(os.path.join(OUT, name + suffix + ".txt"), "w") as f:
                    for t in STEPS:
                        x = res[t]
                        f.write("%d %s\n" % (t, " ".join("%.17g" % v for v in x + [rosenbrock(x)[0]])))
            if d == 2:
                idx.write("%s %s\n" % (name, spec))
            print("%-28s %s" % (name, " ".join("%.6g" % v for v in res[STEPS[-1]])), file=sys.stderr)
        for name, spec, make, start, every, avg_fn in AVG_CASES:
            for dtype, suffix in ((torch.float64, ""), (torch.float32, ".f32")):
                rows = run_average(make, start, every, avg_fn, dtype)
                with open(os.path.join(OUT, name + suffix + ".txt"), "w") as f:
                    for r in rows:
                        f.write("%d %s\n" % (r[0], " ".join("%.17g" % v for v in r[1:])))
            idx.write("%s %s\n" % (name, spec))
            print("%-28s %s" % (name, " ".join("%.6g" % v for v in rows[-1][1:])), file=sys.stderr)


if __name__ == "__main__":
    main()
