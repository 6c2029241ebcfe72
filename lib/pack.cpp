// PackPlanner: dynamic programming over (hole, first unit) for the code, then first-fit for the
// data, for every choice of holes kept free for data; the smallest file wins.
#include <algorithm>
#include <array>
#include <optional>

#include "asmjit_p.hpp"
#include "pack_p.hpp"

namespace tinyelf::detail {

namespace {

constexpr std::uint32_t kInfinity = std::numeric_limits<std::uint32_t>::max() / 2;
constexpr std::uint32_t kUnknown = PlanCell{}.cost;

// The cost of what is left: tail bytes first, then the number of chunks (fewer jumps, and a file
// that reads more like the program that was written).
constexpr std::uint32_t kChunkWeight = 1;
constexpr std::uint32_t kByteWeight = 1024;

constexpr std::uint32_t kRel8Reach = 127;  // INT8_MAX

constexpr std::uint32_t connector_size(Connector connector) {
  switch (connector) {
    case Connector::kNone: return 0;
    case Connector::kSwallow: return kSwallowSize;
    case Connector::kJump: return kJumpSize;
  }
  return 0;
}

class Planner {
 public:
  Planner(const PlanInput& input, std::pmr::vector<std::uint32_t>& prefix, std::pmr::vector<PlanCell>& cells)
      : in_(input), layout_(*input.layout), holes_(static_cast<std::uint32_t>(layout_.holes.size())),
        units_(static_cast<std::uint32_t>(input.code.size())), code_size_(input.code_bytes()), prefix_(prefix),
        cells_(cells) {
    prefix_.clear();
  }

  // Fills `plan` with the best plan with the holes in `reserved` kept for data and returns the
  // holes its code uses (a bit each); nothing if the code cannot start where it must.
  std::optional<std::uint32_t> plan(std::uint32_t reserved, Plan& plan) {
    reserved_ = reserved;
    plan.chunks.clear();
    plan.data_at.clear();
    std::array<std::uint32_t, kMaxHoles> used_up_to{};  // end of code and connector in each hole
    if (const std::optional<std::uint32_t> hole = hole_for_all()) {
      // Nothing in the tail and a single chunk is the lowest cost there is, and the first hole
      // that gives it is the one the search would choose: no search needed.
      const std::uint32_t start = layout_.holes[*hole].start;
      plan.chunks.push_back({start, 0, units_, Connector::kNone, false});
      used_up_to[*hole] = start + code_size_;
    } else if (!search(plan, used_up_to)) {
      return std::nullopt;
    }
    return place_data(plan, used_up_to);
  }

 private:
  bool is_reserved(std::uint32_t hole) const { return (reserved_ >> hole) & 1; }
  std::uint32_t index(std::uint32_t slot, std::uint32_t unit) const { return slot * (reach_ + 1) + unit; }
  std::uint32_t code_size(std::uint32_t first, std::uint32_t end) const { return prefix_[end] - prefix_[first]; }
  std::uint32_t slot_start(std::uint32_t slot) const { return slot_start_[slot]; }

  Connector connector(std::uint32_t hole, std::uint32_t next, std::uint32_t first, std::uint32_t end) const {
    if (end == units_) return Connector::kNone;
    if (end > first && !in_.code[end - 1].falls_through) return Connector::kNone;
    if (next == swallowed_to_[hole] && in_.code[end].flags_dead) return Connector::kSwallow;
    return Connector::kJump;
  }

  // The first hole the code may start in that holds all of it.
  std::optional<std::uint32_t> hole_for_all() const {
    for (std::uint32_t h = 0; h < (layout_.entry_is_fixed ? 1 : holes_); ++h)
      if (!is_reserved(h) && units_ != 0 && code_size_ <= layout_.holes[h].size()) return h;
    return std::nullopt;
  }

