// Memory: the peak resident memory of building one program, for tinyelf, raw AsmJit and every peer.
//
// The build runs in a fresh process (this binary again, in probe mode) because the benchmark
// process has already grown its heap in earlier cases, and because ru_maxrss of a child started
// with posix_spawn inherits the parent's high-water mark at exec (fs/exec.c, exec_mmap() calls
// setmax_mm_hiwater_rss on the old mm). VmHWM in /proc/self/status belongs to the new address
// space only.
#include "memory.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cases.hpp"
#include "peers.hpp"
#include "process.hpp"

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

// One build of `workload` by tinyelf, raw AsmJit (no ELF) or a registered peer; returns the file
// size. Everything it allocates is freed on return, but the high-water mark keeps its peak.
std::size_t build_once(std::string_view emitter, const Workload& workload) {
  if (emitter == "tinyelf" || emitter == "raw_asmjit") {
    if (workload.shape == Shape::kMixed)
      return emitter == "tinyelf" ? tinyelf_large(workload.instructions).size() : raw_large(workload.instructions).size();
    using SmallBuild = tinyelf::Image (*)(tinyelf::Program&);
    using RawSmallBuild = std::vector<std::uint8_t> (*)(RawAsmJit&);
    const std::size_t index = static_cast<std::size_t>(workload.shape);
    constexpr SmallBuild kTinyelf[] = {tinyelf_exit42, tinyelf_hello, tinyelf_loop};
    constexpr RawSmallBuild kRaw[] = {raw_exit42, raw_hello, raw_loop};
    if (emitter == "tinyelf") {
      tinyelf::Program program;
      return kTinyelf[index](program).size();
    }
    RawAsmJit raw;
    return kRaw[index](raw).size();
  }
  const Peer* peer = find_peer(emitter);
  if (peer == nullptr) throw std::runtime_error(fmt::format("no emitter named \"{}\"", emitter));
  return peer->make()->build(workload).size();
}

}  // namespace

int memory_probe(const char* emitter, const char* workload_name) {
  const std::optional<Workload> workload = parse_workload(workload_name);
  if (!workload) {
    fmt::print(stderr, "usage: {} tinyelf|raw_asmjit|PEER exit42|hello|loop|large/INSTRUCTIONS\n", kMemoryProbeFlag);
    return 2;
  }
  const std::size_t baseline = resident_high_water_mark();
  measure_tool_memory(true);
  try {
    const std::size_t file_bytes = build_once(emitter, *workload);
    fmt::print("{} {} {} {}\n", baseline, resident_high_water_mark(), file_bytes, tool_memory_peak());
  } catch (const std::exception& error) {
    fmt::print(stderr, "{} {} {}: {}\n", kMemoryProbeFlag, emitter, workload_name, error.what());
    return 1;
  }
  return 0;
}

namespace {

struct Probe {
  std::string failure;
  std::size_t baseline = 0, peak = 0, file_bytes = 0, tool_peak = 0;
};

Probe run_probe(const std::string& emitter, const std::string& workload) {
  Probe probe;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {fmt::format("pipe2 failed: {}", std::strerror(errno))};
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);  // dup2 clears FD_CLOEXEC
  char* argv[] = {const_cast<char*>("tinyelf_bench"), const_cast<char*>(kMemoryProbeFlag),
                  const_cast<char*>(emitter.c_str()), const_cast<char*>(workload.c_str()), nullptr};
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
      std::sscanf(output.c_str(), "%zu %zu %zu %zu", &probe.baseline, &probe.peak, &probe.file_bytes,
                  &probe.tool_peak) != 4)
    return {fmt::format("the memory probe failed (status {:#x}, output \"{}\")", status, output)};
  return probe;
}

void memory(benchmark::State& state, const std::string& emitter, const Workload& workload) {
  Probe probe;
  for (auto _ : state) {
    probe = run_probe(emitter, workload.name());
    if (!probe.failure.empty()) {
      state.SkipWithError(probe.failure.c_str());
      return;
    }
  }
  // In-process work and the tools it starts run one after the other: the larger peak is the job's.
  const double peak = static_cast<double>(std::max(probe.peak - probe.baseline, probe.tool_peak));
  state.counters["peak_rss_bytes"] = peak;
  state.counters["in_process_peak_rss_bytes"] = static_cast<double>(probe.peak - probe.baseline);
  state.counters["tool_peak_rss_bytes"] = static_cast<double>(probe.tool_peak);
  state.counters["rss_bytes_per_instruction"] = peak / static_cast<double>(workload.instructions);
  state.counters["file_bytes"] = static_cast<double>(probe.file_bytes);
}

}  // namespace

void register_memory_probe(const std::string& emitter, const Workload& workload) {
  // One probe is one process building the whole program: once per repetition is enough.
  benchmark::RegisterBenchmark(fmt::format("memory/{}/{}", emitter, workload.name()).c_str(),
                               [emitter, workload](benchmark::State& state) { memory(state, emitter, workload); })
      ->Iterations(1)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

namespace {

// tinyelf and raw AsmJit (no ELF) for the peers' workloads, and 10^7 instructions for the
// bytes-per-instruction figure.
[[maybe_unused]] const bool registered = [] {
  for (const Workload& workload : {kExit42, kHello, kLoop, mixed(10'000), mixed(100'000), mixed(1'000'000),
                                   mixed(10'000'000)})
    register_memory_probe("tinyelf", workload);
  for (const Workload& workload : {mixed(10'000), mixed(10'000'000)}) register_memory_probe("raw_asmjit", workload);
  return true;
}();

}  // namespace

}  // namespace bench
