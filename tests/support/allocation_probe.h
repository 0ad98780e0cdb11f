// AllocationProbe: while alive, routes LibTorch's CPU allocations through a wrapper that
// records the largest single request, so a test can assert that a call does not copy a
// large array (a whole-graph conversion shows up as one allocation of its size). Restores
// the previous allocator on destruction. Not thread-safe against other probes; tests that
// use it run the probed call on the calling thread.
#pragma once

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>

namespace ripple::testing {

class AllocationProbe final : public c10::Allocator {
 public:
  AllocationProbe() : inner_(c10::GetCPUAllocator()) { c10::SetCPUAllocator(this, kPriority); }
  ~AllocationProbe() override { c10::SetCPUAllocator(inner_, kPriority); }
  AllocationProbe(const AllocationProbe&) = delete;
  AllocationProbe& operator=(const AllocationProbe&) = delete;

  c10::DataPtr allocate(size_t bytes) const override {
    size_t seen = largest_.load();
    while (bytes > seen && !largest_.compare_exchange_weak(seen, bytes)) {
    }
    return inner_->allocate(bytes);
  }
  c10::DeleterFnPtr raw_deleter() const override { return inner_->raw_deleter(); }
  // Pure virtual from LibTorch 2.3 on; a plain member before.
  void copy_data(void* dest, const void* src, size_t count) const { std::memcpy(dest, src, count); }

  size_t largest_bytes() const { return largest_.load(); }

 private:
  static constexpr uint8_t kPriority = 100;  // above any allocator the library installs
  c10::Allocator* inner_;
  mutable std::atomic<size_t> largest_{0};
};

}  // namespace ripple::testing
