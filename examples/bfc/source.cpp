// Reading programs and formatting diagnostics (chibicc's error_tok, without the caret line).
#include "source.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace bfc {

Location locate(const Source& source, std::size_t offset) {
  Location location;
  for (std::size_t i = 0; i < offset && i < source.text.size(); ++i) {
    if (source.text[i] == '\n') {
      ++location.line;
      location.column = 1;
    } else {
      ++location.column;
    }
  }
  return location;
}

Source read_source(const std::string& path) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored))
    throw CompileError(fmt::format("{}: error: cannot read: is a directory", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CompileError(fmt::format("{}: error: cannot read: {}", path, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw CompileError(fmt::format("{}: error: cannot read: {}", path, std::strerror(errno)));
  return Source{path, std::move(text).str()};
}

CompileError::CompileError(const Source& source, std::size_t offset, const std::string& message)
    : std::runtime_error([&] {
        const Location at = locate(source, offset);
        return fmt::format("{}:{}:{}: error: {}", source.path, at.line, at.column, message);
      }()) {}

}  // namespace bfc
