// The order of an epoch's training examples (internal to the tasks).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <utility>

#include "ripple/nn/context.h"
#include "train/task.h"

namespace ripple::tasks {

// A uniform integer in [0, n) from a 64-bit random draw r (multiply-shift; bias below n / 2^64).
inline uint64_t uniform_below(uint64_t r, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(r) * n) >> 64);
}

// 0..n-1 shuffled by a counter-based Fisher-Yates keyed by `key`: the same key gives the
// same order on any thread count and after a resume. int64 [n].
inline at::Tensor shuffled_order(int64_t n, uint64_t key) {
  at::Tensor out = at::arange(n, at::kLong);
  int64_t* p = out.data_ptr<int64_t>();
  for (int64_t i = n - 1; i > 0; --i) {
    const uint64_t r = nn::mix64(key + static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull);
    const auto j = static_cast<int64_t>(uniform_below(r, static_cast<uint64_t>(i + 1)));
    std::swap(p[i], p[j]);
  }
  return out;
}

// A shard's part of an epoch's `order`: every shard.count-th example from shard.index. With
// batches of B per shard, batch j of the shards together holds exactly examples
// [j B count, (j + 1) B count) of `order`: one process's batch j of size B * count.
inline at::Tensor shard_of(const at::Tensor& order, train::Shard shard) {
  if (shard.count == 1) return order;
  return order.slice(0, shard.index, order.numel(), shard.count).contiguous();
}

// A random-stream key of this shard: `key` itself for a single process (its streams, and
// so its results, do not change), else mixed with the shard's index so that the shards'
// draws (negatives) differ.
inline uint64_t shard_key(uint64_t key, train::Shard shard) {
  return shard.count == 1 ? key : nn::mix64(key ^ (0x5AD0000000000000ull + static_cast<uint64_t>(shard.index)));
}

}  // namespace ripple::tasks
