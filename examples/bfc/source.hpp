// bfc stage 0: the program text, and errors that point into it as FILE:LINE:COL.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace bfc {

// A Brainfuck program as read from its file. `path` is only used to name it in diagnostics.
struct Source {
  std::string path;
  std::string text;
};

// A 1-based line and column; columns count bytes, so a tab is one column.
struct Location {
  std::size_t line = 1;
  std::size_t column = 1;
};

// The line and column of byte `offset` in `source`.
Location locate(const Source& source, std::size_t offset);

// Reads the whole file. Throws CompileError "PATH: error: cannot read: REASON" on failure.
Source read_source(const std::string& path);

// A diagnostic the user can act on; what() is the full line, e.g.
// "prog.b:3:7: error: unmatched '[': no ']' closes it".
class CompileError : public std::runtime_error {
 public:
  explicit CompileError(const std::string& message) : std::runtime_error(message) {}
  CompileError(const Source& source, std::size_t offset, const std::string& message);
};

}  // namespace bfc
