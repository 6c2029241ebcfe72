// tinyelf::LinkOptions — how Program::link lays the executable out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tinyelf {

enum class Layout {
  // ELF header, then the program headers, then code and data: every ELF tool reads it
  // (eu-elflint --strict, readelf, file, gdb). One R+X segment, plus an R+W one for data and bss
  // (see single_segment). Small programs start in p_paddr (8 bytes the gABI leaves unspecified
  // for executables), which makes exit(42) 120 bytes.
  kConformant,
  // The program header overlaps the ELF header at file offset 24 and code and data go into every
  // header field the kernel ignores: exit(42) is 80 bytes, the floor. Linux runs these files;
  // readelf, file and gdb cannot read them. The segment is placed at 0x500000000 (0x700000000
  // when writable). A program with bss keeps the two headers apart (the kernel would zero the
  // overlapped code) and still packs into the ignored fields.
  kCompact,
};

// What link() adds for debuggers, profilers and disassemblers (gdb, perf, objdump, nm, addr2line),
// after the loaded bytes: none of it is mapped into memory. See README "Debugging generated code"
// for the exact cost.
enum class DebugInfo {
  // Nothing: not one byte more than the program needs.
  kNone,
  // Section headers (one per non-empty section of the program, plus .symtab and .strtab, which
  // also names the sections) and a symbol table with Program::symbol()'s names. A program with
  // imports (Program::import) also gets headers for .interp and its dynamic tables, an empty hash
  // table (eu-elflint requires one once the dynamic section has a header) and a 6-byte stub in
  // text per imported function, named after it, so that gdb can break on it before the library
  // is loaded; each slot is named "SYMBOL@got".
  kSymbols,
  // kSymbols, plus a DWARF 4 line table (.debug_line) from Program::line()'s marks, in the
  // minimal compile unit debuggers need to use it (.debug_info, .debug_abbrev).
  kLines,
};

struct LinkOptions {
  Layout layout = Layout::kConformant;

  // Pack small programs (up to 128 instructions emitted through Program::text()) into the header
  // fields the layout leaves free, when that makes the file smaller. The packer may also change
  // the order of independent instructions at the start of the program (mov, lea, push, pop and
  // arithmetic between registers and immediates, never across a label, branch, call, syscall or
  // memory access) when another order fills those fields better. false: code and data always
  // follow the headers, in the order they were emitted.
  bool pack = true;

  // Linux starts a program with every general register but rsp zero (elf_common_init(),
  // arch/x86/include/asm/elf.h; rax holds execve's result, 0). The x86-64 psABI does not promise
  // it, so tinyelf relies on it only when this is true: packing may then shorten instructions in
  // the straight-line code from the entry to the first label, using the register values it can
  // prove (mov eax, 1 becomes mov al, 1; push 14 + pop rdx becomes mov dl, 14; a mov or xor that
  // changes nothing is dropped). Dropping a push also assumes nothing reads below rsp.
  bool assume_zeroed_registers = false;

  // Virtual address of file offset 0. 0x400000 is the traditional x86-64 ET_EXEC base (GNU ld's
  // default text-segment address). Must be page aligned (4096) and at least 0x10000, Debian's
  // default vm.mmap_min_addr: a segment below it makes the kernel kill the program with SIGSEGV
  // after exec, with no error from execve. Layout::kCompact chooses its own and requires this to
  // stay at its default.
  std::uint64_t base_address = 0x400000;

  // One PT_LOAD that is readable, writable and executable for a program with data or bss, as
  // before W^X: the smallest file (one 56-byte program header less). Such a file is killed at exec
  // under PR_SET_MDWE (systemd's MemoryDenyWriteExecute=yes, Linux 6.3+), and GNU ld-style tools
  // warn about it ("LOAD segment with RWX permissions"). false (the default): a program with
  // writable data gets two segments, R+X (headers, text, rodata) and R+W (data, bss), so no
  // memory is both writable and executable. Programs without data or bss have one R+X segment
  // either way; Layout::kCompact is always one segment.
  bool single_segment = false;

  // An ET_DYN file whose segments start at address 0: the kernel loads it at a random address
  // (ASLR), for no extra byte. Every label reference must then be RIP-relative: a program that
  // needs an absolute address (embedLabel, an absolute label operand) is refused with
  // Error(kNotPositionIndependent), and the packer no longer turns `lea reg, [label]` into
  // `mov r32, imm32`. Needs Layout::kConformant and the default base_address.
  bool position_independent = false;

  // The program interpreter (PT_INTERP) of a program that imports symbols (Program::import): the
  // dynamic loader the kernel starts first. Ignored by programs without imports. The string must
  // stay valid until link() returns; it must not be empty nor contain a NUL byte.
  std::string_view interpreter = "/lib64/ld-linux-x86-64.so.2";

  // Symbols and source lines for the tools (see DebugInfo). Anything but kNone needs
  // Layout::kConformant (tools cannot read compact files: Error(kUnsupportedLayout)) and links the
  // program plainly, as with pack = false: packing splits text over header fields and reorders
  // instructions, where no .text section and no line table could follow it.
  DebugInfo debug_info = DebugInfo::kNone;

  // Largest file link() will produce, in bytes (1 GiB by default). The memory image (file plus
  // bss) must in any case end below the top of the 47-bit user address space.
  std::size_t max_file_size = std::size_t{1} << 30;
};

}  // namespace tinyelf
