// Program::link — lays the sections out around the headers, resolves labels, writes the headers.
//
// Two paths share the same last steps (lib/link_p.hpp):
// - packed (small programs, lib/link_packed.cpp): the recorded instructions' bytes are copied
//   into the header holes and the tail, their label displacements rewritten, and the data placed
//   around them; if that is impossible or not smaller, the plain path is taken instead;
// - plain (here): text starts where the layout's tail starts (file offset 120 for kConformant),
//   then rodata and data; AsmJit relocates the program's own CodeHolder in place.
// Either way bss (memory only) follows the end of the file, and the headers are written last,
// over every byte that no code or data occupies.
#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include <tinyelf/program.hpp>

#include "asmjit_p.hpp"
#include "check_p.hpp"
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
  const std::uint64_t base = options.base_address;
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

bool is_writable(const Section& section) {
  return section.realSize() != 0 && !section.hasFlag(SectionFlags::kReadOnly) &&
         !section.hasFlag(SectionFlags::kExecutable);
}

// Debug and test builds judge every file link() produces with tinyelf::check(): nothing may be
// above "tooling", and a conformant file may have no finding at all (lib/check.cpp).
Image verified(Image image, Layout layout) {
#ifdef TINYELF_VERIFY_LINK
  detail::verify_linked(image.bytes(), layout == Layout::kConformant);
#else
  (void)layout;
#endif
  return image;
}

}  // namespace

bool detail::has_writable(const asmjit::CodeHolder& code) {
  return std::any_of(code.sections().begin(), code.sections().end(), [](const Section* s) { return is_writable(*s); });
}

namespace {

// Where each section of a CodeHolder went.
struct Placement {
  std::vector<asmjit::Section*> file_sections;  // in file order, text first
  std::uint64_t file_size = 0;
  std::uint64_t memory_size = 0;  // bss included
};

bool has_bss(const asmjit::CodeHolder& code) {
  return std::any_of(code.sections().begin(), code.sections().end(), [](const Section* s) {
    return s->hasFlag(SectionFlags::kZeroInitialized) && s->realSize() != 0;
  });
}


// Gives every section its offset from the base address, text at `text_offset`, file-backed
// sections in order, zero-initialized ones after the end of the file, which is never shorter than
// `header_size`. Throws Error(kImageTooLarge) past the limits.
Placement place_sections(asmjit::CodeHolder& code, std::uint64_t text_offset, std::uint64_t header_size,
                                 std::uint64_t base, const LinkOptions& options) {
  Placement placement;
  placement.file_sections.reserve(code.sectionCount());
  const std::uint64_t address_space = detail::kUserAddressEnd - base;
  std::uint64_t offset = text_offset;
  auto place = [&](Section* section) {
    const std::uint64_t alignment = std::max<std::uint64_t>(section->alignment(), 1);
    offset = align_up(offset, alignment);
    if (section->realSize() > address_space || offset > address_space - section->realSize())
      throw Error(ErrorCode::kImageTooLarge,
                  fmt::format("section {} ({} bytes) ends beyond the user address space ({:#x}) at base address {:#x}",
                              section->name(), section->realSize(), detail::kUserAddressEnd, base));
    section->setOffset(offset);
    offset += section->realSize();
  };
  // Text first, so its address does not depend on the data; then the other file-backed sections
  // in AsmJit's order; the zero-initialized ones after the end of the file.
  place(code.textSection());
  placement.file_sections.push_back(code.textSection());
  for (Section* section : code.sectionsByOrder()) {
    if (section == code.textSection() || section->hasFlag(SectionFlags::kZeroInitialized)) continue;
    place(section);
    placement.file_sections.push_back(section);
  }
  placement.file_size = offset = std::max(offset, header_size);
  for (Section* section : code.sectionsByOrder())
    if (section->hasFlag(SectionFlags::kZeroInitialized)) place(section);
  placement.memory_size = offset;

  if (placement.file_size > options.max_file_size)
    throw Error(ErrorCode::kImageTooLarge,
                fmt::format("the executable would be {} bytes, over LinkOptions::max_file_size ({} bytes)",
                            placement.file_size, options.max_file_size));
  return placement;
}

// Resolves and relocates `code` as placed, copies its file sections into the file and writes the
// headers.
std::vector<std::uint8_t> build_file(asmjit::CodeHolder& code, const Placement& placement, const HeaderLayout& layout,
                                     const detail::HeaderValues& values, const std::vector<Region>& contents) {
  check_asmjit(code.resolveUnresolvedLinks(), "resolve cross-section label references");
  check_asmjit(code.relocateToBase(values.base), "relocate the code");
  std::vector<std::uint8_t> file(placement.file_size);
  for (const Section* section : placement.file_sections) {
    check_asmjit(code.copySectionData(file.data() + section->offset(), file.size() - section->offset(), section->id()),
                 [&] { return fmt::format("copy section {}", section->name()); });
  }
  detail::write_headers(file.data(), layout, values, contents);
  return file;
}

}  // namespace

