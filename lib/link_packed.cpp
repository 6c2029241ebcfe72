// The packed path of Program::link: the recorded text cut into units, planned over the header
// holes (lib/pack.cpp), and the file written directly (lib/packed_writer.cpp): each
// instruction's bytes are copied to their planned offset and their displacement to a label is
// rewritten for the new addresses (lib/x86_encoding.cpp). Nothing is assembled a second time:
// packing costs planning, and trying other orders only while a bound says one could do better.
// No heap allocation but the file and its region list (tests/test_pack_allocations.cpp counts
// them).
#include <algorithm>
#include <array>
#include <cstring>
#include <memory_resource>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "asmjit_p.hpp"
#include "elf_p.hpp"
#include "link_p.hpp"
#include "pack_p.hpp"
#include "packed_writer_p.hpp"
#include "relax_p.hpp"
#include "schedule_p.hpp"
#include "scratch_memory_p.hpp"
#include "units_p.hpp"
#include "x86_encoding_p.hpp"

namespace tinyelf::detail {

using asmjit::Label;
using asmjit::Section;
using asmjit::SectionFlags;
namespace x86 = asmjit::x86;

namespace {

// The REX prefix the bytes "ELF" (45 4C 46) leave in front of the first instruction of an
// overlapped file is REX.RX (0x46): harmless before an opcode that has no ModRM byte and no byte
// register, or before the instruction's own prefixes (only the last REX counts).
bool survives_rex_rx(const std::uint8_t* code) {
  const std::uint8_t op = code[0];
  if ((op & 0xF0) == 0x40) return true;  // its own REX prefix
  switch (op) {
    case 0x66: case 0x67: case 0xF0: case 0xF2: case 0xF3:              // legacy prefixes
    case 0x68: case 0x6A: case 0x90: case 0xC3: case 0xE8: case 0xE9: case 0xEB:  // push imm, nop, ret, call, jmp
    case 0x05: case 0x0D: case 0x25: case 0x2D: case 0x35: case 0x3D: case 0xA9:  // op eax, imm32
      return true;
    case 0x0F:
      return code[1] == 0x05 || code[1] == 0x0B || (code[1] & 0xF0) == 0x80;  // syscall, ud2, jcc rel32
    default:
      return (op >= 0x50 && op <= 0x5F) || (op >= 0x70 && op <= 0x7F) || (op >= 0xB8 && op <= 0xBF);
      // push/pop r64 (REX.B only), jcc rel8, mov r32, imm32 (REX.B only)
  }
}

// lea r, [label + disp] reaches the label RIP-relative: 7 bytes into a 64-bit register. When every
// address of the image is below 2^32, mov r32, imm32 gives the same value in 5 (6 for r8-r15):
// writing a 32-bit register zeroes bits 32 to 63 (Intel SDM vol. 1, 3.4.1.1).
bool is_label_lea(const TextItem& item) {
  const asmjit::Operand_* ops = item.operands;
  if (item.inst_id != x86::Inst::kIdLea || item.options != asmjit::InstOptions::kNone) return false;
  if (!x86::Reg::isGpq(ops[0]) && !x86::Reg::isGpd(ops[0])) return false;
  if (!ops[1].isMem()) return false;
  const x86::Mem& mem = ops[1].as<x86::Mem>();
  return mem.hasBaseLabel() && !mem.hasIndex() && !mem.hasSegment() && !mem.isAbs();
}

// Finds the label `unit`'s instruction refers to and the field that holds the displacement.
// False when the instruction refers to an address that moving its bytes would break and that
// this reader cannot rewrite: a fixed RIP-relative displacement, an absolute label address, or an
// encoding it does not know.
bool find_label_reference(const TextItem& item, const std::uint8_t* bytes, Unit& unit) {
  for (const asmjit::Operand_& op : item.operands) {
    if (op.isNone()) break;  // the operands are packed from the first
    if (op.isLabel()) {
      if (unit.label_id != kNoLabel) return false;
      unit.label_id = op.id();
      unit.field = branch_field(bytes, item.end - item.start);
      if (unit.field.size == 0) return false;
    } else if (op.isMem()) {
      const x86::Mem& mem = op.as<x86::Mem>();
      if (mem.baseType() == asmjit::RegType::kX86_Rip) return false;
      if (!mem.hasBaseLabel()) continue;
      if (unit.label_id != kNoLabel || mem.hasIndex() || mem.isAbs()) return false;
      unit.label_id = mem.baseId();
      if (mem.offset() != static_cast<std::int32_t>(mem.offset())) return false;
      unit.addend = static_cast<std::int32_t>(mem.offset());
      unit.field = rip_field(bytes, item.end - item.start);
      if (unit.field.size == 0) return false;
    }
  }
  return true;
}

// Whether some hole can end with a swallowing connector.
bool can_swallow(const HeaderLayout& layout) {
  for (std::size_t h = 0; h < layout.holes.size(); ++h)
    if (swallowable(layout, h)) return true;
  return false;
}

// Whether `unit`, emitted first, is one "ELF"'s REX.RX prefix leaves alone.
bool unit_survives_rex_rx(const PackSource& source, const Unit& unit) {
  if (unit.rewrite.kind == Rewrite::Kind::kMoveByte || unit.rewrite.kind == Rewrite::Kind::kMoveAddress)
    return true;  // B0+r ib or B8+r id, or a REX prefix first
  return survives_rex_rx(source.code.textSection()->data() + unit.inst->start);
}

// The synthetic unit an overlapped file (entry_is_fixed) needs in front of its code: a jump when
// the entry is not the first instruction, a nop when the REX.RX prefix "ELF" leaves would change
// the first instruction, which `first_emitted()` finds (nullptr: none), only when that is asked.
// arrange() inserts it; the order search counts it in an order's plan key before arranging.
template <typename FirstEmitted>
Synthetic synthetic_in_front(const PackSource& source, const HeaderLayout& layout, std::uint64_t entry,
                             FirstEmitted first_emitted) {
  if (!layout.entry_is_fixed) return Synthetic::kNone;
  if (entry != 0) return Synthetic::kJumpToEntry;
  const Unit* first = first_emitted();
  return first != nullptr && !unit_survives_rex_rx(source, *first) ? Synthetic::kNop : Synthetic::kNone;
}

// What a unit does to the liveness of the status flags; bindings alone, at the end, pass them.
FlagsEffect unit_flags_effect(const Unit& unit) {
  return unit.inst != nullptr ? flags_effect(unit.effects) : FlagsEffect::kPass;
}

// Whether the flags are dead before a unit with `effect`, when `dead_after` says whether they are
// dead after it.
bool flags_dead_before(FlagsEffect effect, bool dead_after) {
  return effect == FlagsEffect::kKill || (effect == FlagsEffect::kPass && dead_after);
}

// Whether arrange() finds the flags' liveness: only connectors and rewrites need it, and without
// the units' effects the flags stay live.
bool finds_flags_liveness(const PackedText& text, const HeaderLayout& layout, const LinkOptions& options) {
  return text.effects_found && (options.assume_zeroed_registers || can_swallow(layout));
}

// File size the plain path would produce, to decide whether packing is worth it.
std::uint64_t plain_file_size(const asmjit::CodeHolder& code, const HeaderLayout& layout) {
  std::uint64_t offset = layout.tail_start + code.textSection()->realSize();
  for (const Section* section : code.sectionsByOrder()) {
    if (section == code.textSection() || section->hasFlag(SectionFlags::kZeroInitialized)) continue;
    offset = align_up(offset, std::max<std::uint64_t>(section->alignment(), 1)) + section->realSize();
  }
  return std::max<std::uint64_t>(offset, layout.header_size);
}

// Where the plain path's memory image would end, bss included, give or take the page a writable
// segment may skip: the packed one ends no later.
std::uint64_t plain_memory_end(const PackSource& source, std::uint64_t plain_size, std::uint64_t base) {
  if (source.bss == nullptr) return base + plain_size + kPageSize;
  return base + align_up(plain_size, std::max<std::uint64_t>(source.bss->alignment(), 1)) + source.bss->realSize() +
         kPageSize;
}

// The units in program order and their sizes, if the whole of text was emitted through the
// recording assembler and every reference to a label can be moved. `short_addresses`: every
// address of the image is below 4 GiB, so label addresses fit in an imm32.
std::optional<PackedText> cut_units(const PackSource& source, bool short_addresses, std::pmr::memory_resource* memory) {
  const std::uint8_t* bytes = source.code.textSection()->data();
  PackedText text(memory);
  if (!cut_into_units(source.items, source.code.textSection()->bufferSize(), text.units)) return std::nullopt;
  text.input.code.reserve(text.units.size() + 1);
  for (Unit& unit : text.units) {
    CodeUnit& code = text.input.code.emplace_back(CodeUnit{unit.size, true, false});
    if (unit.inst == nullptr) continue;  // bindings at the very end
    const TextItem& item = *unit.inst;
    code.falls_through = falls_through(control_of(item.inst_id));
    if (!find_label_reference(item, bytes + item.start, unit)) return std::nullopt;
    if (short_addresses && is_label_lea(item)) {
      const Rewrite rewrite{Rewrite::Kind::kMoveAddress, static_cast<std::uint8_t>(item.operands[0].id()), 0};
      if (rewrite.size() < code.size) {  // not for lea r32 of r8d-r15d
        unit.rewrite = rewrite;
        unit.field = {};  // the address is written whole
        code.size = rewrite.size();
      }
    }
  }
  return text;
}

// The units of `text` as relax and the scheduler see them: with their sizes as planned so far and
// whether the flags are dead after each.
std::pmr::vector<InstUnit> inst_units(const PackedText& text, std::pmr::memory_resource* memory) {
  std::pmr::vector<InstUnit> units(text.units.begin(), text.units.end(), memory);
  for (std::size_t u = 0; u < units.size(); ++u) {
    units[u].size = text.input.code[u].size;
    units[u].flags_dead_after = u + 1 < units.size() ? text.input.code[u + 1].flags_dead : true;
  }
  return units;
}

// The code unit of a synthetic unit arrange() puts in front.
constexpr CodeUnit synthetic_code(Synthetic synthetic) {
  return synthetic == Synthetic::kJumpToEntry ? CodeUnit{kJmpRel32Size, false, false} : CodeUnit{1, true, false};
}

Unit jump_to_entry(std::uint32_t entry_label) {
  Unit unit;
  unit.synthetic = Synthetic::kJumpToEntry;
  unit.label_id = entry_label;
  return unit;
}

Unit synthetic_nop() {
  Unit unit;
  unit.synthetic = Synthetic::kNop;
  return unit;
}

// `text` as cut_units() gave it, its first units in `order` (indexes into `cut`), the others as
// they were.
void reorder(const PackedText& cut, const std::uint32_t* order, std::size_t ordered, PackedText& text) {
  // Copied whole, then the ordered ones overwritten: one allocation for each vector, with room
  // for the unit arrange() may put in front.
  text.units.reserve(cut.units.size() + 1);
  text.input.code.reserve(cut.units.size() + 1);
  text.units.assign(cut.units.begin(), cut.units.end());
  text.input.code.assign(cut.input.code.begin(), cut.input.code.end());
  for (std::size_t u = 0; u < ordered; ++u) {
    text.units[u] = cut.units[order[u]];
    text.input.code[u] = cut.input.code[order[u]];
  }
  text.effects_found = cut.effects_found;
}

// Completes units in their final order for the planner: the flags each connector may clobber,
// the rewrites known register values allow, and the synthetic units an overlapped file needs in
// front: a jump when the entry is not the first instruction, a nop when the first instruction
// would be changed by the REX.RX prefix "ELF" leaves.
void arrange(const PackSource& source, const HeaderLayout& layout, const LinkOptions& options, std::uint64_t entry,
             std::uint64_t base, PackedText& text, std::pmr::memory_resource* memory) {
  const std::size_t count = text.units.size();

  if (finds_flags_liveness(text, layout, options)) {
    bool dead = true;  // after the last instruction nothing runs that the program controls
    for (std::size_t u = count; u-- > 0;) {
      dead = flags_dead_before(unit_flags_effect(text.units[u]), dead);
      text.input.code[u].flags_dead = dead;
    }
  }

  if (options.assume_zeroed_registers && entry == 0) {
    // Freed in the reverse order of their allocation, so that the next order reuses the memory.
    const std::pmr::vector<InstUnit> units = inst_units(text, memory);
    const std::pmr::vector<Rewrite> rewrites = relax_known_registers(units, memory);
    for (std::size_t u = 0; u < count; ++u) {
      if (rewrites[u].kind == Rewrite::Kind::kKeep) continue;
      text.units[u].rewrite = rewrites[u];
      text.input.code[u].size = rewrites[u].size();
    }
  }

  const Synthetic front = synthetic_in_front(source, layout, entry, [&]() -> const Unit* {
    for (std::size_t u = 0; u < count; ++u)  // dropped units and bindings alone take no bytes
      if (text.input.code[u].size != 0) return &text.units[u];
    return nullptr;
  });
  if (front != Synthetic::kNone) {
    text.units.insert(text.units.begin(),
                      front == Synthetic::kJumpToEntry ? jump_to_entry(source.entry.id()) : synthetic_nop());
    text.input.code.insert(text.input.code.begin(), synthetic_code(front));
  }
  text.input.data.clear();
  for (const DataItem& item : source.data)
    text.input.data.push_back({static_cast<std::uint32_t>(item.size), static_cast<std::uint32_t>(item.align)});
  text.input.layout = &layout;
  text.input.base = base;
}

// The orders link() plans at most, program order included: 64, and fewer for longer programs, so
// that no more than about 2,048 units are planned in all (each order plans the whole program).
std::size_t max_planned_orders(std::size_t units) {
  constexpr std::size_t kOrders = 64, kUnitsPlanned = 2048;
  return std::clamp<std::size_t>(kUnitsPlanned / std::max<std::size_t>(units, 1), 1, kOrders);
}

// The orders it looks at at most: most are left unplanned, by their bound or because an order
// before gave the same planner input, and cost little.
std::size_t max_visited_orders(std::size_t units) { return 16 * max_planned_orders(units); }

// What decides the plan of an order: the units that may go into the holes (those starting within
// their bytes, and the next, whose flags a connector may clobber) and the size of all the code.
// Orders that agree on it get the same plan, so each is planned once.
class PlanKeys {
 public:
  explicit PlanKeys(std::pmr::memory_resource* memory) : keys_(memory) {}

