// The nasm + ld peer (nasm -f elf64, then ld -n -N --strip-all), building exit42, hello and loop
// from the same instructions as generator.hpp in assembly source. Both tools are started with
// posix_spawn (no shell) on files in a private temporary folder, and the result is read back into
// memory, so the work ends where tinyelf's does: the bytes of the executable.
#include <fstream>
#include <string>

#include "peers.hpp"
#include "process.hpp"

namespace bench {

namespace {

constexpr const char* kExit42Source = R"(bits 64
global _start
section .text
_start:
  push 42
  pop rdi
  push 60
  pop rax
  syscall
)";

constexpr const char* kHelloSource = R"(bits 64
global _start
section .rodata
message: db "Hello, world!", 10
section .text
_start:
  push 1
  pop rax
  mov edi, eax
  lea rsi, [rel message]
  push 14
  pop rdx
  syscall
  push 60
  pop rax
  xor edi, edi
  syscall
)";

constexpr const char* kLoopSource = R"(bits 64
global _start
section .rodata
message: db "Hello, world!", 10
section .data
counter: dd 0
section .text
_start:
  push 1
  pop rax
  mov edi, eax
  lea rsi, [rel message]
  mov edx, 14
  syscall
  add dword [rel counter], 1
  cmp dword [rel counter], 3
  jne _start
  mov eax, 60
  xor edi, edi
  syscall
)";

class NasmLdBuilder final : public Builder {
 public:
  std::vector<std::uint8_t> build(const Workload& workload) override {
    const std::string source = workspace_.path("program.asm");
    const std::string object = workspace_.path("program.o");
    const std::string exe = workspace_.path("program");
    const std::string log = workspace_.path("stderr.log");
    std::ofstream(source) << (workload.shape == Shape::kExit42  ? kExit42Source
                              : workload.shape == Shape::kHello ? kHelloSource
                                                                : kLoopSource);
    spawn_and_wait({TINYELF_BENCH_NASM, "-f", "elf64", source, "-o", object}, log);
    spawn_and_wait({TINYELF_BENCH_LD, "-n", "-N", "--strip-all", object, "-o", exe}, log);
    return read_file(exe);
  }

 private:
  Workspace workspace_;
};

[[maybe_unused]] const bool registered = register_peer({
    .name = "nasm_ld",
    .make = [] { return std::unique_ptr<Builder>(new NasmLdBuilder); },
    .timed = kSmallWorkloads,
    .memory = kSmallWorkloads,
    .wall_clock = true,  // the time is spent in child processes
});

}  // namespace

}  // namespace bench
