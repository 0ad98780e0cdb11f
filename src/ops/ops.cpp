// Graph-level entry points of the kernel algebra. See include/ripple/ops.h.
#include "ripple/ops.h"

#include "ops/dispatch.h"

namespace ripple::ops {

// The graph crosses the dispatcher once, as a handle (ops/graph_handle.h): its reverse view
// is built only if a backward pass needs it, and then once (Graph caches it; copies share).
at::Tensor gspmm(const Graph& graph, const std::string& op, const std::string& reduce,
                 const at::Tensor& lhs, const at::Tensor& rhs) {
  auto o = [](const at::Tensor& t) { return t.defined() ? c10::optional<at::Tensor>(t) : c10::nullopt; };
  return dispatch::gspmm_graph(c10::make_intrusive<GraphHandle>(graph), op, reduce, o(lhs), o(rhs));
}

at::Tensor gsddmm(const Graph& graph, const std::string& op, const at::Tensor& lhs,
                  const at::Tensor& rhs, const std::string& lhs_target, const std::string& rhs_target) {
  return dispatch::gsddmm_graph(c10::make_intrusive<GraphHandle>(graph), op, lhs, rhs, lhs_target, rhs_target);
}

Graph common_neighbors(const Graph& graph, const at::Tensor& pairs) {
  auto [indptr, indices] = dispatch::common_neighbors_graph(c10::make_intrusive<GraphHandle>(graph), pairs);
  GraphFlags flags;
  flags.sorted = true;
  flags.deduplicated = true;
  return Graph::from_csc(graph.num_nodes(), std::move(indptr), std::move(indices), flags);
}

}  // namespace ripple::ops
