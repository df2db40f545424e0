#!/usr/bin/python3
"""Regenerate the PyTorch reference fixtures of tests/test_torch_reference.c.

Run from the repository root with Debian's torch (1.13):

    /usr/bin/python3 tools/gen_torch_fixtures.py

It rewrites tests/fixtures/torch/<case>/ for every case: a text manifest.txt and one
little-endian float32 file <key>.f32 per tensor (format: tests/fixtures/torch/README.md).
Everything is float32, single-threaded and seeded, so a rerun gives identical files.

Layer cases: one torch.nn layer with torch's default initialization (then affine
normalization parameters and running statistics are perturbed so that every gradient and the
eval path are nontrivial), a random input x and the loss sum(out * R) with a fixed random R.
Network cases: a zoo model from tools/torch_models.py (default init, fixed seed), a batch
x, labels y and the loss cross_entropy(logits, y) (mean), once in train mode and once in eval
mode.
"""
import os
import shutil
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "torch")

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)
torch.backends.mkldnn.enabled = False  # plain reference kernels


class Case:
    """Collects the tensors of one case and writes the manifest and the .f32 files."""

    def __init__(self, name, kind):
        self.name = name
        self.dir = os.path.join(OUT, name)
        if os.path.isdir(self.dir):
            shutil.rmtree(self.dir)
        os.makedirs(self.dir)
        self.lines = ["# descent torch fixture v1: %s" % name, "kind %s" % kind]

    def opt(self, key, *values):
        self.lines.append("opt %s %s" % (key, " ".join(str(v) for v in values)))

    def str(self, key, value):
        self.lines.append("str %s %s" % (key, value))

    def save(self, key, t, stride=1):
        """Save tensor t under key; stride > 1 keeps only elements 0, stride, 2*stride, ...
        of the flattened tensor (to keep big gradients small)."""
        t = t.detach().to(torch.float32).contiguous()
        shape = list(t.shape)
        flat = t.reshape(-1)[::stride].contiguous()
        with open(os.path.join(self.dir, key + ".f32"), "wb") as f:
            f.write(flat.numpy().astype("<f4").tobytes())
        self.lines.append("tensor %s %d %d %s" % (key, stride, len(shape), " ".join(str(d) for d in shape)))

    def close(self):
        with open(os.path.join(self.dir, "manifest.txt"), "w") as f:
            f.write("\n".join(self.lines) + "\n")


def perturb_affine(m, g):
    """Default affine init (ones/zeros) hides errors in the gradient formulas: use values
    near it instead. Running statistics away from (0, 1) make the eval path nontrivial."""
    with torch.no_grad():
        if getattr(m, "weight", None) is not None:
            m.weight.copy_(1.0 + 0.2 * torch.randn(m.weight.shape, generator=g))
        if getattr(m, "bias", None) is not None:
            m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=g))
        if getattr(m, "running_mean", None) is not None:
            m.running_mean.copy_(0.3 * torch.randn(m.running_mean.shape, generator=g))
            m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))


def layer_case(name, kind, module, x, opts=(), train=False, x_is_index=False, perturb=False):
    """One layer: out = module(x), loss = sum(out * R)."""
    g = torch.Generator().manual_seed(sum(map(ord, name)))
    if perturb:
        perturb_affine(module, g)
    c = Case(name, kind)
    for k, v in opts:
        if isinstance(v, (tuple, list)):
            c.opt(k, *v)
        else:
            c.opt(k, v)
    c.opt("train", int(train))
    module.train(train)
    for k, v in module.state_dict().items():
        if k.endswith("num_batches_tracked"):
            continue
        if k in dict(module.named_parameters()):
            c.save("param." + k, v)
        else:
            c.save("buffer." + k, v)
    c.save("x", x)
    if not x_is_index:
        x = x.clone().requires_grad_(True)
        xin = x
    else:
        xin = x.long()
    out = module(xin)
    R = torch.randn(out.shape, generator=g)
    loss = (out * R).sum()
    loss.backward()
    c.save("R", R)
    c.save("out", out)
    c.save("loss", loss.reshape(1))
    if not x_is_index:
        c.save("grad.x", x.grad)
    for k, p in module.named_parameters():
        c.save("grad." + k, p.grad)
    for k, v in module.named_buffers():
        if k.endswith("num_batches_tracked"):
            continue
        c.save("buffer_after." + k, v)
    c.close()


