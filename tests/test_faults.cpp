// Image::write and tinyelf::run under faults: a full or read-only file system, odd destinations,
// racing writers, a writer killed mid-write; timeouts that must kill a whole process tree,
// thousands of runs that must not leak, and floods of output and input that must not deadlock.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string_view>
#include <thread>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <tinyelf/tinyelf.hpp>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace x86 = asmjit::x86;
using asmjit::Label;
using Catch::Matchers::Contains;

using test::kNobody;
using test::contains;


// A program whose file is `payload_size` bytes of `fill` plus a few instructions.
tinyelf::Image big_program(std::size_t payload_size, char fill) {
  const std::string payload(payload_size, fill);
  tinyelf::Program program;
  program.rodata(payload);
  program.text().ret();
  return program.link();
}



std::vector<std::string> entries(const fs::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

fs::path fresh_folder(const std::string& name) {
  const fs::path folder = test::scratch_folder() / ("faults-" + name);
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder;
}

// Runs `body` in a child process and returns its exit status (or 128 + signal). The child reports
// a failure as a nonzero status, so a test can check several things without Catch2 in the child.
template <typename Body>
int in_child(Body body) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int status = 99;
    try {
      status = body();
    } catch (...) {
      status = 98;
    }
    ::_exit(status);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The message of the kWriteFailed error write() throws, or what went wrong instead. No Catch2
// assertion: forked children call it too.
std::string write_failure(const tinyelf::Image& image, const fs::path& path) {
  try {
    image.write(path);
  } catch (const tinyelf::Error& e) {
    return e.code() == tinyelf::ErrorCode::kWriteFailed ? e.what() : "wrong error code";
  }
  return "no error";
}


// A private mount namespace in which this process may mount: as root directly, otherwise inside a
// new user namespace that maps our uid to root.
bool enter_mount_namespace() {
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  if (uid == 0) {
    if (::unshare(CLONE_NEWNS) != 0) return false;
  } else {
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return false;
    std::ofstream("/proc/self/setgroups") << "deny";
    std::ofstream("/proc/self/uid_map") << fmt::format("0 {} 1", uid);
    std::ofstream("/proc/self/gid_map") << fmt::format("0 {} 1", gid);
  }
  // Keep the mounts below out of the parent namespace.
  return ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
}

}  // namespace

// --- Image::write ---

TEST_CASE("write() on a full file system (ENOSPC) fails, keeps the old file, leaves nothing", "[faults][write]") {
  const fs::path folder = fresh_folder("enospc");
  const tinyelf::Image old_image = test::exit_program(1);
  const tinyelf::Image big = big_program(1 << 20, 'x');
  const int status = in_child([&] {
    if (!enter_mount_namespace()) return 10;
    // A 64 KiB tmpfs: the old file fits, the 1 MiB image does not.
    if (::mount("tinyelf-full", folder.c_str(), "tmpfs", 0, "size=64k") != 0) return 11;
    old_image.write(folder / "prog");
    const std::string error = write_failure(big, folder / "prog");
    if (!contains(error, "ENOSPC") || !contains(error, (folder / "prog").string())) return 12;
    if (test::read_file(folder / "prog") != test::as_string(old_image)) return 13;
    if (entries(folder) != std::vector<std::string>{"prog"}) return 14;
    return 0;
  });
  CHECK(status == 0);
}

TEST_CASE("write() on a read-only file system (EROFS) fails and leaves the old file", "[faults][write]") {
  const fs::path folder = fresh_folder("erofs");
  const tinyelf::Image old_image = test::exit_program(1);
  const int status = in_child([&] {
    if (!enter_mount_namespace()) return 10;
    if (::mount("tinyelf-ro", folder.c_str(), "tmpfs", 0, "size=64k") != 0) return 11;
    old_image.write(folder / "prog");
    if (::mount(nullptr, folder.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) != 0) return 12;
    if (!contains(write_failure(test::exit_program(2), folder / "prog"), "EROFS")) return 13;
    if (test::read_file(folder / "prog") != test::as_string(old_image)) return 14;
    if (entries(folder) != std::vector<std::string>{"prog"}) return 15;
    return 0;
  });
  CHECK(status == 0);
}

