#!/usr/bin/python3
"""PyTorch (1.13) twins of the descent model zoo (src/nn/zoo.c, docs/MODELS.md).

build(spec, in_shape, num_classes) -> nn.Module whose parameters and buffers have EXACTLY
the names, order and layouts of the C model built by dsc_model_build with the same spec, so
weights round-trip by name:

  * C parameter names, in order  == [k for k, _ in model.named_parameters()]
  * C buffer names, in order     == [k for k, _ in model.named_buffers()
                                     if not k.endswith("num_batches_tracked")]

The one difference: BatchNorm's integer counter `num_batches_tracked` has no C twin (descent
uses a fixed momentum, so the counter is never read). c_state_dict() / load_c_state_dict()
below drop / tolerate it. Layouts are torch's: Linear weight [out, in], Conv weight
[out, in, kh, kw], BatchNorm weight/bias/running_mean/running_var [C].

Usage as a script:
  /usr/bin/python3 tools/torch_models.py SPEC --input 1x28x28 [--classes 10]
prints every parameter/buffer name with its shape, and the parameter total.

Spec grammar (same as the C parser, src/nn/spec.c):
  mlp:W0-W1-...-Wn[,act=relu|tanh|sigmoid|gelu|silu|leaky_relu|elu][,dropout=P][,batchnorm=0|1]
      W0 must equal the flattened input size, Wn the number of classes.
      Sequential: Linear, [BatchNorm1d], act, [Dropout], Linear, ..., Linear (the input is
      flattened first, outside the Sequential numbering).
  lenet5
  cnn:TOK-TOK-...   tokens: cOUTkK[sS][pP] conv2d(+ReLU), pK maxpool, aK avgpool,
      fN linear(+ReLU), dP dropout, b BatchNorm after the previous conv/linear (before its
      ReLU). A Flatten is inserted before the first linear; a final Linear(classes) is appended.
  vgg-small
  resnet20
"""
import argparse
import math
import re
import sys

import torch
import torch.nn as nn

MODELS = ("mlp", "lenet5", "cnn", "vgg-small", "resnet20")
ACTS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,          # exact (erf) GELU, torch default
    "silu": nn.SiLU,
    "leaky_relu": nn.LeakyReLU,  # negative_slope 0.01
    "elu": nn.ELU,            # alpha 1.0
}


class FlatSequential(nn.Sequential):
    """nn.Sequential that flattens its input to [N, features] first (the mlp)."""

    def forward(self, x):
        return super().forward(x.flatten(1))


class GlobalAvgPool(nn.Module):
    """[N, C, H, W] -> [N, C] (mean over H, W): one module, like dsc_global_avg_pool2d."""

    def forward(self, x):
        return x.mean(dim=(2, 3))


def _conv_out(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def _mlp(args, in_shape, num_classes):
    parts = args.split(",")
    widths = []
    for i, w in enumerate(parts[0].split("-")):
        if not w.isdigit() or int(w) <= 0:
            raise ValueError("mlp: bad width %r" % w)
        widths.append(int(w))
    if len(widths) < 2:
        raise ValueError("mlp: need at least input and output widths")
    act, p, bn = "relu", 0.0, False
    for opt in parts[1:]:
        k, _, v = opt.partition("=")
        if k == "act":
            if v not in ACTS:
                raise ValueError("mlp: unknown act %r" % v)
            act = v
        elif k == "dropout":
            p = float(v)
        elif k == "batchnorm":
            bn = v == "1"
        else:
            raise ValueError("mlp: unknown option %r" % k)
    feat = math.prod(in_shape)
    if widths[0] != feat:
        raise ValueError("mlp: first width %d != input features %d" % (widths[0], feat))
    if widths[-1] != num_classes:
        raise ValueError("mlp: last width %d != classes %d" % (widths[-1], num_classes))
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            if bn:
                layers.append(nn.BatchNorm1d(widths[i + 1]))
            layers.append(ACTS[act]())
            if p > 0:
                layers.append(nn.Dropout(p))
    return FlatSequential(*layers)


def _lenet5(in_shape, num_classes):
    c, h, w = in_shape
    pad = 2 if (h, w) == (28, 28) else 0
    h, w = _conv_out(h, 5, 1, pad) // 2, _conv_out(w, 5, 1, pad) // 2
    h, w = _conv_out(h, 5, 1, 0) // 2, _conv_out(w, 5, 1, 0) // 2
    return nn.Sequential(
        nn.Conv2d(c, 6, 5, padding=pad), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * h * w, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes))


_CONV_RE = re.compile(r"^c(\d+)k(\d+)(?:s(\d+))?(?:p(\d+))?$")


