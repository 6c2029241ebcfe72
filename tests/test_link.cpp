// Program::link in the conformant layout: the bytes we write, and what the kernel does with them.
#include <algorithm>
#include <array>
#include <cstring>

#include <catch2/catch.hpp>

#include "support.hpp"

using namespace asmjit;

namespace {

// exit(status) without assumptions about registers: push imm8; pop rdi; push 60; pop rax; syscall.
void emit_exit(x86::Assembler& a, int status) {
  a.push(status);
  a.pop(x86::rdi);
  a.push(60);  // SYS_exit
  a.pop(x86::rax);
  a.syscall();
}

// exit(edi): the status is already in edi.
void emit_exit_with_edi(x86::Assembler& a) {
  a.mov(x86::eax, 60);
  a.syscall();
}

// write(1, label, size)
void emit_write_stdout(x86::Assembler& a, Label text, std::size_t size) {
  a.mov(x86::eax, 1);  // SYS_write
  a.mov(x86::edi, 1);
  a.lea(x86::rsi, x86::ptr(text));
  a.mov(x86::edx, static_cast<std::uint32_t>(size));
  a.syscall();
}

}  // namespace

TEST_CASE("unpacked exit42 is 128 bytes: ELF header, one program header, 8 code bytes") {
  tinyelf::Program program;
  emit_exit(program.text(), 42);
  const tinyelf::Image image = program.link({.pack = false});

  CHECK(image.size() == 128);
  const std::uint8_t code[] = {0x6a, 0x2a, 0x5f, 0x6a, 0x3c, 0x58, 0x0f, 0x05};
  CHECK(std::memcmp(image.bytes().data() + 120, code, sizeof code) == 0);

  const test::Headers h = test::read_headers(image.bytes());
  SECTION("ELF header, field by field") {
    CHECK(std::memcmp(h.ehdr.e_ident, ELFMAG, SELFMAG) == 0);
    CHECK(h.ehdr.e_ident[EI_CLASS] == ELFCLASS64);
    CHECK(h.ehdr.e_ident[EI_DATA] == ELFDATA2LSB);
    CHECK(h.ehdr.e_ident[EI_VERSION] == EV_CURRENT);
    CHECK(h.ehdr.e_ident[EI_OSABI] == ELFOSABI_SYSV);
    for (int i = EI_ABIVERSION; i < EI_NIDENT; ++i) CHECK(h.ehdr.e_ident[i] == 0);
    CHECK(h.ehdr.e_type == ET_EXEC);
    CHECK(h.ehdr.e_machine == EM_X86_64);
    CHECK(h.ehdr.e_version == EV_CURRENT);
    CHECK(h.ehdr.e_entry == 0x400078);
    CHECK(image.entry() == 0x400078);
    CHECK(h.ehdr.e_phoff == 64);
    CHECK(h.ehdr.e_shoff == 0);
    CHECK(h.ehdr.e_flags == 0);
    CHECK(h.ehdr.e_ehsize == 64);
    CHECK(h.ehdr.e_phentsize == 56);
    CHECK(h.ehdr.e_phnum == 1);
    CHECK(h.ehdr.e_shentsize == 0);
    CHECK(h.ehdr.e_shnum == 0);
    CHECK(h.ehdr.e_shstrndx == SHN_UNDEF);
  }
  SECTION("program header, field by field") {
    CHECK(h.phdr.p_type == PT_LOAD);
    CHECK(h.phdr.p_flags == (PF_R | PF_X));
    CHECK(h.phdr.p_offset == 0);
    CHECK(h.phdr.p_vaddr == 0x400000);
    CHECK(h.phdr.p_filesz == 128);
    CHECK(h.phdr.p_memsz == 128);
    CHECK(h.phdr.p_align == 0x1000);
    CHECK(h.phdr.p_offset % 0x1000 == h.phdr.p_vaddr % 0x1000);
  }
  SECTION("the kernel runs it and every ELF tool accepts it") {
    const tinyelf::RunResult r = tinyelf::run(image);
    CHECK(r.exit_code == 42);
    CHECK(r.term_signal == 0);
    test::check_with_elf_tools(image, "exit42");
  }
}

