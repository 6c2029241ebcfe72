// LinkOptions::debug_info: symbols and source lines, read back by the real tools (gdb, objdump,
// nm, addr2line, readelf, eu-elflint, perf), their exact cost, and nothing at all by default.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <tinyelf/tinyelf.hpp>

#include "../bench/generator.hpp"
#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace x86 = asmjit::x86;
using asmjit::Label;
using tinyelf::DebugInfo;

// The source the calls program says it comes from, one statement per line.
constexpr std::string_view kSource =
    "call outer\n"             // 1  _start
    "call helper; exit 42\n"   // 2
    "outer: call inner\n"      // 3  outer
    "ret\n"                    // 4
    "inner: nop\n"             // 5  inner
    "ret\n";                   // 6

fs::path source_file() {
  static const fs::path path = [] {
    const fs::path file = test::scratch_folder() / "calls.src";
    std::FILE* out = std::fopen(file.c_str(), "w");
    REQUIRE(out != nullptr);
    std::fwrite(kSource.data(), 1, kSource.size(), out);
    std::fclose(out);
    return file;
  }();
  return path;
}

// _start calls outer, which calls inner; then _start calls helper, code that comes from no source
// line, and exits with 42. Every function is named and every statement marked with its line.
// `data`: a named word in data and a named buffer in bss too.
tinyelf::Image calls_program(tinyelf::LinkOptions options, bool data = false) {
  const std::string file = source_file().string();
  tinyelf::Program program;
  x86::Assembler& a = program.text();
  const Label start = a.newLabel(), outer = a.newLabel(), inner = a.newLabel(), helper = a.newLabel();
  a.bind(start);
  program.line(file, 1);
  a.call(outer);
  program.line(file, 2);
  a.call(helper);
  a.mov(x86::edi, 42);
  a.mov(x86::eax, 60);  // SYS_exit
  a.syscall();
  a.bind(outer);
  program.line(file, 3, 8);
  a.call(inner);
  program.line(file, 4);
  a.ret();
  a.bind(inner);
  program.line(file, 5, 8);
  a.nop();
  program.line(file, 6);
  a.ret();
  a.bind(helper);
  program.line(file, 0);
  a.nop();
  a.ret();
  program.symbol(start, "_start");
  program.symbol(outer, "outer");
  program.symbol(inner, "inner");
  program.symbol(helper, "helper");
  if (data) {
    program.symbol(program.data("abcd", 4), "counter", tinyelf::SymbolKind::kObject);
    program.symbol(program.bss(64), "buffer", tinyelf::SymbolKind::kObject);
  }
  return program.link(options);
}

fs::path write(const tinyelf::Image& image, const std::string& name) {
  const fs::path path = test::scratch_folder() / name;
  image.write(path);
  return path;
}

using test::contains;

