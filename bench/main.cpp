// The benchmark binary's main: Google Benchmark's, plus
// - the memory probe mode (memory.hpp), which the memory benchmark starts in a child process so
//   that nothing else shares its address space, and the instruction-count probe mode (repeat.hpp);
// - fixed glibc malloc thresholds (below), so a case's time does not depend on the cases that ran
//   before it;
// - a non-zero exit status when no benchmark matched or one failed, so the smoke test in ctest
//   catches a broken case. Every tool a case needs is required when the suite is configured
//   (bench/CMakeLists.txt), so a case that reports an error is broken.
#include <cstring>
#include <vector>

#include <malloc.h>
#include <unistd.h>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "memory.hpp"
#include "repeat.hpp"

namespace {

class FailureCountingReporter final : public benchmark::ConsoleReporter {
 public:
  using ConsoleReporter::ConsoleReporter;

  void ReportRuns(const std::vector<Run>& reports) override {
    for (const Run& run : reports) {
      if (run.error_occurred) ++failures_;
    }
    ConsoleReporter::ReportRuns(reports);
  }

  int failures() const noexcept { return failures_; }

 private:
  int failures_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], bench::kMemoryProbeFlag) == 0) return bench::memory_probe(argv[2], argv[3]);
  if (argc == 4 && std::strcmp(argv[1], bench::kRepeatProbeFlag) == 0) return bench::repeat_probe(argv[2], argv[3]);
  // glibc adapts its mmap and trim thresholds to the largest block freed so far, so whether a
  // 1 MB buffer is served from the heap or from fresh, page-faulting memory depends on which cases
  // ran before (a case of 10^5 instructions measured 2.5 or 4 ms depending on that). Fixed
  // thresholds make every repetition pay the same: blocks up to 32 MiB (glibc's largest mmap
  // threshold on 64-bit, malloc/malloc.c DEFAULT_MMAP_THRESHOLD_MAX) come from the heap, which is
  // never trimmed; the 10^7 case's larger buffers are always mmapped. The probes above run with
  // glibc's defaults, like a user's program.
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 1 << 30);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  FailureCountingReporter reporter(::isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_ColorTabular
                                                           : benchmark::ConsoleReporter::OO_Tabular);
  const std::size_t ran = benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  if (ran == 0) {
    fmt::print(stderr, "no benchmark matched the filter\n");
    return 1;
  }
  if (reporter.failures() != 0) {
    fmt::print(stderr, "{} benchmark(s) failed\n", reporter.failures());
    return 1;
  }
  return 0;
}
