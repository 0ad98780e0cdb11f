// A set of unordered node pairs {u, v}, for the membership tests of link-prediction splits
// (is a held-out pair a training edge? is a sampled negative an edge?). Sorted 64-bit keys:
// 8 bytes a pair, no hashing, deterministic. Node ids must be below 2^32.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace ripple {

class PairSet {
 public:
  PairSet() = default;
  PairSet(const std::vector<int64_t>& src, const std::vector<int64_t>& dst) {
    keys_.reserve(src.size());
    for (size_t i = 0; i < src.size(); ++i) keys_.push_back(key(src[i], dst[i]));
    finish();
  }
  PairSet(const int64_t* src, const int64_t* dst, int64_t n) {
    keys_.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) keys_.push_back(key(src[i], dst[i]));
    finish();
  }
  bool contains(int64_t u, int64_t v) const { return std::binary_search(keys_.begin(), keys_.end(), key(u, v)); }
  size_t size() const { return keys_.size(); }
  // Every pair once, as key(), ascending.
  const std::vector<uint64_t>& keys() const { return keys_; }

  static uint64_t key(int64_t u, int64_t v) {
    const auto a = static_cast<uint64_t>(std::min(u, v)), b = static_cast<uint64_t>(std::max(u, v));
    return (a << 32) | b;
  }

 private:
  void finish() {
    std::sort(keys_.begin(), keys_.end());
    keys_.erase(std::unique(keys_.begin(), keys_.end()), keys_.end());
  }
  std::vector<uint64_t> keys_;
};

}  // namespace ripple