TEST_CASE("write() to /dev/full is refused: a device is never replaced", "[faults][write]") {
  const std::string error = write_failure(test::exit_program(0), "/dev/full");
  CHECK_THAT(error, Contains("/dev/full") && Contains("device"));
  CHECK(fs::is_character_file("/dev/full"));
}

TEST_CASE("write() into a read-only folder fails with EACCES for an unprivileged user", "[faults][write]") {
  const fs::path folder = fresh_folder("readonly");
  test::exit_program(1).write(folder / "prog");
  ::chmod(test::scratch_folder().c_str(), 0755);  // nobody must reach the folder
  ::chmod(folder.c_str(), 0555);
  const int status = in_child([&] {
    // Root ignores permissions (CAP_DAC_OVERRIDE): be nobody.
    if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0))
      return 10;
    if (!contains(write_failure(test::exit_program(2), folder / "prog"), "EACCES")) return 11;
    if (!contains(write_failure(test::exit_program(2), folder / "new"), "EACCES")) return 12;
    return 0;
  });
  ::chmod(folder.c_str(), 0755);
  CHECK(status == 0);
  CHECK(test::read_file(folder / "prog") == test::as_string(test::exit_program(1)));
  CHECK(entries(folder) == std::vector<std::string>{"prog"});
}

TEST_CASE("write() refuses a folder, also through a symbolic link, and changes nothing", "[faults][write]") {
  const fs::path folder = fresh_folder("target-folder");
  fs::create_directory(folder / "dir");
  test::exit_program(1).write(folder / "dir" / "inside");
  CHECK_THAT(write_failure(test::exit_program(2), folder / "dir"), Contains("folder"));
  CHECK(entries(folder / "dir") == std::vector<std::string>{"inside"});

  // A link to a folder: the link is what would be replaced (see Image::write), like `mv`.
  fs::create_directory_symlink("dir", folder / "link");
  test::exit_program(3).write(folder / "link");
  CHECK_FALSE(fs::is_symlink(folder / "link"));
  CHECK(test::read_file(folder / "link") == test::as_string(test::exit_program(3)));
  CHECK(entries(folder / "dir") == std::vector<std::string>{"inside"});
}

TEST_CASE("write() replaces a dangling symbolic link itself, never creating its target", "[faults][write]") {
  const fs::path folder = fresh_folder("dangling");
  fs::create_symlink("missing-target", folder / "link");
  test::exit_program(4).write(folder / "link");
  CHECK_FALSE(fs::is_symlink(folder / "link"));
  CHECK(test::read_file(folder / "link") == test::as_string(test::exit_program(4)));
  CHECK(entries(folder) == std::vector<std::string>{"link"});
}

TEST_CASE("two writers racing on one path: every read sees one whole file", "[faults][write]") {
  const fs::path folder = fresh_folder("race");
  const fs::path path = folder / "prog";
  const tinyelf::Image a = big_program(256 << 10, 'a');
  const tinyelf::Image b = big_program(512 << 10, 'b');
  const std::string a_bytes = test::as_string(a), b_bytes = test::as_string(b);
  a.write(path);

  std::atomic<int> running{2};
  std::atomic<int> reads{0};
  auto writer = [&](const tinyelf::Image& image) {
    while (reads == 0) std::this_thread::yield();  // start together with the reader
    for (int i = 0; i < 100; ++i) image.write(path);
    --running;
  };
  std::thread first(writer, std::cref(a));
  std::thread second(writer, std::cref(b));
  int mixed = 0;
  do {
    const std::string seen = test::read_file(path);
    ++reads;
    if (seen != a_bytes && seen != b_bytes) ++mixed;
  } while (running > 0);
  first.join();
  second.join();
  INFO(reads << " reads while writing");
  CHECK(reads > 1);
  CHECK(mixed == 0);
  const std::string last = test::read_file(path);
  CHECK((last == a_bytes || last == b_bytes));
  CHECK(entries(folder) == std::vector<std::string>{"prog"});
}

