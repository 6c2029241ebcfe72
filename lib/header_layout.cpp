// The header layouts and the bytes of their headers.
//
// What the kernel reads (fs/binfmt_elf.c, load_elf_binary): the 4 magic bytes, e_type, e_machine,
// e_entry, e_phoff, e_phentsize, e_phnum, and in each program header p_type, p_flags, p_offset,
// p_vaddr, p_filesz, p_memsz. Everything else is a hole.
#include <cstring>

#include "elf_p.hpp"
#include "header_layout_p.hpp"

namespace tinyelf::detail {

namespace {

constexpr std::uint32_t kEhdrSize = sizeof(Elf64_Ehdr);  // 64
constexpr std::uint32_t kPhdrSize = sizeof(Elf64_Phdr);  // 56

// gABI: p_paddr is unspecified for executables and Linux never reads it. eu-elflint --strict does
// not check it either, so the conformant layout keeps every tool happy with code in it.
const HeaderLayout kConformantLayout{HeaderKind::kConformant,
                                     kEhdrSize + kPhdrSize,
                                     kEhdrSize + kPhdrSize,
                                     {{88, 96, "p_paddr"}},
                                     false};

// Program header at file offset 24 (GUIDE: the only offset that works): e_entry is p_type and
// p_flags, e_phoff is p_offset (24), e_shoff is p_vaddr, e_flags/e_ehsize/e_phentsize are p_paddr
// (whose bytes 6-7 must read 56 as e_phentsize), e_phnum/e_shentsize/e_shnum/e_shstrndx are
// p_filesz (whose low 16 bits must read 1 as e_phnum). p_align (72..80) is ignored for ET_EXEC,
// so code and data may start at 72, and the file must still reach 80 for the kernel to read the
// whole program header.
const HeaderLayout kOverlappedLayout{HeaderKind::kOverlapped,
                                     24 + kPhdrSize,
                                     72,
                                     {{4, 16, "e_ident[4..16)"}, {20, 24, "e_version"}, {48, 54, "p_paddr (e_flags, e_ehsize)"}},
                                     true};

// A writable segment with p_memsz > p_filesz makes the kernel zero the rest of the page after
// p_filesz (padzero); overlapped, p_filesz is 1 modulo 65536 (e_phnum), which would wipe the
// code. So compact programs with bss keep the headers apart and pack into every ignored field.
const HeaderLayout kSeparateLayout{HeaderKind::kSeparate,
                                   kEhdrSize + kPhdrSize,
                                   112,
                                   {{4, 16, "e_ident[4..16)"},
                                    {20, 24, "e_version"},
                                    {40, 54, "e_shoff, e_flags, e_ehsize"},
                                    {58, 64, "e_shentsize, e_shnum, e_shstrndx"},
                                    {88, 96, "p_paddr"}},
                                   false};

}  // namespace

const HeaderLayout& header_layout(Layout layout, bool has_bss) noexcept {
  if (layout == Layout::kConformant) return kConformantLayout;
  return has_bss ? kSeparateLayout : kOverlappedLayout;
}

std::uint64_t overlapped_base(bool writable) noexcept {
  return std::uint64_t{writable ? PF_R | PF_W | PF_X : PF_R | PF_X} << 32;
}

void write_header(const HeaderLayout& layout, const HeaderValues& values, std::uint8_t* out) {
  Elf64_Ehdr ehdr{};
  std::memcpy(ehdr.e_ident, kElfMagic, sizeof(kElfMagic));
  ehdr.e_ident[4] = ELFCLASS64;     // EI_CLASS
  ehdr.e_ident[5] = ELFDATA2LSB;    // EI_DATA
  ehdr.e_ident[6] = EV_CURRENT;     // EI_VERSION
  ehdr.e_ident[7] = ELFOSABI_SYSV;  // EI_OSABI; EI_ABIVERSION and padding stay 0
  ehdr.e_type = ET_EXEC;
  ehdr.e_machine = EM_X86_64;
  ehdr.e_version = EV_CURRENT;
  ehdr.e_entry = values.entry;
  ehdr.e_phoff = kEhdrSize;
  ehdr.e_ehsize = kEhdrSize;
  ehdr.e_phentsize = kPhdrSize;
  ehdr.e_phnum = 1;  // no section headers: e_shoff, e_shentsize, e_shnum, e_shstrndx stay 0

  Elf64_Phdr phdr{};
  phdr.p_type = PT_LOAD;
  phdr.p_flags = PF_R | PF_X | (values.writable ? PF_W : 0);
  phdr.p_offset = 0;  // the segment maps the headers too, so offset 0 sits at the base address
  phdr.p_vaddr = values.base;
  phdr.p_paddr = values.base;
  phdr.p_filesz = values.file_size;
  phdr.p_memsz = values.memory_size;
  phdr.p_align = kPageSize;

  if (layout.kind != HeaderKind::kOverlapped) {
    std::memcpy(out, &ehdr, sizeof(ehdr));
    std::memcpy(out + kEhdrSize, &phdr, sizeof(phdr));
    return;
  }

  // The kernel maps whole pages from file offset 0 (p_offset 24 minus p_vaddr's page offset), so
  // p_filesz only has to reach the page holding the last file byte; it must also be 1 modulo
  // 65536 to read as e_phnum = 1. No bss here, so p_memsz = p_filesz and nothing is zeroed.
  std::uint64_t file_size = 1;
  while (24 + file_size + kPageSize - 1 < values.file_size) file_size += 0x10000;
  phdr.p_offset = 24;
  phdr.p_vaddr = values.base + 24;
  phdr.p_paddr = std::uint64_t{kPhdrSize} << 48;  // bytes 6-7 are e_phentsize; the rest is a hole
  phdr.p_filesz = file_size;
  phdr.p_memsz = file_size;
  phdr.p_align = 0;  // a hole: ET_EXEC ignores p_align
  std::memcpy(out, &ehdr, 24);  // e_ident, e_type, e_machine, e_version; the rest is the phdr
  std::memcpy(out + 24, &phdr, sizeof(phdr));
}

}  // namespace tinyelf::detail
