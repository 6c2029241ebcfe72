// The encoder baseline among the peers: raw AsmJit (raw_asmjit.hpp) on the same programs, made
// into an executable by the minimal ELF writer that the Xbyak and Zydis peers use too, so that
// between these three only the encoder differs.
#include "cases.hpp"
#include "minimal_elf.hpp"
#include "peers.hpp"

namespace bench {

namespace {

class AsmJitBuilder final : public Builder {
 public:
  std::vector<std::uint8_t> build(const Workload& workload) override {
    // Every reference in the programs is RIP-relative, so the code does not depend on the base
    // raw_*() relocate to: the image runs at kMinimalImageAddress as it is.
    std::vector<std::uint8_t> image;
    if (workload.shape == Shape::kMixed) {
      image = raw_large(workload.instructions);
    } else {
      RawAsmJit raw;
      image = workload.shape == Shape::kExit42 ? raw_exit42(raw)
              : workload.shape == Shape::kHello ? raw_hello(raw)
                                                : raw_loop(raw);
    }
    return minimal_elf(image, 0);  // the text section comes first
  }
};

[[maybe_unused]] const bool registered = register_peer({
    .name = "asmjit",
    .make = [] { return std::unique_ptr<Builder>(new AsmJitBuilder); },
    .timed = kAllWorkloads,
    .memory = kAllWorkloads,
});

}  // namespace

}  // namespace bench
