// Plain edge-loop reference implementations of the kernel algebra, for tests only.
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "ripple/graph.h"

namespace ripple::testing {

// out[v] = reduce over in-edges of op(lhs[src], rhs[edge]), broadcasting with at:: ops.
at::Tensor reference_gspmm(const Graph& g, const std::string& op, const std::string& reduce,
                           const at::Tensor& lhs, const at::Tensor& rhs);
at::Tensor reference_gsddmm(const Graph& g, const std::string& op, const at::Tensor& lhs,
                            const at::Tensor& rhs, const std::string& lt, const std::string& rt);
at::Tensor reference_edge_softmax(const Graph& g, const at::Tensor& x);

// Small graphs with the awkward cases: isolated nodes, self loops, duplicate edges.
Graph awkward_graph(bool int32 = false);
Graph empty_graph(int64_t nodes);
Graph random_graph(int64_t nodes, int64_t edges, uint64_t seed);

}  // namespace ripple::testing
