// tinyelf::inspect — an ELF64 file's header and program headers, read the way the kernel reads them.
//
// Every field is copied out of the bytes with an explicit bounds check; nothing is ever cast. The
// header is read from a zero-filled 64-byte copy, like the kernel's struct linux_binprm::buf, so a
// short file yields zeros rather than an error: check() decides what they mean.
#include <algorithm>
#include <cstring>

#include <tinyelf/check.hpp>

#include "elf_p.hpp"

namespace tinyelf {

namespace {

using detail::Elf64_Ehdr;
using detail::Elf64_Phdr;

ProgramHeader to_view(const Elf64_Phdr& phdr) {
  return ProgramHeader{phdr.p_type,  phdr.p_flags,  phdr.p_offset, phdr.p_vaddr,
                       phdr.p_paddr, phdr.p_filesz, phdr.p_memsz,  phdr.p_align};
}

}  // namespace

ElfView inspect(std::span<const std::uint8_t> file) {
  ElfView view;
  view.file_size = file.size();

  Elf64_Ehdr ehdr{};
  if (!file.empty()) std::memcpy(&ehdr, file.data(), std::min(file.size(), sizeof ehdr));
  ElfHeader& h = view.header;
  std::copy(std::begin(ehdr.e_ident), std::end(ehdr.e_ident), h.e_ident.begin());
  h.e_type = ehdr.e_type;
  h.e_machine = ehdr.e_machine;
  h.e_version = ehdr.e_version;
  h.e_entry = ehdr.e_entry;
  h.e_phoff = ehdr.e_phoff;
  h.e_shoff = ehdr.e_shoff;
  h.e_flags = ehdr.e_flags;
  h.e_ehsize = ehdr.e_ehsize;
  h.e_phentsize = ehdr.e_phentsize;
  h.e_phnum = ehdr.e_phnum;
  h.e_shentsize = ehdr.e_shentsize;
  h.e_shnum = ehdr.e_shnum;
  h.e_shstrndx = ehdr.e_shstrndx;

  // The kernel reads e_phnum entries of sizeof(struct elf_phdr) = 56 bytes from e_phoff
  // (load_elf_phdrs in fs/binfmt_elf.c). Offsets are compared before adding, so a huge e_phoff
  // cannot wrap around.
  const std::uint64_t size = file.size();
  std::uint64_t offset = h.e_phoff;
  view.program_headers.reserve(std::min<std::uint64_t>(h.e_phnum, size / sizeof(Elf64_Phdr)));
  for (unsigned i = 0; i < h.e_phnum; ++i) {
    if (offset > size || size - offset < sizeof(Elf64_Phdr)) return view;
    Elf64_Phdr phdr;
    std::memcpy(&phdr, file.data() + offset, sizeof phdr);
    view.program_headers.push_back(to_view(phdr));
    offset += sizeof(Elf64_Phdr);
  }
  view.program_headers_complete = true;
  return view;
}

}  // namespace tinyelf