template <typename T>
T read_at(std::span<const std::uint8_t> bytes, std::uint64_t offset) {
  T value;
  REQUIRE(offset + sizeof value <= bytes.size());
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

// Each of `parts` in `text`, in this order.
void check_in_order(const std::string& text, const std::vector<std::string>& parts) {
  std::size_t at = 0;
  for (const std::string& part : parts) {
    INFO("expected next: " << part);
    const std::size_t found = text.find(part, at);
    REQUIRE(found != std::string::npos);
    at = found + part.size();
  }
}

std::uint64_t align8(std::uint64_t n) { return (n + 7) / 8 * 8; }

// The README's formula for kSymbols: after the loaded bytes (aligned to 8), 24 bytes per symbol
// and one for the null symbol, the names (each with its NUL, after one NUL), the section names
// (.symtab, .strtab and the program's non-empty sections), then, aligned to 8, 64 bytes per
// section header: the null one, .symtab, .strtab and one per non-empty section.
std::uint64_t symbols_file_size(std::uint64_t loaded, const std::vector<std::string>& symbols,
                                const std::vector<std::string>& sections) {
  std::uint64_t strtab = 1 + sizeof ".symtab" + sizeof ".strtab";
  for (const std::string& name : symbols) strtab += name.size() + 1;
  for (const std::string& name : sections) strtab += name.size() + 1;
  return align8(align8(loaded) + 24 * (1 + symbols.size()) + strtab) + 64 * (3 + sections.size());
}

tinyelf::Image exit_with_symbol(tinyelf::LinkOptions options) {
  tinyelf::Program program;
  const Label start = program.text().newLabel();
  program.text().bind(start);
  program.text().mov(x86::edi, 42);  // 5 bytes
  program.text().mov(x86::eax, 60);  // 5 bytes: SYS_exit
  program.text().syscall();          // 2 bytes
  program.symbol(start, "_start");
  return program.link(options);
}

// The dynamic hello with a data import too: _start calls puts(message) (line 1) and exit(7)
// (line 2) through libc, and imports stdout (data: no stub). `kind` gives stdout's kind. `data`:
// a named word in data and a named buffer in bss too.
tinyelf::Image dynamic_hello(tinyelf::LinkOptions options, tinyelf::SymbolKind kind = tinyelf::SymbolKind::kObject,
                             bool data = false) {
  const std::string file = source_file().string();
  tinyelf::Program program;
  if (data) {
    program.symbol(program.data("abcd", 4), "counter", tinyelf::SymbolKind::kObject);
    program.symbol(program.bss(64), "buffer", tinyelf::SymbolKind::kObject);
  }
  const Label message = program.rodata("Hello, world!\0");
  const Label puts = program.import("libc.so.6", "puts");
  program.import("libc.so.6", "stdout", kind);
  const Label exit = program.import("libc.so.6", "exit");
  x86::Assembler& a = program.text();
  const Label start = a.newLabel();
  a.bind(start);
  program.symbol(start, "_start");
  program.line(file, 1);
  a.lea(x86::rdi, x86::ptr(message));  // 7 bytes
  a.call(x86::qword_ptr(puts));        // 6 bytes
  program.line(file, 2);
  a.mov(x86::edi, 7);                  // 5 bytes
  a.call(x86::qword_ptr(exit));        // 6 bytes
  return program.link(options);
}

// The README's formula for a program with imports and kSymbols: the loaded bytes are those of the
// file without debug info with a 6-byte stub per function import in text, DT_HASH in the dynamic
// section and the empty hash table (4 × (symbols + 4) bytes) before the strings; the rest is
// symbols_file_size() with the local symbols (each stub's and each slot's name) and the sections
// .interp, .dynamic, .dynsym, .rela.dyn, .hash, .dynstr.
std::uint64_t dynamic_symbols_file_size(std::uint64_t code, std::uint64_t rodata, std::uint64_t libraries,
                                        const std::vector<std::string>& functions,
                                        const std::vector<std::string>& data, std::uint64_t strings,
                                        std::vector<std::string> symbols) {
  const std::uint64_t imports = functions.size() + data.size();
  const std::uint64_t loaded = align8(344 + code + 6 * functions.size() + rodata + 28) + 16 * (10 + libraries) +
                               48 * imports + 4 * (imports + 1 + 3) + strings;
  for (const std::string& name : functions) symbols.insert(symbols.end(), {name, name + "@got"});
  for (const std::string& name : data) symbols.push_back(name + "@got");
  return symbols_file_size(loaded, symbols,
                           {".text", ".rodata", ".interp", ".dynamic", ".dynsym", ".rela.dyn", ".hash", ".dynstr",
                            ".bss"});
}

}  // namespace

TEST_CASE("without debug info, symbols and lines add not one byte", "[debug]") {
  // exit42 and hello as the examples write them (bench/generator.hpp), with and without marks.
  for (const bool marked : {false, true}) {
    tinyelf::Program exit42;
    const Label start = exit42.text().newLabel();
    exit42.text().bind(start);
    if (marked) exit42.line("exit42.src", 1);
    bench::emit_exit42(exit42.text());
    if (marked) exit42.symbol(start, "_start");
    CHECK(exit42.link().size() == 120);

    tinyelf::Program hello;
    const Label message = hello.rodata(bench::kHelloMessage);
    if (marked) hello.symbol(message, "message", tinyelf::SymbolKind::kObject);
    if (marked) hello.line("hello.src", 3, 4);
    bench::emit_hello(hello.text(), message);
    CHECK(hello.link().size() == 150);
    tinyelf::Program compact;
    if (marked) compact.line("hello.src", 3, 4);
    bench::emit_hello(compact.text(), compact.rodata(bench::kHelloMessage));
    CHECK(compact.link({.layout = tinyelf::Layout::kCompact}).size() == 95);
  }
  // Byte for byte, in every layout form.
  for (const tinyelf::LinkOptions& options :
       {tinyelf::LinkOptions{}, tinyelf::LinkOptions{.pack = false}, tinyelf::LinkOptions{.single_segment = true},
        tinyelf::LinkOptions{.position_independent = true}}) {
    const tinyelf::Image marked = calls_program(options, true);
    tinyelf::Program plain;
    x86::Assembler& a = plain.text();
    const Label outer = a.newLabel(), inner = a.newLabel(), helper = a.newLabel();
    a.call(outer);
    a.call(helper);
    a.mov(x86::edi, 42);
    a.mov(x86::eax, 60);
    a.syscall();
    a.bind(outer);
    a.call(inner);
    a.ret();
    a.bind(inner);
    a.nop();
    a.ret();
    a.bind(helper);
    a.nop();
    a.ret();
    plain.data("abcd", 4);
    plain.bss(64);
    CHECK(test::as_string(plain.link(options)) == test::as_string(marked));
    CHECK(test::read_headers(marked.bytes()).ehdr.e_shnum == 0);
  }
}

