// Imports (Program::import): programs that call the system's libc and libm through ld.so, run for
// real; the headers and the dynamic section field by field; the tools; the bad inputs.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "support.hpp"

namespace {

namespace x86 = asmjit::x86;
using asmjit::Label;

constexpr const char* kLibc = "libc.so.6";
constexpr const char* kLibm = "libm.so.6";

// puts(message), then exit(status): the dynamic hello.
tinyelf::Image puts_program(const char* message = "Hello, world!", int status = 0, tinyelf::LinkOptions options = {}) {
  tinyelf::Program program;
  const Label text = program.rodata(std::string_view(message, std::strlen(message) + 1));
  const Label puts = program.import(kLibc, "puts");
  const Label exit = program.import(kLibc, "exit");
  x86::Assembler& a = program.text();
  a.lea(x86::rdi, x86::ptr(text));
  a.call(x86::qword_ptr(puts));
  a.mov(x86::edi, status);
  a.call(x86::qword_ptr(exit));
  return program.link(options);
}

// The dynamic section's entries, read through PT_DYNAMIC with the system's <elf.h>.
std::vector<Elf64_Dyn> dynamic_entries(const tinyelf::Image& image) {
  std::vector<Elf64_Dyn> entries;
  for (const Elf64_Phdr& phdr : test::read_headers(image.bytes()).phdrs) {
    if (phdr.p_type != PT_DYNAMIC) continue;
    REQUIRE(phdr.p_offset + phdr.p_filesz <= image.size());
    for (std::uint64_t at = phdr.p_offset; at + sizeof(Elf64_Dyn) <= phdr.p_offset + phdr.p_filesz;
         at += sizeof(Elf64_Dyn)) {
      Elf64_Dyn dyn;
      std::memcpy(&dyn, image.bytes().data() + at, sizeof dyn);
      entries.push_back(dyn);
    }
  }
  return entries;
}

std::vector<std::int64_t> tags(const std::vector<Elf64_Dyn>& entries) {
  std::vector<std::int64_t> result;
  for (const Elf64_Dyn& dyn : entries) result.push_back(dyn.d_tag);
  return result;
}

std::string written(const tinyelf::Image& image, const std::string& name) {
  const std::filesystem::path path = test::scratch_folder() / name;
  image.write(path);
  return path.string();
}

}  // namespace

TEST_CASE("a dynamic hello runs against the real libc, also under PR_SET_MDWE", "[imports]") {
  const tinyelf::Image image = puts_program("Hello, world!", 7);
  const tinyelf::RunResult result = tinyelf::run(image);
  CHECK(result.exit_code == 7);
  CHECK(result.out == "Hello, world!\n");
  CHECK(result.err.empty());
  const tinyelf::RunResult hardened = tinyelf::run(image, test::hardened());
  CHECK(hardened.exit_code == 7);
  CHECK(hardened.out == "Hello, world!\n");
  test::check_no_writable_executable_segment(image.bytes());
  // check() finds nothing: the interpreter exists, the dynamic section is what ld.so needs.
  const auto findings = tinyelf::check(image.bytes(), tinyelf::CheckOptions::host());
  for (const tinyelf::Finding& f : findings) INFO(f.id << ": " << f.message);
  CHECK(findings.empty());
}

