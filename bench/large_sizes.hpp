// The program sizes of the large-program cases, registered the same way for every emitter.
#pragma once

#include <benchmark/benchmark.h>

namespace bench {

// Registers `name`/N for N = 10^4, 10^5, 10^6 and 10^7 instructions. 10^7 takes about half a
// second per build, so it runs once per repetition instead of for --benchmark_min_time.
inline void register_large(const char* name, void (*function)(benchmark::State&)) {
  benchmark::RegisterBenchmark(name, function)
      ->Arg(10'000)
      ->Arg(100'000)
      ->Arg(1'000'000)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(name, function)->Arg(10'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);
}

}  // namespace bench
