// The instruction streams every benchmark emits. tinyelf and raw AsmJit call the same functions
// on an x86::Assembler, so both encode exactly the same instructions and the ratio between them
// is the cost of tinyelf alone.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <asmjit/x86.h>

#include "mixed_stream.hpp"

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

struct StreamData {
  asmjit::Label table;  // kTable in rodata, 8-byte aligned
  asmjit::Label cells;  // kCells in data, 8-byte aligned
};

// Does nothing before an instruction: emit_mixed()'s default.
struct NoMark {
  void operator()(std::size_t) const noexcept {}
};

// Emits exactly `count` instructions of the mixed stream (mixed_stream.hpp): what a compiler back
// end produces. Forward branches are to labels bound later, so AsmJit records a link and patches it.
// `mark(i)` runs before instruction i, e.g. to name the code from there (Program::symbol).
template <typename Mark = NoMark>
void emit_mixed(asmjit::x86::Assembler& a, const StreamData& data, std::size_t count, Mark mark = {}) {
  using namespace asmjit;
  Label here = a.newLabel();
  Label next = a.newLabel();
  for (std::size_t i = 0; i < count; ++i) {
    mark(i);
    const MixedStep step = mixed_step(i);
    const x86::Gp r = x86::gpq(step.r);
    const x86::Gp s = x86::gpq(step.s);
    switch (step.kind) {
      case MixedKind::kAddRegReg:
        a.bind(here);
        a.add(r, s);
        break;
      case MixedKind::kLoad: a.mov(r, x86::qword_ptr(x86::gpq(kMixedBase), step.disp)); break;
      case MixedKind::kStore: a.mov(x86::qword_ptr(x86::gpq(kMixedBase), step.disp), s); break;
      case MixedKind::kImul: a.imul(r, s, step.imm); break;
      case MixedKind::kLeaTable: a.lea(r, x86::ptr(data.table, step.offset)); break;
      case MixedKind::kAddToCells: a.add(x86::qword_ptr(data.cells, step.offset), r); break;
      case MixedKind::kCmp: a.cmp(r, step.imm); break;
      case MixedKind::kJnzForward:
      case MixedKind::kJnzBackward:
        a.jnz(step.kind == MixedKind::kJnzForward ? next : here);
        here = next;
        next = a.newLabel();
        break;
    }
  }
  if (mixed_ends_with_label(count)) a.bind(here);
}

}  // namespace bench