TEST_CASE("the program headers and the dynamic section of a dynamic hello, field by field", "[imports]") {
  const tinyelf::Image image = puts_program();
  const test::Headers h = test::read_headers(image.bytes());
  CHECK(h.ehdr.e_type == ET_EXEC);
  REQUIRE(h.phdrs.size() == 5);
  CHECK(h.phdrs[0].p_type == PT_INTERP);
  CHECK(h.phdrs[1].p_type == PT_LOAD);
  CHECK(h.phdrs[1].p_flags == (PF_R | PF_X));
  CHECK(h.phdrs[2].p_type == PT_LOAD);
  CHECK(h.phdrs[2].p_flags == (PF_R | PF_W));
  CHECK(h.phdrs[3].p_type == PT_DYNAMIC);
  CHECK(h.phdrs[3].p_flags == (PF_R | PF_W));
  CHECK(h.phdrs[4].p_type == PT_GNU_STACK);
  CHECK(h.phdrs[4].p_flags == (PF_R | PF_W));
  // PT_INTERP names ld.so, NUL included, inside the R+X segment.
  const Elf64_Phdr& interp = h.phdrs[0];
  CHECK(std::string(reinterpret_cast<const char*>(image.bytes().data() + interp.p_offset), interp.p_filesz) ==
        std::string("/lib64/ld-linux-x86-64.so.2", 28));
  CHECK(interp.p_offset + interp.p_filesz <= h.phdrs[1].p_filesz);
  // PT_DYNAMIC inside the R+W segment (ld.so writes DT_DEBUG's value there).
  const Elf64_Phdr& rw = h.phdrs[2];
  CHECK(h.phdrs[3].p_vaddr >= rw.p_vaddr);
  CHECK(h.phdrs[3].p_vaddr + h.phdrs[3].p_memsz <= rw.p_vaddr + rw.p_filesz);

  const std::vector<Elf64_Dyn> entries = dynamic_entries(image);
  CHECK(tags(entries) == std::vector<std::int64_t>{DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_SYMTAB, DT_SYMENT, DT_RELA,
                                                   DT_RELASZ, DT_RELAENT, DT_DEBUG, DT_NULL});
  auto value = [&](std::int64_t tag) {
    for (const Elf64_Dyn& dyn : entries)
      if (dyn.d_tag == tag) return dyn.d_un.d_val;
    FAIL("no entry " << tag);
    return Elf64_Xword{0};
  };
  CHECK(value(DT_SYMENT) == sizeof(Elf64_Sym));
  CHECK(value(DT_RELAENT) == sizeof(Elf64_Rela));
  CHECK(value(DT_RELASZ) == 2 * sizeof(Elf64_Rela));
  // The strings, symbols and relocations, read in the file at the addresses the entries give.
  const std::uint8_t* file = image.bytes().data();
  const auto at = [&](Elf64_Addr address) {
    for (const Elf64_Phdr& load : {h.phdrs[1], h.phdrs[2]})
      if (address >= load.p_vaddr && address < load.p_vaddr + load.p_filesz)
        return file + load.p_offset + (address - load.p_vaddr);
    FAIL("address " << address << " is not in the file");
    return file;
  };
  const char* strings = reinterpret_cast<const char*>(at(value(DT_STRTAB)));
  CHECK(std::string(strings + value(DT_NEEDED)) == "libc.so.6");
  CHECK(std::string(strings, value(DT_STRSZ)) == std::string("\0libc.so.6\0puts\0exit\0", 21));
  for (int i = 0; i < 2; ++i) {
    Elf64_Rela rela;
    std::memcpy(&rela, at(value(DT_RELA)) + i * sizeof rela, sizeof rela);
    CHECK(ELF64_R_TYPE(rela.r_info) == R_X86_64_GLOB_DAT);
    CHECK(ELF64_R_SYM(rela.r_info) == static_cast<unsigned>(i + 1));
    CHECK(rela.r_addend == 0);
    // Each slot lands in the R+W segment's zero-filled tail: no file bytes.
    CHECK(rela.r_offset >= rw.p_vaddr + rw.p_filesz);
    CHECK(rela.r_offset + 8 <= rw.p_vaddr + rw.p_memsz);
    Elf64_Sym sym;
    std::memcpy(&sym, at(value(DT_SYMTAB)) + (i + 1) * sizeof sym, sizeof sym);
    CHECK(std::string(strings + sym.st_name) == (i == 0 ? "puts" : "exit"));
    CHECK(ELF64_ST_BIND(sym.st_info) == STB_GLOBAL);
    CHECK(sym.st_shndx == SHN_UNDEF);
  }
  // The null symbol is all zeros: the dynamic section's last 24 bytes, DT_DEBUG's value and DT_NULL.
  Elf64_Sym null_symbol;
  std::memcpy(&null_symbol, at(value(DT_SYMTAB)), sizeof null_symbol);
  const Elf64_Sym zeros{};
  CHECK(std::memcmp(&null_symbol, &zeros, sizeof null_symbol) == 0);
  CHECK(value(DT_SYMTAB) == h.phdrs[3].p_vaddr + h.phdrs[3].p_memsz - sizeof(Elf64_Sym));
}

