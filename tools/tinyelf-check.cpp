// tinyelf-check FILE... — says, without running them, what execve will do with ELF files on
// x86-64 Linux, with one line per finding in the style of a compiler:
//
//   $ tinyelf-check a.out
//   a.out: refused: e_phentsize is 64, the kernel requires 56
//
// Exit status: 0 if no file has a finding above "tooling" (it runs), 1 if one is refused or
// crashes after exec, 2 if a file cannot be read or the command line is wrong.
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <tinyelf/check.hpp>

namespace {

constexpr int kExitRuns = 0;
constexpr int kExitFindings = 1;
constexpr int kExitUsage = 2;

void usage(std::FILE* out) {
  fmt::print(out,
             "usage: tinyelf-check [--mmap-min-addr=N] FILE...\n"
             "Predicts what execve does with each ELF file on x86-64 Linux and prints one line per finding:\n"
             "  FILE: refused: ...              execve fails\n"
             "  FILE: crashes after exec: ...   execve succeeds, then the kernel kills the process\n"
             "  FILE: tooling: ...              it runs, but readelf, file or gdb cannot read it\n"
             "--mmap-min-addr=N  vm.mmap_min_addr of the target machine (default 65536)\n"
             "Exit status: 0 nothing above tooling, 1 some file is refused or crashes, 2 unreadable file or bad usage.\n");
}

// Reads the whole file; a folder or a read error is reported, not taken for an empty file.
bool read_file(const std::string& path, std::vector<std::uint8_t>& bytes, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = std::strerror(errno);
    return false;
  }
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    error = "it is a folder";
    return false;
  }
  std::uint8_t buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), buffer, buffer + n);
  }
  ::close(fd);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  tinyelf::CheckOptions options;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      return kExitRuns;
    }
    if (arg.starts_with("--mmap-min-addr=")) {
      const std::string value(arg.substr(16));
      char* end = nullptr;
      errno = 0;
      options.mmap_min_addr = std::strtoull(value.c_str(), &end, 0);
      if (value.empty() || *end != '\0' || errno != 0) {
        fmt::print(stderr, "tinyelf-check: --mmap-min-addr needs a number, got \"{}\"\n", value);
        return kExitUsage;
      }
      continue;
    }
    if (arg.starts_with("-") && arg != "-") {
      fmt::print(stderr, "tinyelf-check: unknown option {}\n", arg);
      usage(stderr);
      return kExitUsage;
    }
    files.emplace_back(arg);
  }
  if (files.empty()) {
    usage(stderr);
    return kExitUsage;
  }

  int status = kExitRuns;
  for (const std::string& path : files) {
    std::vector<std::uint8_t> bytes;
    std::string error;
    if (!read_file(path, bytes, error)) {
      fmt::print(stderr, "{}: error: cannot read the file: {}\n", path, error);
      status = kExitUsage;
      continue;
    }
    for (const tinyelf::Finding& finding : tinyelf::check(bytes, options)) {
      fmt::print("{}: {}: {} [{}]\n", path, tinyelf::to_string(finding.severity), finding.message, finding.id);
      if (finding.severity != tinyelf::Severity::kTooling && status == kExitRuns) status = kExitFindings;
    }
  }
  return status;
}
