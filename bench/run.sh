#!/usr/bin/env bash
# Side-by-side benchmark of descent and PyTorch on this machine (docs/PERFORMANCE.md).
#
# usage: bash bench/run.sh BUILD_DIR        (`make bench` builds target `benchmarks` first)
#
# Runs, each configuration in its own process:
#   bench_sgemm --check                   1 vs 2 threads give bit-identical GEMMs
#   bench_sgemm --threads 1|2             peak sgemm GFLOP/s (the "fraction of peak" yardstick),
#                                         descent's default GEMM backend and OpenBLAS
#   bench_train with DSC_GEMM=openblas    descent on OpenBLAS instead of its own kernel (descent_ob)
#   bench_train / torch_train.py          MLP (one epoch of 60000) and CNN (DSC_BENCH_CNN_STEPS
#                                         batches), 1 and 2 threads, training step = forward +
#                                         backward + plain SGD
#   torch_train.py with OPENBLAS_NUM_THREADS=1   PyTorch really on 1 core (row torch_ob1)
#   torch_train.py with OMP_WAIT_POLICY=passive  PyTorch's best 2-thread setting (torch_passive)
# then prints a table of ratios (descent / PyTorch) and fractions of peak, and writes
# everything to bench/results/latest.txt.
#
# Environment:
#   DSC_BENCH_REPEAT      timed repetitions per process, fastest reported (default 3)
#   DSC_BENCH_CNN_STEPS   CNN batches per repetition (default 50)
#   DSC_BENCH_ROUNDS      run every pass this many times, interleaved; the table keeps each
#                         configuration's fastest round (default 1)
#   DSC_BENCH_PYTHON      Python with torch (default /usr/bin/python3)
#   DSC_BENCH_NICE        nice value for the measured processes (e.g. -5; default: unchanged)
#   DSC_BENCH_SECOND_PASS auto (default): a second pass with other OpenBLAS kernels for both
#                         sides: with OPENBLAS_CORETYPE unset ("autodetect") when the
#                         environment forces a core type, or with OPENBLAS_CORETYPE=SkylakeX
#                         when OpenBLAS picked its Haswell (AVX2) kernels on a CPU with
#                         AVX-512; 0 = no second pass.
set -u
summarize() {
  awk '
function kv(line, key,   n, i, a, p) {
  n = split(line, a, " ")
  for (i = 1; i <= n; i++) { p = index(a[i], "="); if (substr(a[i], 1, p - 1) == key) return substr(a[i], p + 1) }
  return ""
}
/^bench=sgemm_peak/ {
  k = kv($0, "pass") "," kv($0, "threads"); v = kv($0, "peak_gflops") + 0; if (v > peak[k]) peak[k] = v
  kb = k "," kv($0, "blas"); if (v > bpeak[kb]) bpeak[kb] = v
}
/^check=sgemm_threads_summary/ { check[kv($0, "pass")] += kv($0, "differing") }
/^bench=train/ {
  k = kv($0, "pass") "," kv($0, "model") "," kv($0, "impl") "," kv($0, "threads")
  if ((k in sps) && kv($0, "samples_per_s") + 0 <= sps[k]) next
  sps[k] = kv($0, "samples_per_s") + 0; ep[k] = kv($0, "s_per_epoch") + 0; gf[k] = kv($0, "gflops") + 0
  ck[k] = kv($0, "param_checksum")
  cpe[k] = kv($0, "time_s") > 0 ? kv($0, "cpu_s") / kv($0, "time_s") * ep[k] : 0
  rss[k] = kv($0, "peak_rss_kb") + 0; ld[k] = kv($0, "load"); arena[k] = kv($0, "arena_bytes") + 0
  passes[kv($0, "pass")] = 1
}
END {
  for (p in passes) {
    printf "\n== pass %s: sgemm peak %s GFLOP/s (1 thread), %s (2 threads) [avx512 %s/%s, openblas %s/%s]; 1-vs-2-thread GEMMs differing: %s ==\n", p, peak[p ",1"], peak[p ",2"], bpeak[p ",1,avx512"], bpeak[p ",2,avx512"], bpeak[p ",1,openblas"], bpeak[p ",2,openblas"], check[p]
    printf "%-5s %-13s %3s %12s %9s %9s %8s %7s %10s %6s\n", "model", "impl", "thr", "samples/s", "s/epoch", "cpu_s/ep", "GFLOP/s", "%peak", "peakRSS_MB", "load"
    for (mi = 1; mi <= 2; mi++) {
      m = mi == 1 ? "mlp" : "cnn"
      for (ii = 1; ii <= 5; ii++) {
        im = ii == 1 ? "descent" : ii == 2 ? "descent_ob" : ii == 3 ? "torch" : ii == 4 ? "torch_ob1" : "torch_passive"
        for (t = 1; t <= 2; t++) {
          k = p "," m "," im "," t
          if (!(k in sps)) continue
          pk = peak[p "," t]
          frac = pk > 0 ? 100 * gf[k] / pk : 0
          printf "%-5s %-13s %3d %12.0f %9.3f %9.3f %8.1f %6.1f%% %10.1f %6s\n", m, im, t, sps[k], ep[k], cpe[k], gf[k], frac, rss[k] / 1024, ld[k]
        }
      }
      bd = 0; bt = 0
      for (t = 1; t <= 2; t++) {
        if (sps[p "," m ",descent," t] > bd) { bd = sps[p "," m ",descent," t]; btd = t }
        if (sps[p "," m ",torch," t] > bt) { bt = sps[p "," m ",torch," t]; btt = "torch " t " thr" }
      }
      if (sps[p "," m ",torch_ob1,1"] > bt) { bt = sps[p "," m ",torch_ob1,1"]; btt = "torch_ob1 1 thr" }
      if (sps[p "," m ",torch_passive,2"] > bt) { bt = sps[p "," m ",torch_passive,2"]; btt = "torch_passive 2 thr" }
      d1 = cpe[p "," m ",descent,1"]; o1 = cpe[p "," m ",torch_ob1,1"]
      if (d1 > 0 && o1 > 0)
        printf "%s: one core, CPU seconds per epoch (robust to load): descent %.3f, PyTorch (OpenBLAS 1 thread) %.3f -> %.2fx\n", m, d1, o1, o1 / d1
      c1 = ck[p "," m ",descent,1"]; c2 = ck[p "," m ",descent,2"]
      if (c1 != "" && c2 != "")
        printf "%s: descent parameters after training, 1 vs 2 threads: %s\n", m, c1 == c2 ? "bit-identical" : "DIFFERENT (" c1 " vs " c2 ")"
      if (bt > 0) {
        printf "%s: descent best (%d thr) / PyTorch best (%s) samples/s = %.2fx", m, btd, btt, bd / bt
        printf "; peak RSS descent/PyTorch (1 thr) = %.1f/%.1f MB; descent arena %.2f MB\n", rss[p "," m ",descent,1"] / 1024, rss[p "," m ",torch,1"] / 1024, arena[p "," m ",descent,1"] / 1048576
      } else
        printf "%s: descent best %.0f samples/s (%d thr); PyTorch not run; descent arena %.2f MB\n", m, bd, btd, arena[p "," m ",descent,1"] / 1048576
    }
  }
}' "$1"
}

