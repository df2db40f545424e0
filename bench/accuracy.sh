#!/bin/sh
# Issue 3's accuracy figures as distributions over seeds: one epoch of Adam(lr=1e-3), batch 128, on
# Fashion-MNIST, for descent (`descent train ... --seed S --threads 1`) and PyTorch 1.13 with its own
# seeds (tools/torch_fashion_accuracy.py: the same model, default init, per-channel standardization).
# The two run side by side (one thread each). Prints each seed's test accuracy and the mean, standard
# deviation and count >= TARGET of both. docs/TRAINING.md has the 20-seed CNN run.
#   usage: bench/accuracy.sh [BUILD_DIR] [cnn|mlp] [FIRST_SEED] [LAST_SEED]   (defaults: build cnn 0 9)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
MODEL=${2:-cnn}
FIRST=${3:-0}
LAST=${4:-9}
case $MODEL in
cnn) SPEC=cnn:c32k5-p2-c64k5-p2-f128; TARGET=0.87 ;;
mlp) SPEC=mlp:784-256-256-10; TARGET=0.84 ;;
*) echo "accuracy.sh: model must be cnn or mlp" >&2; exit 2 ;;
esac
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
/usr/bin/python3 "$ROOT/tools/torch_fashion_accuracy.py" --model "$MODEL" --seeds "$FIRST-$LAST" --threads 1 \
    >"$TMP/torch.txt" 2>"$TMP/torch.err" &
TORCH=$!
for s in $(seq "$FIRST" "$LAST"); do
    "$BUILD/descent" train --model "$SPEC" --data fashion-mnist --opt adam:lr=1e-3 --epochs 1 --batch-size 128 \
        --seed "$s" --threads 1 --out "$TMP/run" 2>/dev/null | sed -n "s/.*test_acc=\([0-9.]*\).*/seed=$s test_acc=\1/p"
done >"$TMP/descent.txt"
wait $TORCH || { echo "accuracy.sh: the PyTorch side failed:" >&2; cat "$TMP/torch.err" >&2; exit 1; }
summary() { # name file
    awk -v name="$1" -v target="$TARGET" -F'test_acc=' '/test_acc=/ {
            a[n++] = $2 + 0; printf "%s %s\n", name, $0 }
        END { for (i = 0; i < n; i++) { s += a[i]; hit += a[i] >= target }
              m = s / n; for (i = 0; i < n; i++) v += (a[i] - m)^2
              printf "%s: mean %.4f std %.4f  >= %s: %d of %d\n", name, m, (n > 1 ? sqrt(v / (n - 1)) : 0), target, hit, n }' "$2"
}
echo "# $SPEC, fashion-mnist, adam:lr=1e-3, 1 epoch, batch 128, seeds $FIRST..$LAST ($(date -u '+%Y-%m-%d %H:%M UTC'))"
summary descent "$TMP/descent.txt"
summary pytorch "$TMP/torch.txt"
