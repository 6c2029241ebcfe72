// The C versions of the programs, for the peers that compile C (libtcc, gcc): freestanding, no C
// library, system calls by inline assembly, execution starting at _start.
#pragma once

#include <string>

#include "peers.hpp"

namespace bench {

// exit42, hello and loop do what generator.hpp's instructions do. The mixed program has the shape
// of the mixed stream (mixed_stream.hpp), one statement per instruction of it, with the same
// registers (as variables), displacements, immediates and data, except that a compare and the
// branch after it make one `if`, and that every branch goes forward, to the next block, so the
// program ends: it runs and exits with status 0.
std::string c_program(const Workload& workload);

}  // namespace bench
