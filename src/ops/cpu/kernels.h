// CPU kernels behind the ripple:: dispatcher ops (internal). Graph arguments are a CSC
// (indptr over destinations, indices = sources) plus optional `eids`: the row of the edge
// tensors for each CSC position (absent means the position itself). Running a kernel on the
// reverse graph (CSR arrays with their eids) is how backward passes aggregate to sources.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <tuple>

namespace ripple::ops::cpu {

// Returns (out, arg_src, arg_edge); the arg tensors are defined only for max/min and hold,
// per output element, the winning source node and edge row (-1 for an empty row).
std::tuple<at::Tensor, at::Tensor, at::Tensor> gspmm_forward(
    const at::Tensor& indptr, const at::Tensor& indices, const c10::optional<at::Tensor>& eids,
    const std::string& op, const std::string& reduce, const c10::optional<at::Tensor>& lhs,
    const c10::optional<at::Tensor>& rhs, int64_t num_src);

at::Tensor gsddmm_forward(const at::Tensor& indptr, const at::Tensor& indices,
                          const c10::optional<at::Tensor>& eids, const std::string& op,
                          const at::Tensor& lhs, const at::Tensor& rhs,
                          const std::string& lhs_target, const std::string& rhs_target);

at::Tensor edge_softmax_forward(const at::Tensor& indptr, const c10::optional<at::Tensor>& eids,
                                const at::Tensor& scores);

at::Tensor edge_softmax_backward(const at::Tensor& indptr, const c10::optional<at::Tensor>& eids,
                                 const at::Tensor& out, const at::Tensor& grad_out);

}  // namespace ripple::ops::cpu
