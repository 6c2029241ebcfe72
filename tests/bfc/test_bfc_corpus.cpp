// Every program of the public corpus (TINYELF_BF_CORPUS/MANIFEST.tsv), compiled and run from
// memory; stdout compared byte for byte with the expected output that came with the corpus.
#include <catch2/catch.hpp>

#ifdef TINYELF_BF_CORPUS_MISSING

TEST_CASE("corpus: the Brainfuck corpus is absent") {
  WARN("no Brainfuck corpus at " TINYELF_BF_CORPUS_MISSING
       " (no MANIFEST.tsv): the corpus tests did not run; configure with -DTINYELF_BF_CORPUS=FOLDER");
}

#else

#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "helpers.hpp"
#include "support.hpp"

namespace {

namespace fs = std::filesystem;
using test::bfc_support::compile;

const fs::path kCorpus = TINYELF_BF_CORPUS;

// The layouts every program is linked with.
const std::vector<tinyelf::Layout> kLayouts = {tinyelf::Layout::kConformant, tinyelf::Layout::kCompact};

// One row of MANIFEST.tsv: program, input, expected, class, expected_from, tape, note.
struct Entry {
  std::string program, input, expected, kind;
  std::size_t tape = 30000;
};

std::vector<Entry> read_manifest() {
  std::istringstream lines(test::read_file(kCorpus / "MANIFEST.tsv"));
  std::vector<Entry> entries;
  std::string line;
  std::getline(lines, line);  // the column names
  while (std::getline(lines, line)) {
    std::vector<std::string> fields;
    std::istringstream columns(line);
    for (std::string field; std::getline(columns, field, '\t');) fields.push_back(field);
    if (fields.size() < 6) continue;
    entries.push_back({fields[0], fields[1], fields[2], fields[3], std::stoul(fields[5])});
  }
  return entries;
}

std::vector<Entry> entries_of(const std::string& kind) {
  std::vector<Entry> selected;
  for (Entry& entry : read_manifest())
    if (entry.kind == kind) selected.push_back(std::move(entry));
  return selected;
}

// This program's expected output was produced by a C translation reading tape[-1] (undefined
// behaviour that happened to print a NUL byte). bfc must stop it instead.
bool reads_left_of_tape(const Entry& entry) { return entry.program == "wilfred_bfc/warning_out_of_bounds.bf"; }

struct Variant {
  const char* name;
  bfc::Options options;
};

// The optimised program in every layout; with `with_unoptimized`, the --no-opt one too, in the
// default layout only: its code is the same in every layout (the layout changes the headers and
// where the tape is), and some --no-opt programs run for seconds (wilfred_bfc/mandelbrot.bf 3.5 s,
// awib-0.4.b 1.5 s).
std::vector<Variant> variants(const Entry& entry, bool with_unoptimized, tinyelf::Layout layout) {
  bfc::Options optimized;
  optimized.emit.tape_cells = entry.tape;
  std::vector<Variant> result = {{"optimised", optimized}};
  if (with_unoptimized && layout == tinyelf::Layout::kConformant) {
    bfc::Options plain = test::bfc_support::unoptimized();
    plain.emit.tape_cells = entry.tape;
    result.push_back({"--no-opt", plain});
  }
  return result;
}

void check_program(const Entry& entry, bool with_unoptimized) {
  const bfc::Source source = bfc::read_source((kCorpus / entry.program).string());
  const std::string input = entry.input.empty() ? "" : test::read_file(kCorpus / entry.input);
  const std::string expected = test::read_file(kCorpus / entry.expected);
  for (const tinyelf::Layout layout : kLayouts) {
    for (Variant& variant : variants(entry, with_unoptimized, layout)) {
      variant.options.link.layout = layout;
      INFO(entry.program << " " << variant.name << " layout " << static_cast<int>(layout));
      const tinyelf::Image image = bfc::compile(source, variant.options);
      // The default layout is W^X and runs as a hardened service would, under PR_SET_MDWE; the
      // compact one is a single R|W|X segment, which MDWE kills.
      tinyelf::RunOptions options{.input = input, .timeout = std::chrono::seconds(60)};
      if (layout == tinyelf::Layout::kConformant) {
        test::check_no_writable_executable_segment(image.bytes());
        options = test::hardened(options);
      }
      const tinyelf::RunResult result = tinyelf::run(image, options);
      CHECK_FALSE(result.timed_out);
      if (reads_left_of_tape(entry)) {
        CHECK(result.exit_code == bfc::kExitOffTape);
        CHECK(result.err == "error: pointer moved off tape\n");
        continue;
      }
      CHECK(result.exit_code == 0);
      CHECK(result.err.empty());
      CHECK(result.out.size() == expected.size());
      CHECK(result.out == expected);
    }
  }
}

// The corpus's test and bench programs one after the other, `copies` times, each program on a
// fresh line: a large program made of real ones.
std::string concatenated_corpus(int copies) {
  std::string text;
  for (int copy = 0; copy < copies; ++copy)
    for (const std::string kind : {"test", "bench"})
      for (const Entry& entry : entries_of(kind)) text += test::read_file(kCorpus / entry.program) + "\n";
  return text;
}

}  // namespace

