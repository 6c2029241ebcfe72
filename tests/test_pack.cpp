// Packing code and data into the header fields the kernel ignores, in both layouts. Every program
// must behave the same packed (kConformant), compact (kCompact) and plain (pack = false).
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <cstring>
#include <random>

#include <catch2/catch.hpp>

#include "support.hpp"

namespace x86 = asmjit::x86;
using asmjit::Label;

namespace {

using Build = std::function<void(tinyelf::Program&)>;

struct Variant {
  const char* name;
  tinyelf::LinkOptions options;
};

const Variant kVariants[] = {
    {"plain", {.pack = false}},
    {"conformant", {}},
    {"compact", {.layout = tinyelf::Layout::kCompact}},
    {"conformant, zeroed registers", {.assume_zeroed_registers = true}},
    {"compact, zeroed registers", {.layout = tinyelf::Layout::kCompact, .assume_zeroed_registers = true}},
};

tinyelf::Image link(const Build& build, const tinyelf::LinkOptions& options) {
  tinyelf::Program program;
  build(program);
  return program.link(options);
}

// Links `build` in every variant, runs each with `input` and checks they all give `expected`.
// Conformant files must also satisfy the ELF tools. Returns the sizes, plain first.
std::vector<std::size_t> check_everywhere(const Build& build, int exit_code, const std::string& out,
                                          std::string_view input = {}) {
  std::vector<std::size_t> sizes;
  for (const Variant& variant : kVariants) {
    INFO(variant.name);
    const tinyelf::Image image = link(build, variant.options);
    const tinyelf::RunResult r = tinyelf::run(image, {}, input);
    CHECK(r.term_signal == 0);
    CHECK(r.exit_code == exit_code);
    CHECK(r.out == out);
    if (variant.options.layout == tinyelf::Layout::kConformant)
      test::check_with_elf_tools(image, std::string("pack-") + variant.name);
    sizes.push_back(image.size());
  }
  return sizes;
}

void emit_exit_with_edi(x86::Assembler& a) {
  a.mov(x86::eax, 60);
  a.syscall();
}

// The example programs, assuming nothing about the registers at entry.
void build_exit42(tinyelf::Program& p) {
  x86::Assembler& a = p.text();
  a.push(42);
  a.pop(x86::rdi);
  a.push(60);
  a.pop(x86::rax);
  a.syscall();
}

void build_hello(tinyelf::Program& p) {
  const Label message = p.rodata("Hello, world!\n");
  x86::Assembler& a = p.text();
  a.push(1);
  a.pop(x86::rax);
  a.mov(x86::edi, x86::eax);
  a.lea(x86::rsi, x86::ptr(message));
  a.push(14);
  a.pop(x86::rdx);
  a.syscall();
  a.push(60);
  a.pop(x86::rax);
  a.xor_(x86::edi, x86::edi);
  a.syscall();
}

}  // namespace

TEST_CASE("exit42 packs into p_paddr (120 bytes) and into e_ident when compact (80 bytes)") {
  const Build exit42 = build_exit42;
  CHECK(check_everywhere(exit42, 42, "") == std::vector<std::size_t>{128, 120, 80, 120, 80});

  const tinyelf::Image conformant = link(exit42, {});
  const test::Headers h = test::read_headers(conformant.bytes());
  CHECK(h.phdr.p_paddr == 0x050f583c6a5f2a6a);  // the code, read as p_paddr
  CHECK(h.ehdr.e_entry == 0x400000 + 88);
  CHECK(h.phdr.p_filesz == 120);

  const tinyelf::Image compact = link(exit42, {.layout = tinyelf::Layout::kCompact});
  const test::Headers c = test::read_headers(compact.bytes());
  CHECK(c.ehdr.e_phoff == 24);
  CHECK(c.ehdr.e_entry == 0x500000001);  // p_type = PT_LOAD, p_flags = R|X
  CHECK(c.ehdr.e_phentsize == 56);
  CHECK(c.ehdr.e_phnum == 1);
  CHECK(c.phdr.p_type == PT_LOAD);
  CHECK(c.phdr.p_flags == (PF_R | PF_X));
  CHECK(c.phdr.p_offset == 24);
  CHECK(c.phdr.p_vaddr == 0x500000018);
  CHECK(compact.entry() == 0x500000001);
  CHECK(compact.bytes()[4] == 0x6a);  // push 42, right after "\x7fELF"
}

