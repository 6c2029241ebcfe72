// tinyelf::Image — a complete executable file in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace tinyelf {

class Program;

// The bytes of one ELF executable, as produced by Program::link().
class Image {
 public:
  // The whole file, ELF header first.
  std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }
  // The file size in bytes.
  std::size_t size() const noexcept { return bytes_.size(); }
  // The virtual address execution starts at (e_entry).
  std::uint64_t entry() const noexcept { return entry_; }

  // Writes the file atomically: a temporary file `.NAME.tinyelf-XXXXXX` in the same folder is
  // written, fsync'ed and renamed over `path`, with mode 0755 minus the umask. If `path` is a
  // symbolic link, the link itself is replaced, not its target. Refuses to replace a folder or a
  // device, fifo or socket. Throws Error(kWriteFailed) naming the path and errno on any failure,
  // and then leaves `path` as it was (absent or the previous file), never partly written.
  void write(const std::filesystem::path& path) const;

 private:
  friend class Program;
  Image(std::vector<std::uint8_t> bytes, std::uint64_t entry) : bytes_(std::move(bytes)), entry_(entry) {}

  std::vector<std::uint8_t> bytes_;
  std::uint64_t entry_ = 0;
};

}  // namespace tinyelf
