// The packer's planner: which instructions and data go into which header hole, joined by which
// connectors. A pure function of sizes, so it is cheap and testable; link() emits the plan.
#pragma once

#include <cstdint>
#include <limits>
#include <memory_resource>
#include <optional>
#include <vector>

#include "header_layout_p.hpp"

namespace tinyelf::detail {

// A piece of code that must stay in one place: label bindings followed by one instruction (or
// only bindings, at the end of the program).
struct CodeUnit {
  std::uint32_t size = 0;
  bool falls_through = true;  // false after jmp and ret: no connector needed behind it
  bool flags_dead = false;    // no instruction reads the flags before writing them, from here on
};

struct DataUnit {
  std::uint32_t size = 0;
  std::uint32_t align = 1;
};

enum class Connector : std::uint8_t {
  kNone,     // nothing follows, or the last instruction never falls through
  kSwallow,  // 0x3D (cmp eax, imm32) at the hole's last byte swallows the 4 fixed bytes after it
  kJump,     // jmp rel8 (EB xx) to the next chunk
};

// Units [first, end) placed at `offset`, followed by `connector`.
struct Chunk {
  std::uint32_t offset = 0;
  std::uint32_t first = 0;
  std::uint32_t end = 0;
  Connector connector = Connector::kNone;
  bool in_tail = false;
};

// The packer's containers take their memory from one arena per link (lib/link_packed.cpp), so that
// packing a small program costs no heap allocation.
struct Plan {
  explicit Plan(std::pmr::memory_resource* memory) : chunks(memory), data_at(memory) {}
  std::pmr::vector<Chunk> chunks;           // in execution order; the first one holds the entry
  std::pmr::vector<std::uint32_t> data_at;  // file offset of each data unit
  std::uint32_t file_size = 0;
};

struct PlanInput {
  explicit PlanInput(std::pmr::memory_resource* memory) : code(memory), data(memory) {}
  const HeaderLayout* layout = nullptr;
  std::pmr::vector<CodeUnit> code;
  std::pmr::vector<DataUnit> data;
  std::uint64_t base = 0;  // data alignment holds for base + offset

  // Bytes of all the code units.
  std::uint32_t code_bytes() const noexcept {
    std::uint32_t bytes = 0;
    for (const CodeUnit& unit : code) bytes += unit.size;
    return bytes;
  }
};

// The best way to go on when the chunk in a slot starts with a unit (the search's memo).
struct PlanCell {
  std::uint32_t cost = ~std::uint32_t{0};  // of the rest of the program; all ones: not known yet
  std::uint32_t end = 0;                   // units [unit, end) go into this hole
  std::uint8_t next = 0;                   // the slot the next chunk starts in (holes = the tail)
  Connector connector = Connector::kNone;
};

// Plans packings, keeping its working memory from one plan to the next.
class PackPlanner {
 public:
  explicit PackPlanner(std::pmr::memory_resource* memory) : prefix_(memory), cells_(memory), candidate_(memory) {}

  // Fills `plan` with the plan giving the smallest file, trying every split of the code over the
  // holes (in ascending order) and every set of holes kept free for data; no chunks when no plan
  // exists.
  void plan(const PlanInput& input, Plan& plan);

 private:
  // A file size no plan of `input` goes below, whatever holes it keeps free for data, from
  // `plan`, its plan keeping none free: the header, the code that plan leaves after it and the
  // data units no hole holds (alignment left out).
  static std::uint32_t file_floor(const PlanInput& input, const Plan& plan);

  std::pmr::vector<std::uint32_t> prefix_;
  std::pmr::vector<PlanCell> cells_;
  Plan candidate_;
};

// Bytes of jmp rel8 and of the swallowing opcode.
inline constexpr std::uint32_t kJumpSize = 2;
inline constexpr std::uint32_t kSwallowSize = 1;
inline constexpr std::uint32_t kSwallowedSize = 4;

// Whether the 4 fixed header bytes after hole `h` lead to a later hole or to the tail, so that a
// swallowing connector can end the hole.
inline bool swallowable(const HeaderLayout& layout, std::size_t h) {
  const std::uint32_t after = layout.holes[h].end + kSwallowedSize;
  if (after == layout.tail_start) return true;
  for (std::size_t later = h + 1; later < layout.holes.size(); ++later)
    if (layout.holes[later].start == after) return true;
  return false;
}

// What the holes of a layout can hold of a program, whatever the order of its code units: the
// same for every order, so found once. A hole holds at most its size less the connector a chunk
// that code follows needs (none when some unit does not fall through, else the swallowing opcode
// where 4 fixed bytes follow the hole, else a jump), or data alone: no more than the data units
// that fit in a hole.
struct HoleRoom {
  std::uint32_t room = 0;          // bytes of code and data the holes can hold
  std::uint32_t data = 0;          // bytes of all the data units
  std::uint32_t data_fitting = 0;  // bytes of the data units that fit in some hole
};
HoleRoom hole_room(const PlanInput& input);

// Which orders of the code units a bound holds for.
enum class BoundFor : std::uint8_t {
  kThisOrder,  // the units in the order given
  kAnyOrder,   // every order of the same units, with the same sizes
};

// A file size no plan of `input` can go below (for kAnyOrder, no plan of any order of its units),
// or 0 when the code fits in the holes. Every byte of code and data outside the holes lies at
// tail_start or after it; the holes hold a prefix of the code (the plan's chunks are in execution
// order and the tail comes last) and the data units that fit in one. Data alignment is left out:
// the bound may be below every real plan, never above one.
std::uint32_t smallest_file_bound(const PlanInput& input, const HoleRoom& room, BoundFor orders);
// The same from the bytes of all the code and of the longest prefix of it that fits in
// `room.room` (kThisOrder) or from the code alone (kAnyOrder: `prefix` is not read).
std::uint32_t smallest_file_bound(const HeaderLayout& layout, std::uint32_t code, std::uint32_t prefix,
                                  const HoleRoom& room, BoundFor orders);

}  // namespace tinyelf::detail