TEST_CASE("branches forward and backward across holes") {
  const Build loop = [](tinyelf::Program& p) {
    x86::Assembler& a = p.text();
    Label again = a.newLabel(), over = a.newLabel();
    a.mov(x86::ecx, 10);
    a.xor_(x86::edi, x86::edi);
    a.bind(again);
    a.add(x86::edi, x86::ecx);  // 10 + 9 + ... + 1
    a.dec(x86::ecx);
    a.jnz(again);
    a.jmp(over);
    a.ud2();
    a.bind(over);
    emit_exit_with_edi(a);
  };
  const std::vector<std::size_t> sizes = check_everywhere(loop, 55, "");
  CHECK(sizes[1] < sizes[0]);
  CHECK(sizes[2] < sizes[1]);
  CHECK(sizes[4] < sizes[2]);  // mov ecx, 10 -> mov cl, 10 and xor edi, edi dropped
}

TEST_CASE("calls and returns") {
  check_everywhere(
      [](tinyelf::Program& p) {
        x86::Assembler& a = p.text();
        Label f = a.newLabel();
        a.call(f);
        a.lea(x86::edi, x86::ptr(x86::eax, 1));
        emit_exit_with_edi(a);
        a.bind(f);
        a.mov(x86::eax, 32);
        a.ret();
      },
      33, "");
}

TEST_CASE("RIP-relative reads of rodata and writes to data and bss") {
  check_everywhere(
      [](tinyelf::Program& p) {
        const Label two = p.rodata("\x02", 1);
        const Label counter = p.data("\x05\x00\x00\x00", 4);
        const Label scratch = p.bss(64);
        const Label text = p.rodata("ok\n");
        x86::Assembler& a = p.text();
        a.movzx(x86::eax, x86::byte_ptr(two));
        a.add(x86::dword_ptr(counter), x86::eax);      // data: 7
        a.mov(x86::dword_ptr(scratch, 60), x86::eax);  // bss: 2
        a.mov(x86::edi, x86::dword_ptr(counter));
        a.add(x86::edi, x86::dword_ptr(scratch, 60));
        a.add(x86::edi, x86::dword_ptr(scratch, 0));   // still zero
        a.push(x86::rdi);
        a.mov(x86::eax, 1);
        a.mov(x86::edi, 1);
        a.lea(x86::rsi, x86::ptr(text));
        a.mov(x86::edx, 3);
        a.syscall();
        a.pop(x86::rdi);
        emit_exit_with_edi(a);
      },
      9, "ok\n");
}

TEST_CASE("moved instructions keep their label displacements: immediates after them, rel8 back") {
  // The packer copies instruction bytes and rewrites only the displacement (lib/x86_encoding.cpp):
  // an immediate after a RIP-relative disp32, or a 66 prefix before it, must be left alone.
  const Build build = [](tinyelf::Program& p) {
    const Label bytes = p.rodata("\x03\x04", 1);
    const Label cell = p.data("\x00\x00\x00\x00\x00\x00\x00\x00", 8);
    x86::Assembler& a = p.text();
    Label again = a.newLabel(), done = a.newLabel();
    a.mov(x86::dword_ptr(cell), 0x01020304);   // C7 05 disp32 imm32
    a.mov(x86::word_ptr(cell, 4), 0x0506);     // 66 C7 05 disp32 imm16
    a.imul(x86::edi, x86::dword_ptr(cell), 2);  // 6B 3D disp32 imm8: 0x02040608
    a.shr(x86::edi, 24);                       // 2
    a.bind(again);
    a.add(x86::edi, x86::word_ptr(cell, 4));   // + 0x0506 each time round
    a.cmp(x86::byte_ptr(bytes, 1), 4);         // 80 3D disp32 imm8: equal, so...
    a.short_().jne(done);                      // ...never taken
    a.sub(x86::edi, 0x0506);
    a.inc(x86::edi);
    a.cmp(x86::edi, 5);
    a.short_().jb(again);                      // rel8 back: three rounds give 5
    a.bind(done);
    emit_exit_with_edi(a);
  };
  const std::vector<std::size_t> sizes = check_everywhere(build, 5, "");
  CHECK(sizes[1] < sizes[0]);  // packed
  CHECK(sizes[2] < sizes[1]);
}

TEST_CASE("a program addressing memory from rip itself is not packed and still runs") {
  // [rip + disp] with no label means "disp bytes after this instruction": moving the instruction
  // away from what follows it would change the address, so such programs keep the plain layout.
  const Build build = [](tinyelf::Program& p) {
    x86::Assembler& a = p.text();
    Label next = a.newLabel();
    a.lea(x86::rdi, x86::ptr(x86::rip, 0));  // the address of `next`
    a.bind(next);
    a.lea(x86::rax, x86::ptr(next));
    a.sub(x86::rdi, x86::rax);  // 0
    a.add(x86::edi, 42);
    emit_exit_with_edi(a);
  };
  const std::vector<std::size_t> sizes = check_everywhere(build, 42, "");
  CHECK(sizes[1] == sizes[0]);
}

