// tinyelf::check — predicts what execve does with a file on x86-64 Linux.
//
// The checks follow load_elf_binary() in fs/binfmt_elf.c (Linux 6.x) step by step:
//
//   1. before the point of no return, a failed check makes execve fail (ENOEXEC):
//      e_ident magic, e_type, e_machine (elf_check_arch), then load_elf_phdrs(): e_phentsize,
//      e_phnum, the size of the table and a complete read of it, then a PT_INTERP path;
//   2. begin_new_exec() is the point of no return: from there a failure kills the process with
//      SIGSEGV and execve "succeeds" (exec.c: force_fatal_sig(SIGSEGV)). The segments are mapped
//      by elf_load() / elf_map() (vm_mmap, vm_brk_flags), then the entry point is checked only to
//      be below TASK_SIZE; the CPU finds out the rest at the first instruction;
//   3. with a PT_INTERP, the dynamic loader runs first: what glibc's ld.so does with the program's
//      headers and dynamic section before it jumps to the entry is in lib/check_loader.cpp.
//
// The model is deliberately page-granular: the kernel maps whole pages, so an entry point before
// p_vaddr but in the same page (the compact layout's) runs, and a read-only segment keeps the file
// bytes past p_filesz in its last page.
//
// Two facts of the machine change what the mapping does (CheckOptions): under PR_SET_MDWE a
// writable and executable segment cannot be mapped (crashes after exec; elsewhere a hardening
// finding), and with protection keys a segment with PF_X alone is execute-only, which only some
// programs survive (depends on the code).
//
// Tooling findings are only those an ELF tool was seen to fail on (readelf, file, objdump,
// eu-elflint --strict); p_filesz past the end of the file, e_ehsize, or an entry point outside
// [p_vaddr, p_vaddr + p_memsz) bother none of them.
#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <tinyelf/check.hpp>

#include "check_p.hpp"
#include "elf_p.hpp"
#include "mdwe_p.hpp"

namespace tinyelf {

namespace {

using detail::is_executable;
using detail::is_writable;
using detail::kPageSize;
using detail::Mapping;
using detail::page_align;
using detail::page_offset;
using detail::page_start;
using detail::Report;

constexpr std::uint64_t kTaskSize = detail::kUserAddressEnd;  // TASK_SIZE_MAX, 4-level paging
constexpr std::uint64_t kPathMax = 4096;                      // PATH_MAX (include/uapi/linux/limits.h)
// MAX_LFS_FILESIZE on 64-bit: mmap refuses file offsets past it (file_mmap_ok in mm/mmap.c).
constexpr std::uint64_t kMaxFileOffset = INT64_MAX;
constexpr std::uint16_t kShdrSize = 64;  // sizeof(Elf64_Shdr)
constexpr std::uint16_t kPhdrSize = 56;

std::string type_name(std::uint16_t type) {
  switch (type) {
    case 0: return "ET_NONE";
    case 1: return "ET_REL, an object file";
    case 4: return "ET_CORE, a core dump";
    default: return "unknown";
  }
}

// Printable form of a path read from a file: anything unusual as \xNN.
std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '"' && c != '\\') out += c;
    else out += fmt::format("\\x{:02x}", byte);
  }
  return out;
}

// What open_exec() and the interpreter checks in load_elf_binary() make of the path: the file
// must be a regular, executable file (else ENOENT, EACCES), then an x86-64 ELF file whose program
// headers load_elf_phdrs() can read (else ELIBBAD).
void check_interpreter_file(const std::string& path, Report& report) {
  struct stat st;
  const std::string shown = printable(path);
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || ::access(path.c_str(), X_OK) != 0) {
    report.add("interpreter-not-found", Severity::kRefused,
               fmt::format("PT_INTERP names \"{}\", which is not an executable file on this machine", shown));
    return;
  }
  // The header and at most the largest program header table the kernel reads.
  std::vector<std::uint8_t> bytes(64 + 65536);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  std::size_t size = 0;
  if (fd >= 0) {
    for (ssize_t n; size < bytes.size() && (n = ::read(fd, bytes.data() + size, bytes.size() - size)) > 0;)
      size += static_cast<std::size_t>(n);
    ::close(fd);
  }
  bytes.resize(size);
  CheckOptions options;
  options.resolve_interpreter = false;
  for (const Finding& f : check(bytes, options)) {
    if (f.severity != Severity::kRefused) continue;
    report.add("bad-interpreter", Severity::kRefused,
               fmt::format("the interpreter \"{}\" is not one the kernel loads (ELIBBAD): {}", shown, f.message));
    return;
  }
}

