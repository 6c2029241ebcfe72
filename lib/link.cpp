// Program::link — lays the sections out after the headers, resolves labels, writes the headers.
//
// Conformant layout (one PT_LOAD segment mapping the whole file at the base address):
//
//   file offset 0    ELF header (64 bytes)
//               64   program header (56 bytes)
//              120   text, then other file-backed sections, rodata, data (each aligned)
//        p_filesz    end of the file
//                    bss and other zero-initialized sections (memory only)
//         p_memsz    end of the segment
//
// File offset and virtual address differ by the base address, so they are congruent modulo the
// page size, and every alignment up to a page holds in memory as it does in the file.
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include <tinyelf/program.hpp>

#include "asmjit_p.hpp"
#include "elf_p.hpp"

namespace tinyelf {

using asmjit::Section;
using asmjit::SectionFlags;
using detail::align_up;
using detail::check_asmjit;

namespace {

constexpr std::uint64_t kHeadersSize = sizeof(detail::Elf64_Ehdr) + sizeof(detail::Elf64_Phdr);  // 64 + 56 = 120

void check_options(const LinkOptions& options) {
  if (options.layout != Layout::kConformant)
    throw Error(ErrorCode::kUnsupportedLayout,
                "Layout::kCompact is not implemented in this version; use Layout::kConformant");
  const std::uint64_t base = options.base_address;
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
std::uint64_t entry_offset(const asmjit::CodeHolder& code, asmjit::Label entry) {
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

// Where each section goes. Text comes first so its address does not depend on the data.
struct Placement {
  std::vector<Section*> file_sections;    // in file order, text first
  std::vector<Section*> memory_sections;  // zero-initialized, after the file
  std::uint64_t file_size = 0;
  std::uint64_t memory_size = 0;
  bool writable = false;
};

// Assigns every section its offset from the base address, checking the limits on the way.
Placement place_sections(asmjit::CodeHolder& code, const LinkOptions& options) {
  Placement placement;
  placement.file_sections.push_back(code.textSection());
  for (Section* section : code.sectionsByOrder()) {
    if (section == code.textSection()) continue;
    (section->hasFlag(SectionFlags::kZeroInitialized) ? placement.memory_sections : placement.file_sections)
        .push_back(section);
  }

  const std::uint64_t address_space = detail::kUserAddressEnd - options.base_address;
  std::uint64_t offset = kHeadersSize;
  auto place = [&](Section* section) {
    const std::uint64_t alignment = std::max<std::uint64_t>(section->alignment(), 1);
    offset = align_up(offset, alignment);
    if (section->realSize() > address_space || offset > address_space - section->realSize())
      throw Error(ErrorCode::kImageTooLarge,
                  fmt::format("section {} ({} bytes) ends beyond the user address space ({:#x}) at base address {:#x}",
                              section->name(), section->realSize(), detail::kUserAddressEnd, options.base_address));
    section->setOffset(offset);
    offset += section->realSize();
    placement.writable |= is_writable(*section);
  };
  for (Section* section : placement.file_sections) place(section);
  placement.file_size = offset;
  for (Section* section : placement.memory_sections) place(section);
  placement.memory_size = offset;

  if (placement.file_size > options.max_file_size)
    throw Error(ErrorCode::kImageTooLarge,
                fmt::format("the executable would be {} bytes, over LinkOptions::max_file_size ({} bytes)",
                            placement.file_size, options.max_file_size));
  return placement;
}

void write_headers(std::uint8_t* file, const Placement& placement, std::uint64_t base, std::uint64_t entry) {
  using namespace detail;
  Elf64_Ehdr ehdr{};
  std::memcpy(ehdr.e_ident, kElfMagic, sizeof(kElfMagic));
  ehdr.e_ident[4] = ELFCLASS64;     // EI_CLASS
  ehdr.e_ident[5] = ELFDATA2LSB;    // EI_DATA
  ehdr.e_ident[6] = EV_CURRENT;     // EI_VERSION
  ehdr.e_ident[7] = ELFOSABI_SYSV;  // EI_OSABI; EI_ABIVERSION and padding stay 0
  ehdr.e_type = ET_EXEC;
  ehdr.e_machine = EM_X86_64;
  ehdr.e_version = EV_CURRENT;
  ehdr.e_entry = entry;
  ehdr.e_phoff = sizeof(Elf64_Ehdr);
  ehdr.e_ehsize = sizeof(Elf64_Ehdr);
  ehdr.e_phentsize = sizeof(Elf64_Phdr);
  ehdr.e_phnum = 1;  // no section headers: e_shoff, e_shentsize, e_shnum, e_shstrndx stay 0

  Elf64_Phdr phdr{};
  phdr.p_type = PT_LOAD;
  phdr.p_flags = PF_R | PF_X | (placement.writable ? PF_W : 0);
  phdr.p_offset = 0;  // the segment maps the headers too, so offset 0 sits at the base address
  phdr.p_vaddr = base;
  phdr.p_paddr = base;
  phdr.p_filesz = placement.file_size;
  phdr.p_memsz = placement.memory_size;
  phdr.p_align = kPageSize;

  std::memcpy(file, &ehdr, sizeof(ehdr));
  std::memcpy(file + sizeof(ehdr), &phdr, sizeof(phdr));
}

}  // namespace

Image Program::link(const LinkOptions& options) {
  if (linked_)
    throw Error(ErrorCode::kAlreadyLinked, "this Program was linked already: call reset() to build the next one");
  check_options(options);
  check_labels_bound(code_);
  const std::uint64_t entry = entry_offset(code_, entry_);  // before placement moves the sections

  const Placement placement = place_sections(code_, options);
  check_asmjit(code_.resolveUnresolvedLinks(), "resolve cross-section label references");
  check_asmjit(code_.relocateToBase(options.base_address), "relocate the code");
  linked_ = true;

  const std::uint64_t entry_address = options.base_address + code_.textSection()->offset() + entry;
  std::vector<std::uint8_t> file(placement.file_size);
  write_headers(file.data(), placement, options.base_address, entry_address);
  for (const Section* section : placement.file_sections) {
    check_asmjit(code_.copySectionData(file.data() + section->offset(), file.size() - section->offset(), section->id()),
                 fmt::format("copy section {}", section->name()));
  }
  return Image(std::move(file), entry_address);
}

}  // namespace tinyelf
