// Small executables end to end: new Program -> emit -> link -> bytes, for exit42, hello and the loop program; and
// the same with one Program reused through reset(), which keeps the memory it allocated.
#include <benchmark/benchmark.h>

#include "cases.hpp"

namespace {

template <tinyelf::Image (*Build)(tinyelf::Program&)>
void fresh(benchmark::State& state) {
  std::size_t size = 0;
  for (auto _ : state) {
    tinyelf::Program program;
    const tinyelf::Image image = Build(program);
    benchmark::DoNotOptimize(image.bytes().data());
    size = image.size();
  }
  state.SetItemsProcessed(state.iterations());  // executables per second
  state.counters["file_bytes"] = static_cast<double>(size);
}

template <tinyelf::Image (*Build)(tinyelf::Program&)>
void reused(benchmark::State& state) {
  tinyelf::Program program;
  std::size_t size = 0;
  for (auto _ : state) {
    program.reset();
    const tinyelf::Image image = Build(program);
    benchmark::DoNotOptimize(image.bytes().data());
    size = image.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["file_bytes"] = static_cast<double>(size);
}

BENCHMARK(fresh<bench::tinyelf_exit42>)->Name("tinyelf/exit42/fresh");
BENCHMARK(reused<bench::tinyelf_exit42>)->Name("tinyelf/exit42/reset");
BENCHMARK(fresh<bench::tinyelf_hello>)->Name("tinyelf/hello/fresh");
BENCHMARK(reused<bench::tinyelf_hello>)->Name("tinyelf/hello/reset");
BENCHMARK(fresh<bench::tinyelf_loop>)->Name("tinyelf/loop/fresh");
BENCHMARK(reused<bench::tinyelf_loop>)->Name("tinyelf/loop/reset");
BENCHMARK(fresh<bench::tinyelf_exit42_unpacked>)->Name("tinyelf/exit42-unpacked/fresh");
BENCHMARK(reused<bench::tinyelf_exit42_unpacked>)->Name("tinyelf/exit42-unpacked/reset");
BENCHMARK(fresh<bench::tinyelf_hello_unpacked>)->Name("tinyelf/hello-unpacked/fresh");
BENCHMARK(reused<bench::tinyelf_hello_unpacked>)->Name("tinyelf/hello-unpacked/reset");
BENCHMARK(fresh<bench::tinyelf_loop_unpacked>)->Name("tinyelf/loop-unpacked/fresh");
BENCHMARK(reused<bench::tinyelf_loop_unpacked>)->Name("tinyelf/loop-unpacked/reset");
BENCHMARK(fresh<bench::tinyelf_libc_hello>)->Name("tinyelf/libc-hello/fresh");
BENCHMARK(fresh<bench::tinyelf_libc_hello_bss>)->Name("tinyelf/libc-hello-bss/fresh");
BENCHMARK(fresh<bench::tinyelf_libc_hello_bss_unpacked>)->Name("tinyelf/libc-hello-bss-unpacked/fresh");

}  // namespace