  // Records the key of an input whose code starts with `code` (all of it, or at least the units
  // starting within `capacity` bytes and the next) and takes `code_bytes` in all; false if it was
  // recorded before. A key is packed in 64 bits: up to 8 units of 6 bits (size, falls through,
  // flags dead), their count and the total size; an input whose key does not fit is always
  // planned.
  bool add(std::span<const CodeUnit> code, std::uint64_t code_bytes, std::uint32_t capacity) {
    std::uint64_t units = 0, count = 0;
    std::uint32_t at = 0;
    for (std::size_t u = 0; u < code.size() && at <= capacity; ++u, ++count) {
      const CodeUnit& unit = code[u];
      if (unit.size >= 16 || count == 8) return true;
      units = units << 6 | unit.size << 2 | unit.falls_through << 1 | unit.flags_dead;
      at += unit.size;
    }
    const std::uint64_t total = code_bytes;
    if (total >= 2048) return true;
    const std::uint64_t key = count << 59 | total << 48 | units;
    if (std::find(keys_.begin(), keys_.end(), key) != keys_.end()) return false;
    keys_.push_back(key);
    return true;
  }

 private:
  std::pmr::vector<std::uint64_t> keys_;
};

// Plans the orders the scheduler finds (program order, planned already, first) and keeps the
// smallest file in `text` and `plan`, until one reaches the bound for any order.
class OrderSearch final : public OrderVisitor {
 public:
  OrderSearch(const PackSource& source, const HeaderLayout& layout, const LinkOptions& options, std::uint64_t entry,
              std::uint64_t base, const PackedText& cut, const HoleRoom& room, std::uint32_t any_order,
              PackPlanner& planner, PackedText& text, Plan& plan, std::pmr::memory_resource* memory)
      : source_(source), layout_(layout), options_(options), entry_(entry), base_(base), cut_(cut), room_(room),
        any_order_(any_order), planner_(planner), text_(text), plan_(plan), memory_(memory), planned_(memory),
        candidate_(memory), candidate_plan_(memory), code_bytes_(cut.input.code_bytes()),
        flags_liveness_(finds_flags_liveness(cut, layout, options)), program_dead_(memory), front_(memory) {
    planned_.add(text.input.code, text.input.code_bytes(), layout.hole_bytes());
    // Whether the flags are dead before each unit in program order (and after the last): the
    // units after those that move keep it in every order.
    program_dead_.resize(cut.units.size() + 1, true);
    for (std::size_t u = cut.units.size(); flags_liveness_ && u-- > 0;)
      program_dead_[u] = flags_dead_before(unit_flags_effect(cut.units[u]), program_dead_[u + 1]);
  }

