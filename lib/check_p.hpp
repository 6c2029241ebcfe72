// The self-check Program::link runs on what it produced (debug builds and test builds).
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
