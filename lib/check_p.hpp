// The pieces of tinyelf::check that its two parts share: the kernel's (lib/check.cpp) and the
// dynamic loader's (lib/check_loader.cpp). Private: not installed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tinyelf/check.hpp>

#include "elf_p.hpp"

namespace tinyelf::detail {

constexpr std::uint64_t page_start(std::uint64_t v) { return v & ~(kPageSize - 1); }  // ELF_PAGESTART
constexpr std::uint64_t page_offset(std::uint64_t v) { return v & (kPageSize - 1); }  // ELF_PAGEOFFSET
constexpr std::uint64_t page_align(std::uint64_t v) { return (v + kPageSize - 1) & ~(kPageSize - 1); }  // ELF_PAGEALIGN (wraps like it)

// The findings of one check(), in the order they were found.
class Report {
 public:
  void add(std::string_view id, Severity severity, std::string message) {
    findings_.push_back(Finding{std::string(id), severity, std::move(message)});
  }
  bool has(Severity severity) const {
    return std::any_of(findings_.begin(), findings_.end(), [&](const Finding& f) { return f.severity == severity; });
  }
  std::vector<Finding> take() { return std::move(findings_); }

 private:
  std::vector<Finding> findings_;
};

// How the kernel maps one PT_LOAD, in the addresses of the file (for ET_DYN the kernel adds one
// load bias to all of them, which changes no comparison made here).
struct Mapping {
  std::size_t index = 0;         // in the program header table
  const ProgramHeader* phdr = nullptr;
  std::uint64_t start = 0;       // first mapped page
  std::uint64_t file_end = 0;    // end of the pages mapped from the file
  std::uint64_t end = 0;         // end of all mapped pages, zero-fill included
  std::uint64_t file_base = 0;   // file offset mapped at `start`
  bool valid = false;            // the kernel mapped it (no crash finding for it)
};

inline bool is_writable(const ProgramHeader& p) { return (p.p_flags & PF_W) != 0; }
inline bool is_executable(const ProgramHeader& p) { return (p.p_flags & PF_X) != 0; }

// What ld.so does with the main program once the kernel has mapped it (lib/check_loader.cpp),
// for a file with a PT_INTERP: `mappings` are its PT_LOADs as the kernel mapped them, all valid.
void check_dynamic_loader(const ElfView& view, std::span<const std::uint8_t> file, std::span<const Mapping> mappings,
                          const CheckOptions& options, Report& report);

}  // namespace tinyelf::detail
