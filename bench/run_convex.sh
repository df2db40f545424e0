#!/bin/sh
# Convex lab vs scikit-learn: L2 logistic regression, SAGA/SAG time per effective pass and suboptimality
# after K passes (mean over 5 seeds on both sides), L-BFGS / Newton time to f - f* <= 1e-8. Both sides read the SAME files (written once by
# bench/sklearn_convex.py gen) and run on ONE thread (OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1;
# scikit-learn's sag/saga are single-threaded anyway). f* from `descent convex --solve-exact`.
#   usage: bench/run_convex.sh [BUILD_DIR] [K] [LAMBDA]     (defaults: build-skbench 10 1e-4)
# Writes bench/results/convex.txt.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-skbench}
K=${2:-10}
LAM=${3:-1e-4}
D=$BUILD/descent
PY=/usr/bin/python3
DATA=${DSC_BENCH_DATA:-/tmp/descent-bench-convex}
OUT=$ROOT/bench/results/convex.txt
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
mkdir -p "$DATA" "$ROOT/bench/results"
[ -f "$DATA/sparse.libsvm" ] || $PY "$ROOT/bench/sklearn_convex.py" gen "$DATA"
REPS=3
TMP=$(mktemp)
trap 'rm -f "$TMP"' EXIT

# field NAME LINE: value of NAME=... in a 'final:' or 'RESULT' line
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }

# best-of-REPS 'final:' line (smallest time_s) of one descent run (seed 0)
ours() { # file solver extra...
    f=$1; s=$2; shift 2
    best=""; bt=""
    for r in $(seq $REPS); do
        line=$("$D" convex --problem "logreg:l2=$LAM" --data "$f" --solver "$s" --quiet --out "$DATA/run_$SET" "$@" | grep '^final:')
        t=$(field time_s "$line")
        if [ -z "$bt" ] || awk "BEGIN{exit !($t < $bt)}"; then bt=$t; best=$line; fi
    done
    printf '%s\n' "$best"
}

# mean subopt of a stochastic solver over seeds 0..SEEDS-1 (as the sklearn side: random_state 0..4)
SEEDS=5
ours_subopt_mean() { # file solver extra...
    f=$1; s=$2; shift 2
    for seed in $(seq 0 $((SEEDS - 1))); do
        field subopt "$("$D" convex --problem "logreg:l2=$LAM" --data "$f" --solver "$s" --seed "$seed" --quiet \
            --out "$DATA/run_$SET" "$@" | grep '^final:')"
    done | awk '{s += $1; n++} END {printf "%.6e", s / n}'
}

{
echo "# Convex lab vs scikit-learn ($(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -m), load:$(uptime | sed 's/.*load average://'))"
echo "# logreg:l2=$LAM (sklearn C=1/(n*lambda), fit_intercept=False), K=$K passes, 1 thread both sides, best of $REPS"
echo "# $($PY -c 'import sklearn,numpy,scipy;print("sklearn",sklearn.__version__,"numpy",numpy.__version__,"scipy",scipy.__version__)')"
for SET in dense sparse; do
    if [ $SET = dense ]; then F=$DATA/dense.npy; else F=$DATA/sparse.libsvm; fi
    FSTAR=$("$D" convex --problem "logreg:l2=$LAM" --data "$F" --solve-exact --out "$DATA/run_$SET" | sed -n 's/^f_star=//p')
    echo
    echo "## $SET: $F   f* = $FSTAR"
    $PY "$ROOT/bench/sklearn_convex.py" run "$DATA" $SET "$LAM" "$FSTAR" "$K" > "$TMP"
    echo "$(grep sklearn_version "$TMP" | sed 's/RESULT //')"
    printf '%-36s %12s %14s %7s %12s %12s\n' "solver (ours / sklearn)" "ours s/pass" "sklearn s/pass" speedup "ours subopt" "skl subopt"
    # defaults of descent, then the settings closest to scikit-learn's (saga init=seen / sag init=zero:
    # a zero table averaged over the examples seen so far, as sklearn's saga/sag; step=practical:
    # lr=1/L_max, as sklearn's sag; saga's default step is sklearn's). subopt: mean over 5 seeds.
    for pair in saga:saga saga/init=seen:saga sag:sag sag/step=practical/init=zero:sag; do
        o=$(printf '%s' "${pair%:*}" | sed 's|/|:|; s|/|,|g'); k=${pair##*:}
        L=$(ours "$F" "$o" --epochs "$K")
        R=$(grep "solver=$k " "$TMP")
        to=$(field time_s "$L"); po=$(field passes "$L"); so=$(ours_subopt_mean "$F" "$o" --epochs "$K")
        ts=$(field time_per_pass "$R"); ss=$(field subopt_mean "$R")
        awk -v s="$o / $k" -v to=$to -v po=$po -v so=$so -v ts=$ts -v ss=$ss 'BEGIN{
            printf "%-36s %12.5f %14.5f %6.2fx %12.3e %12.3e\n", s, to/po, ts, ts/(to/po), so, ss}'
    done
    if [ $SET = dense ]; then
        printf '%-24s %12s %14s %7s   %s\n' "solver (ours/skl)" "ours s" "sklearn s" speedup "(time to f-f*<=1e-8)"
        for pair in lbfgs:lbfgs newton:newton-cg newton:hess=dense:newton-cg; do
            o=${pair%:*}; k=${pair##*:}
            L=$(ours "$F" $o --tol 1e-8 --epochs 100000)
            R=$(grep "solver=$k " "$TMP")
            to=$(field time_s "$L"); so=$(field subopt "$L")
            if [ "$(field reached "$R")" = 1 ]; then
                ts=$(field time_s "$R")
                awk -v s="$o/$k" -v to=$to -v ts=$ts -v so=$so -v it="$(field max_iter "$R")" 'BEGIN{
                    printf "%-24s %12.4f %14.4f %6.2fx   ours subopt %.2e; sklearn max_iter=%d\n", s, to, ts, ts/to, so, it}'
            else
                echo "$o/$k: ours $to s (subopt $so); sklearn did not reach 1e-8: $R"
            fi
        done
    fi
done
} | tee "$OUT"
