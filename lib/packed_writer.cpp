// write_packed: the labels placed at their planned offsets, then each chunk written (runs of
// units kept as emitted copied at once, their displacements patched; rewritten and synthetic
// units written anew), the data, and the headers over every byte nothing else took.
#include <algorithm>
#include <cstring>
#include <optional>

#include "asmjit_p.hpp"
#include "elf_p.hpp"
#include "packed_writer_p.hpp"

namespace tinyelf::detail {

using asmjit::Section;
namespace x86 = asmjit::x86;

namespace {

// Thrown while writing when the plan cannot be written as planned (a rel8 out of reach, a label
// the packer has not placed); link() then takes the plain path.
struct CannotPack {};

// Writes the planned file: code and data at their offsets, displacements to labels rewritten,
// the headers over every byte nothing else took.
class PackedWriter {
 public:
  PackedWriter(const PackSource& source, const PackedText& text, const Plan& plan, const HeaderLayout& layout,
               std::uint64_t base, std::pmr::memory_resource* memory)
      : source_(source), text_(text), plan_(plan), layout_(layout), base_(base),
        segments_(plan_segments(layout, shape())), label_at_(source.code.labelCount(), kUnplaced, memory) {
    place();
  }

  std::uint64_t file_size() const noexcept { return plan_.file_size; }
  std::uint64_t memory_size() const noexcept { return segments_.memory_end; }
  const SegmentPlan& segments() const noexcept { return segments_; }

  // File offset where execution starts.
  std::uint64_t entry_offset(std::uint64_t program_entry) const {
    if (program_entry == 0 || layout_.entry_is_fixed) return plan_.chunks.front().offset;
    return placed(source_.entry.id());
  }

  // Where the `size` bytes at a label of data are, for PT_INTERP and PT_DYNAMIC.
  FilePiece piece_at(asmjit::Label label, std::uint64_t size) const {
    const asmjit::LabelEntry* entry = source_.code.labelEntry(label);
    const std::optional<FilePiece> piece = data_piece(entry->section(), entry->offset());
    if (!piece || piece->size < size) throw CannotPack{};
    return {piece->offset, piece->address, size};
  }

  // The file, with the headers as `values` describe them; `contents` receives its code and data
  // pieces in file order, with the header fields they reuse.
  std::vector<std::uint8_t> write(const HeaderValues& values, std::vector<Region>& contents) const {
    std::vector<std::uint8_t> file(plan_.file_size);
    contents.reserve(plan_.chunks.size() + plan_.data_at.size());
    for (const Chunk& chunk : plan_.chunks) {
      const std::uint64_t end = write_chunk(chunk, file.data());
      contents.push_back({chunk.offset, end - chunk.offset, RegionKind::kCode, "text", {}});
    }
    for (std::size_t d = 0; d < plan_.data_at.size(); ++d) {
      const DataItem& item = source_.data[d];
      if (item.size != 0) std::memcpy(&file[plan_.data_at[d]], item.section->data() + item.offset, item.size);
      contents.push_back({plan_.data_at[d], item.size, RegionKind::kData,
                          region_name(item.section, source_.rodata, source_.data_section), {}});
    }
    if (!source_.code.relocEntries().empty()) patch_relocations(file.data());
    // Chunks come in execution order and data after them: mostly sorted already.
    const auto by_offset = [](const Region& x, const Region& y) { return x.offset < y.offset; };
    if (!std::is_sorted(contents.begin(), contents.end(), by_offset))
      std::sort(contents.begin(), contents.end(), by_offset);
    write_headers(file.data(), layout_, values, contents);
    return file;
  }

 private:
  static constexpr std::uint64_t kUnplaced = ~std::uint64_t{0};

  bool is_writable(const DataItem& item) const noexcept { return item.section != source_.rodata; }