// The PT_INTERP checks before the point of no return (load_elf_binary). Returns true if the file
// names an interpreter the kernel starts; the kernel only looks at the first PT_INTERP.
bool check_interpreter(const ElfView& view, std::span<const std::uint8_t> file, const CheckOptions& options,
                       Report& report) {
  for (std::size_t i = 0; i < view.program_headers.size(); ++i) {
    const ProgramHeader& p = view.program_headers[i];
    if (p.p_type != detail::PT_INTERP) continue;
    if (p.p_filesz < 2 || p.p_filesz > kPathMax) {
      report.add("bad-interp", Severity::kRefused,
                 fmt::format("program header {}: PT_INTERP p_filesz is {}, the kernel requires 2 to {} (PATH_MAX)", i,
                             p.p_filesz, kPathMax));
    } else if (p.p_offset > file.size() || file.size() - p.p_offset < p.p_filesz) {
      report.add("bad-interp", Severity::kRefused,
                 fmt::format("program header {}: the PT_INTERP path ({} bytes at offset {:#x}) is not wholly inside "
                             "the file ({} bytes)",
                             i, p.p_filesz, p.p_offset, file.size()));
    } else if (file[p.p_offset + p.p_filesz - 1] != 0) {
      report.add("bad-interp", Severity::kRefused,
                 fmt::format("program header {}: the PT_INTERP path at offset {:#x} does not end with a NUL byte", i,
                             p.p_offset));
    } else {
      // The kernel opens the string up to its first NUL.
      const char* path = reinterpret_cast<const char*>(file.data() + p.p_offset);
      if (options.resolve_interpreter) check_interpreter_file(std::string(path, ::strnlen(path, p.p_filesz)), report);
      return true;
    }
    return false;
  }
  return false;
}

