// effects_of: AsmJit's InstAPI::queryRWInfo reports what an instruction does to its explicit
// operands and to the flags, but not its implicit registers (the rdx:rax of a one-operand mul,
// the rsp of push and pop, the rcx of loop, those of syscall). So registers and memory come from
// queryRWInfo only for the instructions listed below, whose every register effect is on their
// operands; push, pop, loop and syscall are described here; every other instruction may read and
// write anything but the flags, which queryRWInfo knows for all of them.
#include "effects_p.hpp"

#include <asmjit/x86.h>

#include "program_p.hpp"

namespace tinyelf::detail {

namespace {

namespace x86 = asmjit::x86;
namespace Inst = x86::Inst;
using asmjit::CpuRWFlags;

constexpr CpuRWFlags kStatusFlags = CpuRWFlags::kX86_CF | CpuRWFlags::kX86_PF | CpuRWFlags::kX86_AF |
                                    CpuRWFlags::kX86_ZF | CpuRWFlags::kX86_SF | CpuRWFlags::kX86_OF;
constexpr std::uint32_t kRegistersAndMemory = kEveryResource & ~kStatusFlagsBit;

// Instructions whose register and memory effects are all on their explicit operands.
bool effects_on_operands_only(asmjit::InstId id) {
  switch (id) {
    case Inst::kIdAdd: case Inst::kIdSub: case Inst::kIdAnd: case Inst::kIdOr: case Inst::kIdXor:
    case Inst::kIdAdc: case Inst::kIdSbb: case Inst::kIdInc: case Inst::kIdDec: case Inst::kIdNeg:
    case Inst::kIdNot: case Inst::kIdShl: case Inst::kIdShr: case Inst::kIdSar: case Inst::kIdRol:
    case Inst::kIdRor: case Inst::kIdLea: case Inst::kIdMov: case Inst::kIdMovzx: case Inst::kIdMovsx:
    case Inst::kIdMovsxd: case Inst::kIdCmp: case Inst::kIdTest: case Inst::kIdNop: case Inst::kIdXchg:
    case Inst::kIdBswap: case Inst::kIdJmp:
      return true;
    default:
      return (id >= Inst::kIdJa && id <= Inst::kIdJz) || (id >= Inst::kIdCmova && id <= Inst::kIdCmovz) ||
             (id >= Inst::kIdSeta && id <= Inst::kIdSetz);
  }
}

// Shifts and rotates leave the flags alone when the count is 0 (Intel SDM vol. 2B, SAL/SAR/SHL/SHR).
bool count_may_be_zero(const TextItem& item) {
  switch (item.inst_id) {
    case Inst::kIdShl: case Inst::kIdShr: case Inst::kIdSar: case Inst::kIdRol: case Inst::kIdRor: {
      const asmjit::Operand_& count = item.operands[1];
      if (count.isNone()) return false;  // by 1
      // The count is masked to 5 bits, 6 for a 64-bit operand: 5 bits take every zero count.
      return !count.isImm() || (count.as<asmjit::Imm>().value() & 31) == 0;
    }
    default:
      return false;
  }
}

std::uint32_t gp_bit(const asmjit::Operand_& op) {
  return op.isReg() && x86::Reg::isGp(op) && op.id() < 16 ? 1u << op.id() : 0;
}

// The registers an address is computed from; false for one this model does not follow (a
// segment override, a non-general base or index).
bool address_registers(const x86::Mem& mem, std::uint32_t& registers) {
  if (mem.hasSegment()) return false;
  if (mem.hasBaseReg()) {
    if (mem.baseType() == asmjit::RegType::kX86_Rip) return true;  // no register is read
    if (!x86::Reg::isGp(mem.baseReg()) || mem.baseId() >= 16) return false;
    registers |= 1u << mem.baseId();
  }
  if (mem.hasIndex()) {
    if (!x86::Reg::isGp(mem.indexReg()) || mem.indexId() >= 16) return false;
    registers |= 1u << mem.indexId();
  }
  return true;
}

// The memory an address reaches: the stack when it is computed from rsp.
std::uint32_t memory_at(const x86::Mem& mem) {
  return mem.hasBaseReg() && mem.baseType() != asmjit::RegType::kX86_Rip && mem.baseId() == 4 ? kStackBit
                                                                                              : kMemoryBit;
}

// Adds what operand `op` costs as a source (`read`) or destination (`write`); false when the model
// does not follow it.
bool add_operand(Effects& effects, const asmjit::Operand_& op, bool read, bool write, bool accesses_memory) {
  if (op.isReg()) {
    const std::uint32_t bit = gp_bit(op);
    if (bit == 0) return false;
    if (read || (write && op.as<x86::Gp>().size() < 4)) effects.reads |= bit;
    if (write) effects.writes |= bit;
  } else if (op.isMem()) {
    const x86::Mem& mem = op.as<x86::Mem>();
    if (!address_registers(mem, effects.reads)) return false;
    if (accesses_memory && read) effects.reads |= memory_at(mem);
    if (accesses_memory && write) effects.writes |= memory_at(mem);
  }
  return true;  // an immediate or a label: nothing
}

Effects barrier(Control control) {
  Effects effects;
  effects.control = control;
  return effects;
}

}  // namespace

Effects effects_of(const TextItem& item) {
  const asmjit::InstId id = item.inst_id;
  const asmjit::Operand_* ops = item.operands;
  std::size_t count = 0;
  while (count < TextItem::kMaxOperands && !ops[count].isNone()) ++count;

  Effects effects;
  effects.control = control_of(id);
  // A prefix (rep, lock) changes what the instruction does.
  if (item.options != asmjit::InstOptions::kNone) return barrier(effects.control);

  if (id == Inst::kIdSyscall) {
    // Linux: the number in rax, arguments in rdi, rsi, rdx, r10, r8, r9, the result in rax; rcx
    // and r11 are clobbered by syscall itself, which returns with the rflags it saved in r11
    // (arch/x86/entry/entry_64.S). The kernel may read or write any memory the arguments name.
    effects.reads = 1u << 0 | 1u << 7 | 1u << 6 | 1u << 2 | 1u << 10 | 1u << 8 | 1u << 9 | kStackBit | kMemoryBit;
    effects.writes = 1u << 0 | 1u << 1 | 1u << 11 | kStackBit | kMemoryBit;
    effects.registers_known = true;
    return effects;
  }

  asmjit::InstRWInfo rw;
  if (asmjit::InstAPI::queryRWInfo(asmjit::Arch::kX64, asmjit::BaseInst(id, item.options), ops, count,
                                   &rw) != asmjit::kErrorOk)
    return barrier(effects.control);
  const std::uint32_t flags_read = (rw.readFlags() & kStatusFlags) != CpuRWFlags::kNone ? kStatusFlagsBit : 0;
  const std::uint32_t flags_written = (rw.writeFlags() & kStatusFlags) != CpuRWFlags::kNone ? kStatusFlagsBit : 0;
  effects.kills_flags = (rw.writeFlags() & kStatusFlags) == kStatusFlags && !count_may_be_zero(item);

  effects.reads = flags_read;
  effects.writes = flags_written;
  bool known = true;
  if (id == Inst::kIdPush && count == 1) {
    // Reads its operand and rsp, writes rsp and the stack.
    known = add_operand(effects, ops[0], true, false, true);
    effects.reads |= kRspBit;
    effects.writes |= kRspBit | kStackBit;
  } else if (id == Inst::kIdPop && count == 1) {
    known = add_operand(effects, ops[0], false, true, true);
    effects.reads |= kRspBit | kStackBit;
    effects.writes |= kRspBit;
  } else if ((id == Inst::kIdLoop || id == Inst::kIdLoope || id == Inst::kIdLoopne) && count == 1) {
    effects.reads |= 1u << 1;  // rcx, counted down
    effects.writes |= 1u << 1;
  } else if (id == Inst::kIdJecxz && count == 1) {
    effects.reads |= 1u << 1;
  } else if (effects_on_operands_only(id) || (id == Inst::kIdImul && count >= 2)) {
    // lea computes an address and reaches no memory; the one-operand imul writes rdx:rax.
    for (std::size_t i = 0; i < count && known; ++i)
      known = add_operand(effects, ops[i], rw.operand(i).isRead(), rw.operand(i).isWrite(), id != Inst::kIdLea);
  } else {
    known = false;
  }
  if (!known) {
    effects.reads = kRegistersAndMemory | flags_read;
    effects.writes = kRegistersAndMemory | flags_written;
    return effects;
  }
  effects.registers_known = true;
  return effects;
}

}  // namespace tinyelf::detail