def _cnn(args, in_shape, num_classes):
    c, h, w = in_shape
    items = []  # [kind, module-args] ; 'b' attaches to the previous conv/linear
    flat = False
    feat = None
    for tok in args.split("-"):
        m = _CONV_RE.match(tok)
        if m:
            if flat:
                raise ValueError("cnn: conv %r after a linear layer" % tok)
            o, k = int(m.group(1)), int(m.group(2))
            s = int(m.group(3) or 1)
            p = int(m.group(4) or 0)
            items.append(["conv", nn.Conv2d(c, o, k, stride=s, padding=p), None])
            c, h, w = o, _conv_out(h, k, s, p), _conv_out(w, k, s, p)
        elif re.match(r"^[pa]\d+$", tok):
            k = int(tok[1:])
            items.append(["pool", nn.MaxPool2d(k) if tok[0] == "p" else nn.AvgPool2d(k), None])
            h, w = _conv_out(h, k, k, 0), _conv_out(w, k, k, 0)
        elif re.match(r"^f\d+$", tok):
            n = int(tok[1:])
            if not flat:
                items.append(["flatten", nn.Flatten(), None])
                flat, feat = True, c * h * w
            items.append(["linear", nn.Linear(feat, n), None])
            feat = n
        elif re.match(r"^d(0(\.\d*)?|\.\d+)$", tok):
            items.append(["dropout", nn.Dropout(float(tok[1:])), None])
        elif tok == "b":
            if not items or items[-1][0] not in ("conv", "linear") or items[-1][2] is not None:
                raise ValueError("cnn: 'b' must follow a conv or linear token")
            items[-1][2] = nn.BatchNorm2d(c) if items[-1][0] == "conv" else nn.BatchNorm1d(feat)
        else:
            raise ValueError("cnn: bad token %r" % tok)
    layers = []
    for kind, mod, bn in items:
        layers.append(mod)
        if bn is not None:
            layers.append(bn)
        if kind in ("conv", "linear"):
            layers.append(nn.ReLU())
    if not flat:
        layers.append(nn.Flatten())
        feat = c * h * w
    layers.append(nn.Linear(feat, num_classes))
    return nn.Sequential(*layers)


VGG_SMALL_CFG = [64, 64, "M", 128, 128, "M", 256, 256, "M"]


def _vgg_small(in_shape, num_classes):
    c = in_shape[0]
    layers = []
    for v in VGG_SMALL_CFG:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1, bias=False), nn.BatchNorm2d(v), nn.ReLU()]
            c = v
    layers += [GlobalAvgPool(), nn.Linear(c, num_classes)]
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    """He et al. 2016 basic block; projection shortcut (option B) when the shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        sc = x if self.downsample is None else self.downsample(x)
        return torch.relu(out + sc)


class ResNetCifar(nn.Module):
    def __init__(self, in_ch, num_classes, n=3, widths=(16, 32, 64)):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        cin = widths[0]
        for s, cout in enumerate(widths):
            blocks = []
            for b in range(n):
                stride = 2 if (s > 0 and b == 0) else 1
                blocks.append(BasicBlock(cin, cout, stride))
                cin = cout
            setattr(self, "layer%d" % (s + 1), nn.Sequential(*blocks))
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(x.mean(dim=(2, 3)))


def build(spec, in_shape, num_classes):
    """The torch twin of dsc_model_build(spec, in_shape (without batch), num_classes)."""
    in_shape = tuple(int(d) for d in in_shape)
    name, _, args = spec.partition(":")
    if name == "mlp":
        return _mlp(args, in_shape, num_classes)
    if len(in_shape) != 3:
        raise ValueError("%s: input must be CxHxW" % name)
    if name == "lenet5":
        return _lenet5(in_shape, num_classes)
    if name == "cnn":
        return _cnn(args, in_shape, num_classes)
    if name == "vgg-small":
        return _vgg_small(in_shape, num_classes)
    if name == "resnet20":
        return ResNetCifar(in_shape[0], num_classes)
    raise ValueError("unknown model %r (valid: %s)" % (name, ", ".join(MODELS)))


def c_param_names(model):
    return [k for k, _ in model.named_parameters()]


def c_buffer_names(model):
    return [k for k, _ in model.named_buffers() if not k.endswith("num_batches_tracked")]


def c_state_dict(model):
    """state_dict without num_batches_tracked: the exact set of C parameters + buffers."""
    return {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


def load_c_state_dict(model, sd):
    """Load a C-named dict (float tensors) into the torch twin; counters stay as they are."""
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise KeyError("missing %s unexpected %s" % (missing, unexpected))
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("spec")
    ap.add_argument("--input", default="1x28x28")
    ap.add_argument("--classes", type=int, default=10)
    a = ap.parse_args()
    shape = [int(d) for d in a.input.split("x")]
    m = build(a.spec, shape, a.classes)
    m.eval()
    m(torch.zeros(2, *shape))
    for k, v in model_items(m):
        print("%-40s %s" % (k, list(v.shape)))
    print("params", sum(p.numel() for p in m.parameters()))


def model_items(m):
    for k, v in m.named_parameters():
        yield k, v
    for k, v in m.named_buffers():
        if not k.endswith("num_batches_tracked"):
            yield k, v


if __name__ == "__main__":
    sys.exit(main())
