#include "support.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "../lib/mdwe_p.hpp"

extern char** environ;

namespace test {

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct ScratchFolder {
  fs::path path;
  ScratchFolder() {
    std::string pattern = (fs::temp_directory_path() / "tinyelf-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = pattern;
    // Traversable by others, so tests that drop to an unprivileged user can reach their files.
    fs::permissions(path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
  }
  ~ScratchFolder() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

}  // namespace

fs::path scratch_folder() {
  static ScratchFolder folder;
  return folder.path;
}

Process spawn(const std::vector<std::string>& argv) {
  static int counter = 0;
  const fs::path out_path = scratch_folder() / ("spawn-" + std::to_string(++counter) + ".out");
  const fs::path err_path = scratch_folder() / ("spawn-" + std::to_string(counter) + ".err");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  Process process;
  if (rc != 0) {
    process.err = std::string("posix_spawnp failed: ") + std::strerror(rc);
    process.exit_code = 127;
    return process;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) process.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) process.term_signal = WTERMSIG(status);
  process.out = slurp(out_path);
  process.err = slurp(err_path);
  fs::remove(out_path);
  fs::remove(err_path);
  return process;
}

Process gdb_batch(const fs::path& file, const std::vector<std::string>& commands) {
  std::vector<std::string> argv = {"gdb", "-nx", "-batch", "-ex", "set startup-with-shell off"};
  for (const std::string& command : commands) {
    argv.push_back("-ex");
    argv.push_back(command);
  }
  argv.push_back(file.string());
  return spawn(argv);
}

std::optional<Process> perf_report(const fs::path& file) {
  const fs::path data = file.string() + ".perf.data";
  const Process record = spawn({"perf", "record", "-q", "-N", "-o", data.string(), "--", file.string()});
  const auto refused = [&](const char* part) { return record.err.find(part) != std::string::npos; };
  if (record.exit_code != 0 && (refused("perf_event_open") || refused("paranoid") || refused("ermission"))) {
    WARN("perf_event_open is refused on this machine, the perf part is not tested:\n" << record.err);
    return std::nullopt;
  }
  INFO("perf record: " << record.out << record.err);
  REQUIRE(record.exit_code == 0);
  return spawn({"perf", "report", "-i", data.string(), "--stdio", "--sort", "symbol"});
}

unsigned current_umask() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Umask:", 0) == 0) return static_cast<unsigned>(std::stoul(line.substr(6), nullptr, 8));
  }
  throw std::runtime_error("no Umask line in /proc/self/status");
}

