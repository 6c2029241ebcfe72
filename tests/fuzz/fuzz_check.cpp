// libFuzzer target: inspect() and check() on arbitrary bytes. They must never read out of bounds
// (AddressSanitizer), hit undefined behaviour (UBSan) or break the invariants below.
#include <cstdint>
#include <cstdlib>
#include <span>

#include <tinyelf/check.hpp>

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> file(data, size);
  const tinyelf::ElfView view = tinyelf::inspect(file);
  require(view.file_size == size);
  require(view.program_headers.size() <= view.header.e_phnum);
  require(view.program_headers_complete == (view.program_headers.size() == view.header.e_phnum));

  // Both the default options (PT_INTERP paths looked up on this machine) and a machine without
  // vm.mmap_min_addr, with a small memory, judging the file alone.
  tinyelf::CheckOptions small;
  small.resolve_interpreter = false;
  small.mmap_min_addr = 0;
  small.commit_limit = std::uint64_t{1} << 30;
  small.max_program_header_table = 4096;
  for (const tinyelf::CheckOptions& options : {tinyelf::CheckOptions{}, small}) {
    const std::vector<tinyelf::Finding> findings = tinyelf::check(file, options);
    for (const tinyelf::Finding& finding : findings) require(!finding.id.empty() && !finding.message.empty());
    const auto worst = tinyelf::worst_severity(findings);
    require(worst.has_value() == !findings.empty());
  }
  return 0;
}
