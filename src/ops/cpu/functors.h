// Compile-time message operators and reducers shared by the CPU kernels (internal).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "ops/op_names.h"

namespace ripple::ops::cpu {

// Destination rows per at::parallel_for task: about 64k scalar updates per chunk, from the
// average row length (edges / rows) and the work per edge (`width` scalars).
inline int64_t rows_per_task(int64_t rows, int64_t edges, int64_t width) {
  const int64_t per_row = (edges / std::max<int64_t>(rows, 1) + 1) * std::max<int64_t>(width, 1);
  return std::max<int64_t>(1, 65536 / per_row);
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
