// The mixed instruction stream of the large-program cases, described once for every encoder:
// instruction i of the stream is mixed_step(i). generator.hpp emits it with AsmJit, the peers
// (peer_*.cpp) with their own encoders, so all of them encode the same instructions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace bench {

// The data the mixed stream refers to RIP-relatively: a read-only table and a writable area.
inline constexpr std::size_t kTableSize = 256;
inline constexpr std::size_t kCellsSize = 256;

inline constexpr std::array<std::uint8_t, kTableSize> table_bytes() {
  std::array<std::uint8_t, kTableSize> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 37 + 11);
  return bytes;
}
inline constexpr std::array<std::uint8_t, kTableSize> kTable = table_bytes();
inline constexpr std::array<std::uint8_t, kCellsSize> kCells{};

// The registers the stream uses, by hardware number (rax, rcx, rdx, rsi, rdi, r8 to r11): every
// encoder names register n its own way. rbx (3) is the base of the loads and stores.
inline constexpr std::array<std::uint8_t, 9> kMixedRegs = {0, 1, 2, 6, 7, 8, 9, 10, 11};
inline constexpr std::uint8_t kMixedBase = 3;

enum class MixedKind : std::uint8_t {
  kAddRegReg,     // bind the block's label, then add r, s
  kLoad,          // mov r, qword [rbx + disp]
  kStore,         // mov qword [rbx + disp], s
  kImul,          // imul r, s, imm
  kLeaTable,      // lea r, [rip + table + offset]
  kAddToCells,    // add qword [rip + cells + offset], r
  kCmp,           // cmp r, imm
  kJnzForward,    // jnz to the start of the next block (bound later)
  kJnzBackward,   // jnz to the start of this block (bound already)
};

struct MixedStep {
  MixedKind kind;
  std::uint8_t r;       // hardware register numbers
  std::uint8_t s;
  std::int32_t disp;    // kLoad, kStore: 0..4088 in steps of 8, short (disp8) and long (disp32) forms
  std::int32_t imm;     // kImul, kCmp
  std::int32_t offset;  // kLeaTable, kAddToCells: into the table or the cells
};

// Register and immediate arithmetic, loads and stores with 8- and 32-bit displacements,
// RIP-relative references into rodata and data (cross-section links resolved at link time), and
// conditional branches to labels, half backward (already bound) and half forward (bound later).
// A new label is bound every 8 instructions, at each kAddRegReg. The stream is meant to be
// emitted, not run.
inline constexpr MixedStep mixed_step(std::size_t i) {
  MixedStep step{};
  step.r = kMixedRegs[i % kMixedRegs.size()];
  step.s = kMixedRegs[(i / 3 + 1) % kMixedRegs.size()];
  step.disp = static_cast<std::int32_t>((i * 24) % 4096) & ~7;
  switch (i % 8) {
    case 0: step.kind = MixedKind::kAddRegReg; break;
    case 1: step.kind = MixedKind::kLoad; break;
    case 2: step.kind = MixedKind::kStore; break;
    case 3:
      step.kind = MixedKind::kImul;
      step.imm = static_cast<std::int32_t>(i & 0x7ff) + 3;
      break;
    case 4:
      step.kind = MixedKind::kLeaTable;
      step.offset = static_cast<std::int32_t>((i * 8) % kTableSize);
      break;
    case 5:
      step.kind = MixedKind::kAddToCells;
      step.offset = static_cast<std::int32_t>((i * 8) % kCellsSize);
      break;
    case 6:
      step.kind = MixedKind::kCmp;
      step.imm = static_cast<std::int32_t>(i & 0xffff);
      break;
    default: step.kind = (i / 8) % 2 == 0 ? MixedKind::kJnzForward : MixedKind::kJnzBackward; break;
  }
  return step;
}

// Forward branches of the last full block land after the stream: when the stream ends right after
// a branch (or is empty), an encoder binds the next block's label there. When it ends inside a
// block, that block's label is bound already and nothing refers to the next one.
inline constexpr bool mixed_ends_with_label(std::size_t count) { return count % 8 == 0; }

}  // namespace bench
