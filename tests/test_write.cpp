// Image::write: the file it writes, and the failures after which nothing has changed.
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <catch2/catch.hpp>

#include "support.hpp"

namespace fs = std::filesystem;
namespace x86 = asmjit::x86;
using Catch::Matchers::Contains;

namespace {

// Files left in `folder` besides `keep`.
std::vector<std::string> leftovers(const fs::path& folder, const std::string& keep) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.path().filename() != keep) names.push_back(entry.path().filename().string());
  return names;
}

tinyelf::Error write_error(const tinyelf::Image& image, const fs::path& path,
                           tinyelf::Durability durability = tinyelf::Durability::kSynced) {
  try {
    image.write(path, durability);
  } catch (const tinyelf::Error& e) {
    return e;
  }
  FAIL("write() succeeded on " << path);
  return tinyelf::Error(tinyelf::ErrorCode::kWriteFailed, "unreachable");
}

// `path` holds exactly `image`, with mode 0755 minus the umask, and runs with `exit_code`.
void check_written(const fs::path& path, const tinyelf::Image& image, int exit_code) {
  CHECK(test::read_file(path) == test::as_string(image));
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == (0755 & ~test::current_umask()));
  CHECK(test::spawn({path.string()}).exit_code == exit_code);
}

}  // namespace

TEST_CASE("write() creates an executable file with the image's bytes") {
  const fs::path folder = test::scratch_folder() / "create";
  fs::create_directory(folder);
  const tinyelf::Image image = test::exit_program(5);
  image.write(folder / "prog");
  check_written(folder / "prog", image, 5);
  CHECK(leftovers(folder, "prog").empty());

  SECTION("and replaces an existing file whole") {
    const tinyelf::Image second = test::exit_program(6);
    second.write(folder / "prog");
    CHECK(test::read_file(folder / "prog") == test::as_string(second));
    CHECK(test::spawn({(folder / "prog").string()}).exit_code == 6);
    CHECK(leftovers(folder, "prog").empty());
  }
  SECTION("a relative path writes into the current folder") {
    const fs::path previous = fs::current_path();
    fs::current_path(folder);
    image.write("relative");
    fs::current_path(previous);
    CHECK(test::read_file(folder / "relative") == test::as_string(image));
  }
}

TEST_CASE("Durability::kUnsynced writes the same file, atomically, without waiting for the disk") {
  const fs::path folder = test::scratch_folder() / "unsynced";
  fs::create_directory(folder);
  const tinyelf::Image first = test::exit_program(8), second = test::exit_program(9);
  first.write(folder / "prog", tinyelf::Durability::kUnsynced);
  second.write(folder / "prog", tinyelf::Durability::kUnsynced);  // replaces it whole
  check_written(folder / "prog", second, 9);
  CHECK(leftovers(folder, "prog").empty());
  CHECK_THAT(write_error(first, folder / "missing" / "prog", tinyelf::Durability::kUnsynced).what(),
             Contains("ENOENT"));
  CHECK_THAT(write_error(first, folder / "prog", static_cast<tinyelf::Durability>(7)).what(),
             Contains("Durability 7 is not a tinyelf::Durability"));
  CHECK(test::read_file(folder / "prog") == test::as_string(second));
}

TEST_CASE("write() to a missing folder fails and creates nothing") {
  const tinyelf::Error e = write_error(test::exit_program(0), test::scratch_folder() / "missing" / "prog");
  CHECK(e.code() == tinyelf::ErrorCode::kWriteFailed);
  CHECK_THAT(e.what(), Contains("missing/prog"));
  CHECK_THAT(e.what(), Contains("ENOENT"));
  CHECK_FALSE(fs::exists(test::scratch_folder() / "missing"));
}

// More failures (full and read-only file systems, /dev/full, folders, races, SIGKILL) are in
// test_faults.cpp.
TEST_CASE("a failed write leaves the previous file untouched and no temporary file") {
  const fs::path folder = test::scratch_folder() / "previous";
  fs::create_directory(folder);
  const tinyelf::Image old_image = test::exit_program(1);
  old_image.write(folder / "prog");
  std::vector<std::uint8_t> big(1 << 16, 0x90);

  SECTION("the file size limit is hit (EFBIG from RLIMIT_FSIZE, in a child process)") {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG instead of killing the process
      const rlimit limit{4096, 4096};
      ::setrlimit(RLIMIT_FSIZE, &limit);
      tinyelf::Program program;
      program.rodata(big.data(), big.size(), 1);
      program.text().ret();
      try {
        program.link().write(folder / "prog");
      } catch (const tinyelf::Error& e) {
        ::_exit(std::string(e.what()).find("EFBIG") != std::string::npos ? 0 : 2);
      }
      ::_exit(3);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  CHECK(test::read_file(folder / "prog") == test::as_string(old_image));
  CHECK(leftovers(folder, "prog").empty());
}

TEST_CASE("a symbolic link is replaced itself and its target is left alone") {
  const fs::path folder = test::scratch_folder() / "symlink";
  fs::create_directory(folder);
  const tinyelf::Image target_image = test::exit_program(1);
  target_image.write(folder / "target");
  fs::create_symlink("target", folder / "link");
  const tinyelf::Image image = test::exit_program(2);
  image.write(folder / "link");
  CHECK_FALSE(fs::is_symlink(folder / "link"));
  CHECK(test::read_file(folder / "link") == test::as_string(image));
  CHECK(test::read_file(folder / "target") == test::as_string(target_image));
}
