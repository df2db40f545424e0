#!/usr/bin/env bash
# descent train / eval: the final line, run directory contents, exit codes and error messages,
# divergence, early stopping, config files, Ctrl-C. Usage: train.sh path/to/descent
set -u
bin="$1"
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { # description, got, want
    if [ "$2" != "$3" ]; then echo "FAIL: $1 (got '$2', want '$3')"; fail=1; else echo "ok: $1"; fi
}
has() { # description, text, pattern (grep -E)
    if printf '%s' "$2" | grep -Eq -- "$3"; then echo "ok: $1"; else echo "FAIL: $1: no '$3' in:"; printf '%s\n' "$2"; fail=1; fi
}
exists() { if [ -e "$2" ]; then echo "ok: $1"; else echo "FAIL: $1: $2 missing"; fail=1; fi; }

# A short run on the embedded digits set.
out=$("$bin" train --model mlp:64-32-10 --data digits --opt adam:lr=1e-2 --epochs 2 --batch-size 32 --seed 0 \
      --out "$tmp/run" 2>"$tmp/err"); rc=$?
check "train exit code" "$rc" 0
check "exactly one stdout line" "$(printf '%s\n' "$out" | wc -l)" 1
has "final line format" "$out" '^final: epochs=2 train_loss=[0-9]+\.[0-9]{4} test_loss=[0-9]+\.[0-9]{4} test_acc=[0-9]\.[0-9]{4} time_s=[0-9]+\.[0-9] samples_per_s=[0-9]+$'
acc=$(printf '%s' "$out" | sed 's/.*test_acc=\([0-9.]*\).*/\1/')
check "digits mlp learns (test_acc > 0.85)" "$(awk -v a="$acc" 'BEGIN{print (a > 0.85)}')" 1
has "plain log lines when stderr is not a terminal" "$(cat "$tmp/err")" '^epoch 2/2: step 90/90 train_loss='
for f in config.json metrics.jsonl metrics.csv model.safetensors checkpoints/latest; do exists "run dir has $f" "$tmp/run/$f"; done
check "--keep 2 default keeps two checkpoints" "$(ls "$tmp/run/checkpoints" | grep -c '^ckpt-.*\.safetensors$')" 2
cfg=$(cat "$tmp/run/config.json")
has "config.json model" "$cfg" '"model": "mlp:64-32-10"'
has "config.json seed" "$cfg" '"seed": 0'
has "config.json version" "$cfg" '"descent_version": "[0-9.]+"'
has "config.json git commit" "$cfg" '"git_commit": "[0-9a-f]+|unknown"'
check "metrics.jsonl: 90 step lines" "$(grep -c '"kind":"step"' "$tmp/run/metrics.jsonl")" 90
check "metrics.jsonl: 2 epoch lines" "$(grep -c '"kind":"epoch"' "$tmp/run/metrics.jsonl")" 2
has "epoch line has test metrics" "$(grep '"kind":"epoch"' "$tmp/run/metrics.jsonl" | head -1)" '"test_loss":[0-9.e-]+,"test_acc":[0-9.e-]+,"test_top5":'
check "metrics.csv header" "$(head -1 "$tmp/run/metrics.csv" | cut -d, -f1-6)" "kind,step,epoch,train_loss,lr,time_s"
check "metrics.csv rows" "$(($(wc -l <"$tmp/run/metrics.csv") - 1))" 92

# descent eval on the run: the same test metrics as the final epoch.
ev=$("$bin" eval --resume "$tmp/run"); rc=$?
check "eval exit code" "$rc" 0
tl=$(printf '%s' "$out" | sed 's/.*test_loss=\([0-9.]*\).*/\1/')
has "eval reproduces test_loss and test_acc" "$ev" "^eval: data=digits examples=359 loss=$tl acc=$acc "
# The same from the weights file alone (the model spec given, standardization recomputed as in training).
ew=$("$bin" eval --model mlp:64-32-10 --data digits --weights "$tmp/run/model.safetensors"); rc=$?
check "eval --weights exit code" "$rc" 0
check "eval --weights = eval --resume" "${ew% weights=*}" "${ev% checkpoint=*}"
"$bin" eval --resume "$tmp/run" --weights "$tmp/run/model.safetensors" >/dev/null 2>&1
check "eval --resume with --weights exit 2" "$?" 2
"$bin" eval --data digits --weights "$tmp/run/model.safetensors" >/dev/null 2>&1
check "eval --weights without --model exit 2" "$?" 2