# `bash bench/run.sh --summarize FILE` re-prints the table of an earlier run.
if [ "${1:-}" = --summarize ]; then
  summarize "$2"
  exit 0
fi
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
REPEAT=${DSC_BENCH_REPEAT:-3}
CNN_STEPS=${DSC_BENCH_CNN_STEPS:-50}
ROUNDS=${DSC_BENCH_ROUNDS:-1}
PY=${DSC_BENCH_PYTHON:-/usr/bin/python3}
SECOND=${DSC_BENCH_SECOND_PASS:-auto}
OUTDIR="$ROOT/bench/results"
OUT="$OUTDIR/latest.txt"
mkdir -p "$OUTDIR"

for exe in bench_sgemm bench_train; do
  if [ ! -x "$BUILD/$exe" ]; then
    echo "run.sh: $BUILD/$exe is missing; build it with: cmake --build $BUILD --target benchmarks" >&2
    exit 1
  fi
done

RAW=$(mktemp)
trap 'rm -f "$RAW"' EXIT
log() { echo "$@" | tee -a "$RAW"; }

have_torch=1
if ! "$PY" -c "import torch" >/dev/null 2>&1; then
  have_torch=0
  echo "run.sh: PyTorch is not available to $PY; running descent's side only." >&2
  echo "        Install it with: sudo apt-get install python3-torch" >&2
  echo "        (or: DSC_BENCH_DEPS=1 bash scripts/install-deps.sh)" >&2
fi

cpu_model=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
cores=$(nproc 2>/dev/null || echo "?")
log "# descent benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
log "# machine: ${cpu_model:-unknown CPU}, $cores cores; $(uname -sr)"
log "# git: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (+local changes)')"
[ $have_torch = 1 ] && log "# torch: $("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null)"
log "# nice=${NICE:-unchanged} repeat=$REPEAT (fastest repetition reported), rounds=$ROUNDS, cnn_steps=$CNN_STEPS, data: random 1x28x28 inputs, 10 classes"