TEST_CASE("kSymbols costs what the README's formula says", "[debug]") {
  // exit(42) linked plainly is 132 bytes: 120 of headers and 12 of code.
  const tinyelf::Image exit42 = exit_with_symbol({.debug_info = DebugInfo::kSymbols});
  CHECK(exit42.size() == symbols_file_size(132, {"_start"}, {".text"}));
  CHECK(exit42.size() == 472);  // 132, 4 of padding, 48 of symbols, 30 of names, 2 of padding, 256 of headers

  // Two segments, data and bss: loaded bytes are 176 of headers, 32 of text, 4 of data.
  const tinyelf::Image calls = calls_program({.debug_info = DebugInfo::kSymbols}, true);
  CHECK(calls.size() == symbols_file_size(176 + 32 + 4, {"_start", "outer", "inner", "helper", "counter", "buffer"},
                                          {".text", ".data", ".bss"}));
  const tinyelf::Image one_segment = calls_program({.single_segment = true, .debug_info = DebugInfo::kSymbols}, true);
  CHECK(one_segment.size() == calls.size() - 56);  // one program header less, nothing else changes

  // bss alone: an empty .data marks its segment writable for eu-elflint; with two segments that
  // segment's p_offset, and so the debug information, starts on the page after the loaded bytes.
  for (const bool single_segment : {false, true}) {
    INFO("single_segment " << single_segment);
    tinyelf::Program cat;
    test::emit_cat(cat, 64);
    const Label start = cat.text().newLabel();  // a label bound at the end of text names nothing
    cat.symbol(start, "end");
    cat.text().bind(start);
    const tinyelf::LinkOptions options{.pack = false, .single_segment = single_segment};
    const std::uint64_t loaded = [&] {
      tinyelf::Program plain;
      test::emit_cat(plain, 64);
      return plain.link(options).size();
    }();
    tinyelf::LinkOptions with_symbols = options;
    with_symbols.debug_info = DebugInfo::kSymbols;
    const tinyelf::Image image = cat.link(with_symbols);
    CHECK(image.size() == symbols_file_size(single_segment ? loaded : 4096, {"end"}, {".text", ".data", ".bss"}));
    CHECK(tinyelf::run(image, {.input = "meow"}).out == "meow");
    test::check_with_elf_tools(image, "cat");
  }

  // A program without symbols still gets its sections: objdump -d can then disassemble it.
  tinyelf::Program anonymous;
  anonymous.text().ret();
  CHECK(anonymous.link({.debug_info = DebugInfo::kSymbols}).size() == symbols_file_size(121, {}, {".text"}));

  // kLines adds the three DWARF sections and their headers: for one line of one file, 18 bytes of
  // abbreviations, 42 of compile unit plus the first file's name and NUL, and a line program of
  // 31 bytes of header plus each file name with its NUL and 3 bytes, then 11 bytes to set the
  // address, one per row here, 2 to reach the end of text and 3 to end the sequence.
  tinyelf::Program one_line;
  one_line.line("a.bf", 1);
  one_line.text().ret();
  const std::uint64_t with_symbols = symbols_file_size(121, {}, {".text"});
  const std::uint64_t names = sizeof ".debug_abbrev" + sizeof ".debug_info" + sizeof ".debug_line";
  const std::uint64_t dwarf = 18 + (42 + 5) + (31 + 5 + 3 + 11 + 1 + 2 + 3);
  CHECK(one_line.link({.debug_info = DebugInfo::kLines}).size() ==
        align8(with_symbols - 64 * 4 + names + dwarf) + 64 * 7);
}

