#include <torch/nn/init.h>

#include "ripple/nn/layers.h"

namespace ripple::nn {

GCNConvImpl::GCNConvImpl(int64_t in, int64_t out) {
  lin = register_module("lin", Linear(in, out, /*bias=*/false, /*glorot=*/true));
  bias = register_parameter("bias", torch::zeros({out}));
}

at::Tensor GCNConvImpl::forward(GraphCache& g, const Features& x, ForwardContext&) {
  const Graph& graph = g.with_self_loops();
  const at::Tensor w = g.gcn_weights().to(lin->weight.scalar_type());
  const int64_t in = lin->weight.size(1), out = lin->weight.size(0);
  if (transform_first(graph, x.is_sparse(), in, out)) {
    return propagate(graph, "sum", lin->forward(x), {}, w) + bias;
  }
  return lin->forward(propagate(graph, "sum", x.dense(), {}, w)) + bias;
}

}  // namespace ripple::nn
