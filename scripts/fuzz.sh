#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang under AddressSanitizer + UndefinedBehavior-
# Sanitizer into build-fuzz, then runs each one for a bounded time on its seed corpus.
#
#   scripts/fuzz.sh          # 60 seconds per fuzzer
#   scripts/fuzz.sh 600      # 10 minutes per fuzzer
#
# Fails (non-zero exit) on any crash, out-of-bounds access, leak or undefined behaviour; the input
# that caused it is left in build-fuzz/ as crash-*, leak-* or timeout-*, to replay with
#   build-fuzz/tests/fuzz/fuzz_check build-fuzz/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
build="${BUILD_DIR:-build-fuzz}"

scripts/install-deps.sh fuzz

# The library is instrumented too (fuzzer-no-link: coverage without libFuzzer's main()).
flags="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer -g"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DTINYELF_BUILD_FUZZERS=ON -DTINYELF_BUILD_TESTS=OFF -DTINYELF_BUILD_EXAMPLES=OFF \
  -DTINYELF_BUILD_TOOLS=OFF -DTINYELF_INSTALL=OFF >/dev/null
cmake --build "$build" -j2 --target fuzz_check fuzz_link

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
for fuzzer in fuzz_check fuzz_link; do
  corpus="$build/corpus/$fuzzer"  # grows run after run; the seeds in tests/ stay as they are
  mkdir -p "$corpus"
  echo "== $fuzzer: ${seconds} s"
  "$build/tests/fuzz/$fuzzer" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$build/$fuzzer-" "$corpus" "tests/fuzz/corpus/${fuzzer#fuzz_}"
done
echo "fuzz: all fuzzers ran ${seconds} s each without a finding"
