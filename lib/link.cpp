// Program::link — lays the sections out around the headers, resolves labels, writes the headers.
//
// What is decided once (decide(): header layout, base address, ELF type) feeds two paths that
// share the segment plan and the header writer (lib/header_layout.cpp):
// - packed (small programs, lib/link_packed.cpp): the recorded instructions' bytes are copied
//   into the header holes and the tail, their label displacements rewritten, and the data placed
//   around them; if that is impossible or not smaller, the plain path is taken instead;
// - plain (here): text starts where the layout's tail starts (file offset 120 for kConformant,
//   176 with a second program header), then rodata, then data; AsmJit relocates the program's
//   own CodeHolder in place.
// Either way bss (memory only) follows the writable bytes, and the headers are written last, over
// every byte that no code or data occupies.
#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include <tinyelf/program.hpp>

#include "asmjit_p.hpp"
#include "debug_info_p.hpp"
#include "verify_link_p.hpp"
#include "elf_p.hpp"
#include "header_layout_p.hpp"
#include "link_p.hpp"
#include "program_p.hpp"
#include "x86_encoding_p.hpp"

namespace tinyelf {

using asmjit::Label;
using asmjit::Section;
using asmjit::SectionFlags;
using detail::align_up;
using detail::check_asmjit;
using detail::HeaderKind;
using detail::HeaderLayout;
namespace x86 = asmjit::x86;

namespace {

constexpr std::uint64_t kDefaultBase = LinkOptions{}.base_address;

void check_options(const LinkOptions& options) {
  if (options.layout != Layout::kConformant && options.layout != Layout::kCompact)
    throw Error(ErrorCode::kUnsupportedLayout,
                fmt::format("layout {} is not a tinyelf::Layout: use Layout::kConformant or Layout::kCompact",
                            static_cast<int>(options.layout)));
  if (options.debug_info != DebugInfo::kNone && options.debug_info != DebugInfo::kSymbols &&
      options.debug_info != DebugInfo::kLines)
    throw Error(ErrorCode::kInvalidDebugInfo,
                fmt::format("debug_info {} is not a tinyelf::DebugInfo: use kNone, kSymbols or kLines",
                            static_cast<int>(options.debug_info)));
  if (options.debug_info != DebugInfo::kNone && options.layout != Layout::kConformant)
    throw Error(ErrorCode::kUnsupportedLayout,
                "LinkOptions::debug_info needs Layout::kConformant: gdb, objdump, perf and readelf cannot read "
                "compact files, whose headers overlap");
  const std::uint64_t base = options.base_address;
  if (options.position_independent) {
    if (options.layout != Layout::kConformant)
      throw Error(ErrorCode::kUnsupportedLayout,
                  "LinkOptions::position_independent needs Layout::kConformant: the compact layouts keep code in "
                  "p_align, which the kernel reads to place an ET_DYN file");
    if (base != kDefaultBase)
      throw Error(ErrorCode::kInvalidBaseAddress,
                  "a position-independent file is loaded where the kernel chooses (ET_DYN): leave base_address at "
                  "its default");
    return;
  }
  if (options.layout == Layout::kCompact && base != kDefaultBase)
    throw Error(ErrorCode::kInvalidBaseAddress,
                fmt::format("Layout::kCompact places the segment itself (at 0x500000000, 0x700000000 when "
                            "writable, or {:#x} with bss): leave base_address at its default",
                            kDefaultBase));
  if (base % detail::kPageSize != 0)
    throw Error(ErrorCode::kInvalidBaseAddress,
                fmt::format("base address {:#x} is not page aligned: use a multiple of {:#x}", base, detail::kPageSize));
  if (base < detail::kMinBaseAddress)
    throw Error(ErrorCode::kInvalidBaseAddress,
                fmt::format("base address {:#x} is below {:#x} (vm.mmap_min_addr): the kernel would kill the "
                            "program with SIGSEGV right after exec",
                            base, detail::kMinBaseAddress));
  if (base >= detail::kUserAddressEnd)
    throw Error(ErrorCode::kInvalidBaseAddress,
                fmt::format("base address {:#x} is outside the user address space (below {:#x})", base,
                            detail::kUserAddressEnd));
}

// What a program with imports cannot be: ld.so relocates a position-independent executable by its
// load address, which the tables do not allow for yet; the compact layouts keep code where the
// program headers ld.so reads would be; and its data must not be executable (W^X).
void check_import_options(const LinkOptions& options) {
  if (options.layout != Layout::kConformant)
    throw Error(ErrorCode::kUnsupportedLayout,
                "a program with imports (Program::import) needs Layout::kConformant: the compact layouts cannot "
                "carry the program headers ld.so reads yet");
  if (options.position_independent)
    throw Error(ErrorCode::kUnsupportedLayout,
                "a program with imports (Program::import) cannot be position-independent yet: leave "
                "LinkOptions::position_independent false");
  if (options.single_segment)
    throw Error(ErrorCode::kUnsupportedLayout,
                "a program with imports (Program::import) always has R+X and R+W segments (ld.so writes the slots "
                "and the dynamic section): leave LinkOptions::single_segment false");
}

std::string label_name(const asmjit::LabelEntry& label) {
  if (label.hasName()) return fmt::format("label \"{}\"", label.name());
  return fmt::format("anonymous label #{}", label.id());
}

// A label with links was referenced by an instruction or an embedded address; if it is still
// unbound now, the reference can never be resolved.
void check_labels_bound(const asmjit::CodeHolder& code) {
  for (const asmjit::LabelEntry* label : code.labelEntries()) {
    if (!label->isBound() && label->links() != nullptr)
      throw Error(ErrorCode::kUnboundLabel,
                  fmt::format("{} is referenced but never bound: bind it (Assembler::bind) before link()",
                              label_name(*label)));
  }
}

// Offset of the entry point from the start of text.
std::uint64_t entry_offset(const asmjit::CodeHolder& code, Label entry) {
  const Section* text = code.textSection();
  if (text->bufferSize() == 0)
    throw Error(ErrorCode::kEmptyProgram,
                "text is empty: emit at least one instruction (a Builder or Compiler must be finalized before link())");
  if (!entry.isValid()) return 0;
  const asmjit::LabelEntry* label = code.labelEntry(entry);
  if (label == nullptr)
    throw Error(ErrorCode::kInvalidEntry, fmt::format("entry label #{} does not belong to this program", entry.id()));
  if (!label->isBound())
    throw Error(ErrorCode::kInvalidEntry,
                fmt::format("entry {} is never bound: bind it in text before link()", label_name(*label)));
  if (label->section() != text || label->offset() >= text->bufferSize())
    throw Error(ErrorCode::kInvalidEntry,
                fmt::format("entry {} is not bound at an instruction in text", label_name(*label)));
  return label->offset();
}

// AsmJit records every absolute address it writes (embedLabel, an absolute label operand, a
// jump to a fixed address) as a relocation: none can be right in a file loaded at an address
// the kernel picks.
void check_position_independent(const asmjit::CodeHolder& code) {
  if (code.relocEntries().empty()) return;
  throw Error(ErrorCode::kNotPositionIndependent,
              fmt::format("the program needs {} absolute address{} (embedLabel, an absolute label operand or a jump "
                          "to a fixed address), which a position-independent file cannot hold: refer to labels "
                          "RIP-relative (x86::ptr(label)), or leave LinkOptions::position_independent false",
                          code.relocEntries().size(), code.relocEntries().size() == 1 ? "" : "es"));
}

bool is_writable(const Section& section) {
  return section.realSize() != 0 && !section.hasFlag(SectionFlags::kReadOnly) &&
         !section.hasFlag(SectionFlags::kExecutable);
}

bool has_bss(const asmjit::CodeHolder& code) {
  return std::any_of(code.sections().begin(), code.sections().end(), [](const Section* s) {
    return s->hasFlag(SectionFlags::kZeroInitialized) && s->realSize() != 0;
  });
}

// Debug builds and the tests judge every file link() produces with tinyelf::check(): nothing may
// be above "tooling", and a conformant file may have no finding but a hardening one
// (lib/verify_link.cpp).
Image verified(Image image, Layout layout) {
#ifdef TINYELF_VERIFY_LINK
  detail::verify_linked(image.bytes(), layout == Layout::kConformant);
#else
  (void)layout;
#endif
  return image;
}

// Where each section of a CodeHolder went.
struct Placement {
  struct FileSection {
    Section* section;
    std::uint64_t file_offset;  // section->offset() is its address, from the base
  };
  std::vector<FileSection> file_sections;  // in file order, text first
  detail::SegmentPlan segments;
  std::uint64_t loaded_size = 0;  // the bytes the segments map
  detail::DebugTail debug;        // after them, with LinkOptions::debug_info
  std::uint64_t file_size = 0;
};

// The section header of bytes [from, to) of a section of the program placed at `file_offset`.
// The one from its start holds the symbols of its labels.
detail::PlacedSection program_section(const Section& section, std::uint64_t file_offset, std::uint64_t from,
                                      std::uint64_t to) {
  using namespace detail;  // the ELF constants
  const bool nobits = section.hasFlag(SectionFlags::kZeroInitialized);
  const std::uint64_t flags = SHF_ALLOC | (section.hasFlag(SectionFlags::kExecutable) ? SHF_EXECINSTR : 0) |
                              (is_writable(section) ? SHF_WRITE : 0);
  return {section.name(), nobits ? SHT_NOBITS : SHT_PROGBITS, flags, file_offset + from, section.offset() + from,
          to - from, std::max<std::uint64_t>(section.alignment(), 1), 0, 0, 0, from == 0 ? &section : nullptr};
}

// The section headers of the loaded bytes, in file order: one per non-empty section of the
// program; with imports, .rodata ends before the interpreter path (.interp) and .data before the
// dynamic tables (.dynamic, .dynsym, .rela.dyn, .hash, .dynstr), which the gABI's section types
// describe, and the slots are part of .bss.
std::vector<detail::PlacedSection> section_headers(const asmjit::CodeHolder& code, const Placement& placement,
                                                   const detail::FileShape& shape, const detail::Segment& last,
                                                   const detail::DynamicTables* dynamic) {
  using namespace detail;  // the ELF constants
  std::vector<PlacedSection> sections;
  const Section* interpreter_in = nullptr;
  const Section* tables_in = nullptr;
  std::uint64_t interpreter_at = 0, tables_at = 0;
  if (dynamic != nullptr) {
    const asmjit::LabelEntry* interpreter = code.labelEntry(dynamic->interpreter);
    const asmjit::LabelEntry* tables = code.labelEntry(dynamic->dynamic);
    interpreter_in = interpreter->section(), interpreter_at = interpreter->offset();
    tables_in = tables->section(), tables_at = tables->offset();
  }
  for (const Placement::FileSection& placed : placement.file_sections) {
    const Section& section = *placed.section;
    if (section.realSize() == 0) continue;
    // The program's bytes before `from`, what is placed from there by `add`, and the program's
    // bytes after `to` (added after a link() that failed, which left the tables in place).
    const auto split = [&](std::uint64_t from, std::uint64_t to, const auto& add) {
      if (from != 0) sections.push_back(program_section(section, placed.file_offset, 0, from));
      add();
      if (to != section.realSize())
        sections.push_back(program_section(section, placed.file_offset, to, section.realSize()));
    };
    if (&section == interpreter_in) {
      split(interpreter_at, interpreter_at + dynamic->interpreter_size, [&] {
        sections.push_back({".interp", SHT_PROGBITS, SHF_ALLOC, placed.file_offset + interpreter_at,
                            section.offset() + interpreter_at, dynamic->interpreter_size});
      });
    } else if (&section == tables_in) {
      split(dynamic->program_data_size, tables_at + dynamic->strings.offset + dynamic->strings.size, [&] {
        const auto table = [&](std::string_view name, std::uint32_t type, std::uint64_t flags, DynamicTable where,
                               std::uint64_t align, std::uint64_t entry_size) {
          sections.push_back({name, type, flags, placed.file_offset + tables_at + where.offset,
                              section.offset() + tables_at + where.offset, where.size, align, entry_size});
          return static_cast<std::uint32_t>(sections.size());  // its index
        };
        // Each table links to the one its entries refer to (gABI "sh_link and sh_info Interpretation").
        const std::size_t first = sections.size();
        table(".dynamic", SHT_DYNAMIC, SHF_ALLOC | SHF_WRITE, {0, dynamic->dynamic_size}, 8, sizeof(Elf64_Dyn));
        const std::uint32_t symbols = table(".dynsym", SHT_DYNSYM, SHF_ALLOC, dynamic->symbols, 8, sizeof(Elf64_Sym));
        sections.back().info = 1;  // the first global symbol: all of them are
        table(".rela.dyn", SHT_RELA, SHF_ALLOC, dynamic->relocations, 8, sizeof(Elf64_Rela));
        table(".hash", SHT_HASH, SHF_ALLOC, dynamic->hash, 4, sizeof(std::uint32_t));
        const std::uint32_t strings = table(".dynstr", SHT_STRTAB, SHF_ALLOC, dynamic->strings, 1, 0);
        sections[first].link = sections[first + 1].link = strings;
        sections[first + 2].link = sections[first + 3].link = symbols;
      });
    } else {
      sections.push_back(program_section(section, placed.file_offset, 0, section.realSize()));
    }
  }
  // bss where the last segment would hold it in the file, had it file bytes; a segment of bss
  // alone gets an empty .data where its file bytes would start: eu-elflint counts only writable
  // sections with file bytes (elflint.c, check_sections).
  if (!shape.has_data && shape.bss_size != 0)
    sections.push_back({".data", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, last.offset + last.file_size,
                        last.address + last.file_size, 0});
  for (const Section* section : code.sectionsByOrder())
    if (section->hasFlag(SectionFlags::kZeroInitialized) && section->realSize() != 0)
      sections.push_back(
          program_section(*section, last.offset + section->offset() - last.address, 0, section->realSize()));
  return sections;
}

// The local symbols of a program with imports and section headers: each stub named after its
// function, each slot SYMBOL@got.
detail::DebugMarks import_names(const detail::Imports& imports, const detail::DynamicTables& dynamic) {
  detail::DebugMarks names;
  for (std::size_t i = 0; i < dynamic.stubs.size(); ++i) {
    const detail::Import& import = imports.symbols[i];
    if (dynamic.stubs[i].isValid())
      names.add_symbol(dynamic.stubs[i].id(), import.symbol, SymbolKind::kFunction, true,
                       detail::DynamicTables::kStubSize);
    names.add_symbol(import.slot.id(), import.symbol + "@got", SymbolKind::kObject, true, 8);
  }
  return names;
}

// Gives every section its file offset and its address: text at `text_offset`, then the other
// read-only sections, then the writable ones, then the zero-initialized ones after the end of the
// file (in memory only), each group in AsmJit's order; then the debug information options ask
// for, after the loaded bytes. Throws Error(kImageTooLarge) past the limits.
Placement place_sections(asmjit::CodeHolder& code, const HeaderLayout& layout, std::uint64_t base,
                         const LinkOptions& options, const detail::DebugMarks& marks, const detail::Imports& imports,
                         const detail::DynamicTables* dynamic) {
  Placement placement;
  placement.file_sections.reserve(code.sectionCount());
  std::uint64_t offset = layout.tail_start;
  auto place_in_file = [&](Section* section) {
    offset = align_up(offset, std::max<std::uint64_t>(section->alignment(), 1));
    placement.file_sections.push_back({section, offset});
    offset += section->realSize();
  };
  const auto is_bss = [](const Section* s) { return s->hasFlag(SectionFlags::kZeroInitialized); };
  // Text first, so its address does not depend on the data.
  place_in_file(code.textSection());
  for (Section* section : code.sectionsByOrder())
    if (section != code.textSection() && !is_bss(section) && !is_writable(*section)) place_in_file(section);
  detail::FileShape shape;
  shape.read_only_end = offset;
  for (Section* section : code.sectionsByOrder()) {
    if (is_bss(section) || !is_writable(*section)) continue;
    place_in_file(section);
    if (!shape.has_data) shape.writable_start = placement.file_sections.back().file_offset;
    shape.has_data = true;
  }
  placement.loaded_size = shape.file_size = std::max<std::uint64_t>(offset, layout.header_size);
  shape.has_section_headers = options.debug_info != DebugInfo::kNone;
  // bss as one block, aligned for its most aligned section.
  std::uint64_t bss_size = 0;
  for (const Section* section : code.sectionsByOrder()) {
    if (!is_bss(section)) continue;
    const std::uint64_t alignment = std::max<std::uint64_t>(section->alignment(), 1);
    bss_size = align_up(bss_size, alignment) + section->realSize();
    shape.bss_align = std::max(shape.bss_align, alignment);
  }
  shape.bss_size = bss_size;
  placement.segments = detail::plan_segments(layout, shape);

  const std::uint64_t address_space = detail::kUserAddressEnd - base;
  auto set_address = [&](Section* section, std::uint64_t address) {
    if (section->realSize() > address_space || address > address_space - section->realSize())
      throw Error(ErrorCode::kImageTooLarge,
                  fmt::format("section {} ({} bytes) ends beyond the user address space ({:#x}) at base address {:#x}",
                              section->name(), section->realSize(), detail::kUserAddressEnd, base));
    section->setOffset(address);
  };
  for (const Placement::FileSection& placed : placement.file_sections)
    set_address(placed.section, placed.file_offset + (is_writable(*placed.section) ? placement.segments.writable_shift : 0));
  std::uint64_t bss_at = placement.segments.bss_at;
  for (Section* section : code.sectionsByOrder()) {
    if (!is_bss(section)) continue;
    bss_at = align_up(bss_at, std::max<std::uint64_t>(section->alignment(), 1));
    set_address(section, bss_at);
    bss_at += section->realSize();
  }

  placement.file_size = placement.loaded_size;
  if (options.debug_info != DebugInfo::kNone) {
    const detail::Segment& last = placement.segments.segments[placement.segments.count - 1];
    // The tail starts no earlier than the last segment's p_offset: a segment of bss alone has it
    // past the loaded bytes (plan_segments()), and BFD warns of a section (the empty .data)
    // that starts past the end of the file.
    const detail::DebugMarks locals = dynamic != nullptr ? import_names(imports, *dynamic) : detail::DebugMarks();
    placement.debug = detail::debug_tail(options.debug_info, marks, locals,
                                         code, section_headers(code, placement, shape, last, dynamic), base,
                                         placement.loaded_size, last.offset);
    placement.file_size += placement.debug.bytes.size();
  }

  if (placement.file_size > options.max_file_size)
    throw Error(ErrorCode::kImageTooLarge,
                fmt::format("the executable would be {} bytes, over LinkOptions::max_file_size ({} bytes)",
                            placement.file_size, options.max_file_size));
  return placement;
}

// Where a label of a placed section is, in the file and in memory (from the base address).
detail::FilePiece piece_at(const asmjit::CodeHolder& code, const Placement& placement, Label label, std::uint64_t size) {
  const asmjit::LabelEntry* entry = code.labelEntry(label);
  for (const Placement::FileSection& placed : placement.file_sections)
    if (placed.section == entry->section())
      return {placed.file_offset + entry->offset(), placed.section->offset() + entry->offset(), size};
  return {};  // unreachable: the tables are in rodata and data, which are in the file
}

// Resolves and relocates `code` as placed, copies its file sections into the file and writes the
// headers.
std::vector<std::uint8_t> build_file(asmjit::CodeHolder& code, const Placement& placement, const HeaderLayout& layout,
                                     const detail::HeaderValues& values, const std::vector<Region>& contents) {
  check_asmjit(code.resolveUnresolvedLinks(), "resolve cross-section label references");
  check_asmjit(code.relocateToBase(values.base), "relocate the code");
  std::vector<std::uint8_t> file(placement.file_size);
  for (const Placement::FileSection& placed : placement.file_sections) {
    check_asmjit(code.copySectionData(file.data() + placed.file_offset, file.size() - placed.file_offset,
                                      placed.section->id()),
                 [&] { return fmt::format("copy section {}", placed.section->name()); });
  }
  std::copy(placement.debug.bytes.begin(), placement.debug.bytes.end(), file.begin() + placement.loaded_size);
  detail::write_headers(file.data(), layout, values, contents);
  return file;
}

}  // namespace

detail::LinkDecisions detail::decide(const asmjit::CodeHolder& code, const LinkOptions& options, bool dynamic) {
  if (dynamic) return {dynamic_header_layout(), options.base_address, ET_EXEC};
  const bool writable =
      std::any_of(code.sections().begin(), code.sections().end(), [](const Section* s) { return is_writable(*s); });
  const bool two_segments = options.layout == Layout::kConformant && writable && !options.single_segment;
  const HeaderLayout& layout = header_layout(options.layout, has_bss(code), two_segments);
  std::uint64_t base = options.base_address;
  if (options.position_independent) base = 0;  // the kernel picks the address (ET_DYN)
  else if (layout.kind == HeaderKind::kOverlapped) base = overlapped_base(writable);
  return {layout, base, options.position_independent ? ET_DYN : ET_EXEC};
}

Image Program::link(const LinkOptions& options) { return state_->link(options); }

Image detail::ProgramState::link(const LinkOptions& options) {
  if (linked_)
    throw Error(ErrorCode::kAlreadyLinked, "this Program was linked already: call reset() to build the next one");
  check_options(options);
  check_labels_bound(code_);
  const std::uint64_t entry = entry_offset(code_, entry_);  // before placement moves the sections
  if (options.position_independent) check_position_independent(code_);
  const bool section_headers = options.debug_info != DebugInfo::kNone;
  if (section_headers) detail::check_symbols_bound(debug_, code_);  // before the tables change the program
  const detail::DynamicTables* dynamic = nullptr;
  if (!imports_.symbols.empty()) {
    check_import_options(options);
    // Data with embedded addresses (AsmJit relocations), which both paths write.
    dynamic = &dynamic_tables(options.interpreter, section_headers);
  }
  const detail::LinkDecisions decided = detail::decide(code_, options, dynamic != nullptr);
  const HeaderLayout& layout = decided.layout;
  const auto image = [&](std::vector<std::uint8_t> bytes, std::uint64_t entry_address, std::vector<Region> contents) {
    return verified(Image(std::move(bytes), entry_address, std::move(contents), layout.header_regions,
                          layout.reusable_fields),
                    options.layout);
  };

  if (options.pack && options.debug_info == DebugInfo::kNone && text_.complete()) {
    const detail::PackSource source{code_, text_.items(), data_items_, rodata_, data_, bss_, entry_, dynamic};
    if (std::optional<detail::LinkedFile> file = detail::link_packed(source, decided, options, entry)) {
      linked_ = true;
      return image(std::move(file->bytes), file->entry, std::move(file->contents));
    }
  }

  const Placement placement = place_sections(code_, layout, decided.base, options, debug_, imports_, dynamic);
  const std::uint64_t text_offset = code_.textSection()->offset();
  detail::DynamicPieces pieces;
  if (dynamic != nullptr)
    pieces = {piece_at(code_, placement, dynamic->interpreter, dynamic->interpreter_size),
              piece_at(code_, placement, dynamic->dynamic, dynamic->dynamic_size)};
  const detail::HeaderValues values{decided.type,
                                    decided.base,
                                    decided.base + text_offset + entry,
                                    &placement.segments,
                                    dynamic != nullptr ? &pieces : nullptr,
                                    {placement.debug.section_headers, placement.debug.section_count,
                                     placement.debug.section_names}};
  std::vector<Region> contents;
  for (const Placement::FileSection& placed : placement.file_sections) {
    if (placed.section->realSize() == 0) continue;
    const bool is_text = placed.section == code_.textSection();
    contents.push_back({placed.file_offset, placed.section->realSize(), is_text ? RegionKind::kCode : RegionKind::kData,
                        detail::region_name(placed.section, rodata_, data_), {}});
  }
  if (layout.entry_is_fixed) {
    // Execution starts in the first hole: a jump (E9 rel32) from there to the entry.
    contents.push_back({layout.holes.front().start, detail::kJmpRel32Size, RegionKind::kCode, "jump to the entry", {}});
  }
  std::sort(contents.begin(), contents.end(), [](const Region& x, const Region& y) { return x.offset < y.offset; });
  contents.insert(contents.end(), placement.debug.regions.begin(), placement.debug.regions.end());
  linked_ = true;  // relocation below changes code_ for good
  std::vector<std::uint8_t> file = build_file(code_, placement, layout, values, contents);
  if (layout.entry_is_fixed) {
    const std::uint32_t jump = layout.holes.front().start;
    detail::write_jmp_rel32(&file[jump],
                            static_cast<std::int32_t>(text_offset + entry - (jump + detail::kJmpRel32Size)));
  }
  const std::uint64_t entry_address = layout.entry_is_fixed ? decided.base + 1 : values.entry;
  return image(std::move(file), entry_address, std::move(contents));
}

}  // namespace tinyelf
