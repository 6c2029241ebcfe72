#!/usr/bin/env bash
# bench-bfc.sh — bfc against two Brainfuck → C → gcc -O2 pipelines on the corpus's benchmark
# programs: run time, compile time and executable size, printed as a Markdown table.
#
#   scripts/bench-bfc.sh                 # BUILD_DIR=build, CORPUS=../shared/bf, RUNS=5
#   BUILD_DIR=build-release RUNS=9 scripts/bench-bfc.sh
#
# The two yardsticks:
# - tritium: Robert de Bath's optimising Brainfuck interpreter (TRITIUM, default
#   ../shared/peers/tritium, GPL-2), used only as a tool: it is built with its own makefile in
#   BUILD_DIR/tritium, translates each program to optimised C (`bfi.out -b8 -c`), and gcc -O2
#   compiles that. The strongest Brainfuck pipeline we know of.
# - bf→C: one C statement per command (bench/bfc/bf2c.sh), gcc -O2 does all the work.
#
# Times are CPU seconds (user + system, from bash's `time`), so other load on the machine
# matters less than with wall-clock time. Run time: RUNS rounds, each timing bfc's executable, then
# tritium's, then bf→C's, one after the other (batches of 50 runs for programs under 50 ms), output
# to /dev/null; the table shows the median of each, and each ratio is the median of the RUNS ratios
# of one round, so a drift in the machine's speed moves both sides of a ratio alike.
# bfc's compile time is the whole bfc process (start-up included), the best of 3 batches of 20
# runs; the C pipelines' are the best of 3 runs of translation + gcc -O2. Every program's output
# is checked byte for byte against the corpus before it is timed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
BUILD_DIR=${BUILD_DIR:-build}
CORPUS=${CORPUS:-$root/../shared/bf}
TRITIUM=${TRITIUM:-$root/../shared/peers/tritium}
RUNS=${RUNS:-5}
PROGRAMS=${PROGRAMS:-"kostya/mandel.b matslina/factor.b matslina/dbfi.b matslina/hanoi.b matslina/long.b kostya/bench.b"}

scripts/install-deps.sh demo gcc bc make
[ -f "$CORPUS/MANIFEST.tsv" ] || { echo "no corpus at $CORPUS (set CORPUS=FOLDER)" >&2; exit 1; }
[ -f "$TRITIUM/bfi.c" ] || { echo "no tritium source at $TRITIUM (set TRITIUM=FOLDER)" >&2; exit 1; }
BUILD_DIR=$BUILD_DIR scripts/configure.sh >/dev/null
cmake --build "$BUILD_DIR" -j2 --target bfc >/dev/null
bfc=$root/$BUILD_DIR/examples/bfc/bfc
# tritium's makefile builds in its source folder: build a copy, kept between runs.
tritium_build=$root/$BUILD_DIR/tritium
if [ ! -x "$tritium_build/bfi.out" ]; then
  rm -rf "$tritium_build" && cp -r "$TRITIUM" "$tritium_build"
  make -C "$tritium_build" -j2 >"$tritium_build.log" 2>&1 || { echo "tritium failed to build: see $tritium_build.log" >&2; exit 1; }