namespace {

// Whether `name` is the temporary file write() makes for "prog": ".prog.tinyelf-" and six lowercase
// hex digits (lib/write_file.cpp). By hand rather than with <regex>, which alone took two thirds
// of this file's compile time.
bool is_temporary_of_prog(std::string_view name) {
  constexpr std::string_view kPrefix = ".prog.tinyelf-";
  const auto is_hex_digit = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  return name.size() == kPrefix.size() + 6 && name.starts_with(kPrefix) &&
         std::all_of(name.begin() + kPrefix.size(), name.end(), is_hex_digit);
}

}  // namespace

TEST_CASE("a writer killed with SIGKILL mid-write leaves the old file and at worst its temporary", "[faults][write]") {
  const fs::path folder = fresh_folder("sigkill");
  const fs::path path = folder / "prog";
  const tinyelf::Image old_image = test::exit_program(1);
  const tinyelf::Image big = big_program(64 << 20, 'k');

  bool killed_mid_write = false;
  for (int attempt = 0; attempt < 5 && !killed_mid_write; ++attempt) {
    for (const std::string& name : entries(folder)) fs::remove(folder / name);
    old_image.write(path);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      big.write(path);
      ::_exit(0);
    }
    // Kill the writer as soon as its temporary file exists, while the 64 MiB are being written.
    bool seen = false;
    while (!seen) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) break;  // finished before we saw it: try again
      for (const std::string& name : entries(folder)) seen |= is_temporary_of_prog(name);
    }
    if (seen) ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);

    const std::string now = test::read_file(path);
    CHECK((now == test::as_string(old_image) || now == test::as_string(big)));  // never a partial file
    for (const std::string& name : entries(folder)) {
      if (name == "prog") continue;
      INFO("left behind: " << name);
      CHECK(is_temporary_of_prog(name));
      if (fs::file_size(folder / name) < big.size()) killed_mid_write = seen && WIFSIGNALED(status);
    }
  }
  CHECK(killed_mid_write);
}

// --- tinyelf::run ---

namespace {

// fork(); then parent and child each write their pid (4 bytes) to stdout and spin forever.
// write(1, &eax, 4): one atomic pipe write.
void emit_write_eax(x86::Assembler& a) {
  a.push(x86::rax);
  a.mov(x86::eax, 1);  // SYS_write
  a.mov(x86::edi, 1);
  a.mov(x86::rsi, x86::rsp);
  a.mov(x86::edx, 4);
  a.syscall();
}

// fork; both processes write their pid and spin.
tinyelf::Image fork_and_spin_program() {
  tinyelf::Program program;
  x86::Assembler& a = program.text();
  Label spin = a.newLabel();
  a.mov(x86::eax, 57);  // SYS_fork
  a.syscall();
  a.mov(x86::eax, 39);  // SYS_getpid
  a.syscall();
  emit_write_eax(a);
  a.bind(spin);
  a.jmp(spin);
  return program.link();
}

// 16 times: write 1 MiB to stdout, then the same 1 MiB to stderr; exit 0.
tinyelf::Image flood_program(const std::string& chunk) {
  tinyelf::Program program;
  const Label data = program.rodata(chunk);
  x86::Assembler& a = program.text();
  Label loop = a.newLabel();
  a.mov(x86::ebx, 16);
  a.bind(loop);
  for (int fd : {1, 2}) {
    a.mov(x86::eax, 1);  // SYS_write; blocking writes to a pipe write everything
    a.mov(x86::edi, fd);
    a.lea(x86::rsi, x86::ptr(data));
    a.mov(x86::edx, static_cast<int>(chunk.size()));
    a.syscall();
  }
  a.dec(x86::ebx);
  a.jnz(loop);
  a.mov(x86::eax, 60);
  a.xor_(x86::edi, x86::edi);
  a.syscall();
  return program.link();
}


tinyelf::Image spin_program() {
  tinyelf::Program program;
  Label spin = program.text().newLabel();
  program.text().bind(spin);
  program.text().jmp(spin);
  return program.link();
}

std::size_t open_fds() { return static_cast<std::size_t>(std::distance(fs::directory_iterator("/proc/self/fd"), {})); }

// True if this process has a child that exited and was never waited for.
bool has_zombie_child() {
  siginfo_t info{};
  if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return false;  // ECHILD: no children
  return info.si_pid != 0;
}

// Runs `body` in a child process that is a subreaper, so the processes orphaned under it are
// reparented to it and their deaths can be observed with waitpid. Its exit status; 10 if it could
// not become a subreaper.
template <typename Body>
int in_subreaper(Body body) {
  return in_child([&] { return ::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0 ? 10 : body(); });
}

// Waits for `pid`: 1 if SIGKILL ended it, 0 if it is not (or no longer) a child of this process,
// -1 if it ended otherwise.
int reap_killed(pid_t pid) {
  int status = 0;
  const pid_t got = ::waitpid(pid, &status, 0);
  if (got < 0 && errno == ECHILD) return 0;
  return got == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 1 : -1;
}

}  // namespace

