#!/usr/bin/env bash
# bench-bfc.sh — bfc against "translate to C, gcc -O2" on the corpus's benchmark programs:
# run time, compile time and executable size, printed as a Markdown table.
#
#   scripts/bench-bfc.sh                 # BUILD_DIR=build, CORPUS=../shared/bf, RUNS=5
#   BUILD_DIR=build-release RUNS=9 scripts/bench-bfc.sh
#
# Times are CPU seconds (user + system, from bash's `time`), so other load on the machine
# matters less than with wall-clock time. Run time: the best of RUNS runs, output to /dev/null.
# bfc's compile time is the whole bfc process (start-up and the fsync of the output included),
# the best of 3 batches of 20 runs; gcc's is the best of 3 runs of bf2c.sh + gcc -O2. Each
# program's output is checked against the corpus before it is timed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
BUILD_DIR=${BUILD_DIR:-build}
CORPUS=${CORPUS:-$root/../shared/bf}
RUNS=${RUNS:-5}
PROGRAMS=${PROGRAMS:-"kostya/mandel.b matslina/hanoi.b matslina/long.b kostya/bench.b matslina/factor.b"}

scripts/install-deps.sh gcc bc
[ -f "$CORPUS/MANIFEST.tsv" ] || { echo "no corpus at $CORPUS (set CORPUS=FOLDER)" >&2; exit 1; }
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j2 --target bfc >/dev/null
bfc=$root/$BUILD_DIR/examples/bfc/bfc
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

TIMEFORMAT="%U %S"
# seconds PROGRAM INPUT: the CPU time of one run, stdout discarded.
seconds() { { time "$1" < "$2" > /dev/null 2>&1; } 2>&1 | awk '{ print $1 + $2 }'; }
# cpu_ms COMMAND...: the CPU time of a shell command line, in milliseconds.
cpu_ms() { { time eval "$*" > /dev/null 2>&1; } 2>&1 | awk '{ print ($1 + $2) * 1000 }'; }
best_of() {  # best_of N PROGRAM INPUT
  local best=999999 t
  for ((i = 0; i < $1; i++)); do
    t=$(seconds "$2" "$3")
    best=$(echo "if ($t < $best) $t else $best" | bc)
  done
  echo "$best"
}
field() { awk -F'\t' -v p="$1" -v c="$2" '$1 == p { print $c }' "$CORPUS/MANIFEST.tsv"; }

echo "| program | bfc run (s) | gcc -O2 run (s) | ratio | bfc compile (ms) | bf→C + gcc -O2 (ms) | compile speed-up | bfc size (B) | gcc -O2 stripped (B) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for program in $PROGRAMS; do
  name=$(basename "$program" .b)
  input=$(field "$program" 2); expected=$(field "$program" 3); tape=$(field "$program" 6)
  [ -n "$input" ] && input=$CORPUS/$input || input=/dev/null

  "$bfc" "$CORPUS/$program" -o "$work/$name.bfc" --tape "$tape"
  bench/bfc/bf2c.sh "$CORPUS/$program" "$tape" > "$work/$name.c"
  gcc -O2 -w "$work/$name.c" -o "$work/$name.gcc"
  strip -o "$work/$name.gcc.stripped" "$work/$name.gcc"
  for exe in "$work/$name.bfc" "$work/$name.gcc"; do
    "$exe" < "$input" > "$work/out" || { echo "$exe failed" >&2; exit 1; }
    cmp -s "$work/out" "$CORPUS/$expected" || { echo "$exe: wrong output" >&2; exit 1; }
  done

  bfc_run=$(best_of "$RUNS" "$work/$name.bfc" "$input")
  gcc_run=$(best_of "$RUNS" "$work/$name.gcc" "$input")

  bfc_compile=999999
  for ((batch = 0; batch < 3; batch++)); do
    t=$(cpu_ms 'for ((i = 0; i < 20; i++)); do "$bfc" "$CORPUS/$program" -o "$work/$name.bfc" --tape "$tape"; done')
    bfc_compile=$(echo "scale=2; t = $t / 20; if (t < $bfc_compile) t else $bfc_compile" | bc)
  done
  gcc_compile=999999
  for ((i = 0; i < 3; i++)); do
    t=$(cpu_ms 'bench/bfc/bf2c.sh "$CORPUS/$program" "$tape" > "$work/$name.c" && gcc -O2 -w "$work/$name.c" -o "$work/$name.gcc"')
    gcc_compile=$(echo "if ($t < $gcc_compile) $t else $gcc_compile" | bc)
  done

  ratio=$(echo "scale=2; $bfc_run / $gcc_run" | bc 2>/dev/null || echo "n/a")
  speedup=$(echo "scale=0; $gcc_compile / $bfc_compile" | bc)
  echo "| $name | $bfc_run | $gcc_run | $ratio | $bfc_compile | $gcc_compile | ${speedup}× | $(stat -c %s "$work/$name.bfc") | $(stat -c %s "$work/$name.gcc.stripped") |"
done
# The floor under any compile time measured as a process: one that does nothing at all.
floor=999999
for ((batch = 0; batch < 3; batch++)); do
  t=$(cpu_ms 'for ((i = 0; i < 20; i++)); do /bin/true; done')
  floor=$(echo "scale=2; t = $t / 20; if (t < $floor) t else $floor" | bc)
done
echo
echo "A process that does nothing (/bin/true), timed like bfc: $floor ms."
echo "$(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), gcc $(gcc -dumpfullversion)"
