// The internals of tinyelf::Program: what it owns, the assembler behind Program::text() and what
// that assembler records for the packer. Private: not installed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <asmjit/x86.h>

#include <tinyelf/image.hpp>
#include <tinyelf/link_options.hpp>
#include <tinyelf/program.hpp>

#include "debug_info_p.hpp"

namespace tinyelf::detail {

// Turns every error AsmJit reports into a tinyelf::Error, at the call that caused it.
class ThrowOnAsmJitError final : public asmjit::ErrorHandler {
 public:
  void handleError(asmjit::Error err, const char* message, asmjit::BaseEmitter* origin) override;
};

// One instruction, or one label binding, emitted through Program::text(): enough to move its bytes
// to another address and to know what it reads and writes, which is how link() packs a small
// program into free header bytes. 64 bytes, so that the 16 items of a typical small program take
// one small heap block.
struct TextItem {
  // An instruction with more operands, or with an extra register (an AVX-512 {k} mask, a rep
  // prefix's counter), is not recorded: its program is laid out plainly.
  static constexpr std::size_t kMaxOperands = 3;

  // Offsets in text, modulo 2^32 (a text that long is never packed).
  std::uint32_t start = 0;  // where it was emitted
  std::uint32_t end = 0;    // just past it (== start for a binding)
  asmjit::InstOptions options = asmjit::InstOptions::kNone;
  asmjit::InstId inst_id = 0;  // x86::Inst::kIdNone for a label binding
  asmjit::Operand_ operands[kMaxOperands] = {};  // a binding: the label bound

  std::uint32_t label_id() const noexcept { return operands[0].id(); }  // of a binding
};
static_assert(sizeof(TextItem) == 64);

// Memory from a CodeHolder's zone: a bump allocation, all of it given back when the CodeHolder is
// reset, so that recording a small program costs no heap allocation. What is freed before stays
// in the zone until then.
class ZoneMemory final : public std::pmr::memory_resource {
 public:
  explicit ZoneMemory(asmjit::CodeHolder& code) noexcept : code_(code) {}

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void*, std::size_t, std::size_t) override {}
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  asmjit::CodeHolder& code_;
};

// The assembler behind Program::text(): records what it emits while the program is small enough
// to be packed, and only counts beyond that, so big programs pay one branch per instruction.
class RecordingAssembler final : public asmjit::x86::Assembler {
 public:
  // `memory` (a ZoneMemory of the CodeHolder it is attached to) holds the items: clear_items()
  // must run whenever that CodeHolder is reset.
  explicit RecordingAssembler(std::pmr::memory_resource* memory) : items_(memory) {}

  static constexpr std::size_t kMaxItems = 128;

  std::span<const TextItem> items() const noexcept { return items_; }
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

  std::pmr::vector<TextItem> items_;
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

// One symbol of Program::import: its name, what it is, and the slot ld.so fills with its address.
struct Import {
  std::string symbol;
  SymbolKind kind = SymbolKind::kFunction;
  asmjit::Label slot;  // 8 bytes of bss
};

// What Program::import collected: the libraries to load (DT_NEEDED, in the order first named)
// and the symbols, each once.
struct Imports {
  std::vector<std::string> libraries;
  std::vector<Import> symbols;
};

// Where one of the dynamic tables is: its offset from DynamicTables::dynamic and its size.
struct DynamicTable {
  std::size_t offset = 0;
  std::size_t size = 0;
};

// Labels on the tables a program with imports gets (lib/dynamic.cpp), with the sizes of the two
// the program headers point at; and, for the section headers of LinkOptions::debug_info, where the
// other tables are and the import stubs.
struct DynamicTables {
  asmjit::Label interpreter;  // the NUL-terminated path, in rodata
  std::size_t interpreter_size = 0;
  asmjit::Label dynamic;  // the dynamic section, in data (ld.so writes DT_DEBUG's value)
  std::size_t dynamic_size = 0;
  // The rest of the block that starts at `dynamic` and ends data, and the program's own data
  // before it.
  DynamicTable symbols, relocations, hash, strings;  // hash: with section headers only
  std::size_t program_data_size = 0;
  // With section headers, each function import's stub in text (jmp [rip + slot]), in the order of
  // Imports::symbols (an invalid label for a data import); none without.
  std::vector<asmjit::Label> stubs;
  static constexpr std::size_t kStubSize = 6;  // FF 25 rel32
  // What the tables were built for (and `interpreter`): a later link() must ask for the same.
  bool section_headers = false;
};

// Everything a Program owns. The CodeHolder and the emitters attached to it point at each other,
// and the emitters at error_handler_, so none of them can move: the state lives on the heap and
// moving a Program moves only its pointer (Program::state_).
struct ProgramState {
  ProgramState();
  ProgramState(const ProgramState&) = delete;
  ProgramState& operator=(const ProgramState&) = delete;

  void init_sections();
  void reset();
  asmjit::Section* section(asmjit::Section*& slot, const char* name, asmjit::SectionFlags flags, std::uint32_t order);
  asmjit::Section* rodata_section();
  asmjit::Section* data_section();
  asmjit::Section* bss_section();
  asmjit::Label append(asmjit::Section* section, const void* bytes, std::size_t size, std::size_t align);
  asmjit::Label bss(std::size_t size, std::size_t align);
  asmjit::Label new_label_at(asmjit::Section* section, std::uint64_t offset);  // bound there
  asmjit::Label import(std::string_view library, std::string_view symbol, SymbolKind kind);  // lib/dynamic.cpp
  // The tables of a program with imports, emitted on the first call (lib/dynamic.cpp); with
  // `section_headers` (LinkOptions::debug_info) also what the section headers need.
  const DynamicTables& dynamic_tables(std::string_view interpreter, bool section_headers);
  void symbol(asmjit::Label label, std::string_view name, SymbolKind kind, bool sized, std::uint64_t size);
  Image link(const LinkOptions& options);  // lib/link.cpp

  asmjit::CodeHolder code_;
  ThrowOnAsmJitError error_handler_;
  ZoneMemory zone_memory_{code_};
  RecordingAssembler text_{&zone_memory_};
  asmjit::Section* rodata_ = nullptr;  // each created on first use, else null
  asmjit::Section* data_ = nullptr;
  asmjit::Section* bss_ = nullptr;
  std::vector<DataItem> data_items_;
  Imports imports_;
  std::optional<DynamicTables> dynamic_;  // emitted by the first link() of a program with imports
  DebugMarks debug_;  // Program::symbol() and Program::line()
  asmjit::Label entry_;
  bool linked_ = false;
};

}  // namespace tinyelf::detail