TEST_CASE("a jump table of absolute addresses in rodata (embedLabel) is packed, its entries rewritten") {
  // The table's entries are AsmJit relocations (kRelToAbs, 8 bytes): the packed writer writes
  // each for where its label now is. The program jumps through entry 1 and exits with 42.
  const Build build = [](tinyelf::Program& p) {
    x86::Assembler& a = p.text();
    const Label table = p.rodata(std::string(16, '\0'), 8);
    const Label one = a.newLabel(), two = a.newLabel(), done = a.newLabel();
    a.lea(x86::rcx, x86::ptr(table));
    a.jmp(x86::qword_ptr(x86::rcx, 8));
    a.bind(one);
    a.mov(x86::edi, 1);
    a.jmp(done);
    a.bind(two);
    a.mov(x86::edi, 42);
    a.bind(done);
    emit_exit_with_edi(a);
    // The entries, written over the table's zeros by a second assembler on rodata.
    asmjit::CodeHolder& code = p.code();
    x86::Assembler entries(&code);
    entries.section(code.labelEntry(table)->section());
    entries.setOffset(code.labelEntry(table)->offset());
    entries.embedLabel(one);
    entries.embedLabel(two);
  };
  const std::vector<std::size_t> sizes = check_everywhere(build, 42, "");
  // Plain: 120 header bytes, 29 of code (lea 7, jmp [rcx + 8] 3, mov 5, jmp 2, mov 5, mov 5,
  // syscall 2), padding to 8, the table: 168. Packed: lea becomes mov ecx, imm32 (5) and fills
  // p_paddr with the jmp, which needs no connector; 19 bytes of code after the headers, padding,
  // the table: 160.
  CHECK(sizes[0] == 168);
  CHECK(sizes[1] == 160);
}

TEST_CASE("programs that read their input") {
  const Build cat = [](tinyelf::Program& p) { test::emit_cat(p, 256); };
  const std::string input = "packed programs read stdin\n" + std::string(1000, 'x');
  check_everywhere(cat, 0, input, input);
}

TEST_CASE("compact joins holes with cmp eax, imm32 when the flags are dead") {
  // 11 bytes of code, then an instruction that sets every flag before any is read: the first
  // hole (e_ident[4..16)) ends with 0x3D, which swallows e_type and e_machine, and the code goes
  // on in e_version.
  const Build build = [](tinyelf::Program& p) {
    x86::Assembler& a = p.text();
    a.push(7);
    a.pop(x86::rdi);
    a.push(1);
    a.pop(x86::rcx);
    a.push(2);
    a.pop(x86::rdx);
    a.add(x86::edi, x86::ecx);  // 11 bytes so far
    a.add(x86::edi, x86::edx);  // writes every status flag before anything reads them
    for (int i = 0; i < 5; ++i) a.add(x86::edi, 1);
    a.mov(x86::eax, 60);
    a.syscall();
  };
  check_everywhere(build, 15, "");
  const tinyelf::Image compact = link(build, {.layout = tinyelf::Layout::kCompact});
  CHECK(compact.bytes()[15] == 0x3D);
  CHECK(compact.bytes()[16] == 2);  // e_type ET_EXEC, swallowed as the immediate
  CHECK(compact.bytes()[20] == 0x01);  // add edi, edx (01 D7) in e_version
}

TEST_CASE("compact programs with bss keep the headers apart and still pack") {
  const Build build = [](tinyelf::Program& p) {
    const Label cell = p.bss(8);
    x86::Assembler& a = p.text();
    a.mov(x86::dword_ptr(cell), 21);
    a.mov(x86::edi, x86::dword_ptr(cell));
    a.add(x86::edi, x86::edi);
    emit_exit_with_edi(a);
  };
  const std::vector<std::size_t> sizes = check_everywhere(build, 42, "");
  CHECK(sizes[2] == 120);  // all code in the ignored fields of the two headers
  const tinyelf::Image compact = link(build, {.layout = tinyelf::Layout::kCompact});
  const test::Headers h = test::read_headers(compact.bytes());
  CHECK(h.ehdr.e_phoff == 64);
  CHECK(h.phdr.p_flags == (PF_R | PF_W | PF_X));
  CHECK(h.phdr.p_memsz > h.phdr.p_filesz);
}

