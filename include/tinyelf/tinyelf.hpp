// tinyelf — x86-64 machine code to a runnable Linux ELF executable, with no assembler and no linker.
//
//   #include <tinyelf/tinyelf.hpp>
//   tinyelf::Program program;            // emit with program.text() (an asmjit::x86::Assembler)
//   tinyelf::Image image = program.link();
//   image.write("a.out");                // or tinyelf::run(image)
#pragma once

#include <tinyelf/check.hpp>
#include <tinyelf/error.hpp>
#include <tinyelf/image.hpp>
#include <tinyelf/link_options.hpp>
#include <tinyelf/program.hpp>
#include <tinyelf/run.hpp>
