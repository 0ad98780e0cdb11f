// libFuzzer target: the TU graph-classification reader (load_tu_dataset) and the graph
// batch built over every graph it loads.
//
// Each input is a directory (see fuzz_files.h) holding NAME_A.txt, NAME_graph_indicator.txt
// and the other TU files. The only acceptable failure is ripple::InputError; a dataset that
// loads must keep its promises: node ranges that start at 0, increase and end at the node
// count, labels below the class count, one feature row per node, and edges that stay inside
// their graph (checked by batching every graph and comparing the edge count). A broken
// promise aborts, so libFuzzer keeps the input.
#include <ATen/ATen.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "fuzz_files.h"
#include "ripple/error.h"
#include "ripple/graph_batch.h"
#include "ripple/graph_dataset.h"

namespace {

void require(bool ok, const char* promise) {
  if (ok) return;
  std::fprintf(stderr, "fuzz_tu_reader: a loaded dataset broke its promise: %s\n", promise);
  std::abort();
}

void check(const ripple::GraphDataset& d) {
  const int64_t graphs = d.num_graphs(), nodes = d.num_nodes();
  require(graphs >= 1 && d.node_ptr.numel() == graphs + 1, "one node range per graph");
  const int64_t* ptr = d.node_ptr.data_ptr<int64_t>();
  require(ptr[0] == 0 && ptr[graphs] == nodes, "node ranges cover the nodes");
  for (int64_t g = 0; g < graphs; ++g) require(ptr[g + 1] > ptr[g], "every graph has a node");
  const int64_t* label = d.labels.data_ptr<int64_t>();
  for (int64_t g = 0; g < graphs; ++g) require(label[g] >= 0 && label[g] < d.num_classes, "labels are class ids");
  require(static_cast<int64_t>(d.label_values.size()) == d.num_classes, "one label value per class");
  require(d.features.dim() == 2 && d.features.size(0) == nodes && d.features.scalar_type() == at::kFloat,
          "one float feature row per node");
  volatile float sink = d.features.sum().item<float>();  // touch every feature byte
  (void)sink;
  const ripple::GraphBatch all = ripple::make_graph_batch(d, at::arange(graphs, at::kLong));
  require(all.graph.num_edges() == d.graph.num_edges(), "edges stay inside their graph");
  require(!d.edge_labels.defined() || d.edge_labels.numel() == d.graph.num_edges(), "one edge label per edge");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ripple::fuzz::ScratchDirectory scratch;
  scratch.fill(ripple::fuzz::split_records(data, size));
  try {
    check(ripple::load_tu_dataset(scratch.path().string()));
  } catch (const ripple::InputError&) {
  }
  return 0;
}
