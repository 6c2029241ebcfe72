// The libtcc peer (Debian's libtcc-dev, TinyCC 0.9.27): the C version of each program
// (c_programs.hpp) compiled in memory and written as an executable with tcc_output_file, then read
// back, so the work ends where tinyelf's does: the bytes of the executable. -nostdlib: the
// programs need no C library, and Debian's libtcc-dev ships no libtcc1.a or crt files.
#include <libtcc.h>

#include <stdexcept>
#include <string>

#include "c_programs.hpp"
#include "peers.hpp"
#include "process.hpp"

namespace bench {

namespace {

class TccBuilder final : public Builder {
 public:
  std::vector<std::uint8_t> build(const Workload& workload) override {
    const std::string source = c_program(workload);
    const std::string exe = workspace_.path("program");
    std::string errors;
    TCCState* state = tcc_new();
    if (state == nullptr) throw std::runtime_error("tcc_new failed");
    tcc_set_error_func(state, &errors, [](void* opaque, const char* message) {
      *static_cast<std::string*>(opaque) += std::string(message) + "\n";
    });
    tcc_set_options(state, "-nostdlib");
    const bool built = tcc_set_output_type(state, TCC_OUTPUT_EXE) == 0 && tcc_compile_string(state, source.c_str()) == 0 &&
                       tcc_output_file(state, exe.c_str()) == 0;
    tcc_delete(state);
    if (!built) throw std::runtime_error("libtcc: " + errors);
    return read_file(exe);
  }

 private:
  Workspace workspace_;
};

[[maybe_unused]] const bool registered = register_peer({
    .name = "tcc",
    .make = [] { return std::unique_ptr<Builder>(new TccBuilder); },
    .timed = kAllWorkloads,
    .memory = kAllWorkloads,
    .mixed_runs = true,
    .wall_clock = true,
});

}  // namespace

}  // namespace bench