TEST_CASE("hello world writes its message from rodata, placed right after the code") {
  constexpr std::string_view kMessage = "Hello, world!\n";
  tinyelf::Program program;
  const Label message = program.rodata(kMessage);
  emit_write_stdout(program.text(), message, kMessage.size());
  emit_exit(program.text(), 0);
  const tinyelf::Image image = program.link();

  const std::string_view tail(reinterpret_cast<const char*>(image.bytes().data()) + image.size() - kMessage.size(),
                              kMessage.size());
  CHECK(tail == kMessage);  // rodata has alignment 1: no padding, and it ends the file
  const tinyelf::RunResult r = tinyelf::run(image);
  CHECK(r.out == kMessage);
  CHECK(r.err.empty());
  CHECK(r.exit_code == 0);
  const test::Headers h = test::read_headers(image.bytes());
  CHECK(h.phdr.p_flags == (PF_R | PF_X));  // rodata alone does not make the segment writable
  test::check_with_elf_tools(image, "hello");
}

TEST_CASE("labels across sections: rodata reads, data and bss writes, jumps both ways") {
  tinyelf::Program program;
  const Label constant = program.rodata("\x07\x00\x00\x00", 4);
  const Label counter = program.data("\x05\x00\x00\x00", 4);
  const Label scratch = program.bss(4096, 64);
  x86::Assembler& a = program.text();
  Label forward = a.newLabel(), loop = a.newLabel(), done = a.newLabel();

  a.jmp(forward);                                    // forward jump over a trap
  a.ud2();
  a.bind(forward);
  a.mov(x86::eax, x86::dword_ptr(constant));         // 7 from rodata
  a.add(x86::eax, x86::dword_ptr(counter));          // + 5 from data
  a.mov(x86::dword_ptr(counter), x86::eax);          // data becomes 12
  a.lea(x86::rcx, x86::ptr(scratch));
  a.xor_(x86::edx, x86::edx);
  a.mov(x86::esi, 4096);
  a.bind(loop);                                      // OR every bss byte into edx: must stay 0
  a.movzx(x86::r8d, x86::byte_ptr(x86::rcx));
  a.or_(x86::edx, x86::r8d);
  a.inc(x86::rcx);
  a.dec(x86::esi);
  a.jnz(loop);                                       // backward jump
  a.test(x86::edx, x86::edx);
  a.jnz(done);                                       // bss not zero: exit with 12 + 1 + 100
  a.mov(x86::dword_ptr(scratch, 4092), 100);         // write the last bss dword and read it back
  a.mov(x86::edi, x86::dword_ptr(counter));
  a.add(x86::edi, x86::dword_ptr(scratch, 4092));    // 12 + 100
  emit_exit_with_edi(a);
  a.bind(done);
  a.lea(x86::edi, x86::ptr(x86::eax, 101));
  emit_exit_with_edi(a);

  const tinyelf::Image image = program.link();
  const tinyelf::RunResult r = tinyelf::run(image);
  CHECK(r.term_signal == 0);
  CHECK(r.exit_code == 112);

  // W^X: headers, text and rodata R+X; data and bss R+W, mapping the file again from the data.
  const test::Headers h = test::read_headers(image.bytes());
  REQUIRE(h.phdrs.size() == 2);
  const Elf64_Phdr& rx = h.phdrs[0];
  const Elf64_Phdr& rw = h.phdrs[1];
  CHECK(rx.p_flags == (PF_R | PF_X));
  CHECK(rw.p_flags == (PF_R | PF_W));
  CHECK(rw.p_offset + rw.p_filesz == image.size());
  for (const tinyelf::Region& region : image.regions())  // packed: the data may sit in a header field
    if (region.what == ".data") CHECK(rw.p_offset == region.offset);
  CHECK(rw.p_vaddr % 4096 == rw.p_offset % 4096);        // the kernel requires it
  CHECK(rw.p_vaddr / 4096 > (rx.p_vaddr + rx.p_memsz - 1) / 4096);  // no page of both
  CHECK(rw.p_memsz >= rw.p_filesz + 4096);               // bss costs no file bytes
  CHECK(rw.p_memsz < rw.p_filesz + 4096 + 64);
  test::check_with_elf_tools(image, "sections");
}

