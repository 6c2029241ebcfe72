// plan_packing: dynamic programming over (hole, first unit) for the code, then first-fit for the
// data, for every choice of holes kept free for data; the smallest file wins.
#include <algorithm>

#include "pack_p.hpp"

namespace tinyelf::detail {

namespace {

constexpr std::uint32_t kInfinity = std::numeric_limits<std::uint32_t>::max() / 2;

// The cost of what is left: tail bytes first, then the number of chunks (fewer jumps, and a file
// that reads more like the program that was written).
constexpr std::uint32_t kChunkWeight = 1;
constexpr std::uint32_t kByteWeight = 1024;

std::uint32_t connector_size(Connector connector) {
  switch (connector) {
    case Connector::kNone: return 0;
    case Connector::kSwallow: return kSwallowSize;
    case Connector::kJump: return kJumpSize;
  }
  return 0;
}

std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) { return (value + alignment - 1) / alignment * alignment; }

class Planner {
 public:
  Planner(const PlanInput& input, std::uint32_t reserved)
      : in_(input), layout_(*input.layout), holes_(static_cast<std::uint32_t>(layout_.holes.size())),
        units_(static_cast<std::uint32_t>(input.code.size())), reserved_(reserved) {
    prefix_.resize(units_ + 1);
    for (std::uint32_t i = 0; i < units_; ++i) prefix_[i + 1] = prefix_[i] + in_.code[i].size;
    memo_.assign((holes_ + 1) * (units_ + 1), kUnknown);
  }

  // The best plan with these reserved holes, or nothing if the code cannot start where it must.
  std::optional<Plan> plan() {
    std::uint32_t first_slot = 0;
    if (layout_.entry_is_fixed) {
      if (best(0, 0) >= kInfinity) return std::nullopt;
    } else {
      first_slot = holes_;  // everything in the tail, unless a hole does better
      for (std::uint32_t h = 0; h < holes_; ++h)
        if (!is_reserved(h) && best(h, 0) < best(first_slot, 0)) first_slot = h;
    }
    Plan plan;
    std::vector<std::uint32_t> used_up_to(holes_, 0);  // end of code and connector in each hole
    std::uint32_t slot = first_slot, unit = 0;
    for (;;) {
      Chunk chunk;
      chunk.first = unit;
      if (slot == holes_) {
        chunk.offset = layout_.tail_start;
        chunk.end = units_;
        chunk.in_tail = true;
        if (chunk.end > chunk.first) plan.chunks.push_back(chunk);
        break;
      }
      const Step& step = steps_[index(slot, unit)];
      chunk.offset = layout_.holes[slot].start;
      chunk.end = step.end;
      chunk.connector = step.connector;
      plan.chunks.push_back(chunk);
      used_up_to[slot] = step.connector == Connector::kSwallow
                             ? layout_.holes[slot].end
                             : chunk.offset + code_size(unit, step.end) + connector_size(step.connector);
      if (step.end == units_) break;
      slot = step.next;
      unit = step.end;
    }
    place_data(plan, used_up_to);
    return plan;
  }

 private:
  static constexpr std::uint32_t kUnknown = kInfinity + 1;

  struct Step {
    std::uint32_t end = 0;   // units [unit, end) go into this hole
    std::uint32_t next = 0;  // the slot the next chunk starts in (holes_ = the tail)
    Connector connector = Connector::kNone;
  };

  bool is_reserved(std::uint32_t hole) const { return (reserved_ >> hole) & 1; }
  std::uint32_t index(std::uint32_t slot, std::uint32_t unit) const { return slot * (units_ + 1) + unit; }
  std::uint32_t code_size(std::uint32_t first, std::uint32_t end) const { return prefix_[end] - prefix_[first]; }
  std::uint32_t slot_start(std::uint32_t slot) const {
    return slot == holes_ ? layout_.tail_start : layout_.holes[slot].start;
  }

  Connector connector(std::uint32_t hole, std::uint32_t next, std::uint32_t first, std::uint32_t end) const {
    if (end == units_) return Connector::kNone;
    if (end > first && !in_.code[end - 1].falls_through) return Connector::kNone;
    if (slot_start(next) == layout_.holes[hole].end + kSwallowedSize && in_.code[end].flags_dead)
      return Connector::kSwallow;
    return Connector::kJump;
  }

  // Cost (kByteWeight per tail byte, kChunkWeight per chunk) of the rest of the program when the
  // chunk in `slot` starts with `unit`.
  std::uint32_t best(std::uint32_t slot, std::uint32_t unit) {
    if (slot == holes_) return code_size(unit, units_) * kByteWeight + (unit < units_ ? kChunkWeight : 0);
    std::uint32_t& result = memo_[index(slot, unit)];
    if (result != kUnknown) return result;
    result = kInfinity;
    if (steps_.empty()) steps_.resize(memo_.size());
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
        const std::uint32_t rest = kChunkWeight + (end == units_ ? 0 : best(next, end));
        if (rest < result) {
          result = rest;
          steps_[index(slot, unit)] = {end, next, link};
        }
        if (end == units_) break;  // nothing follows: the next slot does not matter
      }
    }
    return result;
  }

  // First fit into the free end of each hole, in hole order, else the tail after the code.
  void place_data(Plan& plan, const std::vector<std::uint32_t>& used_up_to) const {
    struct Free {
      std::uint32_t cursor, end;
    };
    std::vector<Free> free;
    for (std::uint32_t h = 0; h < holes_; ++h) {
      const Hole& hole = layout_.holes[h];
      free.push_back({used_up_to[h] != 0 ? used_up_to[h] : hole.start, hole.end});
    }
    std::uint32_t tail = layout_.tail_start;
    if (!plan.chunks.empty() && plan.chunks.back().in_tail) tail += code_size(plan.chunks.back().first, units_);
    for (const DataUnit& unit : in_.data) {
      std::uint32_t at = kInfinity;
      for (Free& range : free) {
        const auto aligned = static_cast<std::uint32_t>(align_up(in_.base + range.cursor, unit.align) - in_.base);
        if (aligned + unit.size <= range.end) {
          at = aligned;
          range.cursor = aligned + unit.size;
          break;
        }
      }
      if (at == kInfinity) {
        at = static_cast<std::uint32_t>(align_up(in_.base + tail, unit.align) - in_.base);
        tail = at + unit.size;
      }
      plan.data_at.push_back(at);
    }
    plan.file_size = std::max(layout_.header_size, tail);
  }

  const PlanInput& in_;
  const HeaderLayout& layout_;
  const std::uint32_t holes_;
  const std::uint32_t units_;
  const std::uint32_t reserved_;
  std::vector<std::uint32_t> prefix_;
  std::vector<std::uint32_t> memo_;
  std::vector<Step> steps_;
};

}  // namespace

Plan plan_packing(const PlanInput& input) {
  const auto holes = static_cast<std::uint32_t>(input.layout->holes.size());
  // Keeping a hole free only helps data; without data, one pass.
  const std::uint32_t masks = input.data.empty() ? 1 : 1u << holes;
  std::optional<Plan> best;
  for (std::uint32_t reserved = 0; reserved < masks; ++reserved) {
    if (input.layout->entry_is_fixed && (reserved & 1)) continue;  // the first hole holds the entry
    std::optional<Plan> plan = Planner(input, reserved).plan();
    if (plan && (!best || plan->file_size < best->file_size)) best = std::move(plan);
  }
  return best ? *best : Plan{};
}

}  // namespace tinyelf::detail
