// Graph-classification datasets: many small graphs with one class label each, read from the
// TU Dortmund text format (a folder holding NAME_A.txt, NAME_graph_indicator.txt,
// NAME_graph_labels.txt and optionally NAME_node_labels.txt, NAME_node_attributes.txt,
// NAME_edge_labels.txt; comma-separated, spaces tolerated, 1-based node and graph ids).
//
// All graphs are kept as one block-diagonal Graph: the nodes of graph g are the contiguous
// range node_ptr[g] .. node_ptr[g+1] (the indicator file must list graph ids in
// non-decreasing order, every graph with at least one node), and no edge joins two graphs.
// Node features are the one-hot node labels followed by the node attributes; a dataset with
// neither gets one-hot node in-degrees, capped (as in the GIN paper for social graphs).
// Graph labels may be any integers (MUTAG uses -1/1, PROTEINS 1/2): they are mapped to class
// ids 0..C-1 in ascending order of value.
//
// Every malformed file (missing, empty, wrong column count, an id out of range, a graph id
// that goes backwards or skips a graph, an edge between two graphs, a label file whose line
// count differs from the graph or node count) throws InputError naming the file, the line
// and what was expected.
//
// The same collection can be stored in Ripple's native format (`ripple convert`): a
// header.json with format "ripple-graph-dataset" beside raw arrays (docs/formats.md),
// memory-mapped on load and checked as strictly as the TU text: monotone node ranges, ids in
// range, no edge between two graphs, labels within the classes, sizes and CRC-32s.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ripple/graph.h"

namespace ripple {

struct GraphDataset {
  std::string path, name;
  std::string format = "TU";          // where it was read from: "TU" or "native"
  Graph graph;                        // every graph, block-diagonal; int64, de-duplicated
  at::Tensor features;                // float32 [num_nodes, num_features]
  at::Tensor node_ptr;                // int64 [num_graphs + 1]
  at::Tensor labels;                  // int64 [num_graphs], class ids
  at::Tensor edge_labels;             // int64 [num_edges] in CSC order, or undefined
  std::vector<int64_t> label_values;  // the file's label of each class id
  int64_t num_classes = 0;
  int64_t num_node_labels = 0;        // one-hot width of the node labels (0: none)
  int64_t num_node_attributes = 0;
  int64_t degree_feature_width = 0;   // > 0 when features are one-hot degrees
  int64_t max_degree_feature = 0;     // the degree cap those features were made with

  int64_t num_graphs() const { return labels.numel(); }
  int64_t num_nodes() const { return graph.num_nodes(); }
  int64_t num_features() const { return features.size(1); }
};

// How either layout makes features for graphs without node labels or attributes.
struct TuOptions {
  int64_t max_degree_feature = 64;  // degree features: degrees above this share the last column
};

// True when `dir` holds exactly one NAME_graph_indicator.txt (and so is read as TU).
bool is_tu_dataset(const std::string& dir);

GraphDataset load_tu_dataset(const std::string& dir, const TuOptions& options = {});

// True when `dir` holds a native graph collection (header.json of format
// "ripple-graph-dataset"); false for anything else, an unreadable header included.
bool is_native_graph_dataset(const std::string& dir);

// Maps a native graph collection. Stored features of another dtype come back as float32;
// degree features made with another cap than `options.max_degree_feature` are made again
// from the graph, so the result equals load_tu_dataset of the folder it was converted from.
GraphDataset load_native_graph_dataset(const std::string& dir, const TuOptions& options = {},
                                       bool verify_checksums = true);

// Either layout: native when `dir` holds a graph collection's header, else TU.
GraphDataset load_graph_dataset(const std::string& dir, const TuOptions& options = {});

// Writes `data` as a native graph collection, features as `feature_dtype` (float32, float16
// or bfloat16), through a staging directory renamed into place. An existing `out_dir` is
// refused (InputError); write failures throw FileSystemError and leave nothing behind.
void write_native_graph_dataset(const GraphDataset& data, const std::string& out_dir,
                                const std::string& feature_dtype = "float32");

// One-hot in-degrees, degrees above `max_degree` sharing the last column: float32
// [num_nodes, min(max in-degree, max_degree) + 1].
at::Tensor one_hot_degree_features(const Graph& graph, int64_t max_degree);

// Counts, graph sizes, class balance and where the features come from.
std::string describe_graph_dataset(const GraphDataset& data);

}  // namespace ripple
