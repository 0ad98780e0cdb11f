#include "ripple/nn/graph_cache.h"

#include <ATen/ATen.h>

namespace ripple::nn {

const Graph& GraphCache::with_self_loops() {
  if (!loops_) loops_ = base_.with_self_loops();
  return *loops_;
}

const Graph& GraphCache::without_self_loops() {
  if (!no_loops_) no_loops_ = base_.flags().has_self_loops ? base_.without_self_loops() : base_;
  return *no_loops_;
}

GraphCache GraphCache::for_block(Graph block, at::Tensor full_degree) {
  TORCH_CHECK(full_degree.dim() == 1 && full_degree.size(0) == block.num_src(),
              "GraphCache::for_block: full_degree must have one entry per block source");
  GraphCache c(std::move(block));
  c.block_full_degree_ = full_degree.to(at::kFloat);
  return c;
}

at::Tensor GraphCache::full_gcn_degree(const Graph& graph) {
  const Graph loops = graph.flags().has_self_loops ? graph.with_self_loops() : Graph();
  const at::Tensor deg = graph.flags().has_self_loops ? loops.in_degrees() : graph.in_degrees() + 1;
  return deg.to(at::kFloat);
}

const at::Tensor& GraphCache::gcn_weights() {
  if (gcn_weights_.defined()) return gcn_weights_;
  const Graph& g = with_self_loops();
  if (!block_full_degree_.defined()) {
    gcn_weights_ = g.gcn_norm().view({-1, 1}).contiguous();
    return gcn_weights_;
  }
  // w_uv = (d_v / k_v) / sqrt(d_u d_v): full-graph degrees d, k_v neighbours kept (self loop included).
  const CooView& c = g.coo();
  const at::Tensor inv_sqrt = block_full_degree_.rsqrt();
  const at::Tensor dst_deg = block_full_degree_.slice(0, 0, g.num_dst());
  const at::Tensor kept = g.in_degrees().to(at::kFloat).clamp_min(1);
  const at::Tensor dst_factor = dst_deg.rsqrt() * dst_deg / kept;
  gcn_weights_ = (inv_sqrt.index_select(0, c.src) * dst_factor.index_select(0, c.dst)).view({-1, 1}).contiguous();
  return gcn_weights_;
}

}  // namespace ripple::nn
