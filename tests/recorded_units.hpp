// A few instructions recorded with the assembler Program::text() uses and cut into units as the
// packer cuts them (lib/units_p.hpp), with their effects, for the tests of the scheduler and of the relaxation.
#pragma once

#include <functional>
#include <memory_resource>

#include <catch2/catch.hpp>

#include <tinyelf/tinyelf.hpp>

#include "../lib/units_p.hpp"

struct RecordedUnits {
  explicit RecordedUnits(const std::function<void(asmjit::x86::Assembler&)>& emit) {
    code.init(asmjit::Environment(asmjit::Arch::kX64));
    code.attach(&assembler);
    emit(assembler);
    REQUIRE(tinyelf::detail::cut_into_units(assembler.items(), code.textSection()->bufferSize(), units));
    tinyelf::detail::find_effects(units);
  }

  asmjit::CodeHolder code;
  tinyelf::detail::ZoneMemory memory{code};
  tinyelf::detail::RecordingAssembler assembler{&memory};
  std::pmr::vector<tinyelf::detail::InstUnit> units;  // point into assembler.items()
};
