// Small helpers shared by the files that drive AsmJit.
#pragma once

#include <cstdint>
#include <string_view>

#include <asmjit/core.h>
#include <fmt/format.h>

#include <tinyelf/error.hpp>

namespace tinyelf::detail {

// Throws Error(kAsmJitFailed) if an AsmJit call that does not report to the ErrorHandler failed.
inline void check_asmjit(asmjit::Error err, std::string_view what) {
  if (err != asmjit::kErrorOk)
    throw Error(ErrorCode::kAsmJitFailed,
                fmt::format("AsmJit failed to {}: {}", what, asmjit::DebugUtils::errorAsString(err)));
}

inline constexpr std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) noexcept {
  return (value + alignment - 1) & ~(alignment - 1);
}

}  // namespace tinyelf::detail