TEST_CASE("file order is text, rodata, data, bss whatever order the program used them in") {
  for (const bool packed : {false, true}) {
    tinyelf::Program program;
    const Label zeros = program.bss(8, 8);         // bss, data, rodata: the reverse of the file order
    const Label counter = program.data("\x05", 1);
    const Label constant = program.rodata("\x07", 1);
    x86::Assembler& a = program.text();
    a.movzx(x86::edi, x86::byte_ptr(constant));    // 7
    a.add(x86::dil, x86::byte_ptr(counter));       // + 5
    a.add(x86::dil, x86::byte_ptr(zeros));         // + 0
    emit_exit_with_edi(a);
    tinyelf::LinkOptions options;
    options.pack = packed;
    const tinyelf::Image image = program.link(options);
    INFO("pack " << packed);
    CHECK(tinyelf::run(image).exit_code == 12);
    test::check_with_elf_tools(image, "section-order");
    if (packed) continue;  // the packer may put data into a header hole ahead of the code
    std::vector<std::string_view> order;
    for (const tinyelf::Region& region : image.regions())
      if (region.kind == tinyelf::RegionKind::kCode || region.kind == tinyelf::RegionKind::kData)
        order.push_back(region.what);
    CHECK(order == std::vector<std::string_view>{"text", ".rodata", ".data"});
  }
}

TEST_CASE("data and bss get their own R+W segment: no memory is both writable and executable") {
  using Flags = std::vector<std::uint32_t>;
  auto flags_with = [](auto add_data, tinyelf::LinkOptions options) {
    tinyelf::Program program;
    add_data(program);
    emit_exit(program.text(), 0);
    const tinyelf::Image image = program.link(options);
    CHECK(tinyelf::run(image).exit_code == 0);
    Flags flags;
    for (const Elf64_Phdr& phdr : test::read_headers(image.bytes()).phdrs) flags.push_back(phdr.p_flags);
    return flags;
  };
  const auto nothing = [](tinyelf::Program&) {};
  const auto rodata = [](tinyelf::Program& p) { p.rodata("x"); };
  const auto data = [](tinyelf::Program& p) { p.data("x"); };
  const auto bss = [](tinyelf::Program& p) { p.bss(1); };
  const auto empty_data = [](tinyelf::Program& p) { p.data(""); };
  for (const bool pack : {true, false}) {
    INFO("pack " << pack);
    const tinyelf::LinkOptions split{.pack = pack};
    CHECK(flags_with(nothing, split) == Flags{PF_R | PF_X});
    CHECK(flags_with(rodata, split) == Flags{PF_R | PF_X});
    CHECK(flags_with(empty_data, split) == Flags{PF_R | PF_X});  // no writable byte
    CHECK(flags_with(data, split) == Flags{PF_R | PF_X, PF_R | PF_W});
    CHECK(flags_with(bss, split) == Flags{PF_R | PF_X, PF_R | PF_W});

    tinyelf::LinkOptions single = split;
    single.single_segment = true;
    CHECK(flags_with(nothing, single) == Flags{PF_R | PF_X});
    CHECK(flags_with(data, single) == Flags{PF_R | PF_W | PF_X});
    CHECK(flags_with(bss, single) == Flags{PF_R | PF_W | PF_X});

    const tinyelf::LinkOptions compact{.layout = tinyelf::Layout::kCompact, .pack = pack};
    CHECK(flags_with(data, compact) == Flags{PF_R | PF_W | PF_X});
    CHECK(flags_with(bss, compact) == Flags{PF_R | PF_W | PF_X});
  }
}

namespace {

// Writes the address of its own first instruction and of its data and bss (8 bytes each) to
// stdout, then checks that its data is where it wrote: exit status 7.
void build_where_am_i(tinyelf::Program& program) {
  const Label value = program.data("\x07");
  const Label zeros = program.bss(8, 8);
  x86::Assembler& a = program.text();
  Label start = a.newLabel();
  a.bind(start);
  a.lea(x86::rax, x86::ptr(start));
  a.mov(x86::qword_ptr(zeros), x86::rax);  // bss: the code's address
  a.lea(x86::rax, x86::ptr(value));
  a.push(x86::rax);                        // the data's address
  a.lea(x86::rax, x86::ptr(zeros));
  a.push(x86::rax);                        // the bss's address
  a.push(x86::qword_ptr(zeros));
  a.mov(x86::eax, 1);                      // SYS_write
  a.mov(x86::edi, 1);
  a.mov(x86::rsi, x86::rsp);
  a.mov(x86::edx, 24);
  a.syscall();
  a.movzx(x86::edi, x86::byte_ptr(value));
  emit_exit_with_edi(a);
}

std::vector<std::uint64_t> addresses(const std::string& out) {
  std::vector<std::uint64_t> values(out.size() / 8);
  std::memcpy(values.data(), out.data(), values.size() * 8);
  return values;
}

}  // namespace

