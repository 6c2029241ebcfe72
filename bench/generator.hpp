// The instruction streams every benchmark emits. tinyelf and raw AsmJit call the same functions
// on an x86::Assembler, so both encode exactly the same instructions and the ratio between them
// is the cost of tinyelf alone.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <asmjit/x86.h>

namespace bench {

// The message of the hello program.
inline constexpr std::string_view kHelloMessage = "Hello, world!\n";

// exit(42) in 8 bytes: push 42; pop rdi; push 60; pop rax; syscall.
inline void emit_exit42(asmjit::x86::Assembler& a) {
  using namespace asmjit;
  a.push(42);       // exit status
  a.pop(x86::rdi);
  a.push(60);       // SYS_exit (arch/x86/entry/syscalls/syscall_64.tbl)
  a.pop(x86::rax);
  a.syscall();
}

// write(1, message, 14); exit(0). `message` labels kHelloMessage in rodata.
inline void emit_hello(asmjit::x86::Assembler& a, asmjit::Label message) {
  using namespace asmjit;
  a.push(1);                                          // SYS_write
  a.pop(x86::rax);
  a.mov(x86::edi, x86::eax);                          // fd 1: stdout
  a.lea(x86::rsi, x86::ptr(message));                 // RIP-relative
  a.push(static_cast<int>(kHelloMessage.size()));
  a.pop(x86::rdx);
  a.syscall();
  a.push(60);                                         // SYS_exit
  a.pop(x86::rax);
  a.xor_(x86::edi, x86::edi);
  a.syscall();
}

// The loop program's counter, in data: it counts the messages written.
inline constexpr std::array<std::uint8_t, 4> kLoopCounter{};
inline constexpr std::int32_t kLoopTimes = 3;

// write(1, message, 14) three times, then exit(0): 12 instructions, a label bound at the start
// and a backward jne to it, a RIP-relative lea, a counter in data as memory operands, push/pop
// and syscall. `message` labels kHelloMessage in rodata, `counter` kLoopCounter in data.
inline void emit_loop(asmjit::x86::Assembler& a, asmjit::Label message, asmjit::Label counter) {
  using namespace asmjit;
  const Label again = a.newLabel();
  a.bind(again);
  a.push(1);                                          // SYS_write
  a.pop(x86::rax);
  a.mov(x86::edi, x86::eax);                          // fd 1: stdout
  a.lea(x86::rsi, x86::ptr(message));
  a.mov(x86::edx, static_cast<int>(kHelloMessage.size()));
  a.syscall();
  a.add(x86::dword_ptr(counter), 1);
  a.cmp(x86::dword_ptr(counter), kLoopTimes);
  a.jne(again);
  a.mov(x86::eax, 60);                                // SYS_exit
  a.xor_(x86::edi, x86::edi);
  a.syscall();
}

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

struct StreamData {
  asmjit::Label table;  // kTable in rodata, 8-byte aligned
  asmjit::Label cells;  // kCells in data, 8-byte aligned
};

// Emits exactly `count` instructions mixing what a compiler back end produces: register and
// immediate arithmetic, loads and stores with 8- and 32-bit displacements, RIP-relative
// references into rodata and data (cross-section links resolved at link time), and conditional
// branches to labels, half backward (already bound) and half forward (bound later, so AsmJit
// records a link and patches it). A new label is bound every 8 instructions. The stream is meant
// to be emitted, not run.
inline void emit_mixed(asmjit::x86::Assembler& a, const StreamData& data, std::size_t count) {
  using namespace asmjit;
  static constexpr x86::Gp kRegs[] = {x86::rax, x86::rcx, x86::rdx, x86::rsi, x86::rdi,
                                      x86::r8,  x86::r9,  x86::r10, x86::r11};
  constexpr std::size_t kRegCount = sizeof(kRegs) / sizeof(kRegs[0]);
  Label here = a.newLabel();
  Label next = a.newLabel();
  for (std::size_t i = 0; i < count; ++i) {
    const x86::Gp& r = kRegs[i % kRegCount];
    const x86::Gp& s = kRegs[(i / 3 + 1) % kRegCount];
    // Displacements cycle through 0..4088 in steps of 8: short (disp8) and long (disp32) forms.
    const std::int32_t disp = static_cast<std::int32_t>((i * 24) % 4096) & ~7;
    switch (i % 8) {
      case 0:
        a.bind(here);
        a.add(r, s);
        break;
      case 1: a.mov(r, x86::qword_ptr(x86::rbx, disp)); break;
      case 2: a.mov(x86::qword_ptr(x86::rbx, disp), s); break;
      case 3: a.imul(r, s, static_cast<int>(i & 0x7ff) + 3); break;
      case 4: a.lea(r, x86::ptr(data.table, static_cast<std::int32_t>((i * 8) % kTableSize))); break;
      case 5: a.add(x86::qword_ptr(data.cells, static_cast<std::int32_t>((i * 8) % kCellsSize)), r); break;
      case 6: a.cmp(r, static_cast<int>(i & 0xffff)); break;
      case 7:
        if ((i / 8) % 2 == 0) {
          a.jnz(next);  // forward: bound at the start of the next block
        } else {
          a.jnz(here);  // backward: bound at the start of this block
        }
        here = next;
        next = a.newLabel();
        break;
    }
  }
  // Forward branches of the last full block land after the stream. (When the stream ends inside
  // a block, `here` is that block's label, bound already, and nothing refers to `next`.)
  if (!a.code()->isLabelBound(here)) a.bind(here);
}

}  // namespace bench
