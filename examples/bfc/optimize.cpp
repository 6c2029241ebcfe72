// The optimisation passes. Each walks the tree once and rebuilds the blocks it changes.
#include "optimize.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <span>
#include <vector>

namespace bfc {

namespace {

// Applies `rewrite` to every loop body, innermost first, then to `block` itself.
template <typename Rewrite>
Block rewrite_blocks(Block block, Rewrite rewrite) {
  for (Node& node : block)
    if (node.op == Op::kLoop) node.body = rewrite_blocks(std::move(node.body), rewrite);
  return rewrite(std::move(block));
}

// What one run of a loop body does to a cell: adds `amount`, or (assigned) leaves it at `amount`.
struct CellEffect {
  bool assigned = false;
  std::int64_t amount = 0;
  bool operator==(const CellEffect&) const = default;
};

// What one run of a loop body does, if the body is only kAdd, kSet and kMove nodes (any
// offsets): the net pointer move and the effect on each cell, relative to p at the start of
// the body. Adds that cancel out are left out.
struct Effect {
  std::int64_t move = 0;
  std::map<std::int64_t, CellEffect> cells;

  bool only_adds() const {
    return std::none_of(cells.begin(), cells.end(), [](const auto& cell) { return cell.second.assigned; });
  }
};

std::optional<Effect> simple_effect(std::span<const Node> body) {
  Effect effect;
  for (const Node& node : body) {
    if (node.op == Op::kAdd) {
      effect.cells[effect.move + node.offset].amount += node.amount;
    } else if (node.op == Op::kSet) {
      effect.cells[effect.move + node.offset] = {true, node.amount};
    } else if (node.op == Op::kMove) {
      effect.move += node.amount;
    } else {
      return std::nullopt;
    }
  }
  std::erase_if(effect.cells, [](const auto& cell) { return !cell.second.assigned && wrap(cell.second.amount) == 0; });
  return effect;
}

Node make_node(Op op, std::int64_t offset, std::int64_t amount, std::size_t source_offset) {
  Node node;
  node.op = op;
  node.offset = offset;
  node.amount = amount;
  node.source_offset = source_offset;
  return node;
}

// Replaces each loop whose body is only adds, sets and moves by what `fold` makes of its Effect:
// a node, or nothing to keep the loop. Innermost loops first.
template <typename Fold>
Block fold_simple_loops(Block block, Fold fold) {
  return rewrite_blocks(std::move(block), [&fold](Block nodes) {
    for (Node& node : nodes) {
      if (node.op != Op::kLoop) continue;
      const std::optional<Effect> effect = simple_effect(node.body);
      if (!effect) continue;
      if (std::optional<Node> folded = fold(*effect, node.source_offset)) node = std::move(*folded);
    }
    return nodes;
  });
}

// Keeps the nodes `keep` accepts, in order, compacting `block` in place: no second copy of a
// program that may have a node for every byte of its source.
template <typename Keep>
void keep_if(Block& block, Keep keep) {
  std::size_t kept = 0;
  for (std::size_t i = 0; i < block.size(); ++i) {
    if (!keep(block[i])) continue;
    if (i != kept) block[kept] = std::move(block[i]);  // never onto itself: that would empty its vectors
    ++kept;
  }
  block.erase(block.begin() + static_cast<std::ptrdiff_t>(kept), block.end());
}

// `untouched`: no cell has been changed yet on entry to `block` (true only at program start).
Block remove_dead_loops_from(Block block, bool untouched) {
  bool zero = false;  // p[0] is known to be zero: the previous node was a loop
  keep_if(block, [&](Node& node) {
    if (node.op == Op::kLoop && (untouched || zero)) return false;
    if (node.op == Op::kLoop) node.body = remove_dead_loops_from(std::move(node.body), false);
    untouched = untouched && (node.op == Op::kMove || node.op == Op::kOutput);
    zero = leaves_zero(node);
    return true;
  });
  return block;
}

}  // namespace

// A loop is entered only if its cell is non-zero. All cells start at zero, so loops before the
// first command that changes a cell never run (this removes the comment loop many programs open
// with); and a loop exits only when its cell is zero, so a loop right after it never runs.
Block remove_dead_loops(Block program) { return remove_dead_loops_from(std::move(program), true); }

bool fold_into(Node& last, const Node& node) {
  const bool same_add = node.op == Op::kAdd && last.op == Op::kAdd && node.offset == last.offset;
  const bool same_move = node.op == Op::kMove && last.op == Op::kMove;
  if (!same_add && !same_move) return false;
  last.amount = same_add ? wrap(last.amount + node.amount) : last.amount + node.amount;
  return true;
}

// Merges neighbouring kAdd nodes on the same cell and neighbouring kMove nodes; drops the ones
// that cancel out (+- , <>).
Block fold_runs(Block block) {
  return rewrite_blocks(std::move(block), [](Block nodes) {
    std::size_t kept = 0;  // nodes[0, kept) is the folded block so far
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      Node& node = nodes[i];
      if (kept > 0 && fold_into(nodes[kept - 1], node)) {
        if (nodes[kept - 1].amount == 0) --kept;
        continue;
      }
      if (i != kept) nodes[kept] = std::move(node);  // never onto itself: that would empty its vectors
      ++kept;
    }
    nodes.erase(nodes.begin() + static_cast<std::ptrdiff_t>(kept), nodes.end());
    return nodes;
  });
}

