#!/usr/bin/env bash
# bench-bfc.sh — bfc against "translate to C, gcc -O2" on the corpus's benchmark programs:
# run time, compile time and executable size, printed as a Markdown table.
#
#   scripts/bench-bfc.sh                 # BUILD_DIR=build, CORPUS=../shared/bf, RUNS=5
#   BUILD_DIR=build-release RUNS=9 scripts/bench-bfc.sh
#
# Times are CPU seconds (user + system, from bash's `time`), so other load on the machine
# matters less than with wall-clock time. Run time: the best of RUNS runs (of batches of 50 runs for
# programs under 50 ms), output to /dev/null.
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

scripts/install-deps.sh demo gcc bc
[ -f "$CORPUS/MANIFEST.tsv" ] || { echo "no corpus at $CORPUS (set CORPUS=FOLDER)" >&2; exit 1; }
BUILD_DIR=$BUILD_DIR scripts/configure.sh >/dev/null
cmake --build "$BUILD_DIR" -j2 --target bfc >/dev/null
bfc=$root/$BUILD_DIR/examples/bfc/bfc
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

TIMEFORMAT="%U %S"
# seconds PROGRAM INPUT [TIMES]: the CPU time of one run (the mean of TIMES), stdout discarded.
seconds() {
  local times=${3:-1}
  { time (for ((k = 0; k < times; k++)); do "$1" < "$2" > /dev/null 2>&1; done); } 2>&1 |
    awk -v n="$times" '{ printf "%.4f\n", ($1 + $2) / n }'
}
# cpu_ms COMMAND...: the CPU time of a shell command line, in milliseconds.
cpu_ms() { { time eval "$*" > /dev/null 2>&1; } 2>&1 | awk '{ print ($1 + $2) * 1000 }'; }
# batch_ms COMMAND: the CPU time of one run of a short shell command line, in milliseconds: the
# best of 3 batches of 20 runs.
batch_ms() {
  local best=999999 t
  for ((batch = 0; batch < 3; batch++)); do
    t=$(cpu_ms "for ((i = 0; i < 20; i++)); do $1; done")
    best=$(echo "scale=2; t = $t / 20; if (t < $best) t else $best" | bc)
  done
  echo "$best"
}
# best_of N PROGRAM INPUT: the best of N measurements. The clock counts whole milliseconds, so a
# program that runs for less than 50 ms is timed over batches of 50 runs.
best_of() {
  local best=999999 t times=1
  [ "$(echo "$(seconds "$2" "$3") < 0.05" | bc)" = 1 ] && times=50
  for ((i = 0; i < $1; i++)); do
    t=$(seconds "$2" "$3" "$times")
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

  bfc_compile=$(batch_ms '"$bfc" "$CORPUS/$program" -o "$work/$name.bfc" --tape "$tape"')
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
floor=$(batch_ms /bin/true)
echo
echo "A process that does nothing (/bin/true), timed like bfc: $floor ms."
echo "$(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), gcc $(gcc -dumpfullversion)"