TEST_CASE("a dynamic hello is packed: its code in the p_paddr holes, PT_INTERP and PT_DYNAMIC where the tables went",
          "[imports][pack]") {
  const tinyelf::Image packed = puts_program("Hello, world!", 7);
  const tinyelf::Image plain = puts_program("Hello, world!", 7, {.pack = false});
  // Plain: 344 header bytes, 24 of code (lea 7, call 6, mov 5, call 6), 14 of message, 28 of
  // interpreter path, padding to 8, 277 of tables (dynamic section 160, symbols 72 less the 24
  // shared with it, relocations 48, strings 21): 693.
  CHECK(plain.size() == 693);
  // Packed: lea becomes mov edi, imm32 (5); the code goes into four p_paddr holes joined by
  // jmp rel8, the message into PT_GNU_STACK's p_offset, p_vaddr and p_paddr (296), and the tail
  // is the path, padding and the tables: 653.
  CHECK(packed.size() == 653);
  std::vector<std::uint64_t> code_at, rodata_at;
  for (const tinyelf::Region& region : packed.regions()) {
    if (region.kind == tinyelf::RegionKind::kCode) {
      CHECK(region.field.starts_with("p_paddr"));
      code_at.push_back(region.offset);
    } else if (region.kind == tinyelf::RegionKind::kData && region.what == ".rodata") {
      rodata_at.push_back(region.offset);
    }
  }
  CHECK(code_at == std::vector<std::uint64_t>{88, 144, 200, 256});
  CHECK(rodata_at == std::vector<std::uint64_t>{296, 344});  // the message, the interpreter path
  for (const tinyelf::Image* image : {&packed, &plain}) {
    INFO((image == &packed ? "packed" : "plain"));
    const tinyelf::RunResult result = tinyelf::run(*image);
    CHECK(result.exit_code == 7);
    CHECK(result.out == "Hello, world!\n");
    const tinyelf::RunResult hardened = tinyelf::run(*image, test::hardened());
    CHECK(hardened.exit_code == 7);
    CHECK(hardened.out == "Hello, world!\n");
    test::check_no_writable_executable_segment(image->bytes());
    CHECK(tinyelf::check(image->bytes(), tinyelf::CheckOptions::host()).empty());
    const std::string name = image == &packed ? "dynamic-hello-packed" : "dynamic-hello-plain";
    test::check_with_elf_tools(*image, name);
    const test::Process file_tool = test::spawn({"file", "-b", written(*image, name)});
    CHECK(file_tool.out.find("dynamically linked, interpreter /lib64/ld-linux-x86-64.so.2") != std::string::npos);
  }
}

