// Starting tools for the peers (process.hpp).
#include "process.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string_view>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

extern char** environ;

namespace bench {

namespace fs = std::filesystem;

Workspace::Workspace() {
  std::string pattern = (fs::temp_directory_path() / "tinyelf-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error(fmt::format("cannot create a temporary folder {}: {}", pattern, std::strerror(errno)));
  folder_ = pattern;
}

Workspace::~Workspace() {
  std::error_code ignored;
  fs::remove_all(folder_, ignored);
}

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error(fmt::format("cannot read {}", path));
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

namespace {

bool measuring = false;
std::size_t measured_peak = 0;

// GNU time's report: the peak in KiB on the last line (the lines before say why a tool failed).
std::size_t read_peak(const std::string& report) {
  std::ifstream file(report);
  std::string line, last;
  while (std::getline(file, line)) last = line;
  return static_cast<std::size_t>(std::strtoull(last.c_str(), nullptr, 10)) * 1024;
}

}  // namespace

void measure_tool_memory(bool on) {
  measuring = on;
  measured_peak = 0;
}

std::size_t tool_memory_peak() { return measured_peak; }

void spawn_and_wait(const std::vector<std::string>& tool_args, const std::string& log) {
  std::vector<std::string> args = tool_args;
  const std::string report = log + ".rss";
  if (measuring) args.insert(args.begin(), {TINYELF_BENCH_TIME, "--format=%M", "--output=" + report});
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int err = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  if (err != 0) throw std::runtime_error(fmt::format("cannot start {}: {}", args[0], std::strerror(err)));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error(fmt::format("waitpid for {} failed: {}", args[0], std::strerror(errno)));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::vector<std::uint8_t> message = read_file(log);
    throw std::runtime_error(fmt::format("{} failed (wait status {:#x}): {}", tool_args[0], status,
                                         std::string_view(reinterpret_cast<const char*>(message.data()), message.size())));
  }
  if (measuring) measured_peak = std::max(measured_peak, read_peak(report));
}

}  // namespace bench
