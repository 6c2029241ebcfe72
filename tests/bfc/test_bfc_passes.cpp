// Each stage on its own: the parser's diagnostics, the IR each pass produces (and does not
// produce when it is switched off), and programs that exercise each pass run against the oracle.
#include <catch2/catch.hpp>

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "helpers.hpp"
#include "parse.hpp"

namespace {

using test::bfc_support::compile_and_run;

bfc::Block parse_text(std::string_view text) { return bfc::parse(bfc::Source{"test.b", std::string(text)}); }

// The IR after exactly the passes in `passes`.
std::string ir(std::string_view text, const bfc::Passes& passes) {
  return bfc::to_string(bfc::optimize(parse_text(text), passes));
}

bfc::Passes only(bool bfc::Passes::*pass) {
  bfc::Passes passes = bfc::Passes::none();
  passes.*pass = true;
  return passes;
}

// Compiles `text` with all passes, with none, and with `pass` alone and without `pass`; each
// must print what the oracle prints.
void check_against_oracle(std::string_view text, bool bfc::Passes::*pass, std::string_view input = {}) {
  bfc::Passes without = bfc::Passes{};
  without.*pass = false;
  for (const bfc::Passes& passes : {bfc::Passes{}, bfc::Passes::none(), only(pass), without}) {
    bfc::Options options;
    options.passes = passes;
    const test::bf::Outcome expected = test::bf::interpret(text, input, test::bfc_support::oracle_config(options));
    REQUIRE(expected.ending == test::bf::Ending::kFinished);
    const tinyelf::RunResult result = compile_and_run(text, input, options);
    INFO(text);
    CHECK(result.exit_code == 0);
    CHECK(result.out == expected.out);
  }
}

// Each program (a chain of bounded-loop levels on a count it reads) for every count from 0 to past
// its levels and near 256.
void check_counts_against_oracle(std::initializer_list<std::string_view> programs, bool bfc::Passes::*pass) {
  for (const char input : {'\0', '\1', '\2', '\3', '\4', '\5', '\x7f', '\xfd', '\xfe', '\xff'})
    for (const std::string_view program : programs) check_against_oracle(program, pass, std::string(1, input));
}

// Each program, with the emitter's `choice` on and off (and the rest as in `base`), must print what
// the oracle prints.
void check_choice_against_oracle(std::span<const std::string> programs, bool bfc::EmitOptions::*choice,
                                 std::string_view input, const bfc::Options& base = {}) {
  for (const std::string& program : programs) {
    for (const bool on : {true, false}) {
      bfc::Options options = base;
      options.emit.*choice = on;
      const test::bf::Outcome expected = test::bf::interpret(program, input, test::bfc_support::oracle_config(options));
      REQUIRE(expected.ending == test::bf::Ending::kFinished);
      const tinyelf::RunResult result = compile_and_run(program, input, options);
      INFO(program << (on ? "" : " with the choice off"));
      CHECK(result.exit_code == 0);
      CHECK(result.out == expected.out);
    }
  }
}

// `program`, with the emitter's `choice` on and off, must stop off the tape, having printed `out`.
void check_choice_stops_off_tape(std::string_view program, bool bfc::EmitOptions::*choice, std::string_view out = {}) {
  for (const bool on : {true, false}) {
    bfc::Options options;
    options.emit.*choice = on;
    const tinyelf::RunResult result = compile_and_run(program, "", options);
    INFO(program << (on ? "" : " with the choice off"));
    CHECK(result.exit_code == bfc::kExitOffTape);
    CHECK(result.out == out);
  }
}

}  // namespace

TEST_CASE("parse: one node per command, comments ignored") {
  CHECK(bfc::to_string(parse_text("+x-<\n>.,")) ==
        "add 1 @0\nadd -1 @0\nmove -1\nmove 1\noutput @0\ninput @0\n");
  CHECK(bfc::to_string(parse_text("[+[-]]")) == "loop\n  add 1 @0\n  loop\n    add -1 @0\n  end\nend\n");
  CHECK(parse_text("no commands here").empty());
}