TEST_CASE("a dynamic program with data packs, every jmp rel8 between holes within reach", "[imports][pack]") {
  // printf("Hello %d\n", counter) and exit(0): 29 bytes of code, a 4-byte counter in data. The
  // five holes span 232 bytes, more than a jmp rel8 reaches: the planner only joins holes it can.
  const auto build = [](const tinyelf::LinkOptions& options) {
    tinyelf::Program program;
    const Label counter = program.data("\x05\0\0\0", 4);
    const Label message = program.rodata("Hello %d\n\0");
    const Label printf = program.import(kLibc, "printf");
    const Label exit = program.import(kLibc, "exit");
    x86::Assembler& a = program.text();
    a.lea(x86::rdi, x86::ptr(message));
    a.mov(x86::esi, x86::dword_ptr(counter));
    a.xor_(x86::eax, x86::eax);  // no vector registers for printf
    a.call(x86::qword_ptr(printf));
    a.xor_(x86::edi, x86::edi);
    a.call(x86::qword_ptr(exit));
    return program.link(options);
  };
  const tinyelf::Image packed = build({});
  const tinyelf::Image plain = build({.pack = false});
  // Plain: 344 + 29 of code + 10 of message + 28 of path, the counter at 412, the tables (160 +
  // 72 - 24 + 48 + 23 of strings) at 416: 703. Packed: 7 bytes of code (mov edi, imm32 and a jmp
  // rel8 89 bytes on) in p_paddr (R+W), 22 in PT_GNU_STACK's hole, the counter in p_paddr
  // (PT_INTERP), the message and the path at 344, the tables at 384: 663.
  CHECK(plain.size() == 703);
  CHECK(packed.size() == 663);
  for (const tinyelf::Image* image : {&packed, &plain}) {
    const tinyelf::RunResult result = tinyelf::run(*image, test::hardened());
    CHECK(result.exit_code == 0);
    CHECK(result.out == "Hello 5\n");
    CHECK(tinyelf::check(image->bytes(), tinyelf::CheckOptions::host()).empty());
    test::check_with_elf_tools(*image, image == &packed ? "dynamic-data-packed" : "dynamic-data-plain");
  }
}

TEST_CASE("a dynamic program with debug information is laid out plainly", "[imports][pack]") {
  // Section headers describe the plain layout only: the same program is larger with them, and its
  // code starts after the five program headers.
  const tinyelf::Image image = puts_program("Hello, world!", 0, {.debug_info = tinyelf::DebugInfo::kSymbols});
  for (const tinyelf::Region& region : image.regions())
    if (region.kind == tinyelf::RegionKind::kCode) CHECK(region.offset >= 344);
  CHECK(tinyelf::run(image).out == "Hello, world!\n");
}

TEST_CASE("eu-elflint, readelf, file, ldd and gdb read a dynamic hello", "[imports][tools]") {
  const tinyelf::Image image = puts_program();
  test::check_with_elf_tools(image, "dynamic-hello");
  const std::string path = written(image, "dynamic-hello");
  const test::Process file_tool = test::spawn({"file", "-b", path});
  CHECK(file_tool.out.find("dynamically linked, interpreter /lib64/ld-linux-x86-64.so.2") != std::string::npos);
  const test::Process ldd = test::spawn({"ldd", path});
  INFO(ldd.out << ldd.err);
  CHECK(ldd.exit_code == 0);
  CHECK(ldd.out.find("libc.so.6 => ") != std::string::npos);
  const test::Process readelf = test::spawn({"readelf", "-W", "-d", path});
  CHECK(readelf.err.empty());
  CHECK(readelf.out.find("Shared library: [libc.so.6]") != std::string::npos);
  CHECK(readelf.out.find("(DEBUG)") != std::string::npos);

  // gdb finds libc through DT_DEBUG: a breakpoint on puts stops there. The file has no symbols of
  // its own, so gdb must be told to keep the breakpoint pending until libc is loaded.
  if (!test::have_tool("gdb")) {
    WARN("gdb is not installed: the breakpoint on puts is not tried (apt-get install gdb)");
    return;
  }
  const test::Process gdb =
      test::spawn({"gdb", "-batch", "-nx", "-ex", "set breakpoint pending on", "-ex", "break puts", "-ex", "run", "-ex",
                   "bt", path});
  INFO(gdb.out << gdb.err);
  CHECK(gdb.out.find("Breakpoint 1, ") != std::string::npos);
  CHECK(gdb.out.find("#0  ") != std::string::npos);
  CHECK(gdb.out.find("puts") != std::string::npos);
}

