// What glibc's dynamic loader does with a program the kernel started through PT_INTERP, before
// the program's entry runs: the refusals (a message and exit status 127) and the crashes
// (SIGSEGV) that its headers and dynamic section decide. Read from glibc 2.36 and confirmed by
// running files: elf/rtld.c (rtld_setup_main_map, dl_main), elf/get-dynamic-info.h, elf/dl-deps.c,
// elf/do-rel.h, elf/dl-reloc.c. What the headers cannot show, check() leaves to the run: a
// library that is not installed, a symbol no library has (ld.so: status 127).
//
// The loader reads the main program through memory, not the file: the program headers at AT_PHDR,
// the dynamic section at PT_DYNAMIC's p_vaddr, the tables at the addresses the dynamic section
// gives. So this models the memory the kernel left, page by page (Memory below).
#include <optional>

#include <fmt/format.h>

#include "check_p.hpp"

namespace tinyelf::detail {

namespace {

// The program's memory as the kernel mapped it (lib/check.cpp, map_segment): later PT_LOADs
// replace the pages of earlier ones (MAP_FIXED), file pages have their segment's permissions, and
// the zero-filled pages past them (vm_brk_flags) are readable and writable.
class Memory {
 public:
  Memory(std::span<const std::uint8_t> file, std::span<const Mapping> mappings, bool protection_keys)
      : file_(file), mappings_(mappings), protection_keys_(protection_keys) {}

  bool readable(std::uint64_t address, std::uint64_t size) const { return all(address, size, false); }
  bool writable(std::uint64_t address, std::uint64_t size) const { return all(address, size, true); }

  // A little-endian word, or nothing where it cannot be read.
  std::optional<std::uint64_t> word(std::uint64_t address) const {
    if (!readable(address, 8)) return std::nullopt;
    std::uint64_t value = 0;
    for (int i = 7; i >= 0; --i) value = value << 8 | byte(address + static_cast<std::uint64_t>(i));
    return value;
  }

  // The NUL-terminated string at `address`, or nothing if it runs into memory it cannot read.
  std::optional<std::string> string(std::uint64_t address) const {
    std::string text;
    for (std::uint64_t at = address; readable(at, 1); ++at) {
      const std::uint8_t c = byte(at);
      if (c == 0) return text;
      text += static_cast<char>(c);
      if (text.size() > 4096) return std::nullopt;  // not a name; ld.so would read on, so would we
    }
    return std::nullopt;
  }

  // Where the zero-filled memory holding `address` ends, or 0 if `address` is not zero-filled.
  std::uint64_t zero_fill_end(std::uint64_t address) const {
    const Mapping* m = mapping(address);
    if (m == nullptr || address < m->file_end) return 0;
    std::uint64_t end = m->end;
    for (const Mapping& other : mappings_)
      if (other.start > address && other.start < end) end = other.start;
    return end;
  }

 private:
  const Mapping* mapping(std::uint64_t address) const {
    for (auto it = mappings_.rbegin(); it != mappings_.rend(); ++it)
      if (address >= it->start && address < it->end) return &*it;
    return nullptr;
  }

  // Whether every byte of [address, address + size) can be read (or written). Steps from one
  // boundary of the mappings to the next, so that a huge size costs no more than a small one.
  bool all(std::uint64_t address, std::uint64_t size, bool write) const {
    if (size == 0 || address + size < address) return false;
    const std::uint64_t end = address + size;
    for (std::uint64_t at = page_start(address); at < end;) {
      const Mapping* m = mapping(at);
      if (m == nullptr) return false;
      // The next boundary: where this kind of memory ends, or a later mapping begins.
      std::uint64_t next = at < m->file_end ? m->file_end : m->end;
      for (const Mapping& other : mappings_)
        if (other.start > at && other.start < next) next = other.start;
      if (at < m->file_end) {
        const std::uint32_t flags = m->phdr->p_flags & (PF_R | PF_W | PF_X);
        if (write ? (flags & PF_W) == 0 : flags == 0 || (flags == PF_X && protection_keys_)) return false;
        // A file page wholly past the end of the file raises SIGBUS.
        const std::uint64_t last_page = page_start(std::min(next, end) - 1);
        if (page_start(m->file_base + (last_page - m->start)) >= file_.size()) return false;
      }  // else zero-filled: readable and writable
      at = next;
    }
    return true;
  }

  // One byte of readable memory.
  std::uint8_t byte(std::uint64_t address) const {
    const Mapping* m = mapping(address);
    if (address >= m->file_end) return 0;
    const ProgramHeader& p = *m->phdr;
    if (is_writable(p) && address - p.p_vaddr >= p.p_filesz && address >= p.p_vaddr) return 0;  // padzero()
    const std::uint64_t offset = m->file_base + (address - m->start);
    return offset < file_.size() ? file_[offset] : 0;
  }

