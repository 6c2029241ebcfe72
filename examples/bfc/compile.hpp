// bfc: the whole pipeline — parse → optimise → emit x86-64 → link with tinyelf.
#pragma once

#include <tinyelf/image.hpp>
#include <tinyelf/link_options.hpp>

#include "emit_x86.hpp"
#include "optimize.hpp"
#include "source.hpp"

namespace bfc {

struct Options {
  Passes passes;
  EmitOptions emit;
  tinyelf::LinkOptions link;
};

// Compiles `source` into an executable. Throws CompileError for a bad program and
// tinyelf::Error if linking fails (e.g. a layout this tinyelf cannot produce).
//
//   bfc::Source source = bfc::read_source("hello.b");
//   tinyelf::run(bfc::compile(source, {}), {}, "input");
tinyelf::Image compile(const Source& source, const Options& options);

}  // namespace bfc
