// Image::regions: the code and data link() placed, and around them the header fields and padding.
// Computed on demand from the header layout's own description (lib/header_layout.cpp), so link()
// only records where the code and data went.
#include <algorithm>

#include <tinyelf/image.hpp>

namespace tinyelf {

namespace {

const Region* covering(std::span<const Region> list, std::uint64_t at) {
  for (const Region& r : list)
    if (r.offset <= at && at < r.offset + r.size) return &r;
  return nullptr;
}

}  // namespace

std::vector<Region> Image::regions() const {
  const std::uint64_t file_size = bytes_.size();
  std::vector<std::uint64_t> cuts{0, file_size};
  for (const std::span<const Region> list : {std::span<const Region>(contents_), headers_, reusable_fields_})
    for (const Region& r : list) {
      cuts.push_back(r.offset);
      cuts.push_back(r.offset + r.size);
    }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::vector<Region> regions;
  for (std::size_t i = 0; i + 1 < cuts.size() && cuts[i] < file_size; ++i) {
    const std::uint64_t from = cuts[i], to = std::min(cuts[i + 1], file_size);
    Region piece{from, to - from, RegionKind::kPadding, "padding", {}};
    if (const Region* content = covering(contents_, from)) {
      const Region* field = covering(reusable_fields_, from);
      piece = {from, to - from, content->kind, content->what, field ? field->field : std::string_view()};
    } else if (const Region* header = covering(headers_, from)) {
      piece = {from, to - from, RegionKind::kHeader, header->what, {}};
    }
    if (!regions.empty() && regions.back().kind == piece.kind && regions.back().what == piece.what &&
        regions.back().field == piece.field) {
      regions.back().size += piece.size;
    } else {
      regions.push_back(piece);
    }
  }
  return regions;
}

}  // namespace tinyelf
