// bfc -g: a Brainfuck program debugged with gdb by its source lines, its runtime routines named
// for gdb, objdump, nm and perf, and files every ELF tool accepts.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "helpers.hpp"
#include "support.hpp"

namespace {

namespace fs = std::filesystem;

// Prints "HI": one group of commands per line, so that gdb's `step` (line by line) stops at each.
constexpr std::string_view kProgram =
    "++++++++\n"          // 1  cell 0 = 8
    "[>+++++++++<-]\n"    // 2  cell 1 = 72
    ">.\n"                // 3  print 'H'
    "+.\n"                // 4  print 'I'
    "[-]\n";              // 5

fs::path write_program(const std::string& name, std::string_view text) {
  const fs::path path = test::scratch_folder() / name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

test::Process run_bfc(std::vector<std::string> args) {
  args.insert(args.begin(), BFC_BINARY);
  return test::spawn(args);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// `kProgram` compiled by bfc -g with `options` into a file named `name`.
fs::path compile_g(const std::string& name, const std::vector<std::string>& options = {}) {
  const fs::path source = write_program("hi.b", kProgram);
  const fs::path output = test::scratch_folder() / name;
  std::vector<std::string> args = {source.string(), "-g", "-o", output.string()};
  args.insert(args.end(), options.begin(), options.end());
  const test::Process compiled = run_bfc(args);
  INFO(compiled.err);
  REQUIRE(compiled.exit_code == 0);
  return output;
}

}  // namespace

TEST_CASE("bfc -g: the same program, files every tool reads") {
  const fs::path source = write_program("hi.b", kProgram);
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
  const fs::path output = test::scratch_folder() / "compact";
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
  const fs::path data = test::scratch_folder() / "bfc-perf.data";
  const test::Process record = test::spawn({"perf", "record", "-q", "-N", "-o", data.string(), "--", file.string()});
  if (record.exit_code != 0 && (contains(record.err, "perf_event_open") || contains(record.err, "paranoid") ||
                                contains(record.err, "ermission"))) {
    WARN("perf_event_open is refused on this machine, the perf part is not tested:\n" << record.err);
    return;
  }
  INFO(record.out << record.err);
  REQUIRE(record.exit_code == 0);
  const test::Process report = test::spawn({"perf", "report", "-i", data.string(), "--stdio", "--sort", "symbol"});
  INFO(report.out << report.err);
  CHECK(contains(report.out, "[.] _start"));
}
