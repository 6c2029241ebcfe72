// The registry of peers and their timed benchmarks (peers.hpp).
#include "peers.hpp"

#include <charconv>
#include <csignal>
#include <exception>
#include <utility>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <tinyelf/tinyelf.hpp>

#include "generator.hpp"
#include "memory.hpp"

namespace bench {

std::string Workload::name() const {
  switch (shape) {
    case Shape::kExit42: return "exit42";
    case Shape::kHello: return "hello";
    case Shape::kLoop: return "loop";
    case Shape::kMixed: break;
  }
  return fmt::format("large/{}", instructions);
}

std::optional<Workload> parse_workload(std::string_view name) {
  for (const Workload& small : kSmallWorkloads) {
    if (name == small.name()) return small;
  }
  std::size_t count = 0;
  constexpr std::string_view kLarge = "large/";
  if (!name.starts_with(kLarge)) return std::nullopt;
  name.remove_prefix(kLarge.size());
  const char* end = name.data() + name.size();
  if (name.empty() || std::from_chars(name.data(), end, count).ptr != end) return std::nullopt;
  return mixed(count);
}

std::string check_run(const Peer& peer, const Workload& workload, std::span<const std::uint8_t> file) {
  int exit_code = 0, term_signal = 0;
  std::string out;
  switch (workload.shape) {
    case Shape::kExit42: exit_code = 42; break;
    case Shape::kHello: out = kHelloMessage; break;
    case Shape::kLoop:
      for (int i = 0; i < kLoopTimes; ++i) out += kHelloMessage;
      break;
    case Shape::kMixed:
      if (!peer.mixed_runs) {
        exit_code = -1;  // RunResult's exit_code when a signal killed the program
        term_signal = SIGSEGV;
      }
      break;
  }
  try {
    const tinyelf::RunResult result = tinyelf::run(file);
    if (result.exit_code == exit_code && result.term_signal == term_signal && result.out == out) return {};
    return fmt::format("{} {}: exit status {} signal {} stdout \"{}\", expected exit status {} signal {} stdout \"{}\"",
                       peer.name, workload.name(), result.exit_code, result.term_signal, result.out, exit_code,
                       term_signal, out);
  } catch (const std::exception& error) {
    return fmt::format("{} {}: cannot run the executable: {}", peer.name, workload.name(), error.what());
  }
}

namespace {

std::vector<Peer>& registry() {
  static std::vector<Peer> all;
  return all;
}

void timed(benchmark::State& state, const Peer& peer, const Workload& workload) {
  std::size_t size = 0;
  try {
    const std::unique_ptr<Builder> builder = peer.make();
    const std::vector<std::uint8_t> first = builder->build(workload);
    if (const std::string failure = check_run(peer, workload, first); !failure.empty()) {
      state.SkipWithError(failure.c_str());
      return;
    }
    for (auto _ : state) {
      const std::vector<std::uint8_t> bytes = builder->build(workload);
      benchmark::DoNotOptimize(bytes.data());
      size = bytes.size();
    }
  } catch (const std::exception& error) {
    state.SkipWithError(error.what());
    return;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(workload.instructions));
  state.counters["file_bytes"] = static_cast<double>(size);
  state.counters["instructions"] = static_cast<double>(workload.instructions);
}

}  // namespace

bool register_peer(Peer peer) {
  std::vector<Peer>& all = registry();
  all.push_back(std::move(peer));
  const std::size_t index = all.size() - 1;
  for (const Workload& workload : all[index].timed) {
    // The registry only grows during static initialization, before any benchmark runs: look the
    // peer up by index, since push_back may move the vector's elements.
    auto* benchmark = benchmark::RegisterBenchmark(
        fmt::format("{}/{}", all[index].name, workload.name()).c_str(),
        [index, workload](benchmark::State& state) { timed(state, registry()[index], workload); });
    benchmark->Unit(workload.shape == Shape::kMixed ? benchmark::kMillisecond : benchmark::kMicrosecond);
    if (all[index].wall_clock) benchmark->UseRealTime();
  }
  for (const Workload& workload : all[index].memory) register_memory_probe(all[index].name, workload);
  return true;
}

const Peer* find_peer(std::string_view name) {
  for (const Peer& peer : registry()) {
    if (peer.name == name) return &peer;
  }
  return nullptr;
}

const std::vector<Peer>& peers() { return registry(); }

}  // namespace bench
