// Mini-batches of whole graphs for graph-level tasks: the chosen graphs of a GraphDataset
// as one block-diagonal CSC graph, plus the pooling graph that maps each node to its graph.
//
// The batch is built with a handful of vectorized tensor operations over the batch's nodes
// and edges (no loop over graphs): each graph's node range and, since the dataset's CSC is
// destination-major and a graph's nodes are contiguous, its edge range, are gathered and
// renumbered by offset. Readouts are segment reductions over `pool` (a bipartite graph from
// the batch's nodes to its graphs) with the kernel algebra: nn::readout.
//
// Graph ids out of range or repeated throw InputError.
#pragma once

#include <ATen/core/Tensor.h>

#include "ripple/graph.h"
#include "ripple/graph_dataset.h"

namespace ripple {

struct GraphBatch {
  Graph graph;           // block-diagonal, batch node ids; graph b's nodes are node_ptr[b]..node_ptr[b+1]
  Graph pool;            // bipartite: num_src = batch nodes, num_dst = batch graphs
  at::Tensor node_ptr;   // int64 [B + 1]
  at::Tensor graph_of_node;  // int64 [batch nodes], 0..B-1
  at::Tensor x;          // float32 [batch nodes, F]
  at::Tensor labels;     // int64 [B]
  int64_t num_graphs() const { return labels.numel(); }
};

// `graph_ids`: int64 ids into `data`, in the order the batch should hold them.
GraphBatch make_graph_batch(const GraphDataset& data, const at::Tensor& graph_ids);

// The pooling graph of node ranges `node_ptr` (int64 [B + 1], starting at 0): destination b
// reads sources node_ptr[b] .. node_ptr[b+1].
Graph segment_graph(const at::Tensor& node_ptr);

}  // namespace ripple
