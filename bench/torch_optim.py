#!/usr/bin/python3
"""PyTorch counterpart of bench_optim.c: one optimizer step over N float32 parameters.

usage: /usr/bin/python3 bench/torch_optim.py [--n N] [--threads 1,2] [--trials T] [--algos ...]

Same sizes, hyperparameters and thread counts as bench_optim (torch.set_num_threads), one
parameter tensor of N elements with a fixed gradient, two warm-up steps (state allocated),
then T timed opt.step() calls: best and median. The bytes per parameter are the same
analytic minimum as in bench_optim.c (sgd 20, adam/adamw 28, lion 20), so gbs_* is the
*effective* bandwidth: what the step would need to move at the minimum, divided by its time.
torch's foreach/single-tensor paths make one pass per elementwise operation and move more.

Rows (impl=torch, algo=...):
  sgd_foreach / sgd_single        torch.optim.SGD(lr=0.01, momentum=0.9, foreach=True/False)
  adam_foreach / adam_single      torch.optim.Adam(lr=1e-3, foreach=...)
  adamw_foreach / adamw_single    torch.optim.AdamW(lr=1e-3, weight_decay=0.01, foreach=...)
  lion_torchops                   Lion is NOT in torch 1.13: a reference implementation with
                                  torch in-place ops (as lucidrains' lion-pytorch), for scale only
Output lines: bench=optim impl=torch algo=A threads=T n=N bytes_per_param=P steps=S best_s=
  median_s= gbs_best= gbs_median= load= torch=VERSION checksum=C
"""
import argparse
import os
import time

import torch


class LionRef(torch.optim.Optimizer):
    """Lion (Chen et al. 2023) with decoupled weight decay, written with torch ops:
    p = p*(1 - lr*wd); c = beta1*m + (1 - beta1)*g; p = p - lr*sign(c); m = beta2*m + (1 - beta2)*g."""

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, (b1, b2), wd = group["lr"], group["betas"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["exp_avg"] = torch.zeros_like(p)
                m = st["exp_avg"]
                if wd != 0:
                    p.mul_(1 - lr * wd)
                c = m.mul(b1).add_(p.grad, alpha=1 - b1)
                p.add_(c.sign_(), alpha=-lr)
                m.mul_(b2).add_(p.grad, alpha=1 - b2)


def load1():
    try:
        return os.getloadavg()[0]
    except OSError:
        return -1.0


def make(algo, params):
    if algo.startswith("sgd_"):
        return torch.optim.SGD(params, lr=0.01, momentum=0.9, foreach=algo.endswith("foreach")), 20
    if algo.startswith("adam_"):
        return torch.optim.Adam(params, lr=1e-3, foreach=algo.endswith("foreach")), 28
    if algo.startswith("adamw_"):
        return torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01, foreach=algo.endswith("foreach")), 28
    if algo == "lion_torchops":
        return LionRef(params, lr=1e-4, weight_decay=0.01), 20
    raise SystemExit("unknown algo " + algo)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=float, default=10_000_000)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--algos", default="sgd_foreach,sgd_single,adam_foreach,adam_single,"
                                       "adamw_foreach,adamw_single,lion_torchops")
    a = ap.parse_args()
    n = int(a.n)
    gen = torch.Generator().manual_seed(0)
    p0 = torch.rand(n, generator=gen) * 2 - 1
    g = torch.rand(n, generator=gen) * 0.02 - 0.01
    for nt in [int(t) for t in a.threads.split(",")]:
        torch.set_num_threads(nt)
        for algo in a.algos.split(","):
            p = torch.nn.Parameter(p0.clone())
            p.grad = g.clone()
            opt, bpp = make(algo, [p])
            for _ in range(2):
                opt.step()
            times = []
            for _ in range(a.trials):
                t0 = time.perf_counter()
                opt.step()
                times.append(time.perf_counter() - t0)
            times.sort()
            best, med = times[0], times[len(times) // 2]
            byts = bpp * n
            chk = float(p.detach()[::997].double().sum())
            print(f"bench=optim impl=torch algo={algo} threads={nt} n={n} bytes_per_param={bpp} "
                  f"steps={a.trials} best_s={best:.6f} median_s={med:.6f} gbs_best={byts / best * 1e-9:.2f} "
                  f"gbs_median={byts / med * 1e-9:.2f} load={load1():.2f} torch={torch.__version__} "
                  f"checksum={chk:.6e}", flush=True)
            del opt, p


if __name__ == "__main__":
    main()
