// The shared main() of the examples: build the image, write it to the path given, print its size.
//   usage: EXAMPLE [--compact] [--assume-zeroed-registers] [--no-pack] [--mov-form] OUTPUT
// --no-pack links with LinkOptions::pack = false: the instructions as emitted, after the headers.
// --mov-form (exit42, hello) writes small constants with `mov reg, imm32` instead of the shorter
// `push imm8; pop reg`, the form most hand-written nasm uses; scripts/demo.sh compares both forms
// with nasm + ld.
#pragma once

#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <tinyelf/tinyelf.hpp>

namespace example {

struct Options {
  tinyelf::LinkOptions link;
  bool mov_form = false;
};

// A command line the example cannot follow (an option it does not have).
struct UsageError {
  std::string message;
};

// Defined by each example: emit the program and link it with `options.link`.
tinyelf::Image build(const Options& options);

}  // namespace example

int main(int argc, char** argv) {
  const char* name = argc > 0 ? argv[0] : "example";
  example::Options options;
  const char* output = nullptr;
  bool usable = true;
  for (int i = 1; i < argc && usable; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--compact") {
      options.link.layout = tinyelf::Layout::kCompact;
    } else if (arg == "--assume-zeroed-registers") {
      options.link.assume_zeroed_registers = true;
    } else if (arg == "--no-pack") {
      options.link.pack = false;
    } else if (arg == "--mov-form") {
      options.mov_form = true;
    } else if (output == nullptr && !arg.starts_with("-")) {
      output = argv[i];
    } else {
      usable = false;  // an unknown option or a second output
    }
  }
  if (!usable || output == nullptr) {
    fmt::print(stderr, "usage: {} [--compact] [--assume-zeroed-registers] [--no-pack] [--mov-form] OUTPUT\n", name);
    return 2;
  }
  try {
    const tinyelf::Image image = example::build(options);
    image.write(output);
    fmt::print("{} {}\n", output, image.size());
    return 0;
  } catch (const example::UsageError& error) {
    fmt::print(stderr, "{}: {}\n", name, error.message);
    return 2;
  } catch (const tinyelf::Error& error) {
    fmt::print(stderr, "error: {}\n", error.what());
    return 1;
  }
}
