// Program: the CodeHolder with its four sections, and the calls that add data to them.
#include <tinyelf/program.hpp>

#include <algorithm>

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

// Zero bytes to pad data up to an alignment; alignments are capped at one page.
constexpr std::uint8_t kZeros[detail::kPageSize] = {};

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

bool detail::RecordingAssembler::keep_recording() noexcept {
  if (complete_ && items_.size() >= kMaxItems) {
    complete_ = false;  // too big to pack: stop recording, and free what was kept
    items_ = {};
  }
  return complete_;
}

void detail::RecordingAssembler::clear_items() noexcept {
  items_.clear();
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
  if (items_.empty()) items_.reserve(8);  // one small allocation for typical small programs
  TextItem item;
  item.start = static_cast<std::uint32_t>(offset());
  item.inst_id = inst_id;
  item.options = instOptions();  // consumed by the emit below
  item.extra_reg = extraReg();
  item.operands[0] = o0;
  item.operands[1] = o1;
  item.operands[2] = o2;
  if (o_ext != nullptr) std::copy(o_ext, o_ext + 3, item.operands + 3);
  const asmjit::Error err = x86::Assembler::_emit(inst_id, o0, o1, o2, o_ext);
  if (err == asmjit::kErrorOk) {
    item.end = static_cast<std::uint32_t>(offset());
    items_.push_back(item);
  }
  return err;
}

asmjit::Error detail::RecordingAssembler::bind(const asmjit::Label& label) {
  const asmjit::Error err = x86::Assembler::bind(label);
  if (err == asmjit::kErrorOk && keep_recording()) {
    TextItem item;
    item.start = item.end = static_cast<std::uint32_t>(offset());
    item.label_id = label.id();
    items_.push_back(item);
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
  // Attached on first use: most small programs have no data, and attaching costs.
  if (data_writer_.code() == nullptr) check_asmjit(code_.attach(&data_writer_), "attach the data writer");
  data_writer_.section(section);
  const std::size_t offset = data_writer_.offset();
  if (const std::size_t padding = align_up(offset, align) - offset) data_writer_.embed(kZeros, padding);
  Label label = data_writer_.newLabel();
  data_writer_.bind(label);
  if (size != 0) data_writer_.embed(bytes, size);
  raise_alignment(section, align);
  data_items_.push_back({section, label.id(), align_up(offset, align), size, align});
  return label;
}

Label Program::bss(std::size_t size, std::size_t align) { return state_->bss(size, align); }

Label detail::ProgramState::bss(std::size_t size, std::size_t align) {
  check_alignment(align);
  Section* const bss = bss_section();
  const std::uint64_t offset = align_up(bss->virtualSize(), align);
  if (size > detail::kUserAddressEnd - offset)
    throw Error(ErrorCode::kImageTooLarge,
                fmt::format("bss of {} bytes does not fit in the user address space ({} bytes reserved already)",
                            size, offset));
  asmjit::LabelEntry* entry = nullptr;
  check_asmjit(code_.newLabelEntry(&entry), "create a bss label");
  const Label label(entry->id());
  check_asmjit(code_.bindLabel(label, bss->id(), offset), "bind a bss label");
  bss->setVirtualSize(offset + size);
  raise_alignment(bss, align);
  return label;
}

}  // namespace tinyelf
