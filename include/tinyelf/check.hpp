// tinyelf::inspect and tinyelf::check — read any ELF64 executable and predict what execve does
// with it on x86-64 Linux, before running it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tinyelf {

// The ELF header as the file holds it. Bytes past the end of a short file read as 0, as they do
// in the kernel's zero-filled header buffer (struct linux_binprm::buf).
struct ElfHeader {
  std::array<std::uint8_t, 16> e_ident{};  // magic, class, data encoding, version, OS ABI, padding
  std::uint16_t e_type = 0;                // object file type (ET_EXEC 2, ET_DYN 3)
  std::uint16_t e_machine = 0;             // architecture (EM_X86_64 62)
  std::uint32_t e_version = 0;             // object file version
  std::uint64_t e_entry = 0;               // virtual address of the entry point
  std::uint64_t e_phoff = 0;               // file offset of the program header table
  std::uint64_t e_shoff = 0;               // file offset of the section header table (0: none)
  std::uint32_t e_flags = 0;               // processor-specific flags
  std::uint16_t e_ehsize = 0;              // size of the ELF header
  std::uint16_t e_phentsize = 0;           // size of one program header
  std::uint16_t e_phnum = 0;               // number of program headers
  std::uint16_t e_shentsize = 0;           // size of one section header
  std::uint16_t e_shnum = 0;               // number of section headers
  std::uint16_t e_shstrndx = 0;            // section header index of the section name table
};

// One program header.
struct ProgramHeader {
  std::uint32_t p_type = 0;    // segment type (PT_LOAD 1, PT_INTERP 3, ...)
  std::uint32_t p_flags = 0;   // PF_X 1, PF_W 2, PF_R 4
  std::uint64_t p_offset = 0;  // file offset of the segment
  std::uint64_t p_vaddr = 0;   // virtual address of the segment
  std::uint64_t p_paddr = 0;   // physical address (never read by Linux)
  std::uint64_t p_filesz = 0;  // bytes taken from the file
  std::uint64_t p_memsz = 0;   // bytes in memory (the rest is zero-filled)
  std::uint64_t p_align = 0;   // alignment (only used by Linux for ET_DYN)
};

// A plain view of an ELF64 file: its header and the program headers it holds.
struct ElfView {
  std::uint64_t file_size = 0;
  ElfHeader header;
  // The program headers the kernel would read: e_phnum entries of 56 bytes from e_phoff, as far
  // as they lie wholly inside the file (whatever e_phentsize says). Overlapping the ELF header is
  // fine: the compact layout places the table at offset 24.
  std::vector<ProgramHeader> program_headers;
  // True if all e_phnum entries were inside the file.
  bool program_headers_complete = false;
};

// Parses `file` (anybody's ELF64 file, or any bytes at all) without ever reading past its end.
// Never throws except std::bad_alloc.
ElfView inspect(std::span<const std::uint8_t> file);

// From least to worst: the worst finding of a file says what execve does with it.
enum class Severity {
  kHardening,         // it runs, but hardened environments refuse it (PR_SET_MDWE, systemd's
                      // MemoryDenyWriteExecute=yes) and GNU ld-style tools warn about it ("has a
                      // LOAD segment with RWX permissions")
  kTooling,           // the kernel runs it, but readelf, file, gdb or eu-elflint cannot read it properly
  kDependsOnCode,     // execve succeeds and the first instruction runs, but the kernel maps memory in a
                      // way that breaks programs whose code does something the headers cannot show
                      // (reads an execute-only segment); check() cannot tell which kind this one is
  kCrashesAfterExec,  // execve succeeds, then the process dies before its first instruction does
                      // anything useful: the kernel kills it (SIGSEGV, SIGBUS), or the dynamic
                      // loader (PT_INTERP) crashes or stops it with a message and status 127
  kRefused,           // execve fails (ENOEXEC, ...), the caller gets an errno
};

// A short name for a severity: "hardening", "tooling", "depends on the code", "crashes after exec",
// "refused".
std::string_view to_string(Severity severity) noexcept;

