// The huge-page CPU allocator: large tensors land on 2 MiB-aligned mappings, small ones and
// raw allocations of both sizes round-trip, and values are what was written.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <c10/core/CPUAllocator.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "ripple/memory.h"
#include "support/cli.h"

namespace ripple {
namespace {

TEST(HugePageAllocator, ServesLargeTensorsAlignedAndSmallOnesAsBefore) {
  install_huge_page_allocator();
  install_huge_page_allocator();  // idempotent
  at::Tensor big = at::arange(3 << 20, at::kFloat);  // 12 MiB
  EXPECT_EQ(reinterpret_cast<uintptr_t>(big.data_ptr()) % (2u << 20), 0u);
  EXPECT_EQ(big[12345].item<float>(), 12345.0f);
  EXPECT_EQ(big.sum().item<double>(), (3.0 * (1 << 20) - 1) * 3.0 * (1 << 20) / 2);
  big = at::Tensor();  // freed by munmap
  const at::Tensor small = at::ones({100});
  EXPECT_EQ(small.sum().item<float>(), 100.0f);
  // Raw allocations (used inside LibTorch) of both sizes go back through raw_deleter.
  c10::Allocator* alloc = c10::GetCPUAllocator();
  for (size_t bytes : {size_t{64}, size_t{5} << 20}) {
    void* p = alloc->raw_allocate(bytes);
    ASSERT_NE(p, nullptr);
    std::memset(p, 7, bytes);
    alloc->raw_deallocate(p);
  }
  // Many allocate/free cycles leave nothing mapped behind (would exhaust maps otherwise).
  for (int i = 0; i < 300; ++i) {
    at::Tensor t = at::empty({1 << 20});
    t.fill_(1);
  }
}

TEST(HugePageAllocator, ReusesFreedBuffersOfTheSameSizeWithinTheCacheLimit) {
  install_huge_page_allocator();
  set_cached_memory_limit(size_t{64} << 20);
  release_cached_memory();
  void* first = nullptr;
  {
    at::Tensor a = at::full({3 << 20}, 2.0f);  // 12 MiB
    first = a.data_ptr();
  }
  EXPECT_EQ(cached_memory_bytes(), size_t{12} << 20);
  {
    at::Tensor b = at::empty({3 << 20});  // same rounded size: the cached buffer comes back
    EXPECT_EQ(b.data_ptr(), first);
    EXPECT_EQ(cached_memory_bytes(), 0u);
    b.fill_(3.0f);
    EXPECT_EQ(b.sum().item<double>(), 3.0 * (3 << 20));
    at::Tensor c = at::empty({5 << 20});  // other size: a fresh mapping
    EXPECT_NE(c.data_ptr(), first);
  }
  EXPECT_EQ(cached_memory_bytes(), size_t{32} << 20);
  // Over the limit, the oldest go first: c (20 MiB) was freed before b (12 MiB), and
  // 12 + 20 + 40 > 64 pushes out c only.
  { at::Tensor d = at::empty({10 << 20}); }
  EXPECT_EQ(cached_memory_bytes(), size_t{52} << 20);
  // A buffer larger than the whole cache is unmapped at once.
  { at::Tensor e = at::empty({20 << 20}); }
  EXPECT_EQ(cached_memory_bytes(), size_t{52} << 20);
  EXPECT_EQ(set_cached_memory_limit(size_t{16} << 20), size_t{64} << 20);
  EXPECT_EQ(cached_memory_bytes(), 0u);
  { at::Tensor f = at::empty({2 << 20}); }
  EXPECT_EQ(release_cached_memory(), size_t{8} << 20);
  EXPECT_EQ(cached_memory_bytes(), 0u);
}

// Mini-batches ask for nearly the same sizes each step: a cached buffer up to a quarter
// larger than the request is reused (the smallest that fits), a larger one is not.
TEST(HugePageAllocator, ReusesASlightlyLargerFreedBuffer) {
  install_huge_page_allocator();
  set_cached_memory_limit(size_t{64} << 20);
  release_cached_memory();
  void* twelve = nullptr;
  void* sixteen = nullptr;
  {
    at::Tensor a = at::empty({3 << 20});  // 12 MiB
    at::Tensor b = at::empty({4 << 20});  // 16 MiB
    twelve = a.data_ptr();
    sixteen = b.data_ptr();
  }
  EXPECT_EQ(cached_memory_bytes(), size_t{28} << 20);
  {
    at::Tensor c = at::empty({(5 << 20) / 2});  // 10 MiB: the 12 MiB buffer (<= 12.5), not the 16
    EXPECT_EQ(c.data_ptr(), twelve);
    EXPECT_EQ(cached_memory_bytes(), size_t{16} << 20);
    at::Tensor d = at::empty({2 << 20});  // 8 MiB: 16 is more than a quarter over, a fresh mapping
    EXPECT_NE(d.data_ptr(), sixteen);
    d.fill_(1.0f);
    EXPECT_EQ(d.sum().item<double>(), 2 << 20);
  }
  // The reused buffer goes back to the cache at its mapped size (12 MiB, not 10).
  EXPECT_EQ(cached_memory_bytes(), size_t{36} << 20);
  release_cached_memory();
}

// The cgroup limit is found for v1 (the memory controller's line) and v2 (the "0::" line),
// "max" and missing files mean no limit, and the default cache is an eighth of what the
// process may use, at least 1 GiB.
TEST(HugePageAllocator, CacheDefaultFollowsTheMemoryCgroupLimit) {
  const std::filesystem::path root = testing::fresh_temp_dir("cgroup-root");
  std::filesystem::create_directories(root / "memory" / "job");
  std::ofstream(root / "memory" / "job" / "memory.limit_in_bytes") << "6442450944\n";
  EXPECT_EQ(cgroup_memory_limit("12:pids:/\n4:cpu,memory:/job\n1:name=systemd:/\n", root.string()),
            size_t{6} << 30);
  std::filesystem::create_directories(root / "slice");
  std::ofstream(root / "slice" / "memory.max") << "2147483648\n";
  EXPECT_EQ(cgroup_memory_limit("0::/slice\n", root.string()), size_t{2} << 30);
  std::ofstream(root / "memory.max") << "max\n";
  EXPECT_EQ(cgroup_memory_limit("0::/\n", root.string()), 0u);
  EXPECT_EQ(cgroup_memory_limit("0::/absent\n3:memory:/absent\n", root.string()), 0u);
  EXPECT_EQ(cgroup_memory_limit("garbage", root.string()), 0u);
  const size_t usable = usable_memory_bytes();
  EXPECT_GT(usable, size_t{256} << 20);
  EXPECT_EQ(default_cached_memory_bytes(), std::max(size_t{1} << 30, usable / 8));
}

}  // namespace
}  // namespace ripple
