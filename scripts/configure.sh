#!/usr/bin/env bash
# The one configure step that demo.sh, test.sh and bench-bfc.sh share: the same command line for
# the same build folder, so whichever script runs second builds only what the first did not.
#
#   scripts/configure.sh [CMAKE_ARGUMENT...]
#
# Release, -Werror, the tests, examples and tools, link() verifying every file it makes
# (TINYELF_VERIFY_LINK), no benchmarks (.ci/run builds them in its
# sanitizer pass; scripts/bench.sh in build-bench/). BUILD_DIR (default build), BUILD_TYPE
# (Release), CXXFLAGS (added to -Werror) and CMAKE_ARGS (space-separated) select another build,
# as .ci/run does for the sanitizer one; arguments go to cmake after them.
set -euo pipefail
cd "$(dirname "$0")/.."

read -r -a extra <<<"${CMAKE_ARGS:-}"
flags="-Werror${CXXFLAGS:+ $CXXFLAGS}"
cmake -S . -B "${BUILD_DIR:-build}" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" \
  -DCMAKE_CXX_FLAGS="$flags" -DTINYELF_BUILD_BENCH=OFF -DTINYELF_VERIFY_LINK=ON "${extra[@]}" "$@"
