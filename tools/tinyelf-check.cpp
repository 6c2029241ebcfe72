// tinyelf-check FILE... — says, without running them, what execve will do with ELF files on
// x86-64 Linux, with one line per finding in the style of a compiler:
//
//   $ tinyelf-check a.out
//   tinyelf-check: assuming vm.mmap_min_addr 65536 (this machine), ...
//   a.out: refused: e_phentsize is 64, the kernel requires 56 [bad-phentsize]
//
// Findings go to stdout, one per line, "FILE: SEVERITY: MESSAGE [ID]"; the machine facts it
// judged with go to stderr, one line first, so stdout stays parseable. The facts are the running
// machine's unless options say otherwise.
//
// Exit status: 0 if no file is refused or crashes after exec (hardening, tooling and "depends on
// the code" findings do not count), 1 if one is, 2 if a file cannot be read or the command line is
// wrong.
#include <cerrno>
#include <cstdint>
#include <cstdlib>
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
             "usage: tinyelf-check [--mmap-min-addr N] [--pku|--no-pku] [--mdwe|--no-mdwe] FILE...\n"
             "Predicts what execve does with each ELF file on x86-64 Linux and prints one line per finding:\n"
             "  FILE: refused: ...              execve fails\n"
             "  FILE: crashes after exec: ...   execve succeeds, then the kernel kills the process\n"
             "  FILE: depends on the code: ...  it starts, but breaks if its code reads an execute-only segment\n"
             "  FILE: tooling: ...              it runs, but readelf, file or gdb cannot read it\n"
             "  FILE: hardening: ...            it runs, but hardened systems refuse it (writable code)\n"
             "The machine facts it assumes are printed to stderr first. Each defaults to this machine's:\n"
             "  --mmap-min-addr N   vm.mmap_min_addr (default: /proc/sys/vm/mmap_min_addr)\n"
             "  --pku, --no-pku     the CPU has protection keys: PF_X alone is execute-only (default: pku and\n"
             "                      ospke in /proc/cpuinfo)\n"
             "  --mdwe, --no-mdwe   the program runs under PR_SET_MDWE (systemd's MemoryDenyWriteExecute=yes):\n"
             "                      a writable and executable segment is killed (default: this process's)\n"
             "Exit status: 0 nothing is refused or crashes, 1 some file is refused or crashes, 2 unreadable file or\n"
             "bad usage.\n");
}

// Where a fact came from, for the line of facts.
struct Source {
  std::string_view option;  // the option that set it, or empty for the machine's own
  std::string_view text() const { return option.empty() ? "this machine" : option; }
};

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
  tinyelf::CheckOptions options = tinyelf::CheckOptions::host();
  Source mmap_min_addr, protection_keys, deny_write_execute;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      return kExitRuns;
    }
    if (arg == "--mmap-min-addr" || arg.starts_with("--mmap-min-addr=")) {
      std::string value;
      if (arg != "--mmap-min-addr") value = std::string(arg.substr(16));
      else if (i + 1 < argc) value = argv[++i];
      char* end = nullptr;
      errno = 0;
      options.mmap_min_addr = std::strtoull(value.c_str(), &end, 0);
      if (value.empty() || value[0] == '-' || *end != '\0' || errno != 0) {
        fmt::print(stderr, "tinyelf-check: --mmap-min-addr needs a number, got \"{}\"\n", value);
        return kExitUsage;
      }
      mmap_min_addr.option = "--mmap-min-addr";
      continue;
    }
    if (arg == "--pku" || arg == "--no-pku") {
      options.protection_keys = arg == "--pku";
      protection_keys.option = arg;
      continue;
    }
    if (arg == "--mdwe" || arg == "--no-mdwe") {
      options.deny_write_execute = arg == "--mdwe";
      deny_write_execute.option = arg;
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

  fmt::print(stderr,
             "tinyelf-check: assuming vm.mmap_min_addr {} ({}), protection keys {} ({}), PR_SET_MDWE {} ({}), "
             "commit limit {} (this machine)\n",
             options.mmap_min_addr, mmap_min_addr.text(), options.protection_keys ? "yes" : "no",
             protection_keys.text(), options.deny_write_execute ? "yes" : "no", deny_write_execute.text(),
             options.commit_limit == UINT64_MAX ? std::string("none") : std::to_string(options.commit_limit));
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
      if (finding.severity >= tinyelf::Severity::kCrashesAfterExec && status == kExitRuns) status = kExitFindings;
    }
  }
  return status;
}
