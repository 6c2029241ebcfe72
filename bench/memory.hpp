// Peak resident memory of building one large program, measured in a fresh process.
#pragma once

namespace bench {

// The command-line flag that turns the benchmark binary into the probe: `FLAG EMITTER COUNT`.
inline constexpr const char* kMemoryProbeFlag = "--tinyelf-memory-probe";

// Builds a program of COUNT mixed instructions with EMITTER ("tinyelf" or "raw_asmjit") and
// prints "BASELINE_BYTES PEAK_BYTES FILE_BYTES": the resident high-water mark before and after.
// Returns the process exit status.
int memory_probe(const char* emitter, const char* count);

}  // namespace bench