// Maps one PT_LOAD as elf_load() does and reports every way that fails after the point of no
// return. `absolute`: the addresses are where the segment lands (ET_EXEC, or ET_DYN after its
// first segment chose the base), so vm.mmap_min_addr and TASK_SIZE apply to them.
Mapping map_segment(std::size_t index, const ProgramHeader& p, bool absolute, std::uint64_t file_size,
                    const CheckOptions& options, Report& report) {
  Mapping m;
  m.index = index;
  m.phdr = &p;
  const std::uint64_t offset_in_page = page_offset(p.p_vaddr);
  m.start = page_start(p.p_vaddr);
  m.file_end = m.start;
  bool ok = true;
  auto crash = [&](std::string_view id, std::string message) {
    report.add(id, Severity::kCrashesAfterExec, fmt::format("program header {}: {}", index, message));
    ok = false;
  };
  auto check_address = [&](std::uint64_t address, std::uint64_t length, std::string_view what) {
    if (!absolute) return;
    if (options.mmap_min_addr != 0 && address < options.mmap_min_addr)
      crash("segment-below-mmap-min-addr",
            fmt::format("{} at {:#x} lies below vm.mmap_min_addr ({:#x}): the kernel cannot map it and kills the "
                        "process with SIGSEGV",
                        what, address, options.mmap_min_addr));
    if (length > kTaskSize || address > kTaskSize - length)
      crash("segment-beyond-user-space",
            fmt::format("{} at {:#x} ({:#x} bytes) ends beyond the user address space ({:#x})", what, address, length,
                        kTaskSize));
  };

  // elf_map(): the file pages, from the page holding p_offset to the page holding p_vaddr.
  bool file_mapped = false;
  if (p.p_filesz != 0) {
    const std::uint64_t size = page_align(p.p_filesz + offset_in_page);  // may wrap to 0, as in the kernel
    m.file_base = p.p_offset - offset_in_page;
    file_mapped = size != 0;
    if (size != 0) {
      if (page_offset(m.file_base) != 0) {
        crash("misaligned-segment",
              fmt::format("p_offset {:#x} and p_vaddr {:#x} differ modulo the page size ({:#x} vs {:#x}): mmap fails "
                          "and the kernel kills the process with SIGSEGV",
                          p.p_offset, p.p_vaddr, page_offset(p.p_offset), offset_in_page));
      } else if (m.file_base + size < m.file_base || m.file_base / kPageSize > (kMaxFileOffset - size) / kPageSize ||
                 size > kMaxFileOffset) {
        crash("segment-offset-overflow",
              fmt::format("p_offset {:#x} plus p_filesz {:#x} is beyond the largest file offset mmap accepts",
                          p.p_offset, p.p_filesz));
      }
      check_address(m.start, size, "the segment");
      if (is_writable(p) && size > options.commit_limit)
        crash("segment-too-large",
              fmt::format("the writable segment maps {:#x} bytes, more than the kernel commits ({:#x})", size,
                          options.commit_limit));
      m.file_end = m.start + size;
      // padzero(): a writable segment's last file page is zeroed past p_filesz; if that page lies
      // wholly past the end of the file, clear_user() faults and the kernel gives up (-EFAULT).
      const std::uint64_t zero_from = offset_in_page + p.p_filesz;
      if (ok && p.p_memsz > p.p_filesz && page_offset(zero_from) != 0 && is_writable(p) &&
          m.file_base + page_start(zero_from) >= file_size)
        crash("zero-fill-past-end-of-file",
              fmt::format("the writable segment's last page (file offset {:#x}) is past the end of the file ({} "
                          "bytes): zeroing it past p_filesz faults and the kernel kills the process with SIGSEGV",
                          m.file_base + page_start(zero_from), file_size));
    }
  }

  // make_prot() turns PF_W and PF_X into PROT_WRITE | PROT_EXEC. Under PR_SET_MDWE, mmap_region()
  // (mm/mmap.c) refuses such a mapping (map_deny_write_exec(): EACCES), elf_map() fails and the
  // kernel kills the process. Only the file mapping is checked: the zero-filled pages past it come
  // from vm_brk_flags(), which MDWE does not look at, so a segment with p_filesz 0 still runs.
  if (is_writable(p) && is_executable(p)) {
    constexpr std::string_view kLdWarns = "GNU ld warns of such a segment (\"has a LOAD segment with RWX permissions\")";
    if (!file_mapped)
      report.add("writable-and-executable-segment", Severity::kHardening,
                 fmt::format("program header {}: p_flags {:#x} make the segment's zero-filled memory writable and "
                             "executable: it runs, even under PR_SET_MDWE (vm_brk does not check it), but {}",
                             index, p.p_flags, kLdWarns));
    else if (options.deny_write_execute)
      crash("writable-and-executable-segment",
            fmt::format("p_flags {:#x} make the segment writable and executable: under PR_SET_MDWE (systemd's "
                        "MemoryDenyWriteExecute=yes) mmap refuses it and the kernel kills the process with SIGSEGV",
                        p.p_flags));
    else
      report.add("writable-and-executable-segment", Severity::kHardening,
                 fmt::format("program header {}: p_flags {:#x} make the segment writable and executable: it runs, "
                             "but a process under PR_SET_MDWE (systemd's MemoryDenyWriteExecute=yes) is killed at "
                             "exec, and {}",
                             index, p.p_flags, kLdWarns));
  }

  // The sanity checks after elf_load() in load_elf_binary(), on the raw p_vaddr.
  if (p.p_filesz > p.p_memsz) {
    crash("filesz-exceeds-memsz",
          fmt::format("p_filesz {:#x} exceeds p_memsz {:#x}: the kernel kills the process with SIGSEGV", p.p_filesz,
                      p.p_memsz));
    return m;
  }
  if (p.p_vaddr >= kTaskSize || p.p_memsz > kTaskSize || kTaskSize - p.p_memsz < p.p_vaddr) {
    crash("segment-beyond-user-space",
          fmt::format("p_vaddr {:#x} plus p_memsz {:#x} ends beyond the user address space ({:#x})", p.p_vaddr,
                      p.p_memsz, kTaskSize));
    return m;
  }

  // vm_brk_flags(): anonymous zero pages from the end of the file pages to the end of p_memsz.
  m.end = m.file_end;
  if (p.p_memsz > p.p_filesz) {
    const std::uint64_t zero_start = p.p_filesz != 0 ? page_align(p.p_vaddr + p.p_filesz) : m.start;
    const std::uint64_t zero_end = page_align(p.p_vaddr + p.p_memsz);
    if (zero_end > zero_start) {
      if (p.p_filesz == 0) check_address(zero_start, zero_end - zero_start, "the zero-filled memory");
      if (zero_end - zero_start > options.commit_limit)
        crash("bss-too-large",
              fmt::format("the zero-filled memory ({:#x} bytes) is more than the kernel commits ({:#x})",
                          zero_end - zero_start, options.commit_limit));
      m.end = std::max(m.end, zero_end);
    }
  }
  m.valid = ok;
  return m;
}

