// The Zydis peer (Debian's libzydis-dev, Zydis 4.0): a pure encoder, one ZydisEncoderRequest per
// instruction, on the same instructions as generator.hpp; the minimal ELF writer (minimal_elf.hpp)
// makes the executable, as for the AsmJit and Xbyak peers.
//
// Zydis encodes one instruction at a time and knows no labels, so the image puts the data first,
// whose addresses are then known before any instruction refers to them, and the code after it.
// ZydisEncoderEncodeInstructionAbsolute takes absolute targets and computes the RIP-relative
// displacements and branch offsets itself. A branch to a label not bound yet is encoded near
// (rel32), as AsmJit does, to a placeholder target, and its last 4 bytes are patched when the
// label is bound.
#include <Zydis/Zydis.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "generator.hpp"
#include "minimal_elf.hpp"
#include "peers.hpp"

namespace bench {

namespace {

ZydisEncoderOperand reg(ZydisRegister value) {
  ZydisEncoderOperand operand{};
  operand.type = ZYDIS_OPERAND_TYPE_REGISTER;
  operand.reg.value = value;
  return operand;
}

// A 64-bit register by hardware number (ZydisRegister lists rax, rcx, ..., r15 in that order).
ZydisEncoderOperand gpq(std::uint8_t number) { return reg(static_cast<ZydisRegister>(ZYDIS_REGISTER_RAX + number)); }

ZydisEncoderOperand mem(ZydisRegister base, std::int64_t displacement, std::uint16_t size) {
  ZydisEncoderOperand operand{};
  operand.type = ZYDIS_OPERAND_TYPE_MEMORY;
  operand.mem.base = base;
  operand.mem.displacement = displacement;
  operand.mem.size = size;
  return operand;
}

ZydisEncoderOperand imm(std::int64_t value) {
  ZydisEncoderOperand operand{};
  operand.type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
  operand.imm.s = value;
  return operand;
}

class Encoder {
 public:
  explicit Encoder(std::size_t instructions) { image_.reserve(instructions * 8 + kTableSize + kCellsSize + 64); }

  // Appends `size` bytes of data, aligned to 8, and returns their address.
  std::uint64_t data(const void* bytes, std::size_t size) {
    image_.resize((image_.size() + 7) / 8 * 8);
    const std::uint64_t address = here();
    image_.insert(image_.end(), static_cast<const std::uint8_t*>(bytes), static_cast<const std::uint8_t*>(bytes) + size);
    return address;
  }

  // Where the next instruction goes.
  std::uint64_t here() const noexcept { return kMinimalImageAddress + image_.size(); }
  std::size_t offset() const noexcept { return image_.size(); }

  // Encodes one instruction; RIP-relative displacements and branch targets are absolute addresses.
  void emit(ZydisMnemonic mnemonic, std::initializer_list<ZydisEncoderOperand> operands,
            ZydisBranchWidth branch_width = ZYDIS_BRANCH_WIDTH_NONE) {
    ZydisEncoderRequest request;
    std::memset(&request, 0, sizeof request);
    request.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
    request.mnemonic = mnemonic;
    request.branch_width = branch_width;
    request.operand_count = static_cast<ZyanU8>(operands.size());
    std::copy(operands.begin(), operands.end(), request.operands);
    const std::size_t at = image_.size();
    image_.resize(at + ZYDIS_MAX_INSTRUCTION_LENGTH);
    ZyanUSize length = ZYDIS_MAX_INSTRUCTION_LENGTH;
    const ZyanStatus status = ZydisEncoderEncodeInstructionAbsolute(&request, image_.data() + at, &length,
                                                                    kMinimalImageAddress + at);
    if (!ZYAN_SUCCESS(status))
      throw std::runtime_error(fmt::format("Zydis cannot encode {} (status {:#x})",
                                           ZydisMnemonicGetString(mnemonic), static_cast<unsigned>(status)));
    image_.resize(at + length);
  }

