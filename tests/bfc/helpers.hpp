// Shared by the bfc tests: compile program text in memory and run it (test::read_file in
// support.hpp reads corpus files).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <tinyelf/run.hpp>

#include "compile.hpp"
#include "interpreter.hpp"

namespace test::bfc_support {

inline tinyelf::Image compile(std::string_view text, const bfc::Options& options = {}) {
  return bfc::compile(bfc::Source{"test.b", std::string(text)}, options);
}

inline tinyelf::RunResult compile_and_run(std::string_view text, std::string_view input = {},
                                          const bfc::Options& options = {},
                                          std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  return tinyelf::run(compile(text, options), {}, input, timeout);
}

// The oracle's configuration matching a compiler configuration.
inline bf::Config oracle_config(const bfc::Options& options) {
  bf::Config config;
  config.tape_cells = bfc::tape_size(options.emit.tape_cells);
  config.eof = options.emit.eof == bfc::Eof::kZero       ? bf::Eof::kZero
               : options.emit.eof == bfc::Eof::kMinusOne ? bf::Eof::kMinusOne
                                                         : bf::Eof::kUnchanged;
  return config;
}

inline bfc::Options unoptimized() {
  bfc::Options options;
  options.passes = bfc::Passes::none();
  options.emit.batch_io = false;
  options.emit.deferred_stores = false;
  return options;
}

}  // namespace test::bfc_support
