// The cases every benchmark builds, shared so the timed benchmarks, the memory probe and the
// instruction-count probe measure exactly the same work.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <tinyelf/tinyelf.hpp>

#include "raw_asmjit.hpp"

namespace bench {

// exit42 and hello with tinyelf, into a new or reset Program: packed (the default, 120 and 150
// bytes) or with LinkOptions::pack = false (128 and 158 bytes), which skips describing,
// planning (and for hello, trying instruction orders) and writing the header holes.
tinyelf::Image tinyelf_exit42(tinyelf::Program& program);
tinyelf::Image tinyelf_hello(tinyelf::Program& program);
tinyelf::Image tinyelf_exit42_unpacked(tinyelf::Program& program);
tinyelf::Image tinyelf_hello_unpacked(tinyelf::Program& program);
// The loop program (generator.hpp, emit_loop), packed and with pack = false.
tinyelf::Image tinyelf_loop(tinyelf::Program& program);
tinyelf::Image tinyelf_loop_unpacked(tinyelf::Program& program);
// puts(message) and exit(0) through libc (Program::import), and the same instructions calling
// through slots in bss instead of imports, packed (the default) and with pack = false.
tinyelf::Image tinyelf_libc_hello(tinyelf::Program& program);
tinyelf::Image tinyelf_libc_hello_bss(tinyelf::Program& program);
tinyelf::Image tinyelf_libc_hello_bss_unpacked(tinyelf::Program& program);
// `count` mixed instructions (generator.hpp) in a new Program, linked with `options`.
tinyelf::Image tinyelf_large(std::size_t count, const tinyelf::LinkOptions& options = {});
// The same instructions named as functions would be, a symbol every kInstructionsPerSymbol
// ("f0", "f1", ...), linked with DebugInfo::kSymbols: what names cost against tinyelf_large().
inline constexpr std::size_t kInstructionsPerSymbol = 1000;
tinyelf::Image tinyelf_large_symbols(std::size_t count);

// The same with raw AsmJit (raw_asmjit.hpp).
std::vector<std::uint8_t> raw_exit42(RawAsmJit& raw);
std::vector<std::uint8_t> raw_hello(RawAsmJit& raw);
std::vector<std::uint8_t> raw_loop(RawAsmJit& raw);
std::vector<std::uint8_t> raw_large(std::size_t count);

}  // namespace bench
