// GraphCache: the variants of one input graph that layers ask for (with or without self
// loops, GCN edge weights), each built on first use and then reused for every layer and
// epoch. Not thread-safe: one cache per training run.
//
// A cache may also hold one sampled bipartite block (for_block): its destinations are its
// first num_dst sources, self loops join each destination to itself, and GCN weights use
// the full graph's degrees, rescaled by how many of a destination's neighbours were kept,
// so that a block keeping every neighbour reproduces the full-graph GCN exactly and a
// sampled one is an unbiased estimate of it.
#pragma once

#include <ATen/core/Tensor.h>

#include <optional>

#include "ripple/graph.h"

namespace ripple::nn {

class GraphCache {
 public:
  explicit GraphCache(Graph base) : base_(std::move(base)) {}
  // `full_degree`: float32 [num_src], each source node's in-degree in the full graph with
  // self loops (see full_gcn_degree()).
  static GraphCache for_block(Graph block, at::Tensor full_degree);
  // In-degrees of `graph` with self loops as GCN counts them, float32 [num_nodes].
  static at::Tensor full_gcn_degree(const Graph& graph);

  const Graph& base() const { return base_; }
  const Graph& with_self_loops();
  const Graph& without_self_loops();
  // Symmetric-normalised weights of with_self_loops(), float32 [E, 1] (D^-1/2 (A+I) D^-1/2).
  const at::Tensor& gcn_weights();

 private:
  Graph base_;
  std::optional<Graph> loops_, no_loops_;
  at::Tensor gcn_weights_;
  at::Tensor block_full_degree_;  // defined for blocks only
};

}  // namespace ripple::nn
