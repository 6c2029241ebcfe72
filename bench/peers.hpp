// The peers: other ways of making an executable from C++, on the same programs as tinyelf
// (peer_*.cpp, nasm_ld.cpp). Each registers a Builder; the registry turns it into one timed
// benchmark per workload (NAME/exit42, NAME/hello, NAME/loop, NAME/large/N) and one memory probe
// per workload (memory/NAME/..., memory.cpp). Every timed benchmark first runs the file it built
// once, to prove that it works.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

// The programs every peer builds: the three small ones of generator.hpp, and the mixed stream of
// mixed_stream.hpp with `instructions` instructions.
enum class Shape { kExit42, kHello, kLoop, kMixed };

struct Workload {
  Shape shape;
  std::size_t instructions;

  // "exit42", "hello", "loop", or "large/N": the benchmark name after the peer's.
  std::string name() const;
};

inline constexpr Workload kExit42{Shape::kExit42, 5};
inline constexpr Workload kHello{Shape::kHello, 11};
inline constexpr Workload kLoop{Shape::kLoop, 12};
inline constexpr Workload mixed(std::size_t instructions) { return {Shape::kMixed, instructions}; }
// What the peers build: the small programs, and with them 10^4 to 10^6 mixed instructions.
inline const std::vector<Workload> kSmallWorkloads = {kExit42, kHello, kLoop};
inline const std::vector<Workload> kAllWorkloads = {kExit42,        kHello,          kLoop,
                                                    mixed(10'000), mixed(100'000), mixed(1'000'000)};

// The inverse of Workload::name(); nullopt for anything else.
std::optional<Workload> parse_workload(std::string_view name);

// One peer's way of making an executable. Constructed outside the timed loop (starting LLVM's
// target machinery, creating a temporary folder): what one executable costs is build().
class Builder {
 public:
  virtual ~Builder() = default;
  // The bytes of the executable file. Throws std::runtime_error naming what failed.
  virtual std::vector<std::uint8_t> build(const Workload& workload) = 0;
};

struct Peer {
  std::string name;  // the benchmark family: xbyak/exit42, xbyak/large/100000
  std::function<std::unique_ptr<Builder>()> make;
  std::vector<Workload> timed;   // the workloads timed (none for tinyelf, timed in small.cpp and large.cpp)
  std::vector<Workload> memory;  // the workloads whose peak memory is probed
  // What running the mixed stream shows: a C program of its shape (libtcc) runs to exit(0); the
  // instruction stream itself is meant to be emitted, not run, and dies of SIGSEGV at its first
  // load (through rbx, which is 0 at entry), which proves that the kernel loaded it and started it.
  bool mixed_runs = false;
  // Starts processes or writes files: timed by the wall clock instead of the thread's CPU time.
  bool wall_clock = false;
};

// Registers `peer`'s benchmarks; returns true, so that a static initializer can call it.
bool register_peer(Peer peer);
// The registered peer named `name`, or nullptr.
const Peer* find_peer(std::string_view name);
// All registered peers, in registration order.
const std::vector<Peer>& peers();

// Runs `file` once (tinyelf::run) and returns what is wrong with what it did, or "" if it did what
// `workload` should: exit42 exits with 42, hello writes the message, loop writes it three times.
std::string check_run(const Peer& peer, const Workload& workload, std::span<const std::uint8_t> file);

}  // namespace bench
