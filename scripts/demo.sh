#!/usr/bin/env bash
# `make demo`: trains an MLP with `descent train` — on Fashion-MNIST when its files can be found
# (scripts/install-deps.sh installs Debian's dataset-fashion-mnist), else on the embedded digits
# set — printing progress and the final line, then draws the loss curve and prints its path.
set -euo pipefail
build=${1:-build}
bin="$build/descent"
out=runs/demo
rm -rf "$out"
mkdir -p runs
# Fashion-MNIST is available when the data layer can load it (it searches $DESCENT_DATA and
# /usr/share/datasets/fashion-mnist): ask descent itself.
have_fashion() {
  for d in "${DESCENT_DATA:-}" /usr/share/datasets/fashion-mnist "${DESCENT_DATA:-}/fashion-mnist"; do
    [ -n "$d" ] && ls "$d"/t10k-images-idx3-ubyte* >/dev/null 2>&1 && return 0
  done
  return 1
}
if have_fashion; then
  echo "demo: mlp:784-256-256-10 on Fashion-MNIST (60,000 training images), 1 epoch"
  "$bin" train --model mlp:784-256-256-10 --data fashion-mnist --opt adam:lr=1e-3 --epochs 1 --batch-size 128 \
    --seed 0 --out "$out"
else
  echo "demo: Fashion-MNIST not found (bash scripts/install-deps.sh installs it); mlp:64-128-10 on the embedded digits set"
  "$bin" train --model mlp:64-128-10 --data digits --opt adam:lr=1e-3 --epochs 10 --batch-size 32 --seed 0 --out "$out"
fi
# The loss curve (descent plot prints the file's path; the line below says what it is).
if "$bin" plot "$out" --metric train_loss --x step --out "$out/loss.png" >/dev/null; then
  echo "loss plot: $out/loss.png"
else
  echo "loss curve: $out/metrics.csv (no plot: see the message above)"
fi
