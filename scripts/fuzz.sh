#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for a while on its seed corpus.
#   scripts/fuzz.sh [SECONDS_PER_TARGET (default 20)] [TARGET...]
# Environment: DSC_FUZZ_BUILD (build dir, default build-fuzz), CC (default clang),
# DSC_FUZZ_JOBS (parallel build jobs, default 2). New inputs go to a scratch corpus, so the
# committed seed corpus (fuzz/corpus/<name>) is not modified; crashes are saved under
# $DSC_FUZZ_BUILD/artifacts/ and make the script exit non-zero.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
secs="${1:-20}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_idx fuzz_csv fuzz_libsvm fuzz_npy fuzz_spec fuzz_safetensors fuzz_config)
build="${DSC_FUZZ_BUILD:-$root/build-fuzz}"
cc="${CC:-clang}"
if ! command -v "$cc" >/dev/null; then
  echo "fuzz.sh: $cc not found (install clang and libclang-rt-14-dev, e.g. DSC_FUZZ_DEPS=1 scripts/install-deps.sh)" >&2
  exit 1
fi
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDSC_FUZZ=ON \
  -DDSC_SANITIZE=ON -DDSC_NATIVE=OFF -DDSC_WITH_OPENMP=OFF -DDSC_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"${DSC_FUZZ_JOBS:-2}" --target "${targets[@]}" >/dev/null
mkdir -p "$build/artifacts"
status=0
for t in "${targets[@]}"; do
  name="${t#fuzz_}"
  work="$build/corpus/$name"
  mkdir -p "$work"
  echo "fuzz.sh: $t for ${secs}s"
  if ! "$build/$t" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$build/artifacts/$t-" -print_final_stats=1 "$work" "$root/fuzz/corpus/$name" \
      >"$build/$t.log" 2>&1; then
    echo "fuzz.sh: $t FAILED (log: $build/$t.log; inputs: $build/artifacts/)" >&2
    tail -40 "$build/$t.log" >&2
    status=1
  else
    grep -E "^stat::number_of_executed_units|^Done" "$build/$t.log" | tr '\n' ' '
    echo
  fi
done
exit $status