// Whether some page of [start, end) is left to the mapping that made it: the segments after it
// (`later`) are mapped over it with MAP_FIXED, each replacing the pages it covers.
bool keeps_a_page(std::uint64_t start, std::uint64_t end, std::span<const Mapping> later) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> covered;
  for (const Mapping& m : later)
    if (m.end > m.start) covered.emplace_back(m.start, m.end);
  std::sort(covered.begin(), covered.end());
  std::uint64_t next = start;  // the first page not yet known to be replaced
  for (const auto& [from, to] : covered) {
    if (from > next) break;
    next = std::max(next, to);
    if (next >= end) return false;
  }
  return next < end;
}

// With protection keys, make_prot() gives PF_X alone PROT_EXEC alone, and do_mmap() (mm/mmap.c)
// maps that with the execute-only key, whose PKRU bits deny every data access, the kernel's own
// copies from user memory included. The kernel itself reads nothing there, so whether the process
// survives depends on its code: one that only executes there runs, one that loads its constants
// or data from there gets SIGSEGV, one that hands them to a system call gets EFAULT. The zero-
// filled pages past the file pages come from vm_brk_flags() and stay readable and writable.
void check_execute_only(std::span<const Mapping> mappings, const CheckOptions& options, Report& report) {
  if (!options.protection_keys) return;
  for (std::size_t i = 0; i < mappings.size(); ++i) {
    const Mapping& m = mappings[i];
    const ProgramHeader& p = *m.phdr;
    if ((p.p_flags & (detail::PF_R | detail::PF_W | detail::PF_X)) != detail::PF_X) continue;
    if (m.file_end <= m.start || !keeps_a_page(m.start, m.file_end, mappings.subspan(i + 1))) continue;
    report.add("execute-only-segment", Severity::kDependsOnCode,
               fmt::format("program header {}: p_flags {:#x} give PF_X alone: with protection keys the kernel maps "
                           "its file pages ({:#x} to {:#x}) execute-only; code there runs, but a load from them "
                           "faults (SIGSEGV) and a system call reading them fails (EFAULT), so the program works "
                           "only if it never reads its own bytes there (constants, strings, data)",
                           m.index, p.p_flags, m.start, m.file_end));
  }
}