TEST_CASE("parse: unmatched brackets are reported at FILE:LINE:COL") {
  CHECK_THROWS_WITH(parse_text("+\n+[\n-"), "test.b:2:2: error: unmatched '[': no ']' closes it");
  CHECK_THROWS_WITH(parse_text("[]\n  ]["), "test.b:2:3: error: unmatched ']': no '[' opens it");
  CHECK_THROWS_WITH(parse_text("[[]"), "test.b:1:1: error: unmatched '[': no ']' closes it");
  CHECK_THROWS_AS(parse_text("]"), bfc::CompileError);
}

TEST_CASE("parse: with early passes, runs and simple loops are folded as they are read") {
  const auto early = [](std::string_view text, const bfc::Passes& passes) {
    return bfc::to_string(bfc::parse(bfc::Source{"test.b", std::string(text)}, &passes));
  };
  CHECK(early("+++-->><<<", bfc::Passes{}) == "add 1 @0\nmove -1\n");
  CHECK(early(std::string(256, '+') + ".", bfc::Passes{}) == "output @0\n");  // a run that cancels out
  CHECK(early("+[-]>[<<]<[->+>++<<][.]", bfc::Passes{}) ==
        "add 1 @0\nset 0 @0\nmove 1\nscan -2\nmove -1\nmultiply @0 +1*1 +2*2\nloop\n  output @0\nend\n");
  CHECK(early("+[>[-]<-]", bfc::Passes{}) == "add 1 @0\nmultiply @0 +1=0\n");  // inner loops first
  SECTION("only the passes switched on") {
    bfc::Passes passes;
    passes.fold_runs = passes.multiply_loops = false;
    CHECK(early("++[-][->+<]", passes) == "add 1 @0\nadd 1 @0\nset 0 @0\nloop\n  add -1 @0\n  move 1\n  add 1 @0\n  move -1\nend\n");
    CHECK(early("++[-]", bfc::Passes::none()) == bfc::to_string(parse_text("++[-]")));
  }
  SECTION("the whole pipeline gives the same IR as parsing first") {
    const std::string program = "++[->+>+++[->++<]<<]>>[-]<[>.<-]+[>]";
    const bfc::Passes all;
    CHECK(bfc::to_string(bfc::optimize(bfc::parse(bfc::Source{"test.b", program}, &all), all)) ==
          bfc::to_string(bfc::optimize(parse_text(program), {})));
  }
}

TEST_CASE("parse: nesting is limited, with an error instead of a stack overflow") {
  CHECK_NOTHROW(parse_text(std::string(10000, '[') + std::string(10000, ']')));
  CHECK_THROWS_WITH(parse_text("+\n" + std::string(10001, '[') + std::string(10001, ']')),
                    "test.b:2:10001: error: loops nested more than 10000 deep");
}

TEST_CASE("pass: dead loops") {
  const auto pass = &bfc::Passes::dead_loops;
  SECTION("a comment loop at program start is dropped, even after moves") {
    CHECK(ir("[comment.,]>[x]+", only(pass)) == "move 1\nadd 1 @0\n");
  }
  SECTION("a loop right after a loop is dropped, inside bodies too") {
    CHECK(ir("+[-][.]", only(pass)) == "add 1 @0\nloop\n  add -1 @0\nend\n");
    CHECK(ir("+[[-][+]]", only(pass)) == "add 1 @0\nloop\n  loop\n    add -1 @0\n  end\nend\n");
  }
  SECTION("a loop after a changed cell stays") { CHECK(ir(",[.]", only(pass)) == "input @0\nloop\n  output @0\nend\n"); }
  SECTION("off, nothing changes") { CHECK(ir("[.]", bfc::Passes::none()) == "loop\n  output @0\nend\n"); }
  check_against_oracle("[.,]+++[>+.<-][-.]>>[.]++.", pass);
}

TEST_CASE("pass: run-length folding") {
  const auto pass = &bfc::Passes::fold_runs;
  CHECK(ir("+++--", only(pass)) == "add 1 @0\n");
  CHECK(ir(">><<<", only(pass)) == "move -1\n");
  CHECK(ir("+-<>.", only(pass)) == "output @0\n");
  CHECK(ir("+++[>>>]", only(pass)) == "add 3 @0\nloop\n  move 3\nend\n");
  CHECK(ir(std::string(300, '+'), only(pass)) == "add 44 @0\n");  // 300 mod 256
  CHECK(ir("++", bfc::Passes::none()) == "add 1 @0\nadd 1 @0\n");
  check_against_oracle("++++++++[>+++++++++<-]>.<+++++[>---<-]>.", pass);
}

