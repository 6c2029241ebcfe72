// ScratchMemory: the memory the packer's containers use while one link runs. Packing a small
// program makes a handful of short-lived vectors; taking them from a buffer on the stack keeps
// the packed path free of heap allocations, which would cost more than the packing itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory_resource>

namespace tinyelf::detail {

// A bump allocator over a caller's buffer that reuses only what is freed last-in first-out (the
// vectors one order of the search makes and drops, lib/link_packed.cpp); past the end of the
// buffer it takes (and gives back) heap memory, so big programs still link. Blocks in the buffer
// take whole grains, so that a block freed after the one above it was is the last again.
class ScratchMemory final : public std::pmr::memory_resource {
 public:
  ScratchMemory(std::byte* buffer, std::size_t size) noexcept : buffer_(buffer), size_(size) {}

 private:
  static constexpr std::size_t kGrain = alignof(std::max_align_t);
  static std::size_t grains(std::size_t bytes) noexcept { return (bytes + kGrain - 1) & ~(kGrain - 1); }

  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    const std::size_t at = (used_ + alignment - 1) & ~(alignment - 1);
    if (at <= size_ && grains(bytes) <= size_ - at) {
      used_ = at + grains(bytes);
      return buffer_ + at;
    }
    return std::pmr::new_delete_resource()->allocate(bytes, alignment);
  }

  void do_deallocate(void* pointer, std::size_t bytes, std::size_t alignment) override {
    const auto address = reinterpret_cast<std::uintptr_t>(pointer);
    const auto start = reinterpret_cast<std::uintptr_t>(buffer_);
    if (address - start >= size_) {
      std::pmr::new_delete_resource()->deallocate(pointer, bytes, alignment);
    } else if (address - start + grains(bytes) == used_) {
      used_ = address - start;  // the last block given: the next allocation takes it again
    }
  }

  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  std::byte* const buffer_;
  const std::size_t size_;
  std::size_t used_ = 0;
};

}  // namespace tinyelf::detail
