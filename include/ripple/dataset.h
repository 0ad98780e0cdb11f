// Node-property-prediction datasets and their loader for the Open Graph Benchmark raw layout:
//
//   DIR/raw/edge.csv.gz            src,dst per line (0-based)
//   DIR/raw/node-feat.csv.gz       one comma-separated feature row per node
//   DIR/raw/node-label.csv.gz      one integer class per node
//   DIR/raw/num-node-list.csv.gz   the node count;  DIR/raw/num-edge-list.csv.gz  the edge count
//   DIR/raw/edge-feat.csv.gz       optional, one row per edge line
//   DIR/split/NAME/{train,valid,test}.csv.gz   node ids
//
// Files may be plain text or gzip (the .gz name is what is looked up, a plain .csv is
// accepted as a fallback). Every failure throws InputError naming the file and line.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <functional>
#include <string>

#include "ripple/graph.h"

namespace ripple {

struct NodeDataset {
  std::string path;
  std::string split_name;
  Graph graph;              // edges as stored, de-duplicated, int64 indices
  at::Tensor features;      // [num_nodes, num_features], float32 (native: float16/bfloat16 too)
  at::Tensor labels;        // int64 [num_nodes]
  at::Tensor edge_features; // float32 [num_edges, F] in CSC order, or undefined
  int64_t num_classes = 0;
  int64_t num_input_edges = 0;  // lines of edge.csv.gz (before de-duplication)
  at::Tensor train_idx, valid_idx, test_idx;  // int64 node ids

  int64_t num_nodes() const { return graph.num_nodes(); }
  int64_t num_features() const { return features.size(1); }
};

NodeDataset load_ogb_node_dataset(const std::string& dir, const std::string& split = "public");

// Loads `dir` in whichever layout it holds: Ripple's native format (a header.json, see
// ripple/native_dataset.h; features keep their stored dtype) or the OGB raw layout. An
// empty `split` picks "public" when present, else the first split by name.
NodeDataset load_node_dataset(const std::string& dir, const std::string& split = "");

// Writes `data` in the OGB raw layout above (edges in CSC order, de-duplicated as loaded;
// features with round-trip precision; the split under its own name). The directory is built
// beside `out_dir` and renamed into place, so it appears complete or not at all; `extra`
// may add files to it first. An existing `out_dir` and write failures throw InputError.
void write_ogb_node_dataset(const NodeDataset& data, const std::string& out_dir,
                            const std::function<void(const std::filesystem::path&)>& extra = {});

// Human-readable statistics (counts, degrees, feature density, split sizes, flags).
std::string describe_dataset(const NodeDataset& data);

}  // namespace ripple