TEST_CASE("pass: clear loops") {
  const auto pass = &bfc::Passes::clear_loops;
  CHECK(ir("+[-]", only(pass)) == "add 1 @0\nset 0 @0\n");
  CHECK(ir("+[+]", only(pass)) == "add 1 @0\nset 0 @0\n");
  CHECK(ir("+[---]", only(pass)) == "add 1 @0\nset 0 @0\n");  // odd steps reach zero from any value
  CHECK(ir("+[--]", only(pass)) == "add 1 @0\nloop\n  add -1 @0\n  add -1 @0\nend\n");  // never ends on odd values
  CHECK(ir("+[-]", bfc::Passes::none()) == "add 1 @0\nloop\n  add -1 @0\nend\n");
  check_against_oracle("+++++[-]+++.>,[+]++.>++++++++[---]+.", pass, "A");
}

TEST_CASE("pass: scan loops") {
  const auto pass = &bfc::Passes::scan_loops;
  CHECK(ir("+[>]", only(pass)) == "add 1 @0\nscan 1\n");
  CHECK(ir("+[<<<]", only(pass)) == "add 1 @0\nscan -3\n");
  CHECK(ir("+[<>]", only(pass)) == "add 1 @0\nloop\n  move -1\n  move 1\nend\n");  // no net move: not a scan
  CHECK(ir("+[>]", bfc::Passes::none()) == "add 1 @0\nloop\n  move 1\nend\n");
  check_against_oracle(">+>+>+<<[>]+++.<[<]>.>>>>>>+<<<[>>>]++.", pass);
}

TEST_CASE("pass: multiply loops") {
  const auto pass = &bfc::Passes::multiply_loops;
  CHECK(ir("+[->+>++<<]", only(pass)) == "add 1 @0\nmultiply @0 +1*1 +2*2\n");
  CHECK(ir("+[>---<+]", only(pass)) == "add 1 @0\nmultiply @0 +1*3\n");  // step +1 negates the factors
  CHECK(ir("+[-<+>]", only(pass)) == "add 1 @0\nmultiply @0 -1*1\n");
  CHECK(ir("+[-->+<]", only(pass)).find("multiply") == std::string::npos);  // step 2: not a multiply
  CHECK(ir("+[->+<.]", only(pass)).find("multiply") == std::string::npos);  // I/O in the body
  CHECK(ir("+[->+]", only(pass)).find("multiply") == std::string::npos);    // pointer drifts
  CHECK(ir("+[->+<]", bfc::Passes::none()).find("multiply") == std::string::npos);
  check_against_oracle("+++++++[->++++++++++>+++<<]>.>.<<++++[>-->+<<+++++++++++++]>.>.>[-<+>]+<.", pass);
}

TEST_CASE("pass: counted loops") {
  const auto pass = &bfc::Passes::counted_loops;
  bfc::Passes passes = only(pass);
  passes.fold_runs = passes.multiply_loops = passes.clear_loops = true;
  SECTION("a cell emptied every round: one round, then a multiply for the rest") {
    CHECK(ir("+[->>+++[-<+>]<<]", passes) ==
          "add 1 @0\nloop\n  add -1 @0\n  move 2\n  add 3 @0\n  multiply @0 -1*1\n  move -2\n  multiply @0 +1*3\nend\n");
    CHECK(ir("+[->[-]+++[->++<]<]", passes) ==
          "add 1 @0\nloop\n  add -1 @0\n  move 1\n  set 0 @0\n  add 3 @0\n  multiply @0 +1*2\n  move -1\n"
          "  multiply @0 +2*6\nend\n");
  }
  SECTION("a cell the later rounds set to a constant") {
    CHECK(ir("+[->>[-<+>]+<<]", passes) ==
          "add 1 @0\nloop\n  add -1 @0\n  move 2\n  multiply @0 -1*1\n  add 1 @0\n  move -2\n  multiply @0 +1*1\nend\n");
  }
  SECTION("not when a round depends on the one before, or the step is not 1") {
    CHECK(ir("+[->+[-<+>]<]", passes).find("multiply @0\n") == std::string::npos);  // p[0] grows: Unknown counter
    CHECK(ir("+[--[->+<]]", passes) == "add 1 @0\nloop\n  add -2 @0\n  multiply @0 +1*1\nend\n");
    CHECK(ir("+[->,<]", passes) == "add 1 @0\nloop\n  add -1 @0\n  move 1\n  input @0\n  move -1\nend\n");
  }
  passes.counted_loops = false;
  CHECK(ir("+[->>+++[-<+>]<<]", passes).find("+1*3") == std::string::npos);
  check_against_oracle("+++++[->>+++[-<+>]<<]>.>.<<++++++[->[-]+++[->++<]<]>.>.>.", pass);
  check_against_oracle("+++++++[->>[-<+>]+<<]>.>.<++++[->+[->+<]<]>.>.", pass);
  check_against_oracle("++++[->+++[->++<]<]>>.-[+>+[->+<]<]>>.", pass);
}

