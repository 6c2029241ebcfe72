// The instruction-count probe (repeat.hpp).
#include "repeat.hpp"

#include <charconv>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

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

using SmallBuild = tinyelf::Image (*)(tinyelf::Program&);
using RawSmallBuild = std::vector<std::uint8_t> (*)(RawAsmJit&);

constexpr std::pair<std::string_view, SmallBuild> kSmallCases[] = {
    {"exit42", tinyelf_exit42},
    {"hello", tinyelf_hello},
    {"loop", tinyelf_loop},
    {"exit42-unpacked", tinyelf_exit42_unpacked},
    {"hello-unpacked", tinyelf_hello_unpacked},
    {"loop-unpacked", tinyelf_loop_unpacked},
    {"libc-hello", tinyelf_libc_hello},
    {"libc-hello-bss", tinyelf_libc_hello_bss},
    {"libc-hello-bss-unpacked", tinyelf_libc_hello_bss_unpacked},
};
constexpr std::pair<std::string_view, RawSmallBuild> kRawSmallCases[] = {
    {"exit42", raw_exit42},
    {"hello", raw_hello},
    {"loop", raw_loop},
};

}  // namespace

int repeat_probe(const char* case_name, const char* times_text) {
  const std::string_view name = case_name;
  std::size_t times = 0;
  std::size_t count = 0;
  if (!parse(times_text, times)) {
    fmt::print(stderr, "{}: TIMES must be a number, not \"{}\"\n", kRepeatProbeFlag, times_text);
    return 2;
  }
  // tinyelf/NAME/fresh, tinyelf/NAME/reset, raw_asmjit/NAME/fresh, raw_asmjit/NAME/reset
  for (const auto& [small_name, build] : kSmallCases) {
    if (name == fmt::format("tinyelf/{}/fresh", small_name)) {
      for (std::size_t i = 0; i < times; ++i) {
        tinyelf::Program program;
        keep(build(program).bytes());
      }
      return 0;
    }
    if (name == fmt::format("tinyelf/{}/reset", small_name)) {
      tinyelf::Program program;
      for (std::size_t i = 0; i < times; ++i) {
        program.reset();
        keep(build(program).bytes());
      }
      return 0;
    }
  }
  for (const auto& [small_name, build] : kRawSmallCases) {
    if (name == fmt::format("raw_asmjit/{}/fresh", small_name)) {
      for (std::size_t i = 0; i < times; ++i) {
        RawAsmJit raw;
        keep(build(raw));
      }
      return 0;
    }
    if (name == fmt::format("raw_asmjit/{}/reset", small_name)) {
      RawAsmJit raw;
      for (std::size_t i = 0; i < times; ++i) {
        raw.reset();
        keep(build(raw));
      }
      return 0;
    }
  }
  if (name.starts_with("tinyelf/large/") && parse(name.substr(14), count)) {
    for (std::size_t i = 0; i < times; ++i) keep(tinyelf_large(count).bytes());
  } else if (name.starts_with("tinyelf/large-compact/") && parse(name.substr(22), count)) {
    for (std::size_t i = 0; i < times; ++i) keep(tinyelf_large(count, {.layout = tinyelf::Layout::kCompact}).bytes());
  } else if (name.starts_with("tinyelf/large-unpacked/") && parse(name.substr(23), count)) {
    for (std::size_t i = 0; i < times; ++i) keep(tinyelf_large(count, {.pack = false}).bytes());
  } else if (name.starts_with("tinyelf/large-symbols/") && parse(name.substr(22), count)) {
    for (std::size_t i = 0; i < times; ++i) keep(tinyelf_large_symbols(count).bytes());
  } else if (name.starts_with("raw_asmjit/large/") && parse(name.substr(17), count)) {
    for (std::size_t i = 0; i < times; ++i) keep(raw_large(count));
  } else {
    fmt::print(stderr, "{}: unknown case \"{}\"\n", kRepeatProbeFlag, name);
    return 2;
  }
  return 0;
}

}  // namespace bench
