// The few x86-64 encodings the packer reads and writes itself, so that packing a program moves
// its bytes instead of assembling it a second time: where an emitted instruction keeps the
// displacement to its label, and the short instructions the packer adds or substitutes.
// References are to the Intel SDM, volume 2.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tinyelf::detail {

// A displacement relative to the end of its instruction: the rel8/rel32 of a branch, or the disp32
// of a RIP-relative memory operand.
struct RelativeField {
  std::uint8_t offset = 0;  // from the first byte of the instruction
  std::uint8_t size = 0;    // 1 or 4 bytes; 0: not found
};

// The rel8 or rel32 of a direct branch: jmp, jcc, call, loop, loope, loopne, jrcxz, xbegin. None
// for any other instruction.
RelativeField branch_field(const std::uint8_t* inst, std::size_t size) noexcept;

// The disp32 of an instruction whose memory operand is RIP-relative: the 4 bytes after the ModRM
// byte (SDM 2.2.1.6), with any immediate after them. None when the ModRM byte is not RIP-relative.
RelativeField rip_field(const std::uint8_t* inst, std::size_t size) noexcept;

// Writers: each returns the number of bytes written to `out`.
std::size_t write_nop(std::uint8_t* out) noexcept;                          // 90
std::size_t write_jmp_rel8(std::uint8_t* out, std::int8_t rel) noexcept;    // EB cb
std::size_t write_jmp_rel32(std::uint8_t* out, std::int32_t rel) noexcept;  // E9 cd
inline constexpr std::uint32_t kJmpRel32Size = 5;
// cmp eax, imm32 without its immediate (3D): the 4 bytes that follow become the immediate.
std::size_t write_cmp_eax_opcode(std::uint8_t* out) noexcept;
// mov r8, imm8 (B0+rb ib) on the low byte of general register `reg` (0-15).
std::size_t write_mov_r8_imm8(std::uint8_t* out, std::uint32_t reg, std::uint8_t value) noexcept;
// mov r32, imm32 (B8+rd id) into general register `reg` (0-15); bits 32-63 become zero.
std::size_t write_mov_r32_imm32(std::uint8_t* out, std::uint32_t reg, std::uint32_t value) noexcept;

// Bytes the writers above take: mov r8, imm8 is 2, or 3 with the REX prefix that spl, bpl, sil,
// dil and r8b-r15b need; mov r32, imm32 is 5, or 6 for r8d-r15d.
constexpr std::uint32_t mov_r8_imm8_size(std::uint32_t reg) noexcept { return reg < 4 ? 2 : 3; }
constexpr std::uint32_t mov_r32_imm32_size(std::uint32_t reg) noexcept { return reg < 8 ? 5 : 6; }

}  // namespace tinyelf::detail
