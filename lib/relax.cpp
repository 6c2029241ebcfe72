// relax_known_registers: constant tracking of the general registers (and of values pushed by
// push imm / push reg) through straight-line code, and three rewrites it makes safe:
//   mov r32, imm32 (5-6 bytes)   -> mov r8, imm8 (2-3 bytes) when r's bits 8..63 are known zero,
//                                   or nothing when r already holds the value;
//   push imm8; pop r (3 bytes)   -> the same;
//   xor r32, r32                 -> nothing when r is known zero and the flags are dead.
// Linux clears rbx, rcx, rdx, rsi, rdi, rbp and r8-r15 at exec (elf_common_init(),
// arch/x86/include/asm/elf.h) and rax holds execve's result, 0. The x86-64 psABI promises none of
// it, hence the opt-in. Dropping a push also assumes nothing reads the stack below rsp.
#include <array>
#include <bit>
#include <optional>

#include <asmjit/x86.h>

#include "relax_p.hpp"
#include "x86_encoding_p.hpp"

namespace tinyelf::detail {

namespace x86 = asmjit::x86;
namespace Inst = x86::Inst;

std::uint32_t Rewrite::size() const noexcept {
  switch (kind) {
    case Kind::kKeep: return 0;
    case Kind::kDrop: return 0;
    case Kind::kMoveByte: return mov_r8_imm8_size(reg);
    case Kind::kMoveAddress: return mov_r32_imm32_size(reg);
  }
  return 0;
}

namespace {

using Known = std::optional<std::uint64_t>;
constexpr std::uint32_t kRsp = 4;  // its register id

struct State {
  explicit State(std::pmr::memory_resource* memory) : stack(memory) {}
  std::array<Known, 16> regs{};
  std::pmr::vector<Known> stack;  // values pushed since the stack was last understood
  bool stack_known = true;

