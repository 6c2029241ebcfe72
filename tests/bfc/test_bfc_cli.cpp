// The bfc command line, run as a separate process: exit statuses, diagnostics, that a failed
// compilation never leaves an output file behind, and -g, read back by gdb, perf and the ELF tools.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

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

// Prints "HI": one group of commands per line, so that gdb's `step` (line by line) stops at each.
constexpr std::string_view kProgram =
    "++++++++\n"          // 1  cell 0 = 8
    "[>+++++++++<-]\n"    // 2  cell 1 = 72
    ">.\n"                // 3  print 'H'
    "+.\n"                // 4  print 'I'
    "[-]\n";              // 5

const std::string kHello =
    "++++++++[>++++[>++>+++>+++>+<<<<-]>+>+>->>+[<]<-]>>.>---.+++++++..+++.>>.<-.<.+++.------.--------.>>+.>++.";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// `kProgram` compiled by bfc -g with `options` into a file named `name`.
fs::path compile_g(const std::string& name, const std::vector<std::string>& options = {}) {
  const fs::path source = write_program("hi.b", std::string(kProgram));
  const fs::path output = test::scratch_folder() / name;
  std::vector<std::string> args = {source.string(), "-g", "-o", output.string()};
  args.insert(args.end(), options.begin(), options.end());
  const test::Process compiled = run_bfc(args);
  INFO(compiled.err);
  REQUIRE(compiled.exit_code == 0);
  return output;
}

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

// Built with AddressSanitizer (GCC defines __SANITIZE_ADDRESS__, clang answers __has_feature).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// bfc runs for a few milliseconds, so the libraries its start-up loads and binds count (see
// examples/bfc/CMakeLists.txt): fmt's functions are compiled in, libstdc++ and libgcc linked
// statically.
TEST_CASE("cli: the bfc executable needs no shared library but libc and the dynamic loader") {
  const test::Process readelf = test::spawn({"readelf", "-W", "-d", BFC_BINARY});
  INFO(readelf.err);
  REQUIRE(readelf.exit_code == 0);
  std::vector<std::string> needed;
  for (std::size_t at = readelf.out.find("(NEEDED)"); at != std::string::npos; at = readelf.out.find("(NEEDED)", at + 1)) {
    const std::size_t open = readelf.out.find('[', at), close = readelf.out.find(']', open);
    needed.push_back(readelf.out.substr(open + 1, close - open - 1));
  }
  INFO(readelf.out);
  // libc, and the dynamic loader itself, which the static libstdc++ calls (__tls_get_addr, and
  // _dl_find_object from glibc 2.35 on). A sanitizer build (.ci/run's second pass) links the
  // sanitizers' runtime, which needs more of glibc: libm, libdl, libpthread, librt.
  const bool sanitized = kSanitized;
  CHECK(std::all_of(needed.begin(), needed.end(), [&](const std::string& name) {
    const bool sanitizer_runtime_needs = name.starts_with("libm.so.") || name.starts_with("libdl.so.") ||
                                         name.starts_with("libpthread.so.") || name.starts_with("librt.so.");
    return name.starts_with("libc.so.") || name.starts_with("ld-linux") || (sanitized && sanitizer_runtime_needs);
  }));
  CHECK(std::find(needed.begin(), needed.end(), "libc.so.6") != needed.end());
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
  const std::string chain = write_program("chain.b", "+[->+<[->+<[-<+>]]]").string();
  CHECK(run_bfc({"--dump-ir", chain}).out == "add 1 @0\nbounded 2 @0 +0*-1 +1*1\nmultiply @0 -1*1\n");
  CHECK(run_bfc({"--dump-ir", chain, "--disable", "bounded-loops"}).out.find("bounded") == std::string::npos);
  const std::string varied = write_program("varied.b", "+[->+<[->-<[-<+>]]]").string();
  CHECK(run_bfc({"--dump-ir", varied}).out == "add 1 @0\nbounded 2 @0 +0*-1 +1*(1,-1)\nmultiply @0 -1*1\n");
  CHECK(run_bfc({"--dump-ir", varied, "--disable", "varied-levels"}).out.find("bounded") == std::string::npos);
  const std::string output = (test::scratch_folder() / "chain").string();
  CHECK(run_bfc({chain, "-o", output, "--disable", "known-values"}).exit_code == 0);
  // deferred-stores changes only the code: the two executables differ.
  const std::string deferred = (test::scratch_folder() / "deferred").string();
  REQUIRE(run_bfc({chain, "-o", deferred}).exit_code == 0);
  REQUIRE(run_bfc({chain, "-o", output, "--disable", "deferred-stores"}).exit_code == 0);
  CHECK(test::read_file(deferred) != test::read_file(output));
}