def layer_cases():
    g = torch.Generator().manual_seed(1234)

    def randn(*s):
        return torch.randn(*s, generator=g)

    def seeded(seed, ctor):
        torch.manual_seed(seed)
        return ctor()

    # Linear
    layer_case("linear", "linear", seeded(1, lambda: nn.Linear(5, 3)), randn(4, 5), [("bias", 1)])
    layer_case("linear_3d_nobias", "linear", seeded(2, lambda: nn.Linear(6, 4, bias=False)), randn(2, 3, 6),
               [("bias", 0)])

    # Conv1d
    def conv1d(name, cin, cout, k, s, p, d, gr, bias, L, seed):
        m = seeded(seed, lambda: nn.Conv1d(cin, cout, k, stride=s, padding=p, dilation=d, groups=gr, bias=bias))
        layer_case(name, "conv1d", m, randn(2, cin, L),
                   [("stride", s), ("padding", p), ("dilation", d), ("groups", gr), ("bias", int(bias))])

    conv1d("conv1d", 3, 4, 3, 1, 0, 1, 1, True, 11, 3)
    conv1d("conv1d_s2_p2_d2_g2", 4, 6, 3, 2, 2, 2, 2, True, 13, 4)

    # Conv2d
    def conv2d(name, cin, cout, k, s, p, d, gr, bias, H, W, seed, N=2):
        m = seeded(seed, lambda: nn.Conv2d(cin, cout, k, stride=s, padding=p, dilation=d, groups=gr, bias=bias))
        pair = lambda v: tuple(v) if isinstance(v, tuple) else (v, v)
        layer_case(name, "conv2d", m, randn(N, cin, H, W),
                   [("stride", pair(s)), ("padding", pair(p)), ("dilation", pair(d)), ("groups", gr),
                    ("bias", int(bias))])

    conv2d("conv2d", 3, 4, 3, 1, 0, 1, 1, True, 7, 8, 5)
    conv2d("conv2d_s2_p1", 3, 5, 3, 2, 1, 1, 1, True, 9, 8, 6)
    conv2d("conv2d_d2_p2", 2, 3, 3, 1, 2, 2, 1, True, 8, 7, 7)
    conv2d("conv2d_g2", 4, 6, 3, 1, 1, 1, 2, True, 6, 6, 8)
    conv2d("conv2d_depthwise", 4, 8, 3, 1, 1, 1, 4, False, 6, 5, 9)
    conv2d("conv2d_rect", 3, 4, (3, 2), (2, 1), (1, 0), (1, 2), 1, True, 9, 8, 10)
    conv2d("conv2d_1x1_s2_nobias", 4, 8, 1, 2, 0, 1, 1, False, 8, 8, 11)

    # Pooling
    def pool(name, kind, module, k, s, p, ceil, cip, H, W):
        pair = lambda v: tuple(v) if isinstance(v, tuple) else (v, v)
        layer_case(name, kind, module, randn(2, 3, H, W),
                   [("kernel", pair(k)), ("stride", pair(s)), ("padding", pair(p)), ("ceil_mode", int(ceil)),
                    ("count_include_pad", int(cip))])

    pool("maxpool2d", "max_pool2d", nn.MaxPool2d(2, 2), 2, 2, 0, False, 1, 8, 6)
    pool("maxpool2d_k3_s2_p1", "max_pool2d", nn.MaxPool2d(3, 2, 1), 3, 2, 1, False, 1, 9, 8)
    pool("maxpool2d_ceil", "max_pool2d", nn.MaxPool2d(3, 2, 0, ceil_mode=True), 3, 2, 0, True, 1, 8, 7)
    pool("maxpool2d_rect", "max_pool2d", nn.MaxPool2d((3, 2), (2, 1), (1, 0)), (3, 2), (2, 1), (1, 0), False, 1,
         7, 6)
    pool("avgpool2d", "avg_pool2d", nn.AvgPool2d(2, 2), 2, 2, 0, False, 1, 8, 6)
    pool("avgpool2d_k3_s2_p1", "avg_pool2d", nn.AvgPool2d(3, 2, 1), 3, 2, 1, False, 1, 9, 8)
    pool("avgpool2d_k3_s2_p1_nopad", "avg_pool2d", nn.AvgPool2d(3, 2, 1, count_include_pad=False), 3, 2, 1, False,
         0, 9, 8)
    pool("avgpool2d_ceil", "avg_pool2d", nn.AvgPool2d(3, 2, 1, ceil_mode=True), 3, 2, 1, True, 1, 8, 8)
    pool("avgpool2d_ceil_nopad", "avg_pool2d", nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False), 3,
         2, 1, True, 0, 8, 8)
    layer_case("adaptive_avgpool2d", "global_avg_pool2d",
               nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()), randn(2, 3, 5, 4))

    # Normalization
    def bn(name, module, x, train, momentum, eps, affine=True, track=True):
        layer_case(name, "batch_norm", module, x,
                   [("momentum", momentum), ("eps", eps), ("affine", int(affine)), ("track", int(track))],
                   train=train, perturb=True)

    bn("bn1d_train", nn.BatchNorm1d(5), randn(6, 5), True, 0.1, 1e-5)
    bn("bn1d_eval", nn.BatchNorm1d(5), randn(6, 5), False, 0.1, 1e-5)
    bn("bn1d_3d_train", nn.BatchNorm1d(4, momentum=0.3), randn(3, 4, 7), True, 0.3, 1e-5)
    bn("bn2d_train", nn.BatchNorm2d(3), randn(4, 3, 5, 4), True, 0.1, 1e-5)
    bn("bn2d_eval", nn.BatchNorm2d(3, eps=1e-3), randn(4, 3, 5, 4), False, 0.1, 1e-3)
    bn("bn2d_noaffine_train", nn.BatchNorm2d(3, affine=False), randn(2, 3, 4, 4), True, 0.1, 1e-5, affine=False)
    bn("bn2d_nostats_train", nn.BatchNorm2d(3, track_running_stats=False), randn(2, 3, 4, 4), True, 0.1, 1e-5,
       track=False)
    bn("bn2d_nostats_eval", nn.BatchNorm2d(3, track_running_stats=False), randn(2, 3, 4, 4), False, 0.1, 1e-5,
       track=False)

    layer_case("layernorm", "layer_norm", nn.LayerNorm(6), randn(3, 4, 6), [("nnorm", 1), ("eps", 1e-5),
                                                                              ("affine", 1)], perturb=True)
    layer_case("layernorm_2d", "layer_norm", nn.LayerNorm([3, 5], eps=1e-3), randn(4, 3, 5),
               [("nnorm", 2), ("eps", 1e-3), ("affine", 1)], perturb=True)
    layer_case("layernorm_noaffine", "layer_norm", nn.LayerNorm(7, elementwise_affine=False), randn(4, 7),
               [("nnorm", 1), ("eps", 1e-5), ("affine", 0)])

    layer_case("dropout_eval", "dropout", nn.Dropout(0.3), randn(4, 6), [("p", 0.3)], train=False)

    idx = torch.tensor([[1, 4, 4, 9], [0, 4, 7, 1], [9, 9, 2, 3]], dtype=torch.float32)
    layer_case("embedding", "embedding", seeded(12, lambda: nn.Embedding(10, 5)), idx, [("num", 10), ("dim", 5)],
               x_is_index=True)


