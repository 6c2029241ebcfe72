// tinyelf::LinkOptions — how Program::link lays the executable out.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tinyelf {

enum class Layout {
  // ELF header, then one program header, then code and data: every ELF tool reads it
  // (eu-elflint --strict, readelf, file, gdb).
  kConformant,
  // Program header overlapped with the ELF header (the 80-byte floor). Not implemented yet:
  // link() throws ErrorCode::kUnsupportedLayout.
  kCompact,
};

struct LinkOptions {
  Layout layout = Layout::kConformant;

  // Virtual address of file offset 0. 0x400000 is the traditional x86-64 ET_EXEC base (GNU ld's
  // default text-segment address). Must be page aligned (4096) and at least 0x10000, Debian's
  // default vm.mmap_min_addr: a segment below it makes the kernel kill the program with SIGSEGV
  // after exec, with no error from execve.
  std::uint64_t base_address = 0x400000;

  // Largest file link() will produce, in bytes (1 GiB by default). The memory image (file plus
  // bss) must in any case end below the top of the 47-bit user address space.
  std::size_t max_file_size = std::size_t{1} << 30;
};

}  // namespace tinyelf