TEST_CASE("printf of doubles from libm, qsort calling back generated code, malloc, strlen, getenv", "[imports]") {
  tinyelf::Program program;
  const std::int32_t numbers[] = {5, -3, 9, 0};
  const Label array = program.data(numbers, sizeof numbers, 4);
  const Label format = program.rodata("%.3f %.3f %d %d %d %d %zu %s\n\0");
  const Label nine = program.rodata("\0\0\0\0\0\0\x22\x40", 8);  // 9.0
  const Label name = program.rodata("TINYELF_IMPORTS_TEST\0");
  const Label printf = program.import(kLibc, "printf");
  const Label qsort = program.import(kLibc, "qsort");
  const Label malloc = program.import(kLibc, "malloc");
  const Label free = program.import(kLibc, "free");
  const Label strlen = program.import(kLibc, "strlen");
  const Label getenv = program.import(kLibc, "getenv");
  const Label exit = program.import(kLibc, "exit");
  const Label sqrt = program.import(kLibm, "sqrt");
  const Label cos = program.import(kLibm, "cos");
  CHECK(program.import(kLibc, "printf") == printf);  // the same symbol: the same slot
  x86::Assembler& a = program.text();
  const Label compare = a.newLabel();
  const Label start = a.newLabel();
  a.bind(compare);  // int compare(const int*, const int*): descending
  a.mov(x86::eax, x86::dword_ptr(x86::rsi));
  a.sub(x86::eax, x86::dword_ptr(x86::rdi));
  a.ret();
  a.bind(start);
  a.sub(x86::rsp, 32);  // 16-byte aligned: [rsp] and [rsp + 8] for two doubles, [rsp + 16] for a pointer
  a.lea(x86::rdi, x86::ptr(array));
  a.mov(x86::esi, 4);
  a.mov(x86::edx, 4);
  a.lea(x86::rcx, x86::ptr(compare));
  a.call(x86::qword_ptr(qsort));
  a.movsd(x86::xmm0, x86::qword_ptr(nine));
  a.call(x86::qword_ptr(sqrt));
  a.movsd(x86::qword_ptr(x86::rsp), x86::xmm0);
  a.xorpd(x86::xmm0, x86::xmm0);
  a.call(x86::qword_ptr(cos));
  a.movsd(x86::qword_ptr(x86::rsp, 8), x86::xmm0);
  a.mov(x86::edi, 64);
  a.call(x86::qword_ptr(malloc));  // a buffer holding "abc"
  a.mov(x86::qword_ptr(x86::rsp, 16), x86::rax);
  a.mov(x86::dword_ptr(x86::rax), 0x636261);
  a.mov(x86::rdi, x86::rax);
  a.call(x86::qword_ptr(strlen));
  a.mov(x86::r12, x86::rax);
  a.lea(x86::rdi, x86::ptr(name));
  a.call(x86::qword_ptr(getenv));
  // printf(format, sqrt(9), cos(0), numbers[0..3], strlen("abc"), getenv(...)): the last
  // argument on the stack, two vector registers.
  a.lea(x86::rbx, x86::ptr(array));
  a.sub(x86::rsp, 16);
  a.mov(x86::qword_ptr(x86::rsp), x86::rax);
  a.lea(x86::rdi, x86::ptr(format));
  a.mov(x86::esi, x86::dword_ptr(x86::rbx));
  a.mov(x86::edx, x86::dword_ptr(x86::rbx, 4));
  a.mov(x86::ecx, x86::dword_ptr(x86::rbx, 8));
  a.mov(x86::r8d, x86::dword_ptr(x86::rbx, 12));
  a.mov(x86::r9, x86::r12);
  a.movsd(x86::xmm0, x86::qword_ptr(x86::rsp, 16));
  a.movsd(x86::xmm1, x86::qword_ptr(x86::rsp, 24));
  a.mov(x86::eax, 2);
  a.call(x86::qword_ptr(printf));
  a.add(x86::rsp, 16);
  a.mov(x86::rdi, x86::qword_ptr(x86::rsp, 16));
  a.call(x86::qword_ptr(free));
  a.xor_(x86::edi, x86::edi);
  a.call(x86::qword_ptr(exit));
  program.set_entry(start);
  const tinyelf::Image image = program.link();

  ::setenv("TINYELF_IMPORTS_TEST", "from the environment", 1);  // run() passes this process's environment
  const tinyelf::RunResult result = tinyelf::run(image, test::hardened());
  ::unsetenv("TINYELF_IMPORTS_TEST");
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.out == "3.000 1.000 9 5 0 -3 3 from the environment\n");
  // Two libraries, each needed once.
  const std::vector<std::int64_t> found = tags(dynamic_entries(image));
  CHECK(std::count(found.begin(), found.end(), DT_NEEDED) == 2);
}

