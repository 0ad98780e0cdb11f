// Schemas and kernel registrations of the ripple:: operator library.
//
// The *_forward / *_backward ops are the raw kernels (CPU here; CUDA registers the same
// names). gspmm and gsddmm are the user-facing, differentiable ops: their Autograd kernel
// records the backward, their CPU kernel serves inference mode. (edge_softmax registers
// itself, with the same pattern, from edge_softmax.cpp.) The graph
// crosses them as six tensors (for Python callers with raw arrays); gspmm_graph,
// gsddmm_graph and common_neighbors_graph take the ripple.Graph custom class instead
// (ops/graph_handle.h), which the C++ API uses: its arrays were checked once, when it was
// made, not on every call.
#include <torch/library.h>

#include "ops/autograd.h"
#include "ops/cpu/kernels.h"

namespace ripple::ops {
namespace {

using OptTensor = c10::optional<at::Tensor>;

std::tuple<at::Tensor, at::Tensor, at::Tensor> gspmm_forward_cpu(
    const at::Tensor& indptr, const at::Tensor& indices, const OptTensor& eids, c10::string_view op,
    c10::string_view reduce, const OptTensor& lhs, const OptTensor& rhs, int64_t num_src) {
  return cpu::gspmm_forward(indptr, indices, eids, std::string(op), std::string(reduce), lhs, rhs, num_src);
}

at::Tensor gsddmm_forward_cpu(const at::Tensor& indptr, const at::Tensor& indices, const OptTensor& eids,
                              c10::string_view op, const at::Tensor& lhs, const at::Tensor& rhs,
                              c10::string_view lt, c10::string_view rt, int64_t num_src) {
  return cpu::gsddmm_forward(indptr, indices, eids, std::string(op), lhs, rhs, std::string(lt), std::string(rt),
                             num_src);
}

at::Tensor gspmm_cpu(const at::Tensor& indptr, const at::Tensor& indices, const OptTensor& eids,
                     const at::Tensor& rev_indptr, const at::Tensor&, const OptTensor&,
                     c10::string_view op, c10::string_view reduce, const OptTensor& lhs,
                     const OptTensor& rhs) {
  return std::get<0>(cpu::gspmm_forward(indptr, indices, eids, std::string(op), std::string(reduce), lhs,
                                        rhs, rev_indptr.numel() - 1));
}

at::Tensor gsddmm_cpu(const at::Tensor& indptr, const at::Tensor& indices, const OptTensor& eids,
                      const at::Tensor& rev_indptr, const at::Tensor&, const OptTensor&, c10::string_view op,
                      const at::Tensor& lhs, const at::Tensor& rhs, c10::string_view lt,
                      c10::string_view rt) {
  return cpu::gsddmm_forward(indptr, indices, eids, std::string(op), lhs, rhs, std::string(lt), std::string(rt),
                             rev_indptr.numel() - 1);
}

// Inference (no autograd): the forward kernel on the graph's CSC; no reverse view.
at::Tensor gspmm_graph_cpu(GraphRef graph, c10::string_view op, c10::string_view reduce, const OptTensor& lhs,
                           const OptTensor& rhs) {
  const Graph& g = graph->graph();
  return std::get<0>(cpu::gspmm_forward(g.csc_indptr(), g.csc_indices(), c10::nullopt, std::string(op),
                                        std::string(reduce), lhs, rhs, g.num_src()));
}

at::Tensor gsddmm_graph_cpu(GraphRef graph, c10::string_view op, const at::Tensor& lhs, const at::Tensor& rhs,
                            c10::string_view lt, c10::string_view rt) {
  const Graph& g = graph->graph();
  return cpu::gsddmm_forward(g.csc_indptr(), g.csc_indices(), c10::nullopt, std::string(op), lhs, rhs,
                             std::string(lt), std::string(rt), g.num_src());
}

std::tuple<at::Tensor, at::Tensor> common_neighbors_graph_cpu(GraphRef graph, const at::Tensor& pairs) {
  return cpu::common_neighbors_graph(graph->graph(), pairs);
}

at::Tensor gspmm_sum_to_sources_graph_cpu(GraphRef graph, const at::Tensor& grad) {
  return cpu::gspmm_sum_to_sources(graph->graph(), grad);
}

}  // namespace

TORCH_LIBRARY(ripple, m) {
  m.class_<GraphHandle>("Graph")
      .def(torch::init<at::Tensor, at::Tensor, int64_t>())
      .def("num_src", [](const GraphRef& self) { return self->graph().num_src(); })
      .def("num_dst", [](const GraphRef& self) { return self->graph().num_dst(); })
      .def("num_edges", [](const GraphRef& self) { return self->graph().num_edges(); });
  m.def("gspmm_forward(Tensor indptr, Tensor indices, Tensor? eids, str op, str reduce, Tensor? lhs, "
        "Tensor? rhs, int num_src) -> (Tensor, Tensor, Tensor)");
  m.def("gsddmm_forward(Tensor indptr, Tensor indices, Tensor? eids, str op, Tensor lhs, Tensor rhs, "
        "str lhs_target, str rhs_target, int num_src) -> Tensor");
  m.def("gspmm_mul_sum_backward(Tensor rev_indptr, Tensor rev_indices, Tensor? rev_eids, Tensor grad, "
        "Tensor lhs, Tensor rhs) -> (Tensor, Tensor)");
  m.def("gspmm(Tensor indptr, Tensor indices, Tensor? eids, Tensor rev_indptr, Tensor rev_indices, "
        "Tensor? rev_eids, str op, str reduce, Tensor? lhs, Tensor? rhs) -> Tensor");
  m.def("gsddmm(Tensor indptr, Tensor indices, Tensor? eids, Tensor rev_indptr, Tensor rev_indices, "
        "Tensor? rev_eids, str op, Tensor lhs, Tensor rhs, str lhs_target, str rhs_target) -> Tensor");
  m.def("common_neighbors(Tensor indptr, Tensor indices, Tensor pairs) -> (Tensor, Tensor)");
  m.def("gspmm_graph(__torch__.torch.classes.ripple.Graph graph, str op, str reduce, Tensor? lhs, Tensor? rhs) "
        "-> Tensor");
  m.def("gsddmm_graph(__torch__.torch.classes.ripple.Graph graph, str op, Tensor lhs, Tensor rhs, str lhs_target, "
        "str rhs_target) -> Tensor");
  m.def("common_neighbors_graph(__torch__.torch.classes.ripple.Graph graph, Tensor pairs) -> (Tensor, Tensor)");
  m.def("gspmm_sum_to_sources_graph(__torch__.torch.classes.ripple.Graph graph, Tensor grad) -> Tensor");
}

TORCH_LIBRARY_IMPL(ripple, CPU, m) {
  m.impl("gspmm_forward", gspmm_forward_cpu);
  m.impl("gsddmm_forward", gsddmm_forward_cpu);
  m.impl("gspmm_mul_sum_backward", cpu::gspmm_mul_sum_backward);
  m.impl("gspmm", gspmm_cpu);
  m.impl("gsddmm", gsddmm_cpu);
  m.impl("common_neighbors", cpu::common_neighbors);
  m.impl("gspmm_graph", gspmm_graph_cpu);
  m.impl("gsddmm_graph", gsddmm_graph_cpu);
  m.impl("common_neighbors_graph", common_neighbors_graph_cpu);
  m.impl("gspmm_sum_to_sources_graph", gspmm_sum_to_sources_graph_cpu);
}

TORCH_LIBRARY_IMPL(ripple, Autograd, m) {
  m.impl("gspmm", gspmm_autograd);
  m.impl("gsddmm", gsddmm_autograd);
  m.impl("gspmm_graph", gspmm_graph_autograd);
  m.impl("gsddmm_graph", gsddmm_graph_autograd);
}

}  // namespace ripple::ops
