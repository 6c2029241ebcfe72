// Debug information (LinkOptions::debug_info): what Program::symbol() and Program::line()
// record, and the bytes link() appends after the loaded ones for the tools: .symtab, .strtab (also
// the section name table), the DWARF line table in its minimal compile unit, and the section
// headers, in that order.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <asmjit/core.h>

#include <tinyelf/image.hpp>
#include <tinyelf/link_options.hpp>
#include <tinyelf/program.hpp>

#include "elf_p.hpp"

namespace tinyelf::detail {

// What Program::symbol() and Program::line() recorded, kept until link().
class DebugMarks {
 public:
  struct Symbol {
    std::uint32_t label_id = 0;
    std::uint32_t name = 0;  // offset in names()
    SymbolKind kind = SymbolKind::kFunction;
    bool sized = false;      // `size` was given; else it runs to the next symbol or the section's end
    std::uint64_t size = 0;
  };
  struct Line {
    std::uint64_t text_offset = 0;  // where the marked code starts in text
    std::uint32_t file = 0;         // index in files()
    std::uint32_t line = 0;
    std::uint32_t column = 0;
  };

  void add_symbol(std::uint32_t label_id, std::string_view name, SymbolKind kind, bool sized, std::uint64_t size);
  void add_line(std::uint64_t text_offset, std::string_view file, std::uint32_t line, std::uint32_t column);
  // Marks the code from `text_offset` on as coming from no source line (line 0), if any code was
  // marked before: for code link() adds after the program's.
  void end_lines(std::uint64_t text_offset);
  void clear() noexcept;

  const std::vector<Symbol>& symbols() const noexcept { return symbols_; }
  // The symbol names as .strtab holds them: a NUL, then each name and its NUL.
  const std::string& names() const noexcept { return names_; }
  const std::vector<Line>& lines() const noexcept { return lines_; }
  const std::vector<std::string>& files() const noexcept { return files_; }

 private:
  std::vector<Symbol> symbols_;
  std::string names_ = std::string(1, '\0');
  std::vector<Line> lines_;
  std::vector<std::string> files_;
  std::unordered_map<std::string, std::uint32_t> file_index_;
};

// A section header for a part of the loaded bytes, as link() placed it: one of the program's
// sections, or one of the tables of a program with imports.
struct PlacedSection {
  std::string_view name;
  std::uint32_t type = SHT_PROGBITS;
  std::uint64_t flags = SHF_ALLOC;
  std::uint64_t file_offset = 0;  // for SHT_NOBITS: where it would be in the file
  std::uint64_t address = 0;      // from the base address
  std::uint64_t size = 0;
  std::uint64_t align = 1;
  std::uint64_t entry_size = 0;
  // Other sections by their place in the list link() passes, counted from 1 (0: none), as
  // section indexes are (the null section header is index 0).
  std::uint32_t link = 0;
  std::uint32_t info = 0;
  // The program's section whose labels' symbols are in this one, if any.
  const asmjit::Section* holds = nullptr;
};

// The bytes appended after the loaded part of the file, and what the ELF header says of them.
struct DebugTail {
  std::vector<std::uint8_t> bytes;  // written from `start` (see debug_tail()) on
  std::vector<Region> regions;      // in file order
  std::uint64_t section_headers = 0;  // e_shoff
  std::uint16_t section_count = 0;    // e_shnum
  std::uint16_t section_names = 0;    // e_shstrndx: .strtab names the sections too
};

// The debug information `level` asks for, to be written at file offset `start` (the end of the
// loaded bytes; zeros up to `not_before`, at least) of a file whose loaded bytes hold `sections`
// (in file order; with empty ones left out). `marks` gives the global symbols and the lines,
// `locals` (all sized) local symbols that come first in .symtab; every symbol's label is bound
// (check_symbols_bound()). Throws Error(kImageTooLarge) past 65,280 sections.
DebugTail debug_tail(DebugInfo level, const DebugMarks& marks, const DebugMarks& locals, const asmjit::CodeHolder& code,
                     std::span<const PlacedSection> sections, std::uint64_t base, std::uint64_t start,
                     std::uint64_t not_before);

// Throws Error(kUnboundLabel) for a symbol on a label never bound.
void check_symbols_bound(const DebugMarks& marks, const asmjit::CodeHolder& code);

}  // namespace tinyelf::detail
