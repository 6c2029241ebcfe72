// bfc stage 2: the intermediate representation the passes rewrite and the emitter lowers.
//
// A program is a Block: a list of Nodes run in order. The parser produces only kAdd, kMove,
// kInput, kOutput and kLoop, each for one source character; the passes fold them into the other
// kinds. Cells are addressed relative to the tape pointer p: `offset` k means cell p[k].
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bfc {

enum class Op {
  kAdd,       // p[offset] += amount (mod 256)
  kSet,       // p[offset] = amount (mod 256)
  kMove,      // p += amount
  kInput,     // p[offset] = next input byte (at end of input: see EmitOptions::eof)
  kOutput,    // write p[offset]
  kLoop,      // while (p[0] != 0) body
  kScan,      // while (p[0] != 0) p += amount     ([>], [<<], ...)
  kMultiply,  // if (p[offset] != 0) { for each term t in body: p[offset + t.offset] += p[offset] * t.amount
              //                       (t is a kAdd) or = t.amount (a kSet); p[offset] = 0 }
  kBoundedLoop,  // `amount` rounds at most of: if (p[offset] == 0) stop; for each term t in body (all
                 // kAdd): p[offset + t.offset] += t.amount. The term at offset 0 steps p[offset] by
                 // -1 or +1, so the rounds that run are min(rounds until p[offset] is 0, amount).
                 // A term whose body is not empty adds its body[k].amount in round k + 1 instead
                 // (the levels of the chain it came from differ: see added_in).
};

// A kMultiply's terms are nodes of its body, so that a node needs no room for a list it rarely
// has (a large program has a node for most of its commands while it is parsed): a kAdd term
// adds the source cell times `amount`; a kSet term (a cell the loop body sets, like the [-] in
// [>[-]<-]) sets its cell to `amount`.

struct Node;
using Block = std::vector<Node>;

struct Node {
  Op op = Op::kAdd;
  std::int64_t offset = 0;  // the cell, relative to p (every op but kMove, kLoop, kScan)
  std::int64_t amount = 0;  // kAdd, kSet: the value; kMove, kScan: the pointer step
  Block body;               // kLoop: the body; kMultiply: the terms
  std::size_t source_offset = 0;  // where the node starts in the program text
  std::size_t end_offset = 0;     // kLoop: where its ']' is (0 when a pass made the loop)
};

// Cells hold 8 bits: two amounts are the same change when they agree modulo 256. The
// representative in [-128, 127].
std::int64_t wrap(std::int64_t amount);

// True if `node` leaves p[0] at zero whenever it finishes: a loop or scan ends on a zero cell, a
// multiply clears its source, and `set 0 @0`.
bool leaves_zero(const Node& node);

// What a kMultiply's or kBoundedLoop's kAdd `term` adds to its cell in `rounds` rounds (mod 256,
// as wrap() gives it): the sum of its amounts round by round, if it has them, else rounds * amount.
std::int64_t added_in(const Node& term, std::int64_t rounds);

// A one-line-per-node listing, nested loops indented, e.g. "add 1 @0\nloop\n  move 2\nend\n".
// Tests compare it against the shape a pass must produce.
std::string to_string(const Block& block);

}  // namespace bfc
