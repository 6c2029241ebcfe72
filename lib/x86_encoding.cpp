// Instruction format (SDM 2.1): legacy prefixes, REX, opcode (1-3 bytes, or a VEX/EVEX/XOP
// prefix and 1 opcode byte), ModRM, SIB, displacement, immediate.
#include <cstring>

#include "x86_encoding_p.hpp"

namespace tinyelf::detail {

namespace {

bool is_legacy_prefix(std::uint8_t byte) noexcept {
  switch (byte) {
    case 0xF0: case 0xF2: case 0xF3:                         // lock, repne, rep
    case 0x2E: case 0x36: case 0x3E: case 0x26: case 0x64: case 0x65:  // segments, branch hints
    case 0x66: case 0x67:                                     // operand and address size
      return true;
    default:
      return false;
  }
}

bool is_rex(std::uint8_t byte) noexcept { return (byte & 0xF0) == 0x40; }

// Position of the opcode (or of the VEX/EVEX/XOP prefix) after legacy prefixes and REX.
std::size_t opcode_position(const std::uint8_t* inst, std::size_t size) noexcept {
  std::size_t at = 0;
  while (at < size && is_legacy_prefix(inst[at])) ++at;
  if (at < size && is_rex(inst[at])) ++at;
  return at;
}

// Position of the ModRM byte, or `size` when the encoding is not one this reader knows.
std::size_t modrm_position(const std::uint8_t* inst, std::size_t size) noexcept {
  const std::size_t at = opcode_position(inst, size);
  if (at + 1 >= size) return size;
  switch (inst[at]) {
    case 0xC5: return at + 3;  // 2-byte VEX (SDM 2.3.5; LDS is invalid in 64-bit mode), opcode, ModRM
    case 0xC4: return at + 4;  // 3-byte VEX, opcode, ModRM
    case 0x62: return at + 5;  // EVEX (SDM 2.7; BOUND is invalid in 64-bit mode), opcode, ModRM
    case 0x8F:                 // XOP when its map field is 8 or more, else pop r/m64 (8F /0)
      return (inst[at + 1] & 0x1F) >= 8 ? at + 4 : at + 1;
    case 0x0F:                 // two-byte opcode map, or three-byte with 0F 38 / 0F 3A
      return inst[at + 1] == 0x38 || inst[at + 1] == 0x3A ? at + 3 : at + 2;
    default:
      return at + 1;
  }
}

}  // namespace

RelativeField branch_field(const std::uint8_t* inst, std::size_t size) noexcept {
  const std::size_t at = opcode_position(inst, size);
  if (at >= size) return {};
  const std::uint8_t op = inst[at];
  const bool rel8 = op == 0xEB || (op >= 0x70 && op <= 0x7F) || (op >= 0xE0 && op <= 0xE3);
  const bool rel32 = op == 0xE8 || op == 0xE9 ||
                     (at + 1 < size && op == 0x0F && (inst[at + 1] & 0xF0) == 0x80) ||  // jcc rel32
                     (at + 1 < size && op == 0xC7 && inst[at + 1] == 0xF8);             // xbegin
  // The displacement is the instruction's last field.
  if (rel8) return at + 2 == size ? RelativeField{static_cast<std::uint8_t>(size - 1), 1} : RelativeField{};
  if (rel32 && size >= at + 5) return {static_cast<std::uint8_t>(size - 4), 4};
  return {};
}

RelativeField rip_field(const std::uint8_t* inst, std::size_t size) noexcept {
  const std::size_t at = modrm_position(inst, size);
  // mod = 00 and r/m = 101 select RIP + disp32 in 64-bit mode (SDM table 2-7), with no SIB byte.
  if (at + 5 > size || (inst[at] & 0xC7) != 0x05) return {};
  return {static_cast<std::uint8_t>(at + 1), 4};
}

std::size_t write_nop(std::uint8_t* out) noexcept {
  out[0] = 0x90;
  return 1;
}

std::size_t write_jmp_rel8(std::uint8_t* out, std::int8_t rel) noexcept {
  out[0] = 0xEB;
  out[1] = static_cast<std::uint8_t>(rel);
  return 2;
}

std::size_t write_jmp_rel32(std::uint8_t* out, std::int32_t rel) noexcept {
  out[0] = 0xE9;
  std::memcpy(out + 1, &rel, 4);  // little-endian, like the host
  return 5;
}

std::size_t write_cmp_eax_opcode(std::uint8_t* out) noexcept {
  out[0] = 0x3D;
  return 1;
}

std::size_t write_mov_r8_imm8(std::uint8_t* out, std::uint32_t reg, std::uint8_t value) noexcept {
  std::size_t at = 0;
  // Without REX, 4-7 name ah, ch, dh, bh; with any REX they name spl, bpl, sil, dil (SDM 3.7.2.1).
  if (reg >= 8) out[at++] = 0x41;  // REX.B
  else if (reg >= 4) out[at++] = 0x40;
  out[at++] = static_cast<std::uint8_t>(0xB0 + (reg & 7));
  out[at++] = value;
  return at;
}

std::size_t write_mov_r32_imm32(std::uint8_t* out, std::uint32_t reg, std::uint32_t value) noexcept {
  std::size_t at = 0;
  if (reg >= 8) out[at++] = 0x41;  // REX.B
  out[at++] = static_cast<std::uint8_t>(0xB8 + (reg & 7));
  std::memcpy(out + at, &value, 4);
  return at + 4;
}

}  // namespace tinyelf::detail
