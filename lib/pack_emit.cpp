// The packed path of Program::link: the recorded text cut into units, planned over the header
// holes (lib/pack.cpp), and emitted again at the planned offsets into a scratch CodeHolder whose
// text section is the whole file.
#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "asmjit_p.hpp"
#include "link_p.hpp"
#include "pack_p.hpp"
#include "relax_p.hpp"

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

enum class Synthetic : std::uint8_t { kNone, kJumpToEntry, kNop };

struct Unit {
  std::uint32_t first_item = 0;  // items [first_item, end_item): bindings, then one instruction
  std::uint32_t end_item = 0;
  Synthetic synthetic = Synthetic::kNone;
  Rewrite rewrite;  // LinkOptions::assume_zeroed_registers
};

constexpr asmjit::CpuRWFlags kStatusFlags = asmjit::CpuRWFlags::kX86_CF | asmjit::CpuRWFlags::kX86_PF |
                                            asmjit::CpuRWFlags::kX86_AF | asmjit::CpuRWFlags::kX86_ZF |
                                            asmjit::CpuRWFlags::kX86_SF | asmjit::CpuRWFlags::kX86_OF;

bool transfers_control(asmjit::InstId id) {
  namespace Inst = x86::Inst;
  return id == Inst::kIdJmp || id == Inst::kIdCall || id == Inst::kIdRet || id == Inst::kIdLoop ||
         id == Inst::kIdLoope || id == Inst::kIdLoopne || id == Inst::kIdJecxz;
}