// What the CPU finds at the entry point.
void check_entry(const ElfHeader& h, const std::vector<Mapping>& mappings, std::uint64_t file_size, bool dyn,
                 Report& report) {
  const std::uint64_t entry = h.e_entry;
  if (!dyn && entry >= kTaskSize) {
    report.add("entry-not-mapped", Severity::kCrashesAfterExec,
               fmt::format("e_entry {:#x} is beyond the user address space ({:#x}): the kernel kills the process "
                           "with SIGSEGV",
                           entry, kTaskSize));
    return;
  }
  // Later segments are mapped over earlier ones (MAP_FIXED), so the last one holding the page wins.
  const Mapping* hit = nullptr;
  for (auto it = mappings.rbegin(); it != mappings.rend(); ++it) {
    if (it->end > it->start && entry >= it->start && entry < it->end) {
      hit = &*it;
      break;
    }
  }
  if (hit == nullptr) {
    report.add("entry-not-mapped", Severity::kCrashesAfterExec,
               fmt::format("e_entry {:#x} is in no PT_LOAD segment's pages: the first instruction fetch faults "
                           "(SIGSEGV)",
                           entry));
    return;
  }
  const ProgramHeader& p = *hit->phdr;
  if (!is_executable(p)) {
    report.add("entry-not-executable", Severity::kCrashesAfterExec,
               fmt::format("e_entry {:#x} is in a segment without PF_X (p_flags {:#x}): the first instruction fetch "
                           "faults (SIGSEGV)",
                           entry, p.p_flags));
    return;
  }

  // Is the entry on zero-filled memory? Executing 00 00 is `add [rax], al`, and Linux starts a
  // program with rax = 0 (execve's return value), so it faults unless something maps page 0.
  bool zero_filled = false;
  if (entry >= hit->file_end) {
    zero_filled = true;  // anonymous zero pages (bss)
  } else {
    const std::uint64_t file_offset = hit->file_base + (entry - hit->start);
    if (page_start(file_offset) >= file_size) {
      report.add("entry-past-end-of-file", Severity::kCrashesAfterExec,
                 fmt::format("e_entry {:#x} maps file offset {:#x}, in a page wholly past the end of the file ({} "
                             "bytes): the first instruction fetch raises SIGBUS",
                             entry, file_offset, file_size));
      return;
    }
    zero_filled = file_offset >= file_size ||  // the rest of the file's last page reads as zeros
                  (is_writable(p) && p.p_memsz > p.p_filesz && entry >= p.p_vaddr + p.p_filesz);  // padzero()
  }
  const bool page_zero_mapped =
      std::any_of(mappings.begin(), mappings.end(), [&](const Mapping& m) { return !dyn && m.start == 0 && m.end > 0; });
  if (zero_filled && page_offset(entry) != kPageSize - 1 && !page_zero_mapped) {
    report.add("entry-zero-filled", Severity::kCrashesAfterExec,
               fmt::format("e_entry {:#x} is on zero-filled memory, past the bytes the segment takes from the file: "
                           "the CPU executes 00 00 (add [rax], al) with rax = 0 and faults (SIGSEGV)",
                           entry));
  }
}

