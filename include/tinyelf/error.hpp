// tinyelf::Error — the one exception type the library throws, with a stable code per failure.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace tinyelf {

// What went wrong. The numeric values are stable; new codes are only ever appended.
enum class ErrorCode {
  kEmitFailed = 1,      // AsmJit refused an instruction or directive (the message names it)
  kUnboundLabel,        // a label is referenced but never bound
  kInvalidEntry,        // the entry label is unbound or not at an instruction in text
  kEmptyProgram,        // text holds no code (a Builder or Compiler that was never finalized?)
  kInvalidAlignment,    // an alignment that is not a power of two in [1, 4096]
  kInvalidBaseAddress,  // base address not page aligned, below vm.mmap_min_addr, or too high
  kImageTooLarge,       // the file or the memory image exceeds its limit
  kUnsupportedLayout,   // a Layout this version cannot produce
  kAlreadyLinked,       // link() called twice without reset()
  kAsmJitFailed,        // an AsmJit call outside an emitter failed (out of memory, ...)
  kWriteFailed,         // Image::write could not replace the file; nothing was changed
  kExecRefused,         // the kernel refused to execute the image (execve failed; errno named)
  kRunFailed,           // a system call needed to run the image failed (pipe, vfork, poll, prctl, ...)
  kNotPositionIndependent,  // position_independent, but the program needs an absolute address
  kInvalidImport,       // Program::import or LinkOptions::interpreter got an empty name or one with a NUL
  kInvalidDebugInfo,    // a symbol or line mark that cannot be written, or a bad LinkOptions::debug_info
};

// A short, stable name for `code`, e.g. "unbound-label".
std::string_view to_string(ErrorCode code) noexcept;

// Thrown by every tinyelf function that fails. `what()` tells the user what to change.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}

  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace tinyelf