TEST_CASE("position_independent: an ET_DYN file at address 0 that the kernel loads at a random address") {
  // /proc/sys/kernel/randomize_va_space: 0 turns ASLR off; then both runs see the same address.
  const bool aslr = test::read_file("/proc/sys/kernel/randomize_va_space").substr(0, 1) != "0";
  if (!aslr) WARN("kernel.randomize_va_space is 0 on this machine: ET_DYN files load at one address");
  for (const bool pack : {true, false}) {
    for (const bool single : {false, true}) {
      INFO("pack " << pack << ", single segment " << single);
      tinyelf::Program program;
      build_where_am_i(program);
      const tinyelf::Image image =
          program.link({.pack = pack, .single_segment = single, .position_independent = true});
      const test::Headers h = test::read_headers(image.bytes());
      CHECK(h.ehdr.e_type == ET_DYN);
      CHECK(h.phdrs.front().p_vaddr == 0);
      CHECK(h.phdrs.size() == (single ? 1u : 2u));
      const tinyelf::RunResult first = tinyelf::run(image), second = tinyelf::run(image);
      CHECK(first.exit_code == 7);
      CHECK(second.exit_code == 7);
      const std::vector<std::uint64_t> a = addresses(first.out), b = addresses(second.out);
      REQUIRE(a.size() == 3);
      REQUIRE(b.size() == 3);
      CHECK(a[0] > 0x10000);  // loaded, not at 0
      CHECK((a[0] != b[0]) == aslr);
      CHECK(a[1] - a[0] == b[1] - b[0]);  // one load bias moves everything
      CHECK(a[2] - a[0] == b[2] - b[0]);
      test::check_with_elf_tools(image, "position-independent");
    }
  }
  SECTION("the same program at a fixed address prints the same address every time") {
    tinyelf::Program program;
    build_where_am_i(program);
    const tinyelf::Image image = program.link();
    CHECK(addresses(tinyelf::run(image).out) == addresses(tinyelf::run(image).out));
    CHECK(addresses(tinyelf::run(image).out)[0] >= 0x400000);
  }
  SECTION("the packer keeps lea RIP-relative: a label's address is known only at exec") {
    tinyelf::Program program;
    const Label message = program.rodata("hi\n");
    x86::Assembler& a = program.text();
    a.lea(x86::rsi, x86::ptr(message));
    a.mov(x86::eax, 1);
    a.mov(x86::edi, 1);
    a.mov(x86::edx, 3);
    a.syscall();
    emit_exit(a, 0);
    const tinyelf::Image image = program.link({.position_independent = true});
    CHECK(tinyelf::run(image).out == "hi\n");
    const std::array<std::uint8_t, 3> lea_rsi_rip = {0x48, 0x8d, 0x35};  // lea rsi, [rip + disp32]
    const auto bytes = image.bytes();
    CHECK(std::search(bytes.begin(), bytes.end(), lea_rsi_rip.begin(), lea_rsi_rip.end()) != bytes.end());
  }
}

TEST_CASE("alignment of data holds for virtual addresses") {
  for (std::size_t align : {1u, 2u, 16u, 64u, 4096u}) {
    tinyelf::Program program;
    program.rodata("x");  // misalign what follows
    const Label label = align >= 64 ? program.data("y", align) : program.rodata("y", align);
    const Label zeros = program.bss(3, align);
    x86::Assembler& a = program.text();
    a.lea(x86::rax, x86::ptr(label));
    a.lea(x86::rcx, x86::ptr(zeros));
    a.or_(x86::rax, x86::rcx);
    a.and_(x86::eax, static_cast<std::uint32_t>(align - 1));  // 0 when both are aligned
    a.mov(x86::edi, x86::eax);
    emit_exit_with_edi(a);
    INFO("align " << align);
    CHECK(tinyelf::run(program.link()).exit_code == 0);
  }
}

