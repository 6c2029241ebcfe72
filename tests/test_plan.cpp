// The planner (lib/pack.cpp) and its bounds, on code and data units given by their sizes alone:
// which units go into which hole, joined by which connector, and the file size; and the bounds
// the order search stops at. Layouts: kConformant (one 8-byte hole, p_paddr at 88, tail at 120),
// kCompact overlapped (e_ident[4..16), e_version, e_flags/e_ehsize, then p_align where the tail
// starts at 72).
#include <memory_resource>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <tinyelf/tinyelf.hpp>

#include "../lib/pack_p.hpp"

namespace {

using tinyelf::Layout;
using tinyelf::detail::BoundFor;
using tinyelf::detail::CodeUnit;
using tinyelf::detail::Connector;
using tinyelf::detail::PlanInput;

struct Units {
  std::vector<std::uint32_t> sizes;
  std::vector<std::uint32_t> data;  // sizes of data units, alignment 1
  bool flags_dead = false;          // every unit: the flags are dead from it on
  bool last_jumps = false;          // the last unit does not fall through (jmp, ret)
};

PlanInput input_of(Layout layout, const Units& units) {
  PlanInput input(std::pmr::get_default_resource());
  input.layout = &tinyelf::detail::header_layout(layout, false, false);
  for (std::size_t u = 0; u < units.sizes.size(); ++u)
    input.code.push_back(
        CodeUnit{units.sizes[u], !(units.last_jumps && u + 1 == units.sizes.size()), units.flags_dead});
  for (const std::uint32_t size : units.data) input.data.push_back({size, 1});
  return input;
}

char connector_name(Connector connector) {
  switch (connector) {
    case Connector::kNone: return '.';
    case Connector::kSwallow: return 's';
    case Connector::kJump: return 'j';
  }
  return '?';
}

// "offset:first-end<connector>" for each chunk, a T after the offset of a chunk in the tail, then
// " data at" and each data unit's offset, then " = " and the file size.
std::string plan_of(Layout layout, const Units& units) {
  const PlanInput input = input_of(layout, units);
  tinyelf::detail::PackPlanner planner(std::pmr::get_default_resource());
  tinyelf::detail::Plan plan(std::pmr::get_default_resource());
  planner.plan(input, plan);
  std::ostringstream out;
  for (const tinyelf::detail::Chunk& chunk : plan.chunks)
    out << chunk.offset << (chunk.in_tail ? "T" : "") << ':' << chunk.first << '-' << chunk.end
        << connector_name(chunk.connector) << ' ';
  if (!plan.data_at.empty()) {
    out << "data at";
    for (const std::uint32_t at : plan.data_at) out << ' ' << at;
    out << ' ';
  }
  out << "= " << plan.file_size;
  return out.str();
}

std::uint32_t bound_of(Layout layout, const Units& units, BoundFor orders) {
  const PlanInput input = input_of(layout, units);
  return tinyelf::detail::smallest_file_bound(input, tinyelf::detail::hole_room(input), orders);
}

}  // namespace

TEST_CASE("the planner's golden plans") {
  // clang-format off
  struct Case { const char* name; Layout layout; Units units; const char* plan; };
  const Case cases[] = {
    {"exit42 fits in p_paddr",           Layout::kConformant, {{2, 1, 2, 1, 2}, {}, false, false},                      "88:0-5. = 120"},
    {"hello as written",                 Layout::kConformant, {{2, 1, 2, 5, 2, 1, 2, 2, 1, 2, 2}, {14}, false, false}, "88:0-3j 120T:3-11. data at 137 = 151"},
    {"hello, the pairs first",           Layout::kConformant, {{2, 1, 2, 1, 2, 5, 2, 2, 1, 2, 2}, {14}, false, false}, "88:0-4j 120T:4-11. data at 136 = 150"},
    {"one unit too big for any hole",    Layout::kConformant, {{9}, {}, false, false},                                  "120T:0-1. = 129"},
    {"hello compact",                    Layout::kCompact,    {{2, 1, 2, 5, 2, 1, 2, 2, 1, 2, 2}, {14}, false, false}, "4:0-4j 20:4-5j 48:5-7j 72T:7-11. data at 79 = 93"},
    {"compact, flags dead: swallows",    Layout::kCompact,    {{11, 2, 4, 4, 4}, {}, true, false},                   "4:0-1s 20:1-2j 48:2-3j 72T:3-5. = 80"},
    {"compact, flags live: 11 + jmp > 12", Layout::kCompact,  {{11, 2, 4, 4, 4}, {}, false, false},               "4:0-0j 72T:0-5. = 97"},
    {"3 + 5 > 8 - jmp: 3 in p_paddr",    Layout::kConformant, {{3, 5, 9}, {}, false, false},                            "88:0-1j 120T:1-3. = 134"},
    {"small data fills the hole",        Layout::kConformant, {{20}, {8}, false, false},                                "120T:0-1. data at 88 = 140"},
  };
  // clang-format on
  for (const Case& c : cases) {
    INFO(c.name);
    CHECK(plan_of(c.layout, c.units) == c.plan);
  }
}

TEST_CASE("no plan goes below the bounds the order search stops at") {
  // clang-format off
  struct Case { const char* name; Layout layout; Units units; std::uint32_t this_order, any_order; };
  const Case cases[] = {
    {"exit42: the code fits, no bound",  Layout::kConformant, {{2, 1, 2, 1, 2}, {}, false, false},                       0,   0},
    {"hello as written",                 Layout::kConformant, {{2, 1, 2, 5, 2, 1, 2, 2, 1, 2, 2}, {14}, false, false}, 151, 150},
    {"hello, the pairs first",           Layout::kConformant, {{2, 1, 2, 1, 2, 5, 2, 2, 1, 2, 2}, {14}, false, false}, 150, 150},
    {"hello compact",                    Layout::kCompact,    {{2, 1, 2, 5, 2, 1, 2, 2, 1, 2, 2}, {14}, false, false}, 0, 0},
    {"small data fills the hole",        Layout::kConformant, {{20}, {8}, false, false},                                  140, 140},
  };
  // clang-format on
  for (const Case& c : cases) {
    INFO(c.name << ": planned " << plan_of(c.layout, c.units));
    CHECK(bound_of(c.layout, c.units, BoundFor::kThisOrder) == c.this_order);
    CHECK(bound_of(c.layout, c.units, BoundFor::kAnyOrder) == c.any_order);
  }
}
