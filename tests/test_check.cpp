// tinyelf::inspect and tinyelf::check: findings on hand-made headers, one case per finding id, and
// the proof that check() predicts the real kernel: thousands of header mutants of known-good
// files, each executed with vfork + execve of a real file (no shell, no memfd, so errno is seen).
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <optional>
#include <iostream>
#include <random>
#include <set>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <tinyelf/tinyelf.hpp>

#include "../lib/verify_link_p.hpp"
#include "../lib/mdwe_p.hpp"
#include "support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace asmjit;
using Bytes = std::vector<std::uint8_t>;

// --- Programs whose work is observable: exit status 42 (and, for hello, what they print). ---

// How a program reads its own bytes, which decides what it does when the kernel maps them
// unreadable (an execute-only segment with protection keys, or a segment without permissions).
enum class Reads {
  kNothing,     // it only executes them: it still does its work
  kLoad,        // it loads its .data: the load faults (SIGSEGV)
  kSystemCall,  // it hands its .rodata to write(): the kernel's copy faults, write() fails with
                // EFAULT, and the program exits 42 having printed nothing
};

struct TestProgram {
  std::string name;
  Bytes bytes;
  std::string expected_out;  // what a run that did its work prints
  Reads reads = Reads::kNothing;
  // Which segments hold what it reads, by their flags in the unchanged file: kPfX, the one with
  // its code (.rodata), or kPfW, a writable one (.data), whether code and data share one segment
  // or not.
  std::uint32_t reads_from = 0;
};

constexpr std::uint32_t kPfX = 1, kPfW = 2;  // p_flags

TestProgram make(std::string name, const tinyelf::Image& image, std::string expected_out = "",
                 Reads reads = Reads::kNothing, std::uint32_t reads_from = 0) {
  return {std::move(name), Bytes(image.bytes().begin(), image.bytes().end()), std::move(expected_out), reads,
          reads_from};
}

TestProgram exit42_program(tinyelf::Layout layout = tinyelf::Layout::kConformant) {
  tinyelf::Program program;
  x86::Assembler& a = program.text();
  a.push(42);  // exit status
  a.pop(x86::rdi);
  a.push(60);  // SYS_exit
  a.pop(x86::rax);
  a.syscall();
  return make(layout == tinyelf::Layout::kCompact ? "exit42-compact" : "exit42", program.link({.layout = layout}));
}

// Prints a message found RIP-relative (so it also runs as ET_DYN at any base), then exits 42.
TestProgram hello_program(tinyelf::Layout layout = tinyelf::Layout::kConformant) {
  constexpr std::string_view kMessage = "Hello, world!\n";
  tinyelf::Program program;
  const Label message = program.rodata(kMessage);
  x86::Assembler& a = program.text();
  a.mov(x86::eax, 1);  // SYS_write
  a.mov(x86::edi, 1);  // stdout
  a.lea(x86::rsi, x86::ptr(message));
  a.mov(x86::edx, static_cast<int>(kMessage.size()));
  a.syscall();
  a.mov(x86::eax, 60);  // SYS_exit
  a.mov(x86::edi, 42);
  a.syscall();
  return make(layout == tinyelf::Layout::kCompact ? "hello-compact" : "hello", program.link({.layout = layout}),
              std::string(kMessage), Reads::kSystemCall, kPfX);
}

// puts("Hello, world!") and exit(42) through libc: ld.so maps libc and fills the two slots
// before the entry runs, so the oracle is the kernel and ld.so together.
TestProgram dynamic_hello_program() {
  tinyelf::Program program;
  const Label message = program.rodata("Hello, world!\0");
  const Label puts = program.import("libc.so.6", "puts");
  const Label exit = program.import("libc.so.6", "exit");
  x86::Assembler& a = program.text();
  a.lea(x86::rdi, x86::ptr(message));
  a.call(x86::qword_ptr(puts));
  a.mov(x86::edi, 42);
  a.call(x86::qword_ptr(exit));
  return make("dynamic-hello", program.link(), "Hello, world!\n");
}

// A writable segment with data in the file and 16 KiB of bss past it (anonymous pages from
// vm_brk): exits with data (40) + a byte stored far into bss and read back (2).
TestProgram bss_program() {
  tinyelf::Program program;
  const std::uint8_t forty = 40;
  const Label data = program.data(&forty, 1, 1);
  const Label bss = program.bss(16384);
  x86::Assembler& a = program.text();
  a.lea(x86::rsi, x86::ptr(bss));
  a.mov(x86::byte_ptr(x86::rsi, 16000), 2);
  a.movzx(x86::edi, x86::byte_ptr(data));
  a.movzx(x86::eax, x86::byte_ptr(x86::rsi, 16000));
  a.add(x86::edi, x86::eax);
  a.mov(x86::eax, 60);  // SYS_exit
  a.syscall();
  return make("bss", program.link(), "", Reads::kLoad, kPfW);
}

// The 80-byte compact layout, by hand: the program header overlaps the ELF header at file
// offset 24. e_entry doubles as p_type 1 / p_flags 5 (R+X), so the entry is 0x500000001; e_phoff
// doubles as p_offset 24 and e_shoff as p_vaddr 0x500000018, so file offset 0 sits at
// 0x500000000 and the entry is file offset 1, where "ELF" decodes as three REX prefixes of the
// code in e_ident[4..11]: push 42; pop rdi; push 60; pop rax; syscall.
Bytes compact_exit42() {
  Bytes b(80, 0);
  const std::uint8_t magic[4] = {0x7f, 'E', 'L', 'F'};
  const std::uint8_t code[8] = {0x6a, 0x2a, 0x5f, 0x6a, 0x3c, 0x58, 0x0f, 0x05};
  auto put = [&](std::size_t offset, auto value) { std::memcpy(b.data() + offset, &value, sizeof value); };
  std::memcpy(b.data(), magic, 4);
  std::memcpy(b.data() + 4, code, 8);
  put(16, std::uint16_t{2});            // e_type ET_EXEC
  put(18, std::uint16_t{62});           // e_machine EM_X86_64
  put(24, std::uint32_t{1});            // p_type PT_LOAD      | e_entry low half
  put(28, std::uint32_t{5});            // p_flags R+X         | e_entry high half
  put(32, std::uint64_t{24});           // p_offset            | e_phoff
  put(40, std::uint64_t{0x500000018});  // p_vaddr             | e_shoff
  put(54, std::uint16_t{56});           // p_paddr bytes 6..7  | e_phentsize
  put(56, std::uint64_t{1});            // p_filesz            | e_phnum 1, e_shentsize, e_shnum, e_shstrndx
  put(64, std::uint64_t{1});            // p_memsz
  return b;
}

TestProgram compact_program() { return {"compact-by-hand", compact_exit42(), ""}; }

// --- Hand-made files of one or more segments, for the rules about segment permissions. ---

constexpr std::uint64_t kBase = 0x400000;
constexpr std::size_t kCodeAt = 0x100, kDataAt = 0x180, kHandmadeSize = 0x200;

struct Segment {
  std::uint32_t flags = 5;               // R+X
  std::uint64_t vaddr = kBase;           // maps the file from offset 0
  std::uint64_t filesz = kHandmadeSize;  // the whole file
  std::uint64_t memsz = kHandmadeSize;
};

// An ET_EXEC file of 0x200 bytes: the ELF header, one PT_LOAD per segment from offset 64, `code`
// at offset 0x100 (the entry point, 0x400100) and `data` at 0x180 (0x400180 in the first segment).
Bytes handmade(const std::vector<Segment>& segments, const Bytes& code, const Bytes& data = {42}) {
  Bytes b(kHandmadeSize, 0);
  auto put = [&](std::size_t offset, auto value) { std::memcpy(b.data() + offset, &value, sizeof value); };
  const std::uint8_t ident[8] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};  // ELFCLASS64, ELFDATA2LSB, EV_CURRENT
  std::memcpy(b.data(), ident, sizeof ident);
  put(16, std::uint16_t{2});   // e_type ET_EXEC
  put(18, std::uint16_t{62});  // e_machine EM_X86_64
  put(20, std::uint32_t{1});   // e_version
  put(24, std::uint64_t{kBase + kCodeAt});  // e_entry
  put(32, std::uint64_t{64});  // e_phoff
  put(52, std::uint16_t{64});  // e_ehsize
  put(54, std::uint16_t{56});  // e_phentsize
  put(56, static_cast<std::uint16_t>(segments.size()));
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::size_t at = 64 + 56 * i;
    put(at, std::uint32_t{1});  // PT_LOAD
    put(at + 4, segments[i].flags);
    put(at + 16, segments[i].vaddr);
    put(at + 24, segments[i].vaddr);
    put(at + 32, segments[i].filesz);
    put(at + 40, segments[i].memsz);
    put(at + 48, std::uint64_t{0x1000});
  }
  REQUIRE(64 + 56 * segments.size() <= kCodeAt);
  REQUIRE(code.size() <= kDataAt - kCodeAt);
  std::copy(code.begin(), code.end(), b.begin() + kCodeAt);
  std::copy(data.begin(), data.end(), b.begin() + kDataAt);
  return b;
}

