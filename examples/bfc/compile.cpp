// The driver, the whole compiler in four lines: each stage is one file.
#include "compile.hpp"

#include <tinyelf/program.hpp>

#include "parse.hpp"

namespace bfc {

tinyelf::Image compile(const Source& source, const Options& options) {
  Block program = optimize(parse(source, &options.passes), options.passes);  // parse.cpp, optimize.cpp
  tinyelf::Program executable;
  const bool lines = options.link.debug_info == tinyelf::DebugInfo::kLines;  // bfc -g
  emit_x86(std::move(program), options.emit, executable, lines ? &source : nullptr);  // emit_x86.cpp
  return executable.link(options.link);                             // tinyelf: headers + layout
}

}  // namespace bfc
