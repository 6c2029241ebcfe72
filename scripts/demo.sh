#!/usr/bin/env bash
# Installs what is missing, builds tinyelf in Release, emits the examples into out/ in both layouts,
# runs each file and prints a table: example, size with Layout::kConformant, with Layout::kCompact,
# with kCompact and LinkOptions::assume_zeroed_registers, size of the same program built on the
# spot with nasm -f elf64 + ld -n -N --strip-all (the classic smallest toolchain build), exit
# status and output (the same for every layout, or the script fails).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target exit42 hello compiler_sum >/dev/null

mkdir -p out/nasm
for example in exit42 hello compiler_sum; do
  build/examples/$example out/$example >/dev/null
  build/examples/$example --compact out/$example-compact >/dev/null
  build/examples/$example --compact --assume-zeroed-registers out/$example-zeroed >/dev/null
done

# The same programs for nasm; compiler_sum has no hand-written twin.
cat >out/nasm/exit42.asm <<'ASM'
section .text
global _start
_start:
        mov edi, 42             ; exit status
        mov eax, 60             ; SYS_exit
        syscall
ASM
cat >out/nasm/hello.asm <<'ASM'
section .text
global _start
_start:
        mov eax, 1              ; SYS_write
        mov edi, 1              ; stdout
        lea rsi, [rel message]
        mov edx, 14
        syscall
        mov eax, 60             ; SYS_exit
        xor edi, edi
        syscall
section .rodata
message: db "Hello, world!", 10
ASM
for example in exit42 hello; do
  nasm -f elf64 -o out/nasm/$example.o out/nasm/$example.asm
  ld -n -N --strip-all --no-warn-rwx-segments -o out/nasm/$example out/nasm/$example.o
done

# Run each file with execve directly (subprocess, no shell: a shell would "run" a file the kernel
# refuses as a script).
python3 - <<'PY'
import os, subprocess
rows = [("example", "conformant", "compact", "compact, zeroed registers", "nasm + ld", "exit", "output")]
for name in ("exit42", "hello", "compiler_sum"):
    files = [f"out/{name}", f"out/{name}-compact", f"out/{name}-zeroed"]
    results = [subprocess.run([path], capture_output=True) for path in files]
    if any((r.returncode, r.stdout) != (results[0].returncode, results[0].stdout) for r in results):
        raise SystemExit(f"{name}: the layouts behave differently")
    theirs = f"out/nasm/{name}"
    nasm = f"{os.path.getsize(theirs)} B" if os.path.exists(theirs) else "-"
    rows.append((name, *(f"{os.path.getsize(path)} B" for path in files), nasm, str(results[0].returncode),
                 results[0].stdout.decode().strip()))
widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
for i, row in enumerate(rows):
    print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    if i == 0:
        print("  ".join("-" * w for w in widths))
PY
