// The bfc command line, run as a separate process: exit statuses, diagnostics, and that a failed
// compilation never leaves an output file behind.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "helpers.hpp"
#include "support.hpp"

namespace {

namespace fs = std::filesystem;

fs::path write_program(const std::string& name, const std::string& text) {
  const fs::path path = test::scratch_folder() / name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

test::Process run_bfc(std::vector<std::string> args) {
  args.insert(args.begin(), BFC_BINARY);
  return test::spawn(args);
}

const std::string kHello =
    "++++++++[>++++[>++>+++>+++>+<<<<-]>+>+>->>+[<]<-]>>.>---.+++++++..+++.>>.<-.<.+++.------.--------.>>+.>++.";

}  // namespace

TEST_CASE("cli: compiles to a file that runs") {
  const fs::path program = write_program("hello.b", kHello);
  const fs::path output = test::scratch_folder() / "hello";
  const test::Process compiled = run_bfc({program.string(), "-o", output.string()});
  CHECK(compiled.exit_code == 0);
  CHECK(compiled.err.empty());
  const test::Process ran = test::spawn({output.string()});
  CHECK(ran.exit_code == 0);
  CHECK(ran.out == "Hello World!\n");
  CHECK((fs::status(output).permissions() & fs::perms::owner_exec) != fs::perms::none);
}

TEST_CASE("cli: --run compiles and runs from memory") {
  const fs::path program = write_program("hello-run.b", kHello);
  const test::Process ran = run_bfc({"--run", program.string()});
  CHECK(ran.exit_code == 0);
  CHECK(ran.out == "Hello World!\n");
  SECTION("the program's exit status is passed on") {
    const test::Process off = run_bfc({"--run", write_program("left.b", "<+").string()});
    CHECK(off.exit_code == bfc::kExitOffTape);
    CHECK(off.err == "error: pointer moved off tape\n");
  }
}

TEST_CASE("cli: unbalanced brackets: FILE:LINE:COL, status 1, no output file") {
  const fs::path output = test::scratch_folder() / "unbalanced";
  SECTION("an unclosed [") {
    const fs::path program = write_program("open.b", "+++\n++[>+\n<-");
    const test::Process result = run_bfc({program.string(), "-o", output.string()});
    CHECK(result.exit_code == 1);
    CHECK(result.err == program.string() + ":2:3: error: unmatched '[': no ']' closes it\n");
    CHECK_FALSE(fs::exists(output));
  }
  SECTION("a stray ]") {
    const fs::path program = write_program("close.b", "[-]]");
    const test::Process result = run_bfc({program.string(), "-o", output.string()});
    CHECK(result.exit_code == 1);
    CHECK(result.err == program.string() + ":1:4: error: unmatched ']': no '[' opens it\n");
    CHECK_FALSE(fs::exists(output));
  }
  SECTION("an existing output file is left as it was") {
    std::ofstream(output) << "previous";
    const test::Process result = run_bfc({write_program("bad.b", "]").string(), "-o", output.string()});
    CHECK(result.exit_code == 1);
    CHECK(test::read_file(output) == "previous");
    fs::remove(output);
  }
}

TEST_CASE("cli: --layout compact writes a smaller file that runs the same") {
  const fs::path program = write_program("c.b", kHello);
  const fs::path compact = test::scratch_folder() / "compact", conformant = test::scratch_folder() / "conformant";
  REQUIRE(run_bfc({program.string(), "-o", compact.string(), "--layout", "compact"}).exit_code == 0);
  REQUIRE(run_bfc({program.string(), "-o", conformant.string(), "--layout=conformant"}).exit_code == 0);
  CHECK(test::spawn({compact.string()}).out == "Hello World!\n");
  CHECK(test::spawn({conformant.string()}).out == "Hello World!\n");
  CHECK(fs::file_size(compact) < fs::file_size(conformant));
  CHECK(run_bfc({program.string(), "-o", compact.string(), "--layout", "tiny"}).exit_code == 2);
}

TEST_CASE("cli: --eof and --tape") {
  // Cristofani's io.b: prints LK, LB or LA for EOF unchanged, zero, minus one.
  const fs::path program = write_program("eof.b", ">,>+++++++++,>+++++++++++[<++++++<++++++<+>>>-]<<.>.<<-.>.>.<<.");
  const fs::path input = write_program("eof.in", "\n");
  const fs::path output = test::scratch_folder() / "eof";
  for (const auto& [mode, expected] : {std::pair{"unchanged", "LK\nLK\n"}, std::pair{"zero", "LB\nLB\n"},
                                       std::pair{"minus-one", "LA\nLA\n"}}) {
    REQUIRE(run_bfc({program.string(), "-o", output.string(), "--eof", mode}).exit_code == 0);
    const std::string file = test::read_file(output);
    const tinyelf::RunResult result =
        tinyelf::run(std::span(reinterpret_cast<const std::uint8_t*>(file.data()), file.size()), {}, "\n");
    CHECK(result.out == expected);
  }
  const fs::path far = write_program("far.b", std::string(40000, '>') + "+.");
  CHECK(run_bfc({"--run", far.string()}).exit_code == bfc::kExitOffTape);
  CHECK(run_bfc({"--run", far.string(), "--tape", "40001"}).out == "\1");
}

TEST_CASE("cli: --version prints one line, --help the usage, both with status 0") {
  const test::Process version = run_bfc({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out == "bfc (tinyelf) " BFC_VERSION "\n");  // BFC_VERSION: the CMake project version
  CHECK(version.err.empty());
  const test::Process help = run_bfc({"--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::StartsWith("usage: bfc PROG.b -o OUT") && Catch::Contains("--version"));
  CHECK(help.err.empty());
}

TEST_CASE("cli: bad command lines exit with status 2 and say why in one line and a hint") {
  const std::string program = write_program("ok.b", "+").string();
  const std::string output = (test::scratch_folder() / "never").string();
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "no program given"},
      {{program}, "no output file"},
      {{program, "-o"}, "-o needs a value"},
      {{program, "-o", output, "--layout", "tiny"}, "unknown layout 'tiny'"},
      {{program, "-o", output, "--eof", "never"}, "unknown --eof 'never'"},
      {{program, "-o", output, "--tape", "0"}, "--tape '0' is not a number"},
      {{program, "-o", output, "--tape", "12cells"}, "--tape '12cells' is not a number"},
      {{program, "-o", output, "--disable", "everything"}, "unknown pass 'everything'"},
      {{program, "-o", output, "--fast"}, "unknown option '--fast'"},
      {{program, program, "-o", output}, "more than one program"},
  };
  for (const auto& [args, message] : cases) {
    const test::Process result = run_bfc(args);
    INFO(message);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Catch::StartsWith("bfc: error: " + message) && Catch::EndsWith("\ntry 'bfc --help'\n"));
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 2);  // not the whole usage text
    CHECK(result.out.empty());
    CHECK_FALSE(fs::exists(output));
  }
}

