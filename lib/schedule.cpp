// schedule_orders: the effects of each instruction as sets of resources (16 general registers, the
// status flags, the stack), the "must stay before" relation they imply, then its topological
// orders, found depth first so that program order comes first.
#include <asmjit/x86.h>

#include "schedule_p.hpp"

namespace tinyelf::detail {

namespace {

namespace x86 = asmjit::x86;
namespace Inst = x86::Inst;

constexpr std::uint32_t kFlags = 1u << 16;
constexpr std::uint32_t kStack = 1u << 17;  // the memory at and above rsp
constexpr std::uint32_t kRsp = 1u << 4;
constexpr std::uint32_t kEverything = ~0u;

struct Effects {
  std::uint32_t reads = kEverything;
  std::uint32_t writes = kEverything;  // the default: a barrier nothing moves past
};

bool conflict(const Effects& a, const Effects& b) {
  return (a.writes & (b.reads | b.writes)) != 0 || (b.writes & a.reads) != 0;
}

std::uint32_t bit(const asmjit::Operand_& gp) { return 1u << gp.id(); }

// Writing the low 8 or 16 bits of a register keeps the rest (SDM vol. 1, 3.4.1.1): a read too.
std::uint32_t partial(const asmjit::Operand_& gp) { return gp.as<x86::Gp>().size() < 4 ? bit(gp) : 0; }

Effects effects_of(const InstUnit& unit) {
  if (unit.has_binding || unit.inst == nullptr) return {};
  const TextItem& item = *unit.inst;
  if (item.options != asmjit::InstOptions::kNone || item.extra_reg.isReg()) return {};
  const asmjit::Operand_* op = item.operands;
  std::size_t count = 0;
  while (count < 6 && !op[count].isNone()) ++count;
  const bool reg0 = count >= 1 && x86::Reg::isGp(op[0]) && op[0].id() < 16;
  const bool reg_or_imm1 =
      count == 2 && (op[1].isImm() || (x86::Reg::isGp(op[1]) && op[1].id() < 16));
  const std::uint32_t src = count == 2 && op[1].isReg() ? bit(op[1]) : 0;

  switch (item.inst_id) {
    case Inst::kIdMov:
      if (!reg0 || !reg_or_imm1) return {};
      return {src | partial(op[0]), bit(op[0])};
    case Inst::kIdLea: {
      if (!reg0 || count != 2 || !op[1].isMem()) return {};
      const x86::Mem& mem = op[1].as<x86::Mem>();
      if (mem.hasSegment() || mem.isAbs()) return {};
      std::uint32_t reads = partial(op[0]);
      if (mem.hasBaseReg()) {
        if (!x86::Reg::isGp(mem.baseReg()) || mem.baseId() >= 16) return {};  // rip: fixed to its place
        reads |= 1u << mem.baseId();
      }
      if (mem.hasIndex()) {
        if (!x86::Reg::isGp(mem.indexReg()) || mem.indexId() >= 16) return {};
        reads |= 1u << mem.indexId();
      }
      return {reads, bit(op[0])};
    }
    case Inst::kIdPush:
      if (count != 1 || !(op[0].isImm() || (reg0 && op[0].as<x86::Gp>().size() == 8))) return {};
      return {kRsp | (op[0].isReg() ? bit(op[0]) : 0), kRsp | kStack};
    case Inst::kIdPop:
      if (count != 1 || !reg0 || op[0].as<x86::Gp>().size() != 8) return {};
      return {kRsp | kStack, kRsp | bit(op[0])};
    case Inst::kIdAdd: case Inst::kIdSub: case Inst::kIdAnd: case Inst::kIdOr: case Inst::kIdXor:
      if (!reg0 || !reg_or_imm1) return {};
      return {bit(op[0]) | src, bit(op[0]) | kFlags};
    case Inst::kIdAdc: case Inst::kIdSbb:
      if (!reg0 || !reg_or_imm1) return {};
      return {bit(op[0]) | src | kFlags, bit(op[0]) | kFlags};
    case Inst::kIdCmp: case Inst::kIdTest:
      if (!reg0 || !reg_or_imm1) return {};
      return {bit(op[0]) | src, kFlags};
    case Inst::kIdInc: case Inst::kIdDec: case Inst::kIdNeg: case Inst::kIdNot:
      // inc and dec leave CF as it was, not leaves every flag: counting them as writers of all
      // the flags keeps every flag reader and writer in program order, which is what matters.
      if (count != 1 || !reg0) return {};
      return {bit(op[0]), bit(op[0]) | kFlags};
    default:
      return {};
  }
}

// At most this many units move, so that a set of them fits in a 64-bit mask.
constexpr std::size_t kMaxMovable = 64;

class Enumerator {
 public:
  Enumerator(const std::pmr::vector<InstUnit>& units, std::uint32_t capacity, std::size_t max_orders,
             OrderVisitor& visitor, std::pmr::memory_resource* memory)
      : max_orders_(max_orders), capacity_(capacity), visitor_(visitor), before_(memory), sizes_(memory),
        order_(memory) {
    // before_[u]: the units ahead of u that must stay ahead of it, directly or through others.
    const std::size_t limit = units.size() < kMaxMovable ? units.size() : kMaxMovable;
    std::pmr::vector<Effects> effects(memory);
    effects.reserve(limit);
    before_.reserve(limit);
    sizes_.reserve(limit);
    for (std::size_t u = 0; u < limit; ++u) {
      effects.push_back(effects_of(units[u]));
      std::uint64_t before = 0;
      for (std::size_t earlier = 0; earlier < u; ++earlier)
        if (conflict(effects[earlier], effects[u])) before |= before_[earlier] | std::uint64_t{1} << earlier;
      std::uint32_t reach = units[u].size;
      for (std::size_t earlier = 0; earlier < u; ++earlier)
        if ((before >> earlier) & 1) reach += units[earlier].size;
      if (reach > capacity) break;  // u can never be in a hole, nor can what follows it
      before_.push_back(before);
      sizes_.push_back(units[u].size);
    }
    movable_ = before_.size();
    order_.reserve(movable_);
  }

