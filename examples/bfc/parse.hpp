// bfc stage 1: program text to IR, one node per command; every other byte is a comment.
#pragma once

#include "ir.hpp"
#include "source.hpp"

namespace bfc {

// Throws CompileError at the offending bracket for an unmatched '[' or ']'.
Block parse(const Source& source);

}  // namespace bfc
