// Random differential testing: generated programs compiled under many pass combinations must
// print exactly what the reference interpreter prints.
//
// The generator keeps the pointer's position known at every command (each loop body returns to
// where it started), so programs never leave the tape, and every loop counts down (or up) one
// cell that nothing else in its body touches, so every loop ends within 256 iterations.
#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "helpers.hpp"

namespace {

class Generator {
 public:
  explicit Generator(std::uint32_t seed) : rng_(seed) {}

  std::string program() {
    text_.clear();
    position_ = kStart;
    text_ += std::string(kStart, '>');
    block(0, 12);
    return text_;
  }

 private:
  static constexpr int kStart = 8;   // first cell used
  static constexpr int kCells = 24;  // cells used: [kStart, kStart + kCells)

  int pick(int low, int high) { return std::uniform_int_distribution<int>(low, high)(rng_); }

  void move_to(int cell) {
    text_ += std::string(std::abs(cell - position_), cell > position_ ? '>' : '<');
    position_ = cell;
  }

  // A free cell: not the counter of an enclosing loop.
  int free_cell() {
    for (;;) {
      const int cell = kStart + pick(0, kCells - 1);
      if (!counters_.contains(cell)) return cell;
    }
  }

  void block(int depth, int length) {
    for (int i = 0; i < length; ++i) {
      const int choice = pick(0, 99);
      if (choice < 45) {
        move_to(free_cell());
        text_ += std::string(pick(1, 6), pick(0, 1) ? '+' : '-');
      } else if (choice < 55) {
        move_to(pick(0, 1) ? free_cell() : kStart + pick(0, kCells - 1));
        text_ += '.';
      } else if (choice < 60) {
        move_to(free_cell());
        text_ += ',';
      } else if (choice < 68) {
        move_to(free_cell());
        text_ += pick(0, 1) ? "[-]" : "[+]";
      } else if (choice < 76) {
        move_to(pick(0, 1) ? free_cell() : kStart + pick(0, kCells - 1));
        text_ += "<>";  // a move that cancels out, at any cell
      } else if (choice < 80) {
        chain();
      } else if (depth < 2) {
        loop(depth);
      }
    }
  }

  // [-A[-A[-A X]]] or [+A[+B[+A X]]], A and B adding a constant to another cell and X a clear or
  // a move of the counter's value: loops that each run once at most, all doing the same or
  // alternating between two levels (bounded loops, varied levels).
  void chain() {
    const int counter = free_cell();
    int other = free_cell();
    while (other == counter) other = free_cell();
    move_to(counter);
    const std::string there = std::string(std::abs(other - counter), other > counter ? '>' : '<');
    const std::string back = std::string(std::abs(other - counter), other > counter ? '<' : '>');
    const std::string step = pick(0, 1) ? "-" : "+";
    const std::string level = step + there + std::string(pick(1, 3), '+') + back;
    const std::string second = pick(0, 1) ? level : step + there + std::string(pick(1, 3), '-') + back;
    const int levels = pick(1, 5);
    for (int i = 0; i < levels; ++i) text_ += '[' + (i % 2 == 0 ? level : second);
    text_ += pick(0, 1) ? "[-]" : "[-" + there + "+" + back + "]";
    text_ += std::string(levels, ']');
  }

  // [-body] or [body+]: the counter steps by one each time round and nothing else touches it.
  void loop(int depth) {
    const int counter = free_cell();
    move_to(counter);
    if (pick(0, 2) == 0) text_ += "[-]" + std::string(pick(1, 12), '+');  // a short loop
    counters_.insert(counter);
    const bool step_first = pick(0, 1);
    const char step = pick(0, 3) == 0 ? '+' : '-';
    text_ += '[';
    if (step_first) text_ += step;
    block(depth + 1, pick(1, 6));
    move_to(counter);
    if (!step_first) text_ += step;
    text_ += ']';
    counters_.erase(counter);
  }

  std::mt19937 rng_;
  std::string text_;
  int position_ = 0;
  std::set<int> counters_;
};

struct Variant {
  std::string name;
  bfc::Options options;
};

std::vector<Variant> variants() {
  std::vector<Variant> result = {{"all passes", {}}, {"--no-opt", test::bfc_support::unoptimized()}};
  const std::pair<const char*, bool bfc::Passes::*> passes[] = {
      {"dead-loops", &bfc::Passes::dead_loops},         {"fold-runs", &bfc::Passes::fold_runs},
      {"clear-loops", &bfc::Passes::clear_loops},       {"scan-loops", &bfc::Passes::scan_loops},
      {"multiply-loops", &bfc::Passes::multiply_loops}, {"counted-loops", &bfc::Passes::counted_loops},
      {"fold-offsets", &bfc::Passes::fold_offsets},     {"bounded-loops", &bfc::Passes::bounded_loops}};
  for (const auto& [name, pass] : passes) {
    Variant alone{std::string(name) + " alone", {}};
    alone.options.passes = bfc::Passes::none();
    alone.options.passes.*pass = true;
    Variant without{"all but " + std::string(name), {}};
    without.options.passes.*pass = false;
    result.push_back(alone);
    result.push_back(without);
  }
  result.push_back({"no cell registers", {}});
  result.back().options.emit.cell_registers = false;
  result.push_back({"no varied levels", {}});
  result.back().options.passes.varied_levels = false;
  result.push_back({"no known values", {}});
  result.back().options.emit.known_values = false;
  result.push_back({"no deferred stores", {}});
  result.back().options.emit.deferred_stores = false;
  result.push_back({"eof zero", {}});
  result.back().options.emit.eof = bfc::Eof::kZero;
  result.push_back({"eof minus-one, no batching", {}});
  result.back().options.emit.eof = bfc::Eof::kMinusOne;
  result.back().options.emit.batch_io = false;
  return result;
}

}  // namespace

TEST_CASE("random programs print what the reference interpreter prints") {
  Generator generator(20261126);
  std::mt19937 input_rng(7);
  const std::vector<Variant> all = variants();
  int compared = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string program = generator.program();
    std::string input;
    for (int n = std::uniform_int_distribution<int>(0, 6)(input_rng); n > 0; --n)
      input += static_cast<char>(std::uniform_int_distribution<int>(0, 255)(input_rng));
    const Variant& variant = all[i % all.size()];
    const test::bf::Outcome expected =
        test::bf::interpret(program, input, test::bfc_support::oracle_config(variant.options));
    if (expected.ending == test::bf::Ending::kTooLong) continue;  // rare: nested loops of 255 rounds
    REQUIRE(expected.ending == test::bf::Ending::kFinished);
    INFO("program " << i << " (" << variant.name << "): " << program);
    const tinyelf::RunResult result = test::bfc_support::compile_and_run(program, input, variant.options);
    CHECK(result.exit_code == 0);
    CHECK(result.err.empty());
    CHECK(result.out == expected.out);
    ++compared;
  }
  CHECK(compared >= 900);
}

TEST_CASE("random programs: every variant, same program") {
  Generator generator(42);
  for (int i = 0; i < 60; ++i) {
    const std::string program = generator.program();
    for (const Variant& variant : variants()) {
      const test::bf::Outcome expected =
          test::bf::interpret(program, "in", test::bfc_support::oracle_config(variant.options));
      if (expected.ending == test::bf::Ending::kTooLong) break;
      INFO("program " << i << " (" << variant.name << "): " << program);
      const tinyelf::RunResult result = test::bfc_support::compile_and_run(program, "in", variant.options);
      CHECK(result.exit_code == 0);
      CHECK(result.out == expected.out);
    }
  }
}