TEST_CASE("pass: bounded loops") {
  const auto pass = &bfc::Passes::bounded_loops;
  bfc::Passes passes = bfc::Passes{};
  SECTION("a chain of loops that each step p[0] by one and add the same: one count, then the last node") {
    CHECK(ir("+[->+<[->+<[->+<[-<+>]]]]", passes) == "add 1 @0\nbounded 3 @0 +0*-1 +1*1\nmultiply @0 -1*1\n");
    CHECK(ir("+[+>++<[+>++<[>>+<<[-]]]]", passes) ==
          "add 1 @0\nbounded 2 @0 +0*1 +1*2\nloop\n  add 1 @2\n  set 0 @0\nend\n");
    CHECK(ir("+[>+<-[>+<-[>+<-[>]]]]", passes) == "add 1 @0\nbounded 3 @0 +0*-1 +1*1\nscan 1\n");
  }
  SECTION("not for one level, a step of two, or a last node that acts on a zero cell") {
    CHECK(ir("+[->+<[-<+>]]", passes).find("bounded") == std::string::npos);
    CHECK(ir("+[-->+<[-->+<[-<+>]]]", passes).find("bounded") == std::string::npos);
    CHECK(ir("+[->+<[->+<>+<]]", passes).find("bounded") == std::string::npos);
  }
  passes.bounded_loops = false;
  CHECK(ir("+[->+<[->+<[->+<[-<+>]]]]", passes).find("bounded") == std::string::npos);
  // Both steps, and a last node that runs again.
  check_counts_against_oracle({">,[->++<[->++<[->++<[->++<[-<+>]]]]]>.<.<.", ">,[+>-<[+>-<[+>-<[>>+<<[+]]]]]>.>.<<.",
                               ">,[->+>+++<<[->+>+++<<[->+>+++<<[->>>+<<<[->+<]]]]]>.>.>.<<<."},
                              pass);
}

TEST_CASE("pass: bounded loops whose levels add different amounts") {
  const auto pass = &bfc::Passes::varied_levels;
  bfc::Passes passes = bfc::Passes{};
  SECTION("levels that differ from the second on: each term holds what each level adds") {
    CHECK(ir("+[->+<[->->+<<[->+<[-<+>]]]]", passes) ==
          "add 1 @0\nbounded 3 @0 +0*-1 +1*(1,-1,1) +2*(0,1,0)\nmultiply @0 -1*1\n");
    CHECK(ir("+[->+<[->++<[-<+>]]]", passes) == "add 1 @0\nbounded 2 @0 +0*-1 +1*(1,2)\nmultiply @0 -1*1\n");
  }
  SECTION("not after alike levels (the chain stops at the first that differs), nor for another step of p[0]") {
    CHECK(ir("+[->+<[->+<[->++<[-<+>]]]]", passes) ==
          "add 1 @0\nbounded 2 @0 +0*-1 +1*1\nloop\n  add -1 @0\n  add 2 @1\n  multiply @0 -1*1\nend\n");
    CHECK(ir("+[->+<[+>+<[-<+>]]]", passes).find("bounded") == std::string::npos);
  }
  passes.varied_levels = false;
  CHECK(ir("+[->+<[->->+<<[->+<[-<+>]]]]", passes).find("bounded") == std::string::npos);
  // Both steps, a level that adds nothing to a cell, and a last node that runs again.
  check_counts_against_oracle(
      {">,[->+<[->->+<<[->+<[->->+<<[-<+>]]]]]>.>.<<.<.", ">,[+>-<[+>+++>-<<[+>-<[>>>+<<<[+]]]]]>.>.>.<<<."}, pass);
}

