// Small helpers shared by the files that drive AsmJit.
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

#include <asmjit/core.h>
#include <fmt/format.h>

#include <tinyelf/error.hpp>

namespace tinyelf::detail {

// Throws Error(kAsmJitFailed) if an AsmJit call that does not report to the ErrorHandler failed.
// `what` (a string, or a callable returning one, formatted only on failure) names the step.
template <typename What>
inline void check_asmjit(asmjit::Error err, const What& what) {
  if (err == asmjit::kErrorOk) [[likely]]
    return;
  if constexpr (std::is_invocable_v<What>) {
    throw Error(ErrorCode::kAsmJitFailed,
                fmt::format("AsmJit failed to {}: {}", what(), asmjit::DebugUtils::errorAsString(err)));
  } else {
    throw Error(ErrorCode::kAsmJitFailed,
                fmt::format("AsmJit failed to {}: {}", what, asmjit::DebugUtils::errorAsString(err)));
  }
}

inline constexpr std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) noexcept {
  return (value + alignment - 1) & ~(alignment - 1);
}

}  // namespace tinyelf::detail
