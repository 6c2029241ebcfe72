// tinyelf::run: exit status, signals, captured output, stdin, arguments, timeout, refused files,
// RunOptions, memory-deny-write-execute, scripts.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <optional>

#include <catch2/catch.hpp>

#include "../lib/mdwe_p.hpp"
#include "support.hpp"

namespace x86 = asmjit::x86;
using asmjit::Label;
using Catch::Matchers::Contains;
using namespace std::chrono_literals;

namespace {

std::vector<std::uint8_t> bytes_of(std::string_view text) { return {text.begin(), text.end()}; }

void check_mdwe_unsupported_error(const tinyelf::Error& e) {
  CHECK(e.code() == tinyelf::ErrorCode::kRunFailed);
  CHECK_THAT(e.what(), Contains("deny_write_execute needs Linux 6.3 or later"));
  CHECK_THAT(e.what(), Contains("EINVAL"));
}

// run() with deny_write_execute, and what the machine says it must do: on Linux 6.3 and later the
// result; before, run() must throw Error(kRunFailed) saying so, which is checked here, and the
// caller has nothing more to check.
std::optional<tinyelf::RunResult> run_denying_write_execute(std::span<const std::uint8_t> file,
                                                            tinyelf::RunOptions options = {}) {
  options.deny_write_execute = true;
  if (test::mdwe_flags()) return tinyelf::run(file, options);
  WARN("this kernel has no PR_SET_MDWE (Linux 6.3): checking that run() says so");
  try {
    tinyelf::run(file, options);
    FAIL("run() with deny_write_execute succeeded on a kernel without PR_SET_MDWE");
  } catch (const tinyelf::Error& e) {
    check_mdwe_unsupported_error(e);
  }
  return std::nullopt;
}

// exit(prctl(PR_GET_MDWE)): the program reports the MDWE flags it runs under.
tinyelf::Image mdwe_flags_program() {
  tinyelf::Program program;
  x86::Assembler& a = program.text();
  a.mov(x86::eax, 157);  // SYS_prctl
  a.mov(x86::edi, tinyelf::detail::kPrGetMdwe);
  a.xor_(x86::esi, x86::esi);
  a.xor_(x86::edx, x86::edx);
  a.xor_(x86::r10d, x86::r10d);
  a.xor_(x86::r8d, x86::r8d);
  a.syscall();
  a.mov(x86::edi, x86::eax);
  a.mov(x86::eax, 60);  // SYS_exit
  a.syscall();
  return program.link();
}

// Writes to its bss and exits with 7: link() makes its one PT_LOAD R|W|X.
// With bss, as one R|W|X segment unless `split` (link()'s default: R|X and R|W).
tinyelf::Image writable_program(bool split = false) {
  tinyelf::Program program;
  const Label counter = program.bss(8);
  x86::Assembler& a = program.text();
  a.mov(x86::dword_ptr(counter), 7);
  a.mov(x86::edi, x86::dword_ptr(counter));
  a.mov(x86::eax, 60);  // SYS_exit
  a.syscall();
  return program.link({.single_segment = !split});
}

tinyelf::Image hello_image() {
  tinyelf::Program program;
  const Label message = program.rodata("Hello, world!\n");
  x86::Assembler& a = program.text();
  a.mov(x86::eax, 1);  // SYS_write
  a.mov(x86::edi, 1);
  a.lea(x86::rsi, x86::ptr(message));
  a.mov(x86::edx, 14);
  a.syscall();
  a.mov(x86::eax, 60);  // SYS_exit
  a.xor_(x86::edi, x86::edi);
  a.syscall();
  return program.link();
}

constexpr std::string_view kScript =
    "#!/bin/sh\n"
    "printf 'argument: %s\\n' \"$1\"\n"
    "read -r line\n"
    "printf 'stdin: %s\\n' \"$line\"\n"
    "printf 'script: %s\\n' \"$0\"\n"
    "exit 5\n";

void check_script_result(const tinyelf::RunResult& r) {
  CHECK(r.exit_code == 5);
  CHECK_THAT(r.out, Contains("argument: one  two\nstdin: first line\nscript: /dev/fd/"));
  CHECK(r.err.empty());
}

}  // namespace

