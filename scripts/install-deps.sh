#!/usr/bin/env bash
# Installs the Debian 12 packages one use of the repository needs that are missing (nothing is
# downloaded any other way).
#
#   scripts/install-deps.sh [PROFILE] [PACKAGE...]
#
#   demo   the library and the examples, compared with nasm + ld (scripts/demo.sh)
#   test   the default: the test suite (scripts/test.sh)
#   bench  the benchmark suite (scripts/bench.sh)
#   fuzz   the libFuzzer targets, built with clang (scripts/fuzz.sh)
#   asan   the test suite and the benchmarks built with clang under ASan + UBSan (.ci/run)
#   all    all of them
#
# Extra package names are installed too.
set -euo pipefail

build=(cmake ninja-build g++ libasmjit-dev libfmt-dev)
demo=("${build[@]}" nasm binutils python3)
test=("${build[@]}" catch2 elfutils binutils file pkg-config gdb linux-perf)
# The benchmark's peers (bench/peers.hpp): Xbyak and Zydis (encoders), LLVM MC + lld, libtcc, nasm +
# ld, gcc; GNU time measures the peak memory of the tools.
peers=(libxbyak-dev libzydis-dev llvm-14-dev lld-14 libtcc-dev nasm binutils gcc time)
bench=("${build[@]}" libbenchmark-dev "${peers[@]}" python3 valgrind)
fuzz=("${build[@]}" clang libclang-rt-14-dev)
asan=("${test[@]}" clang libclang-rt-14-dev libbenchmark-dev "${peers[@]}")

profile=test
case "${1:-}" in
  demo | test | bench | fuzz | asan | all) profile=$1; shift ;;
esac
case "$profile" in
  demo) packages=("${demo[@]}") ;;
  test) packages=("${test[@]}") ;;
  bench) packages=("${bench[@]}") ;;
  fuzz) packages=("${fuzz[@]}") ;;
  asan) packages=("${asan[@]}") ;;
  all) packages=("${demo[@]}" "${test[@]}" "${bench[@]}" "${fuzz[@]}" "${asan[@]}") ;;
esac
packages+=("$@")

missing=()
for package in $(printf '%s\n' "${packages[@]}" | sort -u); do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
