// Helpers shared by the tests: run external tools without a shell, check files with the real ELF
// tools, parse headers back with the system's <elf.h> (an independent definition of the format).
#pragma once

#include <elf.h>
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tinyelf/tinyelf.hpp>

namespace test {

struct Process {
  int exit_code = -1;    // -1 when killed by a signal
  int term_signal = 0;
  std::string out;
  std::string err;
};

// Starts argv[0] (looked up in PATH) with posix_spawnp, no shell; stdout and stderr captured.
Process spawn(const std::vector<std::string>& argv);

// gdb -nx -batch on `file`, running `commands` (-ex) in order; `run` starts the program with
// execve, not through a shell (startup-with-shell off).
Process gdb_batch(const std::filesystem::path& file, const std::vector<std::string>& commands);

// perf record of `file` (run with execve), then perf report --stdio --sort symbol: the report, or
// nothing when this machine refuses perf_event_open, which the first such call says with WARN.
std::optional<Process> perf_report(const std::filesystem::path& file);

// True if `program` is found in PATH.
bool have_tool(const std::string& program);

// The process umask (read without changing it, from /proc/self/status).
unsigned current_umask();

// A fresh folder for this test process, removed when the process exits.
std::filesystem::path scratch_folder();

// Writes the image to a scratch file and asserts that eu-elflint --strict, readelf -W -a and file
// all accept it as an x86-64 executable.
void check_with_elf_tools(const tinyelf::Image& image, const std::string& name);

// exit(status): mov edi, status; mov eax, 60; syscall, linked with the default options.
tinyelf::Image exit_program(int status);

// cat: copies stdin to stdout through a bss buffer of `buffer_size` bytes, resuming short
// writes, until read() returns 0 or an error; then exit(0).
void emit_cat(tinyelf::Program& program, std::uint32_t buffer_size);

// emit_cat with a `buffer_size`-byte buffer, linked with the default options.
tinyelf::Image cat_program(std::uint32_t buffer_size);

// kill(getpid(), signal), then exit(0): the program survives only if the signal is ignored,
// blocked or handled.
tinyelf::Image self_kill_program(int signal);

// This process's PR_SET_MDWE flags, or nothing on a kernel before 6.3 (prctl() fails with EINVAL).
std::optional<int> mdwe_flags();

// RunOptions that run the program as a hardened service would, under PR_SET_MDWE, where the kernel
// has it; on an older kernel the first call says so with WARN and the program runs without it.
tinyelf::RunOptions hardened(tinyelf::RunOptions options = {});

// Asserts that no PT_LOAD of `file` is both writable and executable (W^X).
void check_no_writable_executable_segment(std::span<const std::uint8_t> file);

// Root ignores vm.mmap_min_addr (CAP_SYS_RAWIO), so tests run executables as nobody when they run as
// root.
inline constexpr uid_t kNobody = 65534;

// Whether `part` occurs in `text`.
bool contains(std::string_view text, std::string_view part);

// A file's whole contents, and an image's bytes, as strings to compare.
std::string read_file(const std::filesystem::path& path);
std::string as_string(const tinyelf::Image& image);

struct Headers {
  Elf64_Ehdr ehdr;
  Elf64_Phdr phdr;                // the first
  std::vector<Elf64_Phdr> phdrs;  // all e_phnum of them
};

// The ELF header and the program headers, copied out of the file bytes.
Headers read_headers(std::span<const std::uint8_t> file);

}  // namespace test