TEST_CASE("the timeout kills the program and every process it started", "[faults][run]") {
  const tinyelf::Image image = fork_and_spin_program();
  const int status = in_subreaper([&] {
    const tinyelf::RunResult r = tinyelf::run(image, {}, {}, std::chrono::seconds(2));
    if (!r.timed_out || r.term_signal != SIGKILL) return 11;
    if (r.out.size() != 8) return 12;  // both pids
    std::int32_t pids[2];
    std::memcpy(pids, r.out.data(), sizeof pids);
    int reaped = 0;
    for (const std::int32_t pid : pids) {
      const int killed = reap_killed(pid);  // 0 for the direct child, reaped by run()
      if (killed < 0) return 13;
      reaped += killed;
    }
    if (reaped != 1) return 14;
    if (::waitpid(-1, nullptr, WNOHANG) != -1 || errno != ECHILD) return 15;  // nothing else left
    return 0;
  });
  CHECK(status == 0);
}

TEST_CASE("when the program exits, what it started is killed and run() returns", "[faults][run]") {
  // fork; the child spins holding stdout, the parent writes the child's pid and exits with 7.
  tinyelf::Program program;
  x86::Assembler& a = program.text();
  Label spin = a.newLabel();
  a.mov(x86::eax, 57);  // SYS_fork
  a.syscall();
  a.test(x86::eax, x86::eax);
  a.jz(spin);
  emit_write_eax(a);  // the child's pid
  a.mov(x86::eax, 60);
  a.mov(x86::edi, 7);
  a.syscall();
  a.bind(spin);
  a.jmp(spin);
  const tinyelf::Image image = program.link();
  const int status = in_subreaper([&] {  // the orphan comes to us
    const tinyelf::RunResult r = tinyelf::run(image, {}, {}, std::chrono::seconds(60));
    if (r.timed_out || r.exit_code != 7) return 11;  // it used to wait for the spinning child
    if (r.out.size() != 4) return 12;
    std::int32_t pid = 0;
    std::memcpy(&pid, r.out.data(), sizeof pid);
    return reap_killed(pid) == 1 ? 0 : 13;
  });
  CHECK(status == 0);
}

TEST_CASE("a program that closes stdout and stderr still gets its timeout", "[faults][run]") {
  tinyelf::Program program;
  x86::Assembler& a = program.text();
  Label spin = a.newLabel();
  for (int fd : {1, 2}) {
    a.mov(x86::eax, 3);  // SYS_close
    a.mov(x86::edi, fd);
    a.syscall();
  }
  a.bind(spin);
  a.jmp(spin);
  const tinyelf::RunResult r = tinyelf::run(program.link(), {}, {}, std::chrono::milliseconds(300));
  CHECK(r.timed_out);  // it used to wait for the program without a deadline once both pipes closed
  CHECK(r.term_signal == SIGKILL);
}