  // jnz to a label not bound yet: returns where its rel32 is, for bind().
  std::size_t jnz_forward() {
    emit(ZYDIS_MNEMONIC_JNZ, {imm(static_cast<std::int64_t>(here()))}, ZYDIS_BRANCH_WIDTH_32);
    return image_.size() - 4;
  }

  // Points the rel32 at `fixup` (from jnz_forward) to here.
  void bind(std::size_t fixup) {
    const auto rel = static_cast<std::int32_t>(image_.size() - (fixup + 4));
    std::memcpy(image_.data() + fixup, &rel, 4);
  }

  std::vector<std::uint8_t> executable(std::size_t entry_offset) const { return minimal_elf(image_, entry_offset); }

 private:
  std::vector<std::uint8_t> image_;
};

constexpr ZydisRegister kRip = ZYDIS_REGISTER_RIP;

std::size_t exit42(Encoder& e) {
  e.emit(ZYDIS_MNEMONIC_PUSH, {imm(42)});  // exit status
  e.emit(ZYDIS_MNEMONIC_POP, {reg(ZYDIS_REGISTER_RDI)});
  e.emit(ZYDIS_MNEMONIC_PUSH, {imm(60)});  // SYS_exit
  e.emit(ZYDIS_MNEMONIC_POP, {reg(ZYDIS_REGISTER_RAX)});
  e.emit(ZYDIS_MNEMONIC_SYSCALL, {});
  return 0;
}

// These return the entry point's offset in the image: where the code starts, after the data.
std::size_t hello(Encoder& e) {
  const std::uint64_t message = e.data(kHelloMessage.data(), kHelloMessage.size());
  const std::size_t entry = e.offset();
  e.emit(ZYDIS_MNEMONIC_PUSH, {imm(1)});  // SYS_write
  e.emit(ZYDIS_MNEMONIC_POP, {reg(ZYDIS_REGISTER_RAX)});
  e.emit(ZYDIS_MNEMONIC_MOV, {reg(ZYDIS_REGISTER_EDI), reg(ZYDIS_REGISTER_EAX)});
  e.emit(ZYDIS_MNEMONIC_LEA, {reg(ZYDIS_REGISTER_RSI), mem(kRip, static_cast<std::int64_t>(message), 8)});
  e.emit(ZYDIS_MNEMONIC_PUSH, {imm(static_cast<std::int64_t>(kHelloMessage.size()))});
  e.emit(ZYDIS_MNEMONIC_POP, {reg(ZYDIS_REGISTER_RDX)});
  e.emit(ZYDIS_MNEMONIC_SYSCALL, {});
  e.emit(ZYDIS_MNEMONIC_PUSH, {imm(60)});  // SYS_exit
  e.emit(ZYDIS_MNEMONIC_POP, {reg(ZYDIS_REGISTER_RAX)});
  e.emit(ZYDIS_MNEMONIC_XOR, {reg(ZYDIS_REGISTER_EDI), reg(ZYDIS_REGISTER_EDI)});
  e.emit(ZYDIS_MNEMONIC_SYSCALL, {});
  return entry;
}

std::size_t loop(Encoder& e) {
  const auto message = static_cast<std::int64_t>(e.data(kHelloMessage.data(), kHelloMessage.size()));
  const auto counter = static_cast<std::int64_t>(e.data(kLoopCounter.data(), kLoopCounter.size()));
  const std::size_t entry = e.offset();
  const auto again = static_cast<std::int64_t>(e.here());
  e.emit(ZYDIS_MNEMONIC_PUSH, {imm(1)});  // SYS_write
  e.emit(ZYDIS_MNEMONIC_POP, {reg(ZYDIS_REGISTER_RAX)});
  e.emit(ZYDIS_MNEMONIC_MOV, {reg(ZYDIS_REGISTER_EDI), reg(ZYDIS_REGISTER_EAX)});
  e.emit(ZYDIS_MNEMONIC_LEA, {reg(ZYDIS_REGISTER_RSI), mem(kRip, message, 8)});
  e.emit(ZYDIS_MNEMONIC_MOV, {reg(ZYDIS_REGISTER_EDX), imm(static_cast<std::int64_t>(kHelloMessage.size()))});
  e.emit(ZYDIS_MNEMONIC_SYSCALL, {});
  e.emit(ZYDIS_MNEMONIC_ADD, {mem(kRip, counter, 4), imm(1)});
  e.emit(ZYDIS_MNEMONIC_CMP, {mem(kRip, counter, 4), imm(kLoopTimes)});
  e.emit(ZYDIS_MNEMONIC_JNZ, {imm(again)});
  e.emit(ZYDIS_MNEMONIC_MOV, {reg(ZYDIS_REGISTER_EAX), imm(60)});  // SYS_exit
  e.emit(ZYDIS_MNEMONIC_XOR, {reg(ZYDIS_REGISTER_EDI), reg(ZYDIS_REGISTER_EDI)});
  e.emit(ZYDIS_MNEMONIC_SYSCALL, {});
  return entry;
}

std::size_t mixed(Encoder& e, std::size_t count) {
  const auto table = static_cast<std::int64_t>(e.data(kTable.data(), kTable.size()));
  const auto cells = static_cast<std::int64_t>(e.data(kCells.data(), kCells.size()));
  const std::size_t entry = e.offset();
  const auto base = static_cast<ZydisRegister>(ZYDIS_REGISTER_RAX + kMixedBase);
  std::int64_t here = 0;          // the address of this block's label
  std::size_t pending = SIZE_MAX;  // the rel32 of the forward branch to the next block's label
  for (std::size_t i = 0; i < count; ++i) {
    const MixedStep step = mixed_step(i);
    switch (step.kind) {
      case MixedKind::kAddRegReg:
        if (pending != SIZE_MAX) {
          e.bind(pending);
          pending = SIZE_MAX;
        }
        here = static_cast<std::int64_t>(e.here());
        e.emit(ZYDIS_MNEMONIC_ADD, {gpq(step.r), gpq(step.s)});
        break;
      case MixedKind::kLoad: e.emit(ZYDIS_MNEMONIC_MOV, {gpq(step.r), mem(base, step.disp, 8)}); break;
      case MixedKind::kStore: e.emit(ZYDIS_MNEMONIC_MOV, {mem(base, step.disp, 8), gpq(step.s)}); break;
      case MixedKind::kImul: e.emit(ZYDIS_MNEMONIC_IMUL, {gpq(step.r), gpq(step.s), imm(step.imm)}); break;
      case MixedKind::kLeaTable: e.emit(ZYDIS_MNEMONIC_LEA, {gpq(step.r), mem(kRip, table + step.offset, 8)}); break;
      case MixedKind::kAddToCells: e.emit(ZYDIS_MNEMONIC_ADD, {mem(kRip, cells + step.offset, 8), gpq(step.r)}); break;
      case MixedKind::kCmp: e.emit(ZYDIS_MNEMONIC_CMP, {gpq(step.r), imm(step.imm)}); break;
      case MixedKind::kJnzForward: pending = e.jnz_forward(); break;
      case MixedKind::kJnzBackward: e.emit(ZYDIS_MNEMONIC_JNZ, {imm(here)}); break;
    }
  }
  if (pending != SIZE_MAX) e.bind(pending);  // the label after the stream
  return entry;
}

class ZydisBuilder final : public Builder {
 public:
  std::vector<std::uint8_t> build(const Workload& workload) override {
    Encoder encoder(workload.instructions);
    std::size_t entry = 0;
    switch (workload.shape) {
      case Shape::kExit42: entry = exit42(encoder); break;
      case Shape::kHello: entry = hello(encoder); break;
      case Shape::kLoop: entry = loop(encoder); break;
      case Shape::kMixed: entry = mixed(encoder, workload.instructions); break;
    }
    return encoder.executable(entry);
  }
};

[[maybe_unused]] const bool registered = register_peer({
    .name = "zydis",
    .make = [] { return std::unique_ptr<Builder>(new ZydisBuilder); },
    .timed = kAllWorkloads,
    .memory = kAllWorkloads,
});

}  // namespace

}  // namespace bench
