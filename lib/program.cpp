// Program: the CodeHolder with its four sections, and the calls that add data to them.
#include <tinyelf/program.hpp>

#include <algorithm>
#include <cstring>
#include <new>

#include <fmt/format.h>

#include "asmjit_p.hpp"
#include "elf_p.hpp"
#include "program_p.hpp"

namespace tinyelf {

using asmjit::Label;
using asmjit::Section;
using asmjit::SectionFlags;
namespace x86 = asmjit::x86;
using detail::align_up;
using detail::check_asmjit;

namespace {

// Data alignment holds for virtual addresses, so it cannot exceed the page alignment the base
// address is guaranteed to have.
void check_alignment(std::size_t align) {
  if (align == 0 || align > detail::kPageSize || (align & (align - 1)) != 0)
    throw Error(ErrorCode::kInvalidAlignment,
                fmt::format("alignment {} is invalid: use a power of two from 1 to {}", align, detail::kPageSize));
}

void raise_alignment(Section* section, std::size_t align) {
  if (section->alignment() < align) section->setAlignment(static_cast<std::uint32_t>(align));
}

}  // namespace

void detail::ThrowOnAsmJitError::handleError(asmjit::Error, const char* message, asmjit::BaseEmitter*) {
  // AsmJit's message names the error and, for an instruction, the instruction itself:
  // "InvalidInstruction: mov eax, rbx". AsmJit leaves its emitters consistent before calling here.
  throw Error(ErrorCode::kEmitFailed, fmt::format("cannot emit: {}", message));
}

void* detail::ZoneMemory::do_allocate(std::size_t bytes, std::size_t alignment) {
  void* memory = code_._zone.alloc(bytes, alignment);
  if (memory == nullptr) throw std::bad_alloc();
  return memory;
}

bool detail::RecordingAssembler::keep_recording() noexcept {
  if (complete_ && items_.size() >= kMaxItems) complete_ = false;  // too big to pack: stop recording
  return complete_;
}

void detail::RecordingAssembler::clear_items() noexcept {
  // The zone the items were in was reset: start from no memory at all.
  std::pmr::vector<TextItem>(items_.get_allocator()).swap(items_);
  complete_ = true;
}

asmjit::Error detail::RecordingAssembler::_emit(asmjit::InstId inst_id, const asmjit::Operand_& o0,
                                                const asmjit::Operand_& o1, const asmjit::Operand_& o2,
                                                const asmjit::Operand_* o_ext) {
  // Big programs take this branch for all but their first instructions: keep it free of the
  // recording path's register saves.
  if (!complete_) return x86::Assembler::_emit(inst_id, o0, o1, o2, o_ext);
  return record_and_emit(inst_id, o0, o1, o2, o_ext);
}

[[gnu::noinline]] asmjit::Error detail::RecordingAssembler::record_and_emit(asmjit::InstId inst_id,
                                                                           const asmjit::Operand_& o0,
                                                                           const asmjit::Operand_& o1,
                                                                           const asmjit::Operand_& o2,
                                                                           const asmjit::Operand_* o_ext) {
  if (!keep_recording()) return x86::Assembler::_emit(inst_id, o0, o1, o2, o_ext);
  if (extraReg().isReg() || (o_ext != nullptr && !o_ext[0].isNone())) {
    complete_ = false;  // not recorded (TextItem::kMaxOperands): the program cannot be packed
    return x86::Assembler::_emit(inst_id, o0, o1, o2, o_ext);
  }
  if (items_.empty()) items_.reserve(16);  // typical small programs
  // Taken before the emit, which consumes the options.
  const TextItem item{static_cast<std::uint32_t>(offset()), 0, instOptions(), inst_id, {o0, o1, o2}};
  const asmjit::Error err = x86::Assembler::_emit(inst_id, o0, o1, o2, o_ext);
  if (err == asmjit::kErrorOk) {
    items_.push_back(item);
    items_.back().end = static_cast<std::uint32_t>(offset());
  }
  return err;
}

asmjit::Error detail::RecordingAssembler::bind(const asmjit::Label& label) {
  const asmjit::Error err = x86::Assembler::bind(label);
  if (err == asmjit::kErrorOk && keep_recording()) {
    const auto at = static_cast<std::uint32_t>(offset());
    items_.push_back({at, at, asmjit::InstOptions::kNone, x86::Inst::kIdNone, {label}});
  }
  return err;
}

Program::Program() : state_(std::make_unique<detail::ProgramState>()) {}
Program::~Program() = default;
Program::Program(Program&& other) noexcept = default;
Program& Program::operator=(Program&& other) noexcept = default;

x86::Assembler& Program::text() noexcept { return state_->text_; }
asmjit::CodeHolder& Program::code() noexcept { return state_->code_; }
void Program::set_entry(Label label) noexcept { state_->entry_ = label; }

void Program::reset() {
  if (state_ == nullptr) {
    state_ = std::make_unique<detail::ProgramState>();  // moved from: a new program
  } else {
    state_->reset();
  }
}

detail::ProgramState::ProgramState() { init_sections(); }

void detail::ProgramState::init_sections() {
  check_asmjit(code_.init(asmjit::Environment(asmjit::Arch::kX64)), "initialize the code holder");
  code_.setErrorHandler(&error_handler_);
  check_asmjit(code_.attach(&text_), "attach the text assembler");
  rodata_ = data_ = bss_ = nullptr;  // created on first use: see section()
  text_.clear_items();
  data_items_.clear();
  imports_.libraries.clear();
  imports_.symbols.clear();
  dynamic_.reset();
  debug_.clear();
  entry_ = Label();
  linked_ = false;
}

void detail::ProgramState::reset() {
  code_.reset(asmjit::ResetPolicy::kSoft);
  init_sections();
}

// Most small programs have no data, and each section costs the CodeHolder allocations, so rodata,
// data and bss are created on first use. Their order (1, 2, 3) puts read-only data next to the
// code and writable data last, before bss, whatever order they were created in.
Section* detail::ProgramState::section(Section*& slot, const char* name, SectionFlags flags, std::uint32_t order) {
  if (slot == nullptr)
    check_asmjit(code_.newSection(&slot, name, SIZE_MAX, flags, 1, static_cast<std::int32_t>(order)),
                 [&] { return fmt::format("create {}", name); });
  return slot;
}

Section* detail::ProgramState::rodata_section() { return section(rodata_, ".rodata", SectionFlags::kReadOnly, 1); }
Section* detail::ProgramState::data_section() { return section(data_, ".data", SectionFlags::kNone, 2); }
Section* detail::ProgramState::bss_section() { return section(bss_, ".bss", SectionFlags::kZeroInitialized, 3); }

Label Program::rodata(std::string_view bytes, std::size_t align) { return rodata(bytes.data(), bytes.size(), align); }
Label Program::rodata(const void* bytes, std::size_t size, std::size_t align) {
  return state_->append(state_->rodata_section(), bytes, size, align);
}
Label Program::data(std::string_view bytes, std::size_t align) { return data(bytes.data(), bytes.size(), align); }
Label Program::data(const void* bytes, std::size_t size, std::size_t align) {
  return state_->append(state_->data_section(), bytes, size, align);
}

Label detail::ProgramState::append(Section* section, const void* bytes, std::size_t size, std::size_t align) {
  check_alignment(align);
  // Copied straight into the section's buffer: an emitter attached for data would cost more than
  // the copy.
  asmjit::CodeBuffer& buffer = section->buffer();
  const std::size_t offset = align_up(buffer.size(), align);
  if (size > detail::kUserAddressEnd - offset)
    throw Error(ErrorCode::kImageTooLarge,
                fmt::format("{} of {} bytes does not fit in the user address space", section->name(), size));
  check_asmjit(code_.growBuffer(&buffer, offset + size - buffer.size()), [&] { return fmt::format("grow {}", section->name()); });
  if (offset != buffer.size()) std::memset(buffer.data() + buffer.size(), 0, offset - buffer.size());  // padding
  if (size != 0) std::memcpy(buffer.data() + offset, bytes, size);
  buffer._size = offset + size;
  raise_alignment(section, align);
  const Label label = new_label_at(section, offset);
  data_items_.push_back({section, label.id(), offset, size, align});
  return label;
}

Label detail::ProgramState::new_label_at(Section* section, std::uint64_t offset) {
  asmjit::LabelEntry* entry = nullptr;
  check_asmjit(code_.newLabelEntry(&entry), "create a label");
  const Label label(entry->id());
  check_asmjit(code_.bindLabel(label, section->id(), offset), "bind a label");
  return label;
}

void Program::symbol(Label label, std::string_view name, SymbolKind kind) {
  state_->symbol(label, name, kind, false, 0);
}
void Program::symbol(Label label, std::string_view name, SymbolKind kind, std::uint64_t size) {
  state_->symbol(label, name, kind, true, size);
}

void detail::ProgramState::symbol(Label label, std::string_view name, SymbolKind kind, bool sized, std::uint64_t size) {
  if (!code_.isLabelValid(label))
    throw Error(ErrorCode::kInvalidDebugInfo,
                fmt::format("symbol \"{}\": label #{} does not belong to this program", name, label.id()));
  debug_.add_symbol(label.id(), name, kind, sized, size);
}

void Program::line(std::string_view file, std::uint32_t line, std::uint32_t column) {
  state_->debug_.add_line(state_->code_.textSection()->bufferSize(), file, line, column);
}

Label Program::bss(std::size_t size, std::size_t align) { return state_->bss(size, align); }

Label Program::import(std::string_view library, std::string_view symbol, SymbolKind kind) {
  return state_->import(library, symbol, kind);
}

Label detail::ProgramState::bss(std::size_t size, std::size_t align) {
  check_alignment(align);
  Section* const bss = bss_section();
  const std::uint64_t offset = align_up(bss->virtualSize(), align);
  if (size > detail::kUserAddressEnd - offset)
    throw Error(ErrorCode::kImageTooLarge,
                fmt::format("bss of {} bytes does not fit in the user address space ({} bytes reserved already)",
                            size, offset));
  const Label label = new_label_at(bss, offset);
  bss->setVirtualSize(offset + size);
  raise_alignment(bss, align);
  return label;
}

}  // namespace tinyelf