TEST_CASE("pass: pointer-offset folding") {
  const auto pass = &bfc::Passes::fold_offsets;
  CHECK(ir(">+>-<.", only(pass)) == "add 1 @1\nadd -1 @2\noutput @1\nmove 1\n");
  SECTION("moves are flushed before loops, inside bodies too") {
    CHECK(ir(">>+[<+>-]", only(pass)) == "add 1 @2\nmove 2\nloop\n  add 1 @-1\n  add -1 @0\nend\n");
  }
  SECTION("adds and sets to one cell merge, unless the cell is read in between") {
    bfc::Passes passes = only(pass);
    passes.clear_loops = true;
    CHECK(ir("+>+<+", passes) == "add 2 @0\nadd 1 @1\n");
    CHECK(ir("+.+", passes) == "add 1 @0\noutput @0\nadd 1 @0\n");
    CHECK(ir("+++[-]++", passes) == "set 2 @0\n");
    CHECK(ir("+-", passes) == "");
  }
  SECTION("a multiply's term on a cell set later is dropped, unless the cell is read or I/O comes between") {
    bfc::Passes passes = only(pass);
    passes.multiply_loops = passes.clear_loops = true;
    CHECK(ir("+[->+>+<<]>[-]", passes) == "add 1 @0\nmultiply @0 +2*1\nset 0 @1\nmove 1\n");
    CHECK(ir("+[->+<]>>+<[-]", passes) == "add 1 @0\nmultiply @0\nadd 1 @2\nset 0 @1\nmove 1\n");
    CHECK(ir("+[->+<]>+[-]", passes) == "add 1 @0\nmultiply @0 +1*1\nset 0 @1\nmove 1\n");  // the add reads it
    CHECK(ir("+[->+<].>[-]", passes) == "add 1 @0\nmultiply @0 +1*1\noutput @0\nset 0 @1\nmove 1\n");
    CHECK(ir("+[->+<]>[->+<][-]", passes).find("multiply @0 +1*1") != std::string::npos);  // read as a source
  }
  CHECK(ir(">+<", bfc::Passes::none()) == "move 1\nadd 1 @0\nmove -1\n");
  check_against_oracle(">+>++>+++<<.>.>.<<<,.>>>>[-<+>]<.", pass, "x");
  check_against_oracle("++++++[->+++>++<<]>[-]+++.>.<<+++[->++>+<<].>[-]>.", pass);
}

TEST_CASE("emit: vector and window scans stop where the one-cell loop stops") {
  // Cells 0 to 249 hold 1, 2, ... (mod 256) with zeros at 37, 38, 64, 90, 200, 201 and 236; the
  // scan starts at every third cell, in both directions and with every step, then prints the
  // cells around where it stopped. Window scans test their first window's worth of cells one at
  // a time: the scans that stop far from where they start are the ones that reach the windows.
  constexpr int kCells = 250;
  std::string ramp;
  for (int cell = 0; cell < kCells; ++cell) {
    const bool zero = cell == 37 || cell == 38 || cell == 64 || cell == 90 || cell == 200 || cell == 201 || cell == 236;
    ramp.append(zero ? 0 : (cell % 255) + 1, '+').append(1, '>');
  }
  for (const int step : {1, -1, 2, -2, 3, -3, 4, -4, 8, -8, 9, -9, 17, -32}) {
    const std::string scan = "[" + std::string(std::abs(step), step > 0 ? '>' : '<') + "]";
    for (int start = 0; start < kCells; start += 3) {
      std::string program = ramp;
      program.append(kCells - start, '<').append("+").append(scan).append(".>.<<.");
      for (const bool vector : {true, false}) {
        bfc::Options options;
        options.emit.vector_scans = vector;
        const test::bf::Outcome expected = test::bf::interpret(program, "", test::bfc_support::oracle_config(options));
        const tinyelf::RunResult result = compile_and_run(program, "", options);
        INFO("step " << step << " from cell " << start << (vector ? "" : ", one cell at a time"));
        CHECK(result.out == expected.out);
        CHECK(result.exit_code == (expected.ending == test::bf::Ending::kOffTape ? bfc::kExitOffTape : 0));
      }
    }
  }
  SECTION("with no zero cell left before the end of the tape, the scan leaves the tape") {
    bfc::Options options;
    options.emit.tape_cells = 4096;
    std::string full = "+";
    for (int cell = 1; cell < 4096; ++cell) full += ">+";  // the pointer ends on the last cell
    const std::string window_scans[] = {std::string(200, '<') + "[>>>>>>>>>]", std::string(9, '<') + "[>>>>>>>>>]",
                                        "[<<<<<<<<<]", "[" + std::string(32, '<') + "]"};
    for (const std::string_view scan :
         {std::string_view("[<]"), std::string_view("[<<]"), std::string_view("[<<<<<<<<]"),
          std::string_view("<<<<<<<<<<[>]"), std::string_view("<<<<<<<<<<[>>>>]"), std::string_view(window_scans[0]),
          std::string_view(window_scans[1]), std::string_view(window_scans[2]), std::string_view(window_scans[3])}) {
      INFO(scan);
      for (const bool vector : {true, false}) {
        options.emit.vector_scans = vector;
        std::string program = full;
        program.append(".").append(scan).append("+.");
        const tinyelf::RunResult result = compile_and_run(program, "", options);
        CHECK(result.exit_code == bfc::kExitOffTape);
        CHECK(result.out == "\1");
      }
    }
  }
  CHECK(ir("+[>]", bfc::Passes{}) == "add 1 @0\nscan 1\n");  // the IR is the same: only the code differs
}