void check_tooling(const ElfView& view, Report& report) {
  const ElfHeader& h = view.header;
  // The kernel reads only the magic of e_ident (memcmp with ELFMAG, SELFMAG bytes).
  if (h.e_ident[4] != detail::ELFCLASS64)
    report.add("ei-class", Severity::kTooling,
               fmt::format("EI_CLASS is {}, not ELFCLASS64 (2): the kernel ignores it, but readelf, file and gdb "
                           "cannot read the file as ELF64",
                           h.e_ident[4]));
  if (h.e_ident[5] != detail::ELFDATA2LSB)
    report.add("ei-data", Severity::kTooling,
               fmt::format("EI_DATA is {}, not ELFDATA2LSB (1): the kernel ignores it, but ELF tools read the fields "
                           "in the wrong byte order or not at all",
                           h.e_ident[5]));
  if (h.e_ident[6] != detail::EV_CURRENT)
    report.add("ei-version", Severity::kTooling,
               fmt::format("EI_VERSION is {}, not EV_CURRENT (1): the kernel ignores it, eu-elflint rejects the file",
                           h.e_ident[6]));
  if (h.e_version != detail::EV_CURRENT)
    report.add("e-version", Severity::kTooling,
               fmt::format("e_version is {}, not EV_CURRENT (1): the kernel ignores it, eu-elflint rejects the file",
                           h.e_version));
  if (h.e_shoff != 0 || h.e_shnum != 0) {
    const std::uint64_t size = std::uint64_t{h.e_shnum} * h.e_shentsize;
    if (h.e_shentsize != kShdrSize || h.e_shoff > view.file_size || view.file_size - h.e_shoff < size)
      report.add("bad-section-headers", Severity::kTooling,
                 fmt::format("the section header table (e_shoff {:#x}, e_shnum {}, e_shentsize {}) is not a table of "
                             "64-byte entries inside the file: the kernel ignores it, readelf reports an error and objdump does "
                             "not recognize the file",
                             h.e_shoff, h.e_shnum, h.e_shentsize));
    // gABI: e_shstrndx is SHN_UNDEF (0) when no section names the others, or SHN_XINDEX
    // (0xffff) when the index is in the first section header's sh_link.
    constexpr std::uint16_t kShnXindex = 0xffff;
    if (h.e_shnum > 1 && h.e_shstrndx != kShnXindex && (h.e_shstrndx == 0 || h.e_shstrndx >= h.e_shnum))
      report.add("bad-shstrndx", Severity::kTooling,
                 fmt::format("e_shstrndx is {} for {} section headers: no section names the others, so readelf and "
                             "objdump print no names and gdb reports a corrupt string table and ignores the symbols",
                             h.e_shstrndx, h.e_shnum));
  }
  for (std::size_t i = 0; i < view.program_headers.size(); ++i) {
    const ProgramHeader& p = view.program_headers[i];
    // ld.so reads the dynamic section in memory, readelf in the file.
    if (p.p_type == detail::PT_DYNAMIC && (p.p_offset > view.file_size || view.file_size - p.p_offset < p.p_filesz))
      report.add("dynamic-segment-outside-file", Severity::kTooling,
                 fmt::format("program header {}: PT_DYNAMIC's bytes (p_offset {:#x}, p_filesz {:#x}) are not wholly "
                             "inside the file ({} bytes): ld.so reads the dynamic section in memory, but readelf "
                             "reports an error",
                             i, p.p_offset, p.p_filesz, view.file_size));
    if (p.p_type != detail::PT_LOAD) continue;
    if (p.p_align > 1 && (!std::has_single_bit(p.p_align) || p.p_offset % p.p_align != p.p_vaddr % p.p_align))
      report.add("bad-align", Severity::kTooling,
                 fmt::format("program header {}: p_align {:#x} is not a power of two dividing p_vaddr - p_offset: "
                             "ET_EXEC ignores it, eu-elflint reports it",
                             i, p.p_align));
  }
}

// The first number in a /proc or /sys file, if it has one.
std::optional<std::uint64_t> read_number(const char* path) {
  std::ifstream in(path);
  std::uint64_t value = 0;
  if (in >> value) return value;
  return std::nullopt;
}

// What the kernel commits to one mapping at most, or nullopt if /proc does not say. With
// vm.overcommit_memory=0 it refuses one mapping larger than RAM + swap (__vm_enough_memory in
// mm/util.c); 1 never refuses; 2 is approximated by CommitLimit.
std::optional<std::uint64_t> host_commit_limit() {
  const auto mode = read_number("/proc/sys/vm/overcommit_memory");
  if (!mode) return std::nullopt;
  if (*mode == 1) return UINT64_MAX;
  std::uint64_t mem_total = 0, swap_total = 0, commit_limit = 0;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string key; meminfo >> key;) {
    std::uint64_t kib = 0;
    std::string unit;
    meminfo >> kib;
    std::getline(meminfo, unit);
    if (key == "MemTotal:") mem_total = kib * 1024;
    if (key == "SwapTotal:") swap_total = kib * 1024;
    if (key == "CommitLimit:") commit_limit = kib * 1024;
  }
  if (mem_total == 0) return std::nullopt;
  return *mode == 0 ? mem_total + swap_total : commit_limit;
}

