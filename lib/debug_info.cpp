// Debug information: the symbol table, the DWARF line table and the section headers link()
// appends after the loaded bytes when LinkOptions::debug_info asks for them. Nothing here is
// mapped into memory: the segments end where this starts.
//
// What the tools need, found by trying them (gdb 13, binutils 2.40, elfutils 0.188, perf 6.1):
// section headers with a .text section (SHF_ALLOC | SHF_EXECINSTR) and a symbol table named
// .symtab (perf looks it up by name) with its string table; e_shstrndx must name a string table
// (with 0 gdb reports a corrupt string table and drops the symbols), and .strtab serves as one.
// For source lines, gdb reads .debug_line only through a compile unit in .debug_info whose
// DW_AT_stmt_list points to it. DWARF 4 (DWARF standard, version 4, sections 6.2 and 7.5) is
// what all of them read without a warning.
#include <algorithm>
#include <cstring>
#include <numeric>

#include <fmt/format.h>

#include <tinyelf/error.hpp>

#include "asmjit_p.hpp"
#include "debug_info_p.hpp"
#include "elf_name_p.hpp"
#include "elf_p.hpp"

namespace tinyelf::detail {

using asmjit::Section;
using asmjit::SectionFlags;

namespace {

// Little-endian values, LEB128 numbers and strings appended to a byte vector.
class Bytes {
 public:
  explicit Bytes(std::vector<std::uint8_t>& out) : out_(out) {}

  template <typename T>
  void put(T value) {
    const std::size_t at = out_.size();
    out_.resize(at + sizeof value);
    std::memcpy(&out_[at], &value, sizeof value);  // little-endian, like the host (elf_p.hpp)
  }
  void u8(std::uint8_t value) { out_.push_back(value); }
  void uleb(std::uint64_t value) {
    do {
      const std::uint8_t byte = value & 0x7f;
      value >>= 7;
      out_.push_back(value != 0 ? byte | 0x80 : byte);
    } while (value != 0);
  }
  void sleb(std::int64_t value) {
    for (bool more = true; more;) {
      const std::uint8_t byte = value & 0x7f;
      value >>= 7;  // arithmetic shift
      more = !((value == 0 && (byte & 0x40) == 0) || (value == -1 && (byte & 0x40) != 0));
      out_.push_back(more ? byte | 0x80 : byte);
    }
  }
  void str(std::string_view text) {
    out_.insert(out_.end(), text.begin(), text.end());
    out_.push_back(0);
  }
  std::size_t size() const noexcept { return out_.size(); }
  // Overwrites the 32-bit value at `at` (a length known only once what follows is written).
  void patch_u32(std::size_t at, std::uint32_t value) { std::memcpy(&out_[at], &value, sizeof value); }

