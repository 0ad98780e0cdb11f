// Typed handles to the ripple:: dispatcher ops (internal). Calling through the dispatcher,
// rather than the kernels directly, lets autograd and device dispatch apply.
#pragma once

#include <ATen/core/Tensor.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <string>
#include <tuple>

#include "ops/graph_handle.h"

namespace ripple::ops::dispatch {

using OptTensor = c10::optional<at::Tensor>;

// The typed handle of the registered op `name` ("ripple::edge_softmax"); an operator's own
// file keeps it in a function-local static.
template <typename Fn>
c10::TypedOperatorHandle<Fn> handle(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Fn>();
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> gspmm_forward(
    const at::Tensor& indptr, const at::Tensor& indices, const OptTensor& eids, const std::string& op,
    const std::string& reduce, const OptTensor& lhs, const OptTensor& rhs, int64_t num_src);

// Fused gradients of gspmm(mul, sum) for both operands (kernels.h); CPU only so far.
std::tuple<at::Tensor, at::Tensor> gspmm_mul_sum_backward(const at::Tensor& rev_indptr, const at::Tensor& rev_indices,
                                                          const OptTensor& rev_eids, const at::Tensor& grad,
                                                          const at::Tensor& lhs, const at::Tensor& rhs);

// The gradient of gspmm(copy_lhs, sum) towards the graph's sources, scattered along its CSC
// without a reverse view (kernels.h); CPU only so far.
at::Tensor gspmm_sum_to_sources_graph(const GraphRef& graph, const at::Tensor& grad);

at::Tensor gsddmm_forward(const at::Tensor& indptr, const at::Tensor& indices, const OptTensor& eids,
                          const std::string& op, const at::Tensor& lhs, const at::Tensor& rhs,
                          const std::string& lhs_target, const std::string& rhs_target, int64_t num_src);

std::tuple<at::Tensor, at::Tensor> common_neighbors(const at::Tensor& indptr, const at::Tensor& indices,
                                                    const at::Tensor& pairs);
std::tuple<at::Tensor, at::Tensor> common_neighbors_graph(const GraphRef& graph, const at::Tensor& pairs);

// Differentiable ops. The graph is given both ways: CSC (indptr, indices, eids) and its
// reverse (rev_*), which backward passes use to aggregate towards sources.
at::Tensor gspmm(const at::Tensor& indptr, const at::Tensor& indices, const OptTensor& eids,
                 const at::Tensor& rev_indptr, const at::Tensor& rev_indices, const OptTensor& rev_eids,
                 const std::string& op, const std::string& reduce, const OptTensor& lhs,
                 const OptTensor& rhs);

at::Tensor gsddmm(const at::Tensor& indptr, const at::Tensor& indices, const OptTensor& eids,
                  const at::Tensor& rev_indptr, const at::Tensor& rev_indices, const OptTensor& rev_eids,
                  const std::string& op, const at::Tensor& lhs, const at::Tensor& rhs,
                  const std::string& lhs_target, const std::string& rhs_target);

// The graph-handle forms: the graph crosses as one object (ops/graph_handle.h).
at::Tensor gspmm_graph(const GraphRef& graph, const std::string& op, const std::string& reduce, const OptTensor& lhs,
                       const OptTensor& rhs);
at::Tensor gsddmm_graph(const GraphRef& graph, const std::string& op, const at::Tensor& lhs, const at::Tensor& rhs,
                        const std::string& lhs_target, const std::string& rhs_target);

}  // namespace ripple::ops::dispatch
