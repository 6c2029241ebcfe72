// tinyelf::Image — a complete executable file in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

namespace tinyelf {

namespace detail {
struct ProgramState;
}

enum class RegionKind {
  kHeader,   // ELF header or program header fields
  kCode,     // instructions (including the jumps that join packed pieces)
  kData,     // rodata and data
  kPadding,  // alignment or unused bytes
  kDebugInfo,  // section headers, symbols, DWARF (LinkOptions::debug_info): for tools, never loaded
};

// A byte range of the file and what it holds. The strings are static.
struct Region {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  RegionKind kind = RegionKind::kPadding;
  std::string_view what;   // "ELF header", "program header", "text", ".rodata", ".data", "padding",
                           // ".symtab", ".strtab", ".debug_line", "section headers", ...
  std::string_view field;  // code or data inside a header field: the field it reuses ("p_paddr", "p_align")
};

// What Image::write waits for before it returns.
enum class Durability {
  // fsync the new file before the rename and its folder after it: after a power cut, `path` holds
  // the old file or the whole new one.
  kSynced,
  // Rename only, as compilers and linkers do: readers, and a process killed at any point, still see
  // the old file or the whole new one, but after a power cut the new file may be empty or missing.
  // No wait for the disk: for streams of files that can be made again.
  kUnsynced,
};

// The bytes of one ELF executable, as produced by Program::link().
class Image {
 public:
  // An empty image: no bytes, entry 0, no regions. Program::link() makes the real ones.
  Image() = default;

  // The whole file, ELF header first.
  std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }
  // The file size in bytes.
  std::size_t size() const noexcept { return bytes_.size(); }
  // The virtual address execution starts at (e_entry).
  std::uint64_t entry() const noexcept { return entry_; }
  // What each byte range holds, in file order, covering the whole file without overlap.
  std::vector<Region> regions() const;

  // Writes the file atomically: a temporary file `.NAME.tinyelf-XXXXXX` in the same folder is
  // written, fsync'ed (see Durability) and renamed over `path`, with mode 0755 minus the umask. If
  // `path` is a symbolic link, the link itself is replaced, not its target. Refuses to replace a
  // folder or a device, fifo or socket. Throws Error(kWriteFailed) naming the path and errno on any
  // failure, and then leaves `path` as it was (absent or the previous file), never partly written.
  void write(const std::filesystem::path& path, Durability durability = Durability::kSynced) const;

 private:
  friend struct detail::ProgramState;  // Program::link() builds images (lib/link.cpp)
  Image(std::vector<std::uint8_t> bytes, std::uint64_t entry, std::vector<Region> contents,
        std::span<const Region> headers, std::span<const Region> reusable_fields)
      : bytes_(std::move(bytes)), entry_(entry), contents_(std::move(contents)), headers_(headers),
        reusable_fields_(reusable_fields) {}

  std::vector<std::uint8_t> bytes_;
  std::uint64_t entry_ = 0;
  std::vector<Region> contents_;  // code and data, in file order; regions() adds headers and padding
  std::span<const Region> headers_;          // the header layout's (static storage)
  std::span<const Region> reusable_fields_;  // header fields code and data may take, by name
};

}  // namespace tinyelf