TEST_CASE("stdin is fed and stdout captured") {
  const tinyelf::Image cat = test::cat_program(4096);
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

TEST_CASE("max_output stops a program that prints forever once it printed that much") {
  tinyelf::Program program;
  x86::Assembler& a = program.text();
  const Label line = program.rodata("y\n");
  Label forever = a.newLabel();
  a.bind(forever);
  a.mov(x86::eax, 1);  // write(1, "y\n", 2)
  a.mov(x86::edi, 1);
  a.lea(x86::rsi, x86::ptr(line));
  a.mov(x86::edx, 2);
  a.syscall();
  a.jmp(forever);
  const tinyelf::Image image = program.link();

  const tinyelf::RunResult r = tinyelf::run(image, {.timeout = std::chrono::seconds(60), .max_output = 1000});
  CHECK(r.output_limited);
  CHECK_FALSE(r.timed_out);
  CHECK(r.term_signal == SIGKILL);
  REQUIRE(r.out.size() >= 1000);
  CHECK(r.out.substr(0, 6) == "y\ny\ny\n");

  // A program that exits before printing that much is not limited.
  tinyelf::Program quiet;
  quiet.text().mov(x86::edi, 3);
  quiet.text().mov(x86::eax, 60);
  quiet.text().syscall();
  const tinyelf::RunResult q = tinyelf::run(quiet.link(), {.max_output = 1});
  CHECK_FALSE(q.output_limited);
  CHECK(q.exit_code == 3);
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

TEST_CASE("RunOptions: args, input and timeout as the positional overloads take them") {
  const tinyelf::Image cat = test::cat_program(4096);
  CHECK(tinyelf::run(cat, {.input = "through RunOptions\n"}).out == "through RunOptions\n");
  CHECK(tinyelf::run(cat, {}).out.empty());  // RunOptions{}: the same as run(cat)

  tinyelf::Program program;
  x86::Assembler& a = program.text();
  a.mov(x86::rdi, x86::qword_ptr(x86::rsp));  // argc
  a.mov(x86::eax, 60);
  a.syscall();
  const tinyelf::Image argc = program.link();
  CHECK(tinyelf::run(argc, {.args = {"a", "b"}}).exit_code == 3);
  const tinyelf::RunOptions options{.args = {"x"}};
  CHECK(tinyelf::run(argc.bytes(), options).exit_code == 2);

  tinyelf::Program endless;
  Label forever = endless.text().newLabel();
  endless.text().bind(forever);
  endless.text().jmp(forever);
  const tinyelf::RunResult r = tinyelf::run(endless.link(), {.timeout = 200ms});
  CHECK(r.timed_out);
  CHECK(r.term_signal == SIGKILL);
}

TEST_CASE("deny_write_execute: a writable and executable segment is killed during execve") {
  const tinyelf::Image image = writable_program();
  REQUIRE(test::read_headers(image.bytes()).phdr.p_flags == (PF_R | PF_W | PF_X));
  CHECK(tinyelf::run(image).exit_code == 7);
  if (const auto r = run_denying_write_execute(image.bytes())) {
    // The kernel refuses the R|W|X mapping after the point of no return of execve (map_deny_write_exec,
    // include/linux/mman.h; load_elf_binary, fs/binfmt_elf.c), so the process gets SIGSEGV.
    CHECK(r->term_signal == SIGSEGV);
    CHECK(r->exit_code == -1);
  }
  // The same program in link()'s default W^X layout runs.
  const tinyelf::Image split = writable_program(true);
  REQUIRE(test::read_headers(split.bytes()).phdrs.size() == 2);
  if (const auto r = run_denying_write_execute(split.bytes())) CHECK(r->exit_code == 7);
}

TEST_CASE("deny_write_execute: a read and execute only program runs, under MDWE") {
  const tinyelf::Image hello = hello_image();
  REQUIRE(test::read_headers(hello.bytes()).phdr.p_flags == (PF_R | PF_X));
  if (const auto r = run_denying_write_execute(hello.bytes())) {
    CHECK(r->out == "Hello, world!\n");
    CHECK(r->exit_code == 0);
  }
  const tinyelf::Image flags = mdwe_flags_program();
  if (const auto r = run_denying_write_execute(flags.bytes())) {
    CHECK(r->exit_code == 1);  // PR_MDWE_REFUSE_EXEC_GAIN, and not PR_MDWE_NO_INHERIT
  }
  if (test::mdwe_flags() == 0) CHECK(tinyelf::run(flags).exit_code == 0);
}

TEST_CASE("deny_write_execute leaves the caller's address space as it was") {
  // A vfork child shares the caller's mm, where MDWE is kept: setting it there would be for good.
  const std::optional<int> before = test::mdwe_flags();
  const tinyelf::Image hello = hello_image();
  for (int i = 0; i < 3; ++i) run_denying_write_execute(hello.bytes());
  CHECK(test::mdwe_flags().value_or(-1) == before.value_or(-1));  // -1: no MDWE on this kernel
  if (before) CHECK(*before == 0);
  SECTION("and the next run without it is not denied either") {
    CHECK(tinyelf::run(writable_program()).exit_code == 7);
  }
}

TEST_CASE("deny_write_execute on a kernel without PR_SET_MDWE: Error(kRunFailed) says Linux 6.3") {
  // An older kernel, as its prctl() answers PR_SET_MDWE: EINVAL. A seccomp filter gives that answer
  // in a child of this test, so the path runs on any kernel; the filter stays with the child.
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(pipe_fds[0]);
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_prctl, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),  // low half: little endian
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, tinyelf::detail::kPrSetMdwe, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    const sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) != 0 ||
        ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0)
      ::_exit(2);
    std::string message = "no error";
    int status = 3;
    try {
      tinyelf::run(hello_image(), {.deny_write_execute = true});
    } catch (const tinyelf::Error& e) {
      message = e.what();
      status = e.code() == tinyelf::ErrorCode::kRunFailed ? 0 : 4;
    }
    (void)!::write(pipe_fds[1], message.data(), message.size());
    ::_exit(status);
  }
  ::close(pipe_fds[1]);
  std::string message;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) message.append(buffer, n);
  ::close(pipe_fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  INFO(message);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);  // 2: no seccomp here, 3: run() did not throw, 4: another code
  check_mdwe_unsupported_error(tinyelf::Error(tinyelf::ErrorCode::kRunFailed, message));
}