# ---- networks ----------------------------------------------------------------------

# Gradient tensors of more than FULL_MAX elements may be stored subsampled (every k-th
# element of the flat tensor) to keep the fixtures small (< 3 MB in all); smaller tensors are
# always stored whole.
FULL_MAX = 4096


class TextNet(nn.Module):
    """Twin of the hand-built model of test_torch_reference.c (dsc_nn_* layers outside the zoo
    specs): Embedding -> LayerNorm -> permute -> Conv1d -> BatchNorm1d -> ReLU -> Linear."""

    def __init__(self, vocab=20, dim=8, length=12, classes=4):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.ln = nn.LayerNorm(dim)
        self.conv = nn.Conv1d(dim, 6, 3, padding=1)
        self.bn = nn.BatchNorm1d(6)
        self.fc = nn.Linear(6 * length, classes)

    def forward(self, idx):
        h = self.ln(self.emb(idx)).permute(0, 2, 1)
        h = torch.relu(self.bn(self.conv(h)))
        return self.fc(h.flatten(1))


def net_case(name, spec, in_shape, batch, num_classes, sample, seed, params_from=None, hand=None):
    """A zoo network: params saved once, train then eval pass on the same (x, y).

    sample: {'train': k, 'eval': k}: big gradient tensors of that mode keep every k-th
    element (1 = whole). params_from: (initial state_dict, name) of an earlier case whose
    tensors are reused where the shapes agree, so that the same values are not stored twice;
    the C test loads them from that case's directory. hand: (module class, vocabulary) for a
    model the C test builds by hand from dsc_nn_* layers (spec is then its name); its input
    is token indices (no input gradient)."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import torch_models

    torch.manual_seed(seed)
    if hand:
        model = hand[0]()
        c = Case(name, "hand")
    else:
        model = torch_models.build(spec, in_shape, num_classes)
        c = Case(name, "model")
    c.str("spec", spec)
    c.opt("in_shape", *in_shape)
    c.opt("num_classes", num_classes)
    c.opt("batch", batch)
    shared = []
    if params_from is not None:
        src = params_from[0]
        with torch.no_grad():
            for k, v in model.state_dict().items():
                if k in src and src[k].shape == v.shape:
                    v.copy_(src[k])
                    shared.append(k)
        c.str("params_from", params_from[1])
    pnames = dict(model.named_parameters())
    for k, v in model.state_dict().items():
        if k.endswith("num_batches_tracked"):
            continue
        if k in shared:
            continue
        c.save(("param." if k in pnames else "buffer.") + k, v)
    init_state = {k: v.clone() for k, v in model.state_dict().items()}
    g = torch.Generator().manual_seed(seed + 1)
    if hand:
        x = torch.randint(0, hand[1], (batch,) + tuple(in_shape), generator=g)
    else:
        x = torch.randn((batch,) + tuple(in_shape), generator=g)
    y = torch.randint(0, num_classes, (batch,), generator=g)
    c.save("x", x.float())
    c.save("y", y.float())
    for mode in ("train", "eval"):
        model.train(mode == "train")
        model.zero_grad()
        xr = x.clone() if hand else x.clone().requires_grad_(True)
        out = model(xr)
        loss = F.cross_entropy(out, y)
        loss.backward()
        c.save(mode + ".out", out)
        c.save(mode + ".loss", loss.reshape(1))
        if not hand:
            c.save(mode + ".grad.x", xr.grad)
        for k, p in model.named_parameters():
            stride = 1 if p.numel() <= FULL_MAX else sample[mode]
            c.save(mode + ".grad." + k, p.grad, stride)
        if mode == "train":
            # running statistics after the train pass; the eval pass uses them
            for k, v in model.named_buffers():
                if not k.endswith("num_batches_tracked"):
                    c.save("train.buffer_after." + k, v)
    c.close()
    return init_state


def net_cases():
    if not os.path.exists(os.path.join(ROOT, "tools", "torch_models.py")):
        print("tools/torch_models.py missing: network cases skipped", file=sys.stderr)
        return
    # lenet5 has no BatchNorm/Dropout: its eval pass equals the train pass, so the eval
    # gradients are stored subsampled.
    net_case("lenet5", "lenet5", (1, 28, 28), 4, 10, {"train": 1, "eval": 8}, 100)
    net_case("mlp_bn_gelu", "mlp:64-32-16-10,act=gelu,batchnorm=1", (1, 8, 8), 6, 10, {"train": 1, "eval": 1}, 400)
    net_case("cnn_bn", "cnn:c8k3p1-b-p2-c12k3s2-b-a2-f24-b", (3, 16, 16), 4, 5, {"train": 1, "eval": 1}, 500)
    # resnet20: 272k parameters = 1.1 MB per copy; the big conv gradients are subsampled.
    r = net_case("resnet20", "resnet20", (3, 32, 32), 4, 10, {"train": 4, "eval": 8}, 200)
    net_case("resnet20_mnist", "resnet20", (1, 28, 28), 2, 10, {"train": 16, "eval": 16}, 300,
             params_from=(r, "resnet20"))
    # dsc_nn_embedding / layer_norm / conv1d / batch_norm (1d) / linear, built by hand in C
    net_case("textnet", "textnet", (12,), 5, 4, {"train": 1, "eval": 1}, 600, hand=(TextNet, 20))


def f64_check():
    """Prints how far torch's own float32 results are from float64 on the network cases (the
    rounding floor behind the 1e-5 tolerance; docs/ALGORITHMS.md). Writes
    nothing."""
    import copy
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import torch_models

    for spec, in_shape, batch, ncls, seed in (
            ("lenet5", (1, 28, 28), 4, 10, 100), ("mlp:64-32-16-10,act=gelu,batchnorm=1", (1, 8, 8), 6, 10, 400),
            ("cnn:c8k3p1-b-p2-c12k3s2-b-a2-f24-b", (3, 16, 16), 4, 5, 500),
            ("resnet20", (3, 32, 32), 4, 10, 200), ("resnet20", (1, 28, 28), 2, 10, 300)):
        torch.manual_seed(seed)
        model = torch_models.build(spec, in_shape, ncls)
        g = torch.Generator().manual_seed(seed + 1)
        x = torch.randn((batch,) + tuple(in_shape), generator=g)
        y = torch.randint(0, ncls, (batch,), generator=g)
        res = {}
        for dt in (torch.float32, torch.float64):
            m = copy.deepcopy(model).to(dt)
            r = res[dt] = {}
            for mode in ("train", "eval"):
                m.train(mode == "train")
                m.zero_grad()
                xr = x.to(dt).detach().clone().requires_grad_(True)
                out = m(xr)
                loss = F.cross_entropy(out, y)
                loss.backward()
                r[mode + ".out"] = out.detach().double()
                r[mode + ".grad.x"] = xr.grad.double().clone()
                for k, p in m.named_parameters():
                    r[mode + ".grad." + k] = p.grad.double().clone()
        errs = []
        for k, ref in res[torch.float64].items():
            scale = ref.abs().max().item()
            if scale < 1e-12:
                continue  # exactly-zero gradients (bias before a train-mode BatchNorm)
            errs.append(((res[torch.float32][k] - ref).abs().max().item() / max(scale, 1e-6), k))
        errs.sort(reverse=True)
        print("%-40s %-10s worst float32 vs float64: %.2e (%s)" % (spec, "x".join(map(str, in_shape)), errs[0][0],
                                                                     errs[0][1]))


def main():
    if sys.argv[1:] == ["f64check"]:
        f64_check()
        return
    os.makedirs(OUT, exist_ok=True)
    only = sys.argv[1:]
    if not only or "layers" in only:
        layer_cases()
    if not only or "nets" in only:
        net_cases()
    total = 0
    for d, _, files in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(d, f)) for f in files)
    print("fixtures in %s: %.2f MB" % (OUT, total / 1e6))


if __name__ == "__main__":
    main()
