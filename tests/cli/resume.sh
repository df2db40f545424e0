#!/usr/bin/env bash
# --resume: a run stopped after epoch k (or interrupted inside an epoch, or stopped after a number of
# steps) and resumed gives bit-identical weights (model.safetensors) and metrics lines (the
# wall-time fields time_s and samples_per_s removed) to an uninterrupted run.
# Usage: resume.sh path/to/descent
set -u
bin="$1"
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { if [ "$2" != "$3" ]; then echo "FAIL: $1 (got '$2', want '$3')"; fail=1; else echo "ok: $1"; fi; }
notime() { sed -E 's/"(time_s|samples_per_s)":[^,}]*,?//g' "$1"; }
csv_notime() { cut -d, -f1-5,7-14,16- "$1"; } # drop the time_s (6) and samples_per_s (15) columns
same_run() { # description, dir A, dir B
    if cmp -s "$2/model.safetensors" "$3/model.safetensors"; then echo "ok: $1: weights identical"
    else echo "FAIL: $1: model.safetensors differ"; fail=1; fi
    if diff <(notime "$2/metrics.jsonl") <(notime "$3/metrics.jsonl") >"$tmp/d"; then echo "ok: $1: metrics.jsonl identical"
    else echo "FAIL: $1: metrics.jsonl differ:"; head -5 "$tmp/d"; fail=1; fi
    if diff <(csv_notime "$2/metrics.csv") <(csv_notime "$3/metrics.csv") >"$tmp/d"; then echo "ok: $1: metrics.csv identical"
    else echo "FAIL: $1: metrics.csv differ:"; head -5 "$tmp/d"; fail=1; fi
}

# Adam + a schedule + dropout + BatchNorm + augmentation + validation split: every piece of state.
common=(--model "mlp:64-48-10,dropout=0.2,batchnorm=1" --data digits --opt adam:lr=2e-3 --schedule cosine:t_max=200
        --batch-size 32 --seed 7 --augment noise=0.1 --val-split 0.1)
"$bin" train "${common[@]}" --epochs 3 --out "$tmp/full" >"$tmp/full.out" 2>/dev/null
check "uninterrupted run" "$?" 0
"$bin" train "${common[@]}" --epochs 1 --out "$tmp/part" >/dev/null 2>&1
check "first part (1 epoch)" "$?" 0
"$bin" train --resume "$tmp/part" --epochs 3 >"$tmp/part.out" 2>"$tmp/part.err"
check "resumed to 3 epochs" "$?" 0
same_run "stop after epoch 1, resume to 3" "$tmp/full" "$tmp/part"
check "final lines agree (but time)" "$(sed -E 's/ time_s=.*//' "$tmp/part.out")" "$(sed -E 's/ time_s=.*//' "$tmp/full.out")"
if grep -q "resumed from .*ckpt-epoch0001-step000000041.safetensors" "$tmp/part.err"; then echo "ok: resumed from epoch 1's checkpoint"
else echo "FAIL: resume message:"; cat "$tmp/part.err"; fail=1; fi

# Stop after a number of steps (inside epoch 2), then resume by epochs.
"$bin" train "${common[@]}" --steps 50 --out "$tmp/steps" >/dev/null 2>&1
"$bin" train --resume "$tmp/steps" --epochs 3 >/dev/null 2>&1
check "resume after --steps 50" "$?" 0
same_run "stop at step 50, resume to 3 epochs" "$tmp/full" "$tmp/steps"

# Gradient accumulation with SGD + momentum, stop after 2 epochs, resume to 3.
acc=(--model mlp:64-32-10 --data digits --opt sgd:lr=0.05,momentum=0.9 --batch-size 16 --accumulate 3 --seed 1)
"$bin" train "${acc[@]}" --epochs 3 --out "$tmp/accfull" >/dev/null 2>&1
"$bin" train "${acc[@]}" --epochs 2 --out "$tmp/accpart" >/dev/null 2>&1
"$bin" train --resume "$tmp/accpart" --epochs 3 >/dev/null 2>&1
same_run "accumulation, stop after 2 epochs" "$tmp/accfull" "$tmp/accpart"

