# Installs the tinyelf build into a scratch prefix, then builds the consumer (main.cpp) against it
# as a user would, and runs it:
#   MODE=find_package (default): the CMake project of this folder, find_package(tinyelf CONFIG REQUIRED);
#   MODE=pkg-config: no CMake, the README's command lines: the compiler with -std=c++20 main.cpp
#     $(pkg-config --cflags --libs tinyelf), PKG_CONFIG_PATH pointing into the prefix; then by
#     hand, -I and -L into the prefix with -ltinyelf -lasmjit -lfmt.
#   cmake -DTINYELF_BUILD=<build dir> -DCONSUMER_SOURCE=<this folder> -DWORK=<scratch dir>
#         [-DMODE=pkg-config -DLIBDIR=<CMAKE_INSTALL_LIBDIR> -DINCLUDEDIR=<CMAKE_INSTALL_INCLUDEDIR>]
#         -DCXX_COMPILER=... -DCXX_FLAGS=... -DLINKER_FLAGS=... -P run.cmake
function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()

file(REMOVE_RECURSE ${WORK})
step(${CMAKE_COMMAND} --install ${TINYELF_BUILD} --prefix ${WORK}/prefix)

if(NOT MODE STREQUAL "pkg-config")
  step(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE} -B ${WORK}/build -G Ninja -DCMAKE_PREFIX_PATH=${WORK}/prefix
       -DCMAKE_CXX_COMPILER=${CXX_COMPILER} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}")
  step(${CMAKE_COMMAND} --build ${WORK}/build)
  step(${WORK}/build/consumer)
  return()
endif()

# Through a shell, exactly as typed: $(pkg-config ...) is expanded and split by sh.
set(ENV{PKG_CONFIG_PATH} ${WORK}/prefix/${LIBDIR}/pkgconfig)
set(compile "${CXX_COMPILER} ${CXX_FLAGS} -std=c++20 ${CONSUMER_SOURCE}/main.cpp")
step(sh -c "${compile} $(pkg-config --cflags --libs tinyelf) ${LINKER_FLAGS} -o ${WORK}/consumer-pkg-config")
step(${WORK}/consumer-pkg-config)
step(sh -c "${compile} -I${WORK}/prefix/${INCLUDEDIR} -L${WORK}/prefix/${LIBDIR} -ltinyelf -lasmjit -lfmt ${LINKER_FLAGS} -o ${WORK}/consumer-by-hand")
step(${WORK}/consumer-by-hand)
message(STATUS "pkg-config and by-hand builds both ran: exit status 7")
