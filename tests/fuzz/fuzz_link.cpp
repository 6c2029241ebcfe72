// libFuzzer target: random programs built through the public API (instructions, labels, rodata,
// data, bss, entry, link options). link() must either throw tinyelf::Error or produce a file that
// check() says runs: no finding above "tooling", and none at all for the conformant layout. Any
// other exception, a crash, a leak or undefined behaviour is a bug.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include <tinyelf/tinyelf.hpp>

namespace {

namespace x86 = asmjit::x86;

void require(bool condition) {
  if (!condition) std::abort();
}

x86::Gp any_register(FuzzedDataProvider& in) {
  return x86::gpq(in.ConsumeIntegralInRange<unsigned>(0, 15));
}

std::size_t any_alignment(FuzzedDataProvider& in) {
  // Mostly valid powers of two, sometimes anything (0, 3, 8192, ...): link() must reject those.
  if (in.ConsumeBool()) return std::size_t{1} << in.ConsumeIntegralInRange(0, 12);
  return in.ConsumeIntegralInRange<std::size_t>(0, 10000);
}

tinyelf::LinkOptions any_options(FuzzedDataProvider& in) {
  tinyelf::LinkOptions options;
  if (in.ConsumeBool()) options.layout = tinyelf::Layout::kCompact;
  switch (in.ConsumeIntegralInRange(0, 4)) {
    case 0: break;  // the default base address
    case 1: options.base_address = in.ConsumeIntegralInRange<std::uint64_t>(0x10, 0x7fffffff) * 0x1000; break;
    case 2: options.base_address = in.ConsumeIntegral<std::uint64_t>(); break;
    case 3: options.base_address = 0x7ffffffff000 - in.ConsumeIntegralInRange<std::uint64_t>(0, 16) * 0x1000; break;
    case 4: options.base_address = in.ConsumeIntegralInRange<std::uint64_t>(0, 0x20) * 0x1000; break;
  }
  if (in.ConsumeBool()) options.max_file_size = in.ConsumeIntegralInRange<std::size_t>(0, 1 << 16);
  options.single_segment = in.ConsumeBool();
  options.position_independent = in.ConsumeIntegralInRange(0, 3) == 0;
  return options;
}

void build(FuzzedDataProvider& in, tinyelf::Program& program) {
  x86::Assembler& a = program.text();
  std::vector<asmjit::Label> labels;
  auto any_label = [&]() -> asmjit::Label {
    if (labels.empty() || in.ConsumeIntegralInRange(0, 7) == 0) labels.push_back(a.newLabel());
    return labels[in.ConsumeIntegralInRange<std::size_t>(0, labels.size() - 1)];
  };
  const int steps = in.ConsumeIntegralInRange(0, 48);
  for (int step = 0; step < steps && in.remaining_bytes() > 0; ++step) {
    switch (in.ConsumeIntegralInRange(0, 15)) {
      case 0: a.mov(any_register(in), in.ConsumeIntegral<std::int64_t>()); break;
      case 1: a.add(any_register(in), any_register(in)); break;
      case 2: a.bind(any_label()); break;  // binding a label twice is an AsmJit error: Error expected
      case 3: a.jmp(any_label()); break;
      case 4: a.call(any_label()); break;
      case 5: a.lea(any_register(in), x86::ptr(any_label())); break;
      case 6: a.jnz(any_label()); break;
      case 7: a.push(any_register(in)); a.pop(any_register(in)); break;
      case 8: a.syscall(); break;
      case 9: a.ret(); break;
      case 10: {
        const std::string bytes = in.ConsumeRandomLengthString(512);
        labels.push_back(program.rodata(bytes, any_alignment(in)));
        break;
      }
      case 11: {
        const std::string bytes = in.ConsumeRandomLengthString(512);
        labels.push_back(program.data(bytes, any_alignment(in)));
        break;
      }
      case 12: {
        const std::size_t size = in.ConsumeBool() ? in.ConsumeIntegralInRange<std::size_t>(0, 1 << 16)
                                                  : in.ConsumeIntegral<std::uint64_t>() >> in.ConsumeIntegralInRange(0, 63);
        labels.push_back(program.bss(size, any_alignment(in)));
        break;
      }
      case 13: {
        const std::string bytes = in.ConsumeRandomLengthString(64);
        a.embed(bytes.data(), bytes.size());
        break;
      }
      case 14: program.set_entry(any_label()); break;
      case 15: a.align(asmjit::AlignMode::kCode, static_cast<std::uint32_t>(any_alignment(in))); break;
    }
  }
}

void check_image(const tinyelf::Image& image, const tinyelf::LinkOptions& options) {
  std::vector<tinyelf::Finding> findings = tinyelf::check(image.bytes());
  // A writable and executable segment: only what single_segment and the compact layout ask for.
  const bool may_be_wx = options.single_segment || options.layout == tinyelf::Layout::kCompact;
  std::erase_if(findings, [&](const tinyelf::Finding& f) { return may_be_wx && f.severity == tinyelf::Severity::kHardening; });
  const auto worst = tinyelf::worst_severity(findings);
  require(!worst || *worst <= tinyelf::Severity::kTooling);
  if (options.layout == tinyelf::Layout::kConformant) require(findings.empty());
  const tinyelf::ElfView view = tinyelf::inspect(image.bytes());
  for (const tinyelf::ProgramHeader& p : view.program_headers)
    if (!may_be_wx) require((p.p_flags & 3) != 3);  // W^X: never PF_W and PF_X together
  require(view.header.e_entry == image.entry());
  require(image.size() <= options.max_file_size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  tinyelf::Program program;
  for (int round = 0; round < 2; ++round) {  // the second round exercises reset()
    const tinyelf::LinkOptions options = any_options(in);
    try {
      build(in, program);
      check_image(program.link(options), options);
    } catch (const tinyelf::Error&) {
      // A rejected program or option: fine, as long as it is reported this way.
    }
    program.reset();
  }
  return 0;
}
