// The packer moves instruction bytes and rewrites their displacements to labels itself
// (lib/x86_encoding.cpp). Each case here lets AsmJit encode an instruction against a label bound
// behind it, where AsmJit writes the real displacement, and checks the field the reader finds
// holds exactly that value: prefixes, REX, VEX, EVEX, XOP, 0F/0F38/0F3A maps and immediates after
// the displacement all move the field.
#include <cstring>
#include <functional>
#include <string>

#include <catch2/catch.hpp>

#include <tinyelf/tinyelf.hpp>

#include "../lib/x86_encoding_p.hpp"

namespace {

namespace x86 = asmjit::x86;
using asmjit::imm;
using asmjit::Label;
using tinyelf::detail::RelativeField;

struct Case {
  std::string name;
  std::function<void(x86::Assembler&, Label)> emit;
  std::int32_t addend;
  bool rip;  // a RIP-relative memory operand, else a branch
};

const Case kCases[] = {
    // Branches: rel8 or rel32, always the last field.
    {"jmp rel8", [](x86::Assembler& a, Label l) { a.short_().jmp(l); }, 0, false},
    {"jmp rel32", [](x86::Assembler& a, Label l) { a.long_().jmp(l); }, 0, false},
    {"jne rel8", [](x86::Assembler& a, Label l) { a.short_().jne(l); }, 0, false},
    {"jg rel32", [](x86::Assembler& a, Label l) { a.long_().jg(l); }, 0, false},
    {"call rel32", [](x86::Assembler& a, Label l) { a.call(l); }, 0, false},
    {"loop", [](x86::Assembler& a, Label l) { a.loop(x86::rcx, l); }, 0, false},
    {"jecxz (address-size prefix)", [](x86::Assembler& a, Label l) { a.jecxz(x86::ecx, l); }, 0, false},
    {"jrcxz", [](x86::Assembler& a, Label l) { a.jecxz(x86::rcx, l); }, 0, false},
    {"xbegin", [](x86::Assembler& a, Label l) { a.xbegin(l); }, 0, false},
    // RIP-relative operands: disp32 right after ModRM, whatever follows.
    {"mov r64, m64 (REX.W)", [](x86::Assembler& a, Label l) { a.mov(x86::rax, x86::ptr(l)); }, 0, true},
    {"mov r8, m8 (REX.R)", [](x86::Assembler& a, Label l) { a.mov(x86::r9b, x86::ptr(l, 3)); }, 3, true},
    {"lea with a negative addend", [](x86::Assembler& a, Label l) { a.lea(x86::r12, x86::ptr(l, -9)); }, -9, true},
    {"mov m32, imm32", [](x86::Assembler& a, Label l) { a.mov(x86::dword_ptr(l), 0x12345678); }, 0, true},
    {"mov m16, imm16 (66 prefix)", [](x86::Assembler& a, Label l) { a.mov(x86::word_ptr(l, 2), 0x1234); }, 2, true},
    {"cmp m8, imm8", [](x86::Assembler& a, Label l) { a.cmp(x86::byte_ptr(l), 7); }, 0, true},
    {"add m64, imm8", [](x86::Assembler& a, Label l) { a.add(x86::qword_ptr(l), 1); }, 0, true},
    {"test m32, imm32", [](x86::Assembler& a, Label l) { a.test(x86::dword_ptr(l), 0x01020304); }, 0, true},
    {"imul r32, m32, imm32", [](x86::Assembler& a, Label l) { a.imul(x86::eax, x86::dword_ptr(l), 1000); }, 0, true},
    {"imul r32, m32, imm8", [](x86::Assembler& a, Label l) { a.imul(x86::eax, x86::dword_ptr(l), 3); }, 0, true},
    {"lock cmpxchg (0F map)", [](x86::Assembler& a, Label l) { a.lock().cmpxchg(x86::dword_ptr(l), x86::ecx, x86::eax); }, 0, true},
    {"push m64 (FF /6)", [](x86::Assembler& a, Label l) { a.push(x86::qword_ptr(l)); }, 0, true},
    {"pop m64 (8F /0, not XOP)", [](x86::Assembler& a, Label l) { a.pop(x86::qword_ptr(l)); }, 0, true},
    {"jmp m64", [](x86::Assembler& a, Label l) { a.jmp(x86::qword_ptr(l)); }, 0, true},
    {"crc32 (F2 0F 38)", [](x86::Assembler& a, Label l) { a.crc32(x86::eax, x86::byte_ptr(l)); }, 0, true},
    {"pshufd (66 0F, imm8)", [](x86::Assembler& a, Label l) { a.pshufd(x86::xmm1, x86::ptr(l), 0x1B); }, 0, true},
    {"pextrd (66 0F 3A, imm8)", [](x86::Assembler& a, Label l) { a.pextrd(x86::dword_ptr(l), x86::xmm9, 2); }, 0, true},
    {"vmovdqu (2-byte VEX)", [](x86::Assembler& a, Label l) { a.vmovdqu(x86::ymm0, x86::ptr(l)); }, 0, true},
    {"vpermq (3-byte VEX, imm8)", [](x86::Assembler& a, Label l) { a.vpermq(x86::ymm10, x86::ptr(l), 0x4E); }, 0, true},
    {"vmovdqu64 (EVEX)", [](x86::Assembler& a, Label l) { a.vmovdqu64(x86::zmm17, x86::ptr(l, 64)); }, 64, true},
    {"vpternlogd (EVEX, imm8)",
     [](x86::Assembler& a, Label l) { a.vpternlogd(x86::zmm0, x86::zmm1, x86::ptr(l), 0x96); }, 0, true},
    {"vprotb (XOP, imm8)", [](x86::Assembler& a, Label l) { a.vprotb(x86::xmm0, x86::ptr(l), 3); }, 0, true},
};

}  // namespace