# Usage errors: exit 2 with a message naming the option and the valid choices.
err=$("$bin" train --model mlp:64-10 --data digits --bogus 1 2>&1 >/dev/null); rc=$?
check "unknown option exit 2" "$rc" 2
has "unknown option named, valid listed" "$err" "unknown option '--bogus'; valid options: --model, --data"
err=$("$bin" train --model mlp:784-256-10 --data digits --out "$tmp/x" 2>&1 >/dev/null); rc=$?
check "model not fitting the data exit 2" "$rc" 2
has "model mismatch message" "$err" "--model: .*784 must equal the input size 64.*shape \[1, 8, 8\]"
err=$("$bin" train --model mlp:64-10 --data digits --batch-size 0 2>&1 >/dev/null); rc=$?
check "batch size out of range exit 2" "$rc" 2
has "batch size range" "$err" "--batch-size 0 is out of range"
err=$("$bin" train --model mlp:64-10 --data digits --opt adamx --out "$tmp/x" 2>&1 >/dev/null); rc=$?
check "unknown optimizer exit 2" "$rc" 2
has "optimizer choices listed" "$err" "--opt: .*adamx.*sgd"
err=$("$bin" train --model mlp:64-10 --data digits --sampling random 2>&1 >/dev/null); rc=$?
check "bad choice exit 2" "$rc" 2
has "choices listed" "$err" "--sampling 'random' is not valid; choices: shuffle, replacement"
err=$("$bin" train --model mlp:64-10 --data digits --early-stop 3 2>&1 >/dev/null); rc=$?
check "early stop without validation exit 2" "$rc" 2
err=$("$bin" train --model mlp:64-10 --data nosuchset --out "$tmp/x" 2>&1 >/dev/null); rc=$?
check "unknown data set exit 2" "$rc" 2
has "data sets listed" "$err" "--data: .*nosuchset.*digits"
err=$("$bin" train --data digits 2>&1 >/dev/null); rc=$?
check "missing --model exit 2" "$rc" 2
out=$("$bin" train --help); rc=$?
check "help exit 0" "$rc" 0
has "help lists --accumulate" "$out" "--accumulate N"
out=$("$bin" eval --help); rc=$?
check "eval help exit 0" "$rc" 0
err=$("$bin" eval --resume "$tmp/run" --epochs 3 2>&1 >/dev/null); rc=$?
check "eval refuses train options" "$rc" 2

# Config file; flags override it; unknown keys are refused.
printf '{"model": "mlp:64-16-10", "data": "digits", "epochs": 1, "batch-size": 64, "seed": 3}\n' >"$tmp/c.json"
out=$("$bin" train --config "$tmp/c.json" --epochs 2 --out "$tmp/cfgrun" 2>/dev/null); rc=$?
check "config file run exit 0" "$rc" 0
has "flag overrides config" "$out" "^final: epochs=2 "
has "resolved config saved" "$(cat "$tmp/cfgrun/config.json")" '"batch-size": 64'
printf '{"model": "mlp:64-16-10", "data": "digits", "learning_rate": 1}\n' >"$tmp/bad.json"
err=$("$bin" train --config "$tmp/bad.json" 2>&1 >/dev/null); rc=$?
check "unknown config key exit 2" "$rc" 2
has "unknown config key named" "$err" "unknown option 'learning_rate'"

# Divergence: a huge learning rate stops the run naming the step and the tensor, exit 1,
# and writes no checkpoint.
err=$("$bin" train --model mlp:64-32-10 --data digits --opt sgd:lr=1e30 --epochs 2 --out "$tmp/div" 2>&1 >/dev/null); rc=$?
check "divergence exit 1" "$rc" 1
has "divergence names the step and node" "$err" "diverged at step [0-9]+ \(epoch 1\): the loss is (NaN|\+Inf|-Inf); first non-finite value in node [0-9]+"
check "no checkpoint after divergence" "$(ls "$tmp/div/checkpoints" 2>/dev/null | wc -l)" 0

# Early stopping on val_loss with patience 1 and a learning rate too large to keep improving.
out=$("$bin" train --model mlp:64-64-10 --data digits --opt sgd:lr=2 --epochs 30 --val-split 0.2 --early-stop 1 \
      --out "$tmp/es" 2>"$tmp/err"); rc=$?