// Machine code for hand-made files, placed at kCodeAt.
const Bytes kExitWithEdi = {0x6a, 0x3c, 0x58, 0x0f, 0x05};  // push 60; pop rax; syscall (exit(edi))
Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
Bytes le32(std::uint32_t value) { return {std::uint8_t(value), std::uint8_t(value >> 8), std::uint8_t(value >> 16), std::uint8_t(value >> 24)}; }
// push 42; pop rdi; exit(edi)
const Bytes kExit42Code = concat({0x6a, 0x2a, 0x5f}, kExitWithEdi);
// movzx edi, byte [rip + data]; exit(edi): exits 42 if it can read its own data byte.
Bytes load_own_data_code(std::size_t before = 0) {
  return concat(concat({0x0f, 0xb6, 0x3d}, le32(static_cast<std::uint32_t>(kDataAt - (kCodeAt + before + 7)))), kExitWithEdi);
}
// mov byte [address], 42; movzx edi, byte [address]; exit(edi): exits 42 if it can write and read there.
Bytes store_and_load_code(std::uint32_t address) {
  return concat(concat(concat(concat({0xc6, 0x04, 0x25}, le32(address)), {42, 0x0f, 0xb6, 0x3c, 0x25}), le32(address)),
                kExitWithEdi);
}

// write(1, data, 5); exit(-rax): exits 251 having printed the 5 bytes, or 14 (EFAULT) printing nothing.
Bytes write_own_data_code() {
  const Bytes head = {0xb8, 1, 0, 0, 0, 0xbf, 1, 0, 0, 0, 0x48, 0x8d, 0x35};  // mov eax, 1; mov edi, 1; lea rsi, [rip + data]
  const Bytes tail = {0xba, 5, 0, 0, 0, 0x0f, 0x05, 0xf7, 0xd8, 0x89, 0xc7};   // mov edx, 5; syscall; neg eax; mov edi, eax
  return concat(concat(concat(head, le32(static_cast<std::uint32_t>(kDataAt - (kCodeAt + head.size() + 4)))), tail),
                kExitWithEdi);
}
// xor eax, eax; xor ecx, ecx; xor edx, edx; wrpkru (PKRU = 0: every protection key allows every
// access), then load_own_data_code. Only on a CPU with protection keys: elsewhere wrpkru is #UD.
const Bytes kAllowAllKeys = {0x31, 0xc0, 0x31, 0xc9, 0x31, 0xd2, 0x0f, 0x01, 0xef};

// The header bytes the kernel reads (fs/binfmt_elf.c): the magic, e_type, e_machine, e_entry,
// e_phoff, e_phentsize, e_phnum, and every program header field but p_paddr, and p_align only for
// ET_DYN (maximum_alignment()). Any other byte of the headers is the program's own (tinyelf packs
// code and data there) or unused.
std::vector<bool> kernel_read_bytes(const Bytes& file) {
  std::vector<bool> read(file.size(), false);
  auto mark = [&](std::uint64_t offset, std::uint64_t size) {
    for (std::uint64_t i = offset; i < offset + size && i < read.size(); ++i) read[i] = true;
  };
  const tinyelf::ElfView view = tinyelf::inspect(file);
  mark(0, 4);    // EI_MAG0..3
  mark(16, 4);   // e_type, e_machine
  mark(24, 16);  // e_entry, e_phoff
  mark(54, 4);   // e_phentsize, e_phnum
  for (std::uint64_t i = 0; i < view.program_headers.size(); ++i) {
    const std::uint64_t phdr = view.header.e_phoff + 56 * i;
    // Of PT_GNU_STACK, the kernel and ld.so read only p_type and p_flags: its p_offset and
    // p_vaddr may hold code or data (lib/header_layout.cpp).
    const bool gnu_stack = view.program_headers[i].p_type == 0x6474e551;
    mark(phdr, gnu_stack ? 8 : 24);  // p_type, p_flags, p_offset, p_vaddr
    mark(phdr + 32, view.header.e_type == 3 ? 24 : 16);  // p_filesz, p_memsz, p_align
  }
  return read;
}

// The end of the ELF header and the program header table.
std::size_t headers_end(const Bytes& file) {
  const tinyelf::ElfView view = tinyelf::inspect(file);
  return std::max<std::size_t>(64, view.header.e_phoff + 56 * view.program_headers.size());
}

// --- Running a file for real. ---

// A folder every user can read and search, so a child dropped to nobody can execute files in it.
fs::path exec_folder() {
  static const fs::path folder = [] {
    const fs::path path = test::scratch_folder() / "exec";
    fs::create_directories(path);
    ::chmod(test::scratch_folder().c_str(), 0755);
    ::chmod(path.c_str(), 0755);
    return path;
  }();
  return folder;
}

// A new file each time, not the old one truncated: ext4 writes a truncated file's new data back
// to the disk when it is closed (auto_da_alloc, ext4_release_file()), which made the thousands of
// mutants below wait for the disk.
void write_executable(const fs::path& path, std::span<const std::uint8_t> bytes) {
  REQUIRE((::unlink(path.c_str()) == 0 || errno == ENOENT));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  REQUIRE(::fchmod(fd, 0755) == 0);
  REQUIRE(::close(fd) == 0);
}

enum class Verdict { kRuns, kCrashesAfterExec, kRefused };

const char* name(Verdict v) {
  switch (v) {
    case Verdict::kRuns: return "runs";
    case Verdict::kCrashesAfterExec: return "crashes after exec";
    case Verdict::kRefused: return "refused";
  }
  return "?";
}

struct Outcome {
  int exec_errno = 0;  // execve failed with this
  int signal = 0;      // killed by this signal
  int status = -1;     // exit status
  std::string out;
  bool timed_out() const { return signal == SIGPROF || signal == SIGALRM; }
};

// How one run of a file ended, as the child and the spawner below report it: plain integers, sent
// through a pipe as they are.
struct RawOutcome {
  int setup_errno = 0;  // setting up the child failed with this (pipe, vfork, dup2, setuid, ...)
  int exec_errno = 0;
  int signal = 0;
  int status = -1;
  std::uint32_t out_size = 0;  // bytes of stdout that follow, in the spawner's reply
};

// What the child writes to its report pipe when it fails before or at execve.
struct ChildFailure {
  int setup = 0;  // 1: a step before execve failed; 0: execve itself did
  int err = 0;
};

[[noreturn]] void child_failed(int report, bool setup) {
  const ChildFailure failure{setup ? 1 : 0, errno};
  (void)!::write(report, &failure, sizeof failure);  // below PIPE_BUF: one atomic write
  ::_exit(127);
}