  std::size_t run() && {
    if (movable_ != 0) visit(0, 0);
    return movable_;
  }

 private:
  // Extends the order with each unit that may come next. Once it fills the holes' bytes, the
  // order of the rest cannot change what goes into them: program order for the rest.
  void visit(std::uint64_t placed, std::uint32_t size) {
    if (order_.size() == movable_ || size >= capacity_) {
      const std::size_t ordered = order_.size();
      for (std::size_t u = 0; u < movable_; ++u)
        if (((placed >> u) & 1) == 0) order_.push_back(static_cast<std::uint32_t>(u));
      going_ = visitor_.visit(order_.data(), movable_) && ++visited_ < max_orders_;
      order_.resize(ordered);
      return;
    }
    for (std::size_t u = 0; u < movable_ && going_; ++u) {
      const std::uint64_t mask = std::uint64_t{1} << u;
      if ((placed & mask) != 0 || (before_[u] & ~placed) != 0) continue;  // placed, or not ready
      order_.push_back(static_cast<std::uint32_t>(u));
      visit(placed | mask, size + sizes_[u]);
      order_.pop_back();
    }
  }

  const std::size_t max_orders_;
  const std::uint32_t capacity_;
  OrderVisitor& visitor_;
  std::size_t movable_ = 0;
  std::size_t visited_ = 0;
  bool going_ = true;
  std::pmr::vector<std::uint64_t> before_;
  std::pmr::vector<std::uint32_t> sizes_;
  std::pmr::vector<std::uint32_t> order_;
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
                         OrderVisitor& visitor, std::pmr::memory_resource* memory) {
  return Enumerator(units, capacity, max_orders, visitor, memory).run();
}

Schedule schedule_orders(const std::pmr::vector<InstUnit>& units, std::uint32_t capacity, std::size_t max_orders,
                         std::pmr::memory_resource* memory) {
  Schedule schedule(memory);
  Collector collector(schedule);
  schedule.movable = visit_orders(units, capacity, max_orders, collector, memory);
  return schedule;
}

}  // namespace tinyelf::detail
