// Link prediction data: the nodes, the training edges (which are also the graph the encoder
// passes messages on), and the positive and negative node pairs validation and test score.
//
// Two sources:
//   load_ogb_link_dataset: the OGB link-property raw layout (ogbl-ddi and the like):
//     DIR/raw/edge.csv[.gz]              training edges "u,v", each undirected edge once
//     DIR/raw/num-node-list.csv[.gz]     the node count
//     DIR/raw/node-feat.csv[.gz]         node features (optional)
//     DIR/split/NAME/{valid,test}_edge.csv[.gz]      positive pairs "u,v"
//     DIR/split/NAME/{valid,test}_edge_neg.csv[.gz]  negative pairs "u,v"
//   split_links_randomly: any node dataset's graph, its undirected edges shuffled by a seed
//     and cut into train/valid/test, with as many sampled non-edges as positives for valid
//     and test.
// In both, validation and test pairs never appear among the training edges (in either
// direction), so the encoder never sees them.
//
// Errors (InputError, naming file and line): a pair with the wrong number of columns, a
// node id outside [0, num_nodes), a validation or test positive that is also a training
// edge, a pair both in validation and test, an empty positive or negative set.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "ripple/dataset.h"
#include "ripple/graph.h"

namespace ripple {

struct LinkDataset {
  std::string path, split_name;
  int64_t num_nodes = 0;
  at::Tensor features;     // float32 [num_nodes, F], or undefined when the dataset has none
  at::Tensor train_edges;  // int64 [2, E], every undirected training edge once
  at::Tensor valid_pos, valid_neg, test_pos, test_neg;  // int64 [2, *]

  // The training edges in both directions, de-duplicated (the encoder's graph).
  Graph message_graph() const;
  // message_graph() without the training edges at positions `removed` (int64 indices into
  // train_edges' columns), in either direction: a batch's graph under link.mask_targets.
  // `full`, when given, must be message_graph(). Where every training edge is its own
  // undirected pair (none repeats, in either direction), the removed edges' entries are then
  // cut out of it: one copy of its arrays instead of a sort of every edge, with the same CSC
  // arrays and flags as the rebuild (its input_edge_ids are the identity, as for any graph
  // given in CSC form). Otherwise, or without `full`, the graph is rebuilt from the kept edges.
  // Throws std::out_of_range for a position outside train_edges.
  Graph message_graph_without(const at::Tensor& removed, const Graph* full = nullptr) const;
};

LinkDataset load_ogb_link_dataset(const std::string& dir, const std::string& split);

// Holds out floor(fraction * E) of the E undirected non-loop edges of `data.graph` for
// validation and for test, chosen by `seed`; negatives are distinct non-adjacent pairs
// (u != v) of the whole graph, as many as each split's positives. Features are the
// dataset's, as float32.
LinkDataset split_links_randomly(const NodeDataset& data, double valid_fraction, double test_fraction, uint64_t seed);

}  // namespace ripple
