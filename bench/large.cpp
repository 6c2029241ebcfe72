// Large programs: 10^4 to 10^7 mixed instructions (generator.hpp), new Program -> emit -> link.
// Reported as instructions per second (items) and output bytes per second (bytes).
#include <benchmark/benchmark.h>

#include <cstring>

#include "cases.hpp"
#include "generator.hpp"
#include "large_sizes.hpp"

namespace {

// Both emitters must have encoded the same instructions, or the ratio compares different work.
bool same_stream_as_raw(std::size_t count) {
  tinyelf::Program program;
  bench::StreamData data;
  data.table = program.rodata(bench::kTable.data(), bench::kTable.size(), 8);
  data.cells = program.data(bench::kCells.data(), bench::kCells.size(), 8);
  bench::emit_mixed(program.text(), data, count);
  bench::RawAsmJit raw;
  data.table = raw.rodata(bench::kTable.data(), bench::kTable.size());
  data.cells = raw.data(bench::kCells.data(), bench::kCells.size());
  bench::emit_mixed(raw.text(), data, count);
  // Compared before linking, while cross-section displacements are still unresolved in both.
  const asmjit::CodeBuffer& ours = program.code().textSection()->buffer();
  const asmjit::CodeBuffer& theirs = raw.code().textSection()->buffer();
  return ours.size() == theirs.size() && std::memcmp(ours.data(), theirs.data(), ours.size()) == 0;
}

void large(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  if (count <= 100'000 && !same_stream_as_raw(count)) {
    state.SkipWithError("tinyelf and raw AsmJit emitted different instructions");
    return;
  }
  std::size_t size = 0;
  for (auto _ : state) {
    const tinyelf::Image image = bench::tinyelf_large(count);
    benchmark::DoNotOptimize(image.bytes().data());
    size = image.size();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(count));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
  state.counters["file_bytes"] = static_cast<double>(size);
}

// Packing must not slow the common path: a program too big to pack links as fast in the compact
// layout, and with packing on, as with pack = false.
template <tinyelf::Layout kLayout, bool kPack>
void large_layout(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    const tinyelf::Image image = bench::tinyelf_large(count, {.layout = kLayout, .pack = kPack});
    benchmark::DoNotOptimize(image.bytes().data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(count));
}

// Each thread builds its own Program: nothing in the library is shared between Programs, so two
// threads should emit about twice as much per second as one on two free cores.
void large_threads(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    const tinyelf::Image image = bench::tinyelf_large(count);
    benchmark::DoNotOptimize(image.bytes().data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(count));
}

[[maybe_unused]] const bool registered = (bench::register_large("tinyelf/large", large), true);
BENCHMARK(large_layout<tinyelf::Layout::kCompact, true>)
    ->Name("tinyelf/large-compact")
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(large_layout<tinyelf::Layout::kConformant, false>)
    ->Name("tinyelf/large-unpacked")
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(large_threads)
    ->Name("tinyelf/large_threads")
    ->Arg(100'000)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
