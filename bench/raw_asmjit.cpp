// The raw AsmJit baseline for every tinyelf case, on the same instruction streams (generator.hpp).
#include <benchmark/benchmark.h>

#include "cases.hpp"
#include "large_sizes.hpp"

namespace {

template <std::vector<std::uint8_t> (*Build)(bench::RawAsmJit&)>
void fresh(benchmark::State& state) {
  for (auto _ : state) {
    bench::RawAsmJit raw;
    const std::vector<std::uint8_t> bytes = Build(raw);
    benchmark::DoNotOptimize(bytes.data());
  }
  state.SetItemsProcessed(state.iterations());
}

template <std::vector<std::uint8_t> (*Build)(bench::RawAsmJit&)>
void reused(benchmark::State& state) {
  bench::RawAsmJit raw;
  for (auto _ : state) {
    raw.reset();
    const std::vector<std::uint8_t> bytes = Build(raw);
    benchmark::DoNotOptimize(bytes.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void large(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  std::size_t size = 0;
  for (auto _ : state) {
    const std::vector<std::uint8_t> bytes = bench::raw_large(count);
    benchmark::DoNotOptimize(bytes.data());
    size = bytes.size();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(count));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
}

BENCHMARK(fresh<bench::raw_exit42>)->Name("raw_asmjit/exit42/fresh");
BENCHMARK(reused<bench::raw_exit42>)->Name("raw_asmjit/exit42/reset");
BENCHMARK(fresh<bench::raw_hello>)->Name("raw_asmjit/hello/fresh");
BENCHMARK(reused<bench::raw_hello>)->Name("raw_asmjit/hello/reset");
BENCHMARK(fresh<bench::raw_loop>)->Name("raw_asmjit/loop/fresh");
BENCHMARK(reused<bench::raw_loop>)->Name("raw_asmjit/loop/reset");
[[maybe_unused]] const bool registered = (bench::register_large("raw_asmjit/large", large), true);

}  // namespace
