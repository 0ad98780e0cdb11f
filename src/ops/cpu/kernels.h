// CPU kernels behind the ripple:: dispatcher ops (internal). Graph arguments are a CSC
// (indptr over destinations, indices = sources) plus optional `eids`: the row of the edge
// tensors for each CSC position (absent means the position itself). Running a kernel on the
// reverse graph (CSR arrays with their eids) is how backward passes aggregate to sources.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <tuple>

namespace ripple {
class Graph;
}

namespace ripple::ops::cpu {

// Returns (out, arg_src, arg_edge); the arg tensors are defined only for max/min and hold,
// per output element, the winning source node and edge row (-1 for an empty row).
std::tuple<at::Tensor, at::Tensor, at::Tensor> gspmm_forward(
    const at::Tensor& indptr, const at::Tensor& indices, const c10::optional<at::Tensor>& eids,
    const std::string& op, const std::string& reduce, const c10::optional<at::Tensor>& lhs,
    const c10::optional<at::Tensor>& rhs, int64_t num_src);

// Gradients of gspmm(mul, sum)(x, w) for x [N_src, heads..., D] and w [E, heads..., 1], from
// grad [N_dst, heads..., D], computed in one pass over the reverse graph given here:
// returns (grad_x, grad_w). See gspmm_mul_backward_kernel.cpp.
std::tuple<at::Tensor, at::Tensor> gspmm_mul_sum_backward(const at::Tensor& rev_indptr, const at::Tensor& rev_indices,
                                                          const c10::optional<at::Tensor>& rev_eids,
                                                          const at::Tensor& grad, const at::Tensor& x,
                                                          const at::Tensor& w);

at::Tensor gsddmm_forward(const at::Tensor& indptr, const at::Tensor& indices,
                          const c10::optional<at::Tensor>& eids, const std::string& op,
                          const at::Tensor& lhs, const at::Tensor& rhs,
                          const std::string& lhs_target, const std::string& rhs_target, int64_t num_src);

// For each column (u, v) of `pairs` (int64 [2, B]) the ids in both CSC rows u and v (rows
// strictly ascending, checked): (indptr [B + 1], indices), with the graph's index dtype.
std::tuple<at::Tensor, at::Tensor> common_neighbors(const at::Tensor& indptr, const at::Tensor& indices,
                                                    const at::Tensor& pairs);
// The same on a Graph (square), whose arrays were checked when it was made: only `pairs` is
// checked per call, and the rows' order once per graph (Graph::first_row_not_strictly_ascending).
std::tuple<at::Tensor, at::Tensor> common_neighbors_graph(const Graph& graph, const at::Tensor& pairs);

}  // namespace ripple::ops::cpu
