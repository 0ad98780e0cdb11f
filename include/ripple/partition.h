// Graph partitions for distributed training (docs/distributed.md): which part owns each
// node, and one native dataset per part holding its nodes, their halo and the edges into
// them, written by `ripple partition`.
//
// assign_parts: "metis" (METIS 5 k-way on the symmetrized graph without self loops;
// minimizes the edge cut, needs the symmetrized adjacency in memory), "ldg" (linear
// deterministic greedy, Stanton & Kliot 2012: one pass over the nodes in id order, each to
// the part holding most of its already-placed neighbours, weighted by the room left in that
// part; memory: the assignment and the part sizes) or "random" (a seeded hash). Throws
// InputError for a part count below 1 or above the node count, or an unknown method.
//
// write_partitions: part p holds its owned nodes (local ids 0..owned-1, ascending global
// id), then the halo: the nodes within `halo` hops upstream (sources of in-edges), ring by
// ring. Every in-edge of a node closer than `halo` hops is kept, so an L-layer model sees
// the whole receptive field of an owned node when halo >= L (and GCN's degrees of the
// outermost nodes too when halo >= L + 1). Only owned nodes carry the split. Extra arrays:
// partition/global_id (int64) and partition/owner (int32, the part owning each local node).
// The output folder holds part-<p>/ (native datasets), assignment.npy (int32 [nodes]) and
// partition.json (the book: counts, method, halo, edge cut, balance, per part sizes), and
// is built beside its name and renamed into place. An existing output folder is an
// InputError. Each part is streamed to disk a node at a time: memory is a few arrays of one
// entry per node (about 45 bytes a node), whatever the edges and features weigh, beside the
// mapped dataset's pages (which the kernel can evict).
//
// partition_memory_need: what assign_parts plus write_partitions hold beyond the mapped
// dataset, estimated from the counts (METIS: about 100 bytes per symmetrized edge, measured
// on csbm graphs of 4M and 20M edges; see docs/distributed.md). check_partition_budget
// throws InputError when that need, plus the memory a dataset that is not memory-mapped (the
// OGB layout) holds, exceeds PartitionOptions::memory_budget, naming the need and the methods
// that fit.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ripple/dataset.h"

namespace ripple {

struct PartitionOptions {
  int64_t parts = 2;
  std::string method = "metis";  // metis, ldg or random
  int64_t halo = 1;              // hops of upstream neighbours stored with each part
  uint64_t seed = 0;             // random and METIS
  int64_t memory_budget = 0;     // bytes the partitioner may hold (0: unchecked)
};

struct PartitionStats {
  int64_t owned = 0, halo_nodes = 0, edges = 0;
};

struct PartitionReport {
  PartitionOptions options;
  int64_t num_nodes = 0, num_edges = 0;
  int64_t edge_cut = 0;   // stored edges whose endpoints lie in different parts
  double balance = 0;     // largest part / mean part size (1 is perfect)
  double assign_seconds = 0, write_seconds = 0;
  int64_t peak_rss_bytes = 0;  // of this process, at the end
  std::vector<PartitionStats> parts;
};

// The owning part of each node, int32 [num_nodes].
at::Tensor assign_parts(const Graph& graph, const PartitionOptions& options);

int64_t partition_memory_need(const Graph& graph, const std::string& method);
// `resident_bytes`: what the loaded dataset itself holds in memory (0 when mapped).
void check_partition_budget(const Graph& graph, const PartitionOptions& options, int64_t resident_bytes = 0);

// Stored edges whose source and destination parts differ.
int64_t edge_cut(const Graph& graph, const at::Tensor& assignment);

PartitionReport write_partitions(const NodeDataset& data, const at::Tensor& assignment, const PartitionOptions& options,
                                 const std::string& out_dir);

}  // namespace ripple
