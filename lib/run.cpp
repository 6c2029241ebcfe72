// tinyelf::run — execute a file from memory: memfd_create + fexecve, stdin fed and stdout/stderr
// captured through a poll loop, with a timeout that kills the program's whole process group.
// Optionally under MemoryDenyWriteExecute (PR_SET_MDWE), and scripts (#!) as well as ELF files.
#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <tinyelf/error.hpp>
#include <tinyelf/run.hpp>

#include "mdwe_p.hpp"

extern char** environ;


namespace tinyelf {

namespace {

std::string errno_text(int err) { return fmt::format("{} ({})", std::strerror(err), strerrorname_np(err)); }

[[noreturn]] void fail(std::string_view what, int err) {
  throw Error(ErrorCode::kRunFailed, fmt::format("cannot run the image: {} failed: {}", what, errno_text(err)));
}

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~Fd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct Channel {
  Fd parent;  // our end
  Fd child;   // the end the program gets as stdin, stdout or stderr
};

Channel make_pipe(bool child_reads) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) fail("pipe2", errno);
  return child_reads ? Channel{Fd(fds[1]), Fd(fds[0])} : Channel{Fd(fds[0]), Fd(fds[1])};
}

// stdin is a socket rather than a pipe so that writing to a program that stopped reading gives
// EPIPE via send(MSG_NOSIGNAL) instead of a SIGPIPE that would kill the caller.
Channel make_input_socket() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) fail("socketpair", errno);
  ::shutdown(fds[0], SHUT_RD);  // the program only reads its stdin
  ::shutdown(fds[1], SHUT_WR);
  return Channel{Fd(fds[0]), Fd(fds[1])};
}

// The file in an anonymous memory file, sealed so nothing can change it once it is executed.
Fd make_memory_file(std::span<const std::uint8_t> file) {
  Fd fd(::memfd_create("tinyelf", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) fail("memfd_create", errno);
  while (!file.empty()) {
    const ssize_t written = ::write(fd.get(), file.data(), file.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      fail("writing the memory file", errno);
    }
    file = file.subspan(static_cast<std::size_t>(written));
  }
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0)
    fail("sealing the memory file", errno);
  return fd;
}

// How the child is to be started.
struct ChildSetup {
  // A script's interpreter opens the script by the path "/dev/fd/N" that execve passes it; the
  // kernel refuses that path for a close-on-exec descriptor (BINPRM_FLAGS_PATH_INACCESSIBLE,
  // fs/exec.c and fs/binfmt_script.c: ENOENT), so a script's memory file is left open across exec.
  bool keep_image_open = false;
  bool deny_write_execute = false;  // RunOptions::deny_write_execute
};

// What the child writes to the report pipe when it fails before or at execve.
struct ChildFailure {
  enum Step : int { kRedirect, kDenyWriteExecute, kKeepImageOpen, kExec };
  int step = kExec;
  int err = 0;  // errno
};

// A started child; killed (with its process group) and reaped if the caller never waits for it.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      kill_group();
      wait();
    }
  }

  pid_t pid() const noexcept { return pid_; }
  void kill_group() noexcept { ::kill(-pid_, SIGKILL); }

  int wait() noexcept {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = 0;
    return status;
  }

 private:
  pid_t pid_;
};

[[noreturn]] void child_failed(const Fd& report, ChildFailure::Step step) {
  const ChildFailure failure{step, errno};
  (void)!::write(report.get(), &failure, sizeof failure);  // one write below PIPE_BUF: atomic
  ::_exit(127);
}

// The child between vfork (or fork) and exec: after vfork it shares the caller's memory and runs on
// its stack, so only system calls, and nothing that writes to memory but its own frame. All
// signals are blocked on entry (see start_child). The program gets every signal at its default
// action and none blocked, whatever the caller set up: a handler of the caller's must not run
// here, and an ignored signal would stay ignored across execve.
[[noreturn]] void exec_child(const Fd& image, Channel& in, Channel& out, Channel& err, const Fd& report,
                             char* const* argv, ChildSetup setup) {
  ::setpgid(0, 0);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) ::sigaction(signal, &default_action, nullptr);  // fails for SIGKILL, SIGSTOP
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (::dup2(in.child.get(), 0) < 0 || ::dup2(out.child.get(), 1) < 0 || ::dup2(err.child.get(), 2) < 0)
    child_failed(report, ChildFailure::kRedirect);
  // Only ever after fork (start_child): MDWE is a flag of the address space (MMF_HAS_MDWE), which a
  // vfork child shares with the caller.
  if (setup.deny_write_execute && ::prctl(detail::kPrSetMdwe, detail::kMdweRefuseExecGain, 0UL, 0UL, 0UL) != 0)
    child_failed(report, ChildFailure::kDenyWriteExecute);
  // The child has its own descriptor table (vfork does not share it): the caller's copy stays
  // close-on-exec.
  if (setup.keep_image_open && ::fcntl(image.get(), F_SETFD, 0) != 0)
    child_failed(report, ChildFailure::kKeepImageOpen);
  ::fexecve(image.get(), argv, environ);
  child_failed(report, ChildFailure::kExec);
}

