// Printing the IR, for tests and for `bfc --dump-ir`, and the little arithmetic on it that the
// emitter shares with the passes.
#include "ir.hpp"

#include <fmt/format.h>

namespace bfc {

std::int64_t wrap(std::int64_t amount) { return static_cast<std::int8_t>(static_cast<std::uint8_t>(amount & 0xff)); }

bool leaves_zero(const Node& node) {
  return node.op == Op::kLoop || node.op == Op::kScan || (node.op == Op::kMultiply && node.offset == 0) ||
         (node.op == Op::kSet && node.offset == 0 && wrap(node.amount) == 0);
}

namespace {

void print(const Block& block, int depth, std::string& out) {
  for (const Node& node : block) {
    const std::string indent(2 * depth, ' ');
    switch (node.op) {
      case Op::kAdd: out += fmt::format("{}add {} @{}\n", indent, node.amount, node.offset); break;
      case Op::kSet: out += fmt::format("{}set {} @{}\n", indent, node.amount, node.offset); break;
      case Op::kMove: out += fmt::format("{}move {}\n", indent, node.amount); break;
      case Op::kInput: out += fmt::format("{}input @{}\n", indent, node.offset); break;
      case Op::kOutput: out += fmt::format("{}output @{}\n", indent, node.offset); break;
      case Op::kScan: out += fmt::format("{}scan {}\n", indent, node.amount); break;
      case Op::kMultiply:
      case Op::kBoundedLoop:
        if (node.op == Op::kMultiply) out += fmt::format("{}multiply @{}", indent, node.offset);
        else out += fmt::format("{}bounded {} @{}", indent, node.amount, node.offset);
        for (const Node& term : node.body) {
          out += fmt::format(" {:+}{}", term.offset, term.op == Op::kSet ? '=' : '*');
          if (term.body.empty()) {
            out += fmt::format("{}", term.amount);
          } else {                         // round by round: +1*(1,-1,1)
            out += '(';
            for (const Node& round : term.body) out += fmt::format("{}{}", &round == &term.body.front() ? "" : ",", round.amount);
            out += ')';
          }
        }
        out += '\n';
        break;
      case Op::kLoop:
        out += fmt::format("{}loop\n", indent);
        print(node.body, depth + 1, out);
        out += fmt::format("{}end\n", indent);
        break;
    }
  }
}

}  // namespace

std::int64_t added_in(const Node& term, std::int64_t rounds) {
  if (term.body.empty()) return wrap(rounds * term.amount);
  std::int64_t sum = 0;
  for (std::int64_t round = 0; round < rounds && round < static_cast<std::int64_t>(term.body.size()); ++round)
    sum += term.body[static_cast<std::size_t>(round)].amount;
  return wrap(sum);
}

std::string to_string(const Block& block) {
  std::string out;
  print(block, 0, out);
  return out;
}

}  // namespace bfc
