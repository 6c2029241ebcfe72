// tinyelf::run — execute an image straight from memory and capture what it does.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tinyelf/image.hpp>

namespace tinyelf {

struct RunResult {
  int exit_code = -1;      // the status passed to exit(), or -1 if killed by a signal
  int term_signal = 0;     // the signal that killed the program, 0 if it exited
  std::string out;         // everything written to stdout
  std::string err;         // everything written to stderr
  bool timed_out = false;  // true if the timeout expired and the program was killed (SIGKILL)
  bool output_limited = false;  // true if it printed RunOptions::max_output bytes and was killed (SIGKILL)
};

// How run() runs a file. Designated initializers name what differs from the defaults:
//   tinyelf::run(image, {.args = {"-v"}, .input = "some input", .deny_write_execute = true});
struct RunOptions {
  // Every member has an initializer, so that designated initializers may leave any out (GCC's
  // -Wmissing-field-initializers warns about those that have none).
  std::vector<std::string> args = {};  // argv is {"tinyelf", args...}
  std::string_view input = {};         // fed on stdin, then end of file; read during run() only
  std::chrono::milliseconds timeout = std::chrono::seconds(10);  // then the process group gets SIGKILL
  // Once stdout holds at least this many bytes, the process group gets SIGKILL: a program that
  // prints forever is stopped as soon as it printed what the caller wants to see. `out` keeps
  // every byte read, which may be more. 0: no limit.
  std::size_t max_output = 0;

  // Runs the program the way systemd's MemoryDenyWriteExecute=yes does: the child calls
  // prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN) before execve. The kernel then refuses every
  // mapping that is writable and executable, and every mapping that becomes executable later
  // (map_deny_write_exec(), include/linux/mman.h), for the program and everything it starts: the
  // flag survives execve and fork and cannot be cleared. A file with an R|W|X segment that has
  // file bytes (LinkOptions::single_segment, Layout::kCompact with data) is then killed with
  // SIGSEGV during execve; link()'s default output runs. Needs Linux 6.3 or later, else run() throws Error(kRunFailed). The child is started
  // with fork instead of vfork (which costs copying the caller's page tables), because the flag
  // belongs to the address space and a vfork child shares the caller's.
  bool deny_write_execute = false;
};

// Runs `image` from an anonymous sealed memory file (memfd_create + fexecve; no temporary file, no
// shell). argv is {"tinyelf", options.args...}, the environment is the caller's, options.input is
// fed on stdin. The program runs in its own process group, with every signal at its default action
// and none blocked. When it exits, the rest of its group gets SIGKILL (so a process it started
// cannot keep run() waiting on stdout), and run() returns once stdout and stderr are drained; on
// timeout the whole group gets SIGKILL.
// Throws Error(kExecRefused) naming errno when the kernel refuses the file, Error(kRunFailed)
// when a system call needed to run it fails.
//
//   tinyelf::RunResult r = tinyelf::run(program.link(), {.input = "some input"});
//   if (r.exit_code != 0) ...
RunResult run(const Image& image, const RunOptions& options);

// The same for any file contents, e.g. an ELF file built or modified by hand, or a script: a file
// that starts with "#!" runs its interpreter as execve would, with argv {interpreter, [its
// argument,] "/dev/fd/N", options.args...}. The interpreter opens the script through that path, so
// for a script (only) the memory file stays open across execve: the interpreter and what it starts
// inherit descriptor N, read-only in effect (the file is sealed).
RunResult run(std::span<const std::uint8_t> file, const RunOptions& options);

// run(image, {.args = args, .input = input, .timeout = timeout}), as written before RunOptions.
// These two are templates only so that overload resolution prefers the RunOptions overloads for a
// braced second argument: run(image, {}) and, with GCC 12, run(image, {.input = "x"}) would
// otherwise be ambiguous.
template <typename = void>
RunResult run(const Image& image, const std::vector<std::string>& args = {}, std::string_view input = {},
              std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  return run(image, RunOptions{args, input, timeout});
}

template <typename = void>
RunResult run(std::span<const std::uint8_t> file, const std::vector<std::string>& args = {},
              std::string_view input = {}, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  return run(file, RunOptions{args, input, timeout});
}

}  // namespace tinyelf
