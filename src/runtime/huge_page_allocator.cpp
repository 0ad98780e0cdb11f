// See include/ripple/memory.h.
#include "ripple/memory.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <c10/util/Exception.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ripple {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

void* map_aligned(size_t length, size_t requested) {
  // Over-map by one huge page, then trim both ends to a 2 MiB-aligned range.
  void* raw = mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  TORCH_CHECK(raw != MAP_FAILED, "out of memory: cannot map ", requested, " bytes for a tensor");
  const uintptr_t begin = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = round_up(begin, kHugePage);
  if (aligned > begin) munmap(raw, aligned - begin);
  const uintptr_t end = begin + length + kHugePage;
  if (end > aligned + length) munmap(reinterpret_cast<void*>(aligned + length), end - (aligned + length));
  void* data = reinterpret_cast<void*>(aligned);
  madvise(data, length, MADV_HUGEPAGE);  // advice only: ignored where THP is off
  return data;
}

// The process-wide bookkeeping: live mappings (pointer -> length) and the cache of free
// ones, oldest first, indexed by length.
class MappingRegistry {
 public:
  static MappingRegistry& get() {
    static MappingRegistry* registry = new MappingRegistry();  // never destroyed: tensors may outlive statics
    return *registry;
  }

  size_t set_cache_limit(size_t bytes) {
    std::vector<std::pair<void*, size_t>> to_unmap;
    size_t old = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      old = cache_limit_;
      cache_limit_ = bytes;
      while (cached_bytes_ > cache_limit_) to_unmap.push_back(pop_oldest_locked());
    }
    for (const auto& [p, n] : to_unmap) munmap(p, n);
    return old;
  }

  // The smallest cached mapping of `length` bytes up to a quarter more (mini-batches ask for
  // slightly different sizes every step), or nullptr.
  void* take_cached(size_t length) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_by_length_.lower_bound(length);
    if (it == free_by_length_.end() || it->first > length + length / 4) return nullptr;
    const size_t mapped = it->first;
    void* data = it->second->first;
    free_in_order_.erase(it->second);
    free_by_length_.erase(it);
    cached_bytes_ -= mapped;
    live_[data] = mapped;
    return data;
  }

  void add_live(void* data, size_t length) {
    std::lock_guard<std::mutex> lock(mutex_);
    live_[data] = length;
  }

  // Takes a freed pointer back. Returns false when it is not one of ours. Mappings that do
  // not fit in the cache, and the oldest ones pushed out to make room, are unmapped.
  bool release(void* data) {
    std::vector<std::pair<void*, size_t>> to_unmap;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = live_.find(data);
      if (it == live_.end()) return false;
      const size_t length = it->second;
      live_.erase(it);
      if (length > cache_limit_) {
        to_unmap.emplace_back(data, length);
      } else {
        while (cached_bytes_ + length > cache_limit_) to_unmap.push_back(pop_oldest_locked());
        free_in_order_.emplace_back(data, length);
        free_by_length_.emplace(length, std::prev(free_in_order_.end()));
        cached_bytes_ += length;
      }
    }
    for (const auto& [p, n] : to_unmap) munmap(p, n);
    return true;
  }

  size_t release_all() {
    std::vector<std::pair<void*, size_t>> to_unmap;
    size_t released = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      while (!free_in_order_.empty()) {
        to_unmap.push_back(pop_oldest_locked());
        released += to_unmap.back().second;
      }
    }
    for (const auto& [p, n] : to_unmap) munmap(p, n);
    return released;
  }

  size_t cached_bytes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_bytes_;
  }

 private:
  using FreeList = std::list<std::pair<void*, size_t>>;

  std::pair<void*, size_t> pop_oldest_locked() {
    const auto oldest = free_in_order_.front();
    auto range = free_by_length_.equal_range(oldest.second);
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second == free_in_order_.begin()) {
        free_by_length_.erase(it);
        break;
      }
    }
    free_in_order_.pop_front();
    cached_bytes_ -= oldest.second;
    return oldest;
  }

  std::mutex mutex_;
  std::unordered_map<void*, size_t> live_;
  FreeList free_in_order_;
  std::multimap<size_t, FreeList::iterator> free_by_length_;
  size_t cached_bytes_ = 0;
  size_t cache_limit_ = 0;
};

class HugePageAllocator final : public c10::Allocator {
 public:
  explicit HugePageAllocator(c10::Allocator* fallback) : fallback_(fallback) {}

  c10::DataPtr allocate(size_t bytes) const override {
    if (bytes < kHugePage) return fallback_->allocate(bytes);
    const size_t length = round_up(bytes, kHugePage);
    void* data = MappingRegistry::get().take_cached(length);
    if (!data) {
      data = map_aligned(length, bytes);
      MappingRegistry::get().add_live(data, length);
    }
    return {data, data, &release, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &release; }

  // Frees a buffer of either kind: huge mappings go to the cache (or are unmapped), the
  // rest to the fallback.
  static void release(void* data) {
    if (!data) return;
    if (!MappingRegistry::get().release(data)) fallback_deleter()(data);
  }

  static c10::DeleterFnPtr& fallback_deleter() {
    static c10::DeleterFnPtr deleter = nullptr;
    return deleter;
  }

 private:
  c10::Allocator* fallback_;
};

size_t cache_limit_from_env(size_t default_bytes) {
  const char* env = std::getenv("RIPPLE_CACHED_MEMORY_MB");
  if (!env || !*env) return default_bytes;
  char* end = nullptr;
  const unsigned long long mb = std::strtoull(env, &end, 10);
  TORCH_CHECK(end && *end == '\0', "RIPPLE_CACHED_MEMORY_MB must be a whole number of MiB, got '", env, "'");
  return static_cast<size_t>(mb) << 20;
}

}  // namespace

void install_huge_page_allocator(size_t cache_bytes) {
  static std::once_flag once;
  std::call_once(once, [cache_bytes] {
    MappingRegistry::get().set_cache_limit(cache_limit_from_env(cache_bytes));
    c10::Allocator* fallback = c10::GetCPUAllocator();
    HugePageAllocator::fallback_deleter() = fallback->raw_deleter() ? fallback->raw_deleter() : &c10::free_cpu;
    static HugePageAllocator allocator(fallback);
    c10::SetCPUAllocator(&allocator, /*priority=*/1);
  });
}

size_t set_cached_memory_limit(size_t bytes) { return MappingRegistry::get().set_cache_limit(bytes); }

size_t release_cached_memory() { return MappingRegistry::get().release_all(); }

size_t cached_memory_bytes() { return MappingRegistry::get().cached_bytes(); }

}  // namespace ripple
