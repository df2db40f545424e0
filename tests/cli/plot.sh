#!/usr/bin/env bash
# descent plot / compare / datasets on run directories written here by hand (metrics.jsonl, and
# metrics.csv only for the fallback): PNG and SVG files, the compare table, the data set list, and
# the error exits (2: usage, 1: runtime). Needs gnuplot (gnuplot-nox, installed by install-deps.sh).
# Usage: plot.sh path/to/descent
set -u
bin="$1"
fail=0
check() { # description, got, want
    if [ "$2" != "$3" ]; then echo "FAIL: $1 (got '$2', want '$3')"; fail=1; else echo "ok: $1"; fi
}
has() { # description, text, pattern
    if printf '%s' "$2" | grep -q -- "$3"; then echo "ok: $1"; else echo "FAIL: $1: no '$3' in:"; printf '%s\n' "$2"; fail=1; fi
}
is_png() { [ -s "$1" ] && [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; }
is_svg() { [ -s "$1" ] && grep -q "<svg" "$1" && grep -q "</svg>" "$1"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v gnuplot >/dev/null; then
    echo "FAIL: gnuplot is not installed (apt-get install gnuplot-nox, or bash scripts/install-deps.sh)"
    exit 1
fi

# Two runs: a (JSON lines, with an extra key, a null and a truncated last line) and b (CSV only).
mkdir -p "$tmp/runs/adam" "$tmp/runs/sgd_lr0.1"
{
    for s in 1 2 3 4 5 6 7 8 9 10; do
        printf '{"kind":"step","step":%d,"epoch":%d,"train_loss":%s,"lr":0.001,"time_s":%s,"grad_norm":1.5}\n' \
            "$s" $(( (s + 4) / 5 )) "$(awk "BEGIN{print 2.3/($s)}")" "$(awk "BEGIN{print 0.1*$s}")"
        if [ $((s % 5)) = 0 ]; then
            printf '{"kind":"epoch","epoch":%d,"step":%d,"train_loss":%s,"test_loss":%s,"test_acc":%s,"test_top5":null,"time_s":%s,"samples_per_s":1234.5}\n' \
                $((s / 5)) "$s" "$(awk "BEGIN{print 1.5/($s)}")" "$(awk "BEGIN{print 1.6/($s)}")" \
                "$(awk "BEGIN{print 0.5+0.04*$s}")" "$(awk "BEGIN{print 0.1*$s}")"
        fi
    done
    printf '{"kind":"step","step":11,"epo'
} >"$tmp/runs/adam/metrics.jsonl"
printf '{"model": "mlp:64-32-10", "opt": "adam:lr=1e-3", "data": "digits", "epochs": 2, "nested": {"x": 1}}\n' \
    >"$tmp/runs/adam/config.json"
cat >"$tmp/runs/sgd_lr0.1/metrics.csv" <<'EOF'
kind,step,epoch,train_loss,lr,time_s,test_loss,test_acc,samples_per_s
step,1,1,2.5,0.1,0.1,,,
step,2,1,1.9,0.1,0.2,,,
step,3,1,1.2,0.1,0.3,,,
epoch,3,1,1.8,0.1,0.3,1.1,0.7,999
step,4,2,0.9,0.1,0.4,,,
step,5,2,0.8,0.1,0.5,,,
step,6,2,0.7,0.1,0.6,,,
epoch,6,2,0.8,0.1,0.6,0.9,0.81,1001
EOF
printf '{"model": "mlp:64-32-10", "opt": "sgd:lr=0.1"}\n' >"$tmp/runs/sgd_lr0.1/config.json"
a="$tmp/runs/adam"
b="$tmp/runs/sgd_lr0.1"

# --- plot ---
out=$("$bin" plot "$a" "$b" --metric train_loss --x step --out "$tmp/loss.png" 2>"$tmp/err"); rc=$?
check "plot PNG exit code" "$rc" 0
if is_png "$tmp/loss.png"; then echo "ok: loss.png is a non-empty PNG"; else echo "FAIL: loss.png is not a PNG"; fail=1; fi
has "plot prints the output path" "$out" "loss.png"
has "plot warns about the truncated line" "$(cat "$tmp/err")" "1 line(s) could not be parsed"

"$bin" plot "$a" "$b" --metric=test_acc,test_loss --x=epoch --logy --title "two runs" --out "$tmp/acc.svg" \
    --script "$tmp/acc.gp" >/dev/null 2>&1; rc=$?
check "plot SVG exit code" "$rc" 0
if is_svg "$tmp/acc.svg"; then echo "ok: acc.svg is a non-empty SVG"; else echo "FAIL: acc.svg is not an SVG"; fail=1; fi
gp=$(cat "$tmp/acc.gp" 2>/dev/null)
has "script: legend names the run directories" "$gp" "title 'sgd_lr0.1: test_acc'"
has "script: log y" "$gp" "set logscale y"
has "script: epoch data of run a" "$gp" "^2 0.9"
has "script: title" "$gp" "set title 'two runs'"

"$bin" plot "$a" --x time --logx --smooth 0.5 --out "$tmp/time.png" >/dev/null 2>&1; rc=$?
check "plot --x time --logx --smooth exit code" "$rc" 0
if is_png "$tmp/time.png"; then echo "ok: time.png is a PNG"; else echo "FAIL: time.png is not a PNG"; fail=1; fi

"$bin" plot "$b/metrics.csv" "$a/metrics.jsonl" --script "$tmp/direct.gp" --out "$tmp/direct.png" >/dev/null 2>&1; rc=$?
check "plot of metrics files named directly exit code" "$rc" 0
has "metrics file labelled by its run directory" "$(cat "$tmp/direct.gp" 2>/dev/null)" "title 'sgd_lr0.1'"
out=$("$bin" compare "$a/metrics.jsonl" 2>/dev/null); rc=$?
check "compare of a metrics file exit code" "$rc" 0
has "compare of a metrics file finds config.json" "$out" "adam:lr=1e-3"

out=$("$bin" plot --help); rc=$?
check "plot --help exit code" "$rc" 0
has "plot --help usage" "$out" "usage: descent plot RUN_DIR"

err=$("$bin" plot "$a" --bogus 2>&1 >/dev/null); rc=$?
check "plot unknown option exit code" "$rc" 2
has "plot unknown option named" "$err" "unknown option '--bogus'"
err=$("$bin" plot 2>&1 >/dev/null); rc=$?
check "plot without runs exit code" "$rc" 2
err=$("$bin" plot "$a" --out "$tmp/x.gif" 2>&1 >/dev/null); rc=$?
check "plot unknown image type exit code" "$rc" 2
has "plot lists the image types" "$err" ".png, .svg, .pdf"
err=$("$bin" plot "$a" --x "" --out "$tmp/x.png" 2>&1 >/dev/null); rc=$?
check "plot empty --x exit code" "$rc" 2
err=$("$bin" plot "$a" --x wall --out "$tmp/x.png" 2>&1 >/dev/null); rc=$?
check "plot --x of a missing column exit code" "$rc" 1
has "plot --x of a missing column lists the columns" "$err" "against wall (metrics in .*step, epoch, train_loss"
"$bin" plot "$a" --x lr --metric grad_norm --out "$tmp/col.png" >/dev/null 2>&1; rc=$?
check "plot --x another column exit code" "$rc" 0
err=$("$bin" plot "$a" --out 2>&1 >/dev/null); rc=$?
check "plot --out without a value exit code" "$rc" 2
err=$("$bin" plot "$tmp/nothing" --out "$tmp/x.png" 2>&1 >/dev/null); rc=$?
check "plot missing run exit code" "$rc" 1
has "plot missing run named" "$err" "nothing: no metrics.jsonl or metrics.csv"
err=$("$bin" plot "$a" --metric val_acc --out "$tmp/x.png" 2>&1 >/dev/null); rc=$?
check "plot missing metric exit code" "$rc" 1
has "plot missing metric lists the metrics" "$err" "no run has values of metric 'val_acc'.*train_loss"
err=$(DESCENT_GNUPLOT=/nonexistent/gnuplot "$bin" plot "$a" --out "$tmp/x.png" 2>&1 >/dev/null); rc=$?
check "plot without gnuplot exit code" "$rc" 1
has "plot without gnuplot says what to install" "$err" "gnuplot-nox"
err=$("$bin" plot "$a" --out "$tmp/no/such/dir/x.png" 2>&1 >/dev/null); rc=$?
check "plot unwritable output exit code" "$rc" 1
has "plot unwritable output named" "$err" "cannot write"

# --- compare ---
out=$("$bin" compare "$a" "$b" 2>"$tmp/err"); rc=$?
check "compare exit code" "$rc" 0
has "compare header" "$out" "^run *epochs *step *train_loss *test_loss *test_acc"
has "compare row a (last epoch line)" "$out" "^adam *2 *10 *0.1500 *0.1600 *0.9000"
has "compare row b (from metrics.csv)" "$out" "^sgd_lr0.1 *2 *6 *0.8000 *0.9000 *0.8100"
has "compare model and opt from config.json" "$out" "mlp:64-32-10 *adam:lr=1e-3 *digits"
has "compare best run" "$out" "best test_acc: adam (0.9000)"
out=$("$bin" compare "$a" "$b" --metric test_loss --format csv); rc=$?
check "compare csv exit code" "$rc" 0
has "compare csv header" "$out" "^run,epochs,step,train_loss,test_loss,test_acc,time_s,samples_per_s,model,opt,data"
has "compare csv row" "$out" "^sgd_lr0.1,2,6,0.8000,0.9000,0.8100,0.600,1001,mlp:64-32-10,sgd:lr=0.1,$"
out=$("$bin" compare "$a" "$b" --metric test_loss --plot "$tmp/cmp.png"); rc=$?
check "compare --plot exit code" "$rc" 0
has "compare best loss is the lowest" "$out" "best test_loss: adam"
if is_png "$tmp/cmp.png"; then echo "ok: cmp.png is a PNG"; else echo "FAIL: cmp.png is not a PNG"; fail=1; fi
err=$("$bin" compare "$a" --metric 2>&1 >/dev/null); rc=$?
check "compare missing value exit code" "$rc" 2
err=$("$bin" compare "$a" --format xml 2>&1 >/dev/null); rc=$?
check "compare bad format exit code" "$rc" 2
err=$("$bin" compare "$a" "$tmp/nothing" 2>&1 >/dev/null); rc=$?
check "compare missing run exit code" "$rc" 1
mkdir -p "$tmp/empty_run" && : >"$tmp/empty_run/metrics.jsonl"
err=$("$bin" compare "$tmp/empty_run" 2>&1 >/dev/null); rc=$?
check "compare empty metrics exit code" "$rc" 1
has "compare empty metrics message" "$err" "no metrics (the file is empty)"
out=$("$bin" compare --help); rc=$?
check "compare --help exit code" "$rc" 0

# --- datasets ---
out=$("$bin" datasets); rc=$?
check "datasets exit code" "$rc" 0
has "datasets: digits with its size" "$out" "digits *1797 *64 (1x8x8) *10"
has "datasets: iris" "$out" "iris *150 *4 *3"
has "datasets: fashion-mnist listed" "$out" "fashion-mnist"
has "datasets: generator parameters" "$out" "spirals.*" 
has "datasets: spirals defaults" "$out" "n=1000,noise=0.1"
has "datasets: formats" "$out" ".libsvm .svm"
mkdir -p "$tmp/idx/mnist"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte; do
    : >"$tmp/idx/mnist/$f"
done
out=$("$bin" datasets --data-dir "$tmp/idx"); rc=$?
check "datasets --data-dir exit code" "$rc" 0
has "datasets finds mnist in --data-dir" "$out" "found in $tmp/idx/mnist"
err=$("$bin" datasets --all 2>&1 >/dev/null); rc=$?
check "datasets unknown option exit code" "$rc" 2

exit $fail
