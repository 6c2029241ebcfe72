#!/usr/bin/env bash
# Installs what is missing (the bench profile of scripts/install-deps.sh: Google Benchmark and the
# peers), builds the benchmark suite in Release (build-bench/), runs it and prints the summary
# tables: tinyelf against raw AsmJit and nasm + ld; then every peer (bench/peers.hpp: AsmJit alone,
# Xbyak and Zydis with a minimal ELF writer, LLVM MC + ld.lld, libtcc, nasm + ld, gcc -O0/-O2 + ld)
# on the same programs, with time per executable, ns per instruction, file bytes and peak memory.
# The full Google Benchmark results go to build/bench.json (build/ is where the tests build; the
# suite itself is built apart, because test builds check every image link() makes). Then counts
# the CPU instructions per build of tinyelf and raw AsmJit with callgrind, a ratio that does not
# move with the machine's load.
# Extra arguments go to the benchmark binary, e.g. scripts/bench.sh --benchmark_filter=exit42.
# REPETITIONS (default 15) and MIN_TIME (seconds per repetition, default 0.1) trade run time for
# stability.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh bench
build=build-bench
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTINYELF_BUILD_BENCH=ON \
  -DTINYELF_BUILD_TESTS=OFF -DTINYELF_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j 2 --target tinyelf_bench >/dev/null
json=build/bench.json
mkdir -p build

echo "running the suite (about 15 minutes on a loaded 2-CPU machine; Google Benchmark's output goes to $build/bench.txt)"
# Repetitions of different cases are randomly interleaved, so a burst of load from something else
# on the machine hits all cases alike instead of one; the table keeps each case's best repetition.
"$build/bench/tinyelf_bench" \
  --benchmark_repetitions="${REPETITIONS:-15}" \
  --benchmark_min_time="${MIN_TIME:-0.1}" \
  --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=false \
  --benchmark_out="$json" --benchmark_out_format=json \
  "$@" >"$build/bench.txt"

python3 scripts/bench_table.py "$json"
python3 scripts/bench_instructions.py "$build/bench/tinyelf_bench"
