// check_elf_name: one rule and one message for every name the program hands to ELF string tables.
#include "elf_name_p.hpp"

#include <fmt/format.h>

namespace tinyelf::detail {

void check_elf_name(std::string_view name, std::string_view what, ErrorCode code) {
  if (name.empty()) throw Error(code, fmt::format("{} is empty", what));
  if (const std::size_t nul = name.find('\0'); nul != std::string_view::npos)
    throw Error(code, fmt::format("{} \"{}\" contains a NUL byte at {}: ELF names end at the first NUL", what,
                                  name.substr(0, nul), nul));
}

}  // namespace tinyelf::detail
