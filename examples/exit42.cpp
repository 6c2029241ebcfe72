// exit42 — the smallest useful program: exit with status 42, assuming nothing about the registers.
// 120 bytes: a 64-byte ELF header and a 56-byte program header, with the 8 code bytes in the
// program header's p_paddr; 80 bytes with --compact (the code sits in e_ident).
//
// --mov-form writes the constants with mov (12 code bytes): 127 bytes, the code split between
// p_paddr and the end of the file.
//
//   build:  cmake --build build --target exit42
//   run:    build/examples/exit42 out/exit42 && out/exit42; echo $?    # prints 42
//           build/examples/exit42 --compact out/exit42c                 # 80 bytes
#include "example_main.hpp"

tinyelf::Image example::build(const Options& options) {
  using namespace asmjit;
  tinyelf::Program program;
  x86::Assembler& a = program.text();
  if (!options.mov_form) {
    a.push(42);           // 6A 2A            exit status
    a.pop(x86::rdi);      // 5F               first syscall argument
    a.push(60);           // 6A 3C            SYS_exit (arch/x86/entry/syscalls/syscall_64.tbl)
    a.pop(x86::rax);      // 58
  } else {
    a.mov(x86::edi, 42);  // BF 2A 00 00 00
    a.mov(x86::eax, 60);  // B8 3C 00 00 00
  }
  a.syscall();            // 0F 05
  return program.link(options.link);
}