  // Where the read-only part of the file ends and the writable part starts, for the segments.
  FileShape shape() const {
    FileShape shape;
    shape.file_size = plan_.file_size;
    shape.read_only_end = layout_.header_size;  // the holes are inside the headers
    for (const Chunk& chunk : plan_.chunks) {
      if (!chunk.in_tail) continue;
      std::uint64_t end = chunk.offset;  // the last chunk: no connector after it
      for (std::uint32_t u = chunk.first; u < chunk.end; ++u) end += text_.input.code[u].size;
      shape.read_only_end = std::max(shape.read_only_end, end);
    }
    shape.writable_start = plan_.file_size;
    for (std::size_t d = 0; d < plan_.data_at.size(); ++d) {
      const DataItem& item = source_.data[d];
      if (item.size == 0) continue;
      if (!is_writable(item)) {
        shape.read_only_end = std::max<std::uint64_t>(shape.read_only_end, plan_.data_at[d] + item.size);
      } else {
        shape.has_data = true;
        shape.writable_start = std::min<std::uint64_t>(shape.writable_start, plan_.data_at[d]);
      }
    }
    if (source_.bss != nullptr) {
      shape.bss_size = source_.bss->realSize();
      shape.bss_align = std::max<std::uint64_t>(source_.bss->alignment(), 1);
    }
    return shape;
  }

  // Gives every label its offset from the base address.
  void place() {
    if (label_at_.empty()) return;  // a program without labels
    for (const Chunk& chunk : plan_.chunks) {
      std::uint64_t at = chunk.offset;
      for (std::uint32_t u = chunk.first; u < chunk.end; ++u) {
        const Unit& unit = text_.units[u];
        for (std::uint32_t i = unit.first_item; i < unit.end_item; ++i)
          if (source_.items[i].inst_id == x86::Inst::kIdNone) label_at_[source_.items[i].label_id()] = at;
        at += text_.input.code[u].size;
      }
    }
    for (std::size_t d = 0; d < plan_.data_at.size(); ++d) {
      const DataItem& item = source_.data[d];
      label_at_[item.label_id] = plan_.data_at[d] + (is_writable(item) ? segments_.writable_shift : 0);
    }
    // The labels of bss, and the other labels of data: inside an item (at their distance from its
    // start), such as the dynamic tables' or those a second assembler binds.
    for (const asmjit::LabelEntry* label : source_.code.labelEntries()) {
      if (!label->isBound() || label->section() == source_.code.textSection() || label_at_[label->id()] != kUnplaced)
        continue;
      if (const std::optional<std::uint64_t> at = address_of(label->section(), label->offset()))
        label_at_[label->id()] = *at;
    }
  }

  // Where byte `offset` of `section` is, in the file and from the base address, and how many
  // bytes of its data item follow; a label just past an item that no other item holds belongs to it.
  std::optional<FilePiece> data_piece(const Section* section, std::uint64_t offset) const {
    std::optional<FilePiece> at_end;
    for (std::size_t d = 0; d < plan_.data_at.size(); ++d) {
      const DataItem& item = source_.data[d];
      if (item.section != section || offset < item.offset || offset > item.offset + item.size) continue;
      const std::uint64_t at = plan_.data_at[d] + (offset - item.offset);
      const FilePiece piece{at, at + (is_writable(item) ? segments_.writable_shift : 0),
                            item.offset + item.size - offset};
      if (piece.size != 0) return piece;
      at_end = piece;
    }
    return at_end;
  }

  // Where byte `offset` of a data section or bss is now, from the base address.
  std::optional<std::uint64_t> address_of(const Section* section, std::uint64_t offset) const {
    if (section == source_.bss) return segments_.bss_at + offset;
    if (const std::optional<FilePiece> piece = data_piece(section, offset)) return piece->address;
    return std::nullopt;
  }

  // Where byte `offset` of text is now: the unit that starts there.
  std::uint64_t text_address(std::uint64_t offset) const {
    for (const Chunk& chunk : plan_.chunks) {
      std::uint64_t at = chunk.offset;
      for (std::uint32_t u = chunk.first; u < chunk.end; ++u) {
        const Unit& unit = text_.units[u];
        if (unit.first_item != unit.end_item && source_.items[unit.first_item].start == offset) return at;
        at += text_.input.code[u].size;
      }
    }
    throw CannotPack{};
  }

