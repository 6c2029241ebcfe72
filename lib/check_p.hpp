// The self-check Program::link runs on what it produced (debug builds and test builds).
#pragma once

#include <cstdint>
#include <span>

namespace tinyelf::detail {

// Aborts with the findings on stderr if `file`, just produced by link(), would not run: a finding
// above Severity::kTooling, or any finding at all when `conformant`. Either is a bug in tinyelf,
// never the caller's fault, so it is not an Error.
void verify_linked(std::span<const std::uint8_t> file, bool conformant) noexcept;

}  // namespace tinyelf::detail
