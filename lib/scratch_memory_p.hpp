// ScratchMemory: the memory the packer's containers use while one link runs. Packing a small
// program makes a handful of short-lived vectors; taking them from a buffer on the stack keeps
// the packed path free of heap allocations, which would cost more than the packing itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory_resource>

namespace tinyelf::detail {

// A bump allocator over a caller's buffer that never reuses what is freed; past the end of the
// buffer it takes (and gives back) heap memory, so big programs still link.
class ScratchMemory final : public std::pmr::memory_resource {
 public:
  ScratchMemory(std::byte* buffer, std::size_t size) noexcept : buffer_(buffer), size_(size) {}

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    const std::size_t at = (used_ + alignment - 1) & ~(alignment - 1);
    if (at <= size_ && bytes <= size_ - at) {
      used_ = at + bytes;
      return buffer_ + at;
    }
    return std::pmr::new_delete_resource()->allocate(bytes, alignment);
  }

  void do_deallocate(void* pointer, std::size_t bytes, std::size_t alignment) override {
    const auto address = reinterpret_cast<std::uintptr_t>(pointer);
    const auto start = reinterpret_cast<std::uintptr_t>(buffer_);
    if (address - start >= size_) std::pmr::new_delete_resource()->deallocate(pointer, bytes, alignment);
  }

  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  std::byte* const buffer_;
  const std::size_t size_;
  std::size_t used_ = 0;
};

}  // namespace tinyelf::detail
