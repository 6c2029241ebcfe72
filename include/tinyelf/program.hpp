// tinyelf::Program — x86-64 code and data on their way to becoming an executable.
#pragma once

#include <cstddef>
#include <string_view>

#include <asmjit/x86.h>

#include <tinyelf/image.hpp>
#include <tinyelf/link_options.hpp>

namespace tinyelf {

namespace detail {
// Turns every error AsmJit reports into a tinyelf::Error, at the call that caused it.
class ThrowOnAsmJitError final : public asmjit::ErrorHandler {
 public:
  void handleError(asmjit::Error err, const char* message, asmjit::BaseEmitter* origin) override;
};
}  // namespace detail

// An x86-64 program: a CodeHolder with the sections text, rodata, data and bss, an Assembler on
// text, and link() to turn it into an Image.
//
//   tinyelf::Program program;
//   auto& a = program.text();
//   a.mov(asmjit::x86::edi, 42);  // exit status
//   a.mov(asmjit::x86::eax, 60);  // SYS_exit
//   a.syscall();
//   program.link().write("exit42");
class Program {
 public:
  Program();
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  // The assembler users emit into; it is positioned at the end of text.
  asmjit::x86::Assembler& text() noexcept { return text_; }

  // The CodeHolder, to attach any other AsmJit emitter (x86::Builder, x86::Compiler). Their code
  // goes into text once they are finalized; call finalize() before link(). Use one emitter for
  // text at a time: text() does not see what another emitter appended.
  asmjit::CodeHolder& code() noexcept { return code_; }

  // Appends read-only bytes and returns a label on the first one. `align` is a power of two in
  // [1, 4096] and holds for the virtual address.
  asmjit::Label rodata(std::string_view bytes, std::size_t align = 1);
  asmjit::Label rodata(const void* bytes, std::size_t size, std::size_t align);

  // Appends writable bytes with their initial contents and returns a label on the first one.
  asmjit::Label data(std::string_view bytes, std::size_t align = 1);
  asmjit::Label data(const void* bytes, std::size_t size, std::size_t align);

  // Reserves `size` writable, zero-filled bytes. They cost no file bytes: they live in the
  // segment's memory size (p_memsz) beyond its file size (p_filesz).
  asmjit::Label bss(std::size_t size, std::size_t align = 16);

  // Execution starts at `label`, which must be bound in text by link(). Default: the first byte
  // of text.
  void set_entry(asmjit::Label label) noexcept { entry_ = label; }

  // Lays out the headers, code and data, resolves every label and returns the executable.
  // Throws Error on an unbound label, a bad entry, bad options or an image over its size limit.
  // A Program links once; reset() starts the next one.
  Image link(const LinkOptions& options = {});

  // Forgets the program (code, data, labels, entry) but keeps the memory it allocated, so a
  // stream of small executables is cheap. Other emitters attached to code() are detached.
  void reset();

 private:
  void init_sections();
  asmjit::Label append(asmjit::Section* section, const void* bytes, std::size_t size, std::size_t align);

  asmjit::CodeHolder code_;
  detail::ThrowOnAsmJitError error_handler_;
  asmjit::x86::Assembler text_;
  asmjit::x86::Assembler data_writer_;  // appends to rodata and data, never to text
  asmjit::Section* rodata_ = nullptr;
  asmjit::Section* data_ = nullptr;
  asmjit::Section* bss_ = nullptr;
  asmjit::Label entry_;
  bool linked_ = false;
};

}  // namespace tinyelf
