// The oracle: a slow, obviously correct Brainfuck interpreter, written from the language's
// definition and sharing no code with bfc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace test::bf {

enum class Eof { kUnchanged, kZero, kMinusOne };

struct Config {
  std::size_t tape_cells = 32768;  // bfc's default tape: 30,000 rounded up to whole pages
  Eof eof = Eof::kUnchanged;
  std::uint64_t max_steps = 100'000'000;  // commands executed before giving up
};

enum class Ending { kFinished, kOffTape, kTooLong };

struct Outcome {
  std::string out;
  Ending ending = Ending::kFinished;
};

// Runs `program` (which must have balanced brackets) on `input`.
Outcome interpret(std::string_view program, std::string_view input, const Config& config = {});

}  // namespace test::bf