TEST_CASE("emit: cell registers give the same output as loads from the tape") {
  // Cells read again after a write, through if-chains (factor.b's digits), moves, multiplies with
  // a cached source or target, output and input in between, and loops that may run again.
  const std::string programs[] = {
      "+++++[-->+<[->+<[->+<[->+<]]]]>.>.>.>.",
      ",[->+>+<<]>[-<+>]>.<<.>>>++++[<+>-]<.",
      "++++++[>++++++++<-]>.+.<+++[->.+<]>.",
      ">+++[<+++>-]<[->>+<<]>>[-<+>>+<]<.>>.,.+[-<+>]<.",
      "+++[>+++[>+++<-]<-]>>.<<+[>[->+<]<[->>+<<]]>>.",
      "++>+++[-<[->>+<<]>>[-<<+>+>]<]<.>.",
  };
  check_choice_against_oracle(programs, &bfc::EmitOptions::cell_registers, "\7");
  SECTION("a dropped term never moves where a program that leaves the tape stops") {
    // The term on p[-1] would fault before the output; the set after it faults after it.
    for (const bfc::Options& options : {bfc::Options{}, test::bfc_support::unoptimized()}) {
      const tinyelf::RunResult result = compile_and_run("+++++[-<+>]>+.<<[-]", "", options);
      CHECK(result.exit_code == bfc::kExitOffTape);
      CHECK(result.out.empty());
    }
  }
  SECTION("a cached cell never hides an access off the tape") {
    check_choice_stops_off_tape("+[>+<-]>[<]<<.", &bfc::EmitOptions::cell_registers);
  }
}

