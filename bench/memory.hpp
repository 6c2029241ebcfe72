// Peak resident memory of building one program, measured in a fresh process.
#pragma once

#include <string>

#include "peers.hpp"

namespace bench {

// The command-line flag that turns the benchmark binary into the probe: `FLAG EMITTER WORKLOAD`.
inline constexpr const char* kMemoryProbeFlag = "--tinyelf-memory-probe";

// Builds WORKLOAD (Workload::name(): exit42, hello, loop, large/N) once with EMITTER ("tinyelf",
// "raw_asmjit" or a registered peer) and prints "BASELINE_BYTES PEAK_BYTES FILE_BYTES TOOL_BYTES":
// the resident high-water mark before and after, the file size, and the largest peak of the tools
// it started (0 if none). Returns the process exit status.
int memory_probe(const char* emitter, const char* workload);

// Registers the benchmark memory/EMITTER/WORKLOAD, which runs the probe in a child process.
void register_memory_probe(const std::string& emitter, const Workload& workload);

}  // namespace bench