TEST_CASE("1000 runs leave no zombie and no file descriptor behind", "[faults][run]") {
  const tinyelf::Image ok = test::exit_program(42);
  const tinyelf::Image crash = test::self_kill_program(SIGSEGV);
  const tinyelf::Image spin = spin_program();
  std::vector<std::uint8_t> refused(ok.bytes().begin(), ok.bytes().end());
  refused[18] = 3;  // e_machine EM_386: ENOEXEC

  const std::size_t fds_before = open_fds();
  int exits = 0, signals = 0, timeouts = 0, refusals = 0;
  for (int i = 0; i < 1000; ++i) {
    switch (i % 10) {
      case 0:
        try {
          tinyelf::run(refused);
        } catch (const tinyelf::Error& e) {
          refusals += e.code() == tinyelf::ErrorCode::kExecRefused;
        }
        break;
      case 1: signals += tinyelf::run(crash).term_signal == SIGSEGV; break;
      case 2: timeouts += tinyelf::run(spin, {}, {}, std::chrono::milliseconds(1)).timed_out; break;
      case 3: exits += tinyelf::run(ok, {}, std::string(100000, 'i')).exit_code == 42; break;  // unread stdin
      default: exits += tinyelf::run(ok).exit_code == 42; break;
    }
  }
  CHECK(refusals == 100);
  CHECK(signals == 100);
  CHECK(timeouts == 100);
  CHECK(exits == 700);
  CHECK(open_fds() == fds_before);
  CHECK_FALSE(has_zombie_child());
}

TEST_CASE("16 MiB on stdout and 16 MiB on stderr at once do not deadlock", "[faults][run]") {
  std::string chunk(1 << 20, '\0');
  for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>(i * 7 + i / 4096);
  std::string expected;
  for (int i = 0; i < 16; ++i) expected += chunk;
  const tinyelf::RunResult r = tinyelf::run(flood_program(chunk), {}, {}, std::chrono::seconds(60));
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  CHECK(r.out.size() == 16u << 20);
  CHECK(r.err.size() == 16u << 20);
  CHECK((r.out == expected && r.err == expected));
}

TEST_CASE("16 MiB on stdin, echoed back on stdout while it is fed, do not deadlock", "[faults][run]") {
  std::string input(16 << 20, '\0');
  std::uint32_t x = 12345;
  for (char& c : input) c = static_cast<char>((x = x * 1664525u + 1013904223u) >> 24);
  const tinyelf::RunResult r = tinyelf::run(test::cat_program(65536), {}, input, std::chrono::seconds(60));
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  CHECK(r.out.size() == input.size());
  CHECK(r.out == input);
}

TEST_CASE("16 MiB on stdin for a program that never reads it does not block run()", "[faults][run]") {
  const tinyelf::RunResult r = tinyelf::run(test::exit_program(42), {}, std::string(16 << 20, 'x'), std::chrono::seconds(60));
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 42);
}

TEST_CASE("a program killed by a signal reports that signal", "[faults][run]") {
  for (const int sig : {SIGTERM, SIGSEGV, SIGABRT, SIGKILL}) {
    const tinyelf::RunResult r = tinyelf::run(test::self_kill_program(sig));
    INFO("signal " << sig);
    CHECK(r.term_signal == sig);
    CHECK(r.exit_code == -1);
    CHECK_FALSE(r.timed_out);
  }
  tinyelf::Program program;
  program.text().hlt();  // privileged instruction: general protection fault, SIGSEGV
  const tinyelf::RunResult r = tinyelf::run(program.link());
  CHECK(r.term_signal == SIGSEGV);
}
