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

// The orders of `units` that keep the program's meaning, program order first, at most
// `max_orders` of them. An instruction moves past another only when neither writes a general
// register, the status flags or the stack that the other reads or writes. What stays in place:
// label bindings, and every instruction but mov, lea, push, pop and add, sub, and, or, xor, adc,
// sbb, cmp, test, inc, dec, neg, not between registers and immediates (branches, calls, syscall,
// memory operands other than push/pop and lea, prefixes). Only the start of the program moves,
// as far as its units could reach the holes: while each unit, with all that must come before it,
// fits in `capacity` bytes.
Schedule schedule_orders(const std::pmr::vector<InstUnit>& units, std::uint32_t capacity, std::size_t max_orders,
                         std::pmr::memory_resource* memory);

}  // namespace tinyelf::detail
