#!/usr/bin/env bash
# Installs what is missing, builds tinyelf and the examples in Release in build/ (configured by
# scripts/configure.sh, as scripts/test.sh does), emits the examples into out/, runs each file
# and prints a table: example, the form of its instructions, size with Layout::kConformant, with
# packing off (LinkOptions::pack = false: the instructions as emitted, after the headers), with
# Layout::kCompact, with kCompact and LinkOptions::assume_zeroed_registers, size of the same
# instructions assembled on the spot with nasm -f elf64 and linked with ld -n -N --strip-all (the
# classic smallest toolchain build), exit status and output (the same for every file of a row, or
# the script fails).
#
# Like for like: the nasm sources (out/nasm/*.asm) are the instructions the examples emit, in the
# same order and the same encodings. The script checks it: it disassembles the text of each nasm
# object and of the example linked with --no-pack (objdump) and fails if they differ.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh demo
# quietly: CMake's and the compiler's output is shown only if a step fails.
quietly() {
  local output
  output=$("$@" 2>&1) || { printf '%s\n' "$output" >&2; echo "demo: failed: $*" >&2; exit 1; }
}
quietly scripts/configure.sh  # the same build/ as scripts/test.sh, which then builds only the rest
quietly cmake --build build -j "$(nproc)" --target exit42 hello compiler_sum

mkdir -p out/nasm
# build EXAMPLE NAME [OPTIONS]: out/NAME (conformant), -plain, -compact, -zeroed.
build() {
  local example=$1 name=$2
  shift 2
  build/examples/$example "$@" out/$name >/dev/null
  build/examples/$example "$@" --no-pack out/$name-plain >/dev/null
  build/examples/$example "$@" --compact out/$name-compact >/dev/null
  build/examples/$example "$@" --compact --assume-zeroed-registers out/$name-zeroed >/dev/null
}
build exit42 exit42
build exit42 exit42-mov --mov-form
build hello hello
build hello hello-mov --mov-form
build compiler_sum compiler_sum

# The instructions of examples/exit42.cpp and examples/hello.cpp, both forms, for nasm;
# compiler_sum has no hand-written twin (AsmJit's Compiler allocates its registers).
cat >out/nasm/exit42.asm <<'ASM'
section .text
global _start
_start:
        push 42                 ; exit status
        pop rdi
        push 60                 ; SYS_exit
        pop rax
        syscall
ASM
cat >out/nasm/exit42-mov.asm <<'ASM'
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
        push 1                  ; SYS_write
        pop rax
        mov edi, eax            ; stdout
        lea rsi, [rel message]
        push 14                 ; length
        pop rdx
        syscall
        push 60                 ; SYS_exit
        pop rax
        xor edi, edi
        syscall
section .rodata
message: db "Hello, world!", 10
ASM
cat >out/nasm/hello-mov.asm <<'ASM'
section .text
global _start
_start:
        mov eax, 1              ; SYS_write
        mov edi, 1              ; stdout
        lea rsi, [rel message]
        mov edx, 14             ; length
        syscall
        mov eax, 60             ; SYS_exit
        xor edi, edi
        syscall
section .rodata
message: db "Hello, world!", 10
ASM
for name in exit42 exit42-mov hello hello-mov; do
  nasm -f elf64 -o out/nasm/$name.o out/nasm/$name.asm
  ld -n -N --strip-all --no-warn-rwx-segments -o out/nasm/$name out/nasm/$name.o
  objcopy -O binary --only-section=.text out/nasm/$name.o out/nasm/$name.text
  objcopy -O binary --only-section=.rodata out/nasm/$name.o out/nasm/$name.rodata
done

# Check the like-for-like claim, then run each file with execve directly (subprocess, no shell: a
# shell would "run" a file the kernel refuses as a script).
python3 - <<'PY'
import os, re, struct, subprocess, sys

