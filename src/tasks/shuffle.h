// The order of an epoch's training examples (internal to the tasks).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <utility>

#include "ripple/nn/context.h"

namespace ripple::tasks {

// 0..n-1 shuffled by a counter-based Fisher-Yates keyed by `key`: the same key gives the
// same order on any thread count and after a resume. int64 [n].
inline at::Tensor shuffled_order(int64_t n, uint64_t key) {
  at::Tensor out = at::arange(n, at::kLong);
  int64_t* p = out.data_ptr<int64_t>();
  for (int64_t i = n - 1; i > 0; --i) {
    const uint64_t r = nn::mix64(key + static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull);
    const auto j = static_cast<int64_t>((static_cast<unsigned __int128>(r) * static_cast<uint64_t>(i + 1)) >> 64);
    std::swap(p[i], p[j]);
  }
  return out;
}

}  // namespace ripple::tasks