TEST_CASE("an instruction with four operands or an extra register is not recorded: plain layout") {
  // The packer records three operands and no extra register (TextItem::kMaxOperands). The
  // instructions come after the exit, so that the test runs on CPUs without AVX or AVX-512.
  const Build four_operands = [](tinyelf::Program& p) {
    x86::Assembler& a = p.text();
    a.mov(x86::edi, 7);
    emit_exit_with_edi(a);
    a.vblendvps(x86::xmm0, x86::xmm1, x86::xmm2, x86::xmm3);
  };
  const Build mask_register = [](tinyelf::Program& p) {
    x86::Assembler& a = p.text();
    a.mov(x86::edi, 7);
    emit_exit_with_edi(a);
    a.k(x86::k1).vaddps(x86::zmm0, x86::zmm1, x86::zmm2);
  };
  for (const Build& build : {four_operands, mask_register}) {
    const std::vector<std::size_t> sizes = check_everywhere(build, 7, "");
    CHECK(sizes[1] == sizes[0]);
  }
}

TEST_CASE("code that was not emitted through text() is not packed but links in both layouts") {
  const Build build = [](tinyelf::Program& p) {
    x86::Builder b(&p.code());
    b.mov(x86::edi, 12);
    b.mov(x86::eax, 60);
    b.syscall();
    b.finalize();
  };
  const std::vector<std::size_t> sizes = check_everywhere(build, 12, "");
  CHECK(sizes[1] == sizes[0]);  // no packing: text() saw none of it
  CHECK(sizes[2] == 72 + 12);   // compact: code from p_align on, reached by a jump in e_ident
}

TEST_CASE("compact files run as an unprivileged user too") {
  // Root ignores vm.mmap_min_addr; an ordinary user does not.
  const tinyelf::Image image = link(
      [](tinyelf::Program& p) {
        const Label text = p.rodata("hi");
        x86::Assembler& a = p.text();
        a.mov(x86::eax, 1);
        a.mov(x86::edi, 1);
        a.lea(x86::rsi, x86::ptr(text));
        a.mov(x86::edx, 2);
        a.syscall();
        a.mov(x86::edi, 3);
        emit_exit_with_edi(a);
      },
      {.layout = tinyelf::Layout::kCompact});
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(100);
    const tinyelf::RunResult r = tinyelf::run(image);
    ::_exit(r.out == "hi" && r.term_signal == 0 ? r.exit_code : 101);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 3);
}

