// Imports: Program::import, and the tables through which the system's dynamic loader fills the
// import slots before the entry runs.
//
// What ld.so needs, and nothing more (glibc 2.36: elf/rtld.c, elf/dl-deps.c, elf/do-rel.h,
// elf/get-dynamic-info.h, elf/dl-setup_hash.c): DT_NEEDED names each library, DT_STRTAB is read
// unchecked as soon as there is one, DT_SYMTAB always (_dl_relocate_object), DT_RELA with
// DT_RELASZ and DT_RELAENT = 24. No hash table (only a library's own symbols are looked up through
// one) and no PLT: every slot gets one R_X86_64_GLOB_DAT in DT_RELA, which ld.so applies before it
// jumps to the entry, so a missing symbol stops the program at start, never halfway. DT_STRSZ and
// DT_SYMENT are for readelf and dladdr, DT_DEBUG for gdb (it finds the libraries through the
// r_debug ld.so stores there).
//
// With LinkOptions::debug_info the section headers describe these tables, and two things are
// added for the tools alone: an empty hash table (eu-elflint requires DT_HASH or DT_GNU_HASH once
// the dynamic section has a header) and a named stub per imported function, for gdb's
// `break puts` before libc is loaded.
//
// The tables are ordinary program data, built with labels: AsmJit writes their addresses when
// link() relocates the program, like any embedded label.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <memory_resource>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "asmjit_p.hpp"
#include "elf_name_p.hpp"
#include "elf_p.hpp"
#include "program_p.hpp"