namespace {

// [-] and [+], or any body that only adds an odd amount to p[0]: an odd step reaches zero from
// every 8-bit value, so the loop always ends with p[0] = 0. An even step never ends on odd
// values and is left alone.
std::optional<Node> clear_loop(const Effect& effect, std::size_t at) {
  if (effect.move != 0 || effect.cells.size() != 1 || !effect.only_adds()) return std::nullopt;
  if (!effect.cells.contains(0) || effect.cells.at(0).amount % 2 == 0) return std::nullopt;
  return make_node(Op::kSet, 0, 0, at);
}

// [>], [<], [>>>>]: bodies that only move the pointer.
std::optional<Node> scan_loop(const Effect& effect, std::size_t at) {
  if (effect.move == 0 || !effect.cells.empty()) return std::nullopt;
  return make_node(Op::kScan, 0, effect.move, at);
}

// [->+>++<<] and friends: a body that returns to its cell, steps p[0] by exactly -1 or +1 and
// adds constants to other cells runs p[0] times (or 256 - p[0] times for +1), so each other
// cell gains its constant times that count. A cell the body sets ([>[-]<-]) simply ends with
// the value the body leaves in it, if the loop runs at all.
std::optional<Node> multiply_loop(const Effect& effect, std::size_t at) {
  if (effect.move != 0 || effect.cells.size() < 2 || !effect.cells.contains(0)) return std::nullopt;
  const CellEffect counter = effect.cells.at(0);
  const std::int64_t step = wrap(counter.amount);
  if (counter.assigned || (step != -1 && step != 1)) return std::nullopt;
  Node multiply = make_node(Op::kMultiply, 0, 0, at);
  for (const auto& [offset, cell] : effect.cells) {
    if (offset == 0) continue;
    // With step +1 the count is -p[0] (mod 256), so the factor changes sign.
    const std::int64_t factor = cell.assigned ? wrap(cell.amount) : wrap(step == -1 ? cell.amount : -cell.amount);
    multiply.body.push_back(make_node(cell.assigned ? Op::kSet : Op::kAdd, offset, factor, at));
  }
  return multiply;
}

}  // namespace

Block fold_clear_loops(Block block) { return fold_simple_loops(std::move(block), clear_loop); }
Block fold_scan_loops(Block block) { return fold_simple_loops(std::move(block), scan_loop); }
Block fold_multiply_loops(Block block) { return fold_simple_loops(std::move(block), multiply_loop); }

// The three folds are for disjoint bodies (no move and one cell, a move and no cell, no move and
// two cells or more), so the order the passes run in does not matter here.
void fold_simple_loop(Node& loop, const Passes& passes) {
  const std::optional<Effect> effect = simple_effect(loop.body);
  if (!effect) return;
  std::optional<Node> folded;
  if (passes.clear_loops) folded = clear_loop(*effect, loop.source_offset);
  if (!folded && passes.scan_loops) folded = scan_loop(*effect, loop.source_offset);
  if (!folded && passes.multiply_loops) folded = multiply_loop(*effect, loop.source_offset);
  if (folded) loop = std::move(*folded);
}

