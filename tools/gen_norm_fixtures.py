#!/usr/bin/python3
"""Reference values for tests/test_norm_pool.c from PyTorch (Debian torch 1.13):
    /usr/bin/python3 tools/gen_norm_fixtures.py
Writes float32 little-endian arrays to tests/fixtures/norm/<name>.f32 (one array per file,
row-major, shapes as noted in the test). Inputs are written too, so the C test needs no RNG
agreement with numpy/torch."""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "norm")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(20240613)


def save(name, t):
    a = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    a.astype("<f4").tofile(os.path.join(OUT, name + ".f32"))


def rand(*shape, lo=-2.0, hi=2.0):
    return torch.tensor(rng.uniform(lo, hi, size=shape).astype(np.float32))


# ---- batch_norm 2d: x [4, 3, 2, 2], train step (momentum 0.1) then eval ----
x = rand(4, 3, 2, 2)
x[:, 1] = x[:, 1] * 3.0 + 1.5  # a channel with another scale and offset
gamma, beta = rand(3, lo=0.5, hi=1.5), rand(3, lo=-0.5, hi=0.5)
rm0, rv0 = rand(3, lo=-0.2, hi=0.2), rand(3, lo=0.5, hi=2.0)
cot = rand(4, 3, 2, 2)  # upstream gradient for the backward check
save("bn_x", x); save("bn_gamma", gamma); save("bn_beta", beta)
save("bn_rm0", rm0); save("bn_rv0", rv0); save("bn_cot", cot)
bn = torch.nn.BatchNorm2d(3, eps=1e-5, momentum=0.1)
with torch.no_grad():
    bn.weight.copy_(gamma); bn.bias.copy_(beta)
    bn.running_mean.copy_(rm0); bn.running_var.copy_(rv0)
bn.train()
xg = x.clone().requires_grad_(True)
y = bn(xg)
(y * cot).sum().backward()
save("bn_train_y", y); save("bn_rm1", bn.running_mean); save("bn_rv1", bn.running_var)
save("bn_train_dx", xg.grad); save("bn_train_dgamma", bn.weight.grad); save("bn_train_dbeta", bn.bias.grad)
bn.eval()
save("bn_eval_y", bn(x))  # with the updated running statistics

# ---- layer_norm over the last 2 dims: x [3, 4, 5], gamma/beta [4, 5] ----
x = rand(3, 4, 5)
gamma, beta = rand(4, 5, lo=0.5, hi=1.5), rand(4, 5, lo=-0.5, hi=0.5)
cot = rand(3, 4, 5)
xg, gg, bg = (t.clone().requires_grad_(True) for t in (x, gamma, beta))
y = F.layer_norm(xg, (4, 5), gg, bg, eps=1e-5)
(y * cot).sum().backward()
save("ln_x", x); save("ln_gamma", gamma); save("ln_beta", beta); save("ln_cot", cot)
save("ln_y", y); save("ln_dx", xg.grad); save("ln_dgamma", gg.grad); save("ln_dbeta", bg.grad)

# ---- pooling: x [2, 3, 7, 6] ----
x = rand(2, 3, 7, 6)
save("pool_x", x)
save("mp_k3s2p1_ceil", F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True))       # [2,3,4,4]
save("mp_k2s2_ceil", F.max_pool2d(x, 2, stride=2, ceil_mode=True))                     # [2,3,4,3]
save("mp_k2x3s1x2_floor", F.max_pool2d(x, (2, 3), stride=(1, 2), padding=(1, 1)))     # [2,3,8,3]
save("ap_k3s2p1_ceil_nopad", F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True,
                                          count_include_pad=False))                  # [2,3,4,4]
save("ap_k3s2p1_ceil_pad", F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True,
                                        count_include_pad=True))                     # [2,3,4,4]
save("gap", F.adaptive_avg_pool2d(x, 1).flatten(1))                                    # [2,3]
print("wrote fixtures to", os.path.normpath(OUT))