def disassemble(code, path):
    """objdump's instructions of raw x86-64 bytes: (length in bytes, text) for each."""
    with open(path, "wb") as f:
        f.write(code)
    listing = subprocess.run(["objdump", "-D", "-b", "binary", "-m", "i386:x86-64", "-M", "intel", path],
                             capture_output=True, text=True, check=True).stdout
    instructions = []
    for line in listing.splitlines():
        m = re.match(r"\s*[0-9a-f]+:\t([0-9a-f ]+?)\s*(?:\t(.*))?$", line)
        if not m:
            continue
        length = len(m.group(1).split())
        if m.group(2) is None:  # the rest of a long instruction's bytes
            instructions[-1] = (instructions[-1][0] + length, instructions[-1][1])
            continue
        text = re.sub(r"\s+#.*", "", m.group(2))              # objdump's computed address
        text = re.sub(r"\[rip\+0x[0-9a-f]+\]", "[rip+disp32]", text)  # unrelocated in the object
        instructions.append((length, " ".join(text.split())))
    return instructions

def check_like_for_like(name):
    """The example linked with --no-pack holds exactly nasm's .text then .rodata after its headers."""
    ours = open(f"out/{name}-plain", "rb").read()
    text = open(f"out/nasm/{name}.text", "rb").read()
    rodata = open(f"out/nasm/{name}.rodata", "rb").read()
    entry, = struct.unpack_from("<Q", ours, 24)
    phoff, = struct.unpack_from("<Q", ours, 32)
    offset, vaddr = struct.unpack_from("<QQ", ours, phoff + 8)
    start = entry - vaddr + offset
    mine = disassemble(ours[start:start + len(text)], f"out/{name}-plain.text")
    theirs = disassemble(text, f"out/nasm/{name}.text.copy")
    if mine != theirs or ours[start + len(text):] != rodata:
        print(f"demo: out/{name}-plain and out/nasm/{name}.asm are not the same instructions and data", file=sys.stderr)
        show = lambda i: "" if i is None else f"{i[1]} ({i[0]} B)"
        print(f"  {'tinyelf, --no-pack':36} nasm", file=sys.stderr)
        for a, b in zip(mine + [None] * len(theirs), theirs + [None] * len(mine)):
            if a or b:
                print(f"  {show(a):36} {show(b):36} {'' if a == b else '<-- differs'}", file=sys.stderr)
        if ours[start + len(text):] != rodata:
            print(f"  data after the text: {ours[start + len(text):]!r}, nasm's .rodata: {rodata!r}", file=sys.stderr)
        sys.exit(1)
    return len(mine)

rows = [("example", "instructions", "conformant", "pack off", "compact", "compact, zeroed registers",
         "nasm + ld", "exit", "output")]
for name, form in (("exit42", "push/pop"), ("exit42-mov", "mov"), ("hello", "push/pop"),
                   ("hello-mov", "mov"), ("compiler_sum", "Compiler")):
    files = [f"out/{name}", f"out/{name}-plain", f"out/{name}-compact", f"out/{name}-zeroed"]
    results = [subprocess.run([path], capture_output=True) for path in files]
    if any((r.returncode, r.stdout) != (results[0].returncode, results[0].stdout) for r in results):
        raise SystemExit(f"{name}: the files behave differently")
    nasm = "-"
    if os.path.exists(f"out/nasm/{name}"):
        count = check_like_for_like(name)
        nasm = f"{os.path.getsize(f'out/nasm/{name}')} B"
        form = f"{form}, {count}"
    rows.append((name.removesuffix("-mov"), form, *(f"{os.path.getsize(path)} B" for path in files), nasm,
                 str(results[0].returncode), results[0].stdout.decode().strip()))
widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
for i, row in enumerate(rows):
    print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    if i == 0:
        print("  ".join("-" * w for w in widths))
print("\nEach nasm + ld file holds the same instructions as its row's tinyelf files (checked with objdump")
print("against the pack-off file); the sources are in out/nasm/.")
PY