namespace {

// A cell's value in the abstract interpretation of a loop body: its value at the start of the
// round plus a constant, a known constant, or anything.
struct Value {
  enum Kind { kRelative, kConstant, kUnknown } kind = kRelative;
  std::int64_t amount = 0;
  bool operator==(const Value&) const = default;
};
using State = std::map<std::int64_t, Value>;  // offset → value; a cell not in it is "start + 0"

void add_to(Value& value, std::int64_t amount) {
  if (value.kind != Value::kUnknown) value.amount = wrap(value.amount + amount);
}

// Runs one round of a straight-line body (adds, sets, moves, multiplies) on `state`. No value if
// the body does anything else or does not come back to its starting cell.
std::optional<State> run_round(const Block& body, State state) {
  std::int64_t position = 0;
  for (const Node& node : body) {
    switch (node.op) {
      case Op::kAdd: add_to(state[position + node.offset], node.amount); break;
      case Op::kSet: state[position + node.offset] = {Value::kConstant, wrap(node.amount)}; break;
      case Op::kMove: position += node.amount; break;
      case Op::kMultiply: {
        Value& source = state[position + node.offset];
        for (const Node& term : node.body) {
          Value& target = state[position + node.offset + term.offset];
          if (source.kind != Value::kConstant) {
            target = {Value::kUnknown, 0};  // depends on the source, or on whether it was zero
          } else if (source.amount != 0) {
            if (term.op == Op::kSet) target = {Value::kConstant, wrap(term.amount)};
            else add_to(target, source.amount * term.amount);
          }
        }
        state[position + node.offset] = {Value::kConstant, 0};
        break;
      }
      default: return std::nullopt;
    }
  }
  if (position != 0) return std::nullopt;
  return state;
}

}  // namespace

// A loop whose body steps p[0] by -1 or +1 and otherwise only adds, sets and multiplies, where
// the cells the body sets or clears hold the same constants after every round: after one round,
// each further round only adds a constant to some cells and sets others to a constant. So the
// loop becomes one round of the body followed by a multiply for the remaining p[0] rounds (which
// also zeroes p[0], so the loop runs once). For [->+++[->+<]<] (the inner loop is a multiply by
// then) p[1] is zero after every round, so the rest is p[2] += 3 * p[0].
Block fold_counted_loops(Block block) {
  return rewrite_blocks(std::move(block), [](Block nodes) {
    for (Node& node : nodes) {
      if (node.op != Op::kLoop) continue;
      const std::optional<State> first = run_round(node.body, {});
      if (!first || !first->contains(0)) continue;
      const Value counter = first->at(0);
      if (counter.kind != Value::kRelative || (counter.amount != 1 && counter.amount != -1)) continue;
      // Any later round starts with the constants the first one left, and anything elsewhere.
      State settled = *first;
      for (auto& [offset, value] : settled)
        if (value.kind != Value::kConstant) value = {Value::kRelative, 0};
      const std::optional<State> later = run_round(node.body, settled);
      if (!later || later->at(0) != counter) continue;
      Node multiply = make_node(Op::kMultiply, 0, 0, node.source_offset);
      bool steady = true;
      for (const auto& [offset, value] : *later) {
        if (offset == 0) continue;
        if (settled.at(offset).kind == Value::kConstant) {
          steady = steady && value == settled.at(offset);  // the constant must hold round after round
        } else if (value.kind == Value::kConstant) {
          multiply.body.push_back(make_node(Op::kSet, offset, value.amount, node.source_offset));
        } else if (value.kind == Value::kRelative && value.amount != 0) {
          multiply.body.push_back(make_node(Op::kAdd, offset, wrap(counter.amount == -1 ? value.amount : -value.amount),
                                            node.source_offset));
        } else {
          steady = steady && value.kind == Value::kRelative;
        }
      }
      if (!steady) continue;
      node.body.push_back(std::move(multiply));
    }
    return nodes;
  });
}

