// The shared main() of the examples: build the image, write it to the path given, print its size.
//   usage: EXAMPLE [--compact] OUTPUT
#pragma once

#include <cstdio>
#include <exception>
#include <string_view>

#include <fmt/format.h>

#include <tinyelf/tinyelf.hpp>

namespace example {

// Defined by each example: emit the program and link it with `options`.
tinyelf::Image build(const tinyelf::LinkOptions& options);

}  // namespace example

int main(int argc, char** argv) {
  const bool compact = argc == 3 && std::string_view(argv[1]) == "--compact";
  if (argc != 2 + compact) {
    fmt::print(stderr, "usage: {} [--compact] OUTPUT\n", argc > 0 ? argv[0] : "example");
    return 2;
  }
  const char* output = argv[1 + compact];
  try {
    tinyelf::LinkOptions options;
    if (compact) options.layout = tinyelf::Layout::kCompact;
    const tinyelf::Image image = example::build(options);
    image.write(output);
    fmt::print("{} {}\n", output, image.size());
    return 0;
  } catch (const tinyelf::Error& error) {
    fmt::print(stderr, "error: {}\n", error.what());
    return 1;
  }
}
