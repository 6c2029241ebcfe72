// Names a program gives for ELF string tables (imports, symbols, source files), which end each
// name at its first NUL byte.
#pragma once

#include <string_view>

#include <tinyelf/error.hpp>

namespace tinyelf::detail {

// Throws Error(`code`) when `name` cannot be written whole: empty, or holding a NUL byte. `what`
// names it in the message, e.g. "the symbol name".
void check_elf_name(std::string_view name, std::string_view what, ErrorCode code);

}  // namespace tinyelf::detail