// Straight-line code between loops never needs to move the pointer: each cell access gets the
// pointer's offset at that point added to its own, and one kMove at the end of the run (before a
// loop, a scan, or the end of the block) catches up. Accesses keep their order, so a program that
// leaves the tape still stops at the same command. On the way, an add or set that follows an
// add or set of the same cell, with no access to that cell in between, is merged into the earlier
// one; and a multiply's term on a cell that a set overwrites later, with no read of the cell and no
// I/O in between, is dropped ([->+<]>[-] needs no add to p[1]).
Block fold_offsets(Block block) {
  return rewrite_blocks(std::move(block), [](Block nodes) {
    Block result;
    std::int64_t pointer = 0;                   // how far p has moved since the last kMove was emitted
    std::map<std::int64_t, std::size_t> last_write;  // cell → index in result of a mergeable add/set
    // cell → {index in result of a multiply, index of its term} that wrote the cell last, with no
    // read and no I/O since: a set of the cell makes that term dead.
    std::map<std::int64_t, std::pair<std::size_t, std::size_t>> term_write;
    auto flush = [&](std::size_t source_offset) {
      if (pointer != 0) result.push_back(make_node(Op::kMove, 0, pointer, source_offset));
      pointer = 0;
      last_write.clear();
      term_write.clear();
    };
    for (Node& node : nodes) {
      switch (node.op) {
        case Op::kMove:
          pointer += node.amount;
          break;
        case Op::kAdd:
        case Op::kSet: {
          const std::int64_t cell = pointer + node.offset;
          if (const auto it = term_write.find(cell); it != term_write.end()) {
            if (node.op == Op::kSet) {     // the term's write is overwritten: make it add nothing
              Node& term = result[it->second.first].body[it->second.second];
              term.op = Op::kAdd;
              term.amount = 0;
            }
            term_write.erase(it);
          }
          if (const auto it = last_write.find(cell); it != last_write.end()) {
            Node& earlier = result[it->second];
            if (node.op == Op::kSet) {
              earlier.op = Op::kSet;
              earlier.amount = wrap(node.amount);
            } else {
              earlier.amount = wrap(earlier.amount + node.amount);
            }
            break;
          }
          node.offset = cell;
          last_write[cell] = result.size();
          result.push_back(std::move(node));
          break;
        }
        case Op::kInput:
        case Op::kOutput:
          // Dropping a write before I/O could move where a program that leaves the tape stops.
          node.offset += pointer;
          last_write.erase(node.offset);
          term_write.clear();
          result.push_back(std::move(node));
          break;
        case Op::kMultiply:
        case Op::kBoundedLoop:  // its terms read the cells they add to: none of them is dead
          node.offset += pointer;
          last_write.erase(node.offset);
          term_write.erase(node.offset);
          for (std::size_t t = 0; t < node.body.size(); ++t) {
            const std::int64_t target = node.offset + node.body[t].offset;
            last_write.erase(target);
            if (node.op == Op::kMultiply) term_write[target] = {result.size(), t};
            else term_write.erase(target);
          }
          result.push_back(std::move(node));
          break;
        case Op::kLoop:
        case Op::kScan:
          flush(node.source_offset);
          result.push_back(std::move(node));
          break;
      }
    }
    flush(nodes.empty() ? 0 : nodes.back().source_offset);
    // Adds and terms that cancelled out are dropped only now, so indices stayed valid.
    const auto adds_nothing = [](const Node& node) { return node.op == Op::kAdd && wrap(node.amount) == 0; };
    for (Node& node : result)
      if (node.op == Op::kMultiply) std::erase_if(node.body, adds_nothing);
    std::erase_if(result, adds_nothing);
    return result;
  });
}