// Whether the first CPU in /proc/cpuinfo lists both flags: pku (the CPU has protection keys) and
// ospke (the kernel enabled them: X86_FEATURE_OSPKE, which execute_only_pkey() tests).
bool host_protection_keys() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (!line.starts_with("flags")) continue;
    bool pku = false, ospke = false;
    std::istringstream flags(line.substr(line.find(':') + 1));
    for (std::string flag; flags >> flag;) {
      pku |= flag == "pku";
      ospke |= flag == "ospke";
    }
    return pku && ospke;
  }
  return false;
}

}  // namespace

CheckOptions CheckOptions::host() {
  CheckOptions options;
  if (const auto value = read_number("/proc/sys/vm/mmap_min_addr")) options.mmap_min_addr = *value;
  if (const auto value = host_commit_limit()) options.commit_limit = *value;
  options.protection_keys = host_protection_keys();
  // PR_GET_MDWE returns the flags; the new mm of a child, and of execve, keeps MMF_HAS_MDWE unless
  // PR_MDWE_NO_INHERIT is set (mmf_init_flags in include/linux/mm_types.h).
  const int mdwe = ::prctl(detail::kPrGetMdwe, 0L, 0L, 0L, 0L);
  options.deny_write_execute =
      mdwe > 0 && (mdwe & detail::kMdweRefuseExecGain) != 0 && (mdwe & detail::kMdweNoInherit) == 0;
  return options;
}

std::string_view to_string(Severity severity) noexcept {
  switch (severity) {
    case Severity::kHardening: return "hardening";
    case Severity::kTooling: return "tooling";
    case Severity::kDependsOnCode: return "depends on the code";
    case Severity::kCrashesAfterExec: return "crashes after exec";
    case Severity::kRefused: return "refused";
  }
  return "unknown";
}

std::optional<Severity> worst_severity(std::span<const Finding> findings) noexcept {
  std::optional<Severity> worst;
  for (const Finding& f : findings)
    if (!worst || f.severity > *worst) worst = f.severity;
  return worst;
}