  // The search: the chunks of the cheapest plan, and the end of what they use in each hole.
  bool search(Plan& plan, std::array<std::uint32_t, kMaxHoles>& used_up_to) {
    if (prefix_.empty()) {  // the first search of this input
      prefix_.resize(units_ + 1);
      for (std::uint32_t i = 0; i < units_; ++i) prefix_[i + 1] = prefix_[i] + in_.code[i].size;
      // The search asks these for every pair of chunks: kept at hand.
      for (std::uint32_t slot = 0; slot <= holes_; ++slot)
        slot_start_[slot] = slot == holes_ ? layout_.tail_start : layout_.holes[slot].start;
      for (std::uint32_t h = 0; h < holes_; ++h) {
        swallowed_to_[h] = kNoSlot;
        for (std::uint32_t next = h + 1; next <= holes_; ++next)
          if (slot_start_[next] == layout_.holes[h].end + kSwallowedSize) swallowed_to_[h] = next;
      }
    }
    // At most a chunk per hole and one in the tail: one allocation each, kept for the next plan.
    plan.chunks.reserve(holes_ + 1);
    plan.data_at.reserve(in_.data.size());
    // A chunk in a hole can only start with a unit whose predecessors all fit in the holes.
    const std::uint32_t capacity = layout_.hole_bytes();
    reach_ = 0;
    while (reach_ < units_ && prefix_[reach_ + 1] <= capacity) ++reach_;
    cells_.assign(holes_ * (reach_ + 1), PlanCell{});  // all unknown
    std::uint32_t first_slot = 0;
    if (layout_.entry_is_fixed) {
      if (best(0, 0) >= kInfinity) return false;
    } else {
      first_slot = holes_;  // everything in the tail, unless a hole does better
      for (std::uint32_t h = 0; h < holes_; ++h)
        if (!is_reserved(h) && best(h, 0) < best(first_slot, 0)) first_slot = h;
    }
    std::uint32_t slot = first_slot, unit = 0;
    for (;;) {
      Chunk chunk;
      chunk.first = unit;
      if (slot == holes_) {
        chunk.offset = layout_.tail_start;
        chunk.end = units_;
        chunk.in_tail = true;
        if (chunk.end > chunk.first) plan.chunks.push_back(chunk);
        return true;
      }
      const PlanCell& step = cells_[index(slot, unit)];
      chunk.offset = layout_.holes[slot].start;
      chunk.end = step.end;
      chunk.connector = step.connector;
      plan.chunks.push_back(chunk);
      used_up_to[slot] = step.connector == Connector::kSwallow
                             ? layout_.holes[slot].end
                             : chunk.offset + code_size(unit, step.end) + connector_size(step.connector);
      if (step.end == units_) return true;
      slot = step.next;
      unit = step.end;
    }
  }

  // Cost (kByteWeight per tail byte, kChunkWeight per chunk) of the rest of the program when the
  // chunk in `slot` starts with `unit`.
  std::uint32_t best(std::uint32_t slot, std::uint32_t unit) {
    if (slot == holes_) return code_size(unit, units_) * kByteWeight + (unit < units_ ? kChunkWeight : 0);
    if (unit > reach_) return kInfinity;
    PlanCell& cell = cells_[index(slot, unit)];
    if (cell.cost != kUnknown) return cell.cost;
    cell.cost = kInfinity;
    const Hole& hole = layout_.holes[slot];
    // An empty chunk (a bare jump) only makes sense where execution must start.
    const bool may_be_empty = layout_.entry_is_fixed && slot == 0 && unit == 0;
    for (std::uint32_t end = may_be_empty ? unit : unit + 1; end <= units_; ++end) {
      const std::uint32_t code = code_size(unit, end);
      if (code > hole.size()) break;
      for (std::uint32_t next = slot + 1; next <= holes_; ++next) {
        if (next < holes_ && is_reserved(next)) continue;
        const Connector link = connector(slot, next, unit, end);
        if (code + connector_size(link) > hole.size()) continue;
        // jmp rel8 reaches 127 bytes past its end: further holes (the dynamic layout's are 56
        // bytes apart) are for another chunk.
        if (link == Connector::kJump && slot_start(next) - (hole.start + code + kJumpSize) > kRel8Reach) continue;
        const std::uint32_t rest = kChunkWeight + (end == units_ ? 0 : best(next, end));
        if (rest < cell.cost) {
          cell.cost = rest;
          cell.end = end;
          cell.next = static_cast<std::uint8_t>(next);
          cell.connector = link;
        }
        if (end == units_) break;  // nothing follows: the next slot does not matter
      }
    }
    return cell.cost;
  }

