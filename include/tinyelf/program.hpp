// tinyelf::Program — x86-64 code and data on their way to becoming an executable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

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

// One instruction, or one label binding, emitted through Program::text(): enough to move its bytes
// to another address and to know what it reads and writes, which is how link() packs a small
// program into free header bytes.
struct TextItem {
  // Offsets in text, modulo 2^32 (a text that long is never packed): 8 items fit in one small
  // heap block.
  std::uint32_t start = 0;           // where it was emitted
  std::uint32_t end = 0;             // just past it (== start for a binding)
  asmjit::InstId inst_id = 0;        // x86::Inst::kIdNone for a label binding
  asmjit::InstOptions options = asmjit::InstOptions::kNone;
  asmjit::RegOnly extra_reg;
  asmjit::Operand_ operands[6] = {};
  std::uint32_t label_id = 0;        // the label bound, for a binding
};

// The assembler behind Program::text(): records what it emits while the program is small enough
// to be packed, and only counts beyond that, so big programs pay one branch per instruction.
class RecordingAssembler final : public asmjit::x86::Assembler {
 public:
  static constexpr std::size_t kMaxItems = 128;

  const std::vector<TextItem>& items() const noexcept { return items_; }
  // True while every instruction and binding emitted through this assembler is in items().
  bool complete() const noexcept { return complete_; }
  void clear_items() noexcept;

  asmjit::Error _emit(asmjit::InstId inst_id, const asmjit::Operand_& o0, const asmjit::Operand_& o1,
                      const asmjit::Operand_& o2, const asmjit::Operand_* o_ext) override;
  asmjit::Error bind(const asmjit::Label& label) override;

 private:
  bool keep_recording() noexcept;
  asmjit::Error record_and_emit(asmjit::InstId inst_id, const asmjit::Operand_& o0, const asmjit::Operand_& o1,
                                const asmjit::Operand_& o2, const asmjit::Operand_* o_ext);

  std::vector<TextItem> items_;
  bool complete_ = true;
};

// One rodata() or data() call: where its bytes are, so link() can move them as a whole.
struct DataItem {
  asmjit::Section* section = nullptr;
  std::uint32_t label_id = 0;
  std::size_t offset = 0;
  std::size_t size = 0;
  std::size_t align = 1;
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
  asmjit::Section* section(asmjit::Section*& slot, const char* name, asmjit::SectionFlags flags, std::uint32_t order);
  asmjit::Section* rodata_section();
  asmjit::Section* data_section();
  asmjit::Section* bss_section();
  asmjit::Label append(asmjit::Section* section, const void* bytes, std::size_t size, std::size_t align);

  asmjit::CodeHolder code_;
  detail::ThrowOnAsmJitError error_handler_;
  detail::RecordingAssembler text_;
  asmjit::x86::Assembler data_writer_;  // appends to rodata and data, never to text; attached on first use
  asmjit::Section* rodata_ = nullptr;  // each created on first use, else null
  asmjit::Section* data_ = nullptr;
  asmjit::Section* bss_ = nullptr;
  std::vector<detail::DataItem> data_items_;
  asmjit::Label entry_;
  bool linked_ = false;
};

}  // namespace tinyelf
