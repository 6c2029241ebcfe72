// The C versions of the programs (c_programs.hpp).
#include "c_programs.hpp"

#include <iterator>

#include <fmt/format.h>

#include "generator.hpp"

namespace bench {

namespace {

// write() and exit() without a C library: the x86-64 system call convention (arguments in rdi,
// rsi, rdx; rcx and r11 clobbered), numbers from arch/x86/entry/syscalls/syscall_64.tbl.
constexpr const char* kSystemCalls = R"(static long sys_write(long fd, const char *buffer, long size) {
  long result;
  __asm__ volatile("syscall" : "=a"(result) : "a"(1L), "D"(fd), "S"(buffer), "d"(size) : "rcx", "r11", "memory");
  return result;
}
static void sys_exit(long status) {
  __asm__ volatile("syscall" : : "a"(60L), "D"(status) : "rcx", "r11");
  for (;;) {
  }
}
)";

void mixed_program(fmt::memory_buffer& out, std::size_t count) {
  auto to = std::back_inserter(out);
  fmt::format_to(to, "static const unsigned char table[{}] = {{", kTableSize);
  for (const std::uint8_t byte : kTable) fmt::format_to(to, "{},", byte);
  fmt::format_to(to, "}};\nstatic unsigned long cells[{}];\nstatic unsigned long area[512];\nvoid _start(void) {{\n",
                 kCellsSize / 8);
  for (const std::uint8_t reg : kMixedRegs) fmt::format_to(to, "  unsigned long r{} = {};\n", reg, reg);
  std::size_t block = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const MixedStep step = mixed_step(i);
    switch (step.kind) {
      case MixedKind::kAddRegReg: fmt::format_to(to, "L{}: r{} += r{};\n", block, step.r, step.s); break;
      case MixedKind::kLoad: fmt::format_to(to, "r{} = area[{}];\n", step.r, step.disp / 8); break;
      case MixedKind::kStore: fmt::format_to(to, "area[{}] = r{};\n", step.disp / 8, step.s); break;
      case MixedKind::kImul: fmt::format_to(to, "r{} = r{} * {};\n", step.r, step.s, step.imm); break;
      case MixedKind::kLeaTable: fmt::format_to(to, "r{} = (unsigned long)(table + {});\n", step.r, step.offset); break;
      case MixedKind::kAddToCells: fmt::format_to(to, "cells[{}] += r{};\n", step.offset / 8, step.r); break;
      case MixedKind::kCmp: fmt::format_to(to, "if (r{} != {}) ", step.r, step.imm); break;
      case MixedKind::kJnzForward:
      case MixedKind::kJnzBackward: fmt::format_to(to, "goto L{};\n", ++block); break;
    }
  }
  if (count % 8 == 7) fmt::format_to(to, ";\n");  // the stream ends between a compare and its branch
  if (mixed_ends_with_label(count)) fmt::format_to(to, "L{}:\n", block);
  fmt::format_to(to, "  sys_exit(0);\n}}\n");
}

}  // namespace

std::string c_program(const Workload& workload) {
  fmt::memory_buffer out;
  auto to = std::back_inserter(out);
  fmt::format_to(to, "{}", kSystemCalls);
  switch (workload.shape) {
    case Shape::kExit42: fmt::format_to(to, "void _start(void) {{ sys_exit(42); }}\n"); break;
    case Shape::kHello:
      fmt::format_to(to, "static const char message[] = \"Hello, world!\\n\";\n"
                         "void _start(void) {{\n  sys_write(1, message, {});\n  sys_exit(0);\n}}\n",
                     kHelloMessage.size());
      break;
    case Shape::kLoop:
      fmt::format_to(to, "static const char message[] = \"Hello, world!\\n\";\nstatic int counter;\n"
                         "void _start(void) {{\n  do sys_write(1, message, {});\n  while (++counter != {});\n"
                         "  sys_exit(0);\n}}\n",
                     kHelloMessage.size(), kLoopTimes);
      break;
    case Shape::kMixed: mixed_program(out, workload.instructions); break;
  }
  return fmt::to_string(out);
}

}  // namespace bench
