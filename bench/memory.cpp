// Memory: the peak resident memory of building 10^7 mixed instructions, per instruction.
//
// The build runs in a fresh process (this binary again, in probe mode) because the benchmark
// process has already grown its heap in earlier cases, and because ru_maxrss of a child started
// with posix_spawn inherits the parent's high-water mark at exec (fs/exec.c, exec_mmap() calls
// setmax_mm_hiwater_rss on the old mm). VmHWM in /proc/self/status belongs to the new address
// space only.
#include "memory.hpp"

#include <benchmark/benchmark.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cases.hpp"

extern char** environ;

namespace bench {

namespace {

// The resident high-water mark of this process, in bytes (VmHWM is in kB: fs/proc/task_mmu.c).
std::size_t resident_high_water_mark() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

}  // namespace

int memory_probe(const char* emitter, const char* count_text) {
  std::size_t count = 0;
  const char* end = count_text + std::strlen(count_text);
  if (std::from_chars(count_text, end, count).ptr != end || (std::strcmp(emitter, "tinyelf") != 0 &&
                                                             std::strcmp(emitter, "raw_asmjit") != 0)) {
    fmt::print(stderr, "usage: {} tinyelf|raw_asmjit INSTRUCTIONS\n", kMemoryProbeFlag);
    return 2;
  }
  const std::size_t baseline = resident_high_water_mark();
  // The program and the image are freed on return, but the high-water mark keeps their peak.
  const std::size_t file_bytes =
      std::strcmp(emitter, "tinyelf") == 0 ? tinyelf_large(count).size() : raw_large(count).size();
  fmt::print("{} {} {}\n", baseline, resident_high_water_mark(), file_bytes);
  return 0;
}

namespace {

struct Probe {
  std::string failure;
  std::size_t baseline = 0, peak = 0, file_bytes = 0;
};

Probe run_probe(const std::string& emitter, std::size_t count) {
  Probe probe;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {fmt::format("pipe2 failed: {}", std::strerror(errno))};
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);  // dup2 clears FD_CLOEXEC
  const std::string count_text = std::to_string(count);
  char* argv[] = {const_cast<char*>("tinyelf_bench"), const_cast<char*>(kMemoryProbeFlag),
                  const_cast<char*>(emitter.c_str()), const_cast<char*>(count_text.c_str()), nullptr};
  pid_t pid = 0;
  const int err = ::posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv, environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (err != 0) {
    ::close(fds[0]);
    return {fmt::format("cannot start the memory probe: {}", std::strerror(err))};
  }
  std::string output;
  char buffer[256];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) != 0;) {
    if (n > 0) output.append(buffer, static_cast<std::size_t>(n));
    else if (errno != EINTR) break;
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      std::sscanf(output.c_str(), "%zu %zu %zu", &probe.baseline, &probe.peak, &probe.file_bytes) != 3)
    return {fmt::format("the memory probe failed (status {:#x}, output \"{}\")", status, output)};
  return probe;
}

void memory(benchmark::State& state, const std::string& emitter) {
  const auto count = static_cast<std::size_t>(state.range(0));
  Probe probe;
  for (auto _ : state) {
    probe = run_probe(emitter, count);
    if (!probe.failure.empty()) {
      state.SkipWithError(probe.failure.c_str());
      return;
    }
  }
  const double peak = static_cast<double>(probe.peak - probe.baseline);
  state.counters["peak_rss_bytes"] = peak;
  state.counters["rss_bytes_per_instruction"] = peak / static_cast<double>(count);
  state.counters["file_bytes"] = static_cast<double>(probe.file_bytes);
}

// One probe is one process building the whole program: once per repetition is enough. 10^4 is
// there to keep the smoke test fast.
BENCHMARK_CAPTURE(memory, tinyelf, std::string("tinyelf"))
    ->Name("memory/tinyelf")
    ->Arg(10'000)
    ->Arg(10'000'000)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(memory, raw_asmjit, std::string("raw_asmjit"))
    ->Name("memory/raw_asmjit")
    ->Arg(10'000)
    ->Arg(10'000'000)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

}  // namespace bench
