// The packed path of link() (lib/link_packed.cpp) plans and writes a small program within a stack
// buffer: its only heap allocations are the file and its region list. This binary replaces the
// global operator new to count the allocations made around link_packed(), called as link() calls
// it, on exit42 and hello, packed in both layouts and with assume_zeroed_registers (hello tries
// other orders of its instructions, which must not allocate either).
#include <algorithm>
#include <cstdlib>
#include <new>
#include <string_view>

#include <catch2/catch.hpp>

#include <tinyelf/tinyelf.hpp>

#include "../bench/generator.hpp"
#include "../lib/link_p.hpp"
#include "../lib/program_p.hpp"

namespace {

std::size_t g_allocations = 0;

}  // namespace

// Every replaceable form that allocates: std::pmr::new_delete_resource() uses the aligned one,
// Catch2 the nothrow one.
void* operator new(std::size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  ++g_allocations;
  const std::size_t alignment = std::max(static_cast<std::size_t>(align), sizeof(void*));
  if (void* p = std::aligned_alloc(alignment, (std::max<std::size_t>(size, 1) + alignment - 1) / alignment * alignment))
    return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t align) { return operator new(size, align); }
// The nothrow forms too, so that nothing reaches the runtime's own operator new (AddressSanitizer
// replaces it and would see its memory freed by ours).
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++g_allocations;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  try {
    return operator new(size, align);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t& tag) noexcept {
  return operator new(size, align, tag);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

using tinyelf::detail::ProgramState;

// exit42 and hello as the benchmarks emit them.
void emit_exit42(ProgramState& state) { bench::emit_exit42(state.text_); }

void emit_hello(ProgramState& state) {
  const std::string_view message = bench::kHelloMessage;
  bench::emit_hello(state.text_, state.append(state.rodata_section(), message.data(), message.size(), 1));
}

// Heap allocations link_packed() makes for the program `emit` writes; the file must be packed.
std::size_t packed_allocations(void (*emit)(ProgramState&), const tinyelf::LinkOptions& options) {
  ProgramState state;
  emit(state);
  const tinyelf::detail::PackSource source{state.code_, state.text_.items(), state.data_items_, state.rodata_,
                                           state.data_, state.bss_, state.entry_};
  const tinyelf::detail::LinkDecisions decided = tinyelf::detail::decide(state.code_, options);
  const std::size_t before = g_allocations;
  const std::optional<tinyelf::detail::LinkedFile> file = tinyelf::detail::link_packed(source, decided, options, 0);
  const std::size_t made = g_allocations - before;
  REQUIRE(file.has_value());
  return made;
}

// The file's bytes and its region list.
constexpr std::size_t kKnownAllocations = 2;

}  // namespace

TEST_CASE("the packed path allocates the file and its region list, nothing else") {
  using tinyelf::Layout;
  // clang-format off
  struct Case { const char* name; void (*emit)(ProgramState&); tinyelf::LinkOptions options; };
  const Case cases[] = {
      {"exit42",                      emit_exit42, {}},
      {"exit42 compact",              emit_exit42, {.layout = Layout::kCompact}},
      {"hello",                       emit_hello,  {}},
      {"hello compact",               emit_hello,  {.layout = Layout::kCompact}},
      {"hello zeroed registers",      emit_hello,  {.assume_zeroed_registers = true}},
      {"hello compact zeroed",        emit_hello,  {.layout = Layout::kCompact, .assume_zeroed_registers = true}},
  };
  // clang-format on
  for (const Case& c : cases) {
    SECTION(c.name) { CHECK(packed_allocations(c.emit, c.options) == kKnownAllocations); }
  }
}
