// cut_into_units: one pass over the recording.
#include "units_p.hpp"

namespace tinyelf::detail {

bool cut_into_units(const std::vector<TextItem>& items, std::size_t text_size, std::pmr::vector<InstUnit>& units) {
  units.clear();
  units.reserve(items.size() + 1);
  std::size_t covered = 0;
  std::uint32_t first = 0;
  for (std::uint32_t i = 0; i < items.size(); ++i) {
    const TextItem& item = items[i];
    if (item.start != covered) return false;
    covered = item.end;
    if (item.inst_id == asmjit::x86::Inst::kIdNone) continue;  // a binding: it goes with the next instruction
    units.push_back({first, i + 1, &item, first != i, false, item.end - item.start});
    first = i + 1;
  }
  if (covered != text_size || units.empty()) return false;
  if (first != items.size()) units.push_back({first, static_cast<std::uint32_t>(items.size()), nullptr, true, false, 0});
  return true;
}

}  // namespace tinyelf::detail
