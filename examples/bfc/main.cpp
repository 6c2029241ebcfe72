// bfc — compile a Brainfuck program into a tiny x86-64 Linux executable.
//
//   build:  cmake --build build --target bfc
//   run:    build/examples/bfc/bfc hello.b -o hello && ./hello
//           build/examples/bfc/bfc --run hello.b < input       # compile and run from memory
//
// Exit status: 0 success, 1 the program or the output file has a problem (FILE:LINE:COL: error:
// ... on stderr, no output file written), 2 bad command line (one line, "bfc: error: ...", and a
// hint to run bfc --help). With --run, the program's own status (128 + N if signal N killed it).
#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <tinyelf/error.hpp>
#include <tinyelf/run.hpp>

#include "compile.hpp"
#include "parse.hpp"

namespace {

constexpr std::string_view kUsage =
    "usage: bfc PROG.b -o OUT [options]\n"
    "       bfc --run PROG.b [options]         compile, run from memory, stdin passed through\n"
    "       bfc --dump-ir PROG.b [options]     print the optimised IR\n"
    "       bfc --help | --version\n"
    "options:\n"
    "  --layout conformant|compact   ELF layout (default conformant)\n"
    "  -g                            symbols and Brainfuck source lines for gdb, perf, objdump\n"
    "  --eof unchanged|zero|minus-one   what ',' stores at end of input (default unchanged)\n"
    "  --tape CELLS                  tape size, rounded up to whole pages of 4096 (default 30000)\n"
    "  --no-opt                      no optimisation passes, one system call per '.' and ',',\n"
    "                                every change stored at once\n"
    "  --disable PASS                switch one pass off: dead-loops, fold-runs, clear-loops,\n"
    "                                scan-loops, multiply-loops, counted-loops, fold-offsets,\n"
    "                                bounded-loops, varied-levels, io-batching, vector-scans,\n"
    "                                cell-registers, known-values, deferred-stores\n";

// BFC_VERSION is the CMake project version, set in examples/bfc/CMakeLists.txt.
constexpr std::string_view kVersion = "bfc (tinyelf) " BFC_VERSION "\n";

constexpr std::size_t kMaxTapeCells = std::size_t{1} << 32;

struct UsageError {
  std::string message;
};

enum class Mode { kWrite, kRun, kDumpIr };

struct CommandLine {
  Mode mode = Mode::kWrite;
  std::string input;
  std::string output;
  bfc::Options options;
};

void disable_pass(std::string_view name, bfc::Options& options) {
  bfc::Passes& p = options.passes;
  if (name == "dead-loops") p.dead_loops = false;
  else if (name == "fold-runs") p.fold_runs = false;
  else if (name == "clear-loops") p.clear_loops = false;
  else if (name == "scan-loops") p.scan_loops = false;
  else if (name == "multiply-loops") p.multiply_loops = false;
  else if (name == "counted-loops") p.counted_loops = false;
  else if (name == "fold-offsets") p.fold_offsets = false;
  else if (name == "io-batching") options.emit.batch_io = false;
  else if (name == "vector-scans") options.emit.vector_scans = false;
  else if (name == "cell-registers") options.emit.cell_registers = false;
  else if (name == "bounded-loops") p.bounded_loops = false;
  else if (name == "varied-levels") p.varied_levels = false;
  else if (name == "known-values") options.emit.known_values = false;
  else if (name == "deferred-stores") options.emit.deferred_stores = false;
  else throw UsageError{fmt::format("unknown pass '{}' for --disable", name)};
}

CommandLine parse_command_line(const std::vector<std::string_view>& args) {
  CommandLine line;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    std::optional<std::string_view> inline_value;  // --name=value
    if (arg.starts_with("--") && arg.find('=') != std::string_view::npos) {
      inline_value = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
    }
    auto value = [&]() -> std::string_view {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size()) throw UsageError{fmt::format("{} needs a value", arg)};
      return args[++i];
    };
    if (arg == "-o") {
      line.output = value();
    } else if (arg == "-g") {
      line.options.link.debug_info = tinyelf::DebugInfo::kLines;
    } else if (arg == "--run") {
      line.mode = Mode::kRun;
    } else if (arg == "--dump-ir") {
      line.mode = Mode::kDumpIr;
    } else if (arg == "--layout") {
      const std::string_view layout = value();
      if (layout == "conformant") line.options.link.layout = tinyelf::Layout::kConformant;
      else if (layout == "compact") line.options.link.layout = tinyelf::Layout::kCompact;
      else throw UsageError{fmt::format("unknown layout '{}': use conformant or compact", layout)};
    } else if (arg == "--eof") {
      const std::string_view eof = value();
      if (eof == "unchanged") line.options.emit.eof = bfc::Eof::kUnchanged;
      else if (eof == "zero") line.options.emit.eof = bfc::Eof::kZero;
      else if (eof == "minus-one") line.options.emit.eof = bfc::Eof::kMinusOne;
      else throw UsageError{fmt::format("unknown --eof '{}': use unchanged, zero or minus-one", eof)};
    } else if (arg == "--tape") {
      const std::string text(value());
      std::size_t end = 0;
      unsigned long long cells = 0;
      try {
        cells = std::stoull(text, &end);
      } catch (const std::exception&) {
        end = 0;
      }
      if (end != text.size() || text.empty() || text[0] == '-' || cells == 0 || cells > kMaxTapeCells)
        throw UsageError{fmt::format("--tape '{}' is not a number of cells from 1 to {}", text, kMaxTapeCells)};
      line.options.emit.tape_cells = cells;
    } else if (arg == "--no-opt") {
      line.options.passes = bfc::Passes::none();
      line.options.emit.batch_io = false;
      line.options.emit.deferred_stores = false;  // the tape up to date at every command, for gdb
    } else if (arg == "--disable") {
      disable_pass(value(), line.options);
    } else if (arg == "-h" || arg == "--help") {
      fmt::print("{}", kUsage);
      std::exit(0);
    } else if (arg == "--version") {
      fmt::print("{}", kVersion);
      std::exit(0);
    } else if (arg.starts_with("-") && arg != "-") {
      throw UsageError{fmt::format("unknown option '{}'", arg)};
    } else if (line.input.empty()) {
      line.input = arg;
    } else {
      throw UsageError{fmt::format("more than one program: '{}' and '{}'", line.input, arg)};
    }
  }
  if (line.input.empty()) throw UsageError{"no program given"};
  if (line.mode == Mode::kWrite && line.output.empty()) throw UsageError{"no output file: use -o OUT, or --run"};
  if (line.mode != Mode::kWrite && !line.output.empty()) throw UsageError{"-o makes no sense with --run or --dump-ir"};
  if (line.options.link.debug_info != tinyelf::DebugInfo::kNone && line.options.link.layout != tinyelf::Layout::kConformant)
    throw UsageError{"-g needs --layout conformant: debuggers cannot read compact files"};
  return line;
}