namespace {

// A random small program: registers set to random values, straight-line arithmetic, forward
// branches over a few instructions, short counted loops, reads of rodata and updates of data;
// then it writes every register to stdout from bss.
Build random_program(std::uint32_t seed) {
  return [seed](tinyelf::Program& p) {
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    const x86::Gp regs[] = {x86::eax, x86::ecx, x86::edx, x86::ebx, x86::esi, x86::edi, x86::r8d, x86::r9d};
    constexpr int kRegs = 8;
    const bool with_data = pick(2) == 0;
    const Label constant = with_data ? p.rodata("\x11\x22\x33\x44", 4) : Label();
    const Label variable = with_data ? p.data("\x01\x00\x00\x00", 4) : Label();
    const Label out = p.bss(4 * kRegs, 4);
    x86::Assembler& a = p.text();
    // Registers start known (zero) at entry; set them to small and large values, in ways the
    // zeroed-registers relaxation rewrites (mov, push/pop, xor) and ways it does not.
    for (const x86::Gp& r : regs) {
      switch (pick(4)) {
        case 0: a.mov(r, static_cast<std::uint32_t>(rng())); break;
        case 1: a.mov(r, static_cast<std::uint32_t>(rng() % 300)); break;
        case 2: a.push(static_cast<int>(rng() % 256) - 64); a.pop(r.r64()); break;
        case 3: a.xor_(r, r); break;
      }
    }

    auto emit_op = [&] {
      const x86::Gp& d = regs[pick(kRegs)];
      const x86::Gp& s = regs[pick(kRegs)];
      switch (pick(with_data ? 12 : 10)) {
        case 0: a.add(d, s); break;
        case 1: a.sub(d, static_cast<std::int32_t>(rng() % 1000)); break;
        case 2: a.xor_(d, s); break;
        case 3: a.and_(d, static_cast<std::int32_t>(rng())); break;
        case 4: a.or_(d, s); break;
        case 5: a.imul(d, s); break;
        case 6: a.shl(d, 1 + pick(7)); break;
        case 7: a.inc(d); break;
        case 8: a.neg(d); break;
        case 9: a.lea(d, x86::ptr(s.r64(), regs[pick(kRegs)].r64(), pick(4), pick(256) - 128)); break;
        case 10: a.add(d, x86::dword_ptr(constant)); break;
        case 11: a.add(x86::dword_ptr(variable), d); a.mov(d, x86::dword_ptr(variable)); break;
      }
    };
    std::vector<std::pair<Label, int>> pending;  // forward targets and ops left before them
    const int ops = 1 + pick(30);
    for (int i = 0; i < ops; ++i) {
      for (auto it = pending.begin(); it != pending.end();) {
        if (--it->second <= 0) {
          a.bind(it->first);
          it = pending.erase(it);
        } else {
          ++it;
        }
      }
      const int kind = pick(10);
      if (kind == 0) {  // forward branch
        Label target = a.newLabel();
        a.cmp(regs[pick(kRegs)], static_cast<std::int32_t>(rng() % 512));
        a.emit(x86::Inst::kIdJa + pick(4), target);  // ja, jae, jb, jbe
        pending.push_back({target, 1 + pick(3)});
      } else if (kind == 1 && pending.empty()) {  // counted loop on r12d, which nothing else uses
        Label body = a.newLabel();
        a.mov(x86::r12d, 1 + pick(4));
        a.bind(body);
        for (int j = 0, n = 1 + pick(3); j < n; ++j) emit_op();
        a.dec(x86::r12d);
        a.jnz(body);
      } else {
        emit_op();
      }
    }
    for (auto& [target, left] : pending) a.bind(target);
    if (pick(2) == 0) a.mov(regs[pick(kRegs)], static_cast<std::uint32_t>(rng() % 256));  // after labels
    for (int i = 0; i < kRegs; ++i) a.mov(x86::dword_ptr(out, 4 * i), regs[i]);
    a.mov(x86::eax, 1);
    a.mov(x86::edi, 1);
    a.lea(x86::rsi, x86::ptr(out));
    a.mov(x86::edx, 4 * kRegs);
    a.syscall();
    a.xor_(x86::edi, x86::edi);
    emit_exit_with_edi(a);
  };
}

}  // namespace

TEST_CASE("random programs behave the same packed and compact as plain") {
  constexpr std::uint32_t kPrograms = 2000;
  std::size_t saved_conformant = 0, saved_compact = 0;
  for (std::uint32_t seed = 1; seed <= kPrograms; ++seed) {
    const Build build = random_program(seed);
    const tinyelf::Image plain = link(build, {.pack = false});
    const tinyelf::RunResult expected = tinyelf::run(plain);
    REQUIRE(expected.term_signal == 0);
    REQUIRE(expected.out.size() == 32);
    // The size packed without assuming zeroed registers, by layout: kVariants links it before the
    // variant with them, which must not be bigger.
    std::map<tinyelf::Layout, std::size_t> packed_size;
    for (const Variant& variant : kVariants) {
      if (!variant.options.pack) continue;
      const tinyelf::Image image = link(build, variant.options);
      const tinyelf::RunResult r = tinyelf::run(image);
      if (r.out != expected.out || r.exit_code != expected.exit_code || r.term_signal != 0) {
        FAIL_CHECK("seed " << seed << " differs in layout " << variant.name << " (signal " << r.term_signal << ")");
      }
      // Packing never makes a file bigger; compact always saves at least the unused p_align.
      if (variant.options.assume_zeroed_registers) {
        if (image.size() > packed_size.at(variant.options.layout))
          FAIL_CHECK("seed " << seed << ": zeroed registers made the file bigger");
        continue;
      }
      packed_size[variant.options.layout] = image.size();
      if (variant.options.layout == tinyelf::Layout::kCompact) {
        if (image.size() + 8 > plain.size()) FAIL_CHECK("seed " << seed << ": compact saved too little");
        saved_compact += plain.size() - image.size();
      } else {
        if (image.size() > plain.size()) FAIL_CHECK("seed " << seed << ": packing made the file bigger");
        saved_conformant += plain.size() - image.size();
      }
    }
  }
  CHECK(saved_conformant > 0);
  CHECK(saved_compact > saved_conformant);
  WARN("bytes saved over " << kPrograms << " programs: conformant " << saved_conformant << ", compact "
                           << saved_compact);
}

