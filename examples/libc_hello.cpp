// libc_hello — puts("Hello, world!") and exit(0) through the system's libc, with no linker: the
// program imports both functions (Program::import) and ld.so fills their slots before the entry
// runs. At the entry the stack pointer is 16-byte aligned, as every call needs it. 653 bytes:
// five program headers (PT_INTERP, R+X, R+W, PT_DYNAMIC, PT_GNU_STACK) holding the 19 bytes of
// code and the message in fields nothing reads, then the interpreter's path and the dynamic
// tables (685 with --no-pack); eu-elflint --strict, readelf, file, ldd and gdb read it. Layout::kCompact cannot carry imports yet: --compact is refused.
//
//   build:  cmake --build build --target libc_hello
//   run:    build/examples/libc_hello out/libc_hello && out/libc_hello   # prints Hello, world!
//           ldd out/libc_hello                                           # libc.so.6 => ...
#include "example_main.hpp"

tinyelf::Image example::build(const Options& options) {
  using namespace asmjit;
  tinyelf::Program program;
  const Label message = program.rodata("Hello, world!\0", 1);  // puts adds the newline
  const Label puts = program.import("libc.so.6", "puts");
  const Label exit = program.import("libc.so.6", "exit");
  x86::Assembler& a = program.text();
  a.lea(x86::rdi, x86::ptr(message));            // the string
  a.call(x86::qword_ptr(puts));                  // call [rip + slot]: rsp is 16-byte aligned
  a.xor_(x86::edi, x86::edi);                    // status 0
  a.call(x86::qword_ptr(exit));                  // exit() flushes stdio; it does not return
  return program.link(options.link);
}
