// The shared main() of the examples: build the image, write it to the path given, print its size.
//   usage: EXAMPLE [--compact] [--assume-zeroed-registers] OUTPUT
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
  tinyelf::LinkOptions options;
  const char* output = nullptr;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--compact") {
      options.layout = tinyelf::Layout::kCompact;
    } else if (arg == "--assume-zeroed-registers") {
      options.assume_zeroed_registers = true;
    } else if (output == nullptr && !arg.starts_with("-")) {
      output = argv[i];
    } else {
      output = nullptr;
      break;
    }
  }
  if (output == nullptr || argc > 4) {
    fmt::print(stderr, "usage: {} [--compact] [--assume-zeroed-registers] OUTPUT\n", argc > 0 ? argv[0] : "example");
    return 2;
  }
  try {
    const tinyelf::Image image = example::build(options);
    image.write(output);
    fmt::print("{} {}\n", output, image.size());
    return 0;
  } catch (const tinyelf::Error& error) {
    fmt::print(stderr, "error: {}\n", error.what());
    return 1;
  }
}