  bool visit(const std::uint32_t* order, std::size_t movable) override {
    if (std::exchange(first_, false)) return true;  // program order
    if (!options_.assume_zeroed_registers) {
      // The sizes are the cut's whatever the order (a synthetic unit in front only takes room):
      // its bound, and what decides its plan, are known before the order is arranged, and most
      // orders give the planner an input it has seen.
      if (order_bound(order, movable) >= plan_.file_size) return true;
      const std::uint32_t code_bytes = arranged_front(order, movable);
      if (!planned_.add(front_, code_bytes, layout_.hole_bytes())) return true;  // the same plan as an order before
      if (smallest_file_bound(layout_, code_bytes, fitting_prefix(front_), room_, BoundFor::kThisOrder) >=
          plan_.file_size)
        return true;
      reorder(cut_, order, movable, candidate_);
      arrange(source_, layout_, options_, entry_, base_, candidate_, memory_);
    } else {
      reorder(cut_, order, movable, candidate_);
      arrange(source_, layout_, options_, entry_, base_, candidate_, memory_);
      if (smallest_file_bound(candidate_.input, room_, BoundFor::kThisOrder) >= plan_.file_size) return true;
      if (!planned_.add(candidate_.input.code, candidate_.input.code_bytes(), layout_.hole_bytes()))
        return true;  // the same plan as an order before
    }
    planner_.plan(candidate_.input, candidate_plan_);
    ++plans_;
    if (!candidate_plan_.chunks.empty() && candidate_plan_.file_size < plan_.file_size) {
      std::swap(text_, candidate_);
      std::swap(plan_, candidate_plan_);
    }
    return plan_.file_size > any_order_ && plans_ < max_plans_;
  }

