// Link verification: Program::link judges what it produced with tinyelf::check() (Debug builds,
// the tests, and builds configured with -DTINYELF_VERIFY_LINK=ON; never a Release library by
// default).
#pragma once

#include <cstdint>
#include <span>

namespace tinyelf::detail {

// Aborts with the findings on stderr if `file`, just produced by link(), would not run: a finding
// above Severity::kTooling, or any finding but a hardening one when `conformant`. Either is a bug
// in tinyelf, never the caller's fault, so it is not an Error. Judged with the default
// CheckOptions, not the machine's: what link() writes must not depend on where it is built.
void verify_linked(std::span<const std::uint8_t> file, bool conformant) noexcept;

}  // namespace tinyelf::detail
