#include "ops/op_names.h"

#include <c10/util/Exception.h>

namespace ripple::ops::detail {

BinaryOp parse_spmm_op(const std::string& n) {
  if (n == "copy_lhs") return BinaryOp::kCopyLhs;
  if (n == "copy_rhs") return BinaryOp::kCopyRhs;
  if (n == "add") return BinaryOp::kAdd;
  if (n == "sub") return BinaryOp::kSub;
  if (n == "mul") return BinaryOp::kMul;
  if (n == "div") return BinaryOp::kDiv;
  TORCH_CHECK(false, "gspmm: unknown op '", n, "' (expected copy_lhs, copy_rhs, add, sub, mul, div)");
}

BinaryOp parse_sddmm_op(const std::string& n) {
  if (n == "add") return BinaryOp::kAdd;
  if (n == "sub") return BinaryOp::kSub;
  if (n == "mul") return BinaryOp::kMul;
  if (n == "div") return BinaryOp::kDiv;
  if (n == "dot") return BinaryOp::kDot;
  if (n == "copy_lhs") return BinaryOp::kCopyLhs;
  if (n == "copy_rhs") return BinaryOp::kCopyRhs;
  TORCH_CHECK(false, "gsddmm: unknown op '", n, "' (expected add, sub, mul, div, dot, copy_lhs, copy_rhs)");
}

Reduce parse_reduce(const std::string& n) {
  if (n == "sum") return Reduce::kSum;
  if (n == "mean") return Reduce::kMean;
  if (n == "max") return Reduce::kMax;
  if (n == "min") return Reduce::kMin;
  TORCH_CHECK(false, "gspmm: unknown reduce '", n, "' (expected sum, mean, max, min)");
}

Target parse_target(const std::string& n) {
  if (n == "src" || n == "u") return Target::kSrc;
  if (n == "edge" || n == "e") return Target::kEdge;
  if (n == "dst" || n == "v") return Target::kDst;
  TORCH_CHECK(false, "gsddmm: unknown target '", n, "' (expected src, edge, dst)");
}

bool uses_lhs(BinaryOp op) { return op != BinaryOp::kCopyRhs; }
bool uses_rhs(BinaryOp op) { return op != BinaryOp::kCopyLhs; }

}  // namespace ripple::ops::detail
