// Neighbour sampling on one part of a partitioned graph (dist.data = "partitioned"; internal).
//
// A rank holds one part of a `ripple partition` folder: its own nodes, their halo, the
// in-edges of every node but those of the outermost halo ring, and each local node's id in
// the whole graph and its owner. PartGraph orders each row by its sources' whole-graph ids,
// and sample_on_part keys every node's random stream by its whole-graph id (the streams of
// include/ripple/sample.h), so a node whose row the part holds whole is sampled exactly as
// sample_neighbors samples it on the whole graph (whose rows are ascending, as every
// dataset Ripple loads or converts has them).
//
// A row the part does not hold whole (the outermost halo ring, a node beyond the halo) is:
// - with no RemoteRows (dist.remote = "halo-only", LLCG's learn-locally setting): sampled
//   from what the part holds (the outermost ring: nothing);
// - with RemoteRows (dist.remote = "fetch"): sampled by the node's owner, which answers
//   with the same draw, and the input features of nodes beyond the halo come from their
//   owners too. The batch is then the whole-graph sampler's batch, node for node (the
//   blocks' src_nodes are whole-graph ids).
//
// RemoteRows is a collective: every part of the group calls it once per hop and once for
// the features in each sample_on_part, so every rank calls sample_on_part equally often (a
// rank whose batches ran out passes no seeds and still answers the others). Requests
// answered here name nodes this part owns; anything else (ranks opened different partition
// folders) throws InputError naming both ranks and the node.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ripple/graph.h"
#include "ripple/sample.h"

namespace ripple {

class PartGraph {
 public:
  // `graph`: part `part` of `parts`, its CSC over local ids, own nodes first ([0, owned));
  // `global_id` int64 and `owner` int32, one per local node; `num_global`: nodes of the
  // whole graph. Throws
  // InputError naming `where` for arrays of the wrong length or ids out of range.
  PartGraph(const Graph& graph, const at::Tensor& global_id, const at::Tensor& owner, int part, int parts,
            int64_t num_global, const std::string& where);

  int part() const { return part_; }
  int parts() const { return parts_; }
  int64_t num_local() const { return global_id_.numel(); }
  int64_t owned() const { return owned_; }
  int64_t num_global() const { return num_global_; }
  const at::Tensor& global_id() const { return global_id_; }  // int64 [local]
  const at::Tensor& owner() const { return owner_; }          // int32 [local]
  // The part's graph with each row ascending in its sources' whole-graph ids.
  const Graph& graph() const { return graph_; }
  // The local id of whole-graph node `global`, -1 when the part does not hold it.
  int64_t local_of(int64_t global) const;

  // Whole-graph degrees. own_degrees() is float32 [2, num_global]: the in-degree (row 0) and
  // the GCN degree (in-degree, plus one without a self loop; row 1) of this part's own nodes
  // at their whole-graph ids, zero elsewhere, so the sum over the parts is the whole
  // graph's, which set_whole_degrees takes (it also marks which local rows are whole).
  at::Tensor own_degrees() const;
  // The same for every node the part holds, from the rows as held (halo only: the degrees
  // as the part sees them; the outermost ring's rows are empty).
  at::Tensor held_degrees() const;
  void set_whole_degrees(const at::Tensor& summed);
  bool full_row(int64_t local) const { return full_row_[static_cast<size_t>(local)] != 0; }
  const at::Tensor& gcn_degree() const { return gcn_degree_; }  // float32 [num_global], after set_whole_degrees

  // The halo nodes that own nodes read (sources of own rows beyond [0, owned)), by owner:
  // what a layer-wise evaluation fetches after each layer.
  const std::vector<std::vector<int64_t>>& halo_sources() const { return halo_sources_; }

 private:
  int part_ = 0, parts_ = 1;
  int64_t owned_ = 0, num_global_ = 0;
  at::Tensor global_id_, owner_, gcn_degree_;
  Graph graph_;
  std::vector<std::pair<int64_t, int64_t>> by_global_;  // (global id, local id), ascending
  std::vector<uint8_t> full_row_;
  std::vector<std::vector<int64_t>> halo_sources_;
  at::Tensor degrees_of_first(int64_t count) const;  // own_degrees over local nodes [0, count)
};

// How a part reaches the other parts' rows (see the top of this file). Both calls are one
// exchange of the group: requests[r] goes to part r (this part's own entry stays empty),
// and the answer of each part comes back in part order.
class RemoteRows {
 public:
  virtual ~RemoteRows() = default;
  // Requests made by request_sampled_rows; answers made by answer_sampled_rows.
  virtual std::vector<at::Tensor> sampled_rows(const std::vector<at::Tensor>& requests) = 0;
  // Requests: int64 whole-graph ids; answers: float32 [n, features] rows of the owners' inputs.
  virtual std::vector<at::Tensor> feature_rows(const std::vector<at::Tensor>& requests) = 0;
};

// A request for the sampled rows of `nodes` (whole-graph ids): int64 [seed, epoch, hop, nodes...].
at::Tensor request_sampled_rows(uint64_t seed, int64_t epoch, int64_t hop, const std::vector<int64_t>& nodes);
// What `part` answers to `request` from part `from`: int64 [counts..., neighbour ids...,
// neighbour owners...], each node's row drawn with `options.fanouts[hop]` and
// `options.replace`. An empty request gets an empty answer.
at::Tensor answer_sampled_rows(const PartGraph& part, const SamplerOptions& options, const at::Tensor& request, int from);
// The local ids of the own nodes named (by whole-graph id) in `request` from part `from`.
at::Tensor own_local_ids(const PartGraph& part, const at::Tensor& request, int from);
// Rows of `table` (one per local node, or per own node) for a request of own whole-graph ids, as float32.
at::Tensor answer_table_rows(const PartGraph& part, const at::Tensor& table, const at::Tensor& request, int from);

struct PartBatch {
  SampledBatch sample;  // seeds and blocks' src_nodes are whole-graph ids
  at::Tensor features;  // float32 [input nodes, F], the rows of sample.input_nodes()
};

// Samples the blocks of `seeds` (local ids of own nodes) and gathers their input features
// (`features`: the part's, one row per local node). `remote`: null for halo only. Bad seeds
// (not own nodes, repeated) throw InputError.
PartBatch sample_on_part(const PartGraph& part, const at::Tensor& features, const at::Tensor& seeds,
                         const SamplerOptions& options, int64_t epoch, RemoteRows* remote);

}  // namespace ripple