# A closure optimizer (SAM: two evaluations per step) with dropout and BatchNorm, and
# --no-decay-bias-norm (parameter groups, rebuilt on resume from config.json).
sam=(--model "mlp:64-32-10,dropout=0.2,batchnorm=1" --data digits --opt "sam:base=[adamw:lr=1e-3,weight_decay=0.1],rho=0.05"
     --no-decay-bias-norm --batch-size 32 --seed 5)
"$bin" train "${sam[@]}" --epochs 2 --out "$tmp/samfull" >/dev/null 2>&1
check "sam + --no-decay-bias-norm run" "$?" 0
"$bin" train "${sam[@]}" --steps 30 --out "$tmp/sampart" >/dev/null 2>&1
"$bin" train --resume "$tmp/sampart" --steps 0 --epochs 2 >/dev/null 2>&1
check "sam + --no-decay-bias-norm resumed" "$?" 0
same_run "sam + --no-decay-bias-norm, stop at step 30, resume to 2 epochs" "$tmp/samfull" "$tmp/sampart"

# Ctrl-C inside an epoch: resuming reaches the same end.
ctl=(--model mlp:64-32-10 --data digits --opt adam:lr=1e-3 --batch-size 8 --seed 2 --epochs 60)
"$bin" train "${ctl[@]}" --out "$tmp/cfull" >/dev/null 2>&1
"$bin" train "${ctl[@]}" --out "$tmp/cint" >/dev/null 2>&1 &
pid=$!
sleep 0.5
kill -INT $pid 2>/dev/null
wait $pid; rc=$?
if [ "$rc" = 130 ]; then
    "$bin" train --resume "$tmp/cint" >/dev/null 2>&1
    check "resume after Ctrl-C" "$?" 0
    same_run "Ctrl-C inside an epoch, resumed" "$tmp/cfull" "$tmp/cint"
else
    echo "skip: the run ended before Ctrl-C (rc $rc)"
fi

# The thread count does not change a run.
thr=(--model cnn:c4k3-p2-f16 --data digits --opt adam:lr=1e-3 --batch-size 32 --seed 4 --epochs 1)
"$bin" train "${thr[@]}" --threads 1 --out "$tmp/t1" >/dev/null 2>&1
"$bin" train "${thr[@]}" --threads 2 --out "$tmp/t2" >/dev/null 2>&1
same_run "1 vs 2 threads" "$tmp/t1" "$tmp/t2"
# --threads auto changes the count between steps while it measures (here from the 2nd step on:
# DESCENT_THREADS_PROBE_AFTER=0): the same run as one thread.
auto=(--model mlp:256-512-512-10 --data blobs:n=15000,d=256,classes=10 --batch-size 64 --seed 2 --epochs 1)
"$bin" train "${auto[@]}" --threads 1 --out "$tmp/a1" >/dev/null 2>&1
DESCENT_THREADS_PROBE_AFTER=0 "$bin" train "${auto[@]}" --threads auto --out "$tmp/aa" >/dev/null 2>"$tmp/aa.err"
if grep -q "threads: auto: [1-9]" "$tmp/aa.err"; then
    same_run "--threads auto (measured) vs 1 thread" "$tmp/a1" "$tmp/aa"
else
    echo "skip: --threads auto made no measurement (one core): $(tail -1 "$tmp/aa.err")"
fi

# Resuming a run directory without checkpoints fails cleanly.
mkdir -p "$tmp/empty"
printf '{"model": "mlp:64-10", "data": "digits"}\n' >"$tmp/empty/config.json"
"$bin" train --resume "$tmp/empty" --epochs 2 >/dev/null 2>"$tmp/e"; rc=$?
check "resume without checkpoint exit 1" "$rc" 1
"$bin" train --resume "$tmp/nonexistent" --epochs 2 >/dev/null 2>&1; rc=$?
check "resume of a missing directory exit 1" "$rc" 1

exit $fail
