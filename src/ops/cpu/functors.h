// Compile-time message operators and reducers shared by the CPU kernels (internal).
#pragma once

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "ops/op_names.h"

namespace ripple::ops::cpu {

// Calls f(begin, end) in parallel on disjoint destination-row ranges covering [0, rows),
// each with about the same edges + rows. A split into equal numbers of rows (what
// at::parallel_for does) hands one thread all the hubs when rows are sorted by degree, or
// on any power-law graph whose hubs happen to be numbered together.
template <typename I, typename F>
void parallel_for_balanced_rows(const I* indptr, int64_t rows, int64_t width, const F& f) {
  if (rows <= 0) return;
  const int64_t total = static_cast<int64_t>(indptr[rows]) + rows;
  const int64_t by_size = total * std::max<int64_t>(width, 1) / 65536 + 1;
  const int64_t parts = std::clamp<int64_t>(by_size, 1, int64_t{8} * at::get_num_threads());
  // First row v with indptr[v] + v >= the part's share (indptr[v] + v strictly increases).
  auto boundary = [&](int64_t part) {
    if (part >= parts) return rows;
    const int64_t target = total / parts * part + (total % parts) * part / parts;
    int64_t lo = 0, hi = rows;
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (static_cast<int64_t>(indptr[mid]) + mid < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  at::parallel_for(0, parts, 1, [&](int64_t first, int64_t last) {
    for (int64_t part = first; part < last; ++part) {
      const int64_t begin = boundary(part), end = boundary(part + 1);
      if (begin < end) f(begin, end);
    }
  });
}

struct OpCopyLhs { template <typename T> static T call(T l, T) { return l; } };
struct OpCopyRhs { template <typename T> static T call(T, T r) { return r; } };
struct OpAdd { template <typename T> static T call(T l, T r) { return l + r; } };
struct OpSub { template <typename T> static T call(T l, T r) { return l - r; } };
struct OpMul { template <typename T> static T call(T l, T r) { return l * r; } };
struct OpDiv { template <typename T> static T call(T l, T r) { return l / r; } };

// Calls f with a value of the functor type for `op` (dot is handled by the caller).
template <typename F>
void dispatch_binary_op(detail::BinaryOp op, F&& f) {
  using detail::BinaryOp;
  switch (op) {
    case BinaryOp::kCopyLhs: f(OpCopyLhs{}); break;
    case BinaryOp::kCopyRhs: f(OpCopyRhs{}); break;
    case BinaryOp::kAdd: f(OpAdd{}); break;
    case BinaryOp::kSub: f(OpSub{}); break;
    case BinaryOp::kMul: f(OpMul{}); break;
    case BinaryOp::kDiv: f(OpDiv{}); break;
    case BinaryOp::kDot: f(OpMul{}); break;
  }
}

struct ReduceSum {
  static constexpr bool kTracksArg = false;
  template <typename T> static T init() { return T(0); }
  template <typename T> static bool better(T candidate, T current) { return true; }
};
struct ReduceMax {
  static constexpr bool kTracksArg = true;
  template <typename T> static T init() { return -std::numeric_limits<T>::infinity(); }
  template <typename T> static bool better(T candidate, T current) { return candidate > current; }
};
struct ReduceMin {
  static constexpr bool kTracksArg = true;
  template <typename T> static T init() { return std::numeric_limits<T>::infinity(); }
  template <typename T> static bool better(T candidate, T current) { return candidate < current; }
};

}  // namespace ripple::ops::cpu