TEST_CASE("emit: deferred stores give the same output as storing every change at once") {
  // Cells changed twice, or changed and then set, in straight-line code; a change read by the
  // next loop test, a multiply, an output, a scan that passes over it; a change before an input
  // that keeps the old value at end of input; more changed cells than registers, so that one
  // still unstored is taken for another cell; changes inside the terms of a range-checked
  // multiply and a bounded loop; a scan over a changed cell; a multiply with a set term (skipped
  // when its count is 0) whose add term takes a register, or after a change it skips.
  const std::string programs[] = {
      ",>,<+>+<+>+<+>+<.>.[-]+++.",
      ",>,<[->+<]+>[-<+>]<.>>+>+>+<<<[>]<.",
      "+>++>+++>++++>+++++>++++++>+++++++>++++++++<<<<<<<+>+>+>+>+>+>+>+.<.<.<.<.<.<.<.",
      ",>,<>+<[->+<]>+,.",
      ",[>+<[->+<]>+>[-<+>]<<[-]]>.",
      ",>,<[>+<[->+<]>+>[-<+>]<<]>.",
      "+>,<[->+<]>+[<].>.",
      ",[->>+<<>[-]<]>>+.",
      ",>+<[->+>[-]<<]>,.",
      ",>+>+>+>+>+>+>+<<<<<<<[->+>+>+>+>+>+>+<<<<<<<]>.>.>.>.>.>.>.",
      "++[>+>+<<-]>+>+<<[>>>>>>>>>+<<<<<<<<<-]>>>>>>>>>.<<<<<<<<.>.",
      ",[->+<[->+<[->+<]]]>+>+<.>.<<+++.",
      ">>>>>>>>>+<<<<<<<<<+[>+>+<<[->>>>>>>>>+<<<<<<<<<]>>>>>>>>>-]<<<<<<<<<<.>.>.",
  };
  check_choice_against_oracle(programs, &bfc::EmitOptions::deferred_stores, "");
  check_choice_against_oracle(programs, &bfc::EmitOptions::deferred_stores, "\5\7");
  const std::string skipped[] = {",+[.[-]]."};  // a changed cell the loop test reads: 0, the loop skipped
  check_choice_against_oracle(skipped, &bfc::EmitOptions::deferred_stores, "\xff");
  SECTION("the registers a system call clobbers are stored before it") {
    const std::string clobbered[] = {",>+>+>+>+>+<<<<<[->+>+>+>+>+<<<<<].>.>.>.>.>."};
    bfc::Options unbatched;
    unbatched.emit.batch_io = false;       // a write per output
    check_choice_against_oracle(clobbered, &bfc::EmitOptions::deferred_stores, "\3", unbatched);
  }
  SECTION("a deferred store never moves where a program that leaves the tape stops, nor loses output") {
    check_choice_stops_off_tape("+>+<+>+.<<+>+", &bfc::EmitOptions::deferred_stores, "\2");
  }
  SECTION("--no-opt stores every change at once, so the tape is up to date at every command") {
    CHECK_FALSE(test::bfc_support::unoptimized().emit.deferred_stores);
  }
}

TEST_CASE("emit: known values give the same output as not knowing them") {
  // Adds after a clear, a loop or a scan; stores of a value the cell has; loops and scans of a
  // zero cell; multiplies and bounded loops of a known count (both steps); multiply terms into
  // cells known to be zero; a multiply whose source is stored next; values carried through
  // loops that move (the first round on its own); terms whose cells the code reaches later; loops
  // whose round is known to leave p[0] at zero.
  const std::string programs[] = {
      ",[-]+++.>,[>+<-]++.>.<<[>]+.",
      "+++++[>+++++<-]>[-]+[-]++[<+>-]<.[-]>[>>]+++.",
      "++++[>+++<-]>[>++<-]>.<<+++[->+++<]>.",
      "+++[->+<[->+<[->+<[-]]]]>.<++++++[->+<[->+<[->+<[-]]]]>.<--[+>+<[+>+<[+>+<[>+<-]]]]>.",
      ">>>>>>>>>+++++[->++++++++<]>[-]<<+++++++++[->+<]>>>>>>>>>>+<<<<<<<<<<[<<<<<<<<<]>>>>>>>>>.>.",
      ">+>+>+>+>+>,[-<+>]<[<]>[[-]>]<<<<<<.>.>.>.>.>.>.>.",
      ">>>>+>+++>>+>++++>>+>+++++>><<<[>[->>>+<<<]<<<<]>>>>.>.>>>.>>>.>>>.",
      "+++++[>+>++>+++<<<-]>[->>>>+<<<<]>>>>.<<<<+++[->+<]>[-]>[-<+>]<.",
      ",[>>>>+<<<<-]>>>>[<<<<+>>>>-]<<<<.>>>>[-]+++.",
      ",[[->+<]>>+<<]>.>.",                           // rounds that leave p[0] at zero: one at most
      ",[[->+<]>>+>+>+>+>+>+>+>+<<<<<<<<<]>.>.>>>>>>>>.",
  };
  check_choice_against_oracle(programs, &bfc::EmitOptions::known_values, "\7\3");
  SECTION("they make code smaller: an add to a cleared cell is one store, a known multiply no load, a loop left at zero one round") {
    const std::string program = ",[->+<]+++>[-]++++<[->+++<]>.";
    bfc::Options without;
    without.emit.known_values = false;
    CHECK(test::bfc_support::compile(program).size() < test::bfc_support::compile(program, without).size());
    // A loop whose round leaves p[0] at zero is one round, with no test after it and no loop.
    const std::string once = ",[[->+<]>>+<<]>.";
    CHECK(test::bfc_support::compile(once).size() < test::bfc_support::compile(once, without).size());
  }
  SECTION("a known value never hides an access off the tape") {
    for (const std::string_view program : {"[-]<[-]", "+[->+<]<[<]", "+[>[-]+]" /* values carried round */, ">>+[<[-]+]"})
      check_choice_stops_off_tape(program, &bfc::EmitOptions::known_values);
  }
}

