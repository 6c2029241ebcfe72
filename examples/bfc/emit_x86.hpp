// bfc stage 4: IR to x86-64 machine code in a tinyelf::Program.
#pragma once

#include <cstddef>

#include <tinyelf/program.hpp>

#include "ir.hpp"
#include "source.hpp"

namespace bfc {

// What `,` stores when the input is exhausted.
enum class Eof {
  kUnchanged,  // leave the cell as it was (the corpus's convention)
  kZero,
  kMinusOne,   // 255
};

struct EmitOptions {
  // Cells on the tape, rounded up to whole pages (4096 cells) so that guard pages sit right at
  // both ends: 30,000 gives 32,768.
  std::size_t tape_cells = 30000;
  Eof eof = Eof::kUnchanged;
  // Buffer output (flushed when full, before reading input, and at exit) and read input in
  // blocks. Off: one write or read system call per `.` or `,`.
  bool batch_io = true;
  // Scans with a step of 1, 2, 4 or 8 cells ([>], [<<], ...) test 16 cells at a time with SSE2.
  // Off: one cell per round.
  bool vector_scans = true;
  // Keep cells the code reads in registers (write-through): a cell read again, by a loop test, a
  // multiply or an output, costs no load. Off: every read is a load.
  bool cell_registers = true;
  // Track the cells whose values the code knows (set to a constant, a multiply's source after it,
  // p[0] after a loop or a scan): an add to one is a store of the sum, a store of the value it
  // has is dropped, a loop or scan of a zero cell is left out, a multiply of a known count adds
  // constants, a multiply term into a cell known to be zero stores instead of adding, and a loop
  // whose round leaves p[0] at zero is that round alone. Off: every command is emitted as it is.
  bool known_values = true;
  // With cell registers: a change to a cell held in a register stays in the register until the
  // code next branches, calls or scans (or the register is taken for another cell), so a cell
  // changed twice in straight-line code is stored once, and one overwritten never. Off: every
  // change is stored at once (write-through).
  bool deferred_stores = true;
};

// Exit statuses of the generated executable.
inline constexpr int kExitOffTape = 3;       // "error: pointer moved off tape"
inline constexpr int kExitWriteFailed = 4;   // "error: cannot write output"
inline constexpr int kExitNoTape = 5;        // "error: cannot map the tape"

// The cells the tape really has for a requested size.
std::size_t tape_size(std::size_t cells);

// Emits `program` as a complete executable (entry at the start of text). Throws CompileError
// if the program moves the pointer further than 2^30 cells between two cell accesses.
// `program` is taken by value and freed as it is emitted: move it in when it is large.
// With `source` (bfc -g), every instruction is marked with the position in it of the command it
// comes from (tinyelf::Program::line; start-up and runtime code with none), and the entry and
// the runtime routines are named (Program::symbol).
void emit_x86(Block program, const EmitOptions& options, tinyelf::Program& out,
              const Source* source = nullptr);

}  // namespace bfc
