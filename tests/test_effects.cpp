// The one model of an instruction (lib/effects.cpp): what each recorded instruction reads,
// writes and where it goes, as packing, relaxing and scheduling see it. One instruction per case.
#include <functional>
#include <string>

#include <catch2/catch.hpp>

#include <tinyelf/tinyelf.hpp>

#include "../lib/effects_p.hpp"
#include "recorded_units.hpp"

namespace {

namespace x86 = asmjit::x86;
using tinyelf::detail::Control;
using tinyelf::detail::Effects;
using tinyelf::detail::FlagsEffect;

constexpr std::uint32_t kFlags = tinyelf::detail::kStatusFlagsBit;
constexpr std::uint32_t kStack = tinyelf::detail::kStackBit;
constexpr std::uint32_t kMemory = tinyelf::detail::kMemoryBit;
constexpr std::uint32_t kEvery = tinyelf::detail::kEveryResource;
constexpr std::uint32_t reg(std::uint32_t id) { return 1u << id; }
constexpr std::uint32_t kRax = reg(0), kRcx = reg(1), kRdx = reg(2), kRbx = reg(3), kRsp = reg(4), kRsi = reg(6),
                        kRdi = reg(7), kR8 = reg(8), kR9 = reg(9), kR10 = reg(10), kR11 = reg(11);

Effects effects_of(const std::function<void(x86::Assembler&)>& emit) {
  RecordedUnits recorded(emit);
  REQUIRE(recorded.units.size() == 1);
  return recorded.units[0].effects;
}

}  // namespace

TEST_CASE("effects: registers, memory and flags of the instructions AsmJit describes fully") {
  using A = x86::Assembler;
  // clang-format off
  struct Case { const char* name; std::function<void(A&)> emit; std::uint32_t reads, writes; FlagsEffect flags; };
  const Case cases[] = {
    {"mov eax, ebx",           [](A& a) { a.mov(x86::eax, x86::ebx); },                 kRbx,                  kRax,                  FlagsEffect::kPass},
    {"mov al, 1 keeps the rest of rax", [](A& a) { a.mov(x86::al, 1); },                kRax,                  kRax,                  FlagsEffect::kPass},
    {"add rax, rbx",           [](A& a) { a.add(x86::rax, x86::rbx); },                 kRax | kRbx,           kRax | kFlags,         FlagsEffect::kKill},
    {"inc ecx leaves CF",      [](A& a) { a.inc(x86::ecx); },                           kRcx,                  kRcx | kFlags,         FlagsEffect::kPass},
    {"adc reads CF",           [](A& a) { a.adc(x86::ecx, 1); },                        kRcx | kFlags,         kRcx | kFlags,         FlagsEffect::kRead},
    {"shl rax, 3",             [](A& a) { a.shl(x86::rax, 3); },                        kRax,                  kRax | kFlags,         FlagsEffect::kKill},
    {"shl rax, cl: cl may be 0", [](A& a) { a.shl(x86::rax, x86::cl); },                kRax | kRcx,           kRax | kFlags,         FlagsEffect::kPass},
    {"shl rax, 32 & 31 = 0",   [](A& a) { a.shl(x86::eax, 32); },                       kRax,                  kRax | kFlags,         FlagsEffect::kPass},
    {"lea reaches no memory",  [](A& a) { a.lea(x86::rdi, x86::ptr(x86::rsi, x86::rcx, 2, 8)); }, kRsi | kRcx, kRdi,                  FlagsEffect::kPass},
    {"load from the stack",    [](A& a) { a.mov(x86::rax, x86::qword_ptr(x86::rsp, 8)); }, kRsp | kStack,      kRax,                  FlagsEffect::kPass},
    {"store elsewhere",        [](A& a) { a.mov(x86::dword_ptr(x86::rbx), x86::eax); }, kRbx | kRax,           kMemory,               FlagsEffect::kPass},
    {"cmovz reads ZF",         [](A& a) { a.cmovz(x86::eax, x86::ebx); },               kRax | kRbx | kFlags,  kRax,                  FlagsEffect::kRead},
    {"imul rax, rbx",          [](A& a) { a.imul(x86::rax, x86::rbx); },                kRax | kRbx,           kRax | kFlags,         FlagsEffect::kKill},
    {"push rbx",               [](A& a) { a.push(x86::rbx); },                          kRbx | kRsp,           kRsp | kStack,         FlagsEffect::kPass},
    {"push 1",                 [](A& a) { a.push(1); },                                 kRsp,                  kRsp | kStack,         FlagsEffect::kPass},
    {"pop rdi",                [](A& a) { a.pop(x86::rdi); },                           kRsp | kStack,         kRsp | kRdi,           FlagsEffect::kPass},
    {"syscall keeps rflags (sysret restores them from r11)", [](A& a) { a.syscall(); },
                               kRax | kRdi | kRsi | kRdx | kR10 | kR8 | kR9 | kStack | kMemory, kRax | kRcx | kR11 | kStack | kMemory, FlagsEffect::kPass},
  };
  // clang-format on
  for (const Case& c : cases) {
    INFO(c.name);
    const Effects effects = effects_of(c.emit);
    CHECK(effects.registers_known);
    CHECK(effects.reads == c.reads);
    CHECK(effects.writes == c.writes);
    CHECK(flags_effect(effects) == c.flags);
    CHECK(effects.control == Control::kNext);
  }
}

