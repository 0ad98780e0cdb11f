// Autograd kernels for the differentiable ripple:: ops (internal; registered in registration.cpp).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/string_view.h>

#include "ops/graph_handle.h"

namespace ripple::ops {

at::Tensor gspmm_autograd(const at::Tensor& indptr, const at::Tensor& indices,
                          const c10::optional<at::Tensor>& eids, const at::Tensor& rev_indptr,
                          const at::Tensor& rev_indices, const c10::optional<at::Tensor>& rev_eids,
                          c10::string_view op, c10::string_view reduce,
                          const c10::optional<at::Tensor>& lhs, const c10::optional<at::Tensor>& rhs);

at::Tensor gsddmm_autograd(const at::Tensor& indptr, const at::Tensor& indices,
                           const c10::optional<at::Tensor>& eids, const at::Tensor& rev_indptr,
                           const at::Tensor& rev_indices, const c10::optional<at::Tensor>& rev_eids,
                           c10::string_view op, const at::Tensor& lhs, const at::Tensor& rhs,
                           c10::string_view lhs_target, c10::string_view rhs_target);

at::Tensor gspmm_graph_autograd(GraphRef graph, c10::string_view op, c10::string_view reduce,
                                const c10::optional<at::Tensor>& lhs, const c10::optional<at::Tensor>& rhs);
at::Tensor gsddmm_graph_autograd(GraphRef graph, c10::string_view op, const at::Tensor& lhs, const at::Tensor& rhs,
                                 c10::string_view lhs_target, c10::string_view rhs_target);

}  // namespace ripple::ops
