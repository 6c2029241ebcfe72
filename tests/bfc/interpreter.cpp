#include "interpreter.hpp"

#include <stdexcept>
#include <vector>

namespace test::bf {

Outcome interpret(std::string_view program, std::string_view input, const Config& config) {
  // jump[i] is the matching bracket of the bracket at i.
  std::vector<std::size_t> jump(program.size()), open;
  for (std::size_t i = 0; i < program.size(); ++i) {
    if (program[i] == '[') open.push_back(i);
    if (program[i] == ']') {
      if (open.empty()) throw std::invalid_argument("unbalanced ]");
      jump[i] = open.back();
      jump[open.back()] = i;
      open.pop_back();
    }
  }
  if (!open.empty()) throw std::invalid_argument("unbalanced [");

  std::vector<std::uint8_t> tape(config.tape_cells, 0);
  std::size_t pointer = 0, next_input = 0;
  std::uint64_t steps = 0;
  Outcome outcome;
  // The pointer may sit off the tape as long as no command reads or writes a cell there.
  bool off_tape = false;
  for (std::size_t pc = 0; pc < program.size(); ++pc) {
    const char command = program[pc];
    if (command != '+' && command != '-' && command != '<' && command != '>' && command != '.' &&
        command != ',' && command != '[' && command != ']')
      continue;
    if (++steps > config.max_steps) {
      outcome.ending = Ending::kTooLong;
      return outcome;
    }
    if (command == '>' || command == '<') {
      // Track the pointer as a signed position so it can come back after leaving.
      pointer += command == '>' ? 1 : -1;
      off_tape = pointer >= tape.size();  // wraps around to huge for -1
      continue;
    }
    if (off_tape) {
      outcome.ending = Ending::kOffTape;
      return outcome;
    }
    std::uint8_t& cell = tape[pointer];
    switch (command) {
      case '+': ++cell; break;
      case '-': --cell; break;
      case '.': outcome.out += static_cast<char>(cell); break;
      case ',':
        if (next_input < input.size()) {
          cell = static_cast<std::uint8_t>(input[next_input++]);
        } else if (config.eof == Eof::kZero) {
          cell = 0;
        } else if (config.eof == Eof::kMinusOne) {
          cell = 255;
        }
        break;
      case '[':
        if (cell == 0) pc = jump[pc];
        break;
      case ']':
        if (cell != 0) pc = jump[pc];
        break;
    }
  }
  return outcome;
}

}  // namespace test::bf
