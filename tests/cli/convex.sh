#!/usr/bin/env bash
# descent convex: per-pass lines and the final line, several solvers, the optimum cache, --solve-exact,
# --plot (when gnuplot exists), help and usage errors (exit code 2).
# Usage: convex.sh path/to/descent
set -u
bin="$1"
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { # description, command status, expected
    if [ "$2" != "$3" ]; then echo "FAIL: $1 (got '$2', want '$3')"; fail=1; else echo "ok: $1"; fi
}
has() { # description, text, pattern
    if printf '%s' "$2" | grep -q -- "$3"; then echo "ok: $1"; else echo "FAIL: $1: no '$3' in:"; printf '%s\n' "$2"; fail=1; fi
}

out=$("$bin" convex --problem logreg:l2=1e-3 --data breast-cancer --standardize --solver saga --epochs 5 --seed 0 --out "$tmp/run"); rc=$?
check "saga exit code" "$rc" 0
# 2 header lines + 6 records (passes 0..5) + final
check "saga line count" "$(printf '%s\n' "$out" | wc -l)" 9
# each record: pass, grad_evals, time_s, f, f-f*, grad_norm, |w-w*| (the last is 0 only at w*)
check "records have 7 columns" "$(printf '%s\n' "$out" | grep -v '^[#f]' | awk '{print NF}' | sort -u)" 7
check "|w-w*| shrinks from pass 0 to 5" \
    "$(printf '%s\n' "$out" | grep -v '^[#f]' | awk 'NR == 1 {a = $7} END {print ($7 < a && $7 > 0)}')" 1
has "final line" "$out" "^final: f=[0-9.e+-]* f_star=0.0598397745424[0-9]* subopt=[0-9.e+-]* grad_norm=[0-9.e+-]* passes=5 grad_evals=2845 time_s=[0-9.]* solver=saga$"
check "optimum cached" "$(ls "$tmp/run" | tr '\n' ' ')" "f_star.txt metrics.csv w_star.npy "
has "metrics.csv header" "$(head -1 "$tmp/run/metrics.csv")" "^kind,step,passes,grad_evals,time_s,f,subopt,grad_norm,dist$"
# the second run reads the cached optimum: the same f_star
out2=$("$bin" convex --problem logreg:l2=1e-3 --data breast-cancer --standardize --solver saga --epochs 5 --seed 0 --out "$tmp/run" --quiet); rc=$?
check "cached rerun exit code" "$rc" 0
check "cached rerun: identical final values" "$(printf '%s' "$out2" | sed 's/time_s=[0-9.]*//')" "$(printf '%s\n' "$out" | tail -1 | sed 's/time_s=[0-9.]*//')"

out=$("$bin" convex --problem logreg:l2=1e-2 --data logistic:n=500,d=10 --standardize --solvers sgd,svrg,saga,sag:lr=0.01,init=zero --epochs 10 --quiet --out "$tmp/multi"); rc=$?
check "several solvers exit code" "$rc" 0
check "several solvers: four final lines" "$(printf '%s\n' "$out" | grep -c '^final:')" 4
has "continuation of a spec" "$out" "solver=sag:lr=0.01,init=zero$"
check "one run directory per solver" "$(ls "$tmp/multi" | tr '\n' ' ')" "f_star.txt sag_lr=0.01_init=zero saga sgd svrg w_star.npy "

out=$("$bin" convex --problem quadratic:d=5,kappa=10 --solve-exact --out "$tmp/ex"); rc=$?
check "solve-exact exit code" "$rc" 0
has "solve-exact prints f*" "$out" "^f_star=0$"
check "solve-exact writes w*" "$(ls "$tmp/ex" | tr '\n' ' ')" "f_star.txt w_star.npy "

if command -v gnuplot >/dev/null 2>&1; then
    "$bin" convex --problem logreg:l2=1e-2 --data logistic:n=300,d=5 --solvers sgd,saga --epochs 5 --quiet --plot "$tmp/p.png" >/dev/null; rc=$?
    check "plot exit code" "$rc" 0
    check "plot written" "$(test -s "$tmp/p.png" && echo yes)" yes
fi

# a solver that cannot run on the problem is reported; the others still run; exit status 1
out=$("$bin" convex --problem rosenbrock:d=2 --solvers nesterov,lbfgs --epochs 100 --quiet 2>"$tmp/err"); rc=$?
check "failed solver -> 1" "$rc" 1
has "the other solver ran" "$out" "^final: f=0 f_star=0 .*solver=lbfgs$"
has "the failure is named" "$(cat "$tmp/err")" "solver 'nesterov'.*needs L"

out=$("$bin" convex --help); rc=$?
check "help exit code" "$rc" 0
has "help names --solvers" "$out" "--solvers LIST"
out=$("$bin" convex --help-solvers); rc=$?
check "help-solvers exit code" "$rc" 0
has "help-solvers lists svrg" "$out" "svrg"

"$bin" convex --problem logreg --data breast-cancer --solver nosuch >/dev/null 2>&1; check "unknown solver -> 2" "$?" 2
"$bin" convex --problem logreg --data breast-cancer --solver "saga:foo=1" >/dev/null 2>&1; check "unknown solver option -> 2" "$?" 2
"$bin" convex --problem nosuch --solver gd >/dev/null 2>&1; check "unknown problem -> 2" "$?" 2
"$bin" convex --problem logreg --data breast-cancer >/dev/null 2>&1; check "no solver -> 2" "$?" 2
"$bin" convex --solver gd >/dev/null 2>&1; check "no problem -> 2" "$?" 2
"$bin" convex --problem logreg --data breast-cancer --solver gd --epochs abc >/dev/null 2>&1; check "bad --epochs -> 2" "$?" 2
"$bin" convex --problem logreg --data breast-cancer --solver gd --bogus 1 >/dev/null 2>&1; check "unknown option -> 2" "$?" 2
"$bin" convex --problem logreg --data breast-cancer --solver "gd:lr=-1" >/dev/null 2>&1; check "bad lr -> 2" "$?" 2
"$bin" convex --problem logreg --data breast-cancer --solver >/dev/null 2>&1; check "missing value -> 2" "$?" 2

exit $fail
