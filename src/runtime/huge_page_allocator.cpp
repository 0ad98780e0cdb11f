// See include/ripple/memory.h.
#include "ripple/memory.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <c10/util/Exception.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <list>
#include <map>
#include <mutex>
#include <sstream>
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

// The first whole number in the file at `path`, or 0 ("max", missing, unreadable).
size_t read_limit_file(const std::string& path) {
  std::ifstream in(path);
  unsigned long long value = 0;
  if (!(in >> value)) return 0;
  return static_cast<size_t>(value);
}

}  // namespace

size_t cgroup_memory_limit(const std::string& proc_self_cgroup, const std::string& cgroup_root) {
  // Lines "ID:CONTROLLERS:PATH": v1 names "memory" among the controllers, v2 has ID 0 and
  // no controllers. The limit file sits at ROOT[/memory]/PATH.
  std::istringstream lines(proc_self_cgroup);
  std::string line;
  size_t limit = 0;
  while (std::getline(lines, line)) {
    const size_t first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (path == "/") path.clear();
    size_t found = 0;
    std::istringstream names(controllers);
    bool memory = false;
    for (std::string name; std::getline(names, name, ',');) memory = memory || name == "memory";
    if (memory) {
      found = read_limit_file(cgroup_root + "/memory" + path + "/memory.limit_in_bytes");
    } else if (line.compare(0, 2, "0:") == 0 && controllers.empty()) {
      found = read_limit_file(cgroup_root + path + "/memory.max");
    }
    if (found > 0 && (limit == 0 || found < limit)) limit = found;
  }
  return limit;
}

size_t usable_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  size_t usable = pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) : 0;
  std::ifstream in("/proc/self/cgroup");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t cgroup = cgroup_memory_limit(text, "/sys/fs/cgroup");
  if (cgroup > 0 && (usable == 0 || cgroup < usable)) usable = cgroup;
  return usable;
}

size_t default_cached_memory_bytes() { return std::max(size_t{1} << 30, usable_memory_bytes() / 8); }

namespace {
// glibc serves a request from its own mapping once it passes a threshold that starts at
// 128 KiB and moves with what is freed, and gives the top of its heap back to the kernel when
// more than twice that is free there: a step that allocates and frees the same few-hundred-KiB
// activations (a batch of small graphs) then maps, faults in and zeroes fresh pages for most
// of them. Buffers of 2 MiB and more are this allocator's; below that, take everything from
// the heap and keep up to 64 MiB of free heap top (10-15 % of a PROTEINS GIN epoch here).
void keep_small_buffers_on_the_heap() {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(kHugePage));
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}
}  // namespace

void install_huge_page_allocator() { install_huge_page_allocator(default_cached_memory_bytes()); }

void install_huge_page_allocator(size_t cache_bytes) {
  static std::once_flag once;
  std::call_once(once, [cache_bytes] {
    MappingRegistry::get().set_cache_limit(cache_limit_from_env(cache_bytes));
    c10::Allocator* fallback = c10::GetCPUAllocator();
    HugePageAllocator::fallback_deleter() = fallback->raw_deleter() ? fallback->raw_deleter() : &c10::free_cpu;
    static HugePageAllocator allocator(fallback);
    c10::SetCPUAllocator(&allocator, /*priority=*/1);
    keep_small_buffers_on_the_heap();
  });
}

size_t set_cached_memory_limit(size_t bytes) { return MappingRegistry::get().set_cache_limit(bytes); }

size_t release_cached_memory() { return MappingRegistry::get().release_all(); }

size_t cached_memory_bytes() { return MappingRegistry::get().cached_bytes(); }

}  // namespace ripple
