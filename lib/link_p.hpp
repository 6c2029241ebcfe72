// The steps Program::link shares between its plain path (lib/link.cpp) and its packed path
// (lib/link_packed.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <tinyelf/image.hpp>
#include <tinyelf/link_options.hpp>

#include "header_layout_p.hpp"
#include "program_p.hpp"

namespace tinyelf::detail {

// Writes the headers over every header byte of `file` that `contents` (code and data, sorted by
// offset) leaves free.
void write_headers(std::uint8_t* file, const HeaderLayout& layout, const HeaderValues& values,
                   const std::vector<Region>& contents);

bool has_writable(const asmjit::CodeHolder& code);

// The base address of file offset 0.
std::uint64_t base_for(const HeaderLayout& layout, const LinkOptions& options, bool writable);

// Region::what for a section (static storage, unlike Section::name()).
std::string_view region_name(const asmjit::Section* section, const asmjit::Section* rodata, const asmjit::Section* data);

struct LinkedFile {
  std::vector<std::uint8_t> bytes;
  std::uint64_t entry = 0;
  std::vector<Region> contents;  // code and data, sorted by offset
};

// What the packed path reads from the Program.
struct PackSource {
  asmjit::CodeHolder& code;
  const std::vector<TextItem>& items;
  const std::vector<DataItem>& data;
  const asmjit::Section* rodata;  // rodata, data and bss are null until the program uses them
  const asmjit::Section* data_section;
  asmjit::Section* bss;
  asmjit::Label entry;
};

// The program packed into the layout's holes, or nothing when it cannot be packed or packing
// would not make the file smaller; `source.code` is left untouched either way.
std::optional<LinkedFile> link_packed(const PackSource& source, const HeaderLayout& layout, const LinkOptions& options,
                                      std::uint64_t entry_in_text);

}  // namespace tinyelf::detail