TEST_CASE("a #! script runs with its interpreter, its argument and stdin, no shell on our side") {
  const std::vector<std::uint8_t> script = bytes_of(kScript);
  check_script_result(tinyelf::run(script, {.args = {"one  two"}, .input = "first line\nsecond line\n"}));
  SECTION("the positional overload too") {
    check_script_result(tinyelf::run(script, {"one  two"}, "first line\n"));
  }
  SECTION("under deny_write_execute (the shell maps nothing writable and executable)") {
    if (const auto r = run_denying_write_execute(script, {.args = {"one  two"}, .input = "first line\n"}))
      check_script_result(*r);
  }
  SECTION("a missing interpreter is refused by the kernel, naming ENOENT") {
    try {
      tinyelf::run(bytes_of("#!/nonexistent/interpreter\n"));
      FAIL("run() accepted a script without interpreter");
    } catch (const tinyelf::Error& e) {
      CHECK(e.code() == tinyelf::ErrorCode::kExecRefused);
      CHECK_THAT(e.what(), Contains("ENOENT"));
    }
  }
}

TEST_CASE("a script's interpreter, and what it starts, inherit the sealed memory file it was read from") {
  // $0 is /dev/fd/N; readlink, a process the shell starts, finds descriptor N open on the memfd.
  const std::vector<std::uint8_t> script = bytes_of("#!/bin/sh\nreadlink \"/proc/self/fd/${0#/dev/fd/}\"\n");
  const tinyelf::RunResult r = tinyelf::run(script);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "/memfd:tinyelf (deleted)\n");
}
