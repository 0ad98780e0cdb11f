// GraphCache: the variants of one input graph that layers ask for (with or without self
// loops, GCN edge weights), each built on first use and then reused for every layer and
// epoch. Not thread-safe: one cache per training run.
#pragma once

#include <ATen/core/Tensor.h>

#include <optional>

#include "ripple/graph.h"

namespace ripple::nn {

class GraphCache {
 public:
  explicit GraphCache(Graph base) : base_(std::move(base)) {}

  const Graph& base() const { return base_; }
  const Graph& with_self_loops();
  const Graph& without_self_loops();
  // Symmetric-normalised weights of with_self_loops(), float32 [E, 1] (D^-1/2 (A+I) D^-1/2).
  const at::Tensor& gcn_weights();

 private:
  Graph base_;
  std::optional<Graph> loops_, no_loops_;
  at::Tensor gcn_weights_;
};

}  // namespace ripple::nn