void detail::write_headers(std::uint8_t* file, const HeaderLayout& layout, const detail::HeaderValues& values,
                           const std::vector<Region>& contents) {
  std::uint8_t header[sizeof(detail::Elf64_Ehdr) + sizeof(detail::Elf64_Phdr)];
  detail::write_header(layout, values, header);
  std::uint64_t at = 0;
  auto header_up_to = [&](std::uint64_t end) {
    end = std::min<std::uint64_t>(end, layout.header_size);
    if (at < end) std::memcpy(&file[at], &header[at], end - at);
  };
  for (const Region& region : contents) {
    header_up_to(region.offset);
    at = std::max(at, region.offset + region.size);
  }
  header_up_to(layout.header_size);
}

std::uint64_t detail::base_for(const HeaderLayout& layout, const LinkOptions& options, bool writable) {
  return layout.kind == HeaderKind::kOverlapped ? detail::overlapped_base(writable) : options.base_address;
}

std::string_view detail::region_name(const Section* section, const Section* rodata, const Section* data) {
  if (section->id() == 0) return "text";  // CodeHolder's text section is always the first
  return section == rodata ? ".rodata" : section == data ? ".data" : "data";
}

Image Program::link(const LinkOptions& options) { return state_->link(options); }

Image detail::ProgramState::link(const LinkOptions& options) {
  if (linked_)
    throw Error(ErrorCode::kAlreadyLinked, "this Program was linked already: call reset() to build the next one");
  check_options(options);
  check_labels_bound(code_);
  const std::uint64_t entry = entry_offset(code_, entry_);  // before placement moves the sections
  const HeaderLayout& layout = detail::header_layout(options.layout, has_bss(code_));

  if (options.pack && text_.complete()) {
    const detail::PackSource source{code_, text_.items(), data_items_, rodata_, data_, bss_, entry_};
    if (std::optional<detail::LinkedFile> file = detail::link_packed(source, layout, options, entry)) {
      linked_ = true;
      return verified(Image(std::move(file->bytes), file->entry, std::move(file->contents),
                            layout.kind == HeaderKind::kOverlapped),
                      options.layout);
    }
  }

  const bool writable = detail::has_writable(code_);
  const std::uint64_t base = detail::base_for(layout, options, writable);
  const Placement placement = place_sections(code_, layout.tail_start, layout.header_size, base, options);
  const std::uint64_t text_offset = code_.textSection()->offset();
  const detail::HeaderValues values{base, base + text_offset + entry, placement.file_size, placement.memory_size,
                                    writable};
  std::vector<Region> contents;
  for (const Section* section : placement.file_sections) {
    if (section->realSize() == 0) continue;
    const bool is_text = section == code_.textSection();
    contents.push_back({section->offset(), section->realSize(), is_text ? RegionKind::kCode : RegionKind::kData,
                        detail::region_name(section, rodata_, data_), {}});
  }
  if (layout.entry_is_fixed) {
    // Execution starts in the first hole: a jump (E9 rel32) from there to the entry.
    const detail::Hole& first = layout.holes.front();
    contents.push_back({first.start, detail::kJmpRel32Size, RegionKind::kCode, "jump to the entry", first.field});
  }
  std::sort(contents.begin(), contents.end(), [](const Region& x, const Region& y) { return x.offset < y.offset; });
  linked_ = true;  // relocation below changes code_ for good
  std::vector<std::uint8_t> file = build_file(code_, placement, layout, values, contents);
  if (layout.entry_is_fixed) {
    const std::uint32_t jump = layout.holes.front().start;
    detail::write_jmp_rel32(&file[jump],
                            static_cast<std::int32_t>(text_offset + entry - (jump + detail::kJmpRel32Size)));
  }
  const std::uint64_t entry_address = layout.entry_is_fixed ? base + 1 : values.entry;
  return verified(Image(std::move(file), entry_address, std::move(contents), layout.kind == HeaderKind::kOverlapped),
                  options.layout);
}

}  // namespace tinyelf
