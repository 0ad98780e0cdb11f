// Compile-time message operators and reducers shared by the CPU kernels (internal).
#pragma once

#include <limits>

#include "ops/op_names.h"

namespace ripple::ops::cpu {

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