bool have_tool(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream folders(path ? path : "/usr/bin:/bin");
  for (std::string folder; std::getline(folders, folder, ':');) {
    if (::access((fs::path(folder) / program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

void check_with_elf_tools(const tinyelf::Image& image, const std::string& name) {
  const fs::path file = scratch_folder() / name;
  image.write(file);

  const Process elflint = spawn({"eu-elflint", "--strict", file.string()});
  INFO("eu-elflint --strict " << name << ":\n" << elflint.out << elflint.err);
  CHECK(elflint.exit_code == 0);
  CHECK(elflint.out.find("No errors") != std::string::npos);

  const Process readelf = spawn({"readelf", "-W", "-a", file.string()});
  INFO("readelf -W -a " << name << ":\n" << readelf.out << readelf.err);
  CHECK(readelf.exit_code == 0);
  CHECK(readelf.err.empty());
  CHECK(readelf.out.find("Advanced Micro Devices X86-64") != std::string::npos);
  // A position-independent file is ET_DYN: "pie executable" to file, DYN to readelf.
  const bool dyn = read_headers(image.bytes()).ehdr.e_type == ET_DYN;
  CHECK(readelf.out.find(dyn ? "DYN (" : "EXEC (Executable file)") != std::string::npos);

  const Process file_tool = spawn({"file", "-b", file.string()});
  INFO("file " << name << ": " << file_tool.out);
  CHECK(file_tool.exit_code == 0);
  CHECK(file_tool.out.find(dyn ? "ELF 64-bit LSB pie executable, x86-64" : "ELF 64-bit LSB executable, x86-64") !=
        std::string::npos);
  fs::remove(file);
}

tinyelf::Image exit_program(int status) {
  namespace x86 = asmjit::x86;
  tinyelf::Program program;
  program.text().mov(x86::edi, status);
  program.text().mov(x86::eax, 60);  // SYS_exit
  program.text().syscall();
  return program.link();
}

tinyelf::Image self_kill_program(int signal) {
  namespace x86 = asmjit::x86;
  tinyelf::Program program;
  x86::Assembler& a = program.text();
  a.mov(x86::eax, 39);  // SYS_getpid
  a.syscall();
  a.mov(x86::edi, x86::eax);
  a.mov(x86::esi, signal);
  a.mov(x86::eax, 62);  // SYS_kill
  a.syscall();
  a.mov(x86::eax, 60);  // SYS_exit
  a.xor_(x86::edi, x86::edi);
  a.syscall();
  return program.link();
}

void emit_cat(tinyelf::Program& program, std::uint32_t buffer_size) {
  namespace x86 = asmjit::x86;
  const asmjit::Label buffer = program.bss(buffer_size);
  x86::Assembler& a = program.text();
  asmjit::Label read_more = a.newLabel(), write_more = a.newLabel(), done = a.newLabel();
  a.bind(read_more);
  a.xor_(x86::eax, x86::eax);  // SYS_read(0, buffer, buffer_size)
  a.xor_(x86::edi, x86::edi);
  a.lea(x86::rsi, x86::ptr(buffer));
  a.mov(x86::edx, buffer_size);
  a.syscall();
  a.test(x86::rax, x86::rax);
  a.jle(done);
  a.mov(x86::rdx, x86::rax);  // bytes left to write, from rsi
  a.bind(write_more);
  a.mov(x86::eax, 1);  // SYS_write(1, rsi, rdx)
  a.mov(x86::edi, 1);
  a.syscall();
  a.test(x86::rax, x86::rax);
  a.jle(done);
  a.add(x86::rsi, x86::rax);
  a.sub(x86::rdx, x86::rax);
  a.jnz(write_more);
  a.jmp(read_more);
  a.bind(done);
  a.mov(x86::eax, 60);  // SYS_exit(0)
  a.xor_(x86::edi, x86::edi);
  a.syscall();
}

tinyelf::Image cat_program(std::uint32_t buffer_size) {
  tinyelf::Program program;
  emit_cat(program, buffer_size);
  return program.link();
}

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

std::string read_file(const fs::path& path) { return slurp(path); }

std::string as_string(const tinyelf::Image& image) {
  return std::string(reinterpret_cast<const char*>(image.bytes().data()), image.size());
}

std::optional<int> mdwe_flags() {
  const int flags = ::prctl(tinyelf::detail::kPrGetMdwe, 0UL, 0UL, 0UL, 0UL);
  if (flags >= 0) return flags;
  REQUIRE(errno == EINVAL);
  return std::nullopt;
}

tinyelf::RunOptions hardened(tinyelf::RunOptions options) {
  static const bool available = [] {
    const bool has = mdwe_flags().has_value();
    if (!has) WARN("this kernel has no PR_SET_MDWE (Linux 6.3+): programs that should run hardened run without it");
    return has;
  }();
  options.deny_write_execute = available;
  return options;
}

void check_no_writable_executable_segment(std::span<const std::uint8_t> file) {
  for (const Elf64_Phdr& phdr : read_headers(file).phdrs) {
    INFO("program header at p_offset " << phdr.p_offset << ", p_flags " << phdr.p_flags);
    if (phdr.p_type == PT_LOAD) CHECK((phdr.p_flags & (PF_W | PF_X)) != (PF_W | PF_X));
  }
}

Headers read_headers(std::span<const std::uint8_t> file) {
  Headers headers{};
  REQUIRE(file.size() >= sizeof(Elf64_Ehdr));
  std::memcpy(&headers.ehdr, file.data(), sizeof(Elf64_Ehdr));
  REQUIRE(headers.ehdr.e_phoff + sizeof(Elf64_Phdr) <= file.size());
  std::memcpy(&headers.phdr, file.data() + headers.ehdr.e_phoff, sizeof(Elf64_Phdr));
  REQUIRE(headers.ehdr.e_phoff + headers.ehdr.e_phnum * sizeof(Elf64_Phdr) <= file.size());
  headers.phdrs.resize(headers.ehdr.e_phnum);
  std::memcpy(headers.phdrs.data(), file.data() + headers.ehdr.e_phoff, headers.phdrs.size() * sizeof(Elf64_Phdr));
  return headers;
}

}  // namespace test
