// Graph-level entry points of the kernel algebra. See include/ripple/ops.h.
#include "ripple/ops.h"

#include "ops/dispatch.h"

namespace ripple::ops {

at::Tensor gspmm(const Graph& graph, const std::string& op, const std::string& reduce,
                 const at::Tensor& lhs, const at::Tensor& rhs) {
  const CsrView& r = graph.csr();
  auto o = [](const at::Tensor& t) { return t.defined() ? c10::optional<at::Tensor>(t) : c10::nullopt; };
  return dispatch::gspmm(graph.csc_indptr(), graph.csc_indices(), c10::nullopt, r.indptr, r.indices,
                         r.eids, op, reduce, o(lhs), o(rhs));
}

at::Tensor gsddmm(const Graph& graph, const std::string& op, const at::Tensor& lhs,
                  const at::Tensor& rhs, const std::string& lhs_target, const std::string& rhs_target) {
  const CsrView& r = graph.csr();
  return dispatch::gsddmm(graph.csc_indptr(), graph.csc_indices(), c10::nullopt, r.indptr, r.indices,
                          r.eids, op, lhs, rhs, lhs_target, rhs_target);
}

at::Tensor edge_softmax(const Graph& graph, const at::Tensor& scores) {
  return dispatch::edge_softmax(graph.csc_indptr(), c10::nullopt, scores);
}

}  // namespace ripple::ops