TEST_CASE("pass: I/O batching gives the same bytes with and without buffering") {
  // 10,000 bytes: more than the buffer, so it is flushed when full, before input and at exit.
  const std::string program = "++++++++[>++++++++<-]>+"  // cell 1: 'A'
      ">++++++++++[>++++++++++[>++++++++++[>++++++++++[<<<<.>>>>-]<-]<-]<-]<,.,.";
  std::string expected(10000, 'A');
  expected += "xy";
  for (const bool batch : {true, false}) {
    bfc::Options options;
    options.emit.batch_io = batch;
    const tinyelf::RunResult result = compile_and_run(program, "xy", options);
    CHECK(result.exit_code == 0);
    CHECK(result.out == expected);
  }
}

TEST_CASE("emit: the three end-of-input conventions") {
  const std::string program = "+++++,.";
  for (const auto& [eof, expected] : {std::pair{bfc::Eof::kUnchanged, '\5'}, std::pair{bfc::Eof::kZero, '\0'},
                                      std::pair{bfc::Eof::kMinusOne, '\xff'}}) {
    for (const bool batch : {true, false}) {
      bfc::Options options;
      options.emit.eof = eof;
      options.emit.batch_io = batch;
      CHECK(compile_and_run(program, "", options).out == std::string(1, expected));
      CHECK(compile_and_run(program, "a", options).out == "a");
    }
  }
}

TEST_CASE("emit: the pointer leaving the tape stops the program, whatever the move") {
  for (const std::string& program : std::vector<std::string>{"<+", ">>>>[-]<<<<<.", "+[>+]", "+[<]", std::string(5000, '<') + "+",
                                    "+[" + std::string(4097, '>') + "+]", "+[->>>>>>>>" + std::string(9000, '<') + "+>]"}) {
    INFO(program.substr(0, 40));
    for (const bfc::Options& options : {bfc::Options{}, test::bfc_support::unoptimized()}) {
      const tinyelf::RunResult result = compile_and_run(program, "", options);
      CHECK(result.exit_code == bfc::kExitOffTape);
      CHECK(result.err == "error: pointer moved off tape\n");
    }
  }
  SECTION("what was printed before is flushed first") {
    const tinyelf::RunResult result = compile_and_run("+++++++++[>+++++++<-]>.<<+");
    CHECK(result.out == "?");
    CHECK(result.exit_code == bfc::kExitOffTape);
  }
  SECTION("a multiply by zero next to either end touches no cell beyond it") {
    // Multiplies add unconditionally in the middle of the tape, but not next to its ends.
    for (const bfc::Options& options : {bfc::Options{}, test::bfc_support::unoptimized()}) {
      CHECK(compile_and_run(",[-<+>]+.", "", options).out == "\1");
      CHECK(compile_and_run(std::string(32767, '>') + ",[->++<]+.", "", options).out == "\1");
      CHECK(compile_and_run(",[-<+>]+.", "\3", options).exit_code == bfc::kExitOffTape);
      CHECK(compile_and_run(std::string(32767, '>') + ",[->++<]+.", "\3", options).exit_code == bfc::kExitOffTape);
    }
  }
  SECTION("the whole tape is usable") {
    bfc::Options options;
    options.emit.tape_cells = 5000;  // 8192 after rounding up to pages
    CHECK(bfc::tape_size(5000) == 8192);
    CHECK(compile_and_run(std::string(8191, '>') + "+++.", "", options).out == "\3");
    CHECK(compile_and_run(std::string(8192, '>') + "+++.", "", options).exit_code == bfc::kExitOffTape);
  }
}