TEST_CASE("effects: control transfers, whose flags may be read where they go") {
  RecordedUnits recorded([](x86::Assembler& a) {
    const asmjit::Label l = a.newLabel();
    a.bind(l);
    a.jmp(l);
    a.jnz(l);
    a.loop(l);
    a.call(l);
    a.ret();
  });
  const auto& units = recorded.units;
  REQUIRE(units.size() == 5);
  CHECK(units[0].effects.control == Control::kJump);
  CHECK_FALSE(units[0].effects.falls_through());
  CHECK(units[1].effects.control == Control::kBranch);
  CHECK((units[1].effects.reads & kFlags) != 0);
  CHECK(units[2].effects.control == Control::kBranch);
  CHECK(units[2].effects.reads == kRcx);
  CHECK(units[2].effects.writes == kRcx);
  CHECK(units[3].effects.control == Control::kCall);
  CHECK(units[3].effects.falls_through());
  CHECK_FALSE(units[3].effects.registers_known);  // the callee may do anything
  CHECK(units[4].effects.control == Control::kReturn);
  CHECK_FALSE(units[4].effects.falls_through());
  for (const auto& unit : units) CHECK(flags_effect(unit.effects) == FlagsEffect::kRead);
}

TEST_CASE("effects: what AsmJit does not describe fully is a barrier, but for its flags") {
  using A = x86::Assembler;
  // The one-operand forms write rdx:rax, which queryRWInfo does not report; cpuid writes four
  // registers it reports none of; a rep prefix makes movsb a loop.
  const std::function<void(A&)> barriers[] = {
      [](A& a) { a.mul(x86::rcx); },  [](A& a) { a.div(x86::rcx); },  [](A& a) { a.cpuid(); },
      [](A& a) { a.cqo(); },          [](A& a) { a.rep().movsb(); },  [](A& a) { a.rdtsc(); },
  };
  for (const auto& emit : barriers) {
    const Effects effects = effects_of(emit);
    CHECK_FALSE(effects.registers_known);
    CHECK((effects.reads | kFlags) == kEvery);
    CHECK((effects.writes | kFlags) == kEvery);
  }
  // mul defines CF and OF and leaves the other status flags undefined: written all the same.
  CHECK(flags_effect(effects_of([](A& a) { a.mul(x86::rcx); })) == FlagsEffect::kKill);
  CHECK(flags_effect(effects_of([](A& a) { a.cpuid(); })) == FlagsEffect::kPass);
}
