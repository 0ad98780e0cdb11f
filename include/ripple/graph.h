// Graph: the sparse structure every Ripple kernel runs over.
//
// Canonical layout is destination-major CSC: for destination node v, the incoming edges are
// positions csc_indptr[v] .. csc_indptr[v+1] of csc_indices (their source nodes), sorted by
// source. Edge-valued tensors (weights, attention scores) are indexed by that CSC position.
// The source-major CSR view (with the CSC position of every edge) and the COO view are
// built lazily on first use and cached; copies of a Graph share the cache. Building a view
// is thread-safe. Graphs may be bipartite (num_src != num_dst), which is how blocks and
// sparse feature matrices are represented. Index tensors are int64 or int32.
//
// Construction validates ids and throws InputError on out-of-range or negative ids. A
// Graph's arrays are not copied (a mapped 200M-edge graph stays mapped): changing them after
// construction is not allowed, because the operators' graph-handle forms trust a built
// graph's arrays and check them no more (src/ops/cpu/graph_check.h).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>

namespace ripple {

enum class SelfLoops { kKeep, kRemove, kAdd };

// How an edge list becomes a Graph. kAdd removes existing self loops and adds exactly one
// per node, so the result is the same whether or not the input had any.
struct GraphBuildOptions {
  bool dedupe = true;
  bool symmetrize = false;
  SelfLoops self_loops = SelfLoops::kKeep;
  bool int32_indices = false;
};

// Source-major view: for source u, positions indptr[u]..indptr[u+1] list destination
// nodes in `indices` and, in `eids`, the CSC position of each edge.
struct CsrView {
  at::Tensor indptr;
  at::Tensor indices;
  at::Tensor eids;
};

// Edge list in CSC order: src[p], dst[p] for CSC position p.
struct CooView {
  at::Tensor src;
  at::Tensor dst;
};

struct GraphFlags {
  bool sorted = true;        // sources ascending within each destination row
  bool deduplicated = false;  // no repeated (src, dst) pair
  bool has_self_loops = false;
  bool symmetric = false;
};

class Graph {
 public:
  Graph() = default;

  // Builds from parallel int64 tensors of source and destination ids (any order).
  static Graph from_edges(int64_t num_nodes, const at::Tensor& src, const at::Tensor& dst,
                          const GraphBuildOptions& options = {});
  // Bipartite variant: sources in [0, num_src), destinations in [0, num_dst). Self-loop
  // options join destination v to source v and need num_src >= num_dst (a sampled block).
  static Graph from_bipartite_edges(int64_t num_src, int64_t num_dst, const at::Tensor& src,
                                    const at::Tensor& dst, const GraphBuildOptions& options = {});
  // Wraps an existing CSC (validated: monotone indptr, ids in range). Flags are as given.
  static Graph from_csc(int64_t num_src, at::Tensor indptr, at::Tensor indices, GraphFlags flags);

  int64_t num_src() const { return num_src_; }
  int64_t num_dst() const { return num_dst_; }
  int64_t num_nodes() const { return num_dst_; }
  int64_t num_edges() const;
  bool is_bipartite() const { return num_src_ != num_dst_; }
  const GraphFlags& flags() const { return flags_; }
  at::ScalarType index_type() const;

  const at::Tensor& csc_indptr() const { return indptr_; }
  const at::Tensor& csc_indices() const { return indices_; }
  const CsrView& csr() const;
  const CooView& coo() const;
  // Whether csr() has been built (diagnostics and tests; not synchronized with a build
  // running concurrently in another thread).
  bool has_csr_view() const;
  // The first destination row whose sources are not strictly ascending (unsorted, or a
  // repeated source), -1 when every row is. One parallel pass over the indices on the first
  // call, cached with the views (copies share it), so operators that need sorted rows check
  // a graph once, not per call. The flags are not consulted: they are claims.
  int64_t first_row_not_strictly_ascending() const;
  // For graphs built from an edge list: for each CSC position, the row of the input list it
  // came from (the first occurrence when duplicates were merged, -1 for an added self loop).
  // A graph given in CSC form is its own input order: the identity, made on request (not
  // stored: 8 bytes an edge would double a mapped int32 graph's footprint).
  at::Tensor input_edge_ids() const;

  at::Tensor in_degrees() const;   // int64 [num_dst]
  at::Tensor out_degrees() const;  // int64 [num_src]

  // Symmetric GCN normalisation of this graph's edges, deg^-1/2[src] * deg^-1/2[dst] with
  // deg the in-degree (as PyG's gcn_norm); float32 [num_edges] in CSC order. Nodes of degree
  // zero get weight zero. On a bipartite graph only the destination factor applies.
  at::Tensor gcn_norm() const;

  Graph with_self_loops() const;
  Graph without_self_loops() const;
  Graph symmetrized() const;
  Graph with_index_type(bool int32_indices) const;

 private:
  struct Views;
  int64_t num_src_ = 0;
  int64_t num_dst_ = 0;
  at::Tensor indptr_;
  at::Tensor indices_;
  at::Tensor input_edge_ids_;
  GraphFlags flags_;
  std::shared_ptr<Views> views_;
};

}  // namespace ripple
