// Image::regions: the code and data link() placed, and around them the header fields and padding.
// Computed on demand, so link() only records where the code and data went.
#include <algorithm>
#include <utility>

#include <tinyelf/image.hpp>

namespace tinyelf {

std::vector<Region> Image::regions() const {
  const std::uint64_t file_size = bytes_.size();
  const std::vector<Region>& contents = contents_;
  std::vector<Region> headers;
  if (overlapped_headers_) {
    headers = {{0, 24, RegionKind::kHeader, "ELF header", {}},
               {24, 40, RegionKind::kHeader, "ELF header and program header, overlapped", {}},
               {64, 16, RegionKind::kHeader, "program header", {}}};
  } else {
    headers = {{0, 64, RegionKind::kHeader, "ELF header", {}}, {64, 56, RegionKind::kHeader, "program header", {}}};
  }
  std::vector<std::uint64_t> cuts{0, file_size};
  for (const std::vector<Region>* list : {&std::as_const(headers), &contents})
    for (const Region& r : *list) {
      cuts.push_back(r.offset);
      cuts.push_back(r.offset + r.size);
    }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  auto covering = [](const std::vector<Region>& list, std::uint64_t at) -> const Region* {
    for (const Region& r : list)
      if (r.offset <= at && at < r.offset + r.size) return &r;
    return nullptr;
  };
  std::vector<Region> regions;
  for (std::size_t i = 0; i + 1 < cuts.size() && cuts[i] < file_size; ++i) {
    const std::uint64_t from = cuts[i], to = std::min(cuts[i + 1], file_size);
    const Region* r = covering(contents, from);
    if (r == nullptr) r = covering(headers, from);
    const Region piece = r ? Region{from, to - from, r->kind, r->what, r->field}
                           : Region{from, to - from, RegionKind::kPadding, "padding", {}};
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