namespace {

// Does nothing when p[0] is zero: the node a chain of bounded-loop levels ends with.
bool idle_on_zero(const Node& node) {
  return node.op == Op::kLoop || node.op == Op::kScan ||
         ((node.op == Op::kMultiply || node.op == Op::kBoundedLoop) && node.offset == 0);
}

// What one level of a chain [A[A[A X]]] does before its last node: A only adds (any moves
// cancel out) and steps p[0] by -1 or +1. No value for anything else.
std::optional<Effect> level_effect(const Node& loop) {
  if (loop.op != Op::kLoop || loop.body.size() < 2) return std::nullopt;
  const std::optional<Effect> effect = simple_effect(std::span(loop.body).first(loop.body.size() - 1));
  if (!effect || effect->move != 0 || !effect->only_adds() || !effect->cells.contains(0)) return std::nullopt;
  const std::int64_t step = wrap(effect->cells.at(0).amount);
  if (step != -1 && step != 1) return std::nullopt;
  return effect;
}

// A loop that starts a chain of at least two levels: the bounded loop that does the levels' A's,
// and the last level's last node X, which runs after them (and does nothing unless every level
// ran and left p[0] non-zero). The levels all step p[0] alike. They do the same, or, with
// `varied_levels`, in a chain whose first two levels differ, they may add different amounts to
// the other cells (factor.b's [-a+[-a-b+[-a+[-a-b+X]]]], whose levels alternate), which a term
// then holds level by level. A chain whose first levels are alike stops at the first that
// differs: that one is like a carry (factor.b's digits, whose tenth level subtracts 9 and adds 1
// to the next digit), it runs rarely and its branch is well predicted, while a count that picks
// what the levels add puts a load from a table on the count's path (factor.b ran 1.07 to 1.10
// times as long with those folded too).
std::optional<std::pair<Node, Node*>> bounded_loop(Node& loop, bool varied_levels) {
  const std::optional<Effect> effect = level_effect(loop);
  if (!effect) return std::nullopt;
  std::vector<Effect> levels = {*effect};
  Node* last = &loop.body.back();
  for (;;) {
    const std::optional<Effect> inner = level_effect(*last);
    if (!inner || inner->cells.at(0) != effect->cells.at(0)) break;
    const bool varies = levels.size() == 1 ? varied_levels : levels[1].cells != effect->cells;
    if (!varies && inner->cells != effect->cells) break;
    levels.push_back(*inner);
    last = &last->body.back();
  }
  if (levels.size() < 2 || !idle_on_zero(*last)) return std::nullopt;
  std::map<std::int64_t, std::vector<std::int64_t>> added;  // cell → what each level adds to it
  for (std::size_t level = 0; level < levels.size(); ++level)
    for (const auto& [offset, cell] : levels[level].cells) {
      std::vector<std::int64_t>& amounts = added[offset];
      amounts.resize(levels.size());
      amounts[level] = wrap(cell.amount);
    }
  const auto levels_count = static_cast<std::int64_t>(levels.size());
  Node bounded = make_node(Op::kBoundedLoop, 0, levels_count, loop.source_offset);
  for (const auto& [offset, amounts] : added) {
    Node term = make_node(Op::kAdd, offset, amounts[0], loop.source_offset);
    const std::int64_t first = amounts[0];  // clang 14 cannot capture a structured binding (C++20, P1091)
    if (std::any_of(amounts.begin(), amounts.end(), [first](std::int64_t amount) { return amount != first; }))
      for (const std::int64_t amount : amounts) term.body.push_back(make_node(Op::kAdd, offset, amount, loop.source_offset));
    bounded.body.push_back(std::move(term));
  }
  return std::pair{std::move(bounded), last};
}

}  // namespace

// A loop whose body runs again only through its last node runs at most once: each level of
// [->+<[->+<[->+<[X]]]] (factor.b's digits) is an if, and the chain is a row of branches, one
// taken at random. Its levels all do the same, so the levels that run are a count, min(p[0],
// levels), and the chain is a multiply by that count followed by X. X does nothing unless p[0]
// is still non-zero, which happens only if every level ran.
Block fold_bounded_loops(Block block, bool varied_levels) {
  const bool any = std::any_of(block.begin(), block.end(),
                               [&](Node& node) { return bounded_loop(node, varied_levels).has_value(); });
  Block result;
  if (any) result.reserve(block.size() + 4);
  for (Node& node : block) {
    if (std::optional<std::pair<Node, Node*>> chain = bounded_loop(node, varied_levels)) {
      Node last = std::move(*chain->second);
      result.push_back(std::move(chain->first));
      node = std::move(last);
    }
    if (node.op == Op::kLoop) node.body = fold_bounded_loops(std::move(node.body), varied_levels);
    if (any) result.push_back(std::move(node));
  }
  if (!any) return block;
  return result;
}

Block optimize(Block program, const Passes& passes) {
  if (passes.dead_loops) program = remove_dead_loops(std::move(program));
  if (passes.fold_runs) program = fold_runs(std::move(program));
  if (passes.clear_loops) program = fold_clear_loops(std::move(program));
  if (passes.scan_loops) program = fold_scan_loops(std::move(program));
  if (passes.multiply_loops) program = fold_multiply_loops(std::move(program));
  if (passes.counted_loops) program = fold_counted_loops(std::move(program));
  if (passes.fold_offsets) program = fold_offsets(std::move(program));
  if (passes.bounded_loops) program = fold_bounded_loops(std::move(program), passes.varied_levels);
  return program;
}

}  // namespace bfc