TEST_CASE("a data symbol's slot holds its address: fputs to libc's stdout", "[imports]") {
  tinyelf::Program program;
  const Label text = program.rodata("through stdout\n\0");
  const Label stdout_slot = program.import(kLibc, "stdout");
  const Label fputs = program.import(kLibc, "fputs");
  const Label exit = program.import(kLibc, "exit");
  x86::Assembler& a = program.text();
  a.mov(x86::rsi, x86::qword_ptr(stdout_slot));  // &stdout
  a.mov(x86::rsi, x86::qword_ptr(x86::rsi));     // stdout, a FILE*
  a.lea(x86::rdi, x86::ptr(text));
  a.call(x86::qword_ptr(fputs));
  a.xor_(x86::edi, x86::edi);
  a.call(x86::qword_ptr(exit));
  const tinyelf::RunResult result = tinyelf::run(program.link());
  CHECK(result.exit_code == 0);
  CHECK(result.out == "through stdout\n");
}

// ld.so applies every relocation of DT_RELA before it jumps to the entry: a symbol it cannot find
// stops the program at start, before its first instruction (here a write(2) that never shows).
TEST_CASE("a missing library or an unknown symbol stops the program at start: ld.so's message, status 127",
          "[imports]") {
  auto program_with = [](const char* library, const char* symbol) {
    tinyelf::Program program;
    const Label started = program.rodata("started\n");
    const Label slot = program.import(library, symbol);
    const Label exit = program.import(kLibc, "exit");
    x86::Assembler& a = program.text();
    a.mov(x86::eax, 1);  // write(1, "started\n", 8)
    a.mov(x86::edi, 1);
    a.lea(x86::rsi, x86::ptr(started));
    a.mov(x86::edx, 8);
    a.syscall();
    a.call(x86::qword_ptr(slot));
    a.xor_(x86::edi, x86::edi);
    a.call(x86::qword_ptr(exit));
    return program.link();
  };
  SECTION("a library that is not installed") {
    const tinyelf::RunResult result = tinyelf::run(program_with("libtinyelf-missing.so.1", "puts"));
    CHECK(result.exit_code == 127);
    CHECK(result.out.empty());
    CHECK(result.err.find("error while loading shared libraries: libtinyelf-missing.so.1: cannot open shared "
                          "object file: No such file or directory") != std::string::npos);
  }
  SECTION("a symbol no library has") {
    const tinyelf::RunResult result = tinyelf::run(program_with(kLibc, "tinyelf_no_such_function"));
    CHECK(result.exit_code == 127);
    CHECK(result.out.empty());
    CHECK(result.err.find("symbol lookup error: ") != std::string::npos);
    CHECK(result.err.find("undefined symbol: tinyelf_no_such_function") != std::string::npos);
  }
  SECTION("an interpreter that does not exist: execve fails") {
    tinyelf::Program program;
    const Label exit = program.import(kLibc, "exit");
    program.text().call(x86::qword_ptr(exit));
    const tinyelf::Image image = program.link({.interpreter = "/lib64/tinyelf-no-such-ld.so"});
    const auto findings = tinyelf::check(image.bytes());
    REQUIRE(findings.size() == 1);
    CHECK(findings[0].id == "interpreter-not-found");
    try {
      tinyelf::run(image);
      FAIL("run() succeeded");
    } catch (const tinyelf::Error& error) {
      CHECK(error.code() == tinyelf::ErrorCode::kExecRefused);
      CHECK(std::string(error.what()).find("ENOENT") != std::string::npos);
    }
  }
}

