#!/usr/bin/env bash
# Installs what is missing, builds everything in build/ (configured by scripts/configure.sh, as
# scripts/demo.sh does, so after the demo only the rest is built) and runs the whole test suite
# through ctest, the slowest tests first (their COST, tests/CMakeLists.txt). Extra arguments go to
# ctest, e.g. scripts/test.sh -R test_link. BUILD_DIR, BUILD_TYPE, CXXFLAGS and CMAKE_ARGS select
# another build (see scripts/configure.sh), e.g. the sanitizer one in .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh test
build=${BUILD_DIR:-build}
scripts/configure.sh
cmake --build "$build" -j "$(nproc)"
status=0
ctest --test-dir "$build" --output-on-failure --no-tests=error -j "$(nproc)" "$@" || status=$?

# The bfc corpus lives outside the repository; without it its tests only warn, which ctest hides.
corpus=$(sed -n 's/^TINYELF_BF_CORPUS:PATH=//p' "$build/CMakeCache.txt")
if [ -n "$corpus" ] && [ ! -f "$corpus/MANIFEST.tsv" ]; then
  echo "note: the bfc corpus tests did not run: no MANIFEST.tsv in $corpus. To run them:"
  echo "  CMAKE_ARGS=-DTINYELF_BF_CORPUS=<folder with MANIFEST.tsv> scripts/test.sh"
fi
exit "$status"
