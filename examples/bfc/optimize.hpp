// bfc stage 3: optimisation passes, IR to IR. Each pass is one function and can be switched off.
//
// Order matters only for speed, never for correctness: every pass accepts any IR the parser or
// another pass produces. The loop idioms are recognised first, innermost loops first, on bodies
// of kAdd, kSet and kMove nodes (counted loops also take the multiplies found inside them);
// offset folding then turns what is left into straight-line code.
#pragma once

#include "ir.hpp"

namespace bfc {

struct Passes {
  bool dead_loops = true;      // drop loops that can never run: at program start, right after a loop
  bool fold_runs = true;       // +++ → add 3, >>> → move 3
  bool clear_loops = true;     // [-] [+] → set 0
  bool scan_loops = true;      // [>] [<<] → scan
  bool multiply_loops = true;  // [->+>++<<] → multiply
  bool counted_loops = true;   // [->+++[->+<]<] → one round, then a multiply for the others
  bool fold_offsets = true;    // >+>-< → add 1 @1, add -1 @2, move 1: no pointer moves inside blocks
  bool bounded_loops = true;   // [->+<[->+<[X]]] → bounded 2 @0 +0*-1 +1*1, then X: no branch per level
  bool varied_levels = true;   // with bounded loops: also chains whose levels add different amounts

  static Passes none() { return {false, false, false, false, false, false, false, false, false}; }
};

Block optimize(Block program, const Passes& passes);

// The clear-, scan- and multiply-loops passes (those switched on) on `loop` alone, whose inner
// loops they have seen already: the parser folds each loop as its ']' is read.
void fold_simple_loop(Node& loop, const Passes& passes);

// If `node` continues the run `last` ends (an add to the same cell, or a move), adds it into
// `last` and returns true; `last` may then be a no-op (amount 0) for the caller to drop. The step
// of fold_runs, shared with the parser.
bool fold_into(Node& last, const Node& node);

// The passes, in the order optimize() runs them.
Block remove_dead_loops(Block program);
Block fold_runs(Block block);
Block fold_clear_loops(Block block);
Block fold_scan_loops(Block block);
Block fold_multiply_loops(Block block);
Block fold_counted_loops(Block block);
Block fold_offsets(Block block);
Block fold_bounded_loops(Block block, bool varied_levels);

}  // namespace bfc
