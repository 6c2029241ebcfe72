// The shared main() of the examples: build the image, write it to the path given, print its size.
#pragma once

#include <cstdio>
#include <exception>

#include <fmt/format.h>

#include <tinyelf/tinyelf.hpp>

namespace example {

// Defined by each example.
tinyelf::Image build();

}  // namespace example

int main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: {} OUTPUT\n", argc > 0 ? argv[0] : "example");
    return 2;
  }
  try {
    const tinyelf::Image image = example::build();
    image.write(argv[1]);
    fmt::print("{} {}\n", argv[1], image.size());
    return 0;
  } catch (const tinyelf::Error& error) {
    fmt::print(stderr, "error: {}\n", error.what());
    return 1;
  }
}