fi
tritium=$tritium_build/bfi.out
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
# best_ms COMMAND: the best of 3 runs of a shell command line, in milliseconds.
best_ms() {
  local best=999999 t
  for ((i = 0; i < 3; i++)); do
    t=$(cpu_ms "$1")
    best=$(echo "if ($t < $best) $t else $best" | bc)
  done
  echo "$best"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { echo "scale=4; if ($2 > 0) $1 / $2 else 0" | bc; }
# median_of N: the median of column N of the rounds file.
median_of() { awk -v c="$1" '{ print $c }' "$work/rounds" | median; }
field() { awk -F'\t' -v p="$1" -v c="$2" '$1 == p { print $c }' "$CORPUS/MANIFEST.tsv"; }

echo "| program | bfc run (s) | tritium → gcc -O2 run (s) | bfc / tritium | bf→C → gcc -O2 run (s) | bfc / bf→C | bfc compile (ms) | tritium → gcc -O2 compile (ms) | bf→C → gcc -O2 compile (ms) | bfc size (B) | tritium → gcc -O2 stripped (B) | bf→C → gcc -O2 stripped (B) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for program in $PROGRAMS; do
  name=$(basename "$program" .b)
  input=$(field "$program" 2); expected=$(field "$program" 3); tape=$(field "$program" 6)
  [ -n "$input" ] && input=$CORPUS/$input || input=/dev/null

  "$bfc" "$CORPUS/$program" -o "$work/$name.bfc" --tape "$tape"
  "$tritium" -b8 -c "$CORPUS/$program" > "$work/$name.tritium.c"
  gcc -O2 -w "$work/$name.tritium.c" -o "$work/$name.tritium"
  bench/bfc/bf2c.sh "$CORPUS/$program" "$tape" > "$work/$name.c"
  gcc -O2 -w "$work/$name.c" -o "$work/$name.gcc"
  for exe in "$work/$name.bfc" "$work/$name.tritium" "$work/$name.gcc"; do
    "$exe" < "$input" > "$work/out" || { echo "$exe failed" >&2; exit 1; }
    cmp -s "$work/out" "$CORPUS/$expected" || { echo "$exe: output differs from $expected" >&2; exit 1; }
  done

  # A program that runs for less than 50 ms is timed over batches of 50 runs (the clock counts
  # whole milliseconds).
  times=1
  [ "$(echo "$(seconds "$work/$name.bfc" "$input") < 0.05" | bc)" = 1 ] && times=50
  : > "$work/rounds"
  for ((i = 0; i < RUNS; i++)); do
    b=$(seconds "$work/$name.bfc" "$input" "$times")
    t=$(seconds "$work/$name.tritium" "$input" "$times")
    g=$(seconds "$work/$name.gcc" "$input" "$times")
    echo "$b $t $g $(ratio "$b" "$t") $(ratio "$b" "$g")" >> "$work/rounds"
  done

  bfc_compile=$(batch_ms '"$bfc" "$CORPUS/$program" -o "$work/$name.bfc" --tape "$tape"')
  tritium_compile=$(best_ms '"$tritium" -b8 -c "$CORPUS/$program" > "$work/$name.tritium.c" && gcc -O2 -w "$work/$name.tritium.c" -o "$work/$name.tritium"')
  gcc_compile=$(best_ms 'bench/bfc/bf2c.sh "$CORPUS/$program" "$tape" > "$work/$name.c" && gcc -O2 -w "$work/$name.c" -o "$work/$name.gcc"')
  strip -o "$work/$name.tritium.stripped" "$work/$name.tritium"
  strip -o "$work/$name.gcc.stripped" "$work/$name.gcc"

  printf '| %s | %.4f | %.4f | %.2f | %.4f | %.2f | %s | %s | %s | %s | %s | %s |\n' "$name" \
    "$(median_of 1)" "$(median_of 2)" "$(median_of 4)" "$(median_of 3)" "$(median_of 5)" \
    "$bfc_compile" "$tritium_compile" "$gcc_compile" "$(stat -c %s "$work/$name.bfc")" \
    "$(stat -c %s "$work/$name.tritium.stripped")" "$(stat -c %s "$work/$name.gcc.stripped")"
done
# The floor under any compile time measured as a process: one that does nothing at all.
floor=$(batch_ms /bin/true)
echo
echo "Run times: median of $RUNS rounds; ratios: median of the $RUNS per-round ratios."
echo "A process that does nothing (/bin/true), timed like bfc: $floor ms."
echo "$(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), gcc $(gcc -dumpfullversion), $(date -u +%Y-%m-%d)"
