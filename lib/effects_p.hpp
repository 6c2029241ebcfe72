// What one recorded instruction reads, writes and where it may go: the one model of an
// instruction that packing (the liveness of the status flags), relaxing (known register values,
// lib/relax.cpp) and scheduling (which instructions may change places, lib/schedule.cpp) share.
// Filled once per instruction from AsmJit's InstAPI::queryRWInfo, for the instructions whose
// every effect it reports; an instruction it does not fully describe is a barrier.
#pragma once

#include <cstdint>

#include <asmjit/x86.h>

namespace tinyelf::detail {

struct TextItem;

// Resources, as bits of a mask: the 16 general registers (bit i: the register with id i), then:
inline constexpr std::uint32_t kStatusFlagsBit = 1u << 16;  // CF, PF, AF, ZF, SF, OF
inline constexpr std::uint32_t kStackBit = 1u << 17;        // memory addressed from rsp
inline constexpr std::uint32_t kMemoryBit = 1u << 18;       // any other memory (it may be the stack too)
inline constexpr std::uint32_t kRspBit = 1u << 4;
inline constexpr std::uint32_t kEveryResource = ~0u;

// Where execution goes after the instruction.
enum class Control : std::uint8_t {
  kNext,    // the next instruction
  kJump,    // elsewhere (jmp)
  kBranch,  // the next instruction or elsewhere (jcc, loop, jrcxz)
  kCall,    // elsewhere, and back to the next instruction
  kReturn,  // to an address on the stack (ret)
};

inline bool falls_through(Control control) noexcept { return control != Control::kJump && control != Control::kReturn; }

struct Effects {
  // Resources the instruction may read and write. A write of the low 8 or 16 bits of a register
  // keeps the rest (Intel SDM vol. 1, 3.4.1.1), so it reads the register too.
  std::uint32_t reads = kEveryResource;
  std::uint32_t writes = kEveryResource;
  bool registers_known = false;  // reads and writes list every register and memory access
  bool kills_flags = false;      // writes all six status flags, whatever its operands: their old values are dead
  Control control = Control::kNext;

  // An instruction that may leave the straight line, so its flags may be read where it goes.
  bool transfers_control() const noexcept { return control != Control::kNext; }
  bool falls_through() const noexcept { return detail::falls_through(control); }
};

// The effects of a recorded instruction (not a label binding).
Effects effects_of(const TextItem& item);

// Where execution goes after an instruction: effects_of(item).control, without the query (the
// packer asks it of every instruction).
inline Control control_of(asmjit::InstId id) noexcept {
  namespace Inst = asmjit::x86::Inst;
  switch (id) {
    case Inst::kIdJmp: return Control::kJump;  // within [kIdJa, kIdJz]: the ids are in alphabetical order
    case Inst::kIdRet: return Control::kReturn;
    case Inst::kIdCall: return Control::kCall;
    case Inst::kIdLoop: case Inst::kIdLoope: case Inst::kIdLoopne: case Inst::kIdJecxz: return Control::kBranch;
    default: return id >= Inst::kIdJa && id <= Inst::kIdJz ? Control::kBranch : Control::kNext;
  }
}

// What an instruction does to the liveness of the status flags, looking backwards.
enum class FlagsEffect : std::uint8_t {
  kPass,  // dead before it if dead after it
  kKill,  // writes them all before anything reads them: dead before it
  kRead,  // reads them, or may go where they are read: live before it
};

inline FlagsEffect flags_effect(const Effects& effects) noexcept {
  if ((effects.reads & kStatusFlagsBit) != 0 || effects.transfers_control()) return FlagsEffect::kRead;
  return effects.kills_flags ? FlagsEffect::kKill : FlagsEffect::kPass;
}

}  // namespace tinyelf::detail
