#!/usr/bin/env bash
# Installs what is missing, builds everything (library, examples, tools, benchmarks) and runs the
# whole test suite through ctest. Extra arguments go to ctest, e.g. scripts/test.sh -R test_link.
# BUILD_DIR and CMAKE_ARGS (space-separated) select another build, e.g. the sanitizer one.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
build=${BUILD_DIR:-build}
read -r -a extra <<<"${CMAKE_ARGS:-}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" -DTINYELF_BUILD_BENCH=ON \
  -DCMAKE_CXX_FLAGS="-Werror ${CXXFLAGS:-}" "${extra[@]}"
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" "$@"
