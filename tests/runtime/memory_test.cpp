// The huge-page CPU allocator: large tensors land on 2 MiB-aligned mappings, small ones and
// raw allocations of both sizes round-trip, and values are what was written.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <c10/core/CPUAllocator.h>

#include <cstdint>
#include <cstring>

#include "ripple/memory.h"

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

}  // namespace
}  // namespace ripple
