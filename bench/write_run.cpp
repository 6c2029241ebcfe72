// Where the time goes after link(): writing an executable to disk (Image::write: temporary file,
// fsync, rename) and running it from memory (tinyelf::run: memfd_create, vfork, fexecve, wait).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <sys/vfs.h>

#include <fmt/format.h>

#include "cases.hpp"
#include "generator.hpp"

namespace {

namespace fs = std::filesystem;

tinyelf::Image exit42() {
  tinyelf::Program program;
  return bench::tinyelf_exit42(program);
}

tinyelf::Image hello() {
  tinyelf::Program program;
  return bench::tinyelf_hello(program);
}

// fsync costs depend on the file system: name it in the result.
std::string file_system_name(const fs::path& folder) {
  struct statfs info {};
  if (::statfs(folder.c_str(), &info) != 0) return "unknown file system";
  switch (static_cast<unsigned long>(info.f_type)) {  // magic numbers from <linux/magic.h>
    case 0x01021994: return "tmpfs";
    case 0xEF53: return "ext4";
    case 0x9123683E: return "btrfs";
    case 0x58465342: return "xfs";
    case 0x794C7630: return "overlayfs";
    default: return fmt::format("file system {:#x}", static_cast<unsigned long>(info.f_type));
  }
}

void write(benchmark::State& state, tinyelf::Durability durability) {
  std::string pattern = (fs::temp_directory_path() / "tinyelf-bench-write-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  const fs::path folder = pattern;
  const tinyelf::Image image = exit42();
  for (auto _ : state) image.write(folder / "exit42", durability);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(file_system_name(folder));
  std::error_code ignored;
  fs::remove_all(folder, ignored);
}

void run(benchmark::State& state, tinyelf::Image (*build)(), int exit_code, std::string_view out) {
  const tinyelf::Image image = build();
  for (auto _ : state) {
    const tinyelf::RunResult result = tinyelf::run(image);
    if (result.exit_code != exit_code || result.out != out) {
      state.SkipWithError("the program did not exit with the expected status and output");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// run() from a caller that holds 256 MiB: starting the child must not copy the caller's memory map.
void run_from_big_caller(benchmark::State& state) {
  std::vector<char> held(std::size_t{256} << 20);
  std::memset(held.data(), 1, held.size());  // touched, so the pages are really mapped
  run(state, exit42, 42, "");
  benchmark::DoNotOptimize(held.data());
}

// Both spend their time in the kernel or a child process: measure wall-clock time.
BENCHMARK_CAPTURE(write, synced, tinyelf::Durability::kSynced)
    ->Name("tinyelf/write/exit42")->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(write, unsynced, tinyelf::Durability::kUnsynced)
    ->Name("tinyelf/write/exit42-unsynced")->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(run, exit42, exit42, 42, "")
    ->Name("tinyelf/run/exit42")->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(run, hello, hello, 0, bench::kHelloMessage)
    ->Name("tinyelf/run/hello")->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(run_from_big_caller)->Name("tinyelf/run/exit42-256MiB-caller")->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