 private:
  // smallest_file_bound() for the cut's units with the first `movable` of them in `order`.
  std::uint32_t order_bound(const std::uint32_t* order, std::size_t movable) const {
    const auto& code = cut_.input.code;
    std::uint32_t prefix = 0;
    for (std::size_t u = 0; u < code.size(); ++u) {
      const std::uint32_t size = code[u < movable ? order[u] : u].size;
      if (prefix + size > room_.room) break;
      prefix += size;
    }
    return smallest_file_bound(layout_, code_bytes_, prefix, room_, BoundFor::kThisOrder);
  }

  // Fills front_ with the code units arrange() gives the cut in `order` without
  // assume_zeroed_registers, as far as PlanKeys::add() reads them (the units starting within the
  // holes' bytes and the next), and returns the bytes of all of its code.
  std::uint32_t arranged_front(const std::uint32_t* order, std::size_t movable) {
    const auto& code = cut_.input.code;
    const auto from = [&](std::size_t u) { return u < movable ? order[u] : static_cast<std::uint32_t>(u); };
    std::uint64_t dead = 0;  // bit u: the flags are dead before the unit moved to u (at most 64 move)
    bool dead_after = program_dead_[movable] != 0;
    for (std::size_t u = movable; flags_liveness_ && u-- > 0;) {
      dead_after = flags_dead_before(unit_flags_effect(cut_.units[order[u]]), dead_after);
      dead |= std::uint64_t{dead_after} << u;
    }
    front_.clear();
    std::uint32_t code_bytes = code_bytes_, at = 0;
    const Synthetic front = synthetic_in_front(source_, layout_, entry_, [&]() -> const Unit* {
      for (std::size_t u = 0; u < code.size(); ++u)  // bindings alone take no bytes
        if (code[from(u)].size != 0) return &cut_.units[from(u)];
      return nullptr;
    });
    if (front != Synthetic::kNone) front_.push_back(synthetic_code(front));
    if (!front_.empty()) {
      at = front_.back().size;
      code_bytes += at;
    }
    const std::uint32_t capacity = layout_.hole_bytes();
    for (std::size_t u = 0; u < code.size() && at <= capacity; ++u) {
      CodeUnit& unit = front_.emplace_back(code[from(u)]);
      if (flags_liveness_) unit.flags_dead = u < movable ? ((dead >> u) & 1) != 0 : program_dead_[u] != 0;
      at += unit.size;
    }
    return code_bytes;
  }