TEST_CASE("symbols: objdump, nm, addr2line, readelf and eu-elflint read them", "[debug]") {
  for (const tinyelf::LinkOptions& options :
       {tinyelf::LinkOptions{.debug_info = DebugInfo::kSymbols}, tinyelf::LinkOptions{.debug_info = DebugInfo::kLines},
        tinyelf::LinkOptions{.single_segment = true, .debug_info = DebugInfo::kLines},
        tinyelf::LinkOptions{.position_independent = true, .debug_info = DebugInfo::kLines}}) {
    const bool lines = options.debug_info == DebugInfo::kLines;
    const tinyelf::Image image = calls_program(options, true);
    INFO("single_segment " << options.single_segment << ", position_independent " << options.position_independent
                           << ", lines " << lines);
    CHECK(tinyelf::check(image.bytes()).size() == (options.single_segment ? 1u : 0u));  // the RWX segment's
    CHECK(tinyelf::run(image).exit_code == 42);
    test::check_with_elf_tools(image, "calls");
    const fs::path file = write(image, "calls");

    const test::Process objdump = test::spawn({"objdump", "-d", file.string()});
    INFO(objdump.out << objdump.err);
    CHECK(objdump.exit_code == 0);
    for (const char* name : {"<_start>:", "<outer>:", "<inner>:", "<helper>:", "call", "<inner>"})
      CHECK(contains(objdump.out, name));

    const test::Process nm = test::spawn({"nm", file.string()});
    INFO(nm.out << nm.err);
    CHECK(nm.err.empty());
    for (const char* name : {" T _start", " T outer", " T inner", " T helper", " D counter", " B buffer"})
      CHECK(contains(nm.out, name));

    // inner's ret, one byte after its start.
    const std::uint64_t inner = std::stoull(nm.out.substr(nm.out.find(" T inner") - 16, 16), nullptr, 16);
    const test::Process addr2line = test::spawn({"addr2line", "-f", "-e", file.string(), fmt::format("{:#x}", inner + 1)});
    INFO(addr2line.out << addr2line.err);
    CHECK(addr2line.out == (lines ? fmt::format("inner\n{}:6\n", source_file().string()) : "inner\n??:?\n"));

    const test::Process readelf = test::spawn({"readelf", "-W", "-a", "--debug-dump=line,info,abbrev", file.string()});
    INFO(readelf.out << readelf.err);
    CHECK(readelf.exit_code == 0);
    CHECK(readelf.err.empty());
    CHECK_FALSE(contains(readelf.out, "Warning"));
    CHECK(contains(readelf.out, "Symbol table '.symtab' contains 7 entries"));
    CHECK(contains(readelf.out, "DW_TAG_compile_unit") == lines);
    if (lines) CHECK(contains(readelf.out, "advance Address by 5 to"));
  }
}

TEST_CASE("gdb: break NAME, run, bt", "[debug]") {
  REQUIRE(test::have_tool("gdb"));  // scripts/install-deps.sh test installs it
  for (const DebugInfo level : {DebugInfo::kSymbols, DebugInfo::kLines}) {
    const fs::path file = write(calls_program({.debug_info = level}), "calls");
    const test::Process session = test::gdb_batch(file, {"break inner", "run", "bt", "continue"});
    INFO(session.out << session.err);
    CHECK(session.exit_code == 0);
    const std::string bt = session.out.substr(session.out.find("#0"));
    if (level == DebugInfo::kSymbols) {
      CHECK(contains(session.out, "Breakpoint 1 at 0x"));
      CHECK(contains(bt, "#0  0x"));
      CHECK(contains(bt, " in inner ()\n#1  0x"));
      CHECK(contains(bt, " in outer ()\n#2  0x"));
      CHECK(contains(bt, " in _start ()\n"));
    } else {
      const std::string file_name = source_file().string();
      CHECK(contains(session.out, fmt::format(": file {}, line 5.", file_name)));
      CHECK(contains(bt, fmt::format("#0  inner () at {}:5\n#1  0x", file_name)));
      CHECK(contains(bt, fmt::format(" in outer () at {}:3\n#2  0x", file_name)));
      CHECK(contains(bt, fmt::format(" in _start () at {}:1\n", file_name)));
    }
    CHECK_FALSE(contains(bt, "#3"));  // gdb stops at the entry point's function
    CHECK(contains(session.out, "exited with code 052"));
  }
}

TEST_CASE("gdb: break FILE:LINE, list, info line and step on a program with lines", "[debug]") {
  REQUIRE(test::have_tool("gdb"));
  const std::string source = source_file().string();
  const fs::path file = write(calls_program({.debug_info = DebugInfo::kLines}), "calls");
  const test::Process session =
      test::gdb_batch(file, {"break calls.src:1", fmt::format("info line {}:3", source), "list calls.src:5,5", "run", "step",
                 "step", "step", "step", "step", "step"});
  INFO(session.out << session.err);
  CHECK(session.exit_code == 0);
  const std::string& out = session.out;
  CHECK(contains(out, fmt::format("Breakpoint 1 at 0x400078: file {}, line 1.", source)));
  CHECK(contains(out, fmt::format("Line 3 of \"{}\" starts at address 0x40008e <outer> and ends at 0x400093 <outer+5>.",
                                  source)));
  CHECK(contains(out, "5\tinner: nop\n"));
  // From line 1 into outer and inner, back out, then over helper (no source line) to the exit.
  check_in_order(out.substr(out.find("Breakpoint 1, ")),
                 {fmt::format("Breakpoint 1, _start () at {}:1\n1\tcall outer\n", source),
                  fmt::format("outer () at {}:3\n3\touter: call inner\n", source),
                  fmt::format("inner () at {}:5\n5\tinner: nop\n", source), "6\tret\n",
                  fmt::format("outer () at {}:4\n4\tret\n", source),
                  fmt::format("_start () at {}:2\n2\tcall helper; exit 42\n", source), "exited with code 052"});
}

