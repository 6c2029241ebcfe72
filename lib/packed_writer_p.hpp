// The packed text and its writer: the units of a small program in their final order, and the
// file written from them and their plan (lib/pack.cpp): each instruction's bytes copied to their
// planned offset, its displacement to a label rewritten for the new addresses.
#pragma once

#include <cstdint>
#include <memory_resource>
#include <optional>
#include <vector>

#include "link_p.hpp"
#include "pack_p.hpp"
#include "relax_p.hpp"
#include "units_p.hpp"
#include "x86_encoding_p.hpp"

namespace tinyelf::detail {

enum class Synthetic : std::uint8_t { kNone, kJumpToEntry, kNop };

constexpr std::uint32_t kNoLabel = ~std::uint32_t{0};

// A unit as the packer writes it: what the recording holds (a synthetic unit holds nothing of it),
// and how it is written.
struct Unit : InstUnit {
  Synthetic synthetic = Synthetic::kNone;
  Rewrite rewrite = {};  // a shorter form (lib/relax.cpp)
  // The label the instruction reaches (a branch target, a RIP-relative operand) and where its
  // bytes keep the displacement; a kMoveAddress rewrite writes the label's address instead.
  std::uint32_t label_id = kNoLabel;
  std::int32_t addend = 0;  // a disp32 (or the imm32 of a mov) holds it
  RelativeField field = {};
};

// An address of the image cannot reach this: above it, label addresses need more than 32 bits.
constexpr std::uint64_t k32BitAddresses = std::uint64_t{1} << 32;

struct PackedText {
  explicit PackedText(std::pmr::memory_resource* memory) : units(memory), input(memory) {}
  std::pmr::vector<Unit> units;
  PlanInput input;
  bool effects_found = false;  // find_effects() ran on the units
};

// The file `plan` describes for `text`, or nothing when it cannot be written as planned (a rel8
// out of reach, a label not placed, a limit of `options` passed): link() then takes the plain
// path. Allocates the file and its region list, nothing else.
std::optional<LinkedFile> write_packed(const PackSource& source, const PackedText& text, const Plan& plan,
                                       const LinkDecisions& decided, const LinkOptions& options,
                                       std::uint64_t program_entry, std::pmr::memory_resource* memory);

}  // namespace tinyelf::detail
