// Every way to misuse Program and link() throws tinyelf::Error with its own code and a message
// that says what to do.
#include <set>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "support.hpp"

using namespace asmjit;
using Catch::Matchers::Contains;
using Code = tinyelf::ErrorCode;

namespace {

// Runs `f` and returns the tinyelf::Error it must throw.
template <typename F>
tinyelf::Error error_from(F&& f) {
  try {
    f();
  } catch (const tinyelf::Error& e) {
    return e;
  }
  FAIL("no tinyelf::Error was thrown");
  return tinyelf::Error(Code::kRunFailed, "unreachable");
}

void emit_exit0(x86::Assembler& a) {
  a.xor_(x86::edi, x86::edi);
  a.mov(x86::eax, 60);
  a.syscall();
}

}  // namespace

TEST_CASE("an instruction AsmJit cannot encode throws at that instruction, naming it") {
  tinyelf::Program program;
  x86::Assembler& a = program.text();
  a.nop();
  const tinyelf::Error e = error_from([&] { a.mov(x86::eax, x86::rbx); });
  CHECK(e.code() == Code::kEmitFailed);
  CHECK_THAT(e.what(), Contains("mov eax, rbx"));
  CHECK_THAT(e.what(), Contains("InvalidInstruction"));

  SECTION("the program stays usable: the bad instruction left nothing behind") {
    emit_exit0(a);
    CHECK(tinyelf::run(program.link()).exit_code == 0);
  }
  SECTION("x86::Compiler errors are thrown by finalize(), which encodes the instructions") {
    tinyelf::Program compiled;
    x86::Compiler cc(&compiled.code());
    cc.addFunc(FuncSignatureT<void>());
    x86::Gp r = cc.newInt32("r");
    cc.mov(r, 5);
    const tinyelf::Error ce = error_from([&] {
      cc.emit(x86::Inst::kIdAdd, r, x86::xmm0);
      cc.endFunc();
      cc.finalize();
    });
    CHECK(ce.code() == Code::kEmitFailed);
    CHECK_THAT(ce.what(), Contains("add eax, xmm0"));
  }
}

TEST_CASE("a label used but never bound is named") {
  tinyelf::Program program;
  x86::Assembler& a = program.text();
  SECTION("named") {
    a.jmp(a.newNamedLabel("loop_end"));
    const tinyelf::Error e = error_from([&] { program.link(); });
    CHECK(e.code() == Code::kUnboundLabel);
    CHECK_THAT(e.what(), Contains("label \"loop_end\" is referenced but never bound"));
  }
  SECTION("anonymous, referenced RIP-relatively") {
    Label l = a.newLabel();
    a.lea(x86::rax, x86::ptr(l));
    const tinyelf::Error e = error_from([&] { program.link(); });
    CHECK(e.code() == Code::kUnboundLabel);
    CHECK_THAT(e.what(), Contains(fmt::format("anonymous label #{}", l.id())));
  }
  SECTION("a label created but never used is not an error") {
    a.newNamedLabel("unused");
    emit_exit0(a);
    CHECK(tinyelf::run(program.link()).exit_code == 0);
  }
}

TEST_CASE("the entry must be bound at an instruction in text") {
  tinyelf::Program program;
  x86::Assembler& a = program.text();
  emit_exit0(a);
  SECTION("unbound") {
    program.set_entry(a.newNamedLabel("start"));
    const tinyelf::Error e = error_from([&] { program.link(); });
    CHECK(e.code() == Code::kInvalidEntry);
    CHECK_THAT(e.what(), Contains("entry label \"start\" is never bound"));
  }
  SECTION("bound in rodata") {
    program.set_entry(program.rodata("not code"));
    const tinyelf::Error e = error_from([&] { program.link(); });
    CHECK(e.code() == Code::kInvalidEntry);
    CHECK_THAT(e.what(), Contains("is not bound at an instruction in text"));
  }
  SECTION("bound at the end of text, past the last instruction") {
    Label end = a.newLabel();
    a.bind(end);
    program.set_entry(end);
    const tinyelf::Error e = error_from([&] { program.link(); });
    CHECK(e.code() == Code::kInvalidEntry);
  }
}

TEST_CASE("an empty text is an error, with a hint about unfinalized Compilers") {
  tinyelf::Program program;
  x86::Compiler cc(&program.code());
  cc.addFunc(FuncSignatureT<void>());
  cc.ret();
  cc.endFunc();  // but no cc.finalize()
  const tinyelf::Error e = error_from([&] { program.link(); });
  CHECK(e.code() == Code::kEmptyProgram);
  CHECK_THAT(e.what(), Contains("finalized"));
}

TEST_CASE("alignments must be powers of two up to a page") {
  tinyelf::Program program;
  for (std::size_t align : {0u, 3u, 24u, 8192u}) {
    INFO("align " << align);
    const tinyelf::Error e = error_from([&] { program.rodata("x", align); });
    CHECK(e.code() == Code::kInvalidAlignment);
    CHECK_THAT(e.what(), Contains(fmt::format("alignment {} is invalid", align)));
    CHECK(error_from([&] { program.data("x", align); }).code() == Code::kInvalidAlignment);
    CHECK(error_from([&] { program.bss(8, align); }).code() == Code::kInvalidAlignment);
  }
}

