// The instruction-count probe (repeat.hpp).
#include "repeat.hpp"

#include <charconv>
#include <cstring>
#include <string_view>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "cases.hpp"

namespace bench {

namespace {

bool parse(std::string_view text, std::size_t& value) {
  const char* end = text.data() + text.size();
  return !text.empty() && std::from_chars(text.data(), end, value).ptr == end;
}

template <typename Bytes>
void keep(const Bytes& bytes) {
  benchmark::DoNotOptimize(bytes.data());
}

}  // namespace

int repeat_probe(const char* case_name, const char* times_text) {
  const std::string_view name = case_name;
  std::size_t times = 0;
  std::size_t count = 0;
  if (!parse(times_text, times)) {
    fmt::print(stderr, "{}: TIMES must be a number, not \"{}\"\n", kRepeatProbeFlag, times_text);
    return 2;
  }
  if (name == "tinyelf/exit42/fresh" || name == "tinyelf/hello/fresh" || name == "tinyelf/exit42-unpacked/fresh") {
    const auto build = name == "tinyelf/exit42/fresh"            ? tinyelf_exit42
                       : name == "tinyelf/exit42-unpacked/fresh" ? tinyelf_exit42_unpacked
                                                                 : tinyelf_hello;
    for (std::size_t i = 0; i < times; ++i) {
      tinyelf::Program program;
      keep(build(program).bytes());
    }
  } else if (name == "tinyelf/exit42/reset" || name == "tinyelf/hello/reset") {
    const auto build = name == "tinyelf/exit42/reset" ? tinyelf_exit42 : tinyelf_hello;
    tinyelf::Program program;
    for (std::size_t i = 0; i < times; ++i) {
      program.reset();
      keep(build(program).bytes());
    }
  } else if (name == "raw_asmjit/exit42/fresh" || name == "raw_asmjit/hello/fresh") {
    const auto build = name == "raw_asmjit/exit42/fresh" ? raw_exit42 : raw_hello;
    for (std::size_t i = 0; i < times; ++i) {
      RawAsmJit raw;
      keep(build(raw));
    }
  } else if (name == "raw_asmjit/exit42/reset" || name == "raw_asmjit/hello/reset") {
    const auto build = name == "raw_asmjit/exit42/reset" ? raw_exit42 : raw_hello;
    RawAsmJit raw;
    for (std::size_t i = 0; i < times; ++i) {
      raw.reset();
      keep(build(raw));
    }
  } else if (name.starts_with("tinyelf/large/") && parse(name.substr(14), count)) {
    for (std::size_t i = 0; i < times; ++i) keep(tinyelf_large(count).bytes());
  } else if (name.starts_with("tinyelf/large-compact/") && parse(name.substr(22), count)) {
    for (std::size_t i = 0; i < times; ++i) keep(tinyelf_large(count, {.layout = tinyelf::Layout::kCompact}).bytes());
  } else if (name.starts_with("tinyelf/large-unpacked/") && parse(name.substr(23), count)) {
    for (std::size_t i = 0; i < times; ++i) keep(tinyelf_large(count, {.pack = false}).bytes());
  } else if (name.starts_with("raw_asmjit/large/") && parse(name.substr(17), count)) {
    for (std::size_t i = 0; i < times; ++i) keep(raw_large(count));
  } else {
    fmt::print(stderr, "{}: unknown case \"{}\"\n", kRepeatProbeFlag, name);
    return 2;
  }
  return 0;
}

}  // namespace bench