// Starts the child with vfork: fork copies the caller's page tables, so from a caller holding
// 256 MiB each run() took 5.7 ms with fork and takes 0.18 ms with vfork (the benchmark
// tinyelf/run/exit42-256MiB-caller). The caller is suspended until the child has called execve
// or _exit. With deny_write_execute it must be fork: prctl(PR_SET_MDWE) in a vfork child would set
// the flag on the caller's address space, for good.
pid_t start_child(const Fd& image, Channel& in, Channel& out, Channel& err, const Fd& report, char* const* argv,
                  ChildSetup setup) {
  sigset_t all, previous;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  const pid_t pid = setup.deny_write_execute ? ::fork() : ::vfork();
  if (pid == 0) exec_child(image, in, out, err, report, argv, setup);
  const int start_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (pid < 0) fail(setup.deny_write_execute ? "fork" : "vfork", start_errno);
  return pid;
}

// Blocks until the child either executed the image (the CLOEXEC pipe closes: nothing to read) or
// reported how it failed.
std::optional<ChildFailure> read_child_failure(const Fd& report) {
  ChildFailure failure;
  for (;;) {
    const ssize_t n = ::read(report.get(), &failure, sizeof failure);
    if (n < 0 && errno == EINTR) continue;
    if (n == static_cast<ssize_t>(sizeof failure)) return failure;
    return std::nullopt;
  }
}

[[noreturn]] void throw_child_failure(const ChildFailure& failure, std::size_t file_size) {
  switch (failure.step) {
    case ChildFailure::kRedirect:
      fail("dup2 of stdin, stdout and stderr", failure.err);
    case ChildFailure::kDenyWriteExecute:
      // prctl() rejects an option it does not know with EINVAL (kernel/sys.c).
      if (failure.err == EINVAL)
        throw Error(ErrorCode::kRunFailed,
                    fmt::format("cannot run the image: deny_write_execute needs Linux 6.3 or later "
                                "(prctl(PR_SET_MDWE) failed: {})",
                                errno_text(failure.err)));
      fail("prctl(PR_SET_MDWE)", failure.err);
    case ChildFailure::kKeepImageOpen:
      fail("clearing close-on-exec of the script's memory file", failure.err);
    case ChildFailure::kExec:
      break;
  }
  throw Error(ErrorCode::kExecRefused,
              fmt::format("the kernel refused to execute the image ({} bytes): execve failed with {}", file_size,
                          errno_text(failure.err)));
}

bool is_script(std::span<const std::uint8_t> file) { return file.size() >= 2 && file[0] == '#' && file[1] == '!'; }

void drain(Fd& fd, std::string& sink) {
  char buffer[65536];
  const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
  if (n > 0) {
    sink.append(buffer, static_cast<std::size_t>(n));
  } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
    fd.reset();  // end of file, or an error that will not go away
  }
}

void feed(Fd& fd, std::string_view& input) {
  const ssize_t n = ::send(fd.get(), input.data(), input.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n >= 0) {
    input.remove_prefix(static_cast<std::size_t>(n));
  } else if (errno != EINTR && errno != EAGAIN) {
    input = {};  // the program closed its stdin or exited: the rest has no reader
  }
  if (input.empty()) fd.reset();  // end of file for the program
}

}  // namespace

RunResult run(std::span<const std::uint8_t> file, const RunOptions& options) {
  const Fd image = make_memory_file(file);
  Channel in = make_input_socket();
  Channel out = make_pipe(false);
  Channel err = make_pipe(false);
  Channel report = make_pipe(false);

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>("tinyelf"));
  for (const std::string& arg : options.args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  const ChildSetup setup{.keep_image_open = is_script(file), .deny_write_execute = options.deny_write_execute};
  Child child(start_child(image, in, out, err, report.child, argv.data(), setup));
  in.child.reset();
  out.child.reset();
  err.child.reset();
  report.child.reset();
  if (const std::optional<ChildFailure> failure = read_child_failure(report.parent)) {
    child.wait();
    throw_child_failure(*failure, file.size());
  }
  std::string_view input = options.input;
  if (input.empty()) in.parent.reset();
  // Readable once the program has exited. Then whatever it started is killed with its process
  // group, so a descendant that inherited stdout cannot keep run() waiting for end of file.
  // (glibc 2.36's <sys/pidfd.h> lacks extern "C", hence the system call itself.)
  Fd exited(static_cast<int>(::syscall(SYS_pidfd_open, child.pid(), 0)));
  if (!exited) fail("pidfd_open", errno);

  RunResult result;
  while (exited || out.parent || err.parent) {
    pollfd fds[4] = {{in.parent.get(), POLLOUT, 0}, {out.parent.get(), POLLIN, 0}, {err.parent.get(), POLLIN, 0},
                     {exited.get(), POLLIN, 0}};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      child.kill_group();
      break;
    }
    // Round up so the loop never spins on a deadline less than a millisecond away.
    const int ready = ::poll(fds, 4, static_cast<int>(std::min<std::chrono::milliseconds::rep>(left.count() + 1, 60'000)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      fail("poll", errno);
    }
    if (fds[0].revents != 0) feed(in.parent, input);
    if (fds[1].revents != 0) {
      drain(out.parent, result.out);
      if (options.max_output != 0 && result.out.size() >= options.max_output) {
        result.output_limited = true;
        child.kill_group();
        break;
      }
    }
    if (fds[2].revents != 0) drain(err.parent, result.err);
    if (fds[3].revents != 0) {
      child.kill_group();  // the exited program itself is a zombie until child.wait(): no pid reuse
      exited.reset();
    }
  }

  const int status = child.wait();
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.term_signal = WTERMSIG(status);
  }
  return result;
}

RunResult run(const Image& image, const RunOptions& options) { return run(image.bytes(), options); }

}  // namespace tinyelf