TEST_CASE("import() and link() refuse what a program with imports cannot be", "[imports][errors]") {
  tinyelf::Program program;
  auto refused = [&](auto call, tinyelf::ErrorCode code, const std::string& message) {
    try {
      call();
      FAIL("no error");
    } catch (const tinyelf::Error& error) {
      CHECK(error.code() == code);
      CHECK(std::string(error.what()) == message);
    }
  };
  refused([&] { program.import("", "puts"); }, tinyelf::ErrorCode::kInvalidImport, "the library name is empty");
  refused([&] { program.import(kLibc, ""); }, tinyelf::ErrorCode::kInvalidImport, "the symbol name is empty");
  refused([&] { program.import(kLibc, std::string_view("put\0s", 5)); }, tinyelf::ErrorCode::kInvalidImport,
          "the symbol name \"put\" contains a NUL byte at 3: ELF names end at the first NUL");
  refused([&] { program.import(std::string_view("libc\0.so", 8), "puts"); }, tinyelf::ErrorCode::kInvalidImport,
          "the library name \"libc\" contains a NUL byte at 4: ELF names end at the first NUL");
  refused([&] { program.import(kLibc, "puts", static_cast<tinyelf::SymbolKind>(5)); },
          tinyelf::ErrorCode::kInvalidImport,
          "import \"puts\": kind 5 is not a tinyelf::SymbolKind: use kFunction or kObject");
  program.import(kLibc, "stdout", tinyelf::SymbolKind::kObject);
  refused([&] { program.import(kLibc, "stdout"); }, tinyelf::ErrorCode::kInvalidImport,
          "import \"stdout\": imported before as data, now as a function: a symbol is either a function or data");
  refused([&] { program.import("libtinyelf-other.so.1", "stdout", tinyelf::SymbolKind::kFunction); },
          tinyelf::ErrorCode::kInvalidImport,
          "import \"stdout\": imported before as data, now as a function: a symbol is either a function or data");
  program.text().xor_(x86::edi, x86::edi);
  program.text().call(x86::qword_ptr(program.import(kLibc, "exit")));
  refused([&] { program.link({.layout = tinyelf::Layout::kCompact}); }, tinyelf::ErrorCode::kUnsupportedLayout,
          "a program with imports (Program::import) needs Layout::kConformant: the compact layouts cannot carry the "
          "program headers ld.so reads yet");
  refused([&] { program.link({.position_independent = true}); }, tinyelf::ErrorCode::kUnsupportedLayout,
          "a program with imports (Program::import) cannot be position-independent yet: leave "
          "LinkOptions::position_independent false");
  refused([&] { program.link({.single_segment = true}); }, tinyelf::ErrorCode::kUnsupportedLayout,
          "a program with imports (Program::import) always has R+X and R+W segments (ld.so writes the slots and the "
          "dynamic section): leave LinkOptions::single_segment false");
  refused([&] { program.link({.layout = tinyelf::Layout::kCompact, .debug_info = tinyelf::DebugInfo::kSymbols}); },
          tinyelf::ErrorCode::kUnsupportedLayout,
          "LinkOptions::debug_info needs Layout::kConformant: gdb, objdump, perf and readelf cannot read compact "
          "files, whose headers overlap");
  refused([&] { program.link({.interpreter = ""}); }, tinyelf::ErrorCode::kInvalidImport,
          "the interpreter name is empty");
  refused([&] { program.link({.interpreter = std::string_view("/lib64/ld\0x", 11)}); },
          tinyelf::ErrorCode::kInvalidImport,
          "the interpreter name \"/lib64/ld\" contains a NUL byte at 9: ELF names end at the first NUL");
  // A link() that fails after the import tables were built (here: too big) leaves them built for its
  // options: another debug_info or interpreter is refused, the same options link.
  refused([&] { program.link({.debug_info = tinyelf::DebugInfo::kSymbols, .max_file_size = 600}); },
          tinyelf::ErrorCode::kImageTooLarge,
          "the executable would be 1616 bytes, over LinkOptions::max_file_size (600 bytes)");
  refused([&] { program.link(); }, tinyelf::ErrorCode::kAlreadyLinked,
          "a link() that failed built this program's import tables for other options (interpreter or debug_info): "
          "link it with the same ones, or reset() and build it again");
  // None of these changed the program otherwise: it still links and runs, and the refused library
  // of the second stdout is not needed. Data added after the failed link() follows the tables,
  // and the section headers describe it too.
  program.rodata("late\0");
  program.data("late", 4);
  const tinyelf::Image image = program.link({.debug_info = tinyelf::DebugInfo::kSymbols});
  CHECK(tinyelf::run(image).exit_code == 0);
  test::check_with_elf_tools(image, "after-a-failed-link");
  const std::string path = written(image, "after-a-failed-link");
  const test::Process sections = test::spawn({"readelf", "-W", "-S", path});
  INFO(sections.out);
  for (const char* part : {"] .interp ", "] .rodata ", "] .dynstr ", "] .data "})
    CHECK(sections.out.find(part) != std::string::npos);
  const std::vector<std::int64_t> found = tags(dynamic_entries(image));
  CHECK(std::count(found.begin(), found.end(), DT_NEEDED) == 1);
  refused([&] { program.import(kLibc, "puts"); }, tinyelf::ErrorCode::kAlreadyLinked,
          "import() after link(): call reset() to build the next program");
  // reset() forgets the imports: the next program without any is a plain static file.
  program.reset();
  program.text().mov(x86::eax, 60);
  program.text().syscall();
  CHECK(test::read_headers(program.link().bytes()).phdrs.size() == 1);
}