namespace {

const char* kind_name(tinyelf::RegionKind kind) {
  switch (kind) {
    case tinyelf::RegionKind::kHeader: return "header";
    case tinyelf::RegionKind::kCode: return "code";
    case tinyelf::RegionKind::kData: return "data";
    case tinyelf::RegionKind::kPadding: return "padding";
    case tinyelf::RegionKind::kDebugInfo: return "debug info";
  }
  return "?";
}

// Prints the regions and checks they cover the file in order, without gaps or overlaps.
void print_and_check_regions(const tinyelf::Image& image, const std::string& title) {
  std::cout << title << " (" << image.size() << " bytes)\n";
  std::uint64_t next = 0;
  for (const tinyelf::Region& r : image.regions()) {
    std::cout << "  " << std::setw(4) << r.offset << " +" << std::setw(3) << r.size << "  " << std::setw(7)
              << kind_name(r.kind) << "  " << r.what << (r.field.empty() ? "" : " in ") << r.field << "\n";
    CHECK(r.offset == next);
    CHECK(r.size > 0);
    next = r.offset + r.size;
  }
  CHECK(next == image.size());
}

bool has_region(const tinyelf::Image& image, const tinyelf::Region& expected) {
  for (const tinyelf::Region& r : image.regions())
    if (r.offset == expected.offset && r.size == expected.size && r.kind == expected.kind && r.what == expected.what &&
        r.field == expected.field)
      return true;
  return false;
}

}  // namespace

TEST_CASE("Image::regions tells which bytes hold headers, code and data, and which fields were reused") {
  const Build exit42 = build_exit42;
  const Build hello = build_hello;
  for (const Variant& variant : kVariants) {
    const tinyelf::Image e = link(exit42, variant.options);
    print_and_check_regions(e, std::string("exit42, ") + variant.name);
    const tinyelf::Image h = link(hello, variant.options);
    print_and_check_regions(h, std::string("hello, ") + variant.name);
  }
  using tinyelf::RegionKind;
  CHECK(has_region(link(exit42, {.pack = false}), {120, 8, RegionKind::kCode, "text", ""}));
  CHECK(has_region(link(exit42, {}), {88, 8, RegionKind::kCode, "text", "p_paddr"}));
  CHECK(has_region(link(exit42, {}), {64, 24, RegionKind::kHeader, "program header", ""}));
  CHECK(has_region(link(exit42, {.layout = tinyelf::Layout::kCompact}), {4, 8, RegionKind::kCode, "text", "e_ident[4..16)"}));
  CHECK(has_region(link(hello, {}), {88, 8, RegionKind::kCode, "text", "p_paddr"}));  // 6 bytes and a jmp
  CHECK(has_region(link(hello, {}), {120, 16, RegionKind::kCode, "text", ""}));  // lea rsi became mov esi
  CHECK(has_region(link(hello, {}), {136, 14, RegionKind::kData, ".rodata", ""}));
}

TEST_CASE("every byte of a packed file is in exactly one region, and code or data in a header names its field") {
  // A program with rodata, data and bss: in the conformant layout it has two program headers.
  const Build counter = [](tinyelf::Program& p) {
    const Label start = p.rodata("\x05"), step = p.data("\x02"), zeros = p.bss(16, 8);
    x86::Assembler& a = p.text();
    a.movzx(x86::edi, x86::byte_ptr(start));
    a.add(x86::dil, x86::byte_ptr(step));
    a.add(x86::dil, x86::byte_ptr(zeros, 8));
    emit_exit_with_edi(a);
  };
  std::vector<std::pair<std::string, tinyelf::LinkOptions>> variants;
  for (const Variant& variant : kVariants) variants.emplace_back(variant.name, variant.options);
  variants.emplace_back("single segment", tinyelf::LinkOptions{.single_segment = true});
  variants.emplace_back("position independent", tinyelf::LinkOptions{.position_independent = true});
  bool saw_p_align = false;
  for (const auto& [name, options] : variants) {
    for (const auto& [program, build] : {std::pair<std::string, Build>{"exit42", build_exit42},
                                         {"hello", build_hello}, {"counter", counter}}) {
      INFO(program << ", " << name);
      const tinyelf::Image image = link(build, options);
      const test::Headers h = test::read_headers(image.bytes());
      const std::uint64_t headers_end = std::max<std::uint64_t>(64, h.ehdr.e_phoff + h.ehdr.e_phnum * 56);
      std::vector<int> described(image.size(), 0);
      for (const tinyelf::Region& r : image.regions()) {
        REQUIRE(r.offset + r.size <= image.size());
        for (std::uint64_t at = r.offset; at < r.offset + r.size; ++at) ++described[at];
        const bool content = r.kind == tinyelf::RegionKind::kCode || r.kind == tinyelf::RegionKind::kData;
        if (content && r.offset < headers_end) {
          INFO("region at " << r.offset << ": " << r.what);
          CHECK(!r.field.empty());
          CHECK(r.offset + r.size <= headers_end);
        }
        saw_p_align |= r.field == "p_align";
      }
      CHECK(std::all_of(described.begin(), described.end(), [](int n) { return n == 1; }));
    }
  }
  CHECK(saw_p_align);  // compact files start their tail in p_align
  using tinyelf::RegionKind;
  const tinyelf::Image compact_hello = link(build_hello, {.layout = tinyelf::Layout::kCompact});
  CHECK(has_region(compact_hello, {72, 8, RegionKind::kCode, "text", "p_align"}));
}

