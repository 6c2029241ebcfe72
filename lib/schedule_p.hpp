// Reordering the start of a small program: which orders of its instructions keep its meaning, so
// that the packer can take the one that fills the header holes best. The packer keeps a plan's
// chunks in execution order, so the holes hold a prefix of the program: the order of that prefix
// decides how well they fill.
#pragma once

#include <cstdint>
#include <memory_resource>
#include <vector>

#include "units_p.hpp"

namespace tinyelf::detail {

// Orders of the start of a program that keep its meaning.
struct Schedule {
  explicit Schedule(std::pmr::memory_resource* memory) : orders(memory) {}
  std::size_t movable = 0;               // the units [0, movable) may change places
  std::pmr::vector<std::uint32_t> orders;  // permutations of [0, movable), one after the other
};

// Receives the orders visit_orders() finds, one at a time.
class OrderVisitor {
 public:
  // `order`: a permutation of [0, movable), the units that may move; false stops the search.
  virtual bool visit(const std::uint32_t* order, std::size_t movable) = 0;

 protected:
  ~OrderVisitor() = default;
};

// The orders of `units` that keep the program's meaning, program order first, at most
// `max_orders` of them. An instruction moves past another only when neither writes a general
// register, the status flags or the stack that the other reads or writes (lib/effects_p.hpp).
// What stays in place: label bindings, and every instruction whose effects are not all known,
// that may go elsewhere (branches, calls) or that reaches memory other than the stack (syscall
// among them). Only the start of the program moves,
// as far as its units could reach the holes: while each unit, with all that must come before it,
// fits in `capacity` bytes.
// visit_orders() shows them to `visitor` as they are found, and returns how many units may move
// (none: no order is shown); schedule_orders() collects them.
std::size_t visit_orders(const std::pmr::vector<InstUnit>& units, std::uint32_t capacity, std::size_t max_orders,
                         OrderVisitor& visitor);
Schedule schedule_orders(const std::pmr::vector<InstUnit>& units, std::uint32_t capacity, std::size_t max_orders,
                         std::pmr::memory_resource* memory);

}  // namespace tinyelf::detail
