#!/usr/bin/env bash
# bf2c.sh PROG.b [CELLS] — the plain Brainfuck → C translation bfc is benchmarked against: one C
# statement per command, no optimisation of our own, so gcc -O2 does all the work.
# EOF leaves the cell unchanged, like bfc's default.
set -euo pipefail
printf '#include <stdio.h>\nstatic unsigned char tape[%s];\nint main(void) {\n  unsigned char *p = tape;\n' "${2:-30000}"
tr -dc '+<>.,[]-' < "$1" | fold -w1 | sed \
  -e 's/^+$/++*p;/' -e 's/^-$/--*p;/' -e 's/^>$/++p;/' -e 's/^<$/--p;/' \
  -e 's/^\.$/putchar(*p);/' -e 's/^,$/{ int c = getchar(); if (c != EOF) *p = c; }/' \
  -e 's/^\[$/while (*p) {/' -e 's/^\]$/}/'
printf '  return 0;\n}\n'
