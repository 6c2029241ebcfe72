// The example programs, end to end: run each one, then execute what it wrote (execve of the file,
// no shell) and check its size, its behaviour and that the ELF tools accept it.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <catch2/catch.hpp>

#include "support.hpp"

namespace {

struct Built {
  std::filesystem::path path;
  std::uintmax_t size = 0;
};

Built build_example(const std::string& example_binary, const std::string& name, std::vector<std::string> flags = {}) {
  Built built{test::scratch_folder() / name};
  std::vector<std::string> argv{example_binary};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back(built.path.string());
  const test::Process p = test::spawn(argv);
  INFO(p.err);
  REQUIRE(p.exit_code == 0);
  built.size = std::filesystem::file_size(built.path);
  CHECK(p.out == built.path.string() + " " + std::to_string(built.size) + "\n");
  return built;
}

// The default output: every tool reads it, no segment is writable and executable, and it does
// the same work under PR_SET_MDWE, as a hardened service would run it.
void check_tools_accept(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const test::Headers h = test::read_headers(bytes);
  CHECK(h.phdr.p_filesz == bytes.size());
  const test::Process elflint = test::spawn({"eu-elflint", "--strict", path.string()});
  CHECK(elflint.exit_code == 0);
  CHECK(elflint.out.find("No errors") != std::string::npos);
  test::check_no_writable_executable_segment(bytes);
  const test::Process plain = test::spawn({path.string()});
  const tinyelf::RunResult hardened = tinyelf::run(bytes, test::hardened());
  CHECK(hardened.exit_code == plain.exit_code);
  CHECK(hardened.out == plain.out);
}

}  // namespace

TEST_CASE("examples/exit42 writes 120 bytes that exit with 42 and 80 bytes with --compact") {
  const Built built = build_example(EXIT42_BINARY, "exit42");
  CHECK(built.size == 120);
  CHECK(test::spawn({built.path.string()}).exit_code == 42);
  check_tools_accept(built.path);

  const Built compact = build_example(EXIT42_BINARY, "exit42-compact", {"--compact"});
  CHECK(compact.size == 80);
  CHECK(test::spawn({compact.path.string()}).exit_code == 42);
}

TEST_CASE("examples/hello writes 150 bytes that print Hello, world!, 95 compact and 91 compact with zeroed registers") {
  const Built built = build_example(HELLO_BINARY, "hello");
  CHECK(built.size == 150);
  test::Process p = test::spawn({built.path.string()});
  CHECK(p.out == "Hello, world!\n");
  CHECK(p.exit_code == 0);
  check_tools_accept(built.path);

  const Built compact = build_example(HELLO_BINARY, "hello-compact", {"--compact"});
  CHECK(compact.size == 95);  // the best published 64-bit hello worlds are 105 and 112 bytes
  p = test::spawn({compact.path.string()});
  CHECK(p.out == "Hello, world!\n");
  CHECK(p.exit_code == 0);

  const Built zeroed = build_example(HELLO_BINARY, "hello-zeroed", {"--compact", "--assume-zeroed-registers"});
  CHECK(zeroed.size == 91);
  p = test::spawn({zeroed.path.string()});
  CHECK(p.out == "Hello, world!\n");
  CHECK(p.exit_code == 0);
}

TEST_CASE("examples/compiler_sum writes a Compiler-built program returning 1²+…+5²") {
  const Built built = build_example(COMPILER_SUM_BINARY, "compiler_sum");
  CHECK(test::spawn({built.path.string()}).exit_code == 55);
  check_tools_accept(built.path);
  const Built compact = build_example(COMPILER_SUM_BINARY, "compiler_sum-compact", {"--compact"});
  CHECK(compact.size < built.size);
  CHECK(test::spawn({compact.path.string()}).exit_code == 55);
}

TEST_CASE("the examples write mode 0755 minus the umask and reject a wrong command line") {
  const Built built = build_example(EXIT42_BINARY, "mode");
  struct stat st {};
  REQUIRE(::stat(built.path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == (0755 & ~test::current_umask()));
  for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
           {EXIT42_BINARY}, {EXIT42_BINARY, "--bogus", "x"}, {EXIT42_BINARY, "a", "b"}}) {
    const test::Process usage = test::spawn(argv);
    CHECK(usage.exit_code == 2);
    CHECK(usage.err.find("usage:") != std::string::npos);
  }
  const test::Process missing = test::spawn({EXIT42_BINARY, (test::scratch_folder() / "no/such/folder/x").string()});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("error: cannot write") != std::string::npos);
}
