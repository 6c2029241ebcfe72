// The gcc + ld peers, -O0 and -O2: the C version of exit42, hello and loop (c_programs.hpp)
// compiled by gcc -c, then linked by ld -n -N --strip-all like the nasm + ld peer's object. The
// tools are started with posix_spawn (no shell) on files in a private temporary folder, and the
// result is read back into memory.
#include <fstream>
#include <string>

#include "c_programs.hpp"
#include "peers.hpp"
#include "process.hpp"

namespace bench {

namespace {

class GccLdBuilder final : public Builder {
 public:
  explicit GccLdBuilder(const char* optimization) : optimization_(optimization) {}

  std::vector<std::uint8_t> build(const Workload& workload) override {
    const std::string source = workspace_.path("program.c");
    const std::string object = workspace_.path("program.o");
    const std::string exe = workspace_.path("program");
    const std::string log = workspace_.path("stderr.log");
    std::ofstream(source) << c_program(workload);
    // -ffreestanding: no C library, so gcc must not assume one (no builtin memcpy calls).
    spawn_and_wait({TINYELF_BENCH_GCC, optimization_, "-ffreestanding", "-c", source, "-o", object}, log);
    spawn_and_wait({TINYELF_BENCH_LD, "-n", "-N", "--strip-all", object, "-o", exe}, log);
    return read_file(exe);
  }

 private:
  const char* optimization_;
  Workspace workspace_;
};

[[maybe_unused]] const bool registered_o0 = register_peer({
    .name = "gcc_O0",
    .make = [] { return std::unique_ptr<Builder>(new GccLdBuilder("-O0")); },
    .timed = kSmallWorkloads,
    .memory = kSmallWorkloads,
    .wall_clock = true,
});
[[maybe_unused]] const bool registered_o2 = register_peer({
    .name = "gcc_O2",
    .make = [] { return std::unique_ptr<Builder>(new GccLdBuilder("-O2")); },
    .timed = kSmallWorkloads,
    .memory = kSmallWorkloads,
    .wall_clock = true,
});

}  // namespace

}  // namespace bench
