// libc_tour — more of what a generated program wants from libc and libm, with no linker:
//   - qsort() sorts an array with a comparator written here in AsmJit: libc calls back into the
//     generated code;
//   - printf("%f") prints doubles computed by libm's sqrt() and cos() (a variadic call: al holds
//     the number of vector registers used);
//   - getenv("HOME") and argv[0], read from the stack the entry gets.
// Prints, with HOME=/root and run as out/libc_tour:
//   sorted: -7 0 3 12 42
//   sqrt(2) = 1.414214, cos(0) = 1.000000
//   HOME=/root, argv[0]=out/libc_tour
//
//   build:  cmake --build build --target libc_tour
//   run:    build/examples/libc_tour out/libc_tour && out/libc_tour
#include <array>
#include <cstdint>

#include "example_main.hpp"

tinyelf::Image example::build(const Options& options) {
  using namespace asmjit;
  tinyelf::Program program;
  constexpr std::array<std::int32_t, 5> kNumbers = {42, -7, 12, 0, 3};
  const Label numbers = program.data(kNumbers.data(), sizeof kNumbers, 4);
  const Label sorted = program.rodata("sorted:\0");
  const Label number = program.rodata(" %d\0");
  const Label newline = program.rodata("\n\0");
  const Label maths = program.rodata("sqrt(2) = %f, cos(0) = %f\n\0");
  const Label two = program.rodata("\0\0\0\0\0\0\0\x40", 8);  // 2.0
  const Label home = program.rodata("HOME\0");
  const Label environment = program.rodata("HOME=%s, argv[0]=%s\n\0");
  const Label qsort = program.import("libc.so.6", "qsort");
  const Label printf = program.import("libc.so.6", "printf");
  const Label getenv = program.import("libc.so.6", "getenv");
  const Label exit = program.import("libc.so.6", "exit");
  const Label sqrt = program.import("libm.so.6", "sqrt");
  const Label cos = program.import("libm.so.6", "cos");
  const Label compare = program.text().newLabel();
  const Label start = program.text().newLabel();
  x86::Assembler& a = program.text();

  // int compare(const int* x, const int* y): (*x > *y) - (*x < *y), without overflow.
  a.bind(compare);
  a.mov(x86::ecx, x86::dword_ptr(x86::rdi));
  a.xor_(x86::eax, x86::eax);
  a.cmp(x86::ecx, x86::dword_ptr(x86::rsi));
  a.setg(x86::al);
  a.setl(x86::cl);
  a.movzx(x86::ecx, x86::cl);
  a.sub(x86::eax, x86::ecx);
  a.ret();

  // At the entry: [rsp] = argc, [rsp + 8] = argv[0]; rsp is 16-byte aligned. rbx and r12 are
  // callee-saved: they survive the calls.
  a.bind(start);
  a.mov(x86::r12, x86::qword_ptr(x86::rsp, 8));    // argv[0]
  a.sub(x86::rsp, 16);                             // keep 16-byte alignment, room for a double
  a.lea(x86::rdi, x86::ptr(numbers));
  a.mov(x86::esi, kNumbers.size());
  a.mov(x86::edx, sizeof(std::int32_t));
  a.lea(x86::rcx, x86::ptr(compare));
  a.call(x86::qword_ptr(qsort));                   // qsort(numbers, 5, 4, compare)
  a.lea(x86::rdi, x86::ptr(sorted));
  a.xor_(x86::eax, x86::eax);                      // no vector register
  a.call(x86::qword_ptr(printf));
  a.xor_(x86::ebx, x86::ebx);
  const Label next = a.newLabel();
  a.bind(next);
  a.lea(x86::rdi, x86::ptr(number));
  a.lea(x86::rax, x86::ptr(numbers));
  a.mov(x86::esi, x86::dword_ptr(x86::rax, x86::rbx, 2));
  a.xor_(x86::eax, x86::eax);
  a.call(x86::qword_ptr(printf));                  // printf(" %d", numbers[i])
  a.inc(x86::ebx);
  a.cmp(x86::ebx, kNumbers.size());
  a.jb(next);
  a.lea(x86::rdi, x86::ptr(newline));
  a.xor_(x86::eax, x86::eax);
  a.call(x86::qword_ptr(printf));

  a.movsd(x86::xmm0, x86::qword_ptr(two));
  a.call(x86::qword_ptr(sqrt));                    // sqrt(2.0) in xmm0
  a.movsd(x86::qword_ptr(x86::rsp), x86::xmm0);
  a.xorpd(x86::xmm0, x86::xmm0);
  a.call(x86::qword_ptr(cos));                     // cos(0.0) in xmm0
  a.movapd(x86::xmm1, x86::xmm0);
  a.movsd(x86::xmm0, x86::qword_ptr(x86::rsp));
  a.lea(x86::rdi, x86::ptr(maths));
  a.mov(x86::eax, 2);                              // two vector registers: xmm0, xmm1
  a.call(x86::qword_ptr(printf));

  a.lea(x86::rdi, x86::ptr(home));
  a.call(x86::qword_ptr(getenv));
  a.mov(x86::rsi, x86::rax);                       // printf prints "(null)" for an unset HOME
  a.mov(x86::rdx, x86::r12);
  a.lea(x86::rdi, x86::ptr(environment));
  a.xor_(x86::eax, x86::eax);
  a.call(x86::qword_ptr(printf));
  a.xor_(x86::edi, x86::edi);
  a.call(x86::qword_ptr(exit));                    // flushes stdout
  program.set_entry(start);
  return program.link(options.link);
}