TEST_CASE("perf attributes samples to symbols", "[debug]") {
  REQUIRE(test::have_tool("perf"));  // scripts/install-deps.sh test installs linux-perf
  // _start calls spin, which counts down from 2^28 (about a quarter of a second).
  tinyelf::Program program;
  x86::Assembler& a = program.text();
  const Label start = a.newLabel(), spin = a.newLabel(), again = a.newLabel();
  a.bind(start);
  a.mov(x86::ecx, 1 << 28);
  a.call(spin);
  a.xor_(x86::edi, x86::edi);
  a.mov(x86::eax, 60);
  a.syscall();
  a.bind(spin);
  a.bind(again);
  a.dec(x86::ecx);
  a.jnz(again);
  a.ret();
  program.symbol(start, "_start");
  program.symbol(spin, "spin");
  const fs::path file = write(program.link({.debug_info = DebugInfo::kSymbols}), "spin");
  if (const std::optional<test::Process> report = test::perf_report(file)) {
    INFO(report->out << report->err);
    CHECK(report->exit_code == 0);
    CHECK(contains(report->out, "[.] spin"));
  }
}

TEST_CASE("the new bytes: regions, section headers, check()", "[debug]") {
  const tinyelf::Image image = calls_program({.debug_info = DebugInfo::kLines}, true);
  const std::span<const std::uint8_t> bytes = image.bytes();
  const test::Headers headers = test::read_headers(bytes);
  const std::vector<tinyelf::Region> regions = image.regions();
  std::uint64_t at = 0;
  std::vector<std::string> debug;
  for (const tinyelf::Region& region : regions) {
    CHECK(region.offset == at);
    at += region.size;
    if (region.kind == tinyelf::RegionKind::kDebugInfo) debug.emplace_back(region.what);
    if (region.what == "section headers") {
      CHECK(region.offset == headers.ehdr.e_shoff);
      CHECK(region.size == 64u * headers.ehdr.e_shnum);
    }
  }
  CHECK(at == image.size());
  CHECK(debug == std::vector<std::string>{".symtab", ".strtab", ".debug_abbrev", ".debug_info", ".debug_line",
                                          "section headers"});
  // Nothing after the loaded bytes is mapped: every segment ends before .symtab.
  const std::uint64_t symtab = std::find_if(regions.begin(), regions.end(), [](const auto& r) {
                                 return r.what == ".symtab";
                               })->offset;
  for (const Elf64_Phdr& phdr : headers.phdrs) CHECK(phdr.p_offset + phdr.p_filesz <= symtab);
  // e_shstrndx names .strtab, which holds the section names.
  const auto strtab = read_at<Elf64_Shdr>(bytes, headers.ehdr.e_shoff + 64 * headers.ehdr.e_shstrndx);
  CHECK(strtab.sh_type == SHT_STRTAB);
  CHECK(std::string(reinterpret_cast<const char*>(bytes.data()) + strtab.sh_offset + strtab.sh_name) == ".strtab");
  CHECK(tinyelf::check(bytes).empty());
}

TEST_CASE("debug info errors: clear, distinct, and the program can still be linked", "[debug][errors]") {
  using Code = tinyelf::ErrorCode;
  const auto fails = [](auto&& call, Code code, const std::string& part) {
    try {
      call();
      FAIL("no error");
    } catch (const tinyelf::Error& e) {
      INFO(e.what());
      CHECK(e.code() == code);
      CHECK(contains(e.what(), part));
    }
  };
  tinyelf::Program program;
  const Label start = program.text().newLabel();
  program.text().bind(start);
  program.text().ret();
  fails([&] { program.link({.layout = tinyelf::Layout::kCompact, .debug_info = DebugInfo::kSymbols}); },
        Code::kUnsupportedLayout, "debug_info needs Layout::kConformant");
  fails([&] { program.link({.debug_info = static_cast<DebugInfo>(7)}); }, Code::kInvalidDebugInfo,
        "debug_info 7 is not a tinyelf::DebugInfo");
  fails([&] { program.symbol(start, ""); }, Code::kInvalidDebugInfo, "symbol name is empty");
  fails([&] { program.symbol(start, std::string_view("a\0b", 3)); }, Code::kInvalidDebugInfo, "contains a NUL byte");
  fails([&] { program.symbol(start, "f", static_cast<tinyelf::SymbolKind>(9)); }, Code::kInvalidDebugInfo,
        "kind 9 is not a tinyelf::SymbolKind");
  tinyelf::Program other;
  for (int i = 0; i < 3; ++i) other.text().newLabel();
  fails([&] { program.symbol(other.text().newLabel(), "f"); }, Code::kInvalidDebugInfo,
        "does not belong to this program");
  fails([&] { program.line("", 1); }, Code::kInvalidDebugInfo, "source file name is empty");
  fails([&] { program.line(std::string_view("a\0", 2), 1); }, Code::kInvalidDebugInfo, "contains a NUL byte");
  // Nothing was recorded by the calls that failed, and nothing was linked: the program links.
  program.symbol(start, "_start");
  const tinyelf::Image image = program.link({.debug_info = DebugInfo::kSymbols});
  CHECK(image.size() == symbols_file_size(121, {"_start"}, {".text"}));

  // A symbol on a label never bound is found at link().
  tinyelf::Program unbound;
  unbound.text().ret();
  unbound.symbol(unbound.text().newLabel(), "nowhere");
  fails([&] { unbound.link({.debug_info = DebugInfo::kSymbols}); }, Code::kUnboundLabel,
        "the label of symbol \"nowhere\" is never bound");
  CHECK(unbound.link().size() > 0);  // without debug info the symbol is not written, nor checked
}