check "early stopping exit 0" "$rc" 0
has "early stopping message" "$(cat "$tmp/err")" "early stopping: no better val_loss for 1 epochs"
has "stopped before 30 epochs" "$out" "^final: epochs=([0-9]|1[0-9]|2[0-9]) "

# Gradient accumulation, clipping, augmentation, sampling with replacement, drop_last, a schedule.
out=$("$bin" train --model cnn:c4k3-p2-f16 --data digits --epochs 1 --batch-size 16 --accumulate 2 --clip-norm 1 \
      --augment crop=1,flip,noise=0.1 --sampling replacement --drop-last --schedule cosine:t_max=40 \
      --out "$tmp/opts" 2>/dev/null); rc=$?
check "all options together exit 0" "$rc" 0
has "all options final line" "$out" "^final: epochs=1 "
check "steps with accumulation: floor(1438/16)=89 batches -> 45 steps" \
    "$(grep -c '"kind":"step"' "$tmp/opts/metrics.jsonl")" 45

# --init: the weight initializer (torch_default is the default; another changes the run; a bad one is exit 2).
a=$("$bin" train --model mlp:64-32-10 --data digits --steps 5 --seed 3 2>/dev/null | cut -d' ' -f3)
b=$("$bin" train --model mlp:64-32-10 --data digits --steps 5 --seed 3 --init torch_default 2>/dev/null | cut -d' ' -f3)
c=$("$bin" train --model mlp:64-32-10 --data digits --steps 5 --seed 3 --init kaiming_normal:nonlinearity=relu \
    --out "$tmp/init" 2>/dev/null | cut -d' ' -f3)
check "--init torch_default is the default" "$b" "$a"
if [ -n "$c" ] && [ "$c" != "$a" ]; then echo "ok: --init kaiming_normal changes the run"; else echo "FAIL: --init kaiming_normal: '$c' vs '$a'"; fail=1; fi
has "config.json records --init" "$(cat "$tmp/init/config.json")" '"init": "kaiming_normal:nonlinearity=relu"'
err=$("$bin" train --model mlp:64-32-10 --data digits --init kaiming_sideways 2>&1 >/dev/null); rc=$?
check "--init unknown exit 2" "$rc" 2
has "--init error names the option and the choices" "$err" "--init: .*unknown initializer 'kaiming_sideways'.*kaiming_normal"

# --weights: a warm start from a run's model.safetensors (lr 0: the weights come back unchanged); a
# model of another shape is exit 2 naming the tensor; a missing file exit 1.
"$bin" train --model mlp:64-32-10 --data digits --steps 1 --opt sgd:lr=0 --weights "$tmp/run/model.safetensors" \
    --out "$tmp/warm" >/dev/null 2>&1
check "--weights exit 0" "$?" 0
if cmp -s "$tmp/run/model.safetensors" "$tmp/warm/model.safetensors"; then echo "ok: --weights loads every tensor"
else echo "FAIL: --weights: model.safetensors differs after a step with lr 0"; fail=1; fi
err=$("$bin" train --model mlp:64-16-10 --data digits --weights "$tmp/run/model.safetensors" --out "$tmp/w2" 2>&1 >/dev/null); rc=$?
check "--weights of another shape exit 2" "$rc" 2
has "--weights names the tensor and shapes" "$err" "--weights: .*'0.weight' has shape \[32, 64\], expected \[16, 64\]"
"$bin" train --model mlp:64-32-10 --data digits --weights "$tmp/none.safetensors" --out "$tmp/w3" >/dev/null 2>&1
check "--weights missing file exit 1" "$?" 1

# --steps instead of epochs.
out=$("$bin" train --model mlp:64-32-10 --data digits --steps 10 --out "$tmp/steps" 2>/dev/null); rc=$?
check "--steps exit 0" "$rc" 0
check "--steps: 10 step lines" "$(grep -c '"kind":"step"' "$tmp/steps/metrics.jsonl")" 10

# Ctrl-C: a checkpoint is saved, exit 130, and the run resumes.
"$bin" train --model mlp:64-32-10 --data digits --epochs 100000 --out "$tmp/int" >/dev/null 2>"$tmp/interr" &
pid=$!
sleep 1
kill -INT $pid
wait $pid; rc=$?
check "Ctrl-C exit 130" "$rc" 130
has "Ctrl-C message" "$(cat "$tmp/interr")" "interrupted at step [0-9]+: checkpoint saved to .*; continue with: descent train --resume"
exists "Ctrl-C checkpoint" "$tmp/int/checkpoints/latest"

exit $fail
