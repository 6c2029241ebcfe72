// The header layouts, the segments of a file and the bytes of their headers.
//
// What the kernel reads (fs/binfmt_elf.c, load_elf_binary): the 4 magic bytes, e_type, e_machine,
// e_entry, e_phoff, e_phentsize, e_phnum, and in each program header p_type, p_flags, p_offset,
// p_vaddr, p_filesz, p_memsz. Everything else is a hole.
#include <algorithm>
#include <cstring>

#include "asmjit_p.hpp"
#include "elf_p.hpp"
#include "header_layout_p.hpp"

namespace tinyelf::detail {

namespace {

constexpr std::uint32_t kEhdrSize = sizeof(Elf64_Ehdr);  // 64
constexpr std::uint32_t kPhdrSize = sizeof(Elf64_Phdr);  // 56

constexpr Region header(std::uint64_t offset, std::uint64_t size, std::string_view what) {
  return {offset, size, RegionKind::kHeader, what, {}};
}
constexpr Region field(std::uint64_t offset, std::uint64_t size, std::string_view name) {
  return {offset, size, RegionKind::kHeader, {}, name};
}

// A layout whose holes are its reusable fields before the tail (the tail's own first field, p_align
// in the compact layouts, is taken by whatever starts the tail).
HeaderLayout layout(HeaderKind kind, std::uint32_t program_headers, std::uint32_t header_size,
                    std::uint32_t tail_start, bool entry_is_fixed, std::span<const Region> headers,
                    std::span<const Region> fields) {
  HeaderLayout result{kind, program_headers, header_size, tail_start, {}, entry_is_fixed, headers, fields};
  for (const Region& f : fields)
    if (f.offset + f.size <= tail_start)
      result.holes.push_back({static_cast<std::uint32_t>(f.offset), static_cast<std::uint32_t>(f.offset + f.size)});
  return result;
}

// gABI: p_paddr is unspecified for executables and Linux never reads it. eu-elflint --strict does
// not check it either, so the conformant layout keeps every tool happy with code in it.
constexpr Region kConformantHeaders[] = {header(0, kEhdrSize, "ELF header"), header(kEhdrSize, kPhdrSize, "program header")};
constexpr Region kConformantFields[] = {field(88, 8, "p_paddr")};
const HeaderLayout kConformantLayout = layout(HeaderKind::kConformant, 1, kEhdrSize + kPhdrSize, kEhdrSize + kPhdrSize,
                                              false, kConformantHeaders, kConformantFields);

// W^X: the R+X segment (headers, text, rodata) and the R+W one (data, bss), each with its
// p_paddr free.
constexpr Region kTwoSegmentHeaders[] = {header(0, kEhdrSize, "ELF header"),
                                         header(kEhdrSize, kPhdrSize, "program header (R+X)"),
                                         header(kEhdrSize + kPhdrSize, kPhdrSize, "program header (R+W)")};
constexpr Region kTwoSegmentFields[] = {field(88, 8, "p_paddr"), field(144, 8, "p_paddr (R+W)")};
const HeaderLayout kTwoSegmentLayout = layout(HeaderKind::kConformant, 2, kEhdrSize + 2 * kPhdrSize,
                                              kEhdrSize + 2 * kPhdrSize, false, kTwoSegmentHeaders, kTwoSegmentFields);

// A program with imports: the W^X segments between the program headers ld.so and the kernel need
// (elf/rtld.c: PT_INTERP names ld.so, PT_DYNAMIC leads it to the needed libraries and the
// relocations; fs/binfmt_elf.c: PT_GNU_STACK RW keeps the stack non-executable, and glibc maps
// thread stacks RWX without it). Each p_paddr is free, as in kConformant, and so are PT_GNU_STACK's
// p_offset and p_vaddr: the kernel reads only its p_flags (load_elf_binary: EXSTACK_ENABLE_X),
// and ld.so too (glibc elf/rtld.c: GL(dl_stack_flags)). Its p_align is 1, so that eu-elflint and
// check() ask no congruence of p_offset and p_vaddr (they do above 1), and its p_filesz is 0,
// never above p_memsz (eu-elflint: "file size greater than memory size").
constexpr std::uint32_t kDynamicHeaderSize = kEhdrSize + 5 * kPhdrSize;  // 344
constexpr Region kDynamicHeaders[] = {header(0, kEhdrSize, "ELF header"),
                                      header(kEhdrSize, kPhdrSize, "program header (PT_INTERP)"),
                                      header(kEhdrSize + kPhdrSize, kPhdrSize, "program header (R+X)"),
                                      header(kEhdrSize + 2 * kPhdrSize, kPhdrSize, "program header (R+W)"),
                                      header(kEhdrSize + 3 * kPhdrSize, kPhdrSize, "program header (PT_DYNAMIC)"),
                                      header(kEhdrSize + 4 * kPhdrSize, kPhdrSize, "program header (PT_GNU_STACK)")};
constexpr Region kDynamicFields[] = {field(88, 8, "p_paddr (PT_INTERP)"), field(144, 8, "p_paddr (R+X)"),
                                     field(200, 8, "p_paddr (R+W)"), field(256, 8, "p_paddr (PT_DYNAMIC)"),
                                     field(296, 24, "p_offset, p_vaddr, p_paddr (PT_GNU_STACK)")};
const HeaderLayout kDynamicLayout = layout(HeaderKind::kConformant, 5, kDynamicHeaderSize, kDynamicHeaderSize, false,
                                           kDynamicHeaders, kDynamicFields);

// Program header at file offset 24 (GUIDE: the only offset that works): e_entry is p_type and
// p_flags, e_phoff is p_offset (24), e_shoff is p_vaddr, e_flags/e_ehsize/e_phentsize are p_paddr
// (whose bytes 6-7 must read 56 as e_phentsize), e_phnum/e_shentsize/e_shnum/e_shstrndx are
// p_filesz (whose low 16 bits must read 1 as e_phnum). p_align (72..80) is ignored for ET_EXEC,
// so code and data may start at 72, and the file must still reach 80 for the kernel to read the
// whole program header.
constexpr Region kOverlappedHeaders[] = {header(0, 24, "ELF header"),
                                         header(24, 40, "ELF header and program header, overlapped"),
                                         header(64, 16, "program header")};
constexpr Region kOverlappedFields[] = {field(4, 12, "e_ident[4..16)"), field(20, 4, "e_version"),
                                        field(48, 6, "p_paddr (e_flags, e_ehsize)"), field(72, 8, "p_align")};
const HeaderLayout kOverlappedLayout =
    layout(HeaderKind::kOverlapped, 1, 24 + kPhdrSize, 72, true, kOverlappedHeaders, kOverlappedFields);

// A writable segment with p_memsz > p_filesz makes the kernel zero the rest of the page after
// p_filesz (padzero); overlapped, p_filesz is 1 modulo 65536 (e_phnum), which would wipe the
// code. So compact programs with bss keep the headers apart and pack into every ignored field,
// p_align (112..120) included: ET_EXEC ignores it.
constexpr Region kSeparateFields[] = {field(4, 12, "e_ident[4..16)"),
                                      field(20, 4, "e_version"),
                                      field(40, 14, "e_shoff, e_flags, e_ehsize"),
                                      field(58, 6, "e_shentsize, e_shnum, e_shstrndx"),
                                      field(88, 8, "p_paddr"),
                                      field(112, 8, "p_align")};
const HeaderLayout kSeparateLayout =
    layout(HeaderKind::kSeparate, 1, kEhdrSize + kPhdrSize, 112, false, kConformantHeaders, kSeparateFields);

}  // namespace

const HeaderLayout& header_layout(Layout layout, bool has_bss, bool two_segments) noexcept {
  if (layout == Layout::kConformant) return two_segments ? kTwoSegmentLayout : kConformantLayout;
  return has_bss ? kSeparateLayout : kOverlappedLayout;
}

const HeaderLayout& dynamic_header_layout() noexcept { return kDynamicLayout; }

SegmentPlan plan_segments(const HeaderLayout& layout, const FileShape& shape) noexcept {
  SegmentPlan plan;
  const bool writable = shape.has_data || shape.bss_size != 0;
  if (layout.program_headers == 1) {  // else two PT_LOADs, R+X and R+W
    plan.bss_at = align_up(shape.file_size, shape.bss_align);
    plan.memory_end = shape.bss_size != 0 ? plan.bss_at + shape.bss_size : shape.file_size;
    plan.segments[0] = {PF_R | PF_X | (writable ? PF_W : 0), 0, 0, shape.file_size, plan.memory_end};
    return plan;
  }
  plan.count = 2;
  const std::uint64_t read_only_end = std::max<std::uint64_t>(shape.read_only_end, layout.header_size);
  plan.segments[0] = {PF_R | PF_X, 0, 0, read_only_end, read_only_end};
  // The writable segment starts on the page after the read-only segment's last one; with data it
  // maps the file again from the first writable byte (p_offset = p_vaddr modulo the page size).
  // Without data it maps no file byte (p_filesz 0) and starts at a page boundary: Linux 6.1 zeroes
  // from p_vaddr + p_filesz to the end of its page (padzero in load_elf_binary), and that page
  // would not be mapped.
  const std::uint64_t first_free_page = align_up(read_only_end, kPageSize);
  Segment& rw = plan.segments[1];
  rw.flags = PF_R | PF_W;
  if (shape.has_data) {
    plan.writable_shift = first_free_page - (shape.writable_start & ~(kPageSize - 1));
    rw.offset = shape.writable_start;
    rw.address = shape.writable_start + plan.writable_shift;
    rw.file_size = shape.file_size - shape.writable_start;
  } else {
    rw.address = first_free_page;
    // The kernel ignores p_offset without file bytes (elf_load() maps anonymous memory), but
    // eu-elflint finds a section's segment by file offset: with section headers, .bss must lie at
    // or past p_offset and past the read-only segment's bytes. Else it stays 0, as it always was.
    if (shape.has_section_headers) rw.offset = first_free_page;
  }
  plan.bss_at = align_up(rw.address + rw.file_size, shape.bss_align);
  plan.memory_end = shape.bss_size != 0 ? plan.bss_at + shape.bss_size : rw.address + rw.file_size;
  rw.memory_size = plan.memory_end - rw.address;
  return plan;
}

std::uint64_t overlapped_base(bool writable) noexcept {
  return std::uint64_t{writable ? PF_R | PF_W | PF_X : PF_R | PF_X} << 32;
}

namespace {

// The layout's header_size header bytes.
void write_header(const HeaderLayout& layout, const HeaderValues& values, std::uint8_t* out) {
  const SegmentPlan& plan = *values.segments;
  Elf64_Ehdr ehdr{};
  std::memcpy(ehdr.e_ident, kElfMagic, sizeof(kElfMagic));
  ehdr.e_ident[4] = ELFCLASS64;     // EI_CLASS
  ehdr.e_ident[5] = ELFDATA2LSB;    // EI_DATA
  ehdr.e_ident[6] = EV_CURRENT;     // EI_VERSION
  ehdr.e_ident[7] = ELFOSABI_SYSV;  // EI_OSABI; EI_ABIVERSION and padding stay 0
  ehdr.e_type = values.type;
  ehdr.e_machine = EM_X86_64;
  ehdr.e_version = EV_CURRENT;
  ehdr.e_entry = values.entry;
  ehdr.e_phoff = kEhdrSize;
  ehdr.e_ehsize = kEhdrSize;
  ehdr.e_phentsize = kPhdrSize;
  ehdr.e_phnum = static_cast<std::uint16_t>(layout.program_headers);
  if (values.sections.count != 0) {  // else no section headers: e_sh* stay 0
    ehdr.e_shoff = values.sections.offset;
    ehdr.e_shentsize = sizeof(Elf64_Shdr);
    ehdr.e_shnum = values.sections.count;
    ehdr.e_shstrndx = values.sections.names;
  }

  Elf64_Phdr phdrs[kMaxProgramHeaders]{};
  std::uint32_t count = 0;
  auto add = [&](std::uint32_t type, std::uint32_t flags, std::uint64_t offset, std::uint64_t address,
                 std::uint64_t file_size, std::uint64_t memory_size, std::uint64_t align) {
    Elf64_Phdr& phdr = phdrs[count++];
    phdr.p_type = type;
    phdr.p_flags = flags;
    phdr.p_offset = offset;
    phdr.p_vaddr = address;
    phdr.p_paddr = address;
    phdr.p_filesz = file_size;
    phdr.p_memsz = memory_size;
    phdr.p_align = align;
  };
  const DynamicPieces* dynamic = values.dynamic;
  // The path, read by the kernel (no alignment needed).
  if (dynamic != nullptr)
    add(PT_INTERP, PF_R, dynamic->interpreter.offset, values.base + dynamic->interpreter.address,
        dynamic->interpreter.size, dynamic->interpreter.size, 1);
  for (std::uint32_t i = 0; i < plan.count; ++i) {
    const Segment& segment = plan.segments[i];
    add(PT_LOAD, segment.flags, segment.offset, values.base + segment.address, segment.file_size, segment.memory_size,
        kPageSize);
  }
  if (dynamic != nullptr) {
    // ld.so writes DT_DEBUG's value (elf/rtld.c), so the dynamic section is in the R+W segment;
    // its entries are 8-byte words.
    add(PT_DYNAMIC, PF_R | PF_W, dynamic->dynamic.offset, values.base + dynamic->dynamic.address,
        dynamic->dynamic.size, dynamic->dynamic.size, 8);
    // No file bytes and no address: only its flags count (GNU ld writes the same with p_align 16;
    // 1 leaves p_offset and p_vaddr free, see kDynamicFields).
    add(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 1);
  }

  if (layout.kind != HeaderKind::kOverlapped) {
    std::memcpy(out, &ehdr, sizeof(ehdr));
    std::memcpy(out + kEhdrSize, phdrs, count * sizeof(Elf64_Phdr));
    return;
  }

  // The kernel maps whole pages from file offset 0 (p_offset 24 minus p_vaddr's page offset), so
  // p_filesz only has to reach the page holding the last file byte; it must also be 1 modulo
  // 65536 to read as e_phnum = 1. No bss here, so p_memsz = p_filesz and nothing is zeroed.
  Elf64_Phdr& phdr = phdrs[0];
  std::uint64_t file_size = 1;
  while (24 + file_size + kPageSize - 1 < plan.segments[0].file_size) file_size += 0x10000;
  phdr.p_offset = 24;
  phdr.p_vaddr = values.base + 24;
  phdr.p_paddr = std::uint64_t{kPhdrSize} << 48;  // bytes 6-7 are e_phentsize; the rest is a hole
  phdr.p_filesz = file_size;
  phdr.p_memsz = file_size;
  phdr.p_align = 0;  // a hole: ET_EXEC ignores p_align
  std::memcpy(out, &ehdr, 24);  // e_ident, e_type, e_machine, e_version; the rest is the phdr
  std::memcpy(out + 24, &phdr, sizeof(phdr));
}

}  // namespace

void write_headers(std::uint8_t* file, const HeaderLayout& layout, const HeaderValues& values,
                   const std::vector<Region>& contents) {
  std::uint8_t header[sizeof(Elf64_Ehdr) + kMaxProgramHeaders * sizeof(Elf64_Phdr)];
  write_header(layout, values, header);
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

}  // namespace tinyelf::detail