  // First fit into the free end of each hole, in hole order, else the tail after the code.
  // Returns the holes that hold code (a bit each).
  std::uint32_t place_data(Plan& plan, const std::array<std::uint32_t, kMaxHoles>& used_up_to) const {
    std::uint32_t tail = layout_.tail_start;
    if (!plan.chunks.empty() && plan.chunks.back().in_tail) tail += code_size(plan.chunks.back().first, units_);
    std::array<std::uint32_t, kMaxHoles> cursor{};
    std::uint32_t code_holes = 0;
    for (std::uint32_t h = 0; h < holes_; ++h) {
      cursor[h] = used_up_to[h] != 0 ? used_up_to[h] : layout_.holes[h].start;
      code_holes |= used_up_to[h] != 0 ? 1u << h : 0;
    }
    for (const DataUnit& unit : in_.data) {
      std::uint32_t at = kInfinity;
      for (std::uint32_t h = 0; h < holes_ && at == kInfinity; ++h) {
        const auto aligned = static_cast<std::uint32_t>(align_up(in_.base + cursor[h], unit.align) - in_.base);
        if (aligned + unit.size <= layout_.holes[h].end) {
          at = aligned;
          cursor[h] = aligned + unit.size;
        }
      }
      if (at == kInfinity) {
        at = static_cast<std::uint32_t>(align_up(in_.base + tail, unit.align) - in_.base);
        tail = at + unit.size;
      }
      plan.data_at.push_back(at);
    }
    plan.file_size = std::max(layout_.header_size, tail);
    return code_holes;
  }