// Whether the status flags are dead just before `item`, given whether they are dead after it.
bool flags_dead_before(const TextItem& item, bool dead_after) {
  if (item.inst_id == x86::Inst::kIdSyscall) return dead_after;  // the kernel restores rflags from r11
  asmjit::InstRWInfo rw;
  const asmjit::BaseInst inst(item.inst_id, item.options, item.extra_reg);
  std::size_t count = 0;
  while (count < 6 && !item.operands[count].isNone()) ++count;
  if (asmjit::InstAPI::queryRWInfo(asmjit::Arch::kX64, inst, item.operands, count, &rw) != asmjit::kErrorOk)
    return false;
  if ((rw.readFlags() & kStatusFlags) != asmjit::CpuRWFlags::kNone) return false;
  if ((rw.writeFlags() & kStatusFlags) == kStatusFlags) return true;
  if (transfers_control(item.inst_id)) return false;  // the flags may be read where it goes
  return dead_after;
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

// An address of the image cannot reach this: above it, label addresses need more than 32 bits.
constexpr std::uint64_t k32BitAddresses = std::uint64_t{1} << 32;

// The units, if the whole of text was emitted through the recording assembler.
std::optional<std::vector<Unit>> cut_units(const PackSource& source) {
  const auto& items = source.items;
  std::vector<Unit> units;
  std::size_t covered = 0;
  std::uint32_t first = 0;
  for (std::uint32_t i = 0; i < items.size(); ++i) {
    if (items[i].start != covered) return std::nullopt;  // bytes from elsewhere (align, embed, Compiler)
    covered = items[i].end;
    if (items[i].inst_id != x86::Inst::kIdNone) {
      units.push_back({first, i + 1, Synthetic::kNone, {}});
      first = i + 1;
    }
  }
  if (covered != source.code.textSection()->bufferSize() || units.empty()) return std::nullopt;
  if (first != items.size()) units.push_back({first, static_cast<std::uint32_t>(items.size()), Synthetic::kNone, {}});
  return units;
}

struct PackedText {
  std::vector<Unit> units;
  PlanInput input;
};

// Whether two holes, or the last hole and the tail, are 4 fixed bytes apart.
bool can_swallow(const HeaderLayout& layout) {
  for (std::size_t h = 0; h < layout.holes.size(); ++h) {
    const std::uint32_t next = h + 1 < layout.holes.size() ? layout.holes[h + 1].start : layout.tail_start;
    if (next == layout.holes[h].end + kSwallowedSize) return true;
  }
  return false;
}

// Whether the first instruction that will be emitted is one "ELF"'s REX.RX prefix leaves alone.
bool first_instruction_survives_rex_rx(const PackSource& source, const PackedText& text) {
  for (std::size_t u = 0; u < text.units.size(); ++u) {
    if (text.input.code[u].size == 0) continue;  // dropped, or bindings only
    const Unit& unit = text.units[u];
    if (unit.rewrite.kind == Rewrite::Kind::kMoveByte || unit.rewrite.kind == Rewrite::Kind::kMoveAddress)
      return true;  // B0+r ib or B8+r id, or a REX prefix first
    return survives_rex_rx(source.code.textSection()->data() + source.items[unit.end_item - 1].start);
  }
  return true;
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

// Where the plain path's memory image would end, bss included: the packed one ends no later.
std::uint64_t plain_memory_end(const PackSource& source, std::uint64_t plain_size, std::uint64_t base) {
  std::uint64_t end = base + plain_size;
  if (source.bss != nullptr)
    end = align_up(end, std::max<std::uint64_t>(source.bss->alignment(), 1)) + source.bss->virtualSize();
  return end;
}

// Units and their sizes for the planner, with the synthetic units an overlapped file needs in
// front: a jump when the entry is not the first instruction, a nop when the first instruction
// would be changed by the REX.RX prefix "ELF" leaves. `short_addresses`: every address of the
// image is below 4 GiB, so label addresses fit in an imm32.
std::optional<PackedText> describe(const PackSource& source, const HeaderLayout& layout, const LinkOptions& options,
                                   std::uint64_t entry, std::uint64_t base, bool short_addresses) {
  std::optional<std::vector<Unit>> units = cut_units(source);
  if (!units) return std::nullopt;
  const auto& items = source.items;
  PackedText text;
  text.units = std::move(*units);
  text.input.code.resize(text.units.size());
  // Flag liveness costs a query per instruction; only swallowing connectors and the zeroed-register
  // rewrites need it.
  const bool need_flags = options.assume_zeroed_registers || can_swallow(layout);
  bool dead = true;  // after the last instruction nothing runs that the program controls
  for (std::size_t u = text.units.size(); u-- > 0;) {
    const TextItem& last = items[text.units[u].end_item - 1];
    CodeUnit& unit = text.input.code[u];
    if (last.inst_id != x86::Inst::kIdNone) {
      unit.size = static_cast<std::uint32_t>(last.end - items[text.units[u].first_item].start);
      unit.falls_through = last.inst_id != x86::Inst::kIdJmp && last.inst_id != x86::Inst::kIdRet;
      dead = need_flags && flags_dead_before(last, dead);
    }
    unit.flags_dead = dead;
  }

  if (options.assume_zeroed_registers && entry == 0) {
    std::vector<RelaxUnit> relax(text.units.size());
    for (std::size_t u = 0; u < text.units.size(); ++u) {
      const Unit& unit = text.units[u];
      const TextItem& last = items[unit.end_item - 1];
      relax[u] = {last.inst_id != x86::Inst::kIdNone ? &last : nullptr, items[unit.first_item].inst_id == x86::Inst::kIdNone,
                  u + 1 < text.units.size() ? text.input.code[u + 1].flags_dead : true, text.input.code[u].size};
    }
    const std::vector<Rewrite> rewrites = relax_known_registers(relax);
    for (std::size_t u = 0; u < text.units.size(); ++u) {
      text.units[u].rewrite = rewrites[u];
      if (rewrites[u].kind != Rewrite::Kind::kKeep) text.input.code[u].size = rewrites[u].size();
    }
  }

  if (short_addresses) {
    for (std::size_t u = 0; u < text.units.size(); ++u) {
      Unit& unit = text.units[u];
      const TextItem& last = items[unit.end_item - 1];
      if (unit.rewrite.kind != Rewrite::Kind::kKeep || !is_label_lea(last)) continue;
      const Rewrite rewrite{Rewrite::Kind::kMoveAddress, last.operands[0].id(), 0};
      if (rewrite.size() >= text.input.code[u].size) continue;  // lea r32 of r8d-r15d: no gain
      unit.rewrite = rewrite;
      text.input.code[u].size = rewrite.size();
    }
  }

  if (layout.entry_is_fixed) {
    if (entry != 0) {
      text.units.insert(text.units.begin(), {0, 0, Synthetic::kJumpToEntry, {}});
      text.input.code.insert(text.input.code.begin(), {5, false, false});  // jmp rel32
    } else if (!first_instruction_survives_rex_rx(source, text)) {
      text.units.insert(text.units.begin(), {0, 0, Synthetic::kNop, {}});
      text.input.code.insert(text.input.code.begin(), {1, true, false});
    }
  }
  for (const DataItem& item : source.data)
    text.input.data.push_back({static_cast<std::uint32_t>(item.size), static_cast<std::uint32_t>(item.align)});
  text.input.layout = &layout;
  text.input.base = base;
  return text;
}

// Thrown inside the packed path when the emitted code does not match the plan; link() then takes
// the plain path.
struct PlanMismatch {};

class PackedEmitter {
 public:
  PackedEmitter(const PackSource& source, const PackedText& text, const Plan& plan, const HeaderLayout& layout)
      : source_(source), text_(text), plan_(plan), layout_(layout) {
    check_asmjit(scratch_.init(asmjit::Environment(asmjit::Arch::kX64)), "initialize the packing code holder");
    scratch_.setErrorHandler(&error_handler_);
    check_asmjit(scratch_.attach(&a_), "attach the packing assembler");
    // Same label ids as the program, so recorded operands mean the same labels here.
    for (std::uint32_t i = 0; i < source.code.labelCount(); ++i) {
      asmjit::LabelEntry* entry = nullptr;
      check_asmjit(scratch_.newLabelEntry(&entry), "create a label");
    }
    for (std::size_t i = 0; i < plan.chunks.size(); ++i) chunk_labels_.push_back(a_.newLabel());
  }

  // Emits the file's bytes (headers as zeros) into the scratch text section. Returns the scratch
  // CodeHolder, ready to be placed.
  asmjit::CodeHolder& emit() {
    add_bss();
    struct Piece {
      std::uint32_t offset;
      std::size_t chunk;  // or a data item when >= chunks
    };
    std::vector<Piece> pieces;
    for (std::size_t c = 0; c < plan_.chunks.size(); ++c) pieces.push_back({plan_.chunks[c].offset, c});
    for (std::size_t d = 0; d < plan_.data_at.size(); ++d) pieces.push_back({plan_.data_at[d], plan_.chunks.size() + d});
    std::stable_sort(pieces.begin(), pieces.end(), [](const Piece& x, const Piece& y) { return x.offset < y.offset; });
    for (const Piece& piece : pieces) {
      pad_to(piece.offset);
      if (piece.chunk < plan_.chunks.size()) {
        emit_chunk(piece.chunk);
      } else {
        emit_data(piece.chunk - plan_.chunks.size());
      }
      claim(piece, static_cast<std::uint32_t>(a_.offset()));
    }
    if (a_.offset() < layout_.header_size) pad_to(layout_.header_size);  // the headers must be whole
    return scratch_;
  }

  // File offset where execution starts.
  std::uint64_t entry_offset(std::uint64_t program_entry) const {
    if (program_entry == 0 || layout_.entry_is_fixed) return scratch_.labelOffset(chunk_labels_.front());
    return scratch_.labelOffset(source_.entry);
  }

  // The code and data pieces, in file order, with the header fields they reuse.
  std::vector<Region>& contents() { return contents_; }

  // Writes each label address the packed code holds as an imm32, once the sections are placed.
  void patch_addresses(std::vector<std::uint8_t>& file, std::uint64_t base) const {
    for (const AbsoluteAddress& at : addresses_) {
      const std::uint64_t address = base + scratch_.labelOffsetFromBase(at.label_id) + at.displacement;
      if (address >= k32BitAddresses) throw PlanMismatch{};
      const auto value = static_cast<std::uint32_t>(address);
      std::memcpy(&file[at.offset], &value, sizeof value);  // x86 is little-endian, like the imm32
    }
  }

 private:
  void add_bss() {
    if (source_.bss == nullptr || source_.bss->realSize() == 0) return;
    Section* bss = nullptr;
    check_asmjit(scratch_.newSection(&bss, ".bss", SIZE_MAX, SectionFlags::kZeroInitialized,
                                     std::max<std::uint32_t>(source_.bss->alignment(), 1), 3),
                 "create .bss");
    bss->setVirtualSize(source_.bss->virtualSize());
    for (const asmjit::LabelEntry* label : source_.code.labelEntries())
      if (label->section() == source_.bss)
        check_asmjit(scratch_.bindLabel(Label(label->id()), bss->id(), label->offset()), "bind a bss label");
  }

  void pad_to(std::uint32_t offset) {
    static constexpr std::uint8_t kZeros[64] = {};
    if (a_.offset() > offset) throw PlanMismatch{};
    while (a_.offset() < offset) a_.embed(kZeros, std::min<std::size_t>(sizeof(kZeros), offset - a_.offset()));
  }

  // Records the bytes a piece of code or data took.
  template <typename Piece>
  void claim(const Piece& piece, std::uint32_t to) {
    const std::uint32_t from = piece.offset;
    const bool is_code = piece.chunk < plan_.chunks.size();
    const Hole* hole = nullptr;
    for (const Hole& h : layout_.holes)
      if (h.start <= from && from < h.end) hole = &h;
    const std::string_view what =
        is_code ? "text"
                : region_name(source_.data[piece.chunk - plan_.chunks.size()].section, source_.rodata, source_.data_section);
    contents_.push_back({from, to - from, is_code ? RegionKind::kCode : RegionKind::kData, what,
                         hole ? std::string_view(hole->field) : std::string_view()});
  }

  const Hole* hole_at(std::uint32_t offset) const {
    for (const Hole& hole : layout_.holes)
      if (hole.start == offset) return &hole;
    return nullptr;
  }

  void emit_chunk(std::size_t c) {
    const Chunk& chunk = plan_.chunks[c];
    a_.bind(chunk_labels_[c]);
    for (std::uint32_t u = chunk.first; u < chunk.end; ++u) emit_unit(text_.units[u], text_.input.code[u].size);
    const Hole* hole = chunk.in_tail ? nullptr : hole_at(chunk.offset);
    switch (chunk.connector) {
      case Connector::kNone: break;
      case Connector::kJump: a_.short_().jmp(chunk_labels_[c + 1]); break;
      case Connector::kSwallow: {
        if (hole == nullptr || a_.offset() >= hole->end) throw PlanMismatch{};
        while (a_.offset() < hole->end - kSwallowSize) a_.nop();
        a_.db(0x3D);  // cmp eax, imm32: the next 4 fixed header bytes are its immediate
        break;
      }
    }
    if (hole != nullptr && a_.offset() > hole->end) throw PlanMismatch{};
  }

  void emit_unit(const Unit& unit, std::uint32_t planned_size) {
    const std::size_t start = a_.offset();
    switch (unit.synthetic) {
      case Synthetic::kJumpToEntry: a_.long_().jmp(source_.entry); break;
      case Synthetic::kNop: a_.nop(); break;
      case Synthetic::kNone:
        for (std::uint32_t i = unit.first_item; i < unit.end_item; ++i) {
          const TextItem& item = source_.items[i];
          if (item.inst_id == x86::Inst::kIdNone) {
            a_.bind(Label(item.label_id));
          } else if (unit.rewrite.kind == Rewrite::Kind::kMoveByte) {
            a_.mov(x86::gpb_lo(unit.rewrite.reg), unit.rewrite.value);
          } else if (unit.rewrite.kind == Rewrite::Kind::kMoveAddress) {
            a_.mov(x86::gpd(unit.rewrite.reg), 0);  // the address goes in by patch_addresses()
            const x86::Mem& mem = item.operands[1].as<x86::Mem>();
            addresses_.push_back({static_cast<std::uint32_t>(a_.offset() - 4), mem.baseId(), mem.offset()});
          } else if (unit.rewrite.kind == Rewrite::Kind::kKeep) {
            a_.emitInst(asmjit::BaseInst(item.inst_id, item.options, item.extra_reg), item.operands, 6);
          }
        }
        break;
    }
    // A size change (a jump whose target moved out of rel8 reach) would break the plan.
    if (a_.offset() - start != planned_size) throw PlanMismatch{};
  }

  void emit_data(std::size_t d) {
    const DataItem& item = source_.data[d];
    a_.bind(Label(item.label_id));
    if (item.size != 0) a_.embed(item.section->data() + item.offset, item.size);
  }

  const PackSource& source_;
  const PackedText& text_;
  const Plan& plan_;
  const HeaderLayout& layout_;
  asmjit::CodeHolder scratch_;
  ThrowOnAsmJitError error_handler_;
  x86::Assembler a_;
  std::vector<Label> chunk_labels_;
  std::vector<Region> contents_;
  struct AbsoluteAddress {
    std::uint32_t offset;  // of the imm32 in the file
    std::uint32_t label_id;
    std::int64_t displacement;
  };
  std::vector<AbsoluteAddress> addresses_;
};

}  // namespace

std::optional<LinkedFile> link_packed(const PackSource& source, const HeaderLayout& layout, const LinkOptions& options,
                                      std::uint64_t program_entry) {
  asmjit::CodeHolder& code = source.code;
  // Text and the Program's own data sections only: a section created through code() is not moved.
  const std::size_t sections = 1 + (source.rodata != nullptr) + (source.data_section != nullptr) + (source.bss != nullptr);
  if (code.sectionCount() != sections) return std::nullopt;
  std::size_t data_labels = 0;
  for (const asmjit::LabelEntry* label : code.labelEntries())
    if (label->isBound() && label->section() != code.textSection() && label->section() != source.bss) ++data_labels;
  if (data_labels != source.data.size()) return std::nullopt;  // labels inside data we cannot see

  const bool writable = has_writable(code);
  const std::uint64_t base = base_for(layout, options, writable);
  const std::uint64_t plain_size = plain_file_size(code, layout);
  const bool short_addresses = plain_memory_end(source, plain_size, base) <= k32BitAddresses;
  const std::optional<PackedText> text = describe(source, layout, options, program_entry, base, short_addresses);
  if (!text) return std::nullopt;
  const Plan plan = plan_packing(text->input);
  if (plan.chunks.empty() || plan.file_size > plain_size) return std::nullopt;

  try {
    PackedEmitter emitter(source, *text, plan, layout);
    asmjit::CodeHolder& packed = emitter.emit();
    const Placement placement = place_sections(packed, 0, layout.header_size, base, options);
    HeaderValues values{base, base + emitter.entry_offset(program_entry), placement.file_size,
                                placement.memory_size, writable};
    std::vector<std::uint8_t> file = build_file(packed, placement, layout, values, emitter.contents());
    emitter.patch_addresses(file, base);
    return LinkedFile{std::move(file), layout.entry_is_fixed ? base + 1 : values.entry, std::move(emitter.contents())};
  } catch (const PlanMismatch&) {
    return std::nullopt;
  } catch (const Error& error) {
    if (error.code() == ErrorCode::kImageTooLarge) throw;
    return std::nullopt;  // AsmJit refused a re-emitted instruction (a rel8 out of reach): go plain
  }
}

}  // namespace tinyelf::detail