  // Writes every absolute address AsmJit recorded (link_packed() let through only those in data,
  // kRelToAbs or kAbsToAbs, of 4 or 8 bytes) for where its target now is, as relocateToBase()
  // does for the plain path.
  void patch_relocations(std::uint8_t* file) const {
    asmjit::CodeHolder& code = source_.code;
    for (const asmjit::RelocEntry* relocation : code.relocEntries()) {
      if (relocation->relocType() == asmjit::RelocType::kNone) continue;
      const std::optional<FilePiece> source =
          data_piece(code.sectionById(relocation->sourceSectionId()), relocation->sourceOffset());
      const asmjit::OffsetFormat& format = relocation->format();
      if (!source || source->size < format.regionSize()) throw CannotPack{};
      std::uint64_t value = relocation->payload();  // kAbsToAbs: the address itself
      if (relocation->relocType() == asmjit::RelocType::kRelToAbs) {
        const Section* target = code.sectionById(relocation->targetSectionId());
        if (target == nullptr) throw CannotPack{};
        const std::optional<std::uint64_t> at = target == code.textSection()
                                                    ? std::optional(text_address(value))
                                                    : address_of(target, value);
        if (!at) throw CannotPack{};
        value = base_ + *at;
      }
      const std::uint32_t size = format.valueSize();
      if (size < 8 && value >> (8 * size) != 0) throw CannotPack{};  // the plain path reports it
      std::memcpy(file + source->offset + format.valueOffset(), &value, size);  // little-endian, like the host
    }
  }

  std::uint64_t placed(std::uint32_t label_id) const {
    if (label_id >= label_at_.size() || label_at_[label_id] == kUnplaced) throw CannotPack{};
    return label_at_[label_id];
  }

  // Writes the chunk's units and connector; returns the offset just past them.
  std::uint64_t write_chunk(const Chunk& chunk, std::uint8_t* file) const {
    std::uint64_t at = chunk.offset;
    const Unit* const units = text_.units.data();
    for (std::uint32_t u = chunk.first; u < chunk.end;) {
      if (!is_copied(units[u])) {
        at += write_unit(u, file, at);
        ++u;
        continue;
      }
      // Units kept as emitted that follow each other in text as in the file: one copy, then the
      // displacements to labels.
      std::uint32_t end = u + 1;
      while (end < chunk.end && is_copied(units[end]) && units[end].first_item == units[end - 1].end_item) ++end;
      const std::uint32_t from = source_.items[units[u].first_item].start;
      const std::uint32_t to = source_.items[units[end - 1].end_item - 1].end;
      std::memcpy(file + at, source_.code.textSection()->data() + from, to - from);
      for (; u < end; ++u)
        if (units[u].field.size != 0) patch_displacement(u, file, at + source_.items[units[u].first_item].start - from);
      at += to - from;
    }
    const Hole* hole = nullptr;
    if (!chunk.in_tail)
      for (const Hole& h : layout_.holes)
        if (h.start == chunk.offset) hole = &h;
    switch (chunk.connector) {
      case Connector::kNone: break;
      case Connector::kJump: {
        const Chunk& next = (&chunk)[1];  // chunks are in execution order
        at += write_jmp_rel8(file + at, rel8(next.offset, at + kJumpSize));
        break;
      }
      case Connector::kSwallow:
        if (hole == nullptr || at >= hole->end) throw CannotPack{};
        while (at < hole->end - kSwallowSize) at += write_nop(file + at);
        at += write_cmp_eax_opcode(file + at);  // the next 4 fixed header bytes are its immediate
        break;
    }
    if (hole != nullptr && at > hole->end) throw CannotPack{};
    return at;
  }

  static bool is_copied(const Unit& unit) {
    return unit.synthetic == Synthetic::kNone && unit.rewrite.kind == Rewrite::Kind::kKeep;
  }