TEST_CASE("cli: an unreadable program is an error with status 1") {
  const fs::path output = test::scratch_folder() / "none";
  const test::Process missing = run_bfc({(test::scratch_folder() / "missing.b").string(), "-o", output.string()});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("missing.b: error: cannot read: No such file or directory"));
  const test::Process folder = run_bfc({test::scratch_folder().string(), "-o", output.string()});
  CHECK(folder.exit_code == 1);
  CHECK_THAT(folder.err, Catch::Contains("error: cannot read: is a directory"));
  CHECK_FALSE(fs::exists(output));
}

TEST_CASE("cli: an output file that cannot be written is an error with status 1, the old file kept") {
  const fs::path program = write_program("write.b", kHello);
  const fs::path missing = test::scratch_folder() / "no-such-folder" / "out";
  const test::Process result = run_bfc({program.string(), "-o", missing.string()});
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.err, Catch::StartsWith("bfc: error: cannot write " + missing.string()));
  CHECK_FALSE(fs::exists(missing.parent_path()));
  const test::Process folder = run_bfc({program.string(), "-o", test::scratch_folder().string()});
  CHECK(folder.exit_code == 1);
  CHECK(fs::is_directory(test::scratch_folder()));
}

TEST_CASE("cli: --dump-ir and --disable show the passes at work") {
  const std::string program = write_program("ir.b", "+[->++<]").string();
  CHECK(run_bfc({"--dump-ir", program}).out == "add 1 @0\nmultiply @0 +1*2\n");
  CHECK(run_bfc({"--dump-ir", program, "--disable", "multiply-loops", "--disable=counted-loops"}).out == "add 1 @0\nloop\n  add -1 @0\n  add 2 @1\nend\n");
  CHECK(run_bfc({"--dump-ir", program, "--no-opt"}).out.find("multiply") == std::string::npos);
}