std::vector<Finding> check(std::span<const std::uint8_t> file, const CheckOptions& options) {
  const ElfView view = inspect(file);
  const ElfHeader& h = view.header;
  Report report;

  // 1. Refusals, in the order of load_elf_binary() and load_elf_phdrs().
  if (std::memcmp(h.e_ident.data(), detail::kElfMagic, sizeof detail::kElfMagic) != 0) {
    report.add("bad-magic", Severity::kRefused,
               fmt::format("not an ELF file: it starts with {:02x}, the kernel requires 7f 45 4c 46 (\"\\x7fELF\")",
                           fmt::join(h.e_ident.begin(), h.e_ident.begin() + 4, " ")));
    return report.take();  // nothing else in the file means anything
  }
  if (h.e_type != detail::ET_EXEC && h.e_type != detail::ET_DYN)
    report.add("bad-type", Severity::kRefused,
               fmt::format("e_type is {} ({}), the kernel requires ET_EXEC (2) or ET_DYN (3)", h.e_type,
                           type_name(h.e_type)));
  if (h.e_machine != detail::EM_X86_64)
    report.add("bad-machine", Severity::kRefused,
               fmt::format("e_machine is {}, the kernel requires 62 (EM_X86_64)", h.e_machine));
  const bool phentsize_ok = h.e_phentsize == kPhdrSize;
  if (!phentsize_ok)
    report.add("bad-phentsize", Severity::kRefused,
               fmt::format("e_phentsize is {}, the kernel requires {}", h.e_phentsize, kPhdrSize));
  const std::uint64_t table_size = std::uint64_t{h.e_phnum} * kPhdrSize;
  bool table_ok = false;
  if (h.e_phnum == 0) {
    report.add("no-program-headers", Severity::kRefused, "e_phnum is 0, the kernel requires at least one program header");
  } else if (table_size > options.max_program_header_table) {
    report.add("program-header-table-too-large", Severity::kRefused,
               fmt::format("the program header table is {} bytes (e_phnum {} x 56), the kernel reads at most {}",
                           table_size, h.e_phnum, options.max_program_header_table));
  } else if (!view.program_headers_complete) {
    report.add("program-header-table-outside-file", Severity::kRefused,
               fmt::format("the program header table ({} entries of 56 bytes at e_phoff {:#x}) is not wholly inside "
                           "the file ({} bytes)",
                           h.e_phnum, h.e_phoff, view.file_size));
  } else {
    table_ok = phentsize_ok;
  }
  const bool interpreter = table_ok && check_interpreter(view, file, options, report);

  // 2. After the point of no return: map the segments and look at the entry point.
  if (!report.has(Severity::kRefused)) {
    const bool dyn = h.e_type == detail::ET_DYN;
    std::vector<Mapping> mappings;
    const ProgramHeader* first = nullptr;
    const ProgramHeader* last = nullptr;
    std::uint64_t alignment = 0;
    for (const ProgramHeader& p : view.program_headers) {
      if (p.p_type != detail::PT_LOAD) continue;
      if (first == nullptr) first = &p;
      last = &p;
      if (std::has_single_bit(p.p_align)) alignment = std::max(alignment, p.p_align);  // maximum_alignment()
    }
    if (first == nullptr) {
      report.add("no-load-segment", Severity::kCrashesAfterExec,
                 "no PT_LOAD program header: nothing is mapped and the process dies at its first instruction "
                 "(SIGSEGV)");
    } else {
      bool bias_known = true;
      if (dyn) {
        // ET_DYN: the kernel maps total_mapping_size() bytes for the first segment; without
        // PT_INTERP that mapping also chooses the base (load_bias).
        const std::uint64_t total = last->p_vaddr + last->p_memsz - page_start(first->p_vaddr);
        if (total == 0 || page_align(total) > kTaskSize || page_align(total) == 0) {
          report.add("bad-dyn-image-size", Severity::kCrashesAfterExec,
                     fmt::format("the PT_LOAD segments span {:#x} bytes (from the first p_vaddr to the last p_vaddr + "
                                 "p_memsz): the kernel cannot place the ET_DYN image and kills the process",
                                 total));
          bias_known = false;
        } else if (!interpreter && options.mmap_min_addr != 0 && (first->p_filesz == 0 || page_align(alignment) >= (kTaskSize + kPageSize))) {
          // With p_filesz 0 the first segment gets no mmap to choose the base; an alignment of
          // 2^47 or more rounds the chosen base down to 0. Either way it lands at page 0.
          report.add("bad-dyn-base", Severity::kCrashesAfterExec,
                     "the first PT_LOAD of this ET_DYN file has p_filesz 0 or an alignment of 2^47 or more: the "
                     "kernel places it at address 0, below vm.mmap_min_addr, and kills the process");
          bias_known = false;
        }
      }
      if (bias_known) {
        std::size_t index = 0;
        for (const ProgramHeader& p : view.program_headers) {
          if (p.p_type == detail::PT_LOAD)
            mappings.push_back(map_segment(index, p, !dyn, view.file_size, options, report));
          ++index;
        }
        const bool all_mapped =
            std::all_of(mappings.begin(), mappings.end(), [](const Mapping& m) { return m.valid; });
        // With an interpreter the kernel starts the interpreter, which jumps to e_entry once it
        // has loaded the libraries and relocated the program, if nothing stopped it.
        if (all_mapped && interpreter) detail::check_dynamic_loader(view, file, mappings, options, report);
        if (all_mapped && !report.has(Severity::kCrashesAfterExec))
          check_entry(h, mappings, view.file_size, dyn, report);
        if (all_mapped) check_execute_only(mappings, options, report);
      }
    }
  }

  // 3. What the ELF tools need and the kernel does not.
  check_tooling(view, report);
  return report.take();
}

}  // namespace tinyelf