TEST_CASE("line marks: repeated and empty ones are dropped, files are interned", "[debug]") {
  tinyelf::Program program;
  x86::Assembler& a = program.text();
  program.line("a.src", 1);  // covers nothing: the next mark is at the same offset
  program.line("b.src", 2);
  a.nop();
  program.line("b.src", 2);  // the same position again
  a.nop();
  program.line("a.src", 3);
  a.ret();
  program.line("a.src", 9);  // at the end of text: covers nothing
  const fs::path file = write(program.link({.debug_info = DebugInfo::kLines}), "marks");
  const test::Process readelf = test::spawn({"readelf", "--debug-dump=decodedline", file.string()});
  INFO(readelf.out << readelf.err);
  CHECK(readelf.err.empty());
  std::string out;  // runs of spaces as one
  for (const char c : readelf.out)
    if (c != ' ' || out.empty() || out.back() != ' ') out += c;
  CHECK(contains(out, "\nb.src 2 0x400078 x\n"));
  CHECK(contains(out, "\na.src 3 0x40007a x\n"));
  CHECK(contains(out, "\na.src - 0x40007b\n"));  // the end of text
  CHECK_FALSE(contains(out, "0x400079"));
  CHECK_FALSE(contains(out, " 9 "));
  const test::Process raw = test::spawn({"readelf", "--debug-dump=rawline", file.string()});
  INFO(raw.out);
  CHECK(contains(raw.out, "  1\t0\t0\t0\ta.src\n  2\t0\t0\t0\tb.src\n\n"));  // each once, in the order first used
}

TEST_CASE("imports with symbols: every tool reads the file, nm and objdump name the stubs and slots", "[debug][imports]") {
  for (const DebugInfo level : {DebugInfo::kSymbols, DebugInfo::kLines}) {
    const bool lines = level == DebugInfo::kLines;
    INFO("lines " << lines);
    const tinyelf::Image image = dynamic_hello({.debug_info = level});
    if (!lines) {
      // 24 bytes of code, 14 of message, one library; strings: "\0libc.so.6\0puts\0stdout\0exit\0".
      CHECK(image.size() == dynamic_symbols_file_size(24, 14, 1, {"puts", "exit"}, {"stdout"}, 28, {"_start"}));
      CHECK(image.size() == 1872);
    }
    const tinyelf::RunResult result = tinyelf::run(image, test::hardened());
    CHECK(result.exit_code == 7);
    CHECK(result.out == "Hello, world!\n");
    CHECK(tinyelf::check(image.bytes(), tinyelf::CheckOptions::host()).empty());
    test::check_no_writable_executable_segment(image.bytes());
    test::check_with_elf_tools(image, "dynamic-hello");
    const fs::path file = write(image, "dynamic-hello");

    const test::Process file_tool = test::spawn({"file", "-b", file.string()});
    CHECK(contains(file_tool.out, "dynamically linked, interpreter /lib64/ld-linux-x86-64.so.2"));
    const test::Process ldd = test::spawn({"ldd", file.string()});
    CHECK(contains(ldd.out, "libc.so.6 => "));
    const test::Process readelf = test::spawn({"readelf", "-W", "-a", "--debug-dump=line", file.string()});
    INFO(readelf.out << readelf.err);
    CHECK(readelf.err.empty());
    CHECK_FALSE(contains(readelf.out, "Warning"));
    for (const char* part : {"] .interp ", "] .dynamic ", "] .dynsym ", "] .rela.dyn ", "] .hash ", "] .dynstr ",
                             " .interp \n", "Symbol table '.dynsym' contains 4 entries",
                             "R_X86_64_GLOB_DAT      0000000000000000 stdout + 0"})
      CHECK(contains(readelf.out, part));
    CHECK(contains(readelf.out, "(HASH)"));
    // readelf -D counts the dynamic symbols through DT_HASH now.
    const test::Process dynamic_symbols = test::spawn({"readelf", "-W", "-D", "--dyn-syms", "-r", file.string()});
    INFO(dynamic_symbols.out << dynamic_symbols.err);
    CHECK(dynamic_symbols.err.empty());
    CHECK(contains(dynamic_symbols.out, "UND puts"));
    CHECK(contains(dynamic_symbols.out, "R_X86_64_GLOB_DAT      0000000000000000 puts + 0"));

    const test::Process nm = test::spawn({"nm", file.string()});
    INFO(nm.out << nm.err);
    CHECK(nm.err.empty());
    for (const char* name : {" T _start\n", " t puts\n", " t exit\n", " b puts@got\n", " b exit@got\n",
                             " b stdout@got\n"})
      CHECK(contains(nm.out, name));
    CHECK_FALSE(contains(nm.out, " t stdout\n"));  // data gets no stub

    // Each stub is one jmp through its slot, after the program's code.
    const test::Process objdump = test::spawn({"objdump", "-d", file.string()});
    INFO(objdump.out << objdump.err);
    CHECK(objdump.err.empty());
    const std::uint64_t puts = std::stoull(nm.out.substr(nm.out.find(" t puts\n") - 16, 16), nullptr, 16);
    const std::uint64_t puts_got = std::stoull(nm.out.substr(nm.out.find(" b puts@got\n") - 16, 16), nullptr, 16);
    CHECK(contains(objdump.out, fmt::format("{:016x} <puts>:\n  {:x}:\tff 25 ", puts, puts)));
    CHECK(contains(objdump.out, fmt::format("jmp    *0x{:x}(%rip)        # {:x} ", puts_got - (puts + 6), puts_got)));
    CHECK(contains(objdump.out, "<exit>:"));
    // The stubs are code of no source line: addr2line finds the name and no line.
    const test::Process addr2line = test::spawn({"addr2line", "-f", "-e", file.string(), fmt::format("{:#x}", puts)});
    CHECK(addr2line.out == "puts\n??:?\n");
  }
}

