// Locality reordering: new node ids chosen so that nodes which share neighbours sit close
// together, which turns the random row gathers of aggregation into cache hits.
//
//   "degree": by in-degree, highest first (hubs share a few pages and stay cached);
//   "rcm":    reverse Cuthill-McKee on the undirected graph (breadth-first from a low-degree
//             node of each component, neighbours by increasing degree, reversed), which
//             keeps each node's neighbours within a narrow band of ids;
//   "random": a seeded random permutation (the worst case, for benchmarks);
//   "none":   the identity.
// Permutations are int64 [num_nodes] tensors mapping old id -> new id. Unknown methods and
// bipartite graphs throw InputError.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "ripple/dataset.h"
#include "ripple/graph.h"

namespace ripple {

at::Tensor reorder_permutation(const Graph& graph, const std::string& method, uint64_t seed = 1);

// The same graph with node v renamed new_id[v]; keeps flags and the index type.
Graph relabel_nodes(const Graph& graph, const at::Tensor& new_id);

// Graph, features, labels, edge features and splits renamed consistently (split lists are
// sorted by new id). Training on the result gives the same model up to the permutation.
NodeDataset permute_dataset(const NodeDataset& data, const at::Tensor& new_id);

}  // namespace ripple