struct Finding {
  std::string id;  // stable, e.g. "bad-phentsize"; ids are never renamed or reused
  Severity severity = Severity::kTooling;
  std::string message;  // what is wrong, in the file's terms: "e_phentsize is 64, the kernel requires 56"
};

// The facts about the machine that runs the file which decide what execve does with it. The
// defaults describe a Debian machine of no particular size; CheckOptions::host() reads this one.
struct CheckOptions {
  // vm.mmap_min_addr of the machine that will run the file (Debian's default: 65536). Processes
  // with CAP_SYS_RAWIO (root) ignore it; 0 turns the check off.
  std::uint64_t mmap_min_addr = 65536;
  // The kernel's cap on the size of the program header table: 65536 bytes on 6.x
  // (load_elf_phdrs in fs/binfmt_elf.c); 6.1 and older cap it at one page, 4096.
  std::uint64_t max_program_header_table = 65536;
  // The most memory the kernel commits to one mapping at exec (bss, writable file mappings);
  // with vm.overcommit_memory=0 that is RAM + swap. The default, no limit, never reports it.
  std::uint64_t commit_limit = UINT64_MAX;
  // Follow a well-formed PT_INTERP path on this machine, as the kernel does: a missing or
  // non-executable file, or one that is not an x86-64 ELF file, makes execve fail. When false,
  // check() judges the file alone and says nothing about the interpreter.
  bool resolve_interpreter = true;
  // The process runs under PR_SET_MDWE with PR_MDWE_REFUSE_EXEC_GAIN (Linux 6.3+; systemd's
  // MemoryDenyWriteExecute=yes; inherited across fork and execve): mmap refuses a mapping both
  // writable and executable (map_deny_write_exec, called from mmap_region in mm/mmap.c), so a
  // PT_LOAD with PF_W and PF_X kills the process at exec.
  bool deny_write_execute = false;
  // The CPU has protection keys and the kernel enabled them (/proc/cpuinfo flags pku and ospke;
  // Intel since Skylake-SP, AMD since Zen 3): a PT_LOAD with PF_X but neither PF_R nor PF_W is
  // mapped execute-only (do_mmap() in mm/mmap.c gives PROT_EXEC alone an execute-only key,
  // __execute_only_pkey() in arch/x86/mm/pkeys.c), so a load from it faults. Without them x86
  // page tables cannot deny reads: PF_X alone is readable.
  bool protection_keys = false;

  // The facts of the running machine, for a program started by an unprivileged process:
  // vm.mmap_min_addr from /proc/sys/vm/mmap_min_addr (as it is, although root ignores it), and
  // the commit limit from vm.overcommit_memory and /proc/meminfo (0: RAM + swap, 1: none,
  // 2: CommitLimit); protection keys from the flags of the first CPU in /proc/cpuinfo (both pku
  // and ospke); MDWE from prctl(PR_GET_MDWE), which this process's children inherit unless
  // PR_MDWE_NO_INHERIT is set (false before Linux 6.3, where it fails with EINVAL). A fact it
  // cannot read keeps its default.
  static CheckOptions host();
};

// Judges `file` as execve on x86-64 Linux would, without running it. Findings come in the order
// the kernel meets the problems; the worst severity decides what execve does. With a PT_INTERP
// the kernel starts the interpreter: check() then also judges what glibc's ld.so does with the
// program before its entry (the program headers it reads through AT_PHDR, PT_DYNAMIC, the
// dynamic section's entries it reads unchecked, where the relocations write), but it does not
// look the needed libraries or their symbols up: a missing one makes ld.so stop the program with
// status 127.
// The entry point is assumed to hold the program's code: check() cannot tell whether it is the
// *right* code.
//
//   for (const tinyelf::Finding& f : tinyelf::check(image.bytes()))
//     fmt::print("{}: {}\n", tinyelf::to_string(f.severity), f.message);
std::vector<Finding> check(std::span<const std::uint8_t> file, const CheckOptions& options = {});

// The worst severity among `findings`, which is what execve will do; nullopt if there is none.
std::optional<Severity> worst_severity(std::span<const Finding> findings) noexcept;

}  // namespace tinyelf