TEST_CASE("the packer tries the orders of independent instructions: every valid order of hello packs the same") {
  // hello's first system call needs push 1 / pop rax, push 14 / pop rdx (the stack keeps them in
  // order), mov edi, eax after pop rax, and the lea of the message anywhere: 18 orders. Written in
  // any of them, the program packs to the best size each layout allows.
  enum Step { kPush1, kPopRax, kPush14, kPopRdx, kMovEdi, kLea };
  std::vector<std::vector<Step>> orders;
  for (int mov_at = 2; mov_at <= 4; ++mov_at) {
    for (int lea_at = 0; lea_at <= 5; ++lea_at) {
      std::vector<Step> order = {kPush1, kPopRax, kPush14, kPopRdx};
      order.insert(order.begin() + mov_at, kMovEdi);
      order.insert(order.begin() + lea_at, kLea);
      orders.push_back(order);
    }
  }
  REQUIRE(orders.size() == 18);
  for (const std::vector<Step>& order : orders) {
    const Build build = [&order](tinyelf::Program& p) {
      const Label message = p.rodata("Hello, world!\n");
      x86::Assembler& a = p.text();
      for (const Step step : order) {
        switch (step) {
          case kPush1: a.push(1); break;
          case kPopRax: a.pop(x86::rax); break;
          case kPush14: a.push(14); break;
          case kPopRdx: a.pop(x86::rdx); break;
          case kMovEdi: a.mov(x86::edi, x86::eax); break;
          case kLea: a.lea(x86::rsi, x86::ptr(message)); break;
        }
      }
      a.syscall();
      a.push(60);
      a.pop(x86::rax);
      a.xor_(x86::edi, x86::edi);
      a.syscall();
    };
    CHECK(check_everywhere(build, 0, "Hello, world!\n") == std::vector<std::size_t>{158, 150, 95, 148, 91});
  }
}

TEST_CASE("lea of a label becomes mov r32, imm32 where every address is below 4 GiB") {
  // Each lea loads an address; the program adds what they point to: 1 + 2 + 4 + 8 + 16 = 31.
  const Build build = [](tinyelf::Program& p) {
    const Label one = p.rodata("\x01"), two = p.data("\x00\x02"), zeros = p.bss(8192, 8);
    x86::Assembler& a = p.text();
    a.mov(x86::byte_ptr(zeros, 40), 4);
    a.lea(x86::rsi, x86::ptr(one));        // 7 bytes -> BE imm32, 5 bytes
    a.lea(x86::r9, x86::ptr(two, 1));      // displacement kept; 7 -> 41 B9 imm32, 6
    a.lea(x86::edx, x86::ptr(zeros, 32));  // a bss label: its address is known only after placement
    a.lea(x86::r10d, x86::ptr(zeros));     // lea r10d (7 bytes) -> 6
    a.movzx(x86::edi, x86::byte_ptr(x86::rsi));
    a.add(x86::dil, x86::byte_ptr(x86::r9));
    a.add(x86::dil, x86::byte_ptr(x86::rdx, 8));
    a.mov(x86::byte_ptr(x86::r10, 48), 8);
    a.add(x86::dil, x86::byte_ptr(x86::r10, 48));
    a.add(x86::dil, 16);
    emit_exit_with_edi(a);
  };
  const std::vector<std::size_t> sizes = check_everywhere(build, 31, "");
  CHECK(sizes[1] <= sizes[0] - 5);  // conformant: 2 + 1 + 1 + 1 bytes shorter, before the hole
  const tinyelf::Image packed = link(build, {});
  bool found_mov_esi = false;  // mov esi, the address of .rodata
  for (std::size_t i = 0; i + 5 <= packed.size(); ++i)
    if (packed.bytes()[i] == 0xBE) {
      std::uint32_t address = 0;
      std::memcpy(&address, packed.bytes().data() + i + 1, 4);
      for (const tinyelf::Region& region : packed.regions())
        if (region.what == ".rodata" && address == 0x400000 + region.offset) found_mov_esi = true;
    }
  CHECK(found_mov_esi);
  // The overlapped layout lives above 4 GiB; from this base, bss (on the page after the code's,
  // for W^X) crosses 4 GiB: lea stays.
  tinyelf::LinkOptions high{.base_address = 0xFFFFE000};
  CHECK(tinyelf::run(link(build, high)).exit_code == 31);
  CHECK(link(build, high).size() > packed.size());
}

