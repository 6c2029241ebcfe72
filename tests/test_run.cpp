// tinyelf::run: exit status, signals, captured output, stdin, arguments, timeout, refused files.
#include <csignal>

#include <catch2/catch.hpp>

#include "support.hpp"

namespace x86 = asmjit::x86;
using asmjit::Label;
using Catch::Matchers::Contains;

namespace {

tinyelf::Image cat_program() {
  tinyelf::Program program;
  test::emit_cat(program, 4096);
  return program.link();
}

}  // namespace

TEST_CASE("stdin is fed and stdout captured") {
  const tinyelf::Image cat = cat_program();
  CHECK(tinyelf::run(cat, {}, "").out.empty());
  const tinyelf::RunResult r = tinyelf::run(cat, {}, "one line\nand another\n");
  CHECK(r.out == "one line\nand another\n");
  CHECK(r.exit_code == 0);
  CHECK_FALSE(r.timed_out);
  const std::string big(1 << 20, 'z');
  CHECK(tinyelf::run(cat, {}, big).out == big);
}

TEST_CASE("stderr is captured apart from stdout") {
  tinyelf::Program program;
  const Label text = program.rodata("to stderr");
  x86::Assembler& a = program.text();
  a.mov(x86::eax, 1);
  a.mov(x86::edi, 2);
  a.lea(x86::rsi, x86::ptr(text));
  a.mov(x86::edx, 9);
  a.syscall();
  a.mov(x86::eax, 60);
  a.mov(x86::edi, 3);
  a.syscall();
  const tinyelf::RunResult r = tinyelf::run(program.link());
  CHECK(r.err == "to stderr");
  CHECK(r.out.empty());
  CHECK(r.exit_code == 3);
}

TEST_CASE("argv is {\"tinyelf\", args...}: the program sees argc") {
  tinyelf::Program program;
  x86::Assembler& a = program.text();
  a.mov(x86::rdi, x86::qword_ptr(x86::rsp));  // argc, at the top of the initial stack (psABI 3.4.1)
  a.mov(x86::eax, 60);
  a.syscall();
  const tinyelf::Image image = program.link();
  CHECK(tinyelf::run(image).exit_code == 1);
  CHECK(tinyelf::run(image, {"a", "b", "c"}).exit_code == 4);
}

TEST_CASE("a program killed by a signal reports the signal") {
  tinyelf::Program program;
  program.text().ud2();
  const tinyelf::RunResult r = tinyelf::run(program.link());
  CHECK(r.term_signal == SIGILL);
  CHECK(r.exit_code == -1);
  CHECK_FALSE(r.timed_out);
}

TEST_CASE("the program starts with default signal actions and nothing blocked, whatever the caller set") {
  struct sigaction ignore {}, handle {}, old_term {}, old_hup {};
  ignore.sa_handler = SIG_IGN;
  handle.sa_handler = [](int) {};
  REQUIRE(::sigaction(SIGTERM, &ignore, &old_term) == 0);
  REQUIRE(::sigaction(SIGHUP, &handle, &old_hup) == 0);
  sigset_t usr1, old_mask;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  REQUIRE(::pthread_sigmask(SIG_BLOCK, &usr1, &old_mask) == 0);
  const tinyelf::RunResult term = tinyelf::run(test::self_kill_program(SIGTERM)),
                          hup = tinyelf::run(test::self_kill_program(SIGHUP)),
                          user = tinyelf::run(test::self_kill_program(SIGUSR1));
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  ::sigaction(SIGHUP, &old_hup, nullptr);
  CHECK(term.term_signal == SIGTERM);
  CHECK(hup.term_signal == SIGHUP);
  CHECK(user.term_signal == SIGUSR1);
}

TEST_CASE("the timeout kills a program that never ends") {
  tinyelf::Program program;
  x86::Assembler& a = program.text();
  Label forever = a.newLabel();
  a.bind(forever);
  a.jmp(forever);
  const tinyelf::RunResult r = tinyelf::run(program.link(), {}, {}, std::chrono::milliseconds(200));
  CHECK(r.timed_out);
  CHECK(r.term_signal == SIGKILL);
}

TEST_CASE("a file the kernel refuses is an error naming errno, not an exit status") {
  tinyelf::Program program;
  program.text().ret();
  const tinyelf::Image image = program.link();
  std::vector<std::uint8_t> bytes(image.bytes().begin(), image.bytes().end());
  bytes[18] = 3;  // e_machine = EM_386: binfmt_elf refuses it with ENOEXEC (fs/binfmt_elf.c, elf_check_arch)
  try {
    tinyelf::run(bytes);
    FAIL("run() accepted a file with the wrong e_machine");
  } catch (const tinyelf::Error& e) {
    CHECK(e.code() == tinyelf::ErrorCode::kExecRefused);
    CHECK_THAT(e.what(), Contains("ENOEXEC"));
  }
}