  // Rewrites the displacement of unit `u`, copied to file offset `at`, for where it and its label
  // now are.
  void patch_displacement(std::uint32_t u, std::uint8_t* file, std::uint64_t at) const {
    const Unit& unit = text_.units[u];
    const std::uint64_t target = placed(unit.label_id) + unit.addend;
    const std::uint64_t end = at + text_.input.code[u].size;
    if (unit.field.size == 1) {
      file[at + unit.field.offset] = static_cast<std::uint8_t>(rel8(target, end));
    } else {
      const std::int32_t rel = rel32(target, end);
      std::memcpy(file + at + unit.field.offset, &rel, sizeof rel);  // little-endian, like the host
    }
  }

  // Writes unit `u`, synthetic or rewritten, at file offset `at`; returns its size.
  std::uint32_t write_unit(std::uint32_t u, std::uint8_t* file, std::uint64_t at) const {
    const Unit& unit = text_.units[u];
    std::uint8_t* const out = file + at;
    std::size_t written = 0;
    if (unit.synthetic == Synthetic::kJumpToEntry) {
      written = write_jmp_rel32(out, rel32(placed(unit.label_id), at + kJmpRel32Size));
    } else if (unit.synthetic == Synthetic::kNop) {
      written = write_nop(out);
    } else if (unit.rewrite.kind == Rewrite::Kind::kMoveByte) {
      written = write_mov_r8_imm8(out, unit.rewrite.reg, unit.rewrite.value);
    } else if (unit.rewrite.kind == Rewrite::Kind::kMoveAddress) {
      const std::uint64_t address = base_ + placed(unit.label_id) + unit.addend;
      if (address >= k32BitAddresses) throw CannotPack{};
      written = write_mov_r32_imm32(out, unit.rewrite.reg, static_cast<std::uint32_t>(address));
    }  // Rewrite::Kind::kDrop: nothing
    if (written != text_.input.code[u].size) throw CannotPack{};
    return static_cast<std::uint32_t>(written);
  }

  // Displacements from `from` (the end of the instruction) to `to`, if they fit.
  static std::int8_t rel8(std::uint64_t to, std::uint64_t from) {
    const auto rel = static_cast<std::int64_t>(to - from);
    if (rel < INT8_MIN || rel > INT8_MAX) throw CannotPack{};
    return static_cast<std::int8_t>(rel);
  }
  static std::int32_t rel32(std::uint64_t to, std::uint64_t from) {
    const auto rel = static_cast<std::int64_t>(to - from);
    if (rel < INT32_MIN || rel > INT32_MAX) throw CannotPack{};
    return static_cast<std::int32_t>(rel);
  }

  const PackSource& source_;
  const PackedText& text_;
  const Plan& plan_;
  const HeaderLayout& layout_;
  const std::uint64_t base_;
  const SegmentPlan segments_;
  std::pmr::vector<std::uint64_t> label_at_;  // offset from the base address of each label
};

}  // namespace

std::optional<LinkedFile> write_packed(const PackSource& source, const PackedText& text, const Plan& plan,
                                       const LinkDecisions& decided, const LinkOptions& options,
                                       std::uint64_t program_entry, std::pmr::memory_resource* memory) {
  const HeaderLayout& layout = decided.layout;
  const std::uint64_t base = decided.base;
  try {
    const PackedWriter writer(source, text, plan, layout, base, memory);
    // Past a limit, the plain path (no smaller) reports it.
    if (writer.file_size() > options.max_file_size || writer.memory_size() > kUserAddressEnd - base)
      return std::nullopt;
    DynamicPieces pieces;
    if (source.dynamic != nullptr)
      pieces = {writer.piece_at(source.dynamic->interpreter, source.dynamic->interpreter_size),
                writer.piece_at(source.dynamic->dynamic, source.dynamic->dynamic_size)};
    const HeaderValues values{decided.type, base, base + writer.entry_offset(program_entry), &writer.segments(),
                              source.dynamic != nullptr ? &pieces : nullptr};
    LinkedFile file;
    file.bytes = writer.write(values, file.contents);
    file.entry = layout.entry_is_fixed ? base + 1 : values.entry;
    return file;
  } catch (const CannotPack&) {
    return std::nullopt;
  }
}

}  // namespace tinyelf::detail
