// The unit the packer, the relaxation (lib/relax.cpp) and the scheduler (lib/schedule.cpp) share:
// one instruction of the recorded text with the label bindings recorded before it, and the one
// cut of the recording into such units.
#pragma once

#include <cstdint>
#include <memory_resource>
#include <span>
#include <vector>

#include "effects_p.hpp"
#include "program_p.hpp"

namespace tinyelf::detail {

// A piece of code that must stay whole: label bindings, then one instruction (or the bindings
// alone, at the very end of the program).
struct InstUnit {
  std::uint32_t first_item = 0;    // items [first_item, end_item) of the recording
  std::uint32_t end_item = 0;
  const TextItem* inst = nullptr;  // the unit's instruction; null: bindings only
  bool has_binding = false;        // a label is bound before it: other paths may arrive here
  bool flags_dead_after = false;   // no instruction after it reads the status flags before writing them
  std::uint32_t size = 0;          // bytes it takes
  Effects effects;                 // of its instruction once find_effects() ran; until then, and for
                                   // bindings alone, a barrier
  bool effects_found = false;      // find_effects() ran on it
};

// Cuts `items` into units, bindings going with the next instruction, sized as recorded; false
// when the items do not cover text's `text_size` bytes one after the other (bytes from
// elsewhere: align, embedded data, a Builder or Compiler) or hold no instruction. `Unit` is
// InstUnit or a type that extends it (the packer's), its other members value-initialized.
template <typename Unit>
bool cut_into_units(std::span<const TextItem> items, std::size_t text_size, std::pmr::vector<Unit>& units) {
  units.clear();
  units.reserve(items.size() + 1);
  std::size_t covered = 0;
  std::uint32_t first = 0;
  for (std::uint32_t i = 0; i < items.size(); ++i) {
    const TextItem& item = items[i];
    if (item.start != covered) return false;
    covered = item.end;
    if (item.inst_id == asmjit::x86::Inst::kIdNone) continue;  // a binding: it goes with the next instruction
    units.push_back(Unit{InstUnit{first, i + 1, &item, first != i, false, item.end - item.start, {}, false}});
    first = i + 1;
  }
  if (covered != text_size || units.empty()) return false;
  if (first != items.size())  // bindings at the very end
    units.push_back(Unit{InstUnit{first, static_cast<std::uint32_t>(items.size()), nullptr, true, false, 0, {}, false}});
  return true;
}

// Fills in the effects of the units' instructions (lib/effects.cpp): a query per instruction, so
// the packer calls it only when something will read them.
template <typename Unit>
void find_effects(std::pmr::vector<Unit>& units) {
  for (Unit& unit : units) {
    if (unit.inst != nullptr) unit.effects = effects_of(*unit.inst);
    unit.effects_found = true;
  }
}

}  // namespace tinyelf::detail