TEST_CASE("the displacement to a label is found in every encoding the packer may move") {
  for (const Case& c : kCases) {
    INFO(c.name);
    asmjit::CodeHolder code;
    code.init(asmjit::Environment(asmjit::Arch::kX64));
    x86::Assembler a(&code);
    const Label target = a.newLabel();
    a.nop();
    a.bind(target);  // behind the instruction: AsmJit encodes the final displacement
    for (int i = 0; i < 5; ++i) a.nop();
    const std::size_t start = a.offset();
    c.emit(a, target);
    const std::size_t end = a.offset();
    REQUIRE(end > start);
    const std::uint8_t* inst = code.textSection()->data() + start;

    const RelativeField field = c.rip ? tinyelf::detail::rip_field(inst, end - start)
                                      : tinyelf::detail::branch_field(inst, end - start);
    const RelativeField other = c.rip ? tinyelf::detail::branch_field(inst, end - start)
                                      : tinyelf::detail::rip_field(inst, end - start);
    const std::int64_t expected = 1 + c.addend - static_cast<std::int64_t>(end);
    REQUIRE(field.size != 0);
    CHECK(other.size == 0);  // a branch has no ModRM; a memory instruction is no direct branch
    CHECK(field.offset + field.size <= end - start);
    if (field.size == 1) {
      CHECK(static_cast<std::int8_t>(inst[field.offset]) == expected);
    } else {
      std::int32_t value = 0;
      std::memcpy(&value, inst + field.offset, 4);
      CHECK(value == expected);
    }
  }
}

TEST_CASE("instructions with no label displacement give no field") {
  asmjit::CodeHolder code;
  code.init(asmjit::Environment(asmjit::Arch::kX64));
  x86::Assembler a(&code);
  a.mov(x86::eax, x86::dword_ptr(x86::rbx, 8));           // base register: ModRM mod = 01
  a.mov(x86::eax, x86::dword_ptr(x86::rsp));              // SIB byte
  a.mov(x86::eax, x86::dword_ptr(static_cast<std::uint64_t>(0x1000)));  // absolute: SIB, no RIP
  a.add(x86::eax, 5);
  a.syscall();
  a.ret();
  // Their lengths, in order: each instruction is read on its own.
  const std::uint8_t* bytes = code.textSection()->data();
  const std::size_t size = code.textSection()->bufferSize();
  std::size_t at = 0;
  for (const std::size_t length : {3, 3, 7, 3, 2, 1}) {
    INFO("instruction at " << at);
    REQUIRE(at + length <= size);
    CHECK(tinyelf::detail::rip_field(bytes + at, length).size == 0);
    CHECK(tinyelf::detail::branch_field(bytes + at, length).size == 0);
    at += length;
  }
  CHECK(at == size);
}

TEST_CASE("the writers encode what the Intel SDM gives") {
  std::uint8_t out[8] = {};
  using namespace tinyelf::detail;
  CHECK(write_mov_r8_imm8(out, 0, 1) == 2);  // mov al, 1
  CHECK((out[0] == 0xB0 && out[1] == 1));
  CHECK(write_mov_r8_imm8(out, 6, 14) == 3);  // mov sil, 14: REX, or it would be dh
  CHECK((out[0] == 0x40 && out[1] == 0xB6 && out[2] == 14));
  CHECK(write_mov_r8_imm8(out, 10, 2) == 3);  // mov r10b, 2
  CHECK((out[0] == 0x41 && out[1] == 0xB2 && out[2] == 2));
  CHECK(write_mov_r32_imm32(out, 6, 0x400078) == 5);  // mov esi, 0x400078
  CHECK((out[0] == 0xBE && out[1] == 0x78 && out[2] == 0x00 && out[3] == 0x40 && out[4] == 0));
  CHECK(write_mov_r32_imm32(out, 9, 1) == 6);  // mov r9d, 1
  CHECK((out[0] == 0x41 && out[1] == 0xB9 && out[2] == 1));
  CHECK(write_jmp_rel8(out, -2) == 2);
  CHECK((out[0] == 0xEB && out[1] == 0xFE));
  CHECK(write_jmp_rel32(out, 0x100) == 5);
  CHECK((out[0] == 0xE9 && out[1] == 0x00 && out[2] == 0x01));
  CHECK(mov_r8_imm8_size(6) == 3);
  CHECK(mov_r32_imm32_size(9) == 6);
}
