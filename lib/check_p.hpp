// The self-check Program::link runs on what it produced (debug builds and test builds).
#pragma once

#include <cstdint>
#include <span>

namespace tinyelf::detail {

// prctl() requests and flags of memory-deny-write-execute (include/uapi/linux/prctl.h, Linux 6.3+;
// Debian 12's headers predate them).
inline constexpr int kPrSetMdwe = 65;                    // PR_SET_MDWE
inline constexpr int kPrGetMdwe = 66;                    // PR_GET_MDWE
inline constexpr unsigned long kMdweRefuseExecGain = 1;  // PR_MDWE_REFUSE_EXEC_GAIN
inline constexpr unsigned long kMdweNoInherit = 2;       // PR_MDWE_NO_INHERIT (6.7+)

// Aborts with the findings on stderr if `file`, just produced by link(), would not run: a finding
// above Severity::kTooling, or any finding but a hardening one when `conformant`. Either is a bug
// in tinyelf, never the caller's fault, so it is not an Error. Judged with the default
// CheckOptions, not the machine's: what link() writes must not depend on where it is built.
void verify_linked(std::span<const std::uint8_t> file, bool conformant) noexcept;

}  // namespace tinyelf::detail