TEST_CASE("the examples libc_hello and libc_tour", "[imports][examples]") {
  const std::filesystem::path hello = test::scratch_folder() / "libc_hello";
  test::Process built = test::spawn({LIBC_HELLO_BINARY, hello.string()});
  REQUIRE(built.exit_code == 0);
  // 344 header bytes (ELF header and five program headers), 28 of interpreter path, 4 of
  // padding, 277 of dynamic section, symbols, relocations and strings; the 19 bytes of code (lea
  // as mov edi, imm32) in three p_paddr holes, the 14 of message in PT_GNU_STACK's.
  CHECK(built.out == hello.string() + " 653\n");
  const test::Process run_hello = test::spawn({hello.string()});
  CHECK(run_hello.exit_code == 0);
  CHECK(run_hello.out == "Hello, world!\n");
  const std::string hello_bytes = test::read_file(hello);
  CHECK(tinyelf::check(std::span(reinterpret_cast<const std::uint8_t*>(hello_bytes.data()), hello_bytes.size()))
            .empty());

  const std::filesystem::path tour = test::scratch_folder() / "libc_tour";
  built = test::spawn({LIBC_TOUR_BINARY, tour.string()});
  REQUIRE(built.exit_code == 0);
  const test::Process run_tour = test::spawn({tour.string()});
  const char* home = std::getenv("HOME");
  // Every tool reads both, and they do the same under PR_SET_MDWE.
  for (const std::filesystem::path& path : {hello, tour}) {
    const test::Process elflint = test::spawn({"eu-elflint", "--strict", path.string()});
    INFO(elflint.out << elflint.err);
    CHECK(elflint.out.find("No errors") != std::string::npos);
    const test::Process readelf = test::spawn({"readelf", "-W", "-a", path.string()});
    CHECK(readelf.exit_code == 0);
    CHECK(readelf.err.empty());
    const std::string bytes = test::read_file(path);
    const std::span file(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    test::check_no_writable_executable_segment(file);
    const tinyelf::RunResult plain = tinyelf::run(file);
    const tinyelf::RunResult hardened = tinyelf::run(file, test::hardened());
    CHECK(plain.exit_code == 0);
    CHECK(hardened.exit_code == 0);
    CHECK(hardened.out == plain.out);
  }
  CHECK(run_tour.exit_code == 0);
  CHECK(run_tour.out == fmt::format("sorted: -7 0 3 12 42\nsqrt(2) = 1.414214, cos(0) = 1.000000\n"
                                    "HOME={}, argv[0]={}\n",
                                    home != nullptr ? home : "(null)", tour.string()));
}