  std::span<const std::uint8_t> file_;
  std::span<const Mapping> mappings_;
  bool protection_keys_;
};

// The entries of the dynamic section ld.so reads (elf_get_dynamic_info): the last one of each tag
// below DT_NUM counts; other tags do not matter here.
struct DynamicInfo {
  static constexpr std::size_t kTags = 35;  // DT_NUM in glibc's elf.h
  std::optional<std::uint64_t> value[kTags];
  std::vector<std::uint64_t> needed;  // every DT_NEEDED, in order

  const std::optional<std::uint64_t>& operator[](std::int64_t tag) const { return value[tag]; }
};

}  // namespace

void check_dynamic_loader(const ElfView& view, std::span<const std::uint8_t> file, std::span<const Mapping> mappings,
                          const CheckOptions& options, Report& report) {
  const Memory memory(file, mappings, options.protection_keys);
  auto crash = [&](std::string_view id, std::string message) {
    report.add(id, Severity::kCrashesAfterExec, std::move(message));
  };
  const ElfHeader& h = view.header;

  // The kernel tells ld.so where the program headers are in memory (AT_PHDR): e_phoff through the
  // last PT_LOAD whose file bytes hold it (load_elf_binary), else 0. ld.so reads them there first.
  std::optional<std::uint64_t> phdr_address;
  bool has_phdr_segment = false, has_gnu_stack = false;
  const ProgramHeader* dynamic = nullptr;
  const ProgramHeader* interp = nullptr;
  for (const ProgramHeader& p : view.program_headers) {
    if (p.p_type == PT_LOAD && p.p_offset <= h.e_phoff && h.e_phoff - p.p_offset < p.p_filesz)
      phdr_address = h.e_phoff - p.p_offset + p.p_vaddr;
    // rtld_setup_main_map: the last of each kind counts.
    if (p.p_type == PT_DYNAMIC) dynamic = &p;
    if (p.p_type == PT_INTERP) interp = &p;
    has_phdr_segment |= p.p_type == 6;  // PT_PHDR
    has_gnu_stack |= p.p_type == PT_GNU_STACK;
  }
  const std::uint64_t table_size = std::uint64_t{h.e_phnum} * sizeof(Elf64_Phdr);
  if (!phdr_address || !memory.readable(*phdr_address, table_size)) {
    crash("program-headers-not-mapped",
          phdr_address ? fmt::format("the program headers are at {:#x} (AT_PHDR), in memory ld.so cannot read: it "
                                     "crashes (SIGSEGV) before the program starts",
                                     *phdr_address)
                       : fmt::format("no PT_LOAD maps the program header table (e_phoff {:#x}) from the file, so the "
                                     "kernel tells ld.so they are at address 0 (AT_PHDR): it crashes (SIGSEGV)",
                                     h.e_phoff));
    return;
  }
  // Without PT_PHDR ld.so takes the file's addresses as they are (l_addr 0), so an ET_DYN program,
  // which the kernel placed elsewhere, has its dynamic section where ld.so does not look.
  if (h.e_type == ET_DYN && !has_phdr_segment && dynamic != nullptr) {
    crash("dynamic-without-phdr",
          "an ET_DYN program with PT_INTERP and no PT_PHDR: ld.so cannot tell where the kernel loaded it and reads "
          "its dynamic section at the unrelocated p_vaddr: it crashes (SIGSEGV)");
    return;
  }
  if (dynamic == nullptr) {
    crash("no-dynamic-segment",
          "PT_INTERP without PT_DYNAMIC: ld.so finds no dynamic section and crashes relocating the program "
          "(_dl_relocate_object reads DT_SYMTAB unchecked; SIGSEGV)");
    return;
  }

  // elf_get_dynamic_info: the entries up to DT_NULL.
  DynamicInfo info;
  std::uint64_t debug_at = 0;  // the last DT_DEBUG entry
  for (std::uint64_t at = dynamic->p_vaddr;; at += sizeof(Elf64_Dyn)) {
    const std::optional<std::uint64_t> tag = memory.word(at);
    const std::optional<std::uint64_t> value = memory.word(at + 8);
    if (!tag || (*tag != DT_NULL && !value)) {
      crash("dynamic-section-unreadable",
            fmt::format("the dynamic section (PT_DYNAMIC p_vaddr {:#x}) runs into memory ld.so cannot read at {:#x} "
                        "before its DT_NULL: it crashes (SIGSEGV)",
                        dynamic->p_vaddr, at));
      return;
    }
    const auto t = static_cast<std::int64_t>(*tag);
    if (t == DT_NULL) break;
    if (t == DT_NEEDED) info.needed.push_back(*value);
    if (t == DT_DEBUG) debug_at = at;
    if (t >= 0 && t < static_cast<std::int64_t>(DynamicInfo::kTags)) info.value[t] = *value;
  }
  if (info[DT_RELA] && !info[DT_RELAENT]) {
    crash("bad-relaent", "DT_RELA without DT_RELAENT: ld.so reads DT_RELAENT unchecked and crashes (SIGSEGV)");
    return;
  }
  if (info[DT_RELA] && *info[DT_RELAENT] != sizeof(Elf64_Rela)) {
    crash("bad-relaent",
          fmt::format("DT_RELAENT is {}, ld.so asserts 24 (sizeof(Elf64_Rela)): it stops with \"Inconsistency "
                      "detected by ld.so\", status 127",
                      *info[DT_RELAENT]));
    return;
  }
  // dl_main: the address of its struct r_debug goes into DT_DEBUG's value, for debuggers.
  if (info[DT_DEBUG] && !memory.writable(debug_at + 8, 8)) {
    crash("dynamic-section-read-only",
          fmt::format("DT_DEBUG at {:#x} is in memory that is not writable: ld.so stores its r_debug there and "
                      "crashes (SIGSEGV)",
                      debug_at));
    return;
  }
  // _dl_map_object_deps: each DT_NEEDED names a library in DT_STRTAB, read unchecked; so is the
  // interpreter's name (PT_INTERP's p_vaddr), which every name is compared with.
  if (!info.needed.empty()) {
    if (!info[DT_STRTAB]) {
      crash("needed-without-strtab", "DT_NEEDED without DT_STRTAB: ld.so reads the library name at address "
                                     "DT_NEEDED's value and crashes (SIGSEGV)");
      return;
    }
    for (const std::uint64_t name : info.needed) {
      if (!memory.string(*info[DT_STRTAB] + name)) {
        crash("bad-needed-name",
              fmt::format("a DT_NEEDED name (DT_STRTAB {:#x} + {}) is not a string in readable memory: ld.so crashes "
                          "reading it (SIGSEGV)",
                          *info[DT_STRTAB], name));
        return;
      }
    }
    if (interp != nullptr && !memory.string(interp->p_vaddr)) {
      crash("interpreter-name-not-mapped",
            fmt::format("PT_INTERP's p_vaddr {:#x} is not a string in readable memory: ld.so compares each needed "
                        "library's name with it and crashes (SIGSEGV)",
                        interp->p_vaddr));
      return;
    }
  }
  // _dl_relocate_object: DT_SYMTAB is read unchecked, even with no relocation; DT_RELASZ too when
  // there is DT_RELA. Each relocation writes the word at r_offset.
  if (!info[DT_SYMTAB]) {
    crash("no-symtab", "no DT_SYMTAB: ld.so reads it unchecked while relocating the program and crashes (SIGSEGV)");
    return;
  }
  if (!info[DT_RELA]) return;
  if (!info[DT_RELASZ]) {
    crash("rela-without-relasz", "DT_RELA without DT_RELASZ: ld.so reads DT_RELASZ unchecked and crashes (SIGSEGV)");
    return;
  }
  const std::uint64_t rela = *info[DT_RELA];
  const std::uint64_t size = *info[DT_RELASZ] / sizeof(Elf64_Rela) * sizeof(Elf64_Rela);  // whole entries
  if (size != 0 && !memory.readable(rela, size)) {
    crash("relocations-unreadable",
          fmt::format("the relocations (DT_RELA {:#x}, DT_RELASZ {}) are not all in readable memory: ld.so crashes "
                      "reading them (SIGSEGV)",
                      rela, *info[DT_RELASZ]));
    return;
  }
  for (std::uint64_t at = rela; at < rela + size; at += sizeof(Elf64_Rela)) {
    // Zero-filled entries are R_X86_64_NONE, which writes nothing: skip them at once.
    if (const std::uint64_t end = memory.zero_fill_end(at); end != 0 && end - at >= sizeof(Elf64_Rela)) {
      at += (std::min(end, rela + size) - at) / sizeof(Elf64_Rela) * sizeof(Elf64_Rela) - sizeof(Elf64_Rela);
      continue;
    }
    const std::uint64_t r_offset = *memory.word(at);
    const std::uint64_t r_info = *memory.word(at + 8);
    if ((r_info & 0xffffffff) == 0) continue;  // R_X86_64_NONE writes nothing
    if (!memory.writable(r_offset, 8)) {
      crash("relocation-not-writable",
            fmt::format("relocation {} writes the word at {:#x}, in memory that is not writable: ld.so crashes "
                        "(SIGSEGV)",
                        (at - rela) / sizeof(Elf64_Rela), r_offset));
      return;
    }
  }
  if (!has_gnu_stack)
    report.add("no-gnu-stack", Severity::kHardening,
               "no PT_GNU_STACK: glibc then assumes the program needs an executable stack and maps thread stacks "
               "writable and executable (glibc 2.41 and later can refuse such programs)");
}

}  // namespace tinyelf::detail
