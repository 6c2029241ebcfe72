// The minimal ELF writer the encoder peers share (Xbyak, Zydis, and AsmJit alone), so that only
// the encoders differ between them: the ELF header, one program header, and the image.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace bench {

// Where the image starts in memory: the file is mapped from offset 0 at 0x400000 (ld's default
// base), and the image follows the 64-byte ELF header and the 56-byte program header.
inline constexpr std::uint64_t kMinimalBase = 0x400000;
inline constexpr std::uint64_t kMinimalImageAddress = kMinimalBase + 64 + 56;

// An executable whose one PT_LOAD segment (read, write, execute, like ld -N) maps the whole file;
// execution starts `entry_offset` bytes into `image`, which must be laid out for
// kMinimalImageAddress. The segment is as large in memory as in the file: no bss.
std::vector<std::uint8_t> minimal_elf(std::span<const std::uint8_t> image, std::size_t entry_offset);

}  // namespace bench
