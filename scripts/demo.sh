#!/usr/bin/env bash
# `make demo`: trains an MLP on the digits data set with the engine and plots its loss curve.
set -euo pipefail
build=${1:-build}
out=runs/demo
mkdir -p "$out"
"$build/train_digits" data/digits.csv.gz "$out" 30
if command -v gnuplot >/dev/null; then
  gnuplot <<EOT
set terminal pngcairo size 800,500 noenhanced
set output '$out/loss.png'
set datafile separator ','
set key top right
set xlabel 'epoch'
set ylabel 'train loss (cross-entropy)'
set y2label 'test accuracy'
set y2tics
set ytics nomirror
set grid
set title 'descent demo: mlp 64-128-10 on digits, momentum SGD'
plot '$out/loss.csv' using 1:2 skip 1 with lines lw 2 title 'train loss', \
     '' using 1:3 skip 1 axes x1y2 with lines lw 2 title 'test accuracy'
EOT
  echo "loss plot: $out/loss.png"
else
  echo "loss curve: $out/loss.csv (install gnuplot for a plot)"
fi
