#!/usr/bin/env bash
# Installs what descent's build, tests, benchmarks and demo need on Debian, if missing.
set -euo pipefail
need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in build-essential cmake pkg-config libopenblas-dev zlib1g-dev libcjson-dev gnuplot-nox; do
  have "$p" || need+=("$p")
done
# Fashion-MNIST (IDX files under /usr/share/datasets/fashion-mnist) for `make demo` and test_data.
if [ "${DSC_NO_DATASETS:-0}" != 1 ]; then
  have dataset-fashion-mnist || need+=(dataset-fashion-mnist)
fi
# Fuzzing (scripts/fuzz.sh): clang and libFuzzer (libclang-rt-14-dev ships libclang_rt.fuzzer).
if [ "${DSC_FUZZ_DEPS:-0}" = 1 ]; then
  for p in clang libclang-rt-14-dev; do have "$p" || need+=("$p"); done
fi
if [ "${DSC_BENCH_DEPS:-0}" = 1 ]; then
  for p in python3-torch python3-numpy python3-sklearn; do have "$p" || need+=("$p"); done
fi
for p in ${DSC_EXTRA_DEPS:-}; do have "$p" || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  echo "install-deps: installing ${need[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
