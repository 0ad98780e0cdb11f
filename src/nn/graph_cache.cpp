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

const at::Tensor& GraphCache::gcn_weights() {
  if (!gcn_weights_.defined()) gcn_weights_ = with_self_loops().gcn_norm().view({-1, 1}).contiguous();
  return gcn_weights_;
}

}  // namespace ripple::nn
