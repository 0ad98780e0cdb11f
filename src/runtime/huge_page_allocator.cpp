// See include/ripple/memory.h.
#include "ripple/memory.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <c10/util/Exception.h>
#include <sys/mman.h>

#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace ripple {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

class HugePageAllocator final : public c10::Allocator {
 public:
  explicit HugePageAllocator(c10::Allocator* fallback) : fallback_(fallback) {}

  c10::DataPtr allocate(size_t bytes) const override {
    if (bytes < kHugePage) return fallback_->allocate(bytes);
    const size_t length = round_up(bytes, kHugePage);
    // Over-map by one huge page, then trim both ends to a 2 MiB-aligned range.
    void* raw = mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    TORCH_CHECK(raw != MAP_FAILED, "out of memory: cannot map ", bytes, " bytes for a tensor");
    const uintptr_t begin = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = round_up(begin, kHugePage);
    if (aligned > begin) munmap(raw, aligned - begin);
    const uintptr_t end = begin + length + kHugePage;
    if (end > aligned + length) munmap(reinterpret_cast<void*>(aligned + length), end - (aligned + length));
    void* data = reinterpret_cast<void*>(aligned);
    madvise(data, length, MADV_HUGEPAGE);  // advice only: ignored where THP is off
    {
      std::lock_guard<std::mutex> lock(mutex());
      mappings()[data] = length;
    }
    return {data, data, &release, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &release; }

  // Frees a buffer of either kind: huge mappings are unmapped, the rest go to the fallback.
  static void release(void* data) {
    if (!data) return;
    size_t length = 0;
    {
      std::lock_guard<std::mutex> lock(mutex());
      auto it = mappings().find(data);
      if (it != mappings().end()) {
        length = it->second;
        mappings().erase(it);
      }
    }
    if (length > 0) {
      munmap(data, length);
    } else {
      fallback_deleter()(data);
    }
  }

  static c10::DeleterFnPtr& fallback_deleter() {
    static c10::DeleterFnPtr deleter = nullptr;
    return deleter;
  }

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static std::unordered_map<void*, size_t>& mappings() {
    static std::unordered_map<void*, size_t> m;
    return m;
  }
  c10::Allocator* fallback_;
};

}  // namespace

void install_huge_page_allocator() {
  static std::once_flag once;
  std::call_once(once, [] {
    c10::Allocator* fallback = c10::GetCPUAllocator();
    HugePageAllocator::fallback_deleter() = fallback->raw_deleter() ? fallback->raw_deleter() : &c10::free_cpu;
    static HugePageAllocator allocator(fallback);
    c10::SetCPUAllocator(&allocator, /*priority=*/1);
  });
}

}  // namespace ripple
