// What the peers that start tools (nasm, ld, gcc, ld.lld) share: a private temporary folder, and
// starting a tool with posix_spawnp (no shell) and waiting for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace bench {

// A temporary folder for sources, objects and executables, removed with everything in it on
// destruction. Throws std::runtime_error if it cannot be created.
class Workspace {
 public:
  Workspace();
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  // A path in the folder.
  std::string path(const char* name) const { return (folder_ / name).string(); }

 private:
  std::filesystem::path folder_;
};

// Runs argv (argv[0] a path; bench/CMakeLists.txt finds the tools) and waits for it; throws std::runtime_error quoting the
// tool's stderr, which goes to `log` (ld warns about the RWX segment that -N asks for), unless it
// exits with status 0.
void spawn_and_wait(const std::vector<std::string>& args, const std::string& log);

// The memory probe (memory.hpp) measures the tools too: while this is on, spawn_and_wait starts
// each tool under GNU time, which reports the tool's own peak resident memory. (ru_maxrss of a
// child started directly would include the caller's high-water mark: at exec the kernel carries
// the old address space's peak over, fs/exec.c exec_mmap() calls setmax_mm_hiwater_rss; GNU time
// forks from its own small address space.) Returns the largest peak, in bytes, since it was turned on.
void measure_tool_memory(bool on);
std::size_t tool_memory_peak();

// The whole contents of a file. Throws std::runtime_error if it cannot be read.
std::vector<std::uint8_t> read_file(const std::string& path);

}  // namespace bench
