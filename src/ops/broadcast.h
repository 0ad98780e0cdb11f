// Feature-shape broadcasting for the binary message operators (internal).
//
// Operands are viewed as [rows, *feature_shape]; feature shapes broadcast NumPy-style (the
// shorter shape is left-padded with 1s). When the two feature shapes are equal the kernels
// take a contiguous fast path; otherwise they read through per-output-element offsets
// computed once here. For `dot`, the last dimension is contracted: it must be equal on both
// sides and is excluded from broadcasting (reduce_size holds its length).
#pragma once

#include <cstdint>
#include <vector>

namespace ripple::ops::detail {

struct Broadcast {
  bool use_offsets = false;
  int64_t out_len = 1;   // elements per output row (dot: before contraction count)
  int64_t lhs_len = 1;   // elements per lhs row
  int64_t rhs_len = 1;   // elements per rhs row
  int64_t reduce_size = 1;
  std::vector<int64_t> lhs_offset;  // per output element, start within the lhs row
  std::vector<int64_t> rhs_offset;
  std::vector<int64_t> out_shape;   // feature shape of the output (dot: last dim is 1)
  // Set when lhs has the output's shape and rhs is constant along trailing dimensions:
  // output element k reads lhs[k] and rhs[k / rhs_inner] (an edge weight per edge, or per
  // head for [E, H, 1] attention). Kernels use a tight two-level loop for this case.
  bool rhs_trailing = false;
  int64_t rhs_inner = 1;
};

// Throws c10::Error when the shapes do not broadcast.
Broadcast compute_broadcast(const std::vector<int64_t>& lhs_shape,
                            const std::vector<int64_t>& rhs_shape, bool dot);

}  // namespace ripple::ops::detail
