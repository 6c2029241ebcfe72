// The baseline: what a program doing the same job with AsmJit alone, and no ELF at all, has to do.
// A CodeHolder with the same four sections tinyelf uses (text, rodata, data, bss), one
// x86::Assembler, the same data, then flatten + resolveUnresolvedLinks + relocateToBase and a copy
// into a freshly allocated buffer. tinyelf's time divided by this one's is its overhead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include <asmjit/x86.h>
#include <fmt/format.h>

namespace bench {

class RawAsmJit {
 public:
  RawAsmJit() { init(); }
  RawAsmJit(const RawAsmJit&) = delete;
  RawAsmJit& operator=(const RawAsmJit&) = delete;

  asmjit::x86::Assembler& text() noexcept { return a_; }
  asmjit::CodeHolder& code() noexcept { return code_; }

  // Appends `size` bytes to rodata or data, aligned to 8, and returns a label on them.
  asmjit::Label rodata(const void* bytes, std::size_t size) { return append(rodata_, bytes, size); }
  asmjit::Label data(const void* bytes, std::size_t size) { return append(data_, bytes, size); }

  // Resolves everything at `base` and copies the code and data into a new buffer.
  std::vector<std::uint8_t> finish(std::uint64_t base = 0x400000) {
    check(code_.flatten(), "flatten");
    check(code_.resolveUnresolvedLinks(), "resolveUnresolvedLinks");
    check(code_.relocateToBase(base), "relocateToBase");
    std::vector<std::uint8_t> buffer(code_.codeSize());
    check(code_.copyFlattenedData(buffer.data(), buffer.size()), "copyFlattenedData");
    return buffer;
  }

  // Forgets the program but keeps the memory, like tinyelf::Program::reset().
  void reset() {
    code_.reset(asmjit::ResetPolicy::kSoft);
    init();
  }

 private:
  // A benchmark cannot continue with a half-built program: stop loudly.
  static void check(asmjit::Error err, const char* what) {
    if (err == asmjit::kErrorOk) return;
    fmt::print(stderr, "raw AsmJit baseline: {} failed: {}\n", what, asmjit::DebugUtils::errorAsString(err));
    std::abort();
  }

  void init() {
    check(code_.init(asmjit::Environment(asmjit::Arch::kX64)), "init");
    check(code_.attach(&a_), "attach");
    using asmjit::SectionFlags;
    check(code_.newSection(&rodata_, ".rodata", SIZE_MAX, SectionFlags::kReadOnly, 8, 1), "newSection");
    check(code_.newSection(&data_, ".data", SIZE_MAX, SectionFlags::kNone, 8, 2), "newSection");
    check(code_.newSection(&bss_, ".bss", SIZE_MAX, SectionFlags::kZeroInitialized, 16, 3), "newSection");
  }

  asmjit::Label append(asmjit::Section* section, const void* bytes, std::size_t size) {
    a_.section(section);
    static constexpr std::uint8_t kZeros[8] = {};
    if (const std::size_t padding = (8 - a_.offset() % 8) % 8) a_.embed(kZeros, padding);
    asmjit::Label label = a_.newLabel();
    a_.bind(label);
    a_.embed(bytes, size);
    a_.section(code_.textSection());
    return label;
  }

  asmjit::CodeHolder code_;
  asmjit::x86::Assembler a_;
  asmjit::Section* rodata_ = nullptr;
  asmjit::Section* data_ = nullptr;
  asmjit::Section* bss_ = nullptr;
};

}  // namespace bench
