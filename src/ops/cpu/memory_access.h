// Memory-access helpers shared by the CPU kernels (internal): software prefetch of gathered
// rows, non-temporal stores for large outputs, and a dot product that does not serialize on
// one accumulator.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "runtime/simd.h"

namespace ripple::ops::cpu {

// How far ahead to prefetch, in bytes of gathered rows (about 16 rows of 128 floats).
// On 1M nodes / 20M edges, F = 128, 2 threads, prefetching 4 to 64 rows ahead took the sum
// from about 60% more time than with it to the figures in docs/performance.md; 16 was best.
constexpr int64_t kPrefetchBytes = 8192;
inline int64_t prefetch_edges(int64_t row_bytes) {
  return std::clamp<int64_t>(kPrefetchBytes / std::max<int64_t>(row_bytes, 1), 4, 64);
}

template <typename T, typename I>
inline void prefetch_row(const T* base, int64_t row, int64_t len) {
  const char* p = reinterpret_cast<const char*>(base + row * len);
  const int64_t bytes = len * static_cast<int64_t>(sizeof(T));
  for (int64_t b = 0; b < bytes; b += 64) __builtin_prefetch(p + b, 0, 3);
}

// A source matrix up to this size is taken to stay in the last-level cache while a kernel
// gathers its rows (a fraction of a server core complex's 16-32 MiB of L3).
constexpr int64_t kCachedSourceBytes = int64_t{8} << 20;

// Output rows of a large result are written with non-temporal stores: the output would not
// stay in cache anyway, and a normal store first reads each line it overwrites (write
// allocate), which adds N*F*4 bytes of DRAM reads to the gather traffic.
constexpr int64_t kStreamingOutputBytes = int64_t{32} << 20;

template <typename T>
inline void store_row(T* __restrict__ out, const T* __restrict__ acc, int64_t len, bool streaming) {
  if constexpr (std::is_same_v<T, float>) {
    simd::store_floats(out, acc, len, streaming);
  } else {
    std::copy(acc, acc + len, out);
  }
}

inline void finish_streaming_stores() { simd::fence_streaming_stores(); }

// Dot product of two contiguous vectors with 8 independent partial sums, so that the
// compiler can keep them in one SIMD register and the loop is not bound by the latency of a
// single chain of additions (a scalar `acc += a[j] * b[j]` is, since float addition may not
// be reordered without -ffast-math). The summation order is fixed, so results are
// deterministic; they differ from a left-to-right sum only by reassociation.
template <typename T>
inline T dot_product(const T* __restrict__ a, const T* __restrict__ b, int64_t n) {
  constexpr int64_t kLanes = 8;
  T partial[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (int64_t t = 0; t < kLanes; ++t) partial[t] += a[j + t] * b[j + t];
  }
  T sum = ((partial[0] + partial[4]) + (partial[1] + partial[5])) +
          ((partial[2] + partial[6]) + (partial[3] + partial[7]));
  for (; j < n; ++j) sum += a[j] * b[j];
  return sum;
}

}  // namespace ripple::ops::cpu