TEST_CASE("assume_zeroed_registers shortens only what the entry state proves") {
  const tinyelf::LinkOptions zeroed{.layout = tinyelf::Layout::kCompact, .assume_zeroed_registers = true};
  SECTION("mov eax, 1 becomes mov al, 1 and a xor of a zero register disappears") {
    const Build build = [](tinyelf::Program& p) {
      x86::Assembler& a = p.text();
      a.xor_(x86::edi, x86::edi);  // already zero, and the flags are dead: dropped
      a.mov(x86::edi, 9);          // -> mov dil, 9 (40 B7 09)
      a.mov(x86::eax, 60);         // -> mov al, 60 (B0 3C)
      a.syscall();
    };
    check_everywhere(build, 9, "");
    const tinyelf::Image image = link(build, zeroed);
    const std::uint8_t expected[] = {0x40, 0xB7, 0x09, 0xB0, 0x3C, 0x0F, 0x05};
    CHECK(std::memcmp(image.bytes().data() + 4, expected, sizeof expected) == 0);
  }
  SECTION("after a label nothing is known, and a xor whose flags are read stays") {
    const Build build = [](tinyelf::Program& p) {
      x86::Assembler& a = p.text();
      Label loop = a.newLabel(), done = a.newLabel();
      a.mov(x86::ecx, 3);  // -> mov cl, 3
      a.bind(loop);
      a.mov(x86::edi, 7);  // after the label: edi is 7 on the way back, so it stays 5 bytes
      a.dec(x86::ecx);
      a.jnz(loop);
      a.xor_(x86::edx, x86::edx);  // rdx may be anything here in general; kept
      a.xor_(x86::esi, x86::esi);
      a.jz(done);  // reads the flags the xor set
      a.ud2();
      a.bind(done);
      a.mov(x86::eax, 60);
      a.syscall();
    };
    check_everywhere(build, 7, "");
    const tinyelf::Image image = link(build, zeroed);
    const std::string bytes(reinterpret_cast<const char*>(image.bytes().data()), image.size());
    CHECK(bytes.substr(4, 2) == "\xB1\x03");                                // mov cl, 3
    CHECK(bytes.find(std::string("\xBF\x07\x00\x00\x00", 5)) != std::string::npos);  // mov edi, 7 kept
    CHECK(bytes.find("\x31\xD2") != std::string::npos);                     // xor edx, edx kept
    CHECK(bytes.find("\x31\xF6") != std::string::npos);                     // xor esi, esi kept
  }
}

TEST_CASE("large compact files map every page: p_filesz covers the file") {
  // Too many instructions to pack: the plain compact layout (code from p_align on). A 300 KB file
  // needs p_filesz = 1 + 65536 * k (it doubles as e_phnum = 1) reaching its last page.
  for (bool with_bss : {false, true}) {
    tinyelf::Program program;
    const Label last = program.rodata("\x2a");
    const Label counter = program.data("\x00\x00\x00\x00");
    const Label cells = with_bss ? program.bss(1 << 20) : Label();
    x86::Assembler& a = program.text();
    for (int i = 0; i < 100'000; ++i) a.add(x86::dword_ptr(counter), 1);  // 7 bytes each
    if (with_bss) a.mov(x86::byte_ptr(cells, (1 << 20) - 1), 1);
    a.movzx(x86::edi, x86::byte_ptr(last));      // read the last byte of the file
    a.add(x86::edi, x86::dword_ptr(counter));  // 42 + 100000
    a.mov(x86::eax, 60);
    a.syscall();
    const tinyelf::Image image = program.link({.layout = tinyelf::Layout::kCompact});
    INFO("bss " << with_bss << ", " << image.size() << " bytes");
    CHECK(image.size() > 700'000);
    const tinyelf::RunResult r = tinyelf::run(image);
    CHECK(r.term_signal == 0);
    CHECK(r.exit_code == (42 + 100'000) % 256);
  }
}
