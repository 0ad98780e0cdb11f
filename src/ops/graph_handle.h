// The graph as one object across the dispatcher (internal): a TorchScript custom class,
// `torch.classes.ripple.Graph(indptr, indices, num_src)` from Python, holding a ripple::Graph.
//
// The graph ops that take it (ripple::gspmm_graph, ripple::gsddmm_graph) receive the whole
// graph once instead of six loose tensors, and their autograd kernel asks the graph for its
// reverse (CSR) view only in backward. Graph caches that view, so it is built at most once
// per graph and never when no gradient flows: inference, layer-wise evaluation, frozen
// inputs. Construction from Python copies and validates the arrays (Graph::from_csc) and
// throws InputError, which Python sees as RuntimeError naming what was wrong. The ops then
// check the graph's values no more (cpu::TrustedGraphArrays): the copies cannot be changed
// from Python afterwards.
#pragma once

#include <torch/custom_class.h>

#include "ripple/graph.h"

namespace ripple::ops {

class GraphHandle : public torch::CustomClassHolder {
 public:
  explicit GraphHandle(Graph graph) : graph_(std::move(graph)) {}
  // From raw CSC arrays (Python): sources need not be sorted within a row.
  GraphHandle(const at::Tensor& indptr, const at::Tensor& indices, int64_t num_src)
      : graph_(Graph::from_csc(num_src, indptr.clone(), indices.clone(), GraphFlags{false, false, false, false})) {}
  const Graph& graph() const { return graph_; }

 private:
  Graph graph_;
};

using GraphRef = c10::intrusive_ptr<GraphHandle>;

}  // namespace ripple::ops
