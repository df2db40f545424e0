#!/usr/bin/python3
"""PyTorch twin of bench/bench_train.c: the same MLP / CNN, batch, random data pool, plain
SGD (lr 0.01, no momentum), the same timing schedule and the same key=value output line.

Usage: /usr/bin/python3 bench/torch_train.py [--model mlp|cnn] [--threads N] [--batch B]
                                             [--steps S | --epoch] [--warmup W] [--repeat R]
Run one thread setting per process (torch.set_num_threads applies to the whole process,
and peak RSS is per process).
"""
import argparse
import resource
import sys
import time

EPOCH_EXAMPLES = 60000
DATA_POOL = 8


def maxrss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="mlp", choices=["mlp", "cnn"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--epoch", action="store_true")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--tag", default="torch", help="impl= name in the output (run.sh: torch_ob1 when "
                    "OPENBLAS_NUM_THREADS=1 is set, see run.sh)")
    ap.add_argument("--lr", type=float, default=0.01)
    a = ap.parse_args()

    try:
        import torch
        import torch.nn as nn
    except ImportError:
        print("torch_train: PyTorch is not installed (Debian: apt-get install python3-torch, "
              "or DSC_BENCH_DEPS=1 bash scripts/install-deps.sh)", file=sys.stderr)
        return 3

    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(1234)
    rss_base = maxrss_kb()

    if a.model == "mlp":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                              nn.Linear(256, 10))
        macs = 784 * 256 + 256 * 256 + 256 * 10
        first = 784 * 256
    else:
        model = nn.Sequential(nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 5), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1024, 128), nn.ReLU(), nn.Linear(128, 10))
        first = 32 * 24 * 24 * 25
        macs = first + 64 * 8 * 8 * 25 * 32 + 1024 * 128 + 128 * 10
    # Same analytic count as bench_train.c: forward 2*MACs, weight grads 2*MACs, input
    # grads 2*MACs of every layer but the first.
    flop_per_example = 2 * macs + 2 * macs + 2 * (macs - first)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()

    epoch = a.epoch or (a.steps is None and a.model == "mlp")
    steps = a.steps if a.steps is not None else 50
    if epoch:
        nsteps = (EPOCH_EXAMPLES + a.batch - 1) // a.batch
        last_batch = EPOCH_EXAMPLES - (nsteps - 1) * a.batch
    else:
        nsteps, last_batch = steps, a.batch

    g = torch.Generator().manual_seed(99)
    xpool = [torch.rand(a.batch, 1, 28, 28, generator=g) for _ in range(DATA_POOL)]
    ypool = [torch.randint(0, 10, (a.batch,), generator=g) for _ in range(DATA_POOL)]

    def step(x, y):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        return loss, t1 - t0, t2 - t1, t3 - t2

    # As bench_train.c: the timed schedule runs `repeat` times, the fastest is reported.
    loss_first = loss_last = float("nan")
    best = None
    times = []
    for rep in range(max(1, a.repeat)):
        t_fwd = t_bwd = t_sgd = 0.0
        samples = 0
        t_start = c_start = 0.0
        for s in range(-a.warmup if rep == 0 else 0, nsteps):
            if s == 0:
                t_start = time.perf_counter()
                c_start = time.process_time()
            b = last_batch if s == nsteps - 1 else a.batch
            slot = (s + a.warmup) % DATA_POOL
            x, y = xpool[slot], ypool[slot]
            if b != a.batch:
                x, y = x[:b], y[:b]
            loss, f, bw, sg = step(x, y)
            if s >= 0:
                t_fwd += f
                t_bwd += bw
                t_sgd += sg
                samples += b
                if s == 0 and rep == 0:
                    loss_first = loss.item()
                if s == nsteps - 1:
                    loss_last = loss.item()
        el = time.perf_counter() - t_start
        times.append(el)
        if best is None or el < best[0]:
            best = (el, t_fwd, t_bwd, t_sgd, time.process_time() - c_start)
    times.sort()
    elapsed, t_fwd, t_bwd, t_sgd, cpu = best
    sps = samples / elapsed
    nparams = sum(p.numel() for p in model.parameters())
    print(f"bench=train impl={a.tag} model={a.model} threads={a.threads} batch={a.batch} steps={nsteps} "
          f"samples={samples} time_s={elapsed:.4f} samples_per_s={sps:.1f} s_per_epoch={EPOCH_EXAMPLES / sps:.4f} "
          f"flop_per_example={flop_per_example} gflops={flop_per_example * sps * 1e-9:.2f} fwd_s={t_fwd:.4f} "
          f"bwd_s={t_bwd:.4f} sgd_s={t_sgd:.4f} cpu_s={cpu:.4f} repeat={len(times)} "
          f"median_time_s={times[len(times) // 2]:.4f} peak_rss_kb={maxrss_kb()} base_rss_kb={rss_base} "
          f"params={nparams} loss_first={loss_first:.4f} loss_last={loss_last:.4f} "
          f"torch={torch.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
