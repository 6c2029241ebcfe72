// The Xbyak peer (Debian's libxbyak-dev, Xbyak 6.68): a pure encoder, one CodeGenerator per
// executable, on the same instructions as generator.hpp; the minimal ELF writer (minimal_elf.hpp)
// makes the executable, as for the AsmJit and Zydis peers. Forward branches are near (rel32), as
// AsmJit encodes branches to labels not bound yet; Xbyak's default would be short.
#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

#include <xbyak/xbyak.h>

#include "generator.hpp"
#include "minimal_elf.hpp"
#include "peers.hpp"

namespace bench {

namespace {

using Xbyak::Label;
using Xbyak::Reg64;

class Generator final : public Xbyak::CodeGenerator {
 public:
  // Encodes into `buffer` (Xbyak's own buffer would be mapped and unmapped with mmap for every
  // executable; the other encoders reuse freed heap memory through malloc, this one the buffer).
  explicit Generator(std::vector<std::uint8_t>& buffer) : CodeGenerator(buffer.size(), buffer.data()) {}

  void exit42() {
    push(42);  // exit status
    pop(rdi);
    push(60);  // SYS_exit
    pop(rax);
    syscall();
  }

  void hello() {
    Label message;
    push(1);  // SYS_write
    pop(rax);
    mov(edi, eax);
    lea(rsi, ptr[rip + message]);
    push(static_cast<std::uint32_t>(kHelloMessage.size()));
    pop(rdx);
    syscall();
    push(60);  // SYS_exit
    pop(rax);
    xor_(edi, edi);
    syscall();
    data(message, kHelloMessage.data(), kHelloMessage.size());
  }

  void loop() {
    Label again, message, counter;
    L(again);
    push(1);  // SYS_write
    pop(rax);
    mov(edi, eax);
    lea(rsi, ptr[rip + message]);
    mov(edx, static_cast<std::uint32_t>(kHelloMessage.size()));
    syscall();
    add(dword[rip + counter], 1);
    cmp(dword[rip + counter], kLoopTimes);
    jne(again);
    mov(eax, 60);  // SYS_exit
    xor_(edi, edi);
    syscall();
    data(message, kHelloMessage.data(), kHelloMessage.size());
    data(counter, kLoopCounter.data(), kLoopCounter.size());
  }

  void mixed(std::size_t count) {
    // Labels are held by pointer: Xbyak refuses to assign to a Label that has been used.
    Label table, cells;
    auto here = std::make_unique<Label>();
    auto next = std::make_unique<Label>();
    const Reg64 base(kMixedBase);
    for (std::size_t i = 0; i < count; ++i) {
      const MixedStep step = mixed_step(i);
      const Reg64 r(step.r);
      const Reg64 s(step.s);
      switch (step.kind) {
        case MixedKind::kAddRegReg:
          L(*here);
          add(r, s);
          break;
        case MixedKind::kLoad: mov(r, qword[base + step.disp]); break;
        case MixedKind::kStore: mov(qword[base + step.disp], s); break;
        case MixedKind::kImul: imul(r, s, step.imm); break;
        case MixedKind::kLeaTable: lea(r, ptr[rip + table + step.offset]); break;
        case MixedKind::kAddToCells: add(qword[rip + cells + step.offset], r); break;
        case MixedKind::kCmp: cmp(r, step.imm); break;
        case MixedKind::kJnzForward:
        case MixedKind::kJnzBackward:
          if (step.kind == MixedKind::kJnzForward) {
            jnz(*next, T_NEAR);
          } else {
            jnz(*here);
          }
          here = std::move(next);
          next = std::make_unique<Label>();
          break;
      }
    }
    if (mixed_ends_with_label(count)) L(*here);
    data(table, kTable.data(), kTable.size());
    data(cells, kCells.data(), kCells.size());
  }

 private:
  // Appends `size` bytes aligned to 8 and binds `label` to them.
  void data(Label& label, const void* bytes, std::size_t size) {
    while (getSize() % 8 != 0) db(0);
    L(label);
    db(static_cast<const std::uint8_t*>(bytes), size);
  }
};

class XbyakBuilder final : public Builder {
 public:
  std::vector<std::uint8_t> build(const Workload& workload) override {
    try {
      // Room for the instructions, at most 7 bytes each, and the data.
      buffer_.resize(std::max(buffer_.size(), workload.instructions * 8 + kTableSize + kCellsSize + 64));
      Generator generator(buffer_);
      switch (workload.shape) {
        case Shape::kExit42: generator.exit42(); break;
        case Shape::kHello: generator.hello(); break;
        case Shape::kLoop: generator.loop(); break;
        case Shape::kMixed: generator.mixed(workload.instructions); break;
      }
      return minimal_elf({generator.getCode(), generator.getSize()}, 0);
    } catch (const Xbyak::Error& error) {
      throw std::runtime_error(std::string("Xbyak: ") + error.what());
    }
  }

 private:
  std::vector<std::uint8_t> buffer_;
};

[[maybe_unused]] const bool registered = register_peer({
    .name = "xbyak",
    .make = [] { return std::unique_ptr<Builder>(new XbyakBuilder); },
    .timed = kAllWorkloads,
    .memory = kAllWorkloads,
});

}  // namespace

}  // namespace bench
