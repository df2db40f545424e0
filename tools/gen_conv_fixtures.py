#!/usr/bin/python3
"""Reference values for tests/test_conv_matmul.c, computed with PyTorch 1.13 (float32 inputs,
float64 arithmetic, results rounded to float32).

Run with Debian's python that has torch:  /usr/bin/python3 tools/gen_conv_fixtures.py
Writes tests/fixtures/conv/<case>_<tensor>.f32 (little-endian float32, row-major):
  inputs  x, w, b (parameters) and r (the fixed cotangent: loss = sum(y * r)),
  outputs y (forward), gx, gw, gb (gradients of the loss).
Cases:
  conv2d: x [2, 4, 7, 6], w [6, 2, 3, 3], b [6], stride 2, padding 1, dilation 2, groups 2
  conv2d_rect: x [2, 3, 6, 5], w [4, 3, 2, 3], b [4], stride (1, 2), padding (2, 0), dilation (1, 1)
  conv1d: x [2, 4, 9], w [6, 2, 3], b [6], stride 2, padding 1, dilation 2, groups 2
  linear: x [2, 3, 5], w [4, 5], b [4]
"""
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "conv")


def save(case, name, t):
    path = os.path.join(OUT, "%s_%s.f32" % (case, name))
    t.detach().contiguous().to(torch.float32).numpy().astype("<f4").tofile(path)


def run(case, xs, ws, bs, fn, seed):
    g = torch.Generator().manual_seed(seed)
    # float32 inputs, computed in float64: the reference is the exact result rounded once.
    x = (torch.rand(xs, generator=g) * 2 - 1).double().requires_grad_()
    w = (torch.rand(ws, generator=g) * 2 - 1).double().requires_grad_()
    b = (torch.rand(bs, generator=g) * 2 - 1).double().requires_grad_()
    y = fn(x, w, b)
    r = (torch.rand(y.shape, generator=g) * 2 - 1).double()
    (y * r).sum().backward()
    for name, t in (("x", x), ("w", w), ("b", b), ("r", r), ("y", y), ("gx", x.grad), ("gw", w.grad),
                    ("gb", b.grad)):
        save(case, name, t)
    print(case, "y", tuple(y.shape))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    run("conv2d", (2, 4, 7, 6), (6, 2, 3, 3), (6,),
        lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, dilation=2, groups=2), 1)
    run("conv2d_rect", (2, 3, 6, 5), (4, 3, 2, 3), (4,),
        lambda x, w, b: F.conv2d(x, w, b, stride=(1, 2), padding=(2, 0), dilation=1, groups=1), 2)
    run("conv1d", (2, 4, 9), (6, 2, 3), (6,),
        lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2, groups=2), 3)
    run("linear", (2, 3, 5), (4, 5), (4,), lambda x, w, b: F.linear(x, w, b), 4)


if __name__ == "__main__":
    main()
