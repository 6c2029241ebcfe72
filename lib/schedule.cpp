// schedule_orders: the resources each instruction reads and writes (lib/effects_p.hpp), the "must
// stay before" relation they imply, then its topological orders, found depth first so that
// program order comes first.
#include "schedule_p.hpp"

#include <array>
#include <bit>

namespace tinyelf::detail {

namespace {

// What a unit reads and writes, as the scheduler sees it: its effects (lib/effects.cpp) when the
// unit may move, else every resource, a barrier nothing moves past.
struct Resources {
  std::uint32_t reads = kEveryResource;
  std::uint32_t writes = kEveryResource;
};

bool conflict(const Resources& a, const Resources& b) {
  return (a.writes & (b.reads | b.writes)) != 0 || (b.writes & a.reads) != 0;
}

// A unit moves when it is an instruction alone (no label bound before it: other paths arrive
// there), whose every effect is known, that goes on to the next instruction and reaches no memory
// but the stack. The effects of a unit find_effects() did not run on are found here: the packer
// leaves them to the scheduler when nothing else reads them, so that only the units it looks at
// pay for them.
Resources resources_of(const InstUnit& unit) {
  if (unit.has_binding || unit.inst == nullptr) return {};
  const Effects effects = unit.effects_found ? unit.effects : effects_of(*unit.inst);
  if (!effects.registers_known || effects.transfers_control() || ((effects.reads | effects.writes) & kMemoryBit) != 0)
    return {};
  return {effects.reads, effects.writes};
}

// At most this many units move, so that a set of them fits in a 64-bit mask.
constexpr std::size_t kMaxMovable = 64;

class Enumerator {
 public:
  Enumerator(const std::pmr::vector<InstUnit>& units, std::uint32_t capacity, std::size_t max_orders,
             OrderVisitor& visitor)
      : max_orders_(max_orders), capacity_(capacity), visitor_(visitor) {
    // before_[u]: the units ahead of u that must stay ahead of it, directly or through others.
    const std::size_t limit = units.size() < kMaxMovable ? units.size() : kMaxMovable;
    std::array<Resources, kMaxMovable> resources;
    for (std::size_t u = 0; u < limit; ++u) {
      resources[u] = resources_of(units[u]);
      std::uint64_t before = 0;
      for (std::size_t earlier = 0; earlier < u; ++earlier)
        if (conflict(resources[earlier], resources[u])) before |= before_[earlier] | std::uint64_t{1} << earlier;
      std::uint32_t reach = units[u].size;
      for (std::size_t earlier = 0; earlier < u; ++earlier)
        if ((before >> earlier) & 1) reach += units[earlier].size;
      if (reach > capacity) break;  // u can never be in a hole, nor can what follows it
      before_[u] = before;
      sizes_[u] = units[u].size;
      movable_ = u + 1;
    }
  }

  std::size_t run() && {
    if (movable_ != 0) visit(0, 0);
    return movable_;
  }

 private:
  // Extends the order with each unit that may come next. Once it fills the holes' bytes, the
  // order of the rest cannot change what goes into them: program order for the rest.
  void visit(std::uint64_t placed, std::uint32_t size) {
    // The units not placed yet, in program order: one bit each.
    const std::uint64_t left = (movable_ == kMaxMovable ? ~std::uint64_t{0} : (std::uint64_t{1} << movable_) - 1) & ~placed;
    if (left == 0 || size >= capacity_) {
      std::size_t at = ordered_;
      for (std::uint64_t rest = left; rest != 0; rest &= rest - 1)
        order_[at++] = static_cast<std::uint32_t>(std::countr_zero(rest));
      going_ = visitor_.visit(order_.data(), movable_) && ++visited_ < max_orders_;
      return;
    }
    for (std::uint64_t rest = left; rest != 0 && going_; rest &= rest - 1) {
      const int u = std::countr_zero(rest);
      if ((before_[u] & ~placed) != 0) continue;  // not ready
      order_[ordered_++] = static_cast<std::uint32_t>(u);
      visit(placed | std::uint64_t{1} << u, size + sizes_[u]);
      --ordered_;
    }
  }

  const std::size_t max_orders_;
  const std::uint32_t capacity_;
  OrderVisitor& visitor_;
  std::size_t movable_ = 0;
  std::size_t visited_ = 0;
  bool going_ = true;
  // By unit, for the first movable_ units (on the stack: no allocation for them).
  std::array<std::uint64_t, kMaxMovable> before_;
  std::array<std::uint32_t, kMaxMovable> sizes_;
  std::array<std::uint32_t, kMaxMovable> order_;  // the order being built: its first ordered_ units
  std::size_t ordered_ = 0;
};

// Keeps every order it is shown.
class Collector final : public OrderVisitor {
 public:
  explicit Collector(Schedule& schedule) : schedule_(schedule) {}
  bool visit(const std::uint32_t* order, std::size_t movable) override {
    schedule_.orders.insert(schedule_.orders.end(), order, order + movable);
    return true;
  }

 private:
  Schedule& schedule_;
};

}  // namespace

std::size_t visit_orders(const std::pmr::vector<InstUnit>& units, std::uint32_t capacity, std::size_t max_orders,
                         OrderVisitor& visitor) {
  return Enumerator(units, capacity, max_orders, visitor).run();
}

Schedule schedule_orders(const std::pmr::vector<InstUnit>& units, std::uint32_t capacity, std::size_t max_orders,
                         std::pmr::memory_resource* memory) {
  Schedule schedule(memory);
  Collector collector(schedule);
  schedule.movable = visit_orders(units, capacity, max_orders, collector);
  return schedule;
}

}  // namespace tinyelf::detail