TEST_CASE("bfc -g: the same program, files every tool reads") {
  const fs::path source = write_program("hi.b", std::string(kProgram));
  for (const std::vector<std::string>& options : {std::vector<std::string>{}, {"--no-opt"}}) {
    const fs::path debug = compile_g("hi-g", options);
    const fs::path plain = test::scratch_folder() / "hi";
    std::vector<std::string> args = {source.string(), "-o", plain.string()};
    args.insert(args.end(), options.begin(), options.end());
    REQUIRE(run_bfc(args).exit_code == 0);
    CHECK(test::spawn({debug.string()}).out == "HI");
    CHECK(test::spawn({plain.string()}).out == "HI");

    const std::string bytes = test::read_file(debug);
    CHECK(tinyelf::check(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size())).empty());
    const test::Process elflint = test::spawn({"eu-elflint", "--strict", debug.string()});
    INFO(elflint.out << elflint.err);
    CHECK(elflint.out == "No errors\n");
    const test::Process readelf = test::spawn({"readelf", "-W", "-a", "--debug-dump=line", debug.string()});
    INFO(readelf.err);
    CHECK(readelf.err.empty());
    CHECK_FALSE(contains(readelf.out, "Warning"));

    const test::Process nm = test::spawn({"nm", debug.string()});
    for (const char* name : {" T _start", " T put_byte", " T flush", " T on_segv", " T no_tape"})
      CHECK(contains(nm.out, name));
    const test::Process objdump = test::spawn({"objdump", "-d", debug.string()});
    CHECK(contains(objdump.out, "<put_byte>:"));
    CHECK(contains(objdump.out, "call   4"));
    CHECK(contains(objdump.out, " <put_byte>\n"));

    // The address where line 3 starts maps back to hi.b:3 and _start.
    const test::Process line3 = test::gdb_batch(debug, {"info line hi.b:3"});
    INFO(line3.out << line3.err);
    const std::size_t at = line3.out.find("starts at address 0x");
    REQUIRE(at != std::string::npos);
    const std::string address = line3.out.substr(at + 18, line3.out.find(' ', at + 18) - at - 18);
    const test::Process addr2line = test::spawn({"addr2line", "-f", "-e", debug.string(), address});
    CHECK(addr2line.out == fmt::format("_start\n{}:3\n", fs::absolute(source).lexically_normal().string()));
  }
  // A compact file cannot carry it: a usage error, no output.
  const fs::path output = test::scratch_folder() / "hi-g-compact";
  const test::Process compact = run_bfc({source.string(), "-g", "--layout", "compact", "-o", output.string()});
  CHECK(compact.exit_code == 2);
  CHECK(compact.err == "bfc: error: -g needs --layout conformant: debuggers cannot read compact files\ntry 'bfc --help'\n");
  CHECK_FALSE(fs::exists(output));
}

TEST_CASE("bfc -g: gdb breaks at a line of the .b file, steps through it and prints the cell") {
  REQUIRE(test::have_tool("gdb"));
  // Unoptimised, the tape pointer (rbx) is on the current cell at every command.
  const fs::path file = compile_g("hi-g", {"--no-opt"});
  const test::Process session = test::gdb_batch(
      file, {"break hi.b:3", "run", "print *(unsigned char *)$rbx", "step", "print *(unsigned char *)$rbx", "step",
             "print *(unsigned char *)$rbx", "continue"});
  INFO(session.out << session.err);
  CHECK(session.exit_code == 0);
  const std::string source = fs::absolute(test::scratch_folder() / "hi.b").lexically_normal().string();
  const std::vector<std::string> expected = {
      fmt::format("Breakpoint 1, _start () at {}:3\n3\t>.\n", source),
      "$1 = 0 '\\000'\n",  // cell 0, emptied by the loop on line 2
      "4\t+.\n",
      "$2 = 72 'H'\n",     // cell 1
      "5\t[-]\n",
      "$3 = 73 'I'\n",
  };
  std::size_t at = 0;
  for (const std::string& step : expected) {
    INFO("expected next: " << step);
    const std::size_t found = session.out.find(step, at);
    REQUIRE(found != std::string::npos);
    at = found + step.size();
  }
  CHECK(contains(session.out, "exited normally"));
}

TEST_CASE("bfc -g: bt names the runtime routine and the source line that called it") {
  REQUIRE(test::have_tool("gdb"));
  const fs::path file = compile_g("hi-g");
  const test::Process session = test::gdb_batch(file, {"break flush", "run", "bt"});
  INFO(session.out << session.err);
  const std::string source = fs::absolute(test::scratch_folder() / "hi.b").lexically_normal().string();
  // Optimised, output is buffered: flush runs once, at exit, called from code with no source line.
  CHECK(contains(session.out, "in flush ()\n#1  0x"));
  CHECK(contains(session.out, " in _start ()\n"));
}

TEST_CASE("bfc -g: perf attributes samples to the program and its routines") {
  REQUIRE(test::have_tool("perf"));
  // 255 * 255 * 255 rounds of the innermost loop, unoptimised: about 50 ms.
  const fs::path source = write_program("spin.b", "-[>-[>-[-]<-]<-]");
  const fs::path file = test::scratch_folder() / "spin";
  REQUIRE(run_bfc({source.string(), "-g", "--no-opt", "-o", file.string()}).exit_code == 0);
  if (const std::optional<test::Process> report = test::perf_report(file)) {
    INFO(report->out << report->err);
    CHECK(report->exit_code == 0);
    CHECK(contains(report->out, "[.] _start"));
  }
}
