// Neighbour sampling for mini-batch training: from a batch of seed nodes, per-hop fanouts
// give one bipartite block per GNN layer, in the CSC layout the kernels read.
//
// Hop k (k = 0 for the seeds) keeps, for every node of its frontier, fanouts[k] incoming
// neighbours (all of them for -1): uniformly, or in proportion to `edge_weights`; without
// replacement (a node with fewer neighbours keeps them all) or with replacement (exactly
// fanouts[k] draws, none when the node has no neighbour). This is PyG's convention for
// `num_neighbors`: [15, 10, 5] samples 15 neighbours per seed. Randomness is a pure
// function of (seed, epoch, hop, node), so a batch does not depend on the number of
// threads, on the other seeds in the batch, or on what was sampled before.
//
// Bad arguments (a fanout of 0 or below -1, seeds out of range, weights of the wrong
// shape or negative) throw InputError.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "ripple/graph.h"
#include "ripple/interactions.h"

namespace ripple {

struct SamplerOptions {
  std::vector<int64_t> fanouts;  // per hop from the seeds; -1 keeps every neighbour
  bool replace = false;
  uint64_t seed = 0;
  bool parallel = true;  // false in loader workers, which run side by side instead
};

// One GNN layer's input: a bipartite graph from num_src source rows to num_dst
// destination rows. The destinations are the first num_dst sources, in order, so a layer's
// root term reads x[0 : num_dst].
struct Block {
  Graph graph;           // bipartite CSC, int64 indices into src_nodes
  at::Tensor src_nodes;  // int64 [num_src], global node ids
  at::Tensor edge_ids;   // int64 [num_edges], CSC position of each block edge in the full graph
  int64_t num_src() const { return graph.num_src(); }
  int64_t num_dst() const { return graph.num_dst(); }
};

struct SampledBatch {
  at::Tensor seeds;           // int64, the output rows of the last block
  std::vector<Block> blocks;  // input layer first: blocks[0].src_nodes are the nodes whose features are read
  const at::Tensor& input_nodes() const { return blocks.front().src_nodes; }
};

// Samples the blocks of `seeds` (int64 node ids, duplicates not allowed) on `graph` for
// `epoch`. `edge_weights` (float32 [num_edges] in CSC order, non-negative) switches to
// weighted sampling; zero-weight edges are never drawn.
SampledBatch sample_neighbors(const Graph& graph, const at::Tensor& seeds, const SamplerOptions& options,
                              int64_t epoch, const at::Tensor& edge_weights = {});

// Negative pairs for link prediction, `per_positive` for each column of `positives`
// (int64 [2, B]), column i * per_positive + j belonging to positive i: uniform (both
// endpoints uniform over [0, num_nodes)) or, with `per_source`, the positive's source and a
// uniform destination. With `avoid` (a graph on the same nodes whose rows are strictly
// ascending, as Graph::from_edges builds them), a draw that is a self loop or an edge of
// `avoid` (v among the sources of row u, or u among those of row v) is drawn again, as PyG's
// negative_sampling does (OGB's ddi example); after kMaxNegativeRedraws draws the last one
// stands, so a nearly complete graph cannot stall the loop. Without `avoid` every draw
// stands (OGB's collab example). Draw i is a pure function of (key, i), so the result does
// not depend on the thread count. int64 [2, B * per_positive]. Throws InputError for a
// malformed `positives` or an `avoid` of another node count.
constexpr int kMaxNegativeRedraws = 64;
at::Tensor sample_negative_pairs(int64_t num_nodes, const at::Tensor& positives, int64_t per_positive, bool per_source,
                                 uint64_t key, const Graph* avoid = nullptr);

// BPR negatives: for each entry of `users` (int64 [B]), an item drawn uniformly from the
// items of [0, num_items) the user has not interacted with (`user_items`, rows ascending).
// Draw i is a pure function of (key, i), so the result does not depend on the thread
// count. int64 [B]. Throws InputError for a user outside user_items or one that has every
// item.
at::Tensor sample_negative_items(const UserItems& user_items, int64_t num_items, const at::Tensor& users,
                                 uint64_t key);

}  // namespace ripple