TEST_CASE("the base address must be page aligned, at least vm.mmap_min_addr and in user space") {
  struct Case {
    std::uint64_t base;
    const char* message;
  };
  for (const Case& c : {Case{0x400001, "is not page aligned"}, Case{0x1000, "is below 0x10000 (vm.mmap_min_addr)"},
                        Case{0, "is below 0x10000"}, Case{0x800000000000, "is outside the user address space"}}) {
    tinyelf::Program program;
    emit_exit0(program.text());
    INFO("base " << c.base);
    const tinyelf::Error e = error_from([&] { program.link({.base_address = c.base}); });
    CHECK(e.code() == Code::kInvalidBaseAddress);
    CHECK_THAT(e.what(), Contains(c.message));
  }
}

TEST_CASE("images over their limits are refused") {
  SECTION("file over LinkOptions::max_file_size") {
    tinyelf::Program program;
    emit_exit0(program.text());
    program.rodata(std::string(1000, 'x'));
    const tinyelf::Error e = error_from([&] { program.link({.max_file_size = 1024}); });
    CHECK(e.code() == Code::kImageTooLarge);
    CHECK_THAT(e.what(), Contains("over LinkOptions::max_file_size (1024 bytes)"));
  }
  SECTION("bss beyond the user address space") {
    tinyelf::Program program;
    emit_exit0(program.text());
    const tinyelf::Error e = error_from([&] { program.bss(std::size_t{1} << 48); });
    CHECK(e.code() == Code::kImageTooLarge);
  }
  SECTION("bss that fits alone but not above a high base address") {
    tinyelf::Program program;
    emit_exit0(program.text());
    program.bss(std::size_t{1} << 40);
    const tinyelf::Error e = error_from([&] { program.link({.base_address = 0x7f0000000000}); });
    CHECK(e.code() == Code::kImageTooLarge);
    CHECK_THAT(e.what(), Contains("section .bss"));
  }
}

TEST_CASE("position_independent refuses absolute addresses, the compact layout and a base address") {
  SECTION("embedLabel writes an absolute address; the same program links at a fixed address") {
    for (const bool position_independent : {true, false}) {
      tinyelf::Program program;
      x86::Assembler& a = program.text();
      Label table = a.newLabel();
      emit_exit0(a);
      a.bind(table);
      a.embedLabel(table);
      if (!position_independent) {
        CHECK(tinyelf::run(program.link()).exit_code == 0);
        continue;
      }
      const tinyelf::Error e = error_from([&] { program.link({.position_independent = true}); });
      CHECK(e.code() == Code::kNotPositionIndependent);
      CHECK_THAT(e.what(), Contains("needs 1 absolute address (embedLabel"));
      CHECK_THAT(e.what(), Contains("RIP-relative"));
    }
  }
  SECTION("Layout::kCompact") {
    tinyelf::Program program;
    emit_exit0(program.text());
    const tinyelf::Error e = error_from(
        [&] { program.link({.layout = tinyelf::Layout::kCompact, .position_independent = true}); });
    CHECK(e.code() == Code::kUnsupportedLayout);
    CHECK_THAT(e.what(), Contains("position_independent needs Layout::kConformant"));
  }
  SECTION("a base address") {
    tinyelf::Program program;
    emit_exit0(program.text());
    const tinyelf::Error e =
        error_from([&] { program.link({.base_address = 0x800000, .position_independent = true}); });
    CHECK(e.code() == Code::kInvalidBaseAddress);
    CHECK_THAT(e.what(), Contains("leave base_address at its default"));
  }
}

TEST_CASE("a layout that is not a tinyelf::Layout is refused") {
  tinyelf::Program program;
  emit_exit0(program.text());
  const tinyelf::Error e = error_from([&] { program.link({.layout = static_cast<tinyelf::Layout>(7)}); });
  CHECK(e.code() == Code::kUnsupportedLayout);
  CHECK_THAT(e.what(), Contains("layout 7 is not a tinyelf::Layout"));
}

TEST_CASE("Layout::kCompact places the segment itself and refuses a base address") {
  tinyelf::Program program;
  emit_exit0(program.text());
  const tinyelf::Error e =
      error_from([&] { program.link({.layout = tinyelf::Layout::kCompact, .base_address = 0x10000}); });
  CHECK(e.code() == Code::kInvalidBaseAddress);
  CHECK_THAT(e.what(), Contains("leave base_address at its default"));
}

TEST_CASE("a Program links once and reset() starts the next one") {
  tinyelf::Program program;
  emit_exit0(program.text());
  program.link();
  const tinyelf::Error e = error_from([&] { program.link(); });
  CHECK(e.code() == Code::kAlreadyLinked);
  CHECK_THAT(e.what(), Contains("reset()"));
}

TEST_CASE("every error code has a distinct stable name") {
  std::set<std::string_view> names;
  for (int code = 1; code <= static_cast<int>(Code::kInvalidDebugInfo); ++code) {
    const std::string_view name = tinyelf::to_string(static_cast<Code>(code));
    CHECK(name != "unknown");
    CHECK(names.insert(name).second);
  }
}