  // The bytes of the longest prefix of `code` that fits in the holes' room.
  std::uint32_t fitting_prefix(std::span<const CodeUnit> code) const {
    std::uint32_t prefix = 0;
    for (const CodeUnit& unit : code) {
      if (prefix + unit.size > room_.room) break;
      prefix += unit.size;
    }
    return prefix;
  }

  const PackSource& source_;
  const HeaderLayout& layout_;
  const LinkOptions& options_;
  const std::uint64_t entry_;
  const std::uint64_t base_;
  const PackedText& cut_;
  const HoleRoom& room_;
  const std::uint32_t any_order_;
  PackPlanner& planner_;  // its working memory kept from one plan to the next
  PackedText& text_;
  Plan& plan_;
  std::pmr::memory_resource* memory_;
  PlanKeys planned_;
  PackedText candidate_;
  Plan candidate_plan_;
  const std::uint32_t code_bytes_;  // of the cut, whatever the order
  const bool flags_liveness_;       // arrange() finds the flags' liveness
  std::pmr::vector<std::uint8_t> program_dead_;  // [u]: the flags are dead before unit u in program order
  std::pmr::vector<CodeUnit> front_;             // arranged_front()'s
  const std::size_t max_plans_ = max_planned_orders(cut_.units.size());
  std::size_t plans_ = 1;  // program order's
  bool first_ = true;
};

// Where the data items of `section` end in it.
std::size_t data_end(const PackSource& source, const Section* section) {
  std::size_t end = 0;
  for (const DataItem& item : source.data)
    if (item.section == section) end = std::max(end, item.offset + item.size);
  return end;
}

// Whether the writer can patch `relocation` (lib/packed_writer.cpp): an absolute address
// (AsmJit's kRelToAbs: a section offset plus the base address; kAbsToAbs: a fixed value) of 4 or
// 8 bytes written into rodata or data.
bool movable_relocation(const PackSource& source, const asmjit::RelocEntry& relocation) {
  using asmjit::RelocType;
  if (relocation.relocType() == RelocType::kNone) return true;
  if (relocation.relocType() != RelocType::kRelToAbs && relocation.relocType() != RelocType::kAbsToAbs) return false;
  const std::uint32_t size = relocation.format().valueSize();
  if (size != 4 && size != 8) return false;
  const auto in = [&](const Section* section) { return section != nullptr && section->id() == relocation.sourceSectionId(); };
  return in(source.rodata) || in(source.data_section);
}

bool fits_in_one_hole(const PlanInput& input, const HeaderLayout& layout) {
  const std::uint32_t bytes = input.code_bytes();
  return std::any_of(layout.holes.begin(), layout.holes.end(), [&](const Hole& hole) { return bytes <= hole.size(); });
}

}  // namespace

std::optional<LinkedFile> link_packed(const PackSource& source, const LinkDecisions& decided,
                                      const LinkOptions& options, std::uint64_t program_entry) {
  const HeaderLayout& layout = decided.layout;
  const std::uint64_t base = decided.base;
  asmjit::CodeHolder& code = source.code;
  // Text and the Program's own data sections only: a section created through code() is not moved.
  const std::size_t sections = 1 + (source.rodata != nullptr) + (source.data_section != nullptr) + (source.bss != nullptr);
  if (code.sectionCount() != sections) return std::nullopt;
  // The data items must hold every byte of rodata and data: the writer copies nothing else.
  if (source.rodata != nullptr && source.rodata->bufferSize() != data_end(source, source.rodata)) return std::nullopt;
  if (source.data_section != nullptr && source.data_section->bufferSize() != data_end(source, source.data_section))
    return std::nullopt;
  // Absolute addresses (an embedded label, the dynamic tables' addresses) are patched by the
  // writer where they lie in data; one in text, or of another kind, is not moved.
  for (const asmjit::RelocEntry* relocation : code.relocEntries())
    if (!movable_relocation(source, *relocation)) return std::nullopt;

  // Small programs plan and write within this buffer; bigger ones spill to the heap.
  alignas(std::max_align_t) std::array<std::byte, 8192> buffer;
  ScratchMemory memory(buffer.data(), buffer.size());

  const std::uint64_t plain_size = plain_file_size(code, layout);
  // An ET_DYN file's addresses are known only at exec.
  const bool short_addresses =
      decided.type == ET_EXEC && plain_memory_end(source, plain_size, base) <= k32BitAddresses;
  std::optional<PackedText> text = cut_units(source, short_addresses, &memory);
  if (!text) return std::nullopt;
  // Code that fits in one hole needs no connector, so neither the flags' liveness nor another
  // order: the effects are found here only for connectors and rewrites. The scheduler, which
  // tries the other orders, finds those it reads when nothing else needed them.
  const bool fits = fits_in_one_hole(text->input, layout);
  if (options.assume_zeroed_registers || (!fits && can_swallow(layout))) {
    find_effects(text->units);
    text->effects_found = true;
  }
  // Program order as cut, kept for trying other orders unless all the code fits in one hole,
  // where no order can do better.
  std::optional<PackedText> cut;
  if (!fits) {
    // Copied member by member: a copied pmr::vector would take the default resource, the heap.
    cut.emplace(&memory);
    cut->units.assign(text->units.begin(), text->units.end());
    cut->input.code.assign(text->input.code.begin(), text->input.code.end());
    cut->effects_found = text->effects_found;
  }
  arrange(source, layout, options, program_entry, base, *text, &memory);
  PackPlanner planner(&memory);
  Plan plan(&memory);
  planner.plan(text->input, plan);

  // When program order leaves code after the headers, other orders of the start of the program
  // may fill the holes better. None can pass the bound for any order, which holds for the sizes
  // of program order: with assume_zeroed_registers the rewrites, and so the sizes, depend on the
  // order, and only each order's own bound counts. An order is planned only when its own bound
  // is below the best file so far.
  if (cut && !plan.chunks.empty() && plan.chunks.back().in_tail) {
    const std::uint32_t nop = text->units.front().synthetic == Synthetic::kNop ? 1 : 0;  // another order may not need it
    const HoleRoom room = hole_room(text->input);
    const std::uint32_t bound = smallest_file_bound(text->input, room, BoundFor::kAnyOrder);
    const std::uint32_t any_order = options.assume_zeroed_registers || bound <= nop ? 0 : bound - nop;
    if (plan.file_size > any_order) {
      OrderSearch search(source, layout, options, program_entry, base, *cut, room, any_order, planner, *text, plan,
                         &memory);
      visit_orders(inst_units(*cut, &memory), layout.hole_bytes(), max_visited_orders(cut->units.size()), search);
    }
  }
  if (plan.chunks.empty() || plan.file_size > plain_size) return std::nullopt;
  return write_packed(source, *text, plan, decided, options, program_entry, &memory);
}

}  // namespace tinyelf::detail
