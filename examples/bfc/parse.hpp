// bfc stage 1: program text to IR, one node per command (or per run of them); every other byte is
// a comment.
#pragma once

#include "ir.hpp"
#include "optimize.hpp"
#include "source.hpp"

namespace bfc {

// Throws CompileError at the offending bracket for an unmatched '[' or ']'.
//
// With `early`, the passes that need only the text read so far run as it is read, those of them
// `early` switches on: runs of + and - and of > and < become one node each (fold-runs), and each
// loop, when its ']' is read, becomes a clear, a scan or a multiply (see fold_simple_loop). A
// large program then never holds a node per command: compile() parses this way.
Block parse(const Source& source, const Passes* early = nullptr);

}  // namespace bfc