#if defined(__SANITIZE_ADDRESS__)  // GCC
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
constexpr bool kAddressSanitizer = __has_feature(address_sanitizer);  // Clang
#else
constexpr bool kAddressSanitizer = false;
#endif

// First in this file, so that when the whole file runs in one process the test process is still
// small when it starts bfc: with posix_spawn's vfork, the kernel counts the parent's peak so far
// into the child's (exec_mmap in fs/exec.c), which could only make this check stricter.
TEST_CASE("corpus: compiling a program of more than 2 MB takes at most 25 bytes of memory per source byte") {
  std::string program = concatenated_corpus(1);
  program = std::string().append(program).append(program);  // a balanced program stays balanced
  while (program.size() < 2'200'000) program += concatenated_corpus(1);
  const fs::path source = test::scratch_folder() / "large.b", output = test::scratch_folder() / "large";
  std::ofstream(source, std::ios::binary) << program;
  const test::Process compiled = test::spawn({BFC_BINARY, source.string(), "-o", output.string()});
  REQUIRE(compiled.exit_code == 0);
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);  // the largest child waited for: bfc (ru_maxrss in KiB)
  const double per_byte = static_cast<double>(children.ru_maxrss) * 1024 / static_cast<double>(program.size());
  INFO(program.size() << " source bytes; bfc peaked at " << children.ru_maxrss << " KiB, " << per_byte
                      << " bytes per source byte; this test process at " << self.ru_maxrss << " KiB");
  if (kAddressSanitizer) {
    // Its shadow memory and redzones multiply what bfc uses (159 bytes per source byte here).
    WARN("built with AddressSanitizer: bfc's memory (" << per_byte << " bytes per source byte) is NOT checked against "
         "the bound of 25; the uninstrumented build checks it");
  } else {
    CHECK(per_byte <= 25);
  }
  // The executable grows with the source, not faster: here about 1.7 bytes per source byte.
  CHECK(fs::file_size(output) <= 2 * program.size());
}

TEST_CASE("corpus: the executable grows linearly with the program") {
  const std::size_t once = compile(concatenated_corpus(1)).bytes().size();
  const std::size_t twice = compile(concatenated_corpus(2)).bytes().size();
  INFO(once << " bytes for one copy of the corpus, " << twice << " for two");
  CHECK(twice <= 2 * once);
  CHECK(twice >= 2 * once - 4096);  // the runtime and headers, not the code, are the difference
}

TEST_CASE("corpus: the manifest lists the programs the tests expect") {
  CHECK(entries_of("test").size() >= 30);
  CHECK(entries_of("bench").size() >= 6);
  CHECK(entries_of("endless").size() >= 8);
  CHECK(entries_of("error").size() == 4);
}

// The bench program with the same source and input bytes as `entry`, if there is one: it compiles
// to the same executables, which the bench test runs.
std::optional<Entry> bench_twin(const Entry& entry) {
  const std::string source = test::read_file(kCorpus / entry.program);
  const std::string input = entry.input.empty() ? "" : test::read_file(kCorpus / entry.input);
  for (const Entry& bench : entries_of("bench"))
    if (test::read_file(kCorpus / bench.program) == source &&
        (bench.input.empty() ? "" : test::read_file(kCorpus / bench.input)) == input)
      return bench;
  return std::nullopt;
}

// A test program that is also a bench program (wilfred_bfc/mandelbrot.bf is kostya/mandel.b, byte
// for byte) runs once, in the bench test; here its expected output must be the bench one's.
TEST_CASE("corpus: test programs print their expected output, optimised and not") {
  int twins = 0;
  for (const Entry& entry : entries_of("test")) {
    if (const std::optional<Entry> twin = bench_twin(entry)) {
      INFO(entry.program << " is " << twin->program);
      CHECK(test::read_file(kCorpus / entry.expected) == test::read_file(kCorpus / twin->expected));
      ++twins;
      continue;
    }
    check_program(entry, true);
  }
  CHECK(twins == 1);  // the corpus as SOURCES.md describes it: a change to it shows here
}

