// Parsing of the operator and reducer names accepted by the kernels (internal).
#pragma once

#include <string>

namespace ripple::ops::detail {

enum class BinaryOp { kCopyLhs, kCopyRhs, kAdd, kSub, kMul, kDiv, kDot };
enum class Reduce { kSum, kMean, kMax, kMin };
enum class Target { kSrc, kEdge, kDst };

// Each throws c10::Error listing the accepted names.
BinaryOp parse_spmm_op(const std::string& name);
BinaryOp parse_sddmm_op(const std::string& name);
Reduce parse_reduce(const std::string& name);
Target parse_target(const std::string& name);

bool uses_lhs(BinaryOp op);
bool uses_rhs(BinaryOp op);

}  // namespace ripple::ops::detail
