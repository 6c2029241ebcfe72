// Builds exit(7) with the installed library, runs it from memory, exits 0 if it got 7.
#include <cstdio>

#include <tinyelf/tinyelf.hpp>

int main() {
  namespace x86 = asmjit::x86;
  tinyelf::Program program;
  program.text().mov(x86::edi, 7);
  program.text().mov(x86::eax, 60);
  program.text().syscall();
  const tinyelf::RunResult result = tinyelf::run(program.link());
  std::printf("consumer: exit status %d\n", result.exit_code);
  return result.exit_code == 7 ? 0 : 1;
}
