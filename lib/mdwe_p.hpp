// prctl() requests and flags of memory-deny-write-execute (include/uapi/linux/prctl.h, Linux 6.3+;
// Debian 12's headers predate them). run() sets it in a child (RunOptions::deny_write_execute),
// check() reads it (CheckOptions::host()).
#pragma once

namespace tinyelf::detail {

inline constexpr int kPrSetMdwe = 65;                    // PR_SET_MDWE
inline constexpr int kPrGetMdwe = 66;                    // PR_GET_MDWE
inline constexpr unsigned long kMdweRefuseExecGain = 1;  // PR_MDWE_REFUSE_EXEC_GAIN
inline constexpr unsigned long kMdweNoInherit = 2;       // PR_MDWE_NO_INHERIT (6.7+)

}  // namespace tinyelf::detail
