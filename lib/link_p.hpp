// The steps Program::link shares between its plain path (lib/link.cpp) and its packed path
// (lib/link_packed.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <span>
#include <vector>

#include <tinyelf/image.hpp>
#include <tinyelf/link_options.hpp>

#include "header_layout_p.hpp"
#include "program_p.hpp"

namespace tinyelf::detail {

// What link() decides once, before either path runs.
struct LinkDecisions {
  const HeaderLayout& layout;
  std::uint64_t base;  // virtual address of file offset 0 (0 for ET_DYN: the kernel adds its own)
  std::uint16_t type;  // e_type
};

// `dynamic`: the program imports symbols (Program::import), which takes the dynamic layout.
LinkDecisions decide(const asmjit::CodeHolder& code, const LinkOptions& options, bool dynamic = false);

// Region::what for a section (static storage, unlike Section::name()).
inline std::string_view region_name(const asmjit::Section* section, const asmjit::Section* rodata,
                                    const asmjit::Section* data) {
  if (section->id() == 0) return "text";  // CodeHolder's text section is always the first
  return section == rodata ? ".rodata" : section == data ? ".data" : "data";
}

struct LinkedFile {
  std::vector<std::uint8_t> bytes;
  std::uint64_t entry = 0;
  std::vector<Region> contents;  // code and data, sorted by offset
};

// What the packed path reads from the Program.
struct PackSource {
  asmjit::CodeHolder& code;
  std::span<const TextItem> items;
  const std::vector<DataItem>& data;
  const asmjit::Section* rodata;  // rodata, data and bss are null until the program uses them
  const asmjit::Section* data_section;
  asmjit::Section* bss;
  asmjit::Label entry;
  const DynamicTables* dynamic = nullptr;  // with imports: PT_INTERP and PT_DYNAMIC point into its data
};

// The program packed into the layout's holes, or nothing when it cannot be packed or packing
// would not make the file smaller; `source.code` is left untouched either way.
std::optional<LinkedFile> link_packed(const PackSource& source, const LinkDecisions& decided,
                                      const LinkOptions& options, std::uint64_t entry_in_text);

}  // namespace tinyelf::detail