TEST_CASE("set_entry starts execution at a label and the default is the first byte of text") {
  tinyelf::Program program;
  x86::Assembler& a = program.text();
  emit_exit(a, 1);
  Label start = a.newLabel();
  a.bind(start);
  emit_exit(a, 2);
  program.set_entry(start);
  const tinyelf::Image image = program.link({.pack = false});
  CHECK(image.entry() == 0x400000 + 120 + 8);
  CHECK(test::read_headers(image.bytes()).ehdr.e_entry == image.entry());
  CHECK(tinyelf::run(image).exit_code == 2);
}

TEST_CASE("base_address moves the whole image") {
  for (std::uint64_t base : {0x10000ull, 0x400000ull, 0x7f0000000000ull}) {
    tinyelf::Program program;
    const Label message = program.rodata("ok");
    emit_write_stdout(program.text(), message, 2);
    emit_exit(program.text(), 3);
    const tinyelf::Image image = program.link({.pack = false, .base_address = base});
    const test::Headers h = test::read_headers(image.bytes());
    INFO("base " << base);
    CHECK(h.phdr.p_vaddr == base);
    CHECK(image.entry() == base + 120);
    const tinyelf::RunResult r = tinyelf::run(image);
    CHECK(r.out == "ok");
    CHECK(r.exit_code == 3);
  }
}

TEST_CASE("x86::Compiler with virtual registers produces a working executable") {
  tinyelf::Program program;
  x86::Compiler cc(&program.code());
  FuncNode* function = cc.addFunc(FuncSignatureT<int, int>(CallConvId::kHost));
  // _start first, so it is the default entry.
  x86::Assembler& a = program.text();
  a.mov(x86::edi, 10);
  a.call(function->label());
  a.mov(x86::edi, x86::eax);
  emit_exit_with_edi(a);

  // fib(n) iteratively, with more live values than a trivial allocator would handle in place.
  x86::Gp n = cc.newInt32("n"), x = cc.newInt32("x"), y = cc.newInt32("y"), t = cc.newInt32("t");
  Label loop = cc.newLabel(), done = cc.newLabel();
  function->setArg(0, n);
  cc.xor_(x, x);
  cc.mov(y, 1);
  cc.bind(loop);
  cc.test(n, n);
  cc.jz(done);
  cc.mov(t, x);
  cc.add(t, y);
  cc.mov(x, y);
  cc.mov(y, t);
  cc.dec(n);
  cc.jmp(loop);
  cc.bind(done);
  cc.ret(x);
  cc.endFunc();
  cc.finalize();

  const tinyelf::Image image = program.link();
  CHECK(tinyelf::run(image).exit_code == 55);  // fib(10)
  test::check_with_elf_tools(image, "compiler");
}

TEST_CASE("x86::Builder can be attached instead of the Assembler") {
  tinyelf::Program program;
  const Label message = program.rodata("built\n");
  x86::Builder b(&program.code());
  b.mov(x86::eax, 1);
  b.mov(x86::edi, 1);
  b.lea(x86::rsi, x86::ptr(message));
  b.mov(x86::edx, 6);
  b.syscall();
  b.mov(x86::eax, 60);
  b.mov(x86::edi, 7);
  b.syscall();
  b.finalize();
  const tinyelf::RunResult r = tinyelf::run(program.link());
  CHECK(r.out == "built\n");
  CHECK(r.exit_code == 7);
}

