// The parser: a stack of open loops, like every Brainfuck implementation since Urban Müller's.
#include "parse.hpp"

#include <fmt/format.h>

namespace bfc {

// The passes and the emitter recurse into loop bodies; this keeps them far from the end of an
// 8 MiB stack (and no real program comes close).
constexpr std::size_t kMaxNesting = 10000;

Block parse(const Source& source, const Passes* early) {
  Block program;
  std::vector<Block*> open = {&program};  // the innermost block being filled is last
  std::vector<std::size_t> open_at;        // source offset of each unclosed '['
  const std::string& text = source.text;
  for (std::size_t i = 0; i < text.size(); ++i) {
    Node node;
    node.source_offset = i;
    switch (text[i]) {
      case '+': node.op = Op::kAdd; node.amount = 1; break;
      case '-': node.op = Op::kAdd; node.amount = -1; break;
      case '>': node.op = Op::kMove; node.amount = 1; break;
      case '<': node.op = Op::kMove; node.amount = -1; break;
      case ',': node.op = Op::kInput; break;
      case '.': node.op = Op::kOutput; break;
      case '[':
        if (open_at.size() == kMaxNesting)
          throw CompileError(source, i, fmt::format("loops nested more than {} deep", kMaxNesting));
        node.op = Op::kLoop;
        open.back()->push_back(std::move(node));
        open.push_back(&open.back()->back().body);
        open_at.push_back(i);
        continue;
      case ']':
        if (open_at.empty()) throw CompileError(source, i, "unmatched ']': no '[' opens it");
        open.back()->shrink_to_fit();      // the body is complete: no room kept for growth
        open.pop_back();
        open_at.pop_back();
        open.back()->back().end_offset = i;
        if (early) fold_simple_loop(open.back()->back(), *early);
        continue;
      default: continue;
    }
    Block& block = *open.back();
    if (early && early->fold_runs && !block.empty() && fold_into(block.back(), node)) {
      if (block.back().amount == 0) block.pop_back();
      continue;
    }
    block.push_back(std::move(node));
  }
  if (!open_at.empty()) throw CompileError(source, open_at.back(), "unmatched '[': no ']' closes it");
  return program;
}

}  // namespace bfc