// Unoptimised, hanoi.b and long.b take seconds each; the random and per-pass tests cover
// unoptimised code.
TEST_CASE("corpus: bench programs print their expected output") {
  for (const Entry& entry : entries_of("bench")) check_program(entry, false);
}

// These never stop on their own. Output is unbuffered here so it reaches the pipe as it is
// produced; the program is killed once it printed the whole expected prefix, or after a second
// (golden.b needs about 12 s for its 4,096 bytes; a quarter of a second when the prefix is
// empty), unless it runs off the tape first, and what it printed must agree with the prefix.
TEST_CASE("corpus: endless programs print their expected prefix") {
  for (const Entry& entry : entries_of("endless")) {
    const bfc::Source source = bfc::read_source((kCorpus / entry.program).string());
    const std::string expected = test::read_file(kCorpus / entry.expected);
    for (bool optimise : {true, false}) {
      bfc::Options options = optimise ? bfc::Options{} : test::bfc_support::unoptimized();
      options.emit.batch_io = false;
      options.emit.tape_cells = entry.tape;
      INFO(entry.program << (optimise ? " optimised" : " --no-opt"));
      const auto timeout = expected.empty() ? std::chrono::milliseconds(250) : std::chrono::milliseconds(1000);
      const tinyelf::RunResult result =
          tinyelf::run(bfc::compile(source, options), {.timeout = timeout, .max_output = expected.size()});
      CHECK((result.output_limited || result.timed_out || result.exit_code == bfc::kExitOffTape));
      const std::size_t common = std::min(result.out.size(), expected.size());
      CHECK(result.out.substr(0, common) == expected.substr(0, common));
      if (!expected.empty()) CHECK(!result.out.empty());
    }
  }
}

TEST_CASE("corpus: unbalanced programs are rejected with their position") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"wilfred_bfc/error_no_close_paren.bf", "unmatched '['"},
      {"wilfred_bfc/error_no_open_paren.bf", "unmatched ']'"},
  };
  for (const auto& [program, message] : cases) {
    const std::string path = (kCorpus / program).string();
    INFO(program);
    const bfc::Source source = bfc::read_source(path);
    CHECK_THROWS_WITH(bfc::compile(source, {}), Catch::StartsWith(path + ":") && Catch::Contains(": error: " + message));
  }
}

TEST_CASE("corpus: leftbound.b and rightbound.b stop with the off-tape error") {
  for (const tinyelf::Layout layout : kLayouts) {
    for (const bool optimise : {true, false}) {
      bfc::Options options = optimise ? bfc::Options{} : test::bfc_support::unoptimized();
      options.link.layout = layout;
      const bfc::Source left = bfc::read_source((kCorpus / "cristofd/tests/leftbound.b").string());
      const bool conformant = layout == tinyelf::Layout::kConformant;
      const tinyelf::RunOptions run_options = conformant ? test::hardened() : tinyelf::RunOptions{};
      const tinyelf::RunResult left_run = tinyelf::run(bfc::compile(left, options), run_options);
      CHECK(left_run.exit_code == bfc::kExitOffTape);
      CHECK(left_run.err == "error: pointer moved off tape\n");
      CHECK(left_run.out.empty());  // no cell left of the first one

      const bfc::Source right = bfc::read_source((kCorpus / "cristofd/tests/rightbound.b").string());
      const tinyelf::RunResult right_run = tinyelf::run(bfc::compile(right, options), run_options);
      CHECK(right_run.exit_code == bfc::kExitOffTape);
      CHECK(right_run.err == "error: pointer moved off tape\n");
      CHECK(right_run.out.size() == bfc::tape_size(30000) - 1);  // one byte per cell right of the first
    }
  }
}

// The conformant layout only: the compact one is by design unreadable to the tools.
TEST_CASE("corpus: executables pass eu-elflint --strict, readelf and file") {
  for (const char* program : {"kostya/mandel.b", "wilfred_bfc/hello_world.bf", "cristofd/null.b"}) {
    const bfc::Source source = bfc::read_source((kCorpus / program).string());
    test::check_with_elf_tools(bfc::compile(source, {}), fs::path(program).stem().string());
  }
}

#endif
