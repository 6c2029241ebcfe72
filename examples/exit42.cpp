// exit42 — the smallest useful program: exit with status 42. 128 bytes: 64 (ELF header)
// + 56 (program header) + 8 (code).
//
//   build:  cmake --build build --target exit42
//   run:    build/examples/exit42 out/exit42 && out/exit42; echo $?    # prints 42
#include "example_main.hpp"

tinyelf::Image example::build() {
  using namespace asmjit;
  tinyelf::Program program;
  x86::Assembler& a = program.text();
  a.push(42);       // 6A 2A   exit status
  a.pop(x86::rdi);  // 5F      first syscall argument
  a.push(60);       // 6A 3C   SYS_exit (arch/x86/entry/syscalls/syscall_64.tbl)
  a.pop(x86::rax);  // 58
  a.syscall();      // 0F 05
  return program.link();
}
