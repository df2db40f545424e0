#!/usr/bin/python3
"""Fixtures for tests/test_loss.c: loss values and gradients w.r.t. the prediction from
PyTorch (Debian torch 1.13; run with /usr/bin/python3).

Each case writes tests/fixtures/loss/<name>.f32 (float32 little-endian), the concatenation of
    pred, target, [r (reduction 'none' only)], loss, d loss_total / d pred
and, for losses torch differentiates w.r.t. the target, <name>_tgrad.f32 = d loss_total / d target;
where loss_total = loss for mean/sum and sum(loss * r) for 'none' (r = fixed weights, so
that the gradient check sees a non-uniform cotangent). Shapes and options of every case are
repeated in the CASES table of tests/test_loss.c; keep both in sync.
"""
import os
import struct

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "loss")


def write(name, *arrays):
    os.makedirs(OUT, exist_ok=True)
    vals = []
    for a in arrays:
        vals.extend(float(v) for v in a.detach().reshape(-1).tolist())
    with open(os.path.join(OUT, name + ".f32"), "wb") as f:
        f.write(struct.pack("<%df" % len(vals), *vals))


def away(name, v, kinks, gap=0.02):
    """Piecewise losses: the finite-difference checks of tests/test_loss.c run at these
    points, so no argument may lie within `gap` of a kink."""
    for k in kinks:
        m = (v - k).abs().min().item()
        assert m > gap, "%s: value within %g of the kink at %g; change the seed" % (name, m, k)


def case(name, pred, target, fn, reduction, target_grad=False):
    pred = pred.clone().requires_grad_(True)
    target = target.clone().requires_grad_(target_grad)
    loss = fn(pred, target, reduction)
    arrays = [pred, target]
    if reduction == "none":
        r = torch.linspace(-1.0, 2.0, loss.numel()).reshape(loss.shape)
        total = (loss * r).sum()
        arrays.append(r)
    else:
        total = loss
    total.backward()
    arrays += [loss, pred.grad]
    write(name, *arrays)
    if target_grad:  # torch differentiates this loss w.r.t. the target too
        write(name + "_tgrad", target.grad)


def main():
    g = torch.Generator().manual_seed(1234)
    reds = ["mean", "sum", "none"]

    def randn(*s):
        return torch.randn(*s, generator=g)

    def rand(*s):
        return torch.rand(*s, generator=g)

    # Regression losses on [4, 3]; differences kept away from the kinks.
    p, t = randn(4, 3), randn(4, 3)
    away("regression |p - t|", (p - t).abs(), [0.0, 0.6, 0.7])
    for r in reds:
        case("mse_" + r, p, t, lambda a, b, rr: F.mse_loss(a, b, reduction=rr), r, True)
        case("l1_" + r, p, t, lambda a, b, rr: F.l1_loss(a, b, reduction=rr), r, True)
        case("huber_" + r, p, t, lambda a, b, rr: F.huber_loss(a, b, reduction=rr, delta=0.7), r, True)
        case("smooth_l1_" + r, p, t, lambda a, b, rr: F.smooth_l1_loss(a, b, reduction=rr, beta=0.6), r, True)
    case("smooth_l1_beta0_mean", p, t, lambda a, b, rr: F.smooth_l1_loss(a, b, reduction=rr, beta=0.0), "mean",
         True)

    # Binary hinge (not a torch op): max(0, 1 - y f), reduced like the others.
    def hinge(a, b, rr):
        v = torch.clamp(1 - a * b, min=0)
        return v.mean() if rr == "mean" else v.sum() if rr == "sum" else v
    f = randn(5, 2)
    y = (rand(5, 2) > 0.5).float() * 2 - 1
    away("hinge 1 - y f", 1 - y * f, [0.0])
    for r in reds:
        case("hinge_" + r, f, y, hinge, r)

    # BCE with logits, soft targets, pos_weight over the last dim.
    x, yb = randn(4, 3) * 2, rand(4, 3)
    pw = torch.tensor([0.5, 2.0, 3.0])
    for r in reds:
        case("bce_pw_" + r, x, yb, lambda a, b, rr: F.binary_cross_entropy_with_logits(a, b, reduction=rr,
                                                                                        pos_weight=pw), r, True)
    case("bce_mean", x, yb, lambda a, b, rr: F.binary_cross_entropy_with_logits(a, b, reduction=rr), "mean", True)

    # KL divergence: input log-probabilities [3, 4]; target probabilities or log-probabilities.
    li = F.log_softmax(randn(3, 4), dim=1)
    tp = F.softmax(randn(3, 4), dim=1)
    for lt in (0, 1):
        tt = tp.log() if lt else tp
        for r in ["mean", "batchmean", "sum", "none"]:
            case("kl_lt%d_%s" % (lt, r), li, tt,
                 lambda a, b, rr, lt=lt: F.kl_div(a, b, reduction=rr, log_target=bool(lt)), r, True)

    # Cross-entropy, logits [5, 4].
    logits = randn(5, 4) * 1.5
    tgt = torch.tensor([0, 3, 1, -100, 2])
    tgt_ok = torch.tensor([0, 3, 1, 1, 2])
    cw = torch.tensor([0.3, 1.0, 2.0, 0.7])

    def ce(**kw):
        return lambda a, b, rr: F.cross_entropy(a, b.long(), reduction=rr, **kw)
    for r in reds:
        case("ce_" + r, logits, tgt_ok.float(), ce(), r)
        case("ce_w_" + r, logits, tgt_ok.float(), ce(weight=cw), r)
        case("ce_ls_" + r, logits, tgt_ok.float(), ce(label_smoothing=0.2), r)
        case("ce_ls_w_ign_" + r, logits, tgt.float(), ce(label_smoothing=0.2, weight=cw), r)
    case("ce_ign_mean", logits, tgt.float(), ce(), "mean")
    case("ce_ls_ign_mean", logits, tgt.float(), ce(label_smoothing=0.3), "mean")  # torch: smooth term / all N
    case("ce_ignore1_w_mean", logits, tgt_ok.float(), ce(weight=cw, ignore_index=1), "mean")
    # Spatial: logits [2, 4, 3], targets [2, 3].
    ls_ = randn(2, 4, 3)
    ts_ = torch.tensor([[0, 3, -100], [2, 2, 1]])
    for r in reds:
        case("ce_sp_ls_w_ign_" + r, ls_, ts_.float(), ce(label_smoothing=0.1, weight=cw), r)

    # NLL on log-probabilities.
    lp = F.log_softmax(randn(5, 4), dim=1)
    for r in reds:
        case("nll_w_ign_" + r, lp, tgt.float(),
             lambda a, b, rr: F.nll_loss(a, b.long(), weight=cw, reduction=rr), r)

    # Multi-margin, scores [4, 5].
    sc = randn(4, 5)
    tm = torch.tensor([1, 0, 4, 2])
    h = 0.8 - sc.gather(1, tm[:, None]) + sc
    h[torch.arange(4), tm] = 1.0
    away("multi-margin h", h, [0.0])
    for pp in (1, 2):
        for r in reds:
            case("mm_p%d_%s" % (pp, r), sc, tm.float(),
                 lambda a, b, rr, pp=pp: F.multi_margin_loss(a, b.long(), p=pp, margin=0.8, reduction=rr), r)


if __name__ == "__main__":
    main()
