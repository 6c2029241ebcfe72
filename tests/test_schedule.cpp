// The scheduler (lib/schedule.cpp) lists the orders of a program's first instructions that keep
// its meaning. Each case records a few instructions with the assembler Program::text() uses and
// checks the orders against the dependencies a reader can see by hand.
#include <algorithm>
#include <functional>
#include <memory_resource>
#include <set>
#include <vector>

#include <catch2/catch.hpp>

#include <tinyelf/tinyelf.hpp>

#include "../lib/schedule_p.hpp"
#include "recorded_units.hpp"

namespace {

namespace x86 = asmjit::x86;
using Order = std::vector<std::uint32_t>;

// The orders of what `emit` records, with `capacity` bytes of holes to reach.
std::vector<Order> orders_of(const std::function<void(x86::Assembler&)>& emit, std::uint32_t capacity = 1000) {
  const RecordedUnits recorded(emit);
  const auto& units = recorded.units;
  const tinyelf::detail::Schedule schedule =
      tinyelf::detail::schedule_orders(units, capacity, 64, std::pmr::get_default_resource());
  std::vector<Order> orders;
  for (std::size_t at = 0; schedule.movable != 0 && at < schedule.orders.size(); at += schedule.movable) {
    Order order(schedule.orders.begin() + at, schedule.orders.begin() + at + schedule.movable);
    for (std::uint32_t u = schedule.movable; u < units.size(); ++u) order.push_back(u);
    orders.push_back(order);
  }
  return orders;
}

std::size_t position(const Order& order, std::uint32_t unit) {
  return std::find(order.begin(), order.end(), unit) - order.begin();
}

bool identity_first(const std::vector<Order>& orders) {
  if (orders.empty()) return false;
  for (std::uint32_t u = 0; u < orders.front().size(); ++u)
    if (orders.front()[u] != u) return false;
  return true;
}

}  // namespace

TEST_CASE("hello's first system call has 18 orders, each keeping the stack and rax before their readers") {
  const std::vector<Order> orders = orders_of([](x86::Assembler& a) {
    const asmjit::Label message = a.newLabel();
    a.push(1);                            // 0
    a.pop(x86::rax);                      // 1
    a.mov(x86::edi, x86::eax);            // 2: reads rax
    a.lea(x86::rsi, x86::ptr(message));   // 3: independent
    a.push(14);                           // 4
    a.pop(x86::rdx);                      // 5
    a.syscall();                          // 6: stays last
    a.bind(message);
    a.nop();
  });
  CHECK(orders.size() == 18);
  CHECK(identity_first(orders));
  CHECK(std::set<Order>(orders.begin(), orders.end()).size() == orders.size());
  for (const Order& order : orders) {
    CHECK(position(order, 0) < position(order, 1));  // push 1, pop rax
    CHECK(position(order, 1) < position(order, 4));  // the stack: one push/pop pair after the other
    CHECK(position(order, 4) < position(order, 5));
    CHECK(position(order, 1) < position(order, 2));  // mov edi, eax reads what pop rax wrote
    CHECK(position(order, 6) == 6);                  // syscall: nothing moves past it
    CHECK(position(order, 7) == 7);
  }
}

TEST_CASE("only the start of the program that the holes can hold is ordered") {
  const auto emit = [](x86::Assembler& a) {
    a.mov(x86::eax, 1);  // 5 bytes each, independent
    a.mov(x86::ecx, 2);
    a.mov(x86::edx, 3);
  };
  CHECK(orders_of(emit, 1000).size() == 6);  // 3! orders
  CHECK(orders_of(emit, 5).size() == 3);     // one fills the holes: which one, the rest as written
  CHECK(orders_of(emit, 4).empty());         // none fits: program order only
  const std::vector<Order> orders = orders_of(emit, 5);
  CHECK(orders == std::vector<Order>{{0, 1, 2}, {1, 0, 2}, {2, 0, 1}});
}

TEST_CASE("the flags, partial registers, memory and labels keep instructions in place") {
  // add writes the flags that adc reads; the mov between them is free.
  CHECK(orders_of([](x86::Assembler& a) {
          a.add(x86::eax, 1);
          a.mov(x86::ecx, 2);
          a.adc(x86::edx, 0);
        }).size() == 3);
  // cmp and xor both write the flags: never swapped.
  CHECK(orders_of([](x86::Assembler& a) {
          a.cmp(x86::eax, 1);
          a.xor_(x86::ecx, x86::ecx);
        }).size() == 1);
  // mov al keeps the upper bits of rax: it and mov eax are ordered.
  CHECK(orders_of([](x86::Assembler& a) {
          a.mov(x86::al, 1);
          a.mov(x86::eax, 2);
        }).size() == 1);
  // A memory operand is a barrier, however independent it looks.
  CHECK(orders_of([](x86::Assembler& a) {
          a.mov(x86::ecx, 2);
          a.mov(x86::dword_ptr(x86::rbx), 1);
          a.mov(x86::edx, 3);
        }).size() == 1);
  // A bound label is a barrier: other paths arrive there.
  CHECK(orders_of([](x86::Assembler& a) {
          const asmjit::Label here = a.newLabel();
          a.mov(x86::ecx, 2);
          a.bind(here);
          a.mov(x86::edx, 3);
        }).size() == 1);
  // rsp read explicitly orders an instruction against push and pop.
  CHECK(orders_of([](x86::Assembler& a) {
          a.push(1);
          a.mov(x86::rax, x86::rsp);
        }).size() == 1);
}