TEST_CASE("imports with symbols and the program's own data and bss: .data and .bss hold them", "[debug][imports]") {
  const tinyelf::Image image = dynamic_hello({.debug_info = DebugInfo::kSymbols}, tinyelf::SymbolKind::kObject, true);
  CHECK(tinyelf::run(image).exit_code == 7);
  CHECK(tinyelf::check(image.bytes(), tinyelf::CheckOptions::host()).empty());
  test::check_with_elf_tools(image, "dynamic-data");
  const fs::path file = write(image, "dynamic-data");
  const test::Process readelf = test::spawn({"readelf", "-W", "-S", "-s", file.string()});
  INFO(readelf.out << readelf.err);
  // .data holds the program's 4 bytes, then the tables follow; .bss its 64 bytes, then the slots.
  CHECK(contains(readelf.out, " .data             PROGBITS        "));
  CHECK(contains(readelf.out, " 000004 00  WA  0   0  8\n"));  // aligned for the tables after it
  CHECK(contains(readelf.out, " .dynamic          DYNAMIC         "));
  CHECK(contains(readelf.out, " 000058 00  WA  0   0 16\n"));  // .bss: 64 + 3 slots
  const test::Process nm = test::spawn({"nm", file.string()});
  INFO(nm.out);
  for (const char* name : {" D counter\n", " B buffer\n", " b stdout@got\n", " t puts\n"}) CHECK(contains(nm.out, name));
}

TEST_CASE("imports with symbols: gdb stops at break puts without a pending breakpoint, bt names the caller",
          "[debug][imports]") {
  REQUIRE(test::have_tool("gdb"));
  const fs::path file = write(dynamic_hello({.debug_info = DebugInfo::kSymbols}), "dynamic-hello");
  const test::Process session = test::gdb_batch(file, {"break puts", "run", "bt", "continue"});
  INFO(session.out << session.err);
  CHECK(session.exit_code == 0);
  CHECK(contains(session.out, "Breakpoint 1 at 0x"));  // resolved at once, on the stub
  CHECK_FALSE(contains(session.err, "pending"));
  // The program calls through the slot, into libc: gdb stops in libc's puts (whatever libc's own
  // name for it, e.g. _IO_puts), called from _start.
  REQUIRE(contains(session.out, "\nBreakpoint 1."));
  const std::string bt = session.out.substr(session.out.find("#0  "));
  CHECK(contains(bt.substr(0, bt.find('\n')), "puts"));
  CHECK(contains(bt, " in _start ()\n"));
  CHECK(contains(session.out, "Hello, world!\n"));
  CHECK(contains(session.out, "exited with code 07"));

  // Without debug info gdb knows no puts before libc is loaded: only a pending breakpoint stops.
  const fs::path plain = write(dynamic_hello({}), "dynamic-hello-plain");
  const test::Process refused = test::gdb_batch(plain, {"break puts", "run"});
  CHECK(contains(refused.out + refused.err, "No symbol table is loaded"));
  CHECK_FALSE(contains(refused.out, "Breakpoint 1,"));
  const test::Process pending = test::gdb_batch(plain, {"set breakpoint pending on", "break puts", "run"});
  INFO(pending.out << pending.err);
  CHECK(contains(pending.out, "Breakpoint 1, "));
}

