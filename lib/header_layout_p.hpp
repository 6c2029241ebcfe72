// The three header layouts link() can write, described by the bytes the kernel reads (fixed
// fields) and the bytes it never reads (holes), where code and data may be packed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <tinyelf/link_options.hpp>

namespace tinyelf::detail {

// A run of header bytes the kernel never reads: [start, end) in the file.
struct Hole {
  std::uint32_t start;
  std::uint32_t end;
  const char* field;  // the header fields it spans, for Image::regions()

  std::uint32_t size() const noexcept { return end - start; }
};

enum class HeaderKind {
  kConformant,  // ELF header, then the program header at 64; readable by every tool
  kOverlapped,  // program header at 24 inside the ELF header: the 80-byte floor
  kSeparate,    // compact with bss: headers as in kConformant, every ignored field a hole
};

// No layout has more holes than this (kSeparate has 5).
inline constexpr std::size_t kMaxHoles = 5;

struct HeaderLayout {
  HeaderKind kind;
  std::uint32_t header_size;  // bytes the headers occupy; the file is never shorter
  std::uint32_t tail_start;   // where code and data go when no hole takes them
  std::vector<Hole> holes;    // ascending, none reaching tail_start
  // Execution starts at file offset 1 and the first instruction sits at holes[0].start
  // (kOverlapped: e_entry doubles as p_type and p_flags).
  bool entry_is_fixed;

  // Bytes of all the holes together.
  std::uint32_t hole_bytes() const noexcept {
    std::uint32_t bytes = 0;
    for (const Hole& hole : holes) bytes += hole.size();
    return bytes;
  }
};

// Compact needs the separate headers when the program has bss: see lib/header_layout.cpp.
const HeaderLayout& header_layout(Layout layout, bool has_bss) noexcept;

// What the header fields say; link() fills it in once the layout is final.
struct HeaderValues {
  std::uint64_t base = 0;          // virtual address of file offset 0
  std::uint64_t entry = 0;         // e_entry (ignored by kOverlapped: it is fixed)
  std::uint64_t file_size = 0;     // bytes in the file
  std::uint64_t memory_size = 0;   // bytes in memory, bss included
  bool writable = false;
};

// The base address kOverlapped forces: e_entry = p_type | p_flags << 32 must land on file offset
// 1, so the page holding file offset 0 is mapped at p_flags << 32.
std::uint64_t overlapped_base(bool writable) noexcept;

// Writes the layout's header_size header bytes, holes holding their natural values (those of a
// conformant file where such a field exists, zero otherwise).
void write_header(const HeaderLayout& layout, const HeaderValues& values, std::uint8_t* out);

}  // namespace tinyelf::detail
