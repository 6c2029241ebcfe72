// The peer: the nasm + ld pipeline (nasm -f elf64, then ld -n -N --strip-all), building the same
// exit42 and hello from assembly source, per executable. Both tools are started with posix_spawnp
// (no shell) on files in a private temporary folder, and the result is read back into memory, so
// the work ends where tinyelf's does: the bytes of the executable.
#include <benchmark/benchmark.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

extern char** environ;

namespace {

namespace fs = std::filesystem;

// The same instructions as generator.hpp's emit_exit42 and emit_hello.
constexpr const char* kExit42Source = R"(bits 64
global _start
section .text
_start:
  push 42
  pop rdi
  push 60
  pop rax
  syscall
)";

constexpr const char* kHelloSource = R"(bits 64
global _start
section .rodata
message: db "Hello, world!", 10
section .text
_start:
  push 1
  pop rax
  mov edi, eax
  lea rsi, [rel message]
  push 14
  pop rdx
  syscall
  push 60
  pop rax
  xor edi, edi
  syscall
)";

bool in_path(const std::string& tool) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::string_view rest = path;
  while (!rest.empty()) {
    const std::size_t colon = rest.find(':');
    const fs::path folder = std::string(rest.substr(0, colon));
    if (::access((folder / tool).c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return false;
}

// Runs argv with posix_spawnp and waits; empty on success, else what went wrong. The tool's
// stderr goes to `log` (ld warns about the RWX segment that -N asks for) and is quoted on failure.
std::string spawn_and_wait(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int err = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return fmt::format("cannot start {}: {}", args[0], std::strerror(err));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return fmt::format("waitpid for {} failed: {}", args[0], std::strerror(errno));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::ifstream file(log);
    const std::string message((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    return fmt::format("{} failed (wait status {:#x}): {}", args[0], status, message);
  }
  return {};
}

// A temporary folder for the source, object and executable, removed when the benchmark ends.
// `folder` stays empty if it could not be created.
struct Workspace {
  fs::path folder;
  Workspace() {
    std::string pattern = (fs::temp_directory_path() / "tinyelf-bench-nasm-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) folder = pattern;
  }
  ~Workspace() {
    std::error_code ignored;
    if (!folder.empty()) fs::remove_all(folder, ignored);
  }
};

void nasm_ld(benchmark::State& state, const char* source) {
  if (!in_path("nasm") || !in_path("ld")) {
    state.SkipWithError("n/a — nasm or ld not installed");
    return;
  }
  const Workspace workspace;
  if (workspace.folder.empty()) {
    state.SkipWithError("cannot create a temporary folder");
    return;
  }
  const std::string asm_path = (workspace.folder / "program.asm").string();
  const std::string object_path = (workspace.folder / "program.o").string();
  const std::string exe_path = (workspace.folder / "program").string();
  const std::string log_path = (workspace.folder / "stderr.log").string();
  std::ofstream(asm_path) << source;
  std::size_t size = 0;
  for (auto _ : state) {
    std::string failure = spawn_and_wait({"nasm", "-f", "elf64", asm_path, "-o", object_path}, log_path);
    if (failure.empty())
      failure = spawn_and_wait({"ld", "-n", "-N", "--strip-all", object_path, "-o", exe_path}, log_path);
    if (!failure.empty()) {
      state.SkipWithError(failure.c_str());
      break;
    }
    std::ifstream file(exe_path, std::ios::binary);
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    benchmark::DoNotOptimize(bytes.data());
    size = bytes.size();
  }
  if (size == 0 && !state.error_occurred()) {
    state.SkipWithError("ld reported success but wrote no executable");
    return;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["file_bytes"] = static_cast<double>(size);
}

// The time is spent in child processes, so only wall-clock time means anything here.
BENCHMARK_CAPTURE(nasm_ld, exit42, kExit42Source)
    ->Name("nasm_ld/exit42")->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(nasm_ld, hello, kHelloSource)
    ->Name("nasm_ld/hello")->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