TEST_CASE("imports with lines: gdb breaks at FILE:LINE, steps over a library call with next", "[debug][imports]") {
  REQUIRE(test::have_tool("gdb"));
  const std::string source = source_file().string();
  const fs::path file = write(dynamic_hello({.debug_info = DebugInfo::kLines}), "dynamic-hello");
  const test::Process session = test::gdb_batch(
      file, {"break calls.src:1", fmt::format("info line {}:2", source), "run", "next", "bt", "next"});
  INFO(session.out << session.err);
  CHECK(session.exit_code == 0);
  const std::string& out = session.out;
  CHECK(contains(out, fmt::format("Breakpoint 1 at 0x400158: file {}, line 1.", source)));
  CHECK(contains(out, fmt::format("Line 2 of \"{}\" starts at address 0x400165 <_start+13> and ends at 0x400170 <puts>.",
                                  source)));
  check_in_order(out.substr(out.find("Breakpoint 1, ")),
                 {fmt::format("Breakpoint 1, _start () at {}:1\n1\tcall outer\n", source), "2\tcall helper; exit 42\n",
                  fmt::format("#0  _start () at {}:2\n", source),
                  "Hello, world!\n",  // flushed by exit(): stdout is a pipe
                  "exited with code 07"});
}

TEST_CASE("imports with lines: step into the program's own function, next over the library call in it",
          "[debug][imports]") {
  REQUIRE(test::have_tool("gdb"));
  // _start (lines 1 and 2) calls greet (lines 3 and 4), which calls puts. `step` enters greet and
  // leaves it whatever libc's debug information on the machine: the library call is passed with
  // `next`, where `step` would enter puts only if libc has line information.
  const std::string source = source_file().string();
  tinyelf::Program program;
  const Label message = program.rodata("Hello, world!\0");
  const Label puts = program.import("libc.so.6", "puts");
  const Label exit = program.import("libc.so.6", "exit");
  x86::Assembler& a = program.text();
  const Label start = a.newLabel(), greet = a.newLabel();
  a.bind(start);
  program.line(source, 1);
  a.sub(x86::rsp, 8);  // greet's call to puts is then 16-byte aligned
  a.call(greet);
  program.line(source, 2);
  a.mov(x86::edi, 7);
  a.call(x86::qword_ptr(exit));
  // Its return address stays on top of the stack: gdb finds the caller without call frame
  // information (README, Limitations), which `next` needs to pass the call to puts.
  a.bind(greet);
  program.line(source, 3);
  a.lea(x86::rdi, x86::ptr(message));
  a.call(x86::qword_ptr(puts));
  program.line(source, 4);
  a.ret();
  program.symbol(start, "_start");
  program.symbol(greet, "greet");
  const fs::path file = write(program.link({.debug_info = DebugInfo::kLines}), "dynamic-greet");
  const test::Process session = test::gdb_batch(file, {"break calls.src:1", "run", "step", "next", "step", "next"});
  INFO(session.out << session.err);
  CHECK(session.exit_code == 0);
  check_in_order(session.out.substr(session.out.find("Breakpoint 1, ")),
                 {fmt::format("Breakpoint 1, _start () at {}:1\n1\tcall outer\n", source),
                  fmt::format("greet () at {}:3\n3\touter: call inner\n", source), "4\tret\n",
                  fmt::format("_start () at {}:2\n2\tcall helper; exit 42\n", source), "Hello, world!\n",
                  "exited with code 07"});
}

TEST_CASE("imports without debug info: the kind of an import adds nothing", "[debug][imports]") {
  CHECK(test::as_string(dynamic_hello({}, tinyelf::SymbolKind::kObject)) ==
        test::as_string(dynamic_hello({}, tinyelf::SymbolKind::kFunction)));
  CHECK(test::read_headers(dynamic_hello({}).bytes()).ehdr.e_shnum == 0);
  // Packed: the 22 bytes of code (lea as mov edi, imm32) in four p_paddr holes, the message in
  // PT_GNU_STACK's p_offset, then 344 + 28 + 4 of padding, 160 of dynamic section, 3 × 48, 28 of
  // strings.
  CHECK(dynamic_hello({}).size() == 708);
  // Plain: 344 + 24 + 14 + 28 + 6 of padding, 160, 3 × 48, 28.
  CHECK(dynamic_hello({.pack = false}).size() == 748);
}
