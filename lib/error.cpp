// Stable names for error codes, used in messages and by tools.
#include <tinyelf/error.hpp>

namespace tinyelf {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kEmitFailed: return "emit-failed";
    case ErrorCode::kUnboundLabel: return "unbound-label";
    case ErrorCode::kInvalidEntry: return "invalid-entry";
    case ErrorCode::kEmptyProgram: return "empty-program";
    case ErrorCode::kInvalidAlignment: return "invalid-alignment";
    case ErrorCode::kInvalidBaseAddress: return "invalid-base-address";
    case ErrorCode::kImageTooLarge: return "image-too-large";
    case ErrorCode::kUnsupportedLayout: return "unsupported-layout";
    case ErrorCode::kAlreadyLinked: return "already-linked";
    case ErrorCode::kAsmJitFailed: return "asmjit-failed";
    case ErrorCode::kWriteFailed: return "write-failed";
    case ErrorCode::kExecRefused: return "exec-refused";
    case ErrorCode::kRunFailed: return "run-failed";
    case ErrorCode::kNotPositionIndependent: return "not-position-independent";
    case ErrorCode::kInvalidImport: return "invalid-import";
    case ErrorCode::kInvalidDebugInfo: return "invalid-debug-info";
  }
  return "unknown";
}

}  // namespace tinyelf
