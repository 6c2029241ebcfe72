// The minimal ELF writer (minimal_elf.hpp), straight from <elf.h>.
#include "minimal_elf.hpp"

#include <cstring>

#include <elf.h>

namespace bench {

std::vector<std::uint8_t> minimal_elf(std::span<const std::uint8_t> image, std::size_t entry_offset) {
  constexpr std::size_t kHeaders = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
  static_assert(kHeaders == kMinimalImageAddress - kMinimalBase);
  Elf64_Ehdr header{};
  std::memcpy(header.e_ident, ELFMAG, SELFMAG);
  header.e_ident[EI_CLASS] = ELFCLASS64;
  header.e_ident[EI_DATA] = ELFDATA2LSB;
  header.e_ident[EI_VERSION] = EV_CURRENT;
  header.e_ident[EI_OSABI] = ELFOSABI_SYSV;
  header.e_type = ET_EXEC;
  header.e_machine = EM_X86_64;
  header.e_version = EV_CURRENT;
  header.e_entry = kMinimalImageAddress + entry_offset;
  header.e_phoff = sizeof(Elf64_Ehdr);
  header.e_ehsize = sizeof(Elf64_Ehdr);
  header.e_phentsize = sizeof(Elf64_Phdr);
  header.e_phnum = 1;
  Elf64_Phdr segment{};
  segment.p_type = PT_LOAD;
  segment.p_flags = PF_R | PF_W | PF_X;
  segment.p_offset = 0;
  segment.p_vaddr = segment.p_paddr = kMinimalBase;
  segment.p_filesz = segment.p_memsz = kHeaders + image.size();
  segment.p_align = 0x1000;
  std::vector<std::uint8_t> file(kHeaders + image.size());
  std::memcpy(file.data(), &header, sizeof header);
  std::memcpy(file.data() + sizeof header, &segment, sizeof segment);
  if (!image.empty()) std::memcpy(file.data() + kHeaders, image.data(), image.size());
  return file;
}

}  // namespace bench
