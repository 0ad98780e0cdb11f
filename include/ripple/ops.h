// The message-passing kernel algebra, on a Graph.
//
//   gspmm:  out[v] = REDUCE_{e=(u->v)} OP(lhs[u], rhs[e])
//           OP in {copy_lhs, copy_rhs, add, sub, mul, div}, REDUCE in {sum, mean, max, min}.
//           lhs is source-node data [num_src, *f1], rhs edge data [num_edges, *f2] (CSC
//           order); the feature shapes broadcast as in NumPy (e.g. [H, D] with [H, 1] for
//           multi-head attention). Rows with no incoming edge give 0.
//   gsddmm: out[e] = OP(lhs[t1(e)], rhs[t2(e)]) with targets t in {src, edge, dst},
//           OP in {add, sub, mul, div, dot}; dot contracts the last feature dimension
//           (which both operands must share) and keeps it as size 1.
//   edge_softmax: out[e] = exp(x[e]) / sum_{e' into dst(e)} exp(x[e']) per feature column.
//
// All three are differentiable (LibTorch autograd) in every operand, run destination-major
// without atomics (deterministic), and are registered with the torch dispatcher as
// ripple::gspmm, ripple::gsddmm and ripple::edge_softmax for use from Python. No edge-sized
// intermediate is created on the forward paths. Argument errors throw c10::Error naming
// the operand and its shape.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "ripple/graph.h"

namespace ripple::ops {

at::Tensor gspmm(const Graph& graph, const std::string& op, const std::string& reduce,
                 const at::Tensor& lhs, const at::Tensor& rhs);

at::Tensor gsddmm(const Graph& graph, const std::string& op, const at::Tensor& lhs,
                  const at::Tensor& rhs, const std::string& lhs_target = "src",
                  const std::string& rhs_target = "dst");

at::Tensor edge_softmax(const Graph& graph, const at::Tensor& scores);

}  // namespace ripple::ops