# DSC_BENCH_NICE=-5 (say) runs the measured processes at a higher priority (root only), for a
# machine that is busy with other work; off by default.
NICE=${DSC_BENCH_NICE:-}
nice_run() { if [ -n "$NICE" ]; then nice -n "$NICE" "$@"; else "$@"; fi; }
load() { awk '{print $1}' /proc/loadavg 2>/dev/null || echo "?"; }

# run_pass TAG: every measurement once, lines tagged pass=TAG and the load before each.
run_pass() {
  local tag=$1
  # dsc_sgemm's default backend (descent's AVX-512 kernel where the CPU has it) and
  # OpenBLAS; the machine's peak is the better of the two.
  for be in default openblas; do
    local env=""
    [ "$be" = openblas ] && env="DSC_GEMM=openblas"
    log "$(env $env "$BUILD/bench_sgemm" --check | tail -1) pass=$tag backend=$be"
    for t in 1 2; do
      log "$(nice_run env $env "$BUILD/bench_sgemm" --threads "$t" --sizes 1024,2048,4096 --reps 3 | tail -1) pass=$tag load=$(load)"
    done
  done
  for model in mlp cnn; do
    local steps=""
    [ "$model" = cnn ] && steps="--steps $CNN_STEPS"
    for t in 1 2; do
      local l
      l=$(load)
      log "$(nice_run "$BUILD/bench_train" --model $model --threads $t $steps --repeat "$REPEAT") pass=$tag load=$l"
      # descent with OpenBLAS instead of its own GEMM kernel (row descent_ob).
      if [ "$("$BUILD/bench_sgemm" --corename | sed -n 's/.*blas=\([^ ]*\).*/\1/p')" != openblas ]; then
        l=$(load)
        log "$(nice_run env DSC_GEMM=openblas "$BUILD/bench_train" --model $model --threads $t $steps --repeat "$REPEAT" --tag descent_ob) pass=$tag load=$l"
      fi
      if [ $have_torch = 1 ]; then
        l=$(load)
        log "$(nice_run "$PY" "$ROOT/bench/torch_train.py" --model $model --threads $t $steps --repeat "$REPEAT") pass=$tag load=$l"
        # torch.set_num_threads does not reach OpenBLAS, which keeps one thread per core:
        # "torch 1 thread" multiplies matrices on every core. This row pins OpenBLAS too.
        if [ "$t" = 1 ]; then
          l=$(load)
          log "$(OPENBLAS_NUM_THREADS=1 nice_run "$PY" "$ROOT/bench/torch_train.py" --model $model --threads 1 $steps --repeat "$REPEAT" --tag torch_ob1) pass=$tag load=$l"
        else
          # PyTorch's two thread pools (OpenMP, OpenBLAS) spin against each other on 2
          # cores; OMP_WAIT_POLICY=passive is its best 2-thread setting here.
          l=$(load)
          log "$(OMP_WAIT_POLICY=passive nice_run "$PY" "$ROOT/bench/torch_train.py" --model $model --threads 2 $steps --repeat "$REPEAT" --tag torch_passive) pass=$tag load=$l"
        fi
      fi
    done
  done
}

corename() { "$BUILD/bench_sgemm" --corename 2>/dev/null | sed -n 's/.*corename=\([^ ]*\).*/\1/p'; }
cn=$(corename)
log "# pass env: openblas kernels ${cn:-n/a}${OPENBLAS_CORETYPE:+ (forced by OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE in the environment)}"
for round in $(seq 1 "$ROUNDS"); do
  [ "$ROUNDS" -gt 1 ] && log "# round $round of $ROUNDS"
  run_pass env
  if [ "$SECOND" != 0 ] && [ -n "${OPENBLAS_CORETYPE:-}" ]; then
    saved=$OPENBLAS_CORETYPE
    unset OPENBLAS_CORETYPE
    log "# pass autodetect: OPENBLAS_CORETYPE unset, openblas kernels $(corename)"
    run_pass autodetect
    export OPENBLAS_CORETYPE=$saved
  elif [ "$SECOND" != 0 ] && grep -qw avx512f /proc/cpuinfo 2>/dev/null && [ "$cn" = Haswell ]; then
    log "# pass skx: OpenBLAS chose Haswell (AVX2) kernels on a CPU with AVX-512; OPENBLAS_CORETYPE=SkylakeX"
    export OPENBLAS_CORETYPE=SkylakeX
    run_pass skx
    unset OPENBLAS_CORETYPE
  fi
done

# ---- summary: ratios (descent / PyTorch) and fractions of peak ----
SUMMARY=$(summarize "$RAW")
log "$SUMMARY"
cp "$RAW" "$OUT"
echo
echo "run.sh: wrote $OUT"
bash "$ROOT/bench/run_optim.sh" "$BUILD"