// The child between vfork and execve. It shares this process's memory and runs on its stack, so it
// only makes system calls (as lib/run.cpp's child): raw setgroups/setgid/setuid, because glibc's
// wrappers would signal every thread of a multi-threaded caller, and it sets every signal back to
// its default action before it unblocks them, so that no handler of the test process runs here.
// SIGPROF after 50 ms of CPU time stops a program that loops (interval timers survive execve): the
// programs here need well under a millisecond, a dynamic one about one with ld.so, and CPU time
// cannot run out because the machine is loaded; SIGALRM after 20 s of real time stops one that
// waits for something else.
[[noreturn]] void exec_child(const char* path, int out, int report) {
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) ::sigaction(signal, &default_action, nullptr);
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(null, 2) < 0) child_failed(report, true);
  if (::geteuid() == 0 && (::syscall(SYS_setgroups, 0, nullptr) != 0 || ::syscall(SYS_setgid, test::kNobody) != 0 ||
                           ::syscall(SYS_setuid, test::kNobody) != 0))
    child_failed(report, true);
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  const itimerval cpu{{0, 0}, {0, 50'000}};
  const itimerval real{{0, 0}, {20, 0}};
  ::setitimer(ITIMER_PROF, &cpu, nullptr);
  ::setitimer(ITIMER_REAL, &real, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  char* const argv[] = {const_cast<char*>(path), nullptr};
  char* const envp[] = {nullptr};
  ::execve(path, argv, envp);
  child_failed(report, false);
}

// Runs `path` in a child started with vfork: fork would copy this process's page tables for every
// one of the mutants, about a third of their run time. stdout is captured (up to 64 KiB).
RawOutcome run_child(const char* path, std::string& out) {
  RawOutcome outcome;
  int report[2];
  int output[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return {.setup_errno = errno};
  if (::pipe2(output, O_CLOEXEC) != 0) {
    outcome.setup_errno = errno;
    ::close(report[0]), ::close(report[1]);
    return outcome;
  }
  sigset_t all, previous;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, &previous);
  const pid_t pid = ::vfork();
  if (pid == 0) exec_child(path, output[1], report[1]);
  const int vfork_errno = errno;
  ::sigprocmask(SIG_SETMASK, &previous, nullptr);
  ::close(report[1]);
  ::close(output[1]);
  if (pid < 0) {
    ::close(report[0]), ::close(output[0]);
    return {.setup_errno = vfork_errno};
  }
  ChildFailure failure;
  const bool failed = ::read(report[0], &failure, sizeof failure) == static_cast<ssize_t>(sizeof failure);
  ::close(report[0]);
  char buffer[4096];
  for (ssize_t n; (n = ::read(output[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (out.size() < 65536) out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(output[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (failed) (failure.setup ? outcome.setup_errno : outcome.exec_errno) = failure.err;
  if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
  if (WIFEXITED(status)) outcome.status = WEXITSTATUS(status);
  outcome.out_size = static_cast<std::uint32_t>(out.size());
  return outcome;
}

// Reads exactly `size` bytes; false at end of file or on an error.
bool read_all(int fd, void* data, std::size_t size) {
  auto* bytes = static_cast<char*>(data);
  while (size != 0) {
    const ssize_t n = ::read(fd, bytes, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes += n, size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool write_all(int fd, const void* data, std::size_t size) {
  const auto* bytes = static_cast<const char*>(data);
  while (size != 0) {
    const ssize_t n = ::write(fd, bytes, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes += n, size -= static_cast<std::size_t>(n);
  }
  return true;
}

enum class Mdwe { kInherited, kSet };  // kSet: under PR_SET_MDWE, which execve keeps

// Runs files as this process's children would (Mdwe::kInherited) or under PR_SET_MDWE (kSet).
// MDWE cannot be set in this process (it cannot be unset) nor in a vfork child (it is a flag of the
// address space, MMF_HAS_MDWE, which that child shares with this process). So kSet forks one
// spawner that sets it on itself and serves every run with vfork: execve gives the program a new
// address space that keeps the flag (mm_init() copies MMF_INIT_MASK, which holds MMF_HAS_MDWE,
// kernel/fork.c), and the test forks once instead of once per file.
class Runner {
 public:
  explicit Runner(Mdwe mdwe) {
    if (mdwe == Mdwe::kInherited) return;
    int requests[2], replies[2];
    REQUIRE(::pipe2(requests, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(replies, O_CLOEXEC) == 0);
    spawner_ = ::fork();
    REQUIRE(spawner_ >= 0);
    if (spawner_ == 0) {
      ::close(requests[1]), ::close(replies[0]);
      serve(requests[0], replies[1]);
    }
    ::close(requests[0]), ::close(replies[1]);
    requests_ = requests[1], replies_ = replies[0];
  }
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;
  ~Runner() {
    if (spawner_ <= 0) return;
    ::close(requests_);  // the spawner reads the end of its requests and exits
    ::close(replies_);
    while (::waitpid(spawner_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }

  Outcome execute(const fs::path& path) {
    std::string out;
    RawOutcome raw;
    if (spawner_ == 0) {
      raw = run_child(path.c_str(), out);
    } else {
      const std::string& name = path.native();
      const auto size = static_cast<std::uint32_t>(name.size());
      REQUIRE((write_all(requests_, &size, sizeof size) && write_all(requests_, name.data(), size)));
      REQUIRE(read_all(replies_, &raw, sizeof raw));
      out.resize(raw.out_size);
      REQUIRE(read_all(replies_, out.data(), out.size()));
    }
    INFO("setting up the child to run " << path << " failed: " << std::strerror(raw.setup_errno));
    REQUIRE(raw.setup_errno == 0);
    return {.exec_errno = raw.exec_errno, .signal = raw.signal, .status = raw.status, .out = std::move(out)};
  }

 private:
  // The spawner: a copy of this process that never returns to the test, only runs files.
  [[noreturn]] static void serve(int requests, int replies) {
    RawOutcome refused;
    if (::prctl(tinyelf::detail::kPrSetMdwe, tinyelf::detail::kMdweRefuseExecGain, 0L, 0L, 0L) != 0)
      refused.setup_errno = errno;
    std::string path, out;
    for (std::uint32_t size = 0; read_all(requests, &size, sizeof size);) {
      path.resize(size);
      if (!read_all(requests, path.data(), size)) break;
      out.clear();
      const RawOutcome outcome = refused.setup_errno != 0 ? refused : run_child(path.c_str(), out);
      if (!write_all(replies, &outcome, sizeof outcome) || !write_all(replies, out.data(), outcome.out_size)) break;
    }
    ::_exit(0);
  }

  pid_t spawner_ = 0;  // 0: no spawner, this process starts the children itself
  int requests_ = -1;
  int replies_ = -1;
};

// Runs `path` once (see Runner).
Outcome execute(const fs::path& path, Mdwe mdwe = Mdwe::kInherited) { return Runner(mdwe).execute(path); }

// The kernel release, e.g. "6.18.44".
std::string kernel_release() {
  utsname names{};
  ::uname(&names);
  return names.release;
}

bool kernel_has_mdwe() { return test::mdwe_flags().has_value(); }

// What the kernel on this machine enforces for an unprivileged process.
tinyelf::CheckOptions machine_options() { return tinyelf::CheckOptions::host(); }

// What check() says execve does. "Depends on the code" is a start: execve succeeds and the first
// instruction runs; the tests that know the code judge the rest.
Verdict predicted(const std::vector<tinyelf::Finding>& findings) {
  const auto worst = tinyelf::worst_severity(findings);
  if (worst == tinyelf::Severity::kRefused) return Verdict::kRefused;
  if (worst == tinyelf::Severity::kCrashesAfterExec) return Verdict::kCrashesAfterExec;
  return Verdict::kRuns;
}

std::string describe(const Outcome& o) {
  if (o.exec_errno != 0) return fmt::format("execve failed: {}", strerrorname_np(o.exec_errno));
  if (o.signal != 0) return fmt::format("killed by {}", sigabbrev_np(o.signal));
  return fmt::format("exited {} printing {} bytes", o.status, o.out.size());
}

std::string describe(const std::vector<tinyelf::Finding>& findings) {
  std::string text;
  for (const auto& f : findings) text += fmt::format("\n    {}: {} [{}]", tinyelf::to_string(f.severity), f.message, f.id);
  return text.empty() ? "\n    (no findings)" : text;
}

bool did_its_work(const TestProgram& program, const Outcome& o) {
  return o.exec_errno == 0 && o.signal == 0 && o.status == 42 && o.out == program.expected_out;
}

bool agrees(Verdict verdict, const TestProgram& program, const Outcome& o) {
  switch (verdict) {
    case Verdict::kRefused: return o.exec_errno != 0;
    // Killed by the kernel or the CPU, or stopped by ld.so before the program ran (status 127).
    case Verdict::kCrashesAfterExec:
      return o.exec_errno == 0 && ((o.signal != 0 && !o.timed_out()) || (o.signal == 0 && o.status == 127 && o.out.empty()));
    case Verdict::kRuns: return did_its_work(program, o);
  }
  return false;
}

// Patches a little-endian field into a copy of `bytes`.
template <typename T>
Bytes with(Bytes bytes, std::size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
  return bytes;
}

// Field offsets in a conformant file: ELF header at 0, the program header at 64.
constexpr std::size_t kType = 16, kMachine = 18, kEntry = 24, kPhoff = 32, kShoff = 40, kPhentsize = 54, kPhnum = 56, kShentsize = 58, kShnum = 60, kShstrndx = 62;
constexpr std::size_t kPType = 64, kPFlags = 68, kPOffset = 72, kPVaddr = 80, kPFilesz = 96, kPMemsz = 104,
                      kPAlign = 112;

// `file` with `count` empty section headers appended and e_shstrndx = `names`.
Bytes section_headers(Bytes file, std::uint16_t count, std::uint16_t names) {
  const std::uint64_t offset = file.size();
  file.resize(file.size() + 64 * count);
  return with(with(with(with(file, kShoff, offset), kShnum, count), kShentsize, std::uint16_t{64}), kShstrndx, names);
}

bool has_finding(const std::vector<tinyelf::Finding>& findings, std::string_view id) {
  return std::any_of(findings.begin(), findings.end(), [&](const auto& f) { return f.id == id; });
}

}  // namespace

TEST_CASE("inspect reads the header and program headers of a conformant file", "[check]") {
  tinyelf::Program program;
  program.text().ret();
  const tinyelf::Image image = program.link();
  const Bytes file(image.bytes().begin(), image.bytes().end());
  const tinyelf::ElfView view = tinyelf::inspect(file);
  CHECK(view.file_size == file.size());
  CHECK(view.header.e_type == 2);
  CHECK(view.header.e_machine == 62);
  CHECK(view.header.e_phoff == 64);
  CHECK(view.header.e_entry == image.entry());
  REQUIRE(view.program_headers.size() == 1);
  CHECK(view.program_headers_complete);
  CHECK(view.program_headers[0].p_type == 1);
  CHECK(view.program_headers[0].p_flags == 5);
  CHECK(view.program_headers[0].p_vaddr == 0x400000);
  CHECK(view.program_headers[0].p_filesz == file.size());
}

TEST_CASE("inspect reads an overlapped (compact) header and never reads past a short file", "[check]") {
  const Bytes file = compact_exit42();
  const tinyelf::ElfView view = tinyelf::inspect(file);
  CHECK(view.header.e_phoff == 24);
  CHECK(view.header.e_entry == 0x500000001);
  REQUIRE(view.program_headers.size() == 1);
  const tinyelf::ProgramHeader& p = view.program_headers[0];
  CHECK(p.p_type == 1);
  CHECK(p.p_flags == 5);
  CHECK(p.p_offset == 24);
  CHECK(p.p_vaddr == 0x500000018);
  CHECK(p.p_filesz == 1);
  CHECK(p.p_memsz == 1);

  for (std::size_t size = 0; size < file.size(); ++size) {
    // A copy of exactly `size` bytes, so AddressSanitizer sees any read past it.
    const Bytes prefix(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(size));
    const tinyelf::ElfView cut = tinyelf::inspect(prefix);
    CHECK(cut.file_size == size);
    CHECK(cut.program_headers.empty());
    if (cut.header.e_phnum != 0) CHECK_FALSE(cut.program_headers_complete);
    const auto findings = tinyelf::check(prefix);
    CHECK(predicted(findings) == Verdict::kRefused);  // 79 bytes and fewer: ENOEXEC (GUIDE section 1)
  }
}

// Whether a PT_LOAD of `file` is both writable and executable (one RWX segment for code and data).
bool has_writable_code(const Bytes& file) {
  const auto& phdrs = tinyelf::inspect(file).program_headers;
  return std::any_of(phdrs.begin(), phdrs.end(), [](const auto& p) { return p.p_type == 1 && (p.p_flags & 3) == 3; });
}

TEST_CASE("what we link has no findings but hardening ones, the compact file only tooling ones", "[check]") {
  // A layout with one RWX segment for code and data gets the hardening finding for it; nothing else.
  for (const TestProgram& program : {exit42_program(), hello_program(), bss_program()}) {
    const auto findings = tinyelf::check(program.bytes);
    INFO(program.name << describe(findings));
    CHECK(findings.size() == (has_writable_code(program.bytes) ? 1u : 0u));
    for (const auto& f : findings) {
      CHECK(f.id == "writable-and-executable-segment");
      CHECK(f.severity == tinyelf::Severity::kHardening);
    }
  }
  for (const TestProgram& program :
       {exit42_program(tinyelf::Layout::kCompact), hello_program(tinyelf::Layout::kCompact)}) {
    const auto findings = tinyelf::check(program.bytes);
    INFO(program.name << describe(findings));
    CHECK(predicted(findings) == Verdict::kRuns);
  }
  const auto findings = tinyelf::check(compact_exit42());
  INFO(describe(findings));
  CHECK(predicted(findings) == Verdict::kRuns);
  CHECK(has_finding(findings, "ei-class"));
}

// A file made to have one finding: its id, and the severity check() must give it.
struct FindingCase {
  std::string id;
  tinyelf::Severity severity;
  Bytes file;
};

// Runs each case's file (as `name` in the exec folder) and checks that check() finds its id at its
// severity, as the worst finding, and predicts what the run did; a case `allowed` on this machine
// must run without the finding. Returns the ids seen.
std::set<std::string> confirm_findings(const std::vector<FindingCase>& cases, const TestProgram& reference,
                                       const std::string& name,
                                       const std::function<bool(const std::string&)>& allowed = {}) {
  const tinyelf::CheckOptions options = machine_options();
  const fs::path path = exec_folder() / name;
  std::set<std::string> ids;
  for (const FindingCase& c : cases) {
    const auto findings = tinyelf::check(c.file, options);
    write_executable(path, c.file);
    const Outcome outcome = execute(path);
    INFO(c.id << ": " << describe(outcome) << describe(findings));
    CHECK(agrees(predicted(findings), reference, outcome));
    ids.insert(c.id);
    if (allowed && allowed(c.id)) {
      CHECK_FALSE(has_finding(findings, c.id));
      continue;
    }
    const auto it = std::find_if(findings.begin(), findings.end(), [&](const auto& f) { return f.id == c.id; });
    REQUIRE(it != findings.end());
    CHECK(it->severity == c.severity);
    CHECK_FALSE(it->message.empty());
    CHECK(tinyelf::worst_severity(findings) == c.severity);
  }
  return ids;
}

TEST_CASE("every finding id on a hand-made header, confirmed by running the file", "[check]") {
  const TestProgram reference = exit42_program();
  const Bytes exit42 = reference.bytes;  // base 0x400000, p_offset 0, p_filesz = p_memsz = file size, R+X
  const std::uint64_t entry = tinyelf::inspect(exit42).header.e_entry;
  const std::uint64_t past_end = 0x400000 + exit42.size() + 16;  // in the file's page, past its end
  REQUIRE(exit42.size() + 16 < 4095);
  // A PT_INTERP naming `path`, appended to the file.
  auto interp = [&](std::string path) {
    Bytes file = exit42;
    const std::uint64_t offset = file.size();
    file.insert(file.end(), path.begin(), path.end());
    file.push_back(0);
    return with(with(with(file, kPType, std::uint32_t{3}), kPOffset, offset), kPFilesz, std::uint64_t{path.size() + 1});
  };
  const fs::path not_elf = exec_folder() / "not-elf";
  {
    const std::string script = "#!/bin/sh\nexit 0\n";
    write_executable(not_elf, std::span(reinterpret_cast<const std::uint8_t*>(script.data()), script.size()));
  }
  const tinyelf::CheckOptions options = machine_options();
  const std::uint64_t huge = std::uint64_t{1} << 44;  // 16 TiB: past RAM + swap, inside the 47-bit space

  using S = tinyelf::Severity;
  // Three facts depend on the machine: with vm.mmap_min_addr = 0 a segment at 0 maps, with
  // vm.overcommit_memory = 1 any size is committed, and without protection keys PF_X alone is
  // readable. There the finding is rightly absent, and the file must run.
  // Under PR_SET_MDWE (a test run by a systemd unit with MemoryDenyWriteExecute=yes) a W+X
  // segment is killed at exec; elsewhere it is a hardening finding.
  const S write_execute = options.deny_write_execute ? S::kCrashesAfterExec : S::kHardening;
  auto machine_allows = [&](const std::string& id) {
    return (id == "segment-below-mmap-min-addr" && options.mmap_min_addr == 0) ||
           (id == "execute-only-segment" && !options.protection_keys) ||
           ((id == "segment-too-large" || id == "bss-too-large") && options.commit_limit == UINT64_MAX);
  };
  const std::vector<FindingCase> cases = {
      {"bad-magic", S::kRefused, with(exit42, 0, std::uint8_t{0})},
      {"bad-type", S::kRefused, with(exit42, kType, std::uint16_t{1})},
      {"bad-machine", S::kRefused, with(exit42, kMachine, std::uint16_t{3})},
      {"bad-phentsize", S::kRefused, with(exit42, kPhentsize, std::uint16_t{64})},
      {"no-program-headers", S::kRefused, with(exit42, kPhnum, std::uint16_t{0})},
      {"program-header-table-too-large", S::kRefused, with(exit42, kPhnum, std::uint16_t{2000})},
      {"program-header-table-outside-file", S::kRefused, with(exit42, kPhnum, std::uint16_t{2})},
      {"program-header-table-outside-file", S::kRefused, with(exit42, kPhoff, ~std::uint64_t{0xff})},
      {"bad-interp", S::kRefused, with(with(exit42, kPType, std::uint32_t{3}), kPOffset, std::uint64_t{0x10000})},
      {"bad-interp", S::kRefused, with(with(exit42, kPType, std::uint32_t{3}), kPFilesz, std::uint64_t{1})},
      {"interpreter-not-found", S::kRefused, interp("/nonexistent/tinyelf-interpreter")},
      {"bad-interpreter", S::kRefused, interp(not_elf.string())},
      {"no-load-segment", S::kCrashesAfterExec, with(exit42, kPType, std::uint32_t{6})},
      {"misaligned-segment", S::kCrashesAfterExec, with(exit42, kPOffset, std::uint64_t{8})},
      {"segment-offset-overflow", S::kCrashesAfterExec, with(exit42, kPOffset, std::uint64_t{0x7ffffffffffff000})},
      {"segment-below-mmap-min-addr", S::kCrashesAfterExec,
       with(with(exit42, kPVaddr, std::uint64_t{0}), kEntry, entry - 0x400000)},
      {"segment-beyond-user-space", S::kCrashesAfterExec,
       with(with(exit42, kPVaddr, std::uint64_t{0x7ffffffff000}), kPMemsz, std::uint64_t{0x2000})},
      {"segment-too-large", S::kCrashesAfterExec,
       with(with(with(exit42, kPFlags, std::uint32_t{7}), kPFilesz, huge), kPMemsz, huge)},
      {"zero-fill-past-end-of-file", S::kCrashesAfterExec,
       with(with(with(exit42, kPFlags, std::uint32_t{7}), kPFilesz, std::uint64_t{0x1800}), kPMemsz,
            std::uint64_t{0x2000})},
      {"filesz-exceeds-memsz", S::kCrashesAfterExec, with(exit42, kPMemsz, std::uint64_t{0x10})},
      {"bss-too-large", S::kCrashesAfterExec, with(exit42, kPMemsz, huge)},
      {"bad-dyn-image-size", S::kCrashesAfterExec,
       with(with(with(exit42, kType, std::uint16_t{3}), kPFilesz, std::uint64_t{0}), kPMemsz, std::uint64_t{0})},
      {"bad-dyn-base", S::kCrashesAfterExec,
       with(with(exit42, kType, std::uint16_t{3}), kPAlign, std::uint64_t{1} << 47)},
      {"entry-not-mapped", S::kCrashesAfterExec, with(exit42, kEntry, std::uint64_t{0x500000})},
      {"entry-not-mapped", S::kCrashesAfterExec, with(exit42, kEntry, std::uint64_t{0xffff800000000000})},
      {"entry-not-executable", S::kCrashesAfterExec, with(exit42, kPFlags, std::uint32_t{4})},
      {"entry-past-end-of-file", S::kCrashesAfterExec, with(exit42, kPOffset, std::uint64_t{0x1000})},
      {"entry-zero-filled", S::kCrashesAfterExec, with(exit42, kEntry, past_end)},
      {"ei-class", S::kTooling, with(exit42, 4, std::uint8_t{1})},
      {"ei-data", S::kTooling, with(exit42, 5, std::uint8_t{2})},
      {"ei-version", S::kTooling, with(exit42, 6, std::uint8_t{0})},
      {"e-version", S::kTooling, with(exit42, 20, std::uint32_t{7})},
      {"bad-section-headers", S::kTooling,
       with(with(with(exit42, kShoff, std::uint64_t{0x1000}), kShnum, std::uint16_t{1}), kShentsize,
            std::uint16_t{64})},
      {"bad-shstrndx", S::kTooling, section_headers(exit42, 2, 0)},
      {"bad-shstrndx", S::kTooling, section_headers(exit42, 2, 2)},
      {"bad-align", S::kTooling, with(exit42, kPAlign, std::uint64_t{0x3000})},
      {"writable-and-executable-segment", write_execute, with(exit42, kPFlags, std::uint32_t{7})},
      {"execute-only-segment", S::kDependsOnCode, with(exit42, kPFlags, std::uint32_t{1})},  // reads nothing: runs
  };

  const std::set<std::string> ids = confirm_findings(cases, reference, "handmade", machine_allows);
  // Every finding id of the kernel's part: 10 refused, 15 crashes after exec, 1 depends on the
  // code, 7 tooling, 1 hardening (the dynamic files' findings are confirmed below).
  CHECK(ids.size() == 34);
}

// Each finding about dynamic files (lib/check_loader.cpp, and readelf's PT_DYNAMIC) on the
// dynamic hello with one change, run for real: ld.so crashes (SIGSEGV) or stops it (status 127)
// as predicted, or it runs.
TEST_CASE("every ld.so finding on a changed dynamic hello, confirmed by running the file", "[check][imports]") {
  const TestProgram reference = dynamic_hello_program();
  const Bytes& hello = reference.bytes;
  const tinyelf::ElfView view = tinyelf::inspect(hello);
  REQUIRE(view.program_headers.size() == 5);  // PT_INTERP, R+X, R+W, PT_DYNAMIC, PT_GNU_STACK
  auto phdr_field = [](std::size_t index, std::size_t field) { return 64 + 56 * index + field; };
  const std::uint64_t base = view.program_headers[1].p_vaddr;
  // The dynamic section's entries, in the file: the offset of the one with `tag`.
  const tinyelf::ProgramHeader& dynamic = view.program_headers[3];
  auto entry_of = [&](std::int64_t tag) {
    for (std::uint64_t at = dynamic.p_offset; at < dynamic.p_offset + dynamic.p_filesz; at += 16) {
      std::int64_t found;
      std::memcpy(&found, hello.data() + at, 8);
      if (found == tag) return static_cast<std::size_t>(at);
    }
    FAIL("no dynamic entry " << tag);
    return std::size_t{0};
  };
  auto value_of = [&](std::int64_t tag) {
    std::uint64_t value;
    std::memcpy(&value, hello.data() + entry_of(tag) + 8, 8);
    return value;
  };
  constexpr std::int64_t kIgnoredTag = 0x1000;  // in no range elf_get_dynamic_info keeps
  constexpr std::uint64_t kUnmapped = 0x10000000;
  auto without = [&](std::int64_t tag) { return with(hello, entry_of(tag), kIgnoredTag); };
  const tinyelf::ProgramHeader& rw = view.program_headers[2];  // the tables are in the R+W segment
  const std::size_t first_rela = value_of(DT_RELA) - rw.p_vaddr + rw.p_offset;

  using S = tinyelf::Severity;
  const std::vector<FindingCase> cases = {
      {"program-headers-not-mapped", S::kCrashesAfterExec, with(hello, phdr_field(1, 32), std::uint64_t{0x10})},
      {"dynamic-without-phdr", S::kCrashesAfterExec, with(hello, kType, std::uint16_t{3})},
      {"no-dynamic-segment", S::kCrashesAfterExec, with(hello, phdr_field(3, 0), std::uint32_t{0})},
      {"dynamic-section-unreadable", S::kCrashesAfterExec, with(hello, phdr_field(3, 16), kUnmapped)},
      {"bad-relaent", S::kCrashesAfterExec, with(hello, entry_of(DT_RELAENT) + 8, std::uint64_t{16})},
      {"bad-relaent", S::kCrashesAfterExec, without(DT_RELAENT)},
      {"dynamic-section-read-only", S::kCrashesAfterExec, with(hello, phdr_field(2, 4), std::uint32_t{4})},
      {"needed-without-strtab", S::kCrashesAfterExec, without(DT_STRTAB)},
      {"bad-needed-name", S::kCrashesAfterExec, with(hello, entry_of(DT_NEEDED) + 8, std::uint64_t{0x7fff0000})},
      {"interpreter-name-not-mapped", S::kCrashesAfterExec, with(hello, phdr_field(0, 16), kUnmapped)},
      {"no-symtab", S::kCrashesAfterExec, without(DT_SYMTAB)},
      {"rela-without-relasz", S::kCrashesAfterExec, without(DT_RELASZ)},
      {"relocations-unreadable", S::kCrashesAfterExec, with(hello, entry_of(DT_RELA) + 8, kUnmapped)},
      {"relocation-not-writable", S::kCrashesAfterExec, with(hello, first_rela, base)},
      {"no-gnu-stack", S::kHardening, with(hello, phdr_field(4, 0), std::uint32_t{0})},
      {"dynamic-segment-outside-file", S::kTooling, with(hello, phdr_field(3, 8), std::uint64_t{0x10000})},
  };
  const std::set<std::string> ids = confirm_findings(cases, reference, "handmade-dynamic");
  CHECK(ids.size() == 15);
}

// PR_SET_MDWE refuses a mapping both writable and executable (map_deny_write_exec() in
// mmap_region(), mm/mmap.c): elf_map() fails after the point of no return and the process dies
// with SIGSEGV. The zero-filled pages of a segment come from vm_brk_flags() instead, which MDWE
// does not check (Linux 6.18 maps them rwx even under MDWE).
TEST_CASE("a writable and executable segment runs, and is killed under PR_SET_MDWE", "[check][kernel]") {
  struct Case {
    std::string name;
    Bytes file;
    std::optional<tinyelf::Severity> without_mdwe, with_mdwe;  // the writable-and-executable-segment finding
  };
  using S = tinyelf::Severity;
  const std::vector<Case> cases = {
      {"rwx", handmade({{.flags = 7}}, kExit42Code), S::kHardening, S::kCrashesAfterExec},
      {"wx, no PF_R", handmade({{.flags = 3}}, load_own_data_code()), S::kHardening, S::kCrashesAfterExec},
      {"rwx with bss", handmade({{.flags = 7, .memsz = 0x3000}}, kExit42Code), S::kHardening, S::kCrashesAfterExec},
      {"rwx, p_filesz 0", handmade({{}, {.flags = 7, .vaddr = 0x600000, .filesz = 0, .memsz = 0x1000}},
                                   store_and_load_code(0x600010)),
       S::kHardening, S::kHardening},
      {"rx with bss", handmade({{.flags = 5, .memsz = 0x3000}}, store_and_load_code(kBase + 0x1800)), std::nullopt,
       std::nullopt},
  };
  const bool mdwe = kernel_has_mdwe();
  if (!mdwe)
    WARN("Linux " << kernel_release() << " has no PR_SET_MDWE (6.3+): the files were not run under MDWE");
  tinyelf::CheckOptions options = machine_options();
  const bool inherited = options.deny_write_execute;  // this test runs under MDWE already
  if (inherited) WARN("this test process runs under PR_SET_MDWE: the files were not run without it");
  options.deny_write_execute = false;
  tinyelf::CheckOptions mdwe_options = options;
  mdwe_options.deny_write_execute = true;
  const fs::path path = exec_folder() / "write-execute";
  for (const Case& c : cases) {
    const TestProgram program{c.name, c.file, ""};
    write_executable(path, c.file);
    for (const bool under_mdwe : {false, true}) {
      const auto findings = tinyelf::check(c.file, under_mdwe ? mdwe_options : options);
      const auto expected = under_mdwe ? c.with_mdwe : c.without_mdwe;
      INFO(c.name << (under_mdwe ? " under MDWE" : "") << describe(findings));
      const auto it = std::find_if(findings.begin(), findings.end(),
                                   [](const auto& f) { return f.id == "writable-and-executable-segment"; });
      CHECK((it == findings.end() ? std::nullopt : std::optional(it->severity)) == expected);
      CHECK(findings.size() == (expected ? 1u : 0u));
      if ((under_mdwe && !mdwe) || (!under_mdwe && inherited)) continue;
      const Outcome outcome = execute(path, under_mdwe ? Mdwe::kSet : Mdwe::kInherited);
      INFO(describe(outcome));
      CHECK(agrees(predicted(findings), program, outcome));
      if (expected == S::kCrashesAfterExec) CHECK(outcome.signal == SIGSEGV);
    }
  }
}

// make_prot() maps PF_X alone as PROT_EXEC alone. With protection keys (pku and ospke) do_mmap()
// gives it the execute-only key, whose PKRU bits deny data access; without them x86 page tables
// cannot deny reads and it is as readable as R+X. Which programs survive depends on their code:
// each file here runs for real and must do what this machine's CPU makes of it.
TEST_CASE("an execute-only segment breaks the programs that read it, with protection keys", "[check][kernel]") {
  const tinyelf::CheckOptions host = machine_options();
  const bool keys = host.protection_keys;
  WARN("protection keys (pku and ospke in /proc/cpuinfo): " << (keys ? "yes" : "no"));
  struct Case {
    std::string name;
    Bytes file;
    bool finding;  // check() reports execute-only-segment when given protection keys
    int status_with_keys, status_without_keys;  // exit status, or -SIGSEGV
    std::string out_with_keys, out_without_keys;
  };
  constexpr int kSegv = -SIGSEGV;
  const std::vector<Case> cases = {
      {"only executes", handmade({{.flags = 1}}, kExit42Code), true, 42, 42, "", ""},
      {"loads its data", handmade({{.flags = 1}}, load_own_data_code()), true, kSegv, 42, "", ""},
      // p_flags bits above PF_R are ignored: 0x51 is PF_X alone
      {"loads its data, p_flags 0x51", handmade({{.flags = 0x51}}, load_own_data_code()), true, kSegv, 42, "", ""},
      {"writes its data", handmade({{.flags = 1}}, write_own_data_code(), {'h', 'e', 'l', 'l', 'o'}), true, 14, 251,
       "", "hello"},
      // The zero-filled pages past the file pages come from vm_brk_flags(): readable and writable.
      {"uses its zero-filled pages", handmade({{.flags = 1, .memsz = 0x3000}}, store_and_load_code(kBase + 0x1800)),
       true, 42, 42, "", ""},
      // A later segment mapped over the same page replaces the execute-only one (MAP_FIXED)...
      {"mapped over by R+X", handmade({{.flags = 1}, {.flags = 5}}, load_own_data_code()), false, 42, 42, "", ""},
      // ...and a later execute-only one replaces a readable one.
      {"mapped over R+X", handmade({{.flags = 5}, {.flags = 1}}, load_own_data_code()), true, kSegv, 42, "", ""},
      // PF_W makes it readable: x86 has no writable page that cannot be read.
      {"PF_W and PF_X", handmade({{.flags = 3}}, load_own_data_code()), false, 42, 42, "", ""},
  };
  tinyelf::CheckOptions with_keys = host, without_keys = host;
  with_keys.protection_keys = true;
  without_keys.protection_keys = false;
  const fs::path path = exec_folder() / "execute-only";
  for (const Case& c : cases) {
    for (const bool k : {true, false}) {
      const auto findings = tinyelf::check(c.file, k ? with_keys : without_keys);
      INFO(c.name << (k ? ", with protection keys" : ", without") << describe(findings));
      CHECK(has_finding(findings, "execute-only-segment") == (k && c.finding));
      if (k && c.finding) {
        CHECK(tinyelf::worst_severity(findings) == tinyelf::Severity::kDependsOnCode);
      } else {
        CHECK((predicted(findings) == Verdict::kRuns));
      }
    }
    write_executable(path, c.file);
    const Outcome outcome = execute(path);
    INFO(c.name << ": " << describe(outcome));
    CHECK(outcome.exec_errno == 0);
    const int status = outcome.signal != 0 ? -outcome.signal : outcome.status;
    CHECK(status == (keys ? c.status_with_keys : c.status_without_keys));
    CHECK(outcome.out == (keys ? c.out_with_keys : c.out_without_keys));
  }
  if (keys) {
    // What a CPU without protection keys does: with PKRU cleared the same load succeeds, so the
    // page tables allow reading and only the key denies it.
    write_executable(path, handmade({{.flags = 1}}, concat(kAllowAllKeys, load_own_data_code(kAllowAllKeys.size()))));
    const Outcome outcome = execute(path);
    INFO(describe(outcome));
    CHECK(outcome.signal == 0);
    CHECK(outcome.status == 42);
  }
}

// The self-check link() runs in debug and test builds: it returns on a good file and aborts
// (a bug in tinyelf, not an Error for the caller) on one that would not run.
TEST_CASE("verify_linked passes good files and aborts on bad ones", "[check]") {
  auto aborts = [](const Bytes& file, bool conformant) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 2);  // the findings it prints are expected
      ::signal(SIGABRT, SIG_DFL);  // die of it, without Catch2's fatal-signal report
      tinyelf::detail::verify_linked(file, conformant);
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
  };
  CHECK_FALSE(aborts(exit42_program().bytes, true));
  CHECK_FALSE(aborts(compact_exit42(), false));                                // tooling findings only
  CHECK(aborts(compact_exit42(), true));                                       // conformant means none at all
  CHECK(aborts(with(exit42_program().bytes, kPMemsz, std::uint64_t{1}), false));  // crashes after exec
  // Hardening findings are the layout's choice: one RWX segment is not a bug, even when conformant.
  CHECK_FALSE(aborts(with(exit42_program().bytes, kPFlags, std::uint32_t{7}), true));
}

TEST_CASE("finding messages name the field and the rule", "[check]") {
  const Bytes file = with(exit42_program().bytes, kPhentsize, std::uint16_t{64});
  const auto findings = tinyelf::check(file);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].id == "bad-phentsize");
  CHECK(findings[0].message == "e_phentsize is 64, the kernel requires 56");
  CHECK(tinyelf::to_string(findings[0].severity) == "refused");
}

TEST_CASE("the table size cap is an option: 4096 bytes on Linux 6.1 and older", "[check]") {
  // 100 program headers (5600 bytes) fit the 6.x cap of 65536 but not the old one-page cap.
  Bytes file = exit42_program().bytes;
  file.resize(64 + 100 * 56, 0);
  file = with(file, kPhnum, std::uint16_t{100});
  tinyelf::CheckOptions old_kernel;
  old_kernel.max_program_header_table = 4096;
  CHECK_FALSE(has_finding(tinyelf::check(file), "program-header-table-too-large"));
  CHECK(has_finding(tinyelf::check(file, old_kernel), "program-header-table-too-large"));
}

// The proof. Each mutant of a known-good file is executed for real and must do what check()
// predicts: refused <=> execve failed; crashes after exec <=> killed by a signal; runs <=> exited
// having done its work (status 42, and the message for hello).
//
// Mutants that change the program rather than its format are judged apart: a moved e_entry (other
// instructions run), a header byte the kernel never reads (tinyelf packs code and data into such
// bytes, and the compact file executes e_ident), and, for any PT_LOAD, a p_filesz cut on a
// writable segment (the kernel zero-fills the rest of the page, wiping the program's own bytes),
// a p_memsz cut (less memory than the program uses), a moved segment (p_vaddr, p_offset: the
// program finds other bytes, or none, where its data was) or a program header that stops or
// starts being PT_LOAD. For those check() can only promise the first half: if it says refused,
// execve fails, and if it says the file runs, execve succeeds; what the changed program then does
// is counted as "changed program".
//
// Permissions are judged with what the test knows of each program's code (TestProgram::reads):
// when a segment holding bytes the program reads becomes unreadable on this machine (PROT_NONE,
// or PF_X alone with protection keys) and check() says it starts, the program must break the way
// its code does: a load gets SIGSEGV, a write() of its message fails with EFAULT. check() must
// have said "depends on the code" for an execute-only segment. Besides the random mutants, every
// permission of every PT_LOAD is tried, which random bytes rarely hit.
struct MutantRun {
  int total = 0, agreed = 0, code_changed = 0, timeouts = 0;
  int unreadable = 0, execute_only = 0;  // runs of a program whose own bytes became unreadable
  int by_verdict[3] = {0, 0, 0};
  std::vector<std::string> disagreements;
};

// Whether the mutant changes the program rather than its format (see above), header by header,
// for any number of PT_LOADs.
bool changes_program(const tinyelf::ElfView& view, const tinyelf::ElfView& original) {
  if (view.header.e_entry != original.header.e_entry) return true;
  const std::size_t count = std::max(view.program_headers.size(), original.program_headers.size());
  for (std::size_t i = 0; i < count; ++i) {
    // What ld.so reads from the headers: a PT_INTERP or PT_DYNAMIC that appears, goes, or points
    // at other bytes (ld.so reads the interpreter's name and the dynamic section from memory).
    for (const std::uint32_t type : {3u, 2u}) {  // PT_INTERP, PT_DYNAMIC
      const bool was = i < original.program_headers.size() && original.program_headers[i].p_type == type;
      const bool is = i < view.program_headers.size() && view.program_headers[i].p_type == type;
      if (was != is || (is && view.program_headers[i].p_vaddr != original.program_headers[i].p_vaddr)) return true;
    }
    const bool was_load = i < original.program_headers.size() && original.program_headers[i].p_type == 1;
    const bool is_load = i < view.program_headers.size() && view.program_headers[i].p_type == 1;
    if (was_load != is_load) return true;
    if (!is_load) continue;
    const tinyelf::ProgramHeader& p = view.program_headers[i];
    const tinyelf::ProgramHeader& o = original.program_headers[i];
    if (p.p_vaddr != o.p_vaddr || p.p_offset != o.p_offset) return true;
    if ((p.p_flags & 2) != 0 && p.p_filesz != o.p_filesz) return true;  // PF_W: padzero() wipes past p_filesz
    if (p.p_memsz < o.p_memsz) return true;
  }
  return false;
}

// Whether the kernel maps a PT_LOAD with these p_flags unreadable: PROT_NONE, or, with protection
// keys, PROT_EXEC alone (the execute-only key). Without them PROT_EXEC alone is readable.
bool unreadable(std::uint32_t flags, bool protection_keys) {
  flags &= 7;
  return flags == 0 || (flags == 1 && protection_keys);
}

// What a program does when the bytes it reads are unreadable (TestProgram::reads).
bool broke_as_expected(const TestProgram& program, const Outcome& o) {
  if (o.exec_errno != 0) return false;
  if (program.reads == Reads::kLoad) return o.signal == SIGSEGV;
  return o.signal == 0 && o.status == 42 && o.out.empty();  // write() failed with EFAULT
}

// Runs `kMutantsPerProgram` mutants of each program (the same ones on every call) and compares
// what the kernel does with what check() predicts under `options`.
MutantRun run_mutants(const std::vector<TestProgram>& programs, const tinyelf::CheckOptions& options, Mdwe mdwe) {
  constexpr int kMutantsPerProgram = 1200;
  std::mt19937_64 random(20261126);  // fixed: the same mutants on every run
  const std::uint8_t interesting[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                      0x10, 0x38, 0x40, 0x7f, 0x80, 0xfe, 0xff};
  const fs::path path = exec_folder() / "mutant";
  Runner runner(mdwe);

  MutantRun run;
  for (const TestProgram& program : programs) {
    {
      // The unchanged program does what check() says: it runs, or (bss, one RWX segment) it is
      // killed under MDWE.
      const auto findings = tinyelf::check(program.bytes, options);
      write_executable(path, program.bytes);
      const Outcome original = runner.execute(path);
      INFO(program.name << ": " << describe(original) << describe(findings));
      REQUIRE(agrees(predicted(findings), program, original));
      if (!options.deny_write_execute) REQUIRE(did_its_work(program, original));
    }
    const tinyelf::ElfView original_view = tinyelf::inspect(program.bytes);
    const std::size_t header_size = headers_end(program.bytes);
    const std::vector<bool> kernel_reads = kernel_read_bytes(program.bytes);

    // Runs one mutant and judges check()'s prediction.
    auto judge = [&](const Bytes& mutant) {
      std::vector<std::size_t> offsets;  // the bytes that differ
      for (std::size_t i = 0; i < mutant.size(); ++i)
        if (mutant[i] != program.bytes[i]) offsets.push_back(i);
      const auto findings = tinyelf::check(mutant, options);
      const Verdict verdict = predicted(findings);
      write_executable(path, mutant);
      const Outcome outcome = runner.execute(path);

      const tinyelf::ElfView view = tinyelf::inspect(mutant);
      bool changes_code = changes_program(view, original_view);
      for (const std::size_t offset : offsets) changes_code |= !kernel_reads[offset];
      // Did a segment holding what the program reads become unreadable on this machine?
      bool reads_unreadable = false, execute_only = false;
      for (std::size_t i = 0; i < std::min(view.program_headers.size(), original_view.program_headers.size()); ++i) {
        const std::uint32_t flags = view.program_headers[i].p_flags;
        if (view.program_headers[i].p_type != 1 ||
            (original_view.program_headers[i].p_flags & program.reads_from) == 0 ||
            !unreadable(flags, options.protection_keys))
          continue;
        reads_unreadable = true;
        execute_only |= (flags & 7) == 1;
      }

      ++run.total;
      ++run.by_verdict[static_cast<int>(verdict)];
      run.timeouts += outcome.timed_out();
      bool ok = agrees(verdict, program, outcome);
      if (reads_unreadable && !changes_code && verdict == Verdict::kRuns) {
        // check() says the process starts (and, for an execute-only segment, that its code decides
        // the rest); the test knows what this program reads, so it knows how it must break.
        ok = broke_as_expected(program, outcome) && (!execute_only || has_finding(findings, "execute-only-segment"));
        ++run.unreadable;
        run.execute_only += execute_only;
      } else if (!ok && changes_code && verdict == Verdict::kRuns && outcome.exec_errno == 0) {
        ++run.code_changed;
        ok = true;
      }
      if (ok) {
        ++run.agreed;
      } else {
        std::string bytes;
        for (const std::size_t offset : offsets)
          bytes += fmt::format(" [{}] {:02x}->{:02x}", offset, program.bytes[offset], mutant[offset]);
        run.disagreements.push_back(fmt::format("{}:{}: predicted {}, but {}{}", program.name, bytes, name(verdict),
                                                describe(outcome), describe(findings)));
      }
    };

    for (int n = 0; n < kMutantsPerProgram; ++n) {
      Bytes mutant = program.bytes;
      const int count = random() % 10 < 7 ? 1 : 2;
      for (int k = 0; k < count; ++k) {
        const std::size_t offset = random() % header_size;
        const int how = static_cast<int>(random() % 10);
        if (how < 5) mutant[offset] = static_cast<std::uint8_t>(random());
        else if (how < 8) mutant[offset] = interesting[random() % std::size(interesting)];
        else mutant[offset] ^= static_cast<std::uint8_t>(1u << (random() % 8));
      }
      if (mutant == program.bytes) {
        --n;
        continue;
      }
      judge(mutant);
    }
    // Every permission of every PT_LOAD: the programs that read their own bytes break in
    // execute-only segments (with protection keys), W+X is killed under MDWE, and a segment
    // without PF_X cannot hold the entry point.
    for (std::size_t i = 0; i < original_view.program_headers.size(); ++i) {
      if (original_view.program_headers[i].p_type != 1) continue;
      const std::size_t at = original_view.header.e_phoff + 56 * i + 4;  // p_flags
      for (std::uint8_t flags = 0; flags < 8; ++flags)
        if (flags != program.bytes[at]) judge(with(program.bytes, at, flags));
    }
  }
  return run;
}

// One line per pass, and the disagreements; a disagreement fails the test.
void report(const MutantRun& run, const std::string& pass) {
  const std::string summary = fmt::format(
      "{}: check() vs the kernel: {}/{} mutants agree ({:.2f}%); predicted runs {}, crashes after exec {}, refused "
      "{}; {} runs of a changed program (counted as agreeing: execve succeeded as predicted; {} of them looped "
      "until stopped); {} runs of a program whose own bytes became unreadable, {} of them execute-only, broke as "
      "its code must",
      pass, run.agreed, run.total, 100.0 * run.agreed / run.total, run.by_verdict[0], run.by_verdict[1],
      run.by_verdict[2], run.code_changed, run.timeouts, run.unreadable, run.execute_only);
  std::cout << summary << "\n";
  WARN(summary);
  for (std::size_t i = 0; i < std::min<std::size_t>(run.disagreements.size(), 60); ++i)
    UNSCOPED_INFO(run.disagreements[i]);
  CHECK(run.disagreements.empty());
  CHECK(run.by_verdict[0] > 0);
  CHECK(run.by_verdict[1] > 0);
  CHECK(run.by_verdict[2] > 0);
}

// The machine facts check() is given, as one line.
std::string describe(const tinyelf::CheckOptions& o) {
  return fmt::format("Linux {}, vm.mmap_min_addr {}, commit limit {}, protection keys {}, PR_SET_MDWE {}{}",
                     kernel_release(), o.mmap_min_addr,
                     o.commit_limit == UINT64_MAX ? "none" : std::to_string(o.commit_limit),
                     o.protection_keys ? "yes (PF_X alone is execute-only)" : "no (PF_X alone is readable)",
                     kernel_has_mdwe() ? "available" : "missing", o.deny_write_execute ? " and set" : "");
}

// The whole mutant set runs twice, as two tests that ctest can run side by side: as this
// process's children run (the machine's facts), then under PR_SET_MDWE set in each child before
// execve, where a W+X segment is killed.
std::vector<TestProgram> mutated_programs() {
  return {exit42_program(),
          hello_program(),
          bss_program(),
          dynamic_hello_program(),
          exit42_program(tinyelf::Layout::kCompact),
          hello_program(tinyelf::Layout::kCompact),
          compact_program()};
}

TEST_CASE("check() agrees with the kernel on thousands of header mutants", "[check][kernel]") {
  const tinyelf::CheckOptions options = machine_options();
  const std::string facts = "machine facts assumed: " + describe(options);
  std::cout << facts << "\n";
  WARN(facts);
  report(run_mutants(mutated_programs(), options, Mdwe::kInherited), "as this machine runs them");
}

TEST_CASE("check() agrees with the kernel on thousands of header mutants under PR_SET_MDWE", "[check][kernel]") {
  if (!kernel_has_mdwe()) {
    WARN("Linux " << kernel_release() << " has no PR_SET_MDWE (it came in 6.3): the pass under MDWE did NOT run");
    return;
  }
  tinyelf::CheckOptions options = machine_options();
  options.deny_write_execute = true;
  const std::string facts = "machine facts assumed: " + describe(options);
  std::cout << facts << "\n";
  WARN(facts);
  report(run_mutants(mutated_programs(), options, Mdwe::kSet), "under PR_SET_MDWE");
}

#ifdef TINYELF_CHECK_BINARY
// stderr without the line of machine facts tinyelf-check prints first.
std::string errors(const test::Process& p) {
  const std::size_t end = p.err.find('\n');
  REQUIRE(p.err.starts_with("tinyelf-check: assuming vm.mmap_min_addr "));
  return p.err.substr(end + 1);
}

TEST_CASE("tinyelf-check prints findings like a compiler, exit status 0, 1 or 2", "[check][tool]") {
  const fs::path folder = exec_folder();
  const fs::path good = folder / "tool-good", bad = folder / "tool-bad", compact = folder / "tool-compact";
  write_executable(good, exit42_program().bytes);
  write_executable(bad, with(exit42_program().bytes, kPhentsize, std::uint16_t{64}));
  write_executable(compact, compact_exit42());

  test::Process p = test::spawn({TINYELF_CHECK_BINARY, good.string()});
  CHECK(p.exit_code == 0);
  CHECK(p.out.empty());
  CHECK(errors(p).empty());

  p = test::spawn({TINYELF_CHECK_BINARY, compact.string()});
  CHECK(p.exit_code == 0);  // tooling findings only: it runs
  CHECK(p.out.find(compact.string() + ": tooling: EI_CLASS is 106") != std::string::npos);

  p = test::spawn({TINYELF_CHECK_BINARY, good.string(), bad.string()});
  CHECK(p.exit_code == 1);
  CHECK(p.out == bad.string() + ": refused: e_phentsize is 64, the kernel requires 56 [bad-phentsize]\n");

  p = test::spawn({TINYELF_CHECK_BINARY, (folder / "missing").string(), good.string()});
  CHECK(p.exit_code == 2);
  CHECK(errors(p) == (folder / "missing").string() + ": error: cannot read the file: No such file or directory\n");

  p = test::spawn({TINYELF_CHECK_BINARY, folder.string()});
  CHECK(p.exit_code == 2);
  CHECK(p.err.find("it is a folder") != std::string::npos);

  p = test::spawn({TINYELF_CHECK_BINARY});
  CHECK(p.exit_code == 2);
  CHECK(p.err.find("usage: tinyelf-check") != std::string::npos);

  // vm.mmap_min_addr of another machine: a segment at 0x1000 is fine at 4096, not at 65536.
  const Bytes low = with(with(exit42_program().bytes, kPVaddr, std::uint64_t{0x1000}), kEntry,
                         tinyelf::inspect(exit42_program().bytes).header.e_entry - 0x3ff000);
  write_executable(bad, low);
  CHECK(test::spawn({TINYELF_CHECK_BINARY, "--mmap-min-addr=4096", bad.string()}).exit_code == 0);
  CHECK(test::spawn({TINYELF_CHECK_BINARY, "--mmap-min-addr", "4096", bad.string()}).exit_code == 0);
  for (const std::string option : {"--mmap-min-addr=65536", "--mmap-min-addr=0x10000"}) {
    p = test::spawn({TINYELF_CHECK_BINARY, option, bad.string()});
    CHECK(p.exit_code == 1);
    CHECK(p.out.find("crashes after exec") != std::string::npos);
    CHECK(p.out.find("[segment-below-mmap-min-addr]") != std::string::npos);
  }
  for (const std::string value : {"", "-1", "4k"}) {
    p = test::spawn({TINYELF_CHECK_BINARY, "--mmap-min-addr=" + value, good.string()});
    CHECK(p.exit_code == 2);
    CHECK(p.err == "tinyelf-check: --mmap-min-addr needs a number, got \"" + value + "\"\n");
  }
  CHECK(test::spawn({TINYELF_CHECK_BINARY, "--mmap-min-addr"}).exit_code == 2);
}

TEST_CASE("tinyelf-check says which machine facts it assumed: this machine's, or the options'", "[check][tool]") {
  const fs::path folder = exec_folder();
  const fs::path rwx = folder / "tool-rwx", xonly = folder / "tool-execute-only";
  write_executable(rwx, with(exit42_program().bytes, kPFlags, std::uint32_t{7}));
  write_executable(xonly, with(exit42_program().bytes, kPFlags, std::uint32_t{1}));
  const tinyelf::CheckOptions host = machine_options();

  // The defaults are this machine's facts, all of them named on the first line of stderr.
  test::Process p = test::spawn({TINYELF_CHECK_BINARY, rwx.string()});
  const std::string facts = p.err.substr(0, p.err.find('\n'));
  CHECK(facts == fmt::format("tinyelf-check: assuming vm.mmap_min_addr {} (this machine), protection keys {} (this "
                             "machine), PR_SET_MDWE {} (this machine), commit limit {} (this machine)",
                             host.mmap_min_addr, host.protection_keys ? "yes" : "no",
                             host.deny_write_execute ? "yes" : "no",
                             host.commit_limit == UINT64_MAX ? "none" : std::to_string(host.commit_limit)));

  // A W+X segment: hardening (exit 0), or killed under MDWE (exit 1).
  p = test::spawn({TINYELF_CHECK_BINARY, "--no-mdwe", rwx.string()});
  CHECK(p.exit_code == 0);
  CHECK(p.out.starts_with(rwx.string() + ": hardening: program header 0: p_flags 0x7 make the segment writable and "
                                         "executable"));
  CHECK(p.out.ends_with("[writable-and-executable-segment]\n"));
  CHECK(p.err.find("PR_SET_MDWE no (--no-mdwe)") != std::string::npos);
  p = test::spawn({TINYELF_CHECK_BINARY, "--mdwe", rwx.string()});
  CHECK(p.exit_code == 1);
  CHECK(p.out.starts_with(rwx.string() + ": crashes after exec: "));
  CHECK(p.out.ends_with("[writable-and-executable-segment]\n"));
  CHECK(p.err.find("PR_SET_MDWE yes (--mdwe)") != std::string::npos);

  // PF_X alone: nothing without protection keys; "depends on the code" (exit 0) with them.
  p = test::spawn({TINYELF_CHECK_BINARY, "--no-pku", xonly.string()});
  CHECK(p.exit_code == 0);
  CHECK(p.out.empty());
  CHECK(p.err.find("protection keys no (--no-pku)") != std::string::npos);
  p = test::spawn({TINYELF_CHECK_BINARY, "--pku", xonly.string()});
  CHECK(p.exit_code == 0);
  CHECK(p.out.starts_with(xonly.string() + ": depends on the code: program header 0: p_flags 0x1 give PF_X alone"));
  CHECK(p.out.ends_with("[execute-only-segment]\n"));
  CHECK(p.err.find("protection keys yes (--pku)") != std::string::npos);

  p = test::spawn({TINYELF_CHECK_BINARY, "--help"});
  CHECK(p.exit_code == 0);
  CHECK(p.out.find("Each defaults to this machine's") != std::string::npos);
}
#endif
