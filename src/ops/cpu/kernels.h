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
// The gradient of gspmm(copy_lhs, sum) on `graph` towards its sources, from grad [num_dst,
// ...]: out [num_src, ...], out[u] the sum of grad[v] over the edges (u, v), scattered along
// the CSC (no reverse view is built) with each sum in ascending v, so the same bits as a
// copy_lhs sum over the reverse graph. For graphs made for one call whose few sources fan
// out to many destinations (the common-neighbour graph). See gspmm_scatter_kernel.cpp.
at::Tensor gspmm_sum_to_sources(const Graph& graph, const at::Tensor& grad);

// How common_neighbors intersects two rows: merging the sorted lists (binary search when
// one is far shorter), or ANDing the rows as bitsets over the nodes, built once a call (dense
// graphs, where a row is longer than its bitset's words). kAuto: choose_intersect_method.
enum class IntersectMethod { kAuto, kMerge, kBitset };
// kBitset when the bitsets fit in 64 MiB and ANDing them (and building them) steps over fewer
// words than merging `batch` pairs' rows of a graph with `num_entries` row entries would.
IntersectMethod choose_intersect_method(int64_t num_nodes, int64_t num_entries, int64_t batch);

// The same on a Graph (square), whose arrays were checked when it was made: only `pairs` is
// checked per call, and the rows' order once per graph (Graph::first_row_not_strictly_ascending).
// The result is the same whatever `method`.
std::tuple<at::Tensor, at::Tensor> common_neighbors_graph(const Graph& graph, const at::Tensor& pairs,
                                                          IntersectMethod method = IntersectMethod::kAuto);

}  // namespace ripple::ops::cpu
