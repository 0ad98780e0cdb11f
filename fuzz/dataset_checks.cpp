#include "dataset_checks.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "ripple/graph_batch.h"

namespace ripple::fuzz {
namespace {

struct Checker {
  const char* reader;

  void require(bool ok, const char* what) const {
    if (!ok) {
      std::fprintf(stderr, "%s accepted a dataset that breaks: %s\n", reader, what);
      std::abort();
    }
  }

  void ids_below(const at::Tensor& ids, int64_t bound, const char* what) const {
    if (!ids.defined()) return;
    const at::Tensor v = ids.to(at::kLong).contiguous();
    const int64_t* p = v.data_ptr<int64_t>();
    for (int64_t i = 0; i < v.numel(); ++i) require(p[i] >= 0 && p[i] < bound, what);
  }
};

}  // namespace

void require_dataset_invariants(const NodeDataset& d, const char* reader) {
  const Checker check{reader};
  const int64_t n = d.graph.num_nodes();
  const at::Tensor indptr = d.graph.csc_indptr().to(at::kLong).contiguous();
  const at::Tensor indices = d.graph.csc_indices();
  check.require(indptr.dim() == 1 && indptr.numel() == n + 1, "indptr length");
  const int64_t* p = indptr.data_ptr<int64_t>();
  check.require(p[0] == 0, "indptr starts at 0");
  for (int64_t v = 0; v < n; ++v) check.require(p[v] <= p[v + 1], "indptr never decreases");
  check.require(p[n] == indices.numel(), "indptr ends at the edge count");
  check.ids_below(indices, d.graph.num_src(), "csc index in range");
  check.require(d.labels.numel() == n, "one label per node");
  check.ids_below(d.labels, d.num_classes, "label below num_classes");
  check.require(d.features.dim() == 2 && d.features.size(0) == n, "one feature row per node");
  (void)d.features.to(at::kFloat).sum().item<float>();  // touches every feature byte
  check.ids_below(d.train_idx, n, "train id in range");
  check.ids_below(d.valid_idx, n, "valid id in range");
  check.ids_below(d.test_idx, n, "test id in range");
}

void require_graph_dataset_invariants(const GraphDataset& d, const char* reader) {
  const Checker c{reader};
  const int64_t graphs = d.num_graphs(), nodes = d.num_nodes();
  c.require(graphs >= 1 && d.node_ptr.numel() == graphs + 1, "one node range per graph");
  const at::Tensor node_ptr = d.node_ptr.contiguous();
  const int64_t* ptr = node_ptr.data_ptr<int64_t>();
  c.require(ptr[0] == 0 && ptr[graphs] == nodes, "node ranges cover the nodes");
  for (int64_t g = 0; g < graphs; ++g) c.require(ptr[g + 1] > ptr[g], "every graph has a node");
  c.ids_below(d.labels, d.num_classes, "labels are class ids");
  c.require(static_cast<int64_t>(d.label_values.size()) == d.num_classes, "one label value per class");
  c.require(d.features.dim() == 2 && d.features.size(0) == nodes && d.features.scalar_type() == at::kFloat,
            "one float feature row per node");
  volatile float sink = d.features.sum().item<float>();  // touch every feature byte
  (void)sink;
  const GraphBatch all = make_graph_batch(d, at::arange(graphs, at::kLong));
  c.require(all.graph.num_edges() == d.graph.num_edges(), "edges stay inside their graph");
  c.require(!d.edge_labels.defined() || d.edge_labels.numel() == d.graph.num_edges(), "one edge label per edge");
}

}  // namespace ripple::fuzz
