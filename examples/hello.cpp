// hello — write "Hello, world!\n" to stdout and exit 0, assuming nothing about the registers at
// entry. 24 bytes of code and 14 of rodata: 150 bytes, the first code bytes in p_paddr and the
// lea of the message emitted as a 5-byte mov esi, imm32 (its address is below 4 GiB); 95 bytes
// with --compact; 91 bytes with --compact --assume-zeroed-registers, which lets the packer rely on
// Linux's zeroed registers to shorten push 1 / pop rax into mov al, 1, and so on. The packer tries
// the orders of independent instructions at the start of the program and keeps the one that fills
// the header holes best, so the order written here does not change the size. --mov-form writes
// the constants with mov, as hand-written nasm usually does: 33 bytes of code.
//
//   build:  cmake --build build --target hello
//   run:    build/examples/hello out/hello && out/hello                # prints Hello, world!
//           build/examples/hello --compact out/helloc                   # 95 bytes
#include "example_main.hpp"

tinyelf::Image example::build(const Options& options) {
  using namespace asmjit;
  constexpr std::string_view kMessage = "Hello, world!\n";
  tinyelf::Program program;
  const Label message = program.rodata(kMessage);
  x86::Assembler& a = program.text();
  if (!options.mov_form) {
    a.push(1);                                   // SYS_write
    a.pop(x86::rax);
    a.mov(x86::edi, x86::eax);                   // fd 1: stdout
    a.lea(x86::rsi, x86::ptr(message));          // RIP-relative address of the message
    a.push(static_cast<int>(kMessage.size()));   // byte count
    a.pop(x86::rdx);
    a.syscall();
    a.push(60);                                  // SYS_exit
    a.pop(x86::rax);
  } else {
    a.mov(x86::eax, 1);
    a.mov(x86::edi, 1);
    a.lea(x86::rsi, x86::ptr(message));
    a.mov(x86::edx, kMessage.size());
    a.syscall();
    a.mov(x86::eax, 60);
  }
  a.xor_(x86::edi, x86::edi);                    // status 0
  a.syscall();
  return program.link(options.link);
}
