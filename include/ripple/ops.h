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
//   common_neighbors: the sparse intersection of two adjacency rows per node pair (below).
//
// gspmm, gsddmm and edge_softmax are differentiable (LibTorch autograd) in every operand, run destination-major
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

// common_neighbors: for each column (u, v) of `pairs` (int64 [2, B]), the nodes in both
// CSC rows u and v (for a symmetric graph: adjacent to both), as a bipartite graph from the
// graph's nodes (sources) to the B pairs (destinations), each row ascending. With
// gspmm(copy_lhs, sum) it sums the common neighbours' features (the NCN link predictor);
// its in-degrees count them. Rows are intersected by a linear merge, or by binary search
// when one is more than 16 times longer, or, on dense graphs (a row longer than N/64 words),
// as bitsets built once per call; the result is the same. Works on int32 and int64 graphs (the result keeps
// the index type). Not differentiable (an index computation). c10::Error when the graph's
// rows are not strictly ascending (Graph::from_edges builds them so) or a pair names a
// node outside the graph (the rows' order is checked once per graph and cached, only the
// pairs on every call). Registered as ripple::common_neighbors_graph(Graph, pairs), and for
// raw arrays as ripple::common_neighbors(indptr, indices, pairs), which checks everything on
// every call.
Graph common_neighbors(const Graph& graph, const at::Tensor& pairs);

}  // namespace ripple::ops