  void forget_all() {
    regs.fill(std::nullopt);
    forget_stack();
  }
  // `reg` now holds `value`; a new rsp points at a stack nothing is known about.
  void set(std::uint32_t reg, Known value) {
    regs[reg] = value;
    if (reg == kRsp) forget_stack();
  }
  void forget_stack() {
    stack.clear();
    stack_known = false;
  }
};

// The general-purpose register `op` names, with its width in bits, or nothing.
std::optional<std::pair<std::uint32_t, std::uint32_t>> gp(const asmjit::Operand_& op) {
  if (!op.isReg() || !x86::Reg::isGp(op)) return std::nullopt;
  const x86::Gp& reg = op.as<x86::Gp>();
  if (reg.isGpb()) return std::make_pair(reg.id(), 8u);  // both low and high bytes
  return std::make_pair(reg.id(), reg.size() * 8);
}

bool is_self_clear(const TextItem& item) {
  if (item.inst_id != Inst::kIdXor && item.inst_id != Inst::kIdSub) return false;
  const auto d = gp(item.operands[0]), s = gp(item.operands[1]);
  return d && s && d->first == s->first && d->second >= 32 && s->second == d->second;
}

// Forgets what an instruction may change, as its effects say (lib/effects.cpp): memory written
// anywhere may be the stack.
void forget_writes(State& state, const Effects& effects) {
  if (!effects.registers_known) {
    state.forget_all();
    return;
  }
  constexpr std::uint32_t kRegisterBits = kStatusFlagsBit - 1;  // the 16 general registers (lib/effects_p.hpp)
  for (std::uint32_t written = effects.writes & kRegisterBits; written != 0; written &= written - 1)
    state.regs[std::countr_zero(written)] = std::nullopt;
  if ((effects.writes & (kRspBit | kStackBit | kMemoryBit)) != 0) state.forget_stack();
}

// r's value after `mov r, imm` of this width.
std::uint64_t moved_value(std::uint32_t bits, const asmjit::Imm& imm) {
  return bits == 32 ? static_cast<std::uint32_t>(imm.value()) : static_cast<std::uint64_t>(imm.value());
}

// The rewrite that sets register `reg` to `value`, if it is known to be shorter than `size`.
Rewrite set_register(const State& state, std::uint32_t reg, std::uint64_t value, std::uint32_t size) {
  Rewrite rewrite;
  const Known& now = state.regs[reg];
  if (now && *now == value) {
    rewrite.kind = Rewrite::Kind::kDrop;
  } else if (now && (*now >> 8) == 0 && value < 256 && reg != kRsp) {
    rewrite = {Rewrite::Kind::kMoveByte, static_cast<std::uint8_t>(reg), static_cast<std::uint8_t>(value)};
    if (rewrite.size() >= size) rewrite = {};
  }
  return rewrite;
}

}  // namespace

std::pmr::vector<Rewrite> relax_known_registers(const std::pmr::vector<InstUnit>& units,
                                                std::pmr::memory_resource* memory) {
  std::pmr::vector<Rewrite> rewrites(units.size(), memory);
  State state(memory);
  state.stack.reserve(units.size());  // one block, freed last-in first-out
  state.regs.fill(std::uint64_t{0});
  state.regs[kRsp] = std::nullopt;
  for (std::size_t u = 0; u < units.size(); ++u) {
    if (units[u].has_binding) state.forget_all();
    if (units[u].inst == nullptr) continue;
    const TextItem& item = *units[u].inst;
    const asmjit::Operand_* ops = item.operands;
    const auto dst = gp(ops[0]);

    if (item.inst_id == Inst::kIdMov && dst && dst->second >= 32 && ops[1].isImm()) {
      const std::uint64_t value = moved_value(dst->second, ops[1].as<asmjit::Imm>());
      rewrites[u] = set_register(state, dst->first, value, units[u].size);
      state.set(dst->first, value);
    } else if (item.inst_id == Inst::kIdPush && ops[0].isImm() && u + 1 < units.size() && units[u + 1].inst &&
               !units[u + 1].has_binding && units[u + 1].inst->inst_id == Inst::kIdPop &&
               gp(units[u + 1].inst->operands[0]) && gp(units[u + 1].inst->operands[0])->second == 64) {
      // push imm; pop r: r = imm, sign-extended to 64 bits
      const std::uint32_t reg = gp(units[u + 1].inst->operands[0])->first;
      const auto value = static_cast<std::uint64_t>(ops[0].as<asmjit::Imm>().value());
      rewrites[u] = set_register(state, reg, value, units[u].size + units[u + 1].size);
      if (rewrites[u].kind != Rewrite::Kind::kKeep) rewrites[u + 1].kind = Rewrite::Kind::kDrop;
      state.regs[reg] = value;
      ++u;
    } else if (is_self_clear(item)) {
      if (state.regs[dst->first] == std::uint64_t{0} && units[u].flags_dead_after)
        rewrites[u].kind = Rewrite::Kind::kDrop;
      state.set(dst->first, std::uint64_t{0});
    } else if (item.inst_id == Inst::kIdMov && dst && dst->second >= 32 && gp(ops[1])) {
      const Known source = state.regs[gp(ops[1])->first];
      state.set(dst->first, source && dst->second == 32 ? Known(*source & 0xFFFFFFFF) : source);
    } else if (item.inst_id == Inst::kIdPush) {
      if (state.stack_known)
        state.stack.push_back(ops[0].isImm() ? Known(static_cast<std::uint64_t>(ops[0].as<asmjit::Imm>().value()))
                              : gp(ops[0])   ? state.regs[gp(ops[0])->first]
                                             : std::nullopt);
    } else if (item.inst_id == Inst::kIdPop && dst && dst->second == 64) {
      Known value;
      if (state.stack_known && !state.stack.empty()) {
        value = state.stack.back();
        state.stack.pop_back();
      } else {
        state.forget_stack();
      }
      state.regs[dst->first] = value;
    } else {
      forget_writes(state, units[u].effects);
    }
  }
  return rewrites;
}

}  // namespace tinyelf::detail
