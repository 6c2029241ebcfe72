// ELF-64 structures and constants, as far as an executable and its dynamic section need them.
// Names and field order follow the System V gABI ("ELF-64 Object File Format", version 1.5) and
// the x86-64 psABI. Headers are built as values and memcpy'ed into the file; x86-64 is little
// endian, like the host these structs are laid out on.
#pragma once

#include <bit>
#include <cstdint>

namespace tinyelf::detail {

static_assert(std::endian::native == std::endian::little, "ELFDATA2LSB files are written from host structs");

// e_ident[] indices and values.
inline constexpr unsigned char kElfMagic[4] = {0x7f, 'E', 'L', 'F'};  // EI_MAG0..EI_MAG3
inline constexpr unsigned char ELFCLASS64 = 2;                       // EI_CLASS
inline constexpr unsigned char ELFDATA2LSB = 1;                      // EI_DATA: little endian
inline constexpr unsigned char EV_CURRENT = 1;                       // EI_VERSION and e_version
inline constexpr unsigned char ELFOSABI_SYSV = 0;                    // EI_OSABI

inline constexpr std::uint16_t ET_EXEC = 2;     // e_type: executable file
inline constexpr std::uint16_t EM_X86_64 = 62;  // e_machine: AMD x86-64
inline constexpr std::uint16_t ET_DYN = 3;      // e_type: shared object (also static PIE)

inline constexpr std::uint32_t PT_LOAD = 1;  // p_type: loadable segment
inline constexpr std::uint32_t PT_DYNAMIC = 2;  // p_type: the dynamic section
inline constexpr std::uint32_t PT_INTERP = 3;  // p_type: path of the program interpreter
inline constexpr std::uint32_t PT_GNU_STACK = 0x6474e551;  // p_type: stack permissions (GNU extension)
inline constexpr std::uint32_t PF_X = 1;     // p_flags: execute
inline constexpr std::uint32_t PF_W = 2;     // p_flags: write
inline constexpr std::uint32_t PF_R = 4;     // p_flags: read

struct Elf64_Ehdr {
  unsigned char e_ident[16];  // magic, class, data encoding, version, OS ABI, padding
  std::uint16_t e_type;       // object file type
  std::uint16_t e_machine;    // architecture
  std::uint32_t e_version;    // object file version
  std::uint64_t e_entry;      // virtual address of the entry point
  std::uint64_t e_phoff;      // file offset of the program header table
  std::uint64_t e_shoff;      // file offset of the section header table (0: none)
  std::uint32_t e_flags;      // processor-specific flags (none on x86-64)
  std::uint16_t e_ehsize;     // size of this header
  std::uint16_t e_phentsize;  // size of one program header
  std::uint16_t e_phnum;      // number of program headers
  std::uint16_t e_shentsize;  // size of one section header
  std::uint16_t e_shnum;      // number of section headers
  std::uint16_t e_shstrndx;   // section header index of the section name table
};
static_assert(sizeof(Elf64_Ehdr) == 64);

struct Elf64_Phdr {
  std::uint32_t p_type;    // segment type
  std::uint32_t p_flags;   // segment permissions
  std::uint64_t p_offset;  // file offset of the segment
  std::uint64_t p_vaddr;   // virtual address of the segment
  std::uint64_t p_paddr;   // physical address (unspecified for executables; never read by Linux)
  std::uint64_t p_filesz;  // bytes in the file image (may be 0)
  std::uint64_t p_memsz;   // bytes in the memory image (>= p_filesz; the rest is zero-filled)
  std::uint64_t p_align;   // alignment: p_offset and p_vaddr are congruent modulo it
};
static_assert(sizeof(Elf64_Phdr) == 56);  // the kernel requires e_phentsize == 56 (fs/binfmt_elf.c)

// The dynamic section: an array of tagged values, ending with DT_NULL (gABI "Dynamic Section").
struct Elf64_Dyn {
  std::int64_t d_tag;   // what the entry is (DT_*)
  std::uint64_t d_val;  // an integer or an address (d_un)
};
static_assert(sizeof(Elf64_Dyn) == 16);

inline constexpr std::int64_t DT_NULL = 0;      // end of the array
inline constexpr std::int64_t DT_NEEDED = 1;    // string table offset of a needed library's name
inline constexpr std::int64_t DT_HASH = 4;      // address of the SysV symbol hash table
inline constexpr std::int64_t DT_STRTAB = 5;    // address of the string table
inline constexpr std::int64_t DT_SYMTAB = 6;    // address of the symbol table
inline constexpr std::int64_t DT_RELA = 7;      // address of the relocations with addends
inline constexpr std::int64_t DT_RELASZ = 8;    // their total size in bytes
inline constexpr std::int64_t DT_RELAENT = 9;   // size of one (24)
inline constexpr std::int64_t DT_STRSZ = 10;    // size of the string table
inline constexpr std::int64_t DT_SYMENT = 11;   // size of one symbol (24)
inline constexpr std::int64_t DT_DEBUG = 21;    // ld.so stores its struct r_debug here (gdb reads it)

struct Elf64_Sym {
  std::uint32_t st_name;   // string table offset of the name
  unsigned char st_info;   // binding << 4 | type
  unsigned char st_other;  // visibility
  std::uint16_t st_shndx;  // section index (SHN_UNDEF 0: defined elsewhere)
  std::uint64_t st_value;  // address (0 when undefined)
  std::uint64_t st_size;   // size of the object
};
static_assert(sizeof(Elf64_Sym) == 24);

inline constexpr unsigned char STB_LOCAL = 0;   // st_info binding: seen in its own file only
inline constexpr unsigned char STB_GLOBAL = 1;  // st_info binding
inline constexpr unsigned char STT_NOTYPE = 0;  // st_info type: a function or data, whichever it is

struct Elf64_Rela {
  std::uint64_t r_offset;  // address of the word to relocate
  std::uint64_t r_info;    // symbol index << 32 | type
  std::int64_t r_addend;   // added to the symbol's address
};
static_assert(sizeof(Elf64_Rela) == 24);

// x86-64 psABI: set a GOT entry to the symbol's address (S).
inline constexpr std::uint32_t R_X86_64_GLOB_DAT = 6;

// Section headers and symbols, which only tools read (LinkOptions::debug_info).
struct Elf64_Shdr {
  std::uint32_t sh_name;       // offset of its name in the section name table
  std::uint32_t sh_type;       // SHT_*
  std::uint64_t sh_flags;      // SHF_*
  std::uint64_t sh_addr;       // virtual address, for sections in memory
  std::uint64_t sh_offset;     // file offset
  std::uint64_t sh_size;       // bytes (in memory only for SHT_NOBITS)
  std::uint32_t sh_link;       // for .symtab: its string table
  std::uint32_t sh_info;       // for .symtab: index of the first non-local symbol
  std::uint64_t sh_addralign;  // alignment of sh_addr
  std::uint64_t sh_entsize;    // size of one entry, for tables
};
static_assert(sizeof(Elf64_Shdr) == 64);


inline constexpr std::uint32_t SHT_PROGBITS = 1;  // sh_type: bytes of the file
inline constexpr std::uint32_t SHT_SYMTAB = 2;    // sh_type: symbol table
inline constexpr std::uint32_t SHT_STRTAB = 3;    // sh_type: string table
inline constexpr std::uint32_t SHT_RELA = 4;      // sh_type: relocations with addends
inline constexpr std::uint32_t SHT_HASH = 5;      // sh_type: SysV symbol hash table
inline constexpr std::uint32_t SHT_DYNAMIC = 6;   // sh_type: the dynamic section
inline constexpr std::uint32_t SHT_NOBITS = 8;    // sh_type: zero-filled memory, no file bytes
inline constexpr std::uint32_t SHT_DYNSYM = 11;   // sh_type: the symbols ld.so reads
inline constexpr std::uint64_t SHF_WRITE = 1;     // sh_flags: writable at run time
inline constexpr std::uint64_t SHF_ALLOC = 2;     // sh_flags: in memory at run time
inline constexpr std::uint64_t SHF_EXECINSTR = 4;  // sh_flags: instructions
inline constexpr std::uint16_t SHN_ABS = 0xfff1;  // st_shndx: an absolute value, in no section
inline constexpr unsigned char STT_OBJECT = 1;    // st_info type: data
inline constexpr unsigned char STT_FUNC = 2;      // st_info type: code

// x86-64 Linux uses 4 KiB pages; the kernel maps a segment from the page holding p_offset to the
// page holding p_vaddr, so both must agree modulo this (fs/binfmt_elf.c, elf_map()).
inline constexpr std::uint64_t kPageSize = 0x1000;

// Top of the 47-bit user address space on x86-64 with 4-level paging: TASK_SIZE_MAX,
// (1 << 47) - PAGE_SIZE (arch/x86/include/asm/page_64_types.h).
inline constexpr std::uint64_t kUserAddressEnd = (std::uint64_t{1} << 47) - kPageSize;

// Debian's default vm.mmap_min_addr (65536): the kernel kills a process whose segment lies below
// it (security/Kconfig DEFAULT_MMAP_MIN_ADDR).
inline constexpr std::uint64_t kMinBaseAddress = 0x10000;

}  // namespace tinyelf::detail