 private:
  std::vector<std::uint8_t>& out_;
};

// DWARF 4 constants (DWARF standard, version 4, section 7).
constexpr std::uint16_t kDwarfVersion = 4;
constexpr std::uint8_t DW_TAG_compile_unit = 0x11, DW_CHILDREN_no = 0;
constexpr std::uint8_t DW_AT_name = 0x03, DW_AT_stmt_list = 0x10, DW_AT_low_pc = 0x11, DW_AT_high_pc = 0x12,
                       DW_AT_language = 0x13, DW_AT_producer = 0x25;
constexpr std::uint8_t DW_FORM_addr = 0x01, DW_FORM_data2 = 0x05, DW_FORM_data8 = 0x07, DW_FORM_string = 0x08,
                       DW_FORM_sec_offset = 0x17;
// No DW_LANG for the languages tinyelf's users compile; assembler is what gdb shows machine code as.
constexpr std::uint16_t DW_LANG_Mips_Assembler = 0x8001;
// (DW_LNS_copy, 1, is not needed: each row is appended by a special opcode or end_sequence.)
constexpr std::uint8_t DW_LNS_advance_pc = 2, DW_LNS_advance_line = 3, DW_LNS_set_file = 4, DW_LNS_set_column = 5;
constexpr std::uint8_t DW_LNE_end_sequence = 1, DW_LNE_set_address = 2;
// The line program's special opcodes encode a line step in [kLineBase, kLineBase + kLineRange)
// and an address step together (section 6.2.5.1); these are the values GNU as uses.
constexpr std::int64_t kLineBase = -5;
constexpr std::int64_t kLineRange = 14;
constexpr std::uint8_t kOpcodeBase = 13;
// Operands (LEB128 numbers) of the standard opcodes 1 to 12.
constexpr std::uint8_t kStandardOpcodeLengths[kOpcodeBase - 1] = {0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1};

// The marks that describe code: a mark followed by another at the same offset, or at the end of
// text, covers nothing; a mark that repeats the position before it adds nothing.
std::vector<DebugMarks::Line> line_rows(const DebugMarks& marks, std::uint64_t text_size) {
  std::vector<DebugMarks::Line> lines = marks.lines();
  // Offsets only grow unless the user moved the assembler backwards; a line table's do.
  std::stable_sort(lines.begin(), lines.end(),
                   [](const auto& x, const auto& y) { return x.text_offset < y.text_offset; });
  std::vector<DebugMarks::Line> rows;
  rows.reserve(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const DebugMarks::Line& mark = lines[i];
    if (mark.text_offset >= text_size) break;
    if (i + 1 < lines.size() && lines[i + 1].text_offset == mark.text_offset) continue;
    if (!rows.empty() && rows.back().file == mark.file && rows.back().line == mark.line &&
        rows.back().column == mark.column)
      continue;
    rows.push_back(mark);
  }
  return rows;
}

// .debug_line: a DWARF 4 line program with one sequence over text (section 6.2).
void write_debug_line(const DebugMarks& marks, const std::vector<DebugMarks::Line>& rows, std::uint64_t text_address,
                      std::uint64_t text_size, Bytes out) {
  const std::size_t unit_start = out.size();
  out.put<std::uint32_t>(0);  // unit_length, patched below
  out.put<std::uint16_t>(kDwarfVersion);
  const std::size_t header_length_at = out.size();
  out.put<std::uint32_t>(0);  // header_length, patched below
  out.u8(1);                  // minimum_instruction_length
  out.u8(1);                  // maximum_operations_per_instruction
  out.u8(1);                  // default_is_stmt
  out.u8(static_cast<std::uint8_t>(kLineBase));
  out.u8(kLineRange);
  out.u8(kOpcodeBase);
  for (const std::uint8_t length : kStandardOpcodeLengths) out.u8(length);
  out.u8(0);  // include_directories: none; every file name is used as given
  for (const std::string& file : marks.files()) {
    out.str(file);
    out.uleb(0);  // directory: the compilation folder
    out.uleb(0);  // modification time: unknown
    out.uleb(0);  // length: unknown
  }
  out.u8(0);
  out.patch_u32(header_length_at, static_cast<std::uint32_t>(out.size() - header_length_at - 4));

  // One sequence for each run of code with source lines: a mark of line 0 ends it, and code in no
  // sequence has no line (gdb 13 ignores rows of line 0 instead, which would stretch the line
  // before over that code). Each sequence starts at file 1, line 1, column 0 (section 6.2.2).
  bool in_sequence = false;
  std::uint64_t address = 0;
  std::uint32_t file = 0, line = 1, column = 0;
  const auto end_sequence = [&](std::uint64_t at) {
    out.u8(DW_LNS_advance_pc);
    out.uleb(at - address);
    out.u8(0);  // extended opcode: its length, then the opcode
    out.uleb(1);
    out.u8(DW_LNE_end_sequence);
    in_sequence = false;
  };
  for (const DebugMarks::Line& row : rows) {
    const std::uint64_t row_address = text_address + row.text_offset;
    if (row.line == 0) {
      if (in_sequence) end_sequence(row_address);
      continue;
    }
    if (!in_sequence) {
      out.u8(0);
      out.uleb(9);
      out.u8(DW_LNE_set_address);
      out.put<std::uint64_t>(row_address);
      in_sequence = true;
      address = row_address;
      file = 0, line = 1, column = 0;
    }
    if (row.file != file) {
      out.u8(DW_LNS_set_file);
      out.uleb(row.file + 1);  // file names count from 1
      file = row.file;
    }
    if (row.column != column) {
      out.u8(DW_LNS_set_column);
      out.uleb(row.column);
      column = row.column;
    }
    std::int64_t line_step = std::int64_t{row.line} - line;
    const std::uint64_t address_step = row_address - address;
    if (line_step < kLineBase || line_step >= kLineBase + kLineRange) {
      out.u8(DW_LNS_advance_line);
      out.sleb(line_step);
      line_step = 0;
    }
    std::uint64_t special = static_cast<std::uint64_t>(line_step - kLineBase) + kOpcodeBase;
    if (address_step > (255 - special) / kLineRange) {
      out.u8(DW_LNS_advance_pc);
      out.uleb(address_step);
    } else {
      special += kLineRange * address_step;
    }
    out.u8(static_cast<std::uint8_t>(special));  // appends a row
    address = row_address;
    line = row.line;
  }
  if (in_sequence) end_sequence(text_address + text_size);
  out.patch_u32(unit_start, static_cast<std::uint32_t>(out.size() - unit_start - 4));
}

// .debug_abbrev: the one abbreviation .debug_info uses, a compile unit without children.
void write_debug_abbrev(Bytes out) {
  out.uleb(1);
  out.uleb(DW_TAG_compile_unit);
  out.u8(DW_CHILDREN_no);
  for (const auto& [attribute, form] : {std::pair{DW_AT_producer, DW_FORM_string}, {DW_AT_language, DW_FORM_data2},
                                       {DW_AT_name, DW_FORM_string}, {DW_AT_stmt_list, DW_FORM_sec_offset},
                                       {DW_AT_low_pc, DW_FORM_addr}, {DW_AT_high_pc, DW_FORM_data8}}) {
    out.uleb(attribute);
    out.uleb(form);
  }
  out.u8(0);
  out.u8(0);
  out.u8(0);  // end of the table
}

// .debug_info: the compile unit that covers text and points to the line table (section 7.5.1.1).
void write_debug_info(const DebugMarks& marks, std::uint64_t text_address, std::uint64_t text_size, Bytes out) {
  const std::size_t unit_start = out.size();
  out.put<std::uint32_t>(0);  // unit_length, patched below
  out.put<std::uint16_t>(kDwarfVersion);
  out.put<std::uint32_t>(0);  // debug_abbrev_offset
  out.u8(8);                  // address_size
  out.uleb(1);                // the abbreviation of write_debug_abbrev()
  out.str("tinyelf");
  out.put<std::uint16_t>(DW_LANG_Mips_Assembler);
  out.str(marks.files().front());
  out.put<std::uint32_t>(0);  // DW_AT_stmt_list: the only line program
  out.put<std::uint64_t>(text_address);
  out.put<std::uint64_t>(text_size);  // DW_AT_high_pc as a constant: the size (section 2.17.2)
  out.patch_u32(unit_start, static_cast<std::uint32_t>(out.size() - unit_start - 4));
}

// e_shnum and section indexes are 16 bits; from SHN_LORESERVE (0xff00) on they mean other things.
constexpr std::size_t kMaxSections = 0xff00;

}  // namespace

void DebugMarks::add_symbol(std::uint32_t label_id, std::string_view name, SymbolKind kind, bool sized,
                            std::uint64_t size) {
  check_elf_name(name, "the symbol name", ErrorCode::kInvalidDebugInfo);
  if (kind != SymbolKind::kFunction && kind != SymbolKind::kObject)
    throw Error(ErrorCode::kInvalidDebugInfo,
                fmt::format("symbol \"{}\": kind {} is not a tinyelf::SymbolKind", name, static_cast<int>(kind)));
  symbols_.push_back({label_id, static_cast<std::uint32_t>(names_.size()), kind, sized, size});
  names_.append(name);
  names_.push_back('\0');
}

void DebugMarks::add_line(std::uint64_t text_offset, std::string_view file, std::uint32_t line,
                          std::uint32_t column) {
  std::uint32_t index;
  if (!lines_.empty() && files_[lines_.back().file] == file) {
    index = lines_.back().file;  // most marks repeat the file before them
  } else {
    check_elf_name(file, "the source file name", ErrorCode::kInvalidDebugInfo);
    const auto [it, added] = file_index_.try_emplace(std::string(file), static_cast<std::uint32_t>(files_.size()));
    if (added) files_.emplace_back(file);
    index = it->second;
  }
  lines_.push_back({text_offset, index, line, column});
}

void DebugMarks::end_lines(std::uint64_t text_offset) {
  if (!lines_.empty()) lines_.push_back({text_offset, lines_.back().file, 0, 0});
}

void DebugMarks::clear() noexcept {
  symbols_.clear();
  names_.assign(1, '\0');
  lines_.clear();
  files_.clear();
  file_index_.clear();
}

void check_symbols_bound(const DebugMarks& marks, const asmjit::CodeHolder& code) {
  for (const DebugMarks::Symbol& mark : marks.symbols()) {
    const asmjit::LabelEntry* label = code.labelEntry(mark.label_id);
    if (label == nullptr || !label->isBound())
      throw Error(ErrorCode::kUnboundLabel,
                  fmt::format("the label of symbol \"{}\" is never bound: bind it before link()",
                              marks.names().c_str() + mark.name));
  }
}

DebugTail debug_tail(DebugInfo level, const DebugMarks& marks, const DebugMarks& locals, const asmjit::CodeHolder& code,
                     std::span<const PlacedSection> sections, std::uint64_t base, std::uint64_t start,
                     std::uint64_t not_before) {
  DebugTail tail;
  const Section* text = code.textSection();
  const std::uint64_t text_address = base + text->offset();
  const std::uint64_t text_size = text->realSize();

  // The section headers: none first (index 0 is SHN_UNDEF), the program's sections, then ours.
  if (sections.size() > kMaxSections - 6)
    throw Error(ErrorCode::kImageTooLarge,
                fmt::format("the program has more sections than an ELF section header table can number ({})",
                            kMaxSections - 5));
  std::vector<Elf64_Shdr> headers(1, Elf64_Shdr{});
  headers.reserve(sections.size() + 6);
  // The names: the global symbols', the local ones', then the sections'.
  std::string strtab = marks.names();
  const auto name = [&](std::string_view section_name) {
    const auto at = static_cast<std::uint32_t>(strtab.size());
    strtab.append(section_name);
    strtab.push_back('\0');
    return at;
  };
  const auto locals_names = static_cast<std::uint32_t>(strtab.size() - 1);  // locals.names() starts with a NUL
  strtab.append(locals.names(), 1);
  std::vector<std::uint16_t> index_of(code.sectionCount(), SHN_ABS);  // by section id
  for (const PlacedSection& placed : sections) {
    Elf64_Shdr header{};
    header.sh_name = name(placed.name);
    header.sh_type = placed.type;
    header.sh_flags = placed.flags;
    header.sh_addr = base + placed.address;
    header.sh_offset = placed.file_offset;
    header.sh_size = placed.size;
    header.sh_link = placed.link;
    header.sh_info = placed.info;
    header.sh_addralign = placed.align;
    header.sh_entsize = placed.entry_size;
    if (placed.holds != nullptr) index_of[placed.holds->id()] = static_cast<std::uint16_t>(headers.size());
    headers.push_back(header);
  }

  // The symbols: the null one (STN_UNDEF), the local ones, the global ones; then the sizes that
  // were not given: to the next symbol of the section or its end.
  const std::size_t first_global = 1 + locals.symbols().size();
  std::vector<Elf64_Sym> symbols(first_global + marks.symbols().size(), Elf64_Sym{});
  std::vector<bool> sized(symbols.size(), true);
  const auto add_symbols = [&](const DebugMarks& from, std::size_t first, unsigned char binding,
                               std::uint32_t names_at) {
    for (std::size_t i = 0; i < from.symbols().size(); ++i) {
      const DebugMarks::Symbol& mark = from.symbols()[i];
      const asmjit::LabelEntry* label = code.labelEntry(mark.label_id);
      Elf64_Sym& symbol = symbols[first + i];
      symbol.st_name = names_at + mark.name;
      symbol.st_info = binding << 4 | (mark.kind == SymbolKind::kFunction ? STT_FUNC : STT_OBJECT);
      symbol.st_shndx = index_of[label->section()->id()];
      symbol.st_value = base + label->section()->offset() + label->offset();
      symbol.st_size = mark.size;
      sized[first + i] = mark.sized;
    }
  };
  add_symbols(locals, 1, STB_LOCAL, locals_names);
  add_symbols(marks, first_global, STB_GLOBAL, 0);
  std::vector<std::uint32_t> by_address(symbols.size() - 1);
  std::iota(by_address.begin(), by_address.end(), 1);
  std::sort(by_address.begin(), by_address.end(), [&](std::uint32_t x, std::uint32_t y) {
    return std::pair(symbols[x].st_shndx, symbols[x].st_value) < std::pair(symbols[y].st_shndx, symbols[y].st_value);
  });
  for (std::size_t i = 0; i < by_address.size(); ++i) {
    Elf64_Sym& symbol = symbols[by_address[i]];
    if (sized[by_address[i]] || symbol.st_shndx == SHN_ABS) continue;
    const Elf64_Shdr& section = headers[symbol.st_shndx];
    std::uint64_t end = section.sh_addr + section.sh_size;
    for (std::size_t j = i + 1; j < by_address.size() && symbols[by_address[j]].st_shndx == symbol.st_shndx; ++j)
      if (symbols[by_address[j]].st_value > symbol.st_value) {
        end = symbols[by_address[j]].st_value;
        break;
      }
    symbol.st_size = end - symbol.st_value;
  }

  // Our sections, each named now so that .strtab is complete before it is placed.
  const std::uint32_t symtab_name = name(".symtab"), strtab_name = name(".strtab");
  std::vector<DebugMarks::Line> rows;
  std::uint32_t dwarf_names[3] = {};
  if (level == DebugInfo::kLines) {
    rows = line_rows(marks, text_size);
    if (!rows.empty()) {
      dwarf_names[0] = name(".debug_abbrev");
      dwarf_names[1] = name(".debug_info");
      dwarf_names[2] = name(".debug_line");
    }
  }

  std::vector<std::uint8_t>& out = tail.bytes;
  const std::uint64_t symtab_at = align_up(std::max(start, not_before), 8);
  out.resize(symtab_at - start);
  const auto append = [&](std::string_view what, const void* bytes, std::size_t size) {
    const std::uint64_t at = start + out.size();
    out.insert(out.end(), static_cast<const std::uint8_t*>(bytes), static_cast<const std::uint8_t*>(bytes) + size);
    tail.regions.push_back({at, size, RegionKind::kDebugInfo, what, {}});
    return at;
  };
  const auto table = [&](std::uint32_t section_name, std::uint32_t type, std::uint64_t at, std::uint64_t size,
                         std::uint64_t align) {
    Elf64_Shdr header{};
    header.sh_name = section_name;
    header.sh_type = type;
    header.sh_offset = at;
    header.sh_size = size;
    header.sh_addralign = align;
    headers.push_back(header);
    return &headers.back();  // valid until the next one: `headers` holds room for all of them
  };
  const std::uint16_t symtab_index = static_cast<std::uint16_t>(headers.size());
  Elf64_Shdr* symtab = table(symtab_name, SHT_SYMTAB, append(".symtab", symbols.data(), symbols.size() * sizeof(Elf64_Sym)),
                             symbols.size() * sizeof(Elf64_Sym), 8);
  symtab->sh_link = symtab_index + 1;  // .strtab, next
  symtab->sh_info = static_cast<std::uint32_t>(first_global);  // the first global symbol
  symtab->sh_entsize = sizeof(Elf64_Sym);
  tail.section_names = static_cast<std::uint16_t>(headers.size());
  table(strtab_name, SHT_STRTAB, append(".strtab", strtab.data(), strtab.size()), strtab.size(), 1);
  if (!rows.empty()) {
    std::vector<std::uint8_t> dwarf;
    write_debug_abbrev(Bytes(dwarf));
    table(dwarf_names[0], SHT_PROGBITS, append(".debug_abbrev", dwarf.data(), dwarf.size()), dwarf.size(), 1);
    dwarf.clear();
    write_debug_info(marks, text_address, text_size, Bytes(dwarf));
    table(dwarf_names[1], SHT_PROGBITS, append(".debug_info", dwarf.data(), dwarf.size()), dwarf.size(), 1);
    dwarf.clear();
    write_debug_line(marks, rows, text_address, text_size, Bytes(dwarf));
    table(dwarf_names[2], SHT_PROGBITS, append(".debug_line", dwarf.data(), dwarf.size()), dwarf.size(), 1);
  }

  tail.section_headers = align_up(start + out.size(), 8);
  out.resize(tail.section_headers - start);
  append("section headers", headers.data(), headers.size() * sizeof(Elf64_Shdr));
  tail.section_count = static_cast<std::uint16_t>(headers.size());
  return tail;
}

}  // namespace tinyelf::detail
