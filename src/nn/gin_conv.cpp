#include <ATen/ATen.h>

#include "ripple/nn/layers.h"

namespace ripple::nn {

GINConvImpl::GINConvImpl(int64_t in, int64_t out, int64_t hidden, bool train_eps) {
  lin1 = register_module("lin1", Linear(in, hidden, true, false));
  norm = register_module("norm", torch::nn::BatchNorm1d(hidden));
  lin2 = register_module("lin2", Linear(hidden, out, true, false));
  if (train_eps) {
    eps = register_parameter("eps", torch::zeros({1}));
  } else {
    eps = register_buffer("eps", torch::zeros({1}));
  }
}

at::Tensor GINConvImpl::forward(GraphCache& g, const Features& x, ForwardContext&) {
  // lin1 is linear, so lin1((1+eps) x + sum x_u) = (1+eps) lin1(x) + sum lin1(x)_u (bias once):
  // aggregate the hidden-width rows rather than the (possibly wide, sparse) inputs.
  const at::Tensor h = x.linear(lin1->weight, {});
  at::Tensor combined;
  if (eps.requires_grad()) {
    const Graph& graph = g.without_self_loops();
    combined = (1 + eps) * h.narrow(0, 0, graph.num_dst()) + propagate(graph, "sum", h) + lin1->bias;
  } else {  // eps stays 0 (GIN-0): x_v + sum_u x_u is one sum over the graph with one self loop each
    combined = propagate(g.with_self_loops(), "sum", h) + lin1->bias;
  }
  return lin2->forward(at::relu(norm->forward(combined)));
}

at::Tensor APPNPPropagationImpl::forward(GraphCache& g, const at::Tensor& h0) {
  const Graph& graph = g.with_self_loops();
  const at::Tensor w = g.gcn_weights().to(h0.scalar_type());
  at::Tensor h = h0;
  for (int64_t i = 0; i < k; ++i) h = (1 - alpha) * propagate(graph, "sum", h, {}, w) + alpha * h0;
  return h;
}

}  // namespace ripple::nn
