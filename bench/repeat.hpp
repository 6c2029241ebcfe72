// The instruction-count probe: runs one case a given number of times, untimed, so that
// valgrind --tool=callgrind can count the instructions it executes (scripts/bench_instructions.py).
// Instruction counts do not depend on the load of the machine, unlike times.
#pragma once

namespace bench {

// The command-line flag that turns the benchmark binary into the probe: `FLAG CASE TIMES`.
inline constexpr const char* kRepeatProbeFlag = "--tinyelf-repeat";

// Builds CASE (e.g. "tinyelf/exit42/fresh", "raw_asmjit/large/100000") TIMES times and returns the
// process exit status: 0, or 2 for an unknown case.
int repeat_probe(const char* case_name, const char* times);

}  // namespace bench
