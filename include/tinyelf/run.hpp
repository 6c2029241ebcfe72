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
};

// Runs `image` from an anonymous sealed memory file (memfd_create + fexecve; no temporary file, no
// shell). argv is {"tinyelf", args...}, the environment is the caller's, `input` is fed on stdin.
// The program runs in its own process group, with every signal at its default action and none
// blocked. When it exits, the rest of its group gets SIGKILL (so a process it started cannot keep
// run() waiting on stdout), and run() returns once stdout and stderr are drained; on timeout the
// whole group gets SIGKILL.
// Throws Error(kExecRefused) naming errno when the kernel refuses the file, Error(kRunFailed)
// when a system call needed to run it fails.
//
//   tinyelf::RunResult r = tinyelf::run(program.link(), {}, "some input");
//   if (r.exit_code != 0) ...
RunResult run(const Image& image, const std::vector<std::string>& args = {}, std::string_view input = {},
              std::chrono::milliseconds timeout = std::chrono::seconds(10));

// The same for any file contents, e.g. an ELF file built or modified by hand.
RunResult run(std::span<const std::uint8_t> file, const std::vector<std::string>& args = {},
              std::string_view input = {}, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace tinyelf
