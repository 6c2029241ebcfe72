// The few functions of fmt's compiled library that bfc calls, compiled into the bfc executable
// itself: it then needs no libfmt.so, and with libstdc++ and libgcc linked statically (and libm
// unused) it loads only libc. Loading and binding libfmt.so and libstdc++.so was a large part of the start-up
// of a process that runs for a few milliseconds (see CMakeLists.txt). format-inl.h is where fmt
// defines them; fmt's own src/format.cc is this include and instantiations like these two.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {
template FMT_API auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
}  // namespace detail
FMT_END_NAMESPACE
