// Native graph-classification collections: writer and memory-mapped loader. See
// include/ripple/graph_dataset.h and docs/formats.md.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <filesystem>

#include "io/gz_writer.h"
#include "io/native_arrays.h"
#include "ripple/error.h"
#include "ripple/graph_dataset.h"

namespace fs = std::filesystem;

namespace ripple {
namespace {

using namespace io::native;  // NOLINT(google-build-using-namespace): the shared native-array helpers

constexpr const char* kGraphFormatName = "ripple-graph-dataset";
constexpr int kGraphFormatVersion = 1;

// What header.json says of a graph collection, its arrays' dtypes and shapes checked
// against the counts.
struct GraphHeader {
  std::string name;
  int64_t num_graphs = 0, num_nodes = 0, num_edges = 0, num_features = 0, num_classes = 0;
  int64_t num_node_labels = 0, num_node_attributes = 0, degree_columns = 0, max_degree_feature = 0;
  std::vector<int64_t> label_values;
  GraphFlags flags;
  std::vector<NativeArrayInfo> arrays;
  const NativeArrayInfo& array(const std::string& name) const { return *find_array(arrays, name); }
};

GraphHeader read_graph_header(const std::string& dir) {
  const std::string path = (fs::path(dir) / kHeaderFile).string();
  const json root = read_header(dir, kGraphFormatName, kGraphFormatVersion);
  const HeaderReader r(path);
  GraphHeader h;
  h.name = r.text(root, "name");
  h.num_graphs = r.count(root, "num_graphs");
  h.num_nodes = r.count(root, "num_nodes");
  h.num_edges = r.count(root, "num_edges");
  h.num_features = r.count(root, "num_features");
  h.num_classes = r.count(root, "num_classes");
  if (h.num_graphs < 1) r.fail("num_graphs", "must be at least 1");
  if (h.num_classes < 1) r.fail("num_classes", "must be at least 1");
  h.flags = parse_graph_flags(r, root);
  const json& values = r.at(root, "label_values", "");
  if (!values.is_array() || static_cast<int64_t>(values.size()) != h.num_classes) {
    r.fail("label_values", fmt::format("must list one integer per class ({})", h.num_classes));
  }
  for (const json& v : values) {
    if (!v.is_number_integer()) r.fail("label_values", "must hold integers");
    if (!h.label_values.empty() && v.get<int64_t>() <= h.label_values.back()) {
      r.fail("label_values", "must be strictly ascending (class c is the c-th smallest label)");
    }
    h.label_values.push_back(v.get<int64_t>());
  }
  const json& from = r.at(root, "features_from", "");
  h.num_node_labels = r.count(from, "node_labels", "features_from.");
  h.num_node_attributes = r.count(from, "node_attributes", "features_from.");
  h.degree_columns = r.count(from, "degree_columns", "features_from.");
  h.max_degree_feature = r.count(from, "max_degree_feature", "features_from.");
  const bool degrees = h.degree_columns > 0;
  if (degrees ? (h.num_node_labels + h.num_node_attributes > 0 || h.num_features != h.degree_columns ||
                 h.max_degree_feature < h.degree_columns - 1)
              : h.num_features != h.num_node_labels + h.num_node_attributes) {
    r.fail("features_from", fmt::format("does not add up to num_features ({}): node labels and attributes, or "
                                        "degree columns alone (at most max_degree_feature + 1)",
                                        h.num_features));
  }
  h.arrays = parse_arrays(r, root);
  const int64_t n = h.num_nodes, e = h.num_edges, g = h.num_graphs;
  expect_array(h.arrays, path, "csc_indptr", {"int64"}, {n + 1});
  expect_array(h.arrays, path, "csc_indices", {"int64"}, {e});
  expect_array(h.arrays, path, "features", {"float32", "float16", "bfloat16"}, {n, h.num_features});
  expect_array(h.arrays, path, "node_ptr", {"int64"}, {g + 1});
  expect_array(h.arrays, path, "labels", {"int64"}, {g});
  if (find_array(h.arrays, "edge_labels") != nullptr) expect_array(h.arrays, path, "edge_labels", {"int64"}, {e});
  return h;
}

// node_ptr starts at 0, ends at the node count and rises at every graph (none is empty).
void check_node_ranges(const at::Tensor& node_ptr, int64_t num_nodes, const fs::path& file) {
  const int64_t g = node_ptr.numel() - 1;
  const int64_t first = node_ptr[0].item<int64_t>(), last = node_ptr[g].item<int64_t>();
  if (first != 0 || last != num_nodes) {
    throw InputError(fmt::format("{}: must start at 0 and end at the node count {}, got {} .. {}", file.string(),
                                 num_nodes, first, last));
  }
  const at::Tensor flat = (node_ptr.slice(0, 1) <= node_ptr.slice(0, 0, g)).nonzero();
  if (flat.numel() > 0) {
    const int64_t k = flat[0][0].item<int64_t>();
    throw InputError(fmt::format("{}: element {} is {} after {}; every graph needs at least one node", file.string(),
                                 k + 1, node_ptr[k + 1].item<int64_t>(), node_ptr[k].item<int64_t>()));
  }
}

// Every edge joins two nodes of the same graph.
void check_edges_within_graphs(const Graph& graph, const at::Tensor& node_ptr, const fs::path& file) {
  const at::Tensor sizes = node_ptr.slice(0, 1) - node_ptr.slice(0, 0, -1);
  const at::Tensor graph_of = at::repeat_interleave(at::arange(sizes.numel(), at::kLong), sizes);
  const CooView& coo = graph.coo();
  const at::Tensor from = graph_of.index_select(0, coo.src), to = graph_of.index_select(0, coo.dst);
  const at::Tensor bad = (from != to).nonzero();
  if (bad.numel() == 0) return;
  const int64_t p = bad[0][0].item<int64_t>();
  throw InputError(fmt::format("{}: element {} is an edge from node {} (graph {}) to node {} (graph {}); edges must "
                               "stay within a graph",
                               file.string(), p, coo.src[p].item<int64_t>(), from[p].item<int64_t>(),
                               coo.dst[p].item<int64_t>(), to[p].item<int64_t>()));
}

}  // namespace

bool is_native_graph_dataset(const std::string& dir) {
  if (!fs::is_regular_file(fs::path(dir) / kHeaderFile)) return false;
  try {
    return header_format(dir) == kGraphFormatName;
  } catch (const InputError&) {
    return false;  // an unreadable header: the node loader reports it
  }
}

GraphDataset load_native_graph_dataset(const std::string& dir_in, const TuOptions& options, bool verify_checksums) {
  const fs::path dir(dir_in);
  if (!fs::is_directory(dir)) throw InputError(fmt::format("{}: dataset directory not found", dir_in));
  const GraphHeader h = read_graph_header(dir_in);
  std::vector<std::string> names = {"csc_indptr", "csc_indices", "features", "node_ptr", "labels"};
  if (find_array(h.arrays, "edge_labels") != nullptr) names.push_back("edge_labels");
  check_file_sizes(dir, h.arrays, names);
  auto load = [&](const std::string& name) { return map_array(dir, h.array(name), verify_checksums); };
  auto file = [&](const std::string& name) { return dir / h.array(name).file; };

  GraphDataset d;
  d.path = dir_in;
  d.name = h.name;
  d.format = "native";
  try {
    d.graph = Graph::from_csc(h.num_nodes, load("csc_indptr"), load("csc_indices"), h.flags);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{} and {}: {}", file("csc_indptr").string(), h.array("csc_indices").file, e.what()));
  }
  d.node_ptr = load("node_ptr");
  check_node_ranges(d.node_ptr, h.num_nodes, file("node_ptr"));
  check_edges_within_graphs(d.graph, d.node_ptr, file("csc_indices"));
  d.labels = load("labels");
  check_range(d.labels, 0, h.num_classes, "class", file("labels"));
  if (find_array(h.arrays, "edge_labels") != nullptr) d.edge_labels = load("edge_labels");
  d.label_values = h.label_values;
  d.num_classes = h.num_classes;
  d.num_node_labels = h.num_node_labels;
  d.num_node_attributes = h.num_node_attributes;
  if (h.degree_columns > 0 && h.max_degree_feature != options.max_degree_feature) {
    d.features = one_hot_degree_features(d.graph, options.max_degree_feature);  // another cap: made again
    d.max_degree_feature = options.max_degree_feature;
  } else {
    d.features = load("features").to(at::kFloat);
    d.max_degree_feature = h.max_degree_feature;
  }
  d.degree_feature_width = h.degree_columns > 0 ? d.features.size(1) : 0;
  return d;
}

void write_native_graph_dataset(const GraphDataset& d, const std::string& out_dir, const std::string& feature_dtype) {
  const at::ScalarType feature_type = dtype_of(feature_dtype);
  if (!at::isFloatingType(feature_type)) {
    throw InputError(fmt::format("--feature-dtype {}: expected float32, float16 or bfloat16", feature_dtype));
  }
  io::StagedDirectory staged{fs::path(out_dir)};
  const fs::path root = staged.path();
  json arrays = json::object();
  arrays["csc_indptr"] = write_array(root, "csc_indptr", d.graph.csc_indptr(), at::kLong);
  arrays["csc_indices"] = write_array(root, "csc_indices", d.graph.csc_indices(), at::kLong);
  arrays["features"] = write_array(root, "features", d.features, feature_type);
  arrays["node_ptr"] = write_array(root, "node_ptr", d.node_ptr, at::kLong);
  arrays["labels"] = write_array(root, "labels", d.labels, at::kLong);
  if (d.edge_labels.defined()) arrays["edge_labels"] = write_array(root, "edge_labels", d.edge_labels, at::kLong);
  const json header = {
      {"format", kGraphFormatName},
      {"version", kGraphFormatVersion},
      {"byte_order", "little"},
      {"name", d.name},
      {"num_graphs", d.num_graphs()},
      {"num_nodes", d.num_nodes()},
      {"num_edges", d.graph.num_edges()},
      {"num_features", d.num_features()},
      {"num_classes", d.num_classes},
      {"graph_flags", graph_flags_json(d.graph.flags())},
      {"label_values", d.label_values},
      {"features_from",
       {{"node_labels", d.num_node_labels},
        {"node_attributes", d.num_node_attributes},
        {"degree_columns", d.degree_feature_width},
        {"max_degree_feature", d.degree_feature_width > 0 ? d.max_degree_feature : 0}}},
      {"arrays", arrays},
  };
  write_text_file(root / kHeaderFile, header.dump(2) + "\n");  // last: its presence marks a complete dataset
  staged.commit();
}

}  // namespace ripple
