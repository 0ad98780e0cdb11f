#include "ops/dispatch.h"

namespace ripple::ops::dispatch {

std::tuple<at::Tensor, at::Tensor, at::Tensor> gspmm_forward(
    const at::Tensor& indptr, const at::Tensor& indices, const OptTensor& eids, const std::string& op,
    const std::string& reduce, const OptTensor& lhs, const OptTensor& rhs, int64_t num_src) {
  static auto h = handle<std::tuple<at::Tensor, at::Tensor, at::Tensor>(
      const at::Tensor&, const at::Tensor&, const OptTensor&, c10::string_view, c10::string_view,
      const OptTensor&, const OptTensor&, int64_t)>("ripple::gspmm_forward");
  return h.call(indptr, indices, eids, op, reduce, lhs, rhs, num_src);
}

std::tuple<at::Tensor, at::Tensor> gspmm_mul_sum_backward(const at::Tensor& rev_indptr, const at::Tensor& rev_indices,
                                                          const OptTensor& rev_eids, const at::Tensor& grad,
                                                          const at::Tensor& lhs, const at::Tensor& rhs) {
  static auto h = handle<std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&, const OptTensor&,
                                                            const at::Tensor&, const at::Tensor&, const at::Tensor&)>(
      "ripple::gspmm_mul_sum_backward");
  return h.call(rev_indptr, rev_indices, rev_eids, grad, lhs, rhs);
}

at::Tensor gsddmm_forward(const at::Tensor& indptr, const at::Tensor& indices, const OptTensor& eids,
                          const std::string& op, const at::Tensor& lhs, const at::Tensor& rhs,
                          const std::string& lhs_target, const std::string& rhs_target, int64_t num_src) {
  static auto h = handle<at::Tensor(const at::Tensor&, const at::Tensor&, const OptTensor&,
                                    c10::string_view, const at::Tensor&, const at::Tensor&,
                                    c10::string_view, c10::string_view, int64_t)>("ripple::gsddmm_forward");
  return h.call(indptr, indices, eids, op, lhs, rhs, lhs_target, rhs_target, num_src);
}

at::Tensor gspmm(const at::Tensor& indptr, const at::Tensor& indices, const OptTensor& eids,
                 const at::Tensor& rev_indptr, const at::Tensor& rev_indices, const OptTensor& rev_eids,
                 const std::string& op, const std::string& reduce, const OptTensor& lhs,
                 const OptTensor& rhs) {
  static auto h = handle<at::Tensor(const at::Tensor&, const at::Tensor&, const OptTensor&,
                                    const at::Tensor&, const at::Tensor&, const OptTensor&,
                                    c10::string_view, c10::string_view, const OptTensor&,
                                    const OptTensor&)>("ripple::gspmm");
  return h.call(indptr, indices, eids, rev_indptr, rev_indices, rev_eids, op, reduce, lhs, rhs);
}

at::Tensor gsddmm(const at::Tensor& indptr, const at::Tensor& indices, const OptTensor& eids,
                  const at::Tensor& rev_indptr, const at::Tensor& rev_indices, const OptTensor& rev_eids,
                  const std::string& op, const at::Tensor& lhs, const at::Tensor& rhs,
                  const std::string& lhs_target, const std::string& rhs_target) {
  static auto h = handle<at::Tensor(const at::Tensor&, const at::Tensor&, const OptTensor&,
                                    const at::Tensor&, const at::Tensor&, const OptTensor&,
                                    c10::string_view, const at::Tensor&, const at::Tensor&,
                                    c10::string_view, c10::string_view)>("ripple::gsddmm");
  return h.call(indptr, indices, eids, rev_indptr, rev_indices, rev_eids, op, lhs, rhs, lhs_target,
                rhs_target);
}

at::Tensor gspmm_graph(const GraphRef& graph, const std::string& op, const std::string& reduce, const OptTensor& lhs,
                       const OptTensor& rhs) {
  static auto h = handle<at::Tensor(GraphRef, c10::string_view, c10::string_view, const OptTensor&, const OptTensor&)>(
      "ripple::gspmm_graph");
  return h.call(graph, op, reduce, lhs, rhs);
}

at::Tensor gsddmm_graph(const GraphRef& graph, const std::string& op, const at::Tensor& lhs, const at::Tensor& rhs,
                        const std::string& lhs_target, const std::string& rhs_target) {
  static auto h = handle<at::Tensor(GraphRef, c10::string_view, const at::Tensor&, const at::Tensor&,
                                    c10::string_view, c10::string_view)>("ripple::gsddmm_graph");
  return h.call(graph, op, lhs, rhs, lhs_target, rhs_target);
}

at::Tensor gspmm_sum_to_sources_graph(const GraphRef& graph, const at::Tensor& grad) {
  static auto h = handle<at::Tensor(GraphRef, const at::Tensor&)>("ripple::gspmm_sum_to_sources_graph");
  return h.call(graph, grad);
}

std::tuple<at::Tensor, at::Tensor> common_neighbors(const at::Tensor& indptr, const at::Tensor& indices,
                                                    const at::Tensor& pairs) {
  static auto h = handle<std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&, const at::Tensor&)>(
      "ripple::common_neighbors");
  return h.call(indptr, indices, pairs);
}

std::tuple<at::Tensor, at::Tensor> common_neighbors_graph(const GraphRef& graph, const at::Tensor& pairs) {
  static auto h = handle<std::tuple<at::Tensor, at::Tensor>(GraphRef, const at::Tensor&)>(
      "ripple::common_neighbors_graph");
  return h.call(graph, pairs);
}

}  // namespace ripple::ops::dispatch