  const PlanInput& in_;
  const HeaderLayout& layout_;
  const std::uint32_t holes_;
  const std::uint32_t units_;
  const std::uint32_t code_size_;            // bytes of all units
  std::uint32_t reserved_ = 0;
  std::uint32_t reach_ = 0;  // the last unit a chunk in a hole may start with
  std::pmr::vector<std::uint32_t>& prefix_;  // prefix_[u]: bytes of units [0, u), for the search
  std::pmr::vector<PlanCell>& cells_;        // by (slot, unit)
  static constexpr std::uint32_t kNoSlot = ~0u;
  // Filled by the first search() (a plan that needs none does not pay for them).
  std::array<std::uint32_t, kMaxHoles + 1> slot_start_;  // by slot: where each hole, then the tail, starts
  std::array<std::uint32_t, kMaxHoles> swallowed_to_;    // by hole: the slot just past the 4 bytes after it, if any
};

}  // namespace

void PackPlanner::plan(const PlanInput& input, Plan& plan) {
  plan.chunks.clear();
  plan.data_at.clear();
  const auto holes = static_cast<std::uint32_t>(input.layout->holes.size());
  if (holes > kMaxHoles) return;
  Planner planner(input, prefix_, cells_);
  // Keeping a hole free only helps data; without data, one pass.
  if (input.data.empty()) {
    (void)planner.plan(0, plan);
    return;
  }
  // Only a hole some data item fits in is worth keeping free.
  std::uint32_t useful = 0;
  for (std::uint32_t h = 0; h < holes; ++h)
    for (const DataUnit& unit : input.data)
      if (unit.size <= input.layout->holes[h].size()) useful |= 1u << h;
  if (input.layout->entry_is_fixed) useful &= ~1u;  // the first hole holds the entry
  // Keeping free a hole whose code the plan for fewer reserved holes does not use changes
  // nothing: the search's choices did not go there, and each choice left is as good as before
  // and the others no better, so it finds the same plan, which places the data the same. Such a
  // set of holes is not planned again: it gives no smaller file. code_holes[r]: the holes the
  // code uses when those in r are kept free, or all ones when no plan exists (nor for any
  // superset of r: keeping more holes free only takes choices away).
  constexpr std::uint32_t kNoPlan = ~0u;
  std::array<std::uint32_t, 1u << kMaxHoles> code_holes{};
  // No set of holes kept free gives a file below `floor`, found from the plan keeping none free:
  // the header, then the code it leaves after the header (keeping holes free only takes choices
  // away from the search, which puts as little code there as it can) and the data that fits in
  // no hole.
  std::uint32_t floor = 0;
  bool found = false;
  for (std::uint32_t reserved = 0; reserved < 1u << holes && !(found && plan.file_size <= floor); ++reserved) {
    if ((reserved & ~useful) != 0) continue;
    bool same_as_fewer = false;
    for (std::uint32_t rest = reserved; rest != 0 && !same_as_fewer; rest &= rest - 1) {
      const std::uint32_t hole = rest & -rest;  // planned before: every subset of `reserved` is useful and smaller
      if (code_holes[reserved ^ hole] == kNoPlan || (code_holes[reserved ^ hole] & hole) == 0) {
        code_holes[reserved] = code_holes[reserved ^ hole];
        same_as_fewer = true;
      }
    }
    if (same_as_fewer) continue;
    const std::optional<std::uint32_t> used = planner.plan(reserved, candidate_);
    code_holes[reserved] = used.value_or(kNoPlan);
    if (reserved == 0 && used) floor = file_floor(input, candidate_);
    if (used && (!found || candidate_.file_size < plan.file_size)) {
      std::swap(plan, candidate_);
      found = true;
    }
  }
}

std::uint32_t PackPlanner::file_floor(const PlanInput& input, const Plan& plan) {
  const HeaderLayout& layout = *input.layout;
  std::uint32_t end = layout.tail_start;
  if (!plan.chunks.empty() && plan.chunks.back().in_tail)
    for (std::uint32_t u = plan.chunks.back().first; u < input.code.size(); ++u) end += input.code[u].size;
  for (const DataUnit& unit : input.data)
    if (std::none_of(layout.holes.begin(), layout.holes.end(), [&](const Hole& hole) { return unit.size <= hole.size(); }))
      end += unit.size;
  return std::max(layout.header_size, end);
}

HoleRoom hole_room(const PlanInput& input) {
  const HeaderLayout& layout = *input.layout;
  const bool some_jump_ends = std::any_of(input.code.begin(), input.code.end(),
                                          [](const CodeUnit& unit) { return !unit.falls_through; });
  std::uint32_t largest_hole = 0;
  for (const Hole& hole : layout.holes) largest_hole = std::max(largest_hole, hole.size());
  HoleRoom room;
  for (const DataUnit& unit : input.data) {
    room.data += unit.size;
    room.data_fitting += unit.size <= largest_hole ? unit.size : 0;
  }
  for (std::size_t h = 0; h < layout.holes.size(); ++h) {
    const Hole& hole = layout.holes[h];
    const std::uint32_t connector = some_jump_ends ? 0 : swallowable(layout, h) ? kSwallowSize : kJumpSize;
    const std::uint32_t with_code = hole.size() > connector ? hole.size() - connector : 0;
    room.room += std::max(with_code, std::min(hole.size(), room.data_fitting));  // or data alone
  }
  return room;
}

std::uint32_t smallest_file_bound(const PlanInput& input, const HoleRoom& room, BoundFor orders) {
  std::uint32_t code = 0, prefix = 0;  // prefix: the longest prefix of the code that fits in the room
  bool fits = true;
  for (const CodeUnit& unit : input.code) {
    code += unit.size;
    fits = fits && prefix + unit.size <= room.room;
    prefix += fits ? unit.size : 0;
  }
  return smallest_file_bound(*input.layout, code, prefix, room, orders);
}

std::uint32_t smallest_file_bound(const HeaderLayout& layout, std::uint32_t code, std::uint32_t prefix,
                                  const HoleRoom& room, BoundFor orders) {
  if (code <= layout.hole_bytes()) return 0;
  if (orders == BoundFor::kAnyOrder) prefix = room.room;
  const std::uint32_t in_holes = std::min({room.room, prefix + room.data_fitting, code + room.data});
  return std::max(layout.header_size, layout.tail_start + code + room.data - in_holes);
}

}  // namespace tinyelf::detail
