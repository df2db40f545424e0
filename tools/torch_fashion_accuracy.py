#!/usr/bin/python3
"""PyTorch reference for issue 3's accuracy figures: one epoch of Adam(lr=1e-3), batch 128, on
Fashion-MNIST, with torch's own seeds, the images standardized per channel with the training
set's mean and standard deviation (what `descent train --standardize auto` does for images).

Usage: /usr/bin/python3 tools/torch_fashion_accuracy.py [--model cnn|mlp] [--seeds 0-9]
                                                       [--threads 1] [--data-dir DIR]
Prints one line per seed and the mean and standard deviation over the seeds.
"""
import argparse
import gzip
import os
import statistics
import struct
import sys


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return dims, data[4 + 4 * ndim:]


def load(torch, data_dir, split):
    prefix = "train" if split == "train" else "t10k"
    dims, img = read_idx(os.path.join(data_dir, prefix + "-images-idx3-ubyte.gz"))
    _, lab = read_idx(os.path.join(data_dir, prefix + "-labels-idx1-ubyte.gz"))
    x = torch.frombuffer(bytearray(img), dtype=torch.uint8).reshape(dims[0], 1, 28, 28).float() / 255.0
    y = torch.frombuffer(bytearray(lab), dtype=torch.uint8).long()
    return x, y


def seeds_arg(text):
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in text.split(",")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="cnn", choices=["mlp", "cnn"])
    ap.add_argument("--seeds", type=seeds_arg, default=seeds_arg("0-9"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data-dir", default=os.environ.get("DESCENT_DATA", "/usr/share/datasets/fashion-mnist"))
    a = ap.parse_args()
    import torch
    import torch.nn as nn
    torch.set_num_threads(a.threads)
    xtr, ytr = load(torch, a.data_dir, "train")
    xte, yte = load(torch, a.data_dir, "test")
    mean, std = xtr.mean().item(), xtr.std(unbiased=False).item()
    xtr, xte = (xtr - mean) / std, (xte - mean) / std
    accs = []
    for seed in a.seeds:
        torch.manual_seed(seed)
        if a.model == "mlp":
            model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                                  nn.Linear(256, 10))
        else:
            model = nn.Sequential(nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 5), nn.ReLU(),
                                  nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1024, 128), nn.ReLU(),
                                  nn.Linear(128, 10))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        perm = torch.randperm(xtr.shape[0])
        model.train()
        for i in range(0, xtr.shape[0], 128):
            idx = perm[i:i + 128]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            correct = sum((model(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item()
                          for i in range(0, xte.shape[0], 1000))
        acc = correct / xte.shape[0]
        accs.append(acc)
        print(f"seed={seed} test_acc={acc:.4f}", flush=True)
    if len(accs) > 1:
        print(f"mean={statistics.mean(accs):.4f} std={statistics.stdev(accs):.4f} "
              f"min={min(accs):.4f} max={max(accs):.4f} n={len(accs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
