// tinyelf::Program — x86-64 code and data on their way to becoming an executable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include <asmjit/x86.h>

#include <tinyelf/image.hpp>
#include <tinyelf/link_options.hpp>

namespace tinyelf {

namespace detail {
struct ProgramState;
}

// What a symbol names (its ELF st_type).
enum class SymbolKind {
  kFunction,  // code: STT_FUNC
  kObject,    // data: STT_OBJECT
};

// An x86-64 program: a CodeHolder with the sections text, rodata, data and bss, an Assembler on
// text, and link() to turn it into an Image.
//
//   tinyelf::Program program;
//   auto& a = program.text();
//   a.mov(asmjit::x86::edi, 42);  // exit status
//   a.mov(asmjit::x86::eax, 60);  // SYS_exit
//   a.syscall();
//   program.link().write("exit42");
//
// A Program is movable, not copyable. Moving moves the CodeHolder and its emitters as they are:
// references from text() and code() and the labels already made stay valid and now belong to the
// Program moved to. The Program moved from holds no program: only destruction, assignment and
// reset() (which gives it a new, empty program) are valid on it.
class Program {
 public:
  Program();
  ~Program();
  Program(Program&& other) noexcept;
  Program& operator=(Program&& other) noexcept;
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  // The assembler users emit into; it is positioned at the end of text.
  asmjit::x86::Assembler& text() noexcept;

  // The CodeHolder, to attach any other AsmJit emitter (x86::Builder, x86::Compiler). Their code
  // goes into text once they are finalized; call finalize() before link(). Use one emitter for
  // text at a time: text() does not see what another emitter appended.
  asmjit::CodeHolder& code() noexcept;

  // Appends read-only bytes and returns a label on the first one. `align` is a power of two in
  // [1, 4096] and holds for the virtual address.
  asmjit::Label rodata(std::string_view bytes, std::size_t align = 1);
  asmjit::Label rodata(const void* bytes, std::size_t size, std::size_t align);
  // A string literal gives all its bytes but the terminating NUL, embedded NULs included:
  // rodata("\x07\x00\x00\x00") is 4 bytes (through std::string_view it would be 1).
  template <std::size_t N>
  asmjit::Label rodata(const char (&literal)[N], std::size_t align = 1) {
    return rodata(literal, N - 1, align);
  }

  // Appends writable bytes with their initial contents and returns a label on the first one.
  asmjit::Label data(std::string_view bytes, std::size_t align = 1);
  asmjit::Label data(const void* bytes, std::size_t size, std::size_t align);
  template <std::size_t N>
  asmjit::Label data(const char (&literal)[N], std::size_t align = 1) {
    return data(literal, N - 1, align);
  }

  // Reserves `size` writable, zero-filled bytes. They cost no file bytes: they live in the
  // segment's memory size (p_memsz) beyond its file size (p_filesz).
  asmjit::Label bss(std::size_t size, std::size_t align = 16);

  // A pointer-sized slot that the system's dynamic loader (ld.so) fills, before the entry runs,
  // with the address of `symbol` from the shared library `library` (its DT_NEEDED name, e.g.
  // "libc.so.6"). Call a function through it, or read a data symbol's address from it:
  //
  //   asmjit::Label puts = program.import("libc.so.6", "puts");
  //   a.lea(x86::rdi, x86::ptr(message));
  //   a.call(x86::qword_ptr(puts));  // call [rip + slot]; rsp must be 16-byte aligned here
  //
  // The same library twice is needed once; the same symbol twice gives the same slot. The slot is
  // zero-filled writable memory (no file bytes). A program with imports starts after ld.so has
  // loaded the libraries and initialised libc (README: "Calling shared libraries").
  //
  // `kind` says whether the symbol is a function (the default) or data (SymbolKind::kObject, e.g.
  // "stdout"); it matters only with LinkOptions::debug_info, where each function import gets a
  // 6-byte stub in text (jmp [rip + slot]) named after it, so that `break puts` in gdb and
  // objdump find the name, and each slot is named "SYMBOL@got". The program's own calls still go
  // through the slot. Throws Error(kInvalidImport) for an empty name, one containing a NUL byte,
  // a kind that is not a SymbolKind, or a symbol imported again with another kind.
  asmjit::Label import(std::string_view library, std::string_view symbol, SymbolKind kind = SymbolKind::kFunction);

  // Execution starts at `label`, which must be bound in text by link(). Default: the first byte
  // of text.
  void set_entry(asmjit::Label label) noexcept;

  // Names the code or data at `label` (bound by link() in any section) for debuggers, profilers
  // and disassemblers; written only with LinkOptions::debug_info (see DebugInfo). Its size runs
  // to the next symbol in the same section or to the end of that section; the second form gives
  // it. Names need not be unique. Throws Error(kInvalidDebugInfo) for an empty name, a name with a
  // NUL byte, or a label of another program.
  void symbol(asmjit::Label label, std::string_view name, SymbolKind kind = SymbolKind::kFunction);
  void symbol(asmjit::Label label, std::string_view name, SymbolKind kind, std::uint64_t size);

  // Marks the code emitted into text from here (the current end of text) as coming from `file`
  // at `line` and `column` (1-based; column 0: unknown), until the next mark. Line 0 marks code
  // that comes from no source line (the DWARF meaning: debuggers step over it). A mark followed
  // by no code before the next one is dropped. File names are stored once each, as given: a
  // relative name is found from the debugger's folder. Written only with DebugInfo::kLines.
  // Throws Error(kInvalidDebugInfo) for an empty file name or one with a NUL byte.
  void line(std::string_view file, std::uint32_t line, std::uint32_t column = 0);

  // Lays out the headers, code and data, resolves every label and returns the executable.
  // Throws Error on an unbound label, a bad entry, bad options or an image over its size limit.
  // A Program links once; reset() starts the next one.
  Image link(const LinkOptions& options = {});

  // Forgets the program (code, data, labels, entry) but keeps the memory it allocated, so a
  // stream of small executables is cheap. Other emitters attached to code() are detached. On a
  // Program moved from, starts a new, empty program.
  void reset();

 private:
  std::unique_ptr<detail::ProgramState> state_;  // null once moved from
};

}  // namespace tinyelf
