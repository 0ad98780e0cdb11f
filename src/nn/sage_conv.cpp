#include "ripple/error.h"
#include "ripple/nn/layers.h"

namespace ripple::nn {

SAGEConvImpl::SAGEConvImpl(int64_t in, int64_t out, std::string aggr_name) : aggr(std::move(aggr_name)) {
  if (aggr != "mean" && aggr != "sum" && aggr != "max") {
    throw SettingError("model.aggr", "expected mean, sum or max, got '" + aggr + "'");
  }
  lin_l = register_module("lin_l", Linear(in, out, /*bias=*/true, /*glorot=*/false));
  lin_r = register_module("lin_r", Linear(in, out, /*bias=*/false, /*glorot=*/false));
}

at::Tensor SAGEConvImpl::forward(GraphCache& g, const Features& x, ForwardContext&) {
  const Graph& graph = g.base();
  at::Tensor neighbours;
  const int64_t in = lin_l->weight.size(1), out = lin_l->weight.size(0);
  if (aggr != "max" && transform_first(graph, x.is_sparse(), in, out)) {
    // W (sum/mean of x_u) = sum/mean of (W x_u): transform first when that is cheaper.
    neighbours = propagate(graph, aggr, x.linear(lin_l->weight, {})) + lin_l->bias;
  } else {
    neighbours = lin_l->forward(propagate(graph, aggr, x.dense()));
  }
  return neighbours + lin_r->forward(x.head(graph.num_dst()));  // a block's destinations lead its sources
}

}  // namespace ripple::nn