int run_from_memory(const tinyelf::Image& image) {
  const std::string input{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  const tinyelf::RunResult result = tinyelf::run(image, {}, input, std::chrono::hours(24));
  std::fwrite(result.out.data(), 1, result.out.size(), stdout);
  std::fflush(stdout);
  std::fwrite(result.err.data(), 1, result.err.size(), stderr);
  return result.term_signal != 0 ? 128 + result.term_signal : result.exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  CommandLine line;
  try {
    line = parse_command_line(std::vector<std::string_view>(argv + 1, argv + argc));
  } catch (const UsageError& error) {
    fmt::print(stderr, "bfc: error: {}\ntry 'bfc --help'\n", error.message);
    return 2;
  }
  try {
    const bfc::Source source = bfc::read_source(line.input);
    if (line.mode == Mode::kDumpIr) {
      fmt::print("{}", bfc::to_string(bfc::optimize(bfc::parse(source, &line.options.passes), line.options.passes)));
      return 0;
    }
    const tinyelf::Image image = bfc::compile(source, line.options);
    if (line.mode == Mode::kRun) return run_from_memory(image);
    try {
      // Atomic, without waiting for the disk, as compilers and linkers write their output.
      image.write(line.output, tinyelf::Durability::kUnsynced);  // the message names the output file
    } catch (const tinyelf::Error& error) {
      fmt::print(stderr, "bfc: error: {}\n", error.what());
      return 1;
    }
    return 0;
  } catch (const bfc::CompileError& error) {
    fmt::print(stderr, "{}\n", error.what());
    return 1;
  } catch (const tinyelf::Error& error) {
    fmt::print(stderr, "{}: error: {}\n", line.input, error.what());
    return 1;
  }
}