namespace tinyelf::detail {

namespace x86 = asmjit::x86;
using asmjit::Label;

Label ProgramState::import(std::string_view library, std::string_view symbol, SymbolKind kind) {
  check_elf_name(library, "the library name", ErrorCode::kInvalidImport);
  check_elf_name(symbol, "the symbol name", ErrorCode::kInvalidImport);
  if (kind != SymbolKind::kFunction && kind != SymbolKind::kObject)
    throw Error(ErrorCode::kInvalidImport,
                fmt::format("import \"{}\": kind {} is not a tinyelf::SymbolKind: use kFunction or kObject", symbol,
                            static_cast<int>(kind)));
  // The tables are emitted by the first link() that gets that far: a later import could not be in
  // them.
  if (linked_ || dynamic_)
    throw Error(ErrorCode::kAlreadyLinked, "import() after link(): call reset() to build the next program");
  // ld.so looks every symbol up in all the needed libraries in order (the global scope), so a
  // name has one address whichever library it was asked from: one slot per name.
  const auto known = std::find_if(imports_.symbols.begin(), imports_.symbols.end(),
                                  [&](const Import& import) { return import.symbol == symbol; });
  const auto kind_name = [](SymbolKind k) { return k == SymbolKind::kFunction ? "a function" : "data"; };
  if (known != imports_.symbols.end() && known->kind != kind)
    throw Error(ErrorCode::kInvalidImport,
                fmt::format("import \"{}\": imported before as {}, now as {}: a symbol is either a function or data",
                            symbol, kind_name(known->kind), kind_name(kind)));
  if (std::find(imports_.libraries.begin(), imports_.libraries.end(), library) == imports_.libraries.end())
    imports_.libraries.emplace_back(library);
  if (known != imports_.symbols.end()) return known->slot;
  imports_.symbols.push_back({std::string(symbol), kind, bss(8, 8)});
  return imports_.symbols.back().slot;
}

namespace {

// A SysV hash table (gABI "Hash Table") with one bucket and every chain empty: no symbol of the
// program can be found through it, as without one (the imports are undefined, and ld.so never
// matches an undefined symbol: glibc elf/dl-lookup.c, check_match). Only files with section
// headers carry it, for eu-elflint, which requires DT_HASH or DT_GNU_HASH of a dynamic section.
std::vector<std::uint32_t> empty_hash_table(std::size_t symbol_count) {
  std::vector<std::uint32_t> table(3 + symbol_count, 0);
  table[0] = 1;                                          // nbucket
  table[1] = static_cast<std::uint32_t>(symbol_count);  // nchain: one per symbol, the null one too
  return table;
}

}  // namespace

const DynamicTables& ProgramState::dynamic_tables(std::string_view interpreter, bool section_headers) {
  if (dynamic_) {
    const asmjit::LabelEntry* path = code_.labelEntry(dynamic_->interpreter);  // NUL-terminated in rodata
    const std::string_view built(reinterpret_cast<const char*>(path->section()->data()) + path->offset(),
                                 dynamic_->interpreter_size - 1);
    if (built != interpreter || dynamic_->section_headers != section_headers)
      throw Error(ErrorCode::kAlreadyLinked,
                  "a link() that failed built this program's import tables for other options (interpreter or "
                  "debug_info): link it with the same ones, or reset() and build it again");
    return *dynamic_;
  }
  check_elf_name(interpreter, "the interpreter name", ErrorCode::kInvalidImport);
  // The temporaries below come from the stack for all but large import lists: heap allocations
  // were a third of what building the tables cost (callgrind, bench case tinyelf/libc-hello).
  alignas(std::max_align_t) std::array<std::byte, 2048> buffer;
  std::pmr::monotonic_buffer_resource arena(buffer.data(), buffer.size());
  DynamicTables tables;
  tables.section_headers = section_headers;
  std::pmr::string path(interpreter, &arena);
  path += '\0';
  tables.interpreter = append(rodata_section(), path.data(), path.size(), 1);
  tables.interpreter_size = path.size();

  // With section headers, a stub per function import after the program's code: a name for gdb,
  // objdump and perf on a valid instruction (FF 25 rel32, 6 bytes). The program's calls go
  // through the slots, never through the stubs. Code from no source line.
  if (section_headers) {
    text_.setOffset(code_.textSection()->bufferSize());
    debug_.end_lines(text_.offset());
    for (const Import& import : imports_.symbols) {
      if (import.kind != SymbolKind::kFunction) {
        tables.stubs.emplace_back();
        continue;
      }
      tables.stubs.push_back(text_.newLabel());
      text_.bind(tables.stubs.back());
      text_.jmp(x86::qword_ptr(import.slot));
    }
  }

  // The string table: a NUL first (offset 0 is the empty name), then the names.
  std::pmr::string strings(1, '\0', &arena);
  auto add_string = [&](const std::string& name) {
    const auto offset = static_cast<std::uint32_t>(strings.size());
    strings += name;
    strings += '\0';
    return offset;
  };
  std::pmr::vector<std::uint32_t> needed(&arena);
  for (const std::string& library : imports_.libraries) needed.push_back(add_string(library));
  std::pmr::vector<Elf64_Sym> symbols(imports_.symbols.size(), Elf64_Sym{}, &arena);
  for (std::size_t i = 0; i < imports_.symbols.size(); ++i) {
    symbols[i].st_name = add_string(imports_.symbols[i].symbol);
    symbols[i].st_info = STB_GLOBAL << 4 | STT_NOTYPE;  // undefined: st_shndx SHN_UNDEF (0)
  }
  const std::vector<std::uint32_t> hash =
      section_headers ? empty_hash_table(1 + symbols.size()) : std::vector<std::uint32_t>{};

  // One block of data, 8-byte aligned: the dynamic section, the symbols, the relocations, the
  // hash table (with section headers), the strings. The symbol table's first entry, the null
  // symbol (24 zero bytes), is the dynamic section's last 24 bytes: DT_DEBUG's value and DT_NULL,
  // zero in the file. ld.so writes DT_DEBUG's value at start, and nothing reads symbol 0 after
  // that (no lookup finds a symbol of the program: it has no hash table, or an empty one).
  // Writable memory suits ld.so, which reads the tables once before the entry runs (no lazy
  // binding). The block is built here and embedded at once; its addresses are AsmJit relocations,
  // written when link() relocates the program.
  const std::size_t dynamic_entries = needed.size() + 9 + (hash.empty() ? 0 : 1);
  tables.dynamic_size = dynamic_entries * sizeof(Elf64_Dyn);
  tables.symbols = {tables.dynamic_size - sizeof(Elf64_Sym), (1 + symbols.size()) * sizeof(Elf64_Sym)};
  tables.relocations = {tables.symbols.offset + tables.symbols.size, imports_.symbols.size() * sizeof(Elf64_Rela)};
  tables.hash = {tables.relocations.offset + tables.relocations.size, hash.size() * sizeof(std::uint32_t)};
  tables.strings = {tables.hash.offset + tables.hash.size, strings.size()};
  std::pmr::vector<std::uint8_t> block(tables.strings.offset + tables.strings.size, &arena);
  struct Address {
    std::size_t at;             // in the block
    const asmjit::Section* to;  // what it points at: a section and an offset in it
    std::uint64_t offset;
  };
  std::pmr::vector<Address> addresses(&arena);
  addresses.reserve(4 + imports_.symbols.size());  // DT_HASH, DT_STRTAB, DT_SYMTAB, DT_RELA, r_offset of each
  std::size_t at = 0;
  auto put = [&](const auto& value) {
    std::memcpy(block.data() + at, &value, sizeof value);
    at += sizeof value;
  };
  auto entry = [&](std::int64_t tag, std::uint64_t value) { put(Elf64_Dyn{tag, value}); };
  asmjit::Section* const data = data_section();
  auto address = [&](std::int64_t tag, std::size_t in_block) {
    addresses.push_back({at + 8, data, in_block});  // completed below with the block's offset
    entry(tag, 0);
  };
  for (const std::uint32_t name : needed) entry(DT_NEEDED, name);
  if (!hash.empty()) address(DT_HASH, tables.hash.offset);
  address(DT_STRTAB, tables.strings.offset);
  entry(DT_STRSZ, strings.size());
  address(DT_SYMTAB, tables.symbols.offset);
  entry(DT_SYMENT, sizeof(Elf64_Sym));
  address(DT_RELA, tables.relocations.offset);
  entry(DT_RELASZ, tables.relocations.size);
  entry(DT_RELAENT, sizeof(Elf64_Rela));
  entry(DT_DEBUG, 0);  // its value and DT_NULL are the null symbol
  entry(DT_NULL, 0);
  for (const Elf64_Sym& symbol : symbols) put(symbol);
  for (std::size_t i = 0; i < imports_.symbols.size(); ++i) {
    const asmjit::LabelEntry* slot = code_.labelEntry(imports_.symbols[i].slot);
    addresses.push_back({at, slot->section(), slot->offset()});
    put(Elf64_Rela{0, std::uint64_t{i + 1} << 32 | R_X86_64_GLOB_DAT, 0});  // r_offset: the slot
  }
  for (const std::uint32_t word : hash) put(word);
  std::memcpy(block.data() + at, strings.data(), strings.size());

  tables.program_data_size = data->bufferSize();
  tables.dynamic = append(data, block.data(), block.size(), 8);
  const std::size_t block_offset = data_items_.back().offset;
  for (const Address& a : addresses) {
    // What Assembler::embedLabel records: an absolute 64-bit address of a section offset.
    asmjit::RelocEntry* relocation = nullptr;
    check_asmjit(code_.newRelocEntry(&relocation, asmjit::RelocType::kRelToAbs), "record an address");
    relocation->_format.resetToSimpleValue(asmjit::OffsetType::kUnsignedOffset, 8);
    relocation->_sourceSectionId = data->id();
    relocation->_sourceOffset = block_offset + a.at;
    relocation->_targetSectionId = a.to->id();
    relocation->_payload = a.to == data ? block_offset + a.offset : a.offset;
  }
  dynamic_ = std::move(tables);
  return *dynamic_;
}

}  // namespace tinyelf::detail