TEST_CASE("a program of 1,000,000 instructions links and runs") {
  tinyelf::Program program;
  x86::Assembler& a = program.text();
  a.xor_(x86::edi, x86::edi);
  for (int i = 0; i < 999'996; ++i) a.add(x86::edi, 1);  // 3 bytes each
  emit_exit_with_edi(a);                                   // with xor: 4 instructions more
  const tinyelf::Image image = program.link();
  CHECK(image.size() > 3'000'000);
  CHECK(tinyelf::run(image).exit_code == 999'996 % 256);
}

TEST_CASE("reset() leaves nothing of the previous program behind") {
  auto build_second = [](tinyelf::Program& program) {
    const Label message = program.rodata("second\n");
    program.bss(64);
    emit_write_stdout(program.text(), message, 7);
    emit_exit(program.text(), 9);
    return program.link();
  };
  tinyelf::Program fresh;
  const tinyelf::Image expected = build_second(fresh);

  tinyelf::Program reused;
  // The first program uses everything a program can hold: data, bss, named labels, an entry.
  reused.data("first data", 8);
  reused.rodata("first rodata", 16);
  reused.bss(1 << 20, 4096);
  x86::Assembler& a = reused.text();
  Label entry = a.newNamedLabel("entry");
  emit_exit(a, 1);
  a.bind(entry);
  emit_exit(a, 2);
  reused.set_entry(entry);
  CHECK(tinyelf::run(reused.link()).exit_code == 2);

  reused.reset();
  const tinyelf::Image second = build_second(reused);
  CHECK(std::equal(second.bytes().begin(), second.bytes().end(), expected.bytes().begin(), expected.bytes().end()));
  const tinyelf::RunResult r = tinyelf::run(second);
  CHECK(r.out == "second\n");
  CHECK(r.exit_code == 9);

  SECTION("a name used before reset can be used again") {
    reused.reset();
    Label again = reused.text().newNamedLabel("entry");
    reused.text().bind(again);
    emit_exit(reused.text(), 4);
    reused.set_entry(again);
    CHECK(tinyelf::run(reused.link()).exit_code == 4);
  }
}

TEST_CASE("a string literal gives all its bytes to rodata and data, embedded NULs included") {
  tinyelf::Program program;
  const Label four = program.rodata("\x07\x00\x00\x01");
  const Label two = program.data("\x00\x02");
  x86::Assembler& a = program.text();
  a.mov(x86::edi, x86::dword_ptr(four));   // 0x01000007
  a.shr(x86::edi, 24);                     // 1
  a.movzx(x86::eax, x86::byte_ptr(two, 1));  // 2
  a.add(x86::edi, x86::eax);
  a.mov(x86::eax, 60);
  a.syscall();
  const tinyelf::Image image = program.link({.pack = false});
  CHECK(tinyelf::run(image).exit_code == 3);
  const std::uint8_t expected[] = {0x07, 0x00, 0x00, 0x01, 0x00, 0x02};  // rodata, then data
  CHECK(std::memcmp(image.bytes().data() + image.size() - 6, expected, 6) == 0);
}

namespace {

using Catch::Matchers::Contains;

// write(1, "made by a factory\n") and exit(status), made in a function and returned by value.
tinyelf::Program make_exit_program(int status) {
  tinyelf::Program program;
  const Label message = program.rodata("made by a factory\n");
  emit_write_stdout(program.text(), message, 18);
  emit_exit(program.text(), status);
  return program;
}

}  // namespace

static_assert(std::is_nothrow_move_constructible_v<tinyelf::Program>);
static_assert(std::is_nothrow_move_assignable_v<tinyelf::Program>);
static_assert(!std::is_copy_constructible_v<tinyelf::Program> && !std::is_copy_assignable_v<tinyelf::Program>);

TEST_CASE("a factory function returns a Program, which is then linked and run") {
  tinyelf::Program program = make_exit_program(11);
  const tinyelf::RunResult r = tinyelf::run(program.link());
  CHECK(r.out == "made by a factory\n");
  CHECK(r.exit_code == 11);
}

TEST_CASE("a std::vector<Program> keeps its programs through reallocation") {
  std::vector<tinyelf::Program> programs;
  std::vector<x86::Assembler*> assemblers;
  std::size_t reallocations = 0;
  for (int i = 0; i < 40; ++i) {
    const std::size_t capacity = programs.capacity();
    programs.push_back(make_exit_program(i));
    reallocations += programs.capacity() != capacity;
    assemblers.push_back(&programs.back().text());
  }
  CHECK(reallocations >= 5);  // 1, 2, 4, 8, 16, 32, 64 with libstdc++
  for (int i = 0; i < 40; ++i) {
    CHECK(&programs[i].text() == assemblers[i]);  // the assembler did not move, only the Program
    const tinyelf::Image image = programs[i].link();
    CHECK(image.size() == make_exit_program(i).link().size());
    const tinyelf::RunResult r = tinyelf::run(image);
    CHECK(r.out == "made by a factory\n");
    CHECK(r.exit_code == i);
  }
}

TEST_CASE("move assignment over a program that had code replaces it entirely") {
  tinyelf::Program target;
  target.data("old data", 8);
  target.bss(1 << 16);
  emit_exit(target.text(), 1);
  target.set_entry(target.text().newNamedLabel("old"));  // never bound: would fail link()

  target = make_exit_program(3);
  const tinyelf::Image image = target.link();
  const tinyelf::Image expected = make_exit_program(3).link();
  CHECK(std::equal(image.bytes().begin(), image.bytes().end(), expected.bytes().begin(), expected.bytes().end()));
  CHECK(tinyelf::run(image).exit_code == 3);

  SECTION("a linked program moved in stays linked") {
    tinyelf::Program linked = make_exit_program(4);
    CHECK(tinyelf::run(linked.link()).exit_code == 4);
    target = std::move(linked);
    CHECK_THROWS_WITH(target.link(), Contains("linked already"));
  }
}

TEST_CASE("the recording assembler still packs after a move: exit42 stays 120 bytes") {
  SECTION("moved before emitting") {
    tinyelf::Program first;
    tinyelf::Program program = std::move(first);
    emit_exit(program.text(), 42);
    const tinyelf::Image image = program.link();
    CHECK(image.size() == 120);
    CHECK(tinyelf::run(image).exit_code == 42);
  }
  SECTION("moved after emitting, through a reference to text() taken before the move") {
    tinyelf::Program first;
    x86::Assembler& a = first.text();
    emit_exit(a, 42);
    tinyelf::Program program(std::move(first));
    CHECK(&program.text() == &a);
    const tinyelf::Image image = program.link();
    CHECK(image.size() == 120);
    CHECK(tinyelf::run(image).exit_code == 42);
  }
  SECTION("moved into a vector, then emitting") {
    std::vector<tinyelf::Program> programs(1);
    programs.reserve(programs.capacity() + 1);  // reallocates: the Program is moved
    emit_exit(programs[0].text(), 42);
    CHECK(programs[0].link().size() == 120);
  }
}

TEST_CASE("a Program moved from can be destroyed, assigned to, or reset() to start again") {
  tinyelf::Program source = make_exit_program(5);
  tinyelf::Program destination = std::move(source);
  CHECK(tinyelf::run(destination.link()).exit_code == 5);

  SECTION("destroyed") {}  // the scope's end destroys it: nothing to free twice (ASan builds check)
  SECTION("assigned to") {
    source = make_exit_program(6);
    CHECK(tinyelf::run(source.link()).exit_code == 6);
  }
  SECTION("reset(): a new, empty program") {
    source.reset();
    CHECK_THROWS_WITH(source.link(), Contains("text is empty"));
    source.reset();
    emit_exit(source.text(), 42);
    CHECK(source.link().size() == 120);
  }
  SECTION("moved from again, moved to itself, then assigned a linked program") {
    tinyelf::Program other = std::move(source);
    tinyelf::Program& alias = source;
    source = std::move(alias);
    source = std::move(destination);
    CHECK_THROWS_WITH(source.link(), Contains("linked already"));
  }
}

TEST_CASE("a default Image is empty; Images copy and move like values") {
  const tinyelf::Image empty;
  CHECK(empty.size() == 0);
  CHECK(empty.bytes().empty());
  CHECK(empty.entry() == 0);
  CHECK(empty.regions().empty());

  tinyelf::Program program;
  emit_exit(program.text(), 42);
  tinyelf::Image image = program.link();
  const std::vector<std::uint8_t> bytes(image.bytes().begin(), image.bytes().end());
  const std::size_t region_count = image.regions().size();

  tinyelf::Image copy = image;
  CHECK(std::equal(copy.bytes().begin(), copy.bytes().end(), bytes.begin(), bytes.end()));
  CHECK(copy.bytes().data() != image.bytes().data());
  CHECK(copy.entry() == image.entry());
  CHECK(copy.regions().size() == region_count);

  tinyelf::Image moved = std::move(image);
  CHECK(std::equal(moved.bytes().begin(), moved.bytes().end(), bytes.begin(), bytes.end()));
  CHECK(moved.regions().size() == region_count);
  CHECK(tinyelf::run(moved).exit_code == 42);

  tinyelf::Image assigned;
  assigned = copy;
  CHECK(assigned.size() == bytes.size());
  assigned = tinyelf::Image();
  CHECK(assigned.size() == 0);
  CHECK(assigned.regions().empty());
}
