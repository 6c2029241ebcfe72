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

// A section of the program as link() placed it: the section header it gets.
struct PlacedSection {
  // Null for an empty .data, which marks a segment of bss alone writable for eu-elflint: it
  // counts only writable sections with file bytes (elflint.c, check_sections).
  const asmjit::Section* section;
  std::uint64_t file_offset;  // for zero-initialized sections: where they would be in the file
  std::uint64_t address;      // from the base address
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
// loaded bytes; zeros up to `not_before`, at least) of a file whose sections are `sections` (in file order, addresses set: their
// Section::offset() is their address from `base`). Throws Error(kUnboundLabel) for a symbol on a
// label never bound, Error(kImageTooLarge) past 65,280 sections.
DebugTail debug_tail(DebugInfo level, const DebugMarks& marks, const asmjit::CodeHolder& code,
                     std::span<const PlacedSection> sections, std::uint64_t base, std::uint64_t start,
                     std::uint64_t not_before);

}  // namespace tinyelf::detail
