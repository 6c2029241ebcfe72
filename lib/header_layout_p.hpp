// The header layouts link() can write, described by the bytes the kernel reads (fixed fields) and
// the bytes it never reads (holes), where code and data may be packed; and the program headers
// (segments) a file gets.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <tinyelf/image.hpp>
#include <tinyelf/link_options.hpp>

namespace tinyelf::detail {

// A run of header bytes the kernel never reads, before the layout's tail: [start, end) in the
// file.
struct Hole {
  std::uint32_t start;
  std::uint32_t end;

  std::uint32_t size() const noexcept { return end - start; }
};

enum class HeaderKind {
  kConformant,  // ELF header, then the program headers at 64; readable by every tool
  kOverlapped,  // program header at 24 inside the ELF header: the 80-byte floor
  kSeparate,    // compact with bss: headers as in kConformant, every ignored field a hole
};

// No layout has more holes than this (kSeparate and the dynamic layout have 5).
inline constexpr std::size_t kMaxHoles = 5;

// The most program headers a layout has: the dynamic layout's PT_INTERP, two PT_LOADs, PT_DYNAMIC
// and PT_GNU_STACK.
inline constexpr std::size_t kMaxProgramHeaders = 5;

struct HeaderLayout {
  HeaderKind kind;
  std::uint32_t program_headers;  // 1: one PT_LOAD; 2: R+X and R+W (W^X); 5: dynamic (see below)
  std::uint32_t header_size;      // bytes the headers occupy; the file is never shorter
  std::uint32_t tail_start;       // where code and data go when no hole takes them
  std::vector<Hole> holes;        // ascending, none reaching tail_start: the reusable fields before it
  // Execution starts at file offset 1 and the first instruction sits at holes[0].start
  // (kOverlapped: e_entry doubles as p_type and p_flags).
  bool entry_is_fixed;
  // What Image::regions() says of the header bytes: the headers themselves, then every field code
  // or data may take (the holes, and the header bytes from tail_start on), in file order.
  std::span<const Region> header_regions;
  std::span<const Region> reusable_fields;

  // Bytes of all the holes together.
  std::uint32_t hole_bytes() const noexcept {
    std::uint32_t bytes = 0;
    for (const Hole& hole : holes) bytes += hole.size();
    return bytes;
  }
};

// The layout for `layout`: compact needs the separate headers when the program has bss, and a
// conformant program with writable data gets two segments unless `single_segment`. See
// lib/header_layout.cpp.
const HeaderLayout& header_layout(Layout layout, bool has_bss, bool two_segments) noexcept;

// The layout of a program with imports (Program::import): PT_INTERP, the R+X and R+W PT_LOADs,
// PT_DYNAMIC and PT_GNU_STACK, in that order (the gABI wants PT_INTERP before any PT_LOAD).
const HeaderLayout& dynamic_header_layout() noexcept;

// One PT_LOAD, in offsets from the base address.
struct Segment {
  std::uint32_t flags = 0;        // PF_R | PF_W | PF_X
  std::uint64_t offset = 0;       // p_offset
  std::uint64_t address = 0;      // p_vaddr minus the base address
  std::uint64_t file_size = 0;    // p_filesz
  std::uint64_t memory_size = 0;  // p_memsz
};

// Where the parts of a file go in memory; see plan_segments().
struct FileShape {
  std::uint64_t file_size = 0;
  std::uint64_t read_only_end = 0;  // end of the headers, code and read-only data in the file
  std::uint64_t writable_start = 0;  // file offset of the first writable (data) byte, if has_data
  bool has_data = false;
  std::uint64_t bss_size = 0;
  std::uint64_t bss_align = 1;
  // Section headers will describe the file (LinkOptions::debug_info): a writable segment of bss
  // alone then gets a p_offset where its bss would be in the file (see plan_segments()).
  bool has_section_headers = false;
};

struct SegmentPlan {
  std::array<Segment, 2> segments{};
  std::uint32_t count = 1;
  std::uint64_t writable_shift = 0;  // address minus file offset of every writable byte
  std::uint64_t bss_at = 0;          // where bss starts, from the base address
  std::uint64_t memory_end = 0;      // end of the memory image, from the base address
};

// The segments of a file shaped like `shape` with `layout`'s headers. With two segments the
// writable one maps the file again from its first writable byte, at an address on the page after
// the read-only segment's last one (offset and address congruent modulo the page size, which
// the kernel requires): no file byte is added. bss follows the writable bytes in memory.
SegmentPlan plan_segments(const HeaderLayout& layout, const FileShape& shape) noexcept;

// A piece of the file the dynamic layout's extra program headers point at.
struct FilePiece {
  std::uint64_t offset = 0;   // p_offset
  std::uint64_t address = 0;  // p_vaddr minus the base address
  std::uint64_t size = 0;     // p_filesz and p_memsz
};

// Where the interpreter's path and the dynamic section are, for PT_INTERP and PT_DYNAMIC.
struct DynamicPieces {
  FilePiece interpreter;
  FilePiece dynamic;
};

// The section header table, which only tools read (LinkOptions::debug_info); count 0: none.
struct SectionTable {
  std::uint64_t offset = 0;  // e_shoff
  std::uint16_t count = 0;   // e_shnum
  std::uint16_t names = 0;   // e_shstrndx
};

// What the header fields say; link() fills it in once the layout is final.
struct HeaderValues {
  std::uint16_t type = 0;     // e_type: ET_EXEC, or ET_DYN for a position-independent file
  std::uint64_t base = 0;     // virtual address of file offset 0
  std::uint64_t entry = 0;    // e_entry (ignored by kOverlapped: it is fixed)
  const SegmentPlan* segments = nullptr;
  const DynamicPieces* dynamic = nullptr;  // set for the dynamic layout only
  SectionTable sections = {};
};

// The base address kOverlapped forces: e_entry = p_type | p_flags << 32 must land on file offset
// 1, so the page holding file offset 0 is mapped at p_flags << 32.
std::uint64_t overlapped_base(bool writable) noexcept;

// Writes the headers into `file` over every header byte that `contents` (code and data, sorted by
// offset) leaves free; holes nothing took hold their natural values (those of a conformant file
// where such a field exists, zero otherwise).
void write_headers(std::uint8_t* file, const HeaderLayout& layout, const HeaderValues& values,
                   const std::vector<Region>& contents);

}  // namespace tinyelf::detail
