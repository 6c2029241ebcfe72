// Link verification (lib/verify_link_p.hpp): the writer asks the independent checker about its
// own output.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <fmt/format.h>

#include <tinyelf/check.hpp>

#include "verify_link_p.hpp"

namespace tinyelf {

void detail::verify_linked(std::span<const std::uint8_t> file, bool conformant) noexcept {
  std::vector<Finding> findings;
  try {
    // The default options: the file must run anywhere, not just here; and whether the interpreter
    // the user named exists is a fact of the machine that will run it, not of this one.
    CheckOptions options;
    options.resolve_interpreter = false;
    findings = check(file, options);
  } catch (...) {
    return;  // out of memory while checking: nothing learned about the file
  }
  // Hardening findings are choices of the layout (one RWX segment), not bugs.
  std::erase_if(findings, [](const Finding& f) { return f.severity == Severity::kHardening; });
  const auto worst = worst_severity(findings);
  if (!worst || (*worst == Severity::kTooling && !conformant)) return;
  std::fputs("tinyelf: internal error: link() produced a file that check() rejects:\n", stderr);
  for (const Finding& f : findings)
    std::fputs(fmt::format("  {}: {} [{}]\n", to_string(f.severity), f.message, f.id).c_str(), stderr);
  std::abort();
}

}  // namespace tinyelf
