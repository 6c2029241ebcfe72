// The cases every benchmark builds (cases.hpp).
#include "cases.hpp"

#include <fmt/format.h>

#include "generator.hpp"

namespace bench {

tinyelf::Image tinyelf_exit42(tinyelf::Program& program) {
  emit_exit42(program.text());
  return program.link();
}

tinyelf::Image tinyelf_hello(tinyelf::Program& program) {
  const asmjit::Label message = program.rodata(kHelloMessage);
  emit_hello(program.text(), message);
  return program.link();
}

namespace {

// lea rdi, [message]; call [puts]; xor edi, edi; call [exit]
void emit_libc_hello(asmjit::x86::Assembler& a, asmjit::Label message, asmjit::Label puts, asmjit::Label exit) {
  namespace x86 = asmjit::x86;
  a.lea(x86::rdi, x86::ptr(message));
  a.call(x86::qword_ptr(puts));
  a.xor_(x86::edi, x86::edi);
  a.call(x86::qword_ptr(exit));
}

}  // namespace

tinyelf::Image tinyelf_libc_hello(tinyelf::Program& program) {
  const asmjit::Label message = program.rodata("Hello, world!\0");
  emit_libc_hello(program.text(), message, program.import("libc.so.6", "puts"), program.import("libc.so.6", "exit"));
  return program.link();
}

tinyelf::Image tinyelf_libc_hello_bss(tinyelf::Program& program) {
  const asmjit::Label message = program.rodata("Hello, world!\0");
  emit_libc_hello(program.text(), message, program.bss(8, 8), program.bss(8, 8));
  return program.link();
}

tinyelf::Image tinyelf_libc_hello_bss_unpacked(tinyelf::Program& program) {
  const asmjit::Label message = program.rodata("Hello, world!\0");
  emit_libc_hello(program.text(), message, program.bss(8, 8), program.bss(8, 8));
  return program.link({.pack = false});
}

tinyelf::Image tinyelf_exit42_unpacked(tinyelf::Program& program) {
  emit_exit42(program.text());
  return program.link({.pack = false});
}

tinyelf::Image tinyelf_hello_unpacked(tinyelf::Program& program) {
  const asmjit::Label message = program.rodata(kHelloMessage);
  emit_hello(program.text(), message);
  return program.link({.pack = false});
}

tinyelf::Image tinyelf_loop(tinyelf::Program& program) {
  const asmjit::Label message = program.rodata(kHelloMessage);
  const asmjit::Label counter = program.data(kLoopCounter.data(), kLoopCounter.size(), 4);
  emit_loop(program.text(), message, counter);
  return program.link();
}

tinyelf::Image tinyelf_loop_unpacked(tinyelf::Program& program) {
  const asmjit::Label message = program.rodata(kHelloMessage);
  const asmjit::Label counter = program.data(kLoopCounter.data(), kLoopCounter.size(), 4);
  emit_loop(program.text(), message, counter);
  return program.link({.pack = false});
}

// The Program is freed before the image, and RawAsmJit before its buffer in raw_large: the order
// of frees decides how glibc reuses its heap, so both cases keep the same one.
tinyelf::Image tinyelf_large(std::size_t count, const tinyelf::LinkOptions& options) {
  tinyelf::Program program;
  StreamData data;
  data.table = program.rodata(kTable.data(), kTable.size(), 8);
  data.cells = program.data(kCells.data(), kCells.size(), 8);
  emit_mixed(program.text(), data, count);
  return program.link(options);
}

tinyelf::Image tinyelf_large_symbols(std::size_t count) {
  tinyelf::Program program;
  StreamData data;
  data.table = program.rodata(kTable.data(), kTable.size(), 8);
  data.cells = program.data(kCells.data(), kCells.size(), 8);
  asmjit::x86::Assembler& a = program.text();
  emit_mixed(a, data, count, [&](std::size_t i) {
    if (i % kInstructionsPerSymbol != 0) return;
    const asmjit::Label function = a.newLabel();
    a.bind(function);
    program.symbol(function, fmt::format("f{}", i / kInstructionsPerSymbol));
  });
  return program.link({.debug_info = tinyelf::DebugInfo::kSymbols});
}

std::vector<std::uint8_t> raw_exit42(RawAsmJit& raw) {
  emit_exit42(raw.text());
  return raw.finish();
}

std::vector<std::uint8_t> raw_hello(RawAsmJit& raw) {
  const asmjit::Label message = raw.rodata(kHelloMessage.data(), kHelloMessage.size());
  emit_hello(raw.text(), message);
  return raw.finish();
}

std::vector<std::uint8_t> raw_loop(RawAsmJit& raw) {
  const asmjit::Label message = raw.rodata(kHelloMessage.data(), kHelloMessage.size());
  const asmjit::Label counter = raw.data(kLoopCounter.data(), kLoopCounter.size());
  emit_loop(raw.text(), message, counter);
  return raw.finish();
}

std::vector<std::uint8_t> raw_large(std::size_t count) {
  RawAsmJit raw;
  StreamData data;
  data.table = raw.rodata(kTable.data(), kTable.size());
  data.cells = raw.data(kCells.data(), kCells.size());
  emit_mixed(raw.text(), data, count);
  return raw.finish();
}

}  // namespace bench
