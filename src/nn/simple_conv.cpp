// SimpleConv: aggregation without weights. See ripple/nn/layers.h.
#include "ripple/error.h"
#include "ripple/nn/layers.h"

namespace ripple::nn {

SimpleConvImpl::SimpleConvImpl(std::string aggr_name, std::string root)
    : aggr(std::move(aggr_name)), combine_root(std::move(root)) {
  if (aggr != "mean" && aggr != "sum" && aggr != "max") {
    throw SettingError("model.aggr", "expected mean, sum or max, got '" + aggr + "'");
  }
  if (combine_root != "none" && combine_root != "sum") {
    throw SettingError("model.combine_root", "expected none or sum, got '" + combine_root + "'");
  }
}

at::Tensor SimpleConvImpl::forward(GraphCache& g, const Features& x, ForwardContext&) {
  const Graph& graph = g.base();
  const at::Tensor dense = x.dense();
  const at::Tensor aggregated = propagate(graph, aggr, dense);
  if (combine_root == "none") return aggregated;
  return aggregated + dense.narrow(0, 0, graph.num_dst());  // a block's destinations lead its sources
}

}  // namespace ripple::nn
