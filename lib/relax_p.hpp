// Shorter forms of instructions the packer may emit: those whose register values are known from
// Linux's register state at entry (LinkOptions::assume_zeroed_registers), and label addresses
// as 32-bit immediates.
#pragma once

#include <cstdint>
#include <memory_resource>
#include <vector>

#include "units_p.hpp"

namespace tinyelf::detail {

struct Rewrite {
  enum class Kind : std::uint8_t {
    kKeep,      // emit the instruction as recorded
    kDrop,      // the instruction changes nothing: emit nothing
    kMoveByte,  // emit mov r8, imm8 on the low byte of `reg`, whose other bits are known zero
    kMoveAddress,  // lea reg, [label + disp] as mov r32, imm32 of the absolute address (link_packed.cpp)
  };
  Kind kind = Kind::kKeep;
  std::uint8_t reg = 0;  // a general register, 0-15
  std::uint8_t value = 0;

  // Bytes the rewritten instruction takes (kKeep: not known here).
  std::uint32_t size() const noexcept;
};

// Rewrites for the units, in program order, starting from the entry state: every general register
// but rsp zero. Values are tracked through straight-line code; a label or a call forgets them.
// Its memory comes from `memory`, like the rest of the packer's.
std::pmr::vector<Rewrite> relax_known_registers(const std::pmr::vector<InstUnit>& units,
                                                std::pmr::memory_resource* memory);

}  // namespace tinyelf::detail
