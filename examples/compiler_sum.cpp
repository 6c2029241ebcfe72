// compiler_sum — x86::Compiler with virtual registers and register allocation: a function that
// sums the squares 1² + 2² + ... + n² in a loop, called with n = 5 from a hand-written _start that
// passes the result to exit. Exit status: 55.
//
//   build:  cmake --build build --target compiler_sum
//   run:    build/examples/compiler_sum out/sum && out/sum; echo $?    # prints 55
#include "example_main.hpp"

tinyelf::Image example::build(const Options& options) {
  using namespace asmjit;
  if (options.mov_form) throw UsageError{"--mov-form: the Compiler chooses the instructions here"};
  tinyelf::Program program;
  x86::Compiler cc(&program.code());
  FuncNode* function = cc.addFunc(FuncSignatureT<int, int>(CallConvId::kHost));

  // _start, written first with the Assembler so it sits at the start of text (the default
  // entry). The Compiler appends the function after it when it is finalized.
  x86::Assembler& a = program.text();
  a.mov(x86::edi, 5);            // n
  a.call(function->label());
  a.mov(x86::edi, x86::eax);     // exit status: the sum
  a.mov(x86::eax, 60);           // SYS_exit
  a.syscall();

  x86::Gp n = cc.newInt32("n");
  x86::Gp i = cc.newInt32("i");
  x86::Gp sum = cc.newInt32("sum");
  x86::Gp square = cc.newInt32("square");
  Label loop = cc.newLabel();
  function->setArg(0, n);
  cc.xor_(sum, sum);
  cc.mov(i, 1);
  cc.bind(loop);                 // do { sum += i * i; } while (++i <= n);
  cc.mov(square, i);
  cc.imul(square, i);
  cc.add(sum, square);
  cc.inc(i);
  cc.cmp(i, n);
  cc.jle(loop);
  cc.ret(sum);
  cc.endFunc();
  cc.finalize();                 // register allocation, then the code goes into text
  return program.link(options.link);
}
