#!/usr/bin/env bash
# Optimizer-step benchmark: descent (bench_optim) vs PyTorch (torch_optim.py), issue 4
# "Performance (bench/)": bytes moved per step as a fraction of the memory bandwidth measured
# in the same run (target >= 70%) and speed against torch's foreach Adam (target >= 2x).
#
# usage: bash bench/run_optim.sh BUILD_DIR     (builds target bench_optim if missing)
#
# Environment:
#   DSC_OPTIM_ROUNDS   rounds, descent and torch interleaved; the table keeps each row's
#                      fastest round (default 3)
#   DSC_OPTIM_TRIALS   timed steps (and STREAM trials) per descent process (default 40)
#   DSC_OPTIM_TORCH_TRIALS  timed steps per torch process (default 10; its steps are slow)
#   DSC_OPTIM_N        parameters (default 10000000)
#   DSC_BENCH_PYTHON   Python with torch (default /usr/bin/python3)
# Writes the raw lines and the table to bench/results/optim.txt (and stdout).
set -u
BUILD=${1:-build}
ROUNDS=${DSC_OPTIM_ROUNDS:-3}
TRIALS=${DSC_OPTIM_TRIALS:-40}
TTRIALS=${DSC_OPTIM_TORCH_TRIALS:-10}
N=${DSC_OPTIM_N:-10000000}
PY=${DSC_BENCH_PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
case "$BUILD" in /*) ;; *) BUILD="$HERE/../$BUILD" ;; esac
OUT=$HERE/results/optim.txt
mkdir -p "$HERE/results"
if [ ! -x "$BUILD/bench_optim" ]; then
  cmake --build "$BUILD" --target bench_optim -j 2 >/dev/null || { echo "cannot build $BUILD/bench_optim" >&2; exit 1; }
fi
RAW=$(mktemp)
trap 'rm -f "$RAW"' EXIT
{
  echo "# run_optim.sh $(date -u '+%Y-%m-%d %H:%M UTC') host=$(hostname) n=$N trials=$TRIALS torch_trials=$TTRIALS rounds=$ROUNDS"
  echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//') x $(nproc)"
  echo "# descent $(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null)"
} >"$RAW"
HAVE_TORCH=1
if ! "$PY" -c 'import torch' 2>/dev/null; then
  HAVE_TORCH=0
  echo "# no torch for $PY (sudo apt-get install python3-torch, or set DSC_BENCH_PYTHON): descent only" >>"$RAW"
fi
for r in $(seq 1 "$ROUNDS"); do
  echo "# round $r uptime: $(uptime)" >>"$RAW"
  "$BUILD/bench_optim" --n "$N" --trials "$TRIALS" | sed "s/^/round=$r /" >>"$RAW"
  [ "$HAVE_TORCH" = 1 ] && "$PY" "$HERE/torch_optim.py" --n "$N" --trials "$TTRIALS" | sed "s/^/round=$r /" >>"$RAW"
done

summarize() {
  awk '
function kv(line, key,   n, i, a, p) {
  n = split(line, a, " ")
  for (i = 1; i <= n; i++) { p = index(a[i], "="); if (substr(a[i], 1, p - 1) == key) return substr(a[i], p + 1) }
  return ""
}
/bench=stream/ && kv($0, "kernel") != "max" {
  k = kv($0, "kernel") "," kv($0, "threads"); v = kv($0, "gbs") + 0
  if (v > sbest[k]) sbest[k] = v
  t = kv($0, "threads"); if (v > smax[t]) smax[t] = v
}
/bench=optim/ {
  k = kv($0, "impl") "," kv($0, "algo") "," kv($0, "threads"); b = kv($0, "best_s") + 0
  pr = kv($0, "frac_paired"); if (pr != "" && pr + 0 > fp[k]) fp[k] = pr + 0
  if ((k in best) && b >= best[k]) next
  best[k] = b; med[k] = kv($0, "median_s") + 0; gbs[k] = kv($0, "gbs_best") + 0
  fc[k] = kv($0, "frac_copy"); fm[k] = kv($0, "frac_max"); ld[k] = kv($0, "load")
}
END {
  printf "\nSTREAM (float32, best over rounds, GB/s as STREAM counts bytes):\n"
  printf "%-4s %8s %8s %8s %8s %8s\n", "thr", "copy", "scale", "add", "triad", "update"
  for (t = 1; t <= 2; t++)
    printf "%-4d %8.1f %8.1f %8.1f %8.1f %8.1f\n", t, sbest["copy," t], sbest["scale," t], sbest["add," t], sbest["triad," t], sbest["update," t]
  printf "\nOptimizer step, %s float32 parameters (best round per row; ms = best step, med = median step of that round).\n", N
  printf "frac_copy / frac_max: GB/s over the copy / best STREAM kernel of the same process; frac_all: over the best STREAM kernel of all rounds.\n"
  printf "paired: median over the steps of (step GB/s / GB/s of an update kernel run just before it), best round.\n"
  printf "x_torch: torch foreach (lion: torch-ops reference) best time / descent best time.\n"
  printf "%-6s %3s %8s %8s %7s %9s %8s %8s %7s %8s | %9s %9s %8s %7s %6s\n", "algo", "thr", "ms", "med_ms", "GB/s", "frac_copy", "frac_max", "frac_all", "paired", "load", "torch_fe", "torch_1t", "torchGBs", "x_torch", "target"
  for (ai = 1; ai <= 4; ai++) {
    a = ai == 1 ? "sgd" : ai == 2 ? "adam" : ai == 3 ? "adamw" : "lion"
    ta = a == "lion" ? "lion_torchops" : a "_foreach"; ts = a == "lion" ? "" : a "_single"
    for (t = 1; t <= 2; t++) {
      k = "descent," a "," t; tk = "torch," ta "," t; sk = "torch," ts "," t
      if (!(k in best)) continue
      fa = smax[t] > 0 ? gbs[k] / smax[t] : 0
      x = (tk in best) && best[k] > 0 ? best[tk] / best[k] : 0
      ok = (fa >= 0.7 ? "bw" : fp[k] >= 0.7 ? "bwP" : "--") "," (x >= 2 ? "2x" : "--")
      printf "%-6s %3d %8.2f %8.2f %7.1f %9.2f %8.2f %8.2f %7.2f %8s | %9.2f %9s %8.1f %7.1f %6s\n", a, t, best[k] * 1e3, med[k] * 1e3, gbs[k], fc[k], fm[k], fa, fp[k], ld[k], best[tk] * 1e3, (sk in best) ? sprintf("%.2f", best[sk] * 1e3) : "-", gbs[tk], x, ok
    }
  }
  printf "target: bw = frac_all >= 0.70 (bandwidth target; bwP: only paired >= 0.70), 2x = at least 2x faster than torch foreach.\n"
}' N="$N" "$1"
}
{
  cat "$RAW"
  summarize "$RAW"
} | tee "$OUT"
