// Block-diagonal batches of whole graphs. See include/ripple/graph_batch.h.
#include "ripple/graph_batch.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "ripple/error.h"

namespace ripple {
namespace {

// For ranges [start[b], start[b] + count[b]), b = 0..B-1, laid end to end: every element's
// source position, i.e. arange(total) + (start - new_start) repeated per range.
at::Tensor concatenated_ranges(const at::Tensor& start, const at::Tensor& count, const at::Tensor& new_start,
                               int64_t total) {
  return at::arange(total, at::kLong) + at::repeat_interleave(start - new_start, count, /*dim=*/0, /*output_size=*/total);
}

at::Tensor exclusive_prefix(const at::Tensor& count) {
  return at::cat({at::zeros({1}, at::kLong), at::cumsum(count, 0)});
}

}  // namespace

Graph segment_graph(const at::Tensor& node_ptr) {
  const int64_t nodes = node_ptr[-1].item<int64_t>();
  GraphFlags flags;
  flags.sorted = true;
  flags.deduplicated = true;
  return Graph::from_csc(nodes, node_ptr.contiguous(), at::arange(nodes, at::kLong), flags);
}

GraphBatch make_graph_batch(const GraphDataset& data, const at::Tensor& graph_ids) {
  const int64_t n = data.num_graphs();
  if (graph_ids.dim() != 1 || graph_ids.scalar_type() != at::kLong || graph_ids.numel() == 0) {
    throw InputError("make_graph_batch: graph ids must be a non-empty 1-D int64 tensor");
  }
  const at::Tensor ids = graph_ids.contiguous();
  if (ids.min().item<int64_t>() < 0 || ids.max().item<int64_t>() >= n) {
    throw InputError(fmt::format("make_graph_batch: graph ids must lie in [0, {})", n));
  }
  if (std::get<0>(at::_unique(ids)).numel() != ids.numel()) {
    throw InputError("make_graph_batch: a graph id appears twice in one batch");
  }
  const at::Tensor indptr = data.graph.csc_indptr().to(at::kLong);  // nodes + 1 entries, not edges
  const at::Tensor node_start = data.node_ptr.index_select(0, ids);
  const at::Tensor node_count = data.node_ptr.index_select(0, ids + 1) - node_start;

  GraphBatch b;
  b.node_ptr = exclusive_prefix(node_count);
  const int64_t total_nodes = b.node_ptr[-1].item<int64_t>();
  const at::Tensor batch_start = b.node_ptr.slice(0, 0, -1);
  const at::Tensor nodes = concatenated_ranges(node_start, node_count, batch_start, total_nodes);

  const at::Tensor edge_start = indptr.index_select(0, node_start);
  const at::Tensor edge_count = indptr.index_select(0, node_start + node_count) - edge_start;
  const at::Tensor edge_ptr = exclusive_prefix(edge_count);
  const int64_t total_edges = edge_ptr[-1].item<int64_t>();
  const at::Tensor edges = concatenated_ranges(edge_start, edge_count, edge_ptr.slice(0, 0, -1), total_edges);
  // Sources move by the same offset as their graph's nodes; order within a row is kept.
  const at::Tensor shift = at::repeat_interleave(node_start - batch_start, edge_count, 0, total_edges);
  const at::Tensor indices = data.graph.csc_indices().to(at::kLong).index_select(0, edges) - shift;
  const at::Tensor degree = indptr.index_select(0, nodes + 1) - indptr.index_select(0, nodes);

  // A union of whole graphs keeps every flag of the dataset (sorted, self loops, symmetric).
  b.graph = Graph::from_csc(total_nodes, exclusive_prefix(degree), indices, data.graph.flags());
  b.pool = segment_graph(b.node_ptr);
  b.graph_of_node = at::repeat_interleave(at::arange(ids.numel(), at::kLong), node_count, 0, total_nodes);
  b.x = data.features.index_select(0, nodes);
  b.labels = data.labels.index_select(0, ids);
  return b;
}

}  // namespace ripple
