// The zeroed-register relaxation (lib/relax.cpp): the rewrites it makes from Linux's register
// state at entry (every general register but rsp zero), on programs recorded with the assembler
// Program::text() uses and cut as the packer cuts them. One program per line: what it records,
// then the rewrite of each unit (k: kept, d: dropped, b: mov r8, imm8).
#include <functional>
#include <memory_resource>
#include <string>

#include <catch2/catch.hpp>

#include <tinyelf/tinyelf.hpp>

#include "../lib/relax_p.hpp"
#include "recorded_units.hpp"

namespace {

namespace x86 = asmjit::x86;
using Rewrite = tinyelf::detail::Rewrite;

// The rewrites of what `emit` records, with the flags dead after every unit when `flags_dead`.
std::string rewrites_of(const std::function<void(x86::Assembler&)>& emit, bool flags_dead = true) {
  RecordedUnits recorded(emit);
  auto& units = recorded.units;
  for (tinyelf::detail::InstUnit& unit : units) unit.flags_dead_after = flags_dead;
  std::string out;
  for (const Rewrite& rewrite : tinyelf::detail::relax_known_registers(units, std::pmr::get_default_resource())) {
    switch (rewrite.kind) {
      case Rewrite::Kind::kKeep: out += 'k'; break;
      case Rewrite::Kind::kDrop: out += 'd'; break;
      case Rewrite::Kind::kMoveByte: out += 'b'; break;
      case Rewrite::Kind::kMoveAddress: out += 'a'; break;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("relax shortens what the entry state proves, and forgets what it cannot follow") {
  using A = x86::Assembler;
  // clang-format off
  struct Case { const char* name; std::function<void(A&)> emit; bool flags_dead; const char* rewrites; };
  const Case cases[] = {
    {"mov eax, 60: eax is 0, bits 8-63 too",      [](A& a) { a.mov(x86::eax, 60); },                                   true,  "b"},
    {"mov eax, 0 changes nothing",                 [](A& a) { a.mov(x86::eax, 0); },                                    true,  "d"},
    {"mov eax, 300 needs more than a byte",        [](A& a) { a.mov(x86::eax, 300); },                                  true,  "k"},
    {"mov esp, 1: rsp is not known",               [](A& a) { a.mov(x86::esp, 1); },                                    true,  "k"},
    {"push 14; pop rdx: mov dl, 14",               [](A& a) { a.push(14); a.pop(x86::rdx); },                           true,  "bd"},
    {"xor edi, edi: already zero, flags dead",     [](A& a) { a.xor_(x86::edi, x86::edi); },                            true,  "d"},
    {"xor edi, edi: already zero, flags live",     [](A& a) { a.xor_(x86::edi, x86::edi); },                            false, "k"},
    {"the second mov eax, 60 changes nothing",     [](A& a) { a.mov(x86::eax, 60); a.mov(x86::eax, 60); },             true,  "bd"},
    {"syscall forgets rax, rcx and r11",           [](A& a) { a.syscall(); a.mov(x86::eax, 60); a.mov(x86::edx, 1); }, true,  "kkb"},
    {"a label forgets every register",             [](A& a) { const asmjit::Label l = a.newLabel(); a.bind(l); a.mov(x86::eax, 60); }, true, "k"},
    {"add eax, 1 forgets eax only",                [](A& a) { a.add(x86::eax, 1); a.mov(x86::eax, 60); a.mov(x86::ecx, 1); }, true, "kkb"},
    {"call forgets everything",                    [](A& a) { const asmjit::Label l = a.newLabel(); a.call(l); a.mov(x86::ecx, 1); a.bind(l); a.ret(); }, true, "kkk"},
    {"mov edi, eax copies the known value",        [](A& a) { a.mov(x86::eax, 1); a.mov(x86::edi, x86::eax); a.mov(x86::edi, 1); }, true, "bkd"},
    {"push rax; pop rdi: the value goes along",    [](A& a) { a.push(x86::rax); a.pop(x86::rdi); a.mov(x86::edi, 0); }, true, "kkd"},
    {"a store anywhere may be to the stack",      [](A& a) { a.push(5); a.mov(x86::qword_ptr(x86::rbx), x86::rax); a.pop(x86::rdi); a.mov(x86::edi, 5); }, true, "kkkk"},
    {"syscall may write the stack (read)",         [](A& a) { a.push(5); a.syscall(); a.pop(x86::rdi); a.mov(x86::edi, 5); }, true, "kkkk"},
    {"a push survives a register-only write",      [](A& a) { a.push(5); a.add(x86::ecx, 1); a.pop(x86::rdi); a.mov(x86::edi, 5); }, true, "kkkd"},
  };
  // clang-format on
  for (const Case& c : cases) {
    INFO(c.name);
    CHECK(rewrites_of(c.emit, c.flags_dead) == c.rewrites);
  }
}
