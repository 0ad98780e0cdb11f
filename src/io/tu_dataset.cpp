// TU Dortmund graph-classification text format. See include/ripple/graph_dataset.h.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <numeric>
#include <sstream>

#include "io/gz_csv.h"
#include "ripple/error.h"
#include "ripple/graph_dataset.h"

namespace fs = std::filesystem;

namespace ripple {
namespace {

constexpr const char* kIndicatorSuffix = "_graph_indicator.txt";

// The NAME of the one NAME_graph_indicator.txt in `dir`, or "" when there is none; throws
// when there are several.
std::string dataset_name(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return "";
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string file = entry.path().filename().string();
    const size_t n = file.size(), s = std::char_traits<char>::length(kIndicatorSuffix);
    if (n > s && file.compare(n - s, s, kIndicatorSuffix) == 0) names.push_back(file.substr(0, n - s));
  }
  if (names.size() > 1) {
    std::sort(names.begin(), names.end());
    throw InputError(fmt::format("{}: holds several TU datasets ({}); point dataset.path at a folder with one",
                                 dir.string(), fmt::join(names, ", ")));
  }
  return names.empty() ? "" : names.front();
}

// Every line of `path` as `columns` integers (columns < 0: any count, at least one).
std::vector<int64_t> read_int_rows(const fs::path& path, int64_t columns, int64_t& rows) {
  io::CsvReader r(path.string());  // throws "PATH: file not found"
  std::vector<int64_t> values, row;
  std::string_view line;
  rows = 0;
  while (r.next_line(line)) {
    r.parse_ints(line, row);
    if (columns > 0 && static_cast<int64_t>(row.size()) != columns) {
      r.fail(fmt::format("expected {} comma-separated integers, got {}", columns, row.size()));
    }
    values.insert(values.end(), row.begin(), row.end());
    ++rows;
  }
  if (rows == 0) throw InputError(fmt::format("{}: file is empty", path.string()));
  return values;
}

std::vector<int64_t> read_column(const fs::path& path, int64_t expected_rows, const char* what) {
  int64_t rows = 0;
  std::vector<int64_t> v = read_int_rows(path, 1, rows);
  if (rows != expected_rows) {
    throw InputError(fmt::format("{}: expected {} lines (one per {}), got {}", path.string(), expected_rows, what,
                                 rows));
  }
  return v;
}

// Sorted distinct values and, for each input value, the index of its value.
std::pair<std::vector<int64_t>, std::vector<int64_t>> compact(const std::vector<int64_t>& values) {
  std::vector<int64_t> distinct(values);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::vector<int64_t> index(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    index[i] = std::lower_bound(distinct.begin(), distinct.end(), values[i]) - distinct.begin();
  }
  return {distinct, index};
}

at::Tensor one_hot(const std::vector<int64_t>& index, int64_t width) {
  at::Tensor out = at::zeros({static_cast<int64_t>(index.size()), width}, at::kFloat);
  float* p = out.data_ptr<float>();
  for (size_t i = 0; i < index.size(); ++i) p[static_cast<int64_t>(i) * width + index[i]] = 1.0f;
  return out;
}

// Node ranges of the graphs from the indicator column (1-based graph ids, non-decreasing,
// none skipped).
std::vector<int64_t> node_ranges(const std::vector<int64_t>& graph_of_node, const fs::path& path) {
  std::vector<int64_t> ptr{0};
  int64_t current = 0;
  for (size_t i = 0; i < graph_of_node.size(); ++i) {
    const int64_t g = graph_of_node[i];
    const int64_t line = static_cast<int64_t>(i) + 1;
    if (g < current) {
      throw InputError(fmt::format("{}:{}: graph id {} after {}: graph ids must not go backwards (the nodes of "
                                   "each graph are listed together)",
                                   path.string(), line, g, current));
    }
    if (g > current + 1 || g < 1) {
      throw InputError(fmt::format("{}:{}: graph id {} after {}: expected {} (graph ids start at 1 and every "
                                   "graph has a node)",
                                   path.string(), line, g, current, current + 1));
    }
    if (g == current + 1) {
      if (current > 0) ptr.push_back(static_cast<int64_t>(i));
      current = g;
    }
  }
  ptr.push_back(static_cast<int64_t>(graph_of_node.size()));
  return ptr;
}

}  // namespace

bool is_tu_dataset(const std::string& dir) { return !dataset_name(dir).empty(); }

GraphDataset load_tu_dataset(const std::string& dir_in, const TuOptions& options) {
  const fs::path dir(dir_in);
  const std::string name = dataset_name(dir);
  if (name.empty()) {
    throw InputError(fmt::format("{}: not a TU dataset folder (expected NAME{} beside NAME_A.txt)", dir_in,
                                 kIndicatorSuffix));
  }
  auto file = [&](const char* suffix) { return dir / (name + suffix); };
  GraphDataset d;
  d.path = dir_in;
  d.name = name;

  int64_t num_nodes = 0;
  const std::vector<int64_t> graph_of_node = read_int_rows(file(kIndicatorSuffix), 1, num_nodes);
  const std::vector<int64_t> ptr = node_ranges(graph_of_node, file(kIndicatorSuffix));
  const int64_t num_graphs = static_cast<int64_t>(ptr.size()) - 1;
  d.node_ptr = at::tensor(ptr, at::kLong);

  const std::vector<int64_t> raw_labels = read_column(file("_graph_labels.txt"), num_graphs, "graph");
  auto [label_values, label_index] = compact(raw_labels);
  d.label_values = label_values;
  d.num_classes = static_cast<int64_t>(label_values.size());
  d.labels = at::tensor(label_index, at::kLong);

  int64_t num_lines = 0;
  const std::vector<int64_t> pairs = read_int_rows(file("_A.txt"), 2, num_lines);
  std::vector<int64_t> src(num_lines), dst(num_lines);
  for (int64_t i = 0; i < num_lines; ++i) {
    const int64_t u = pairs[2 * i], v = pairs[2 * i + 1];
    for (int64_t id : {u, v}) {
      if (id < 1 || id > num_nodes) {
        throw InputError(fmt::format("{}:{}: node id {} is out of range [1, {}] (the node count of {})",
                                     file("_A.txt").string(), i + 1, id, num_nodes,
                                     file(kIndicatorSuffix).filename().string()));
      }
    }
    if (graph_of_node[u - 1] != graph_of_node[v - 1]) {
      throw InputError(fmt::format("{}:{}: edge {} -> {} joins graph {} to graph {}; edges must stay within a graph",
                                   file("_A.txt").string(), i + 1, u, v, graph_of_node[u - 1],
                                   graph_of_node[v - 1]));
    }
    src[i] = u - 1;
    dst[i] = v - 1;
  }
  d.graph = Graph::from_edges(num_nodes, at::tensor(src, at::kLong), at::tensor(dst, at::kLong));

  if (fs::exists(file("_edge_labels.txt"))) {
    const std::vector<int64_t> edge_labels = read_column(file("_edge_labels.txt"), num_lines, "line of _A.txt");
    const at::Tensor by_line = at::tensor(edge_labels, at::kLong);
    d.edge_labels = by_line.index_select(0, d.graph.input_edge_ids());
  }

  std::vector<at::Tensor> parts;
  if (fs::exists(file("_node_labels.txt"))) {
    const std::vector<int64_t> node_labels = read_column(file("_node_labels.txt"), num_nodes, "node");
    auto [values, index] = compact(node_labels);
    d.num_node_labels = static_cast<int64_t>(values.size());
    parts.push_back(one_hot(index, d.num_node_labels));
  }
  if (fs::exists(file("_node_attributes.txt"))) {
    const fs::path path = file("_node_attributes.txt");
    io::CsvReader r(path.string());
    std::vector<float> values, row;
    std::string_view line;
    int64_t rows = 0;
    while (r.next_line(line)) {
      r.parse_floats(line, row);
      if (rows == 0) d.num_node_attributes = static_cast<int64_t>(row.size());
      if (static_cast<int64_t>(row.size()) != d.num_node_attributes) {
        r.fail(fmt::format("expected {} attributes (as on line 1), got {}", d.num_node_attributes, row.size()));
      }
      values.insert(values.end(), row.begin(), row.end());
      ++rows;
    }
    if (rows != num_nodes) {
      throw InputError(fmt::format("{}: expected {} lines (one per node), got {}", path.string(), num_nodes, rows));
    }
    parts.push_back(at::tensor(values, at::kFloat).view({num_nodes, d.num_node_attributes}));
  }
  if (parts.empty()) {
    parts.push_back(one_hot_degree_features(d.graph, options.max_degree_feature));
    d.degree_feature_width = parts.back().size(1);
    d.max_degree_feature = options.max_degree_feature;
  }
  d.features = parts.size() == 1 ? parts.front().contiguous() : at::cat(parts, 1);
  return d;
}

at::Tensor one_hot_degree_features(const Graph& graph, int64_t max_degree) {
  const at::Tensor degree = graph.in_degrees().clamp_max(max_degree);
  return at::one_hot(degree, degree.max().item<int64_t>() + 1).to(at::kFloat);
}

GraphDataset load_graph_dataset(const std::string& dir, const TuOptions& options) {
  return is_native_graph_dataset(dir) ? load_native_graph_dataset(dir, options) : load_tu_dataset(dir, options);
}

std::string describe_graph_dataset(const GraphDataset& d) {
  std::ostringstream o;
  const at::Tensor sizes = d.node_ptr.slice(0, 1) - d.node_ptr.slice(0, 0, -1);
  o << fmt::format("dataset        {} ({} graph classification, {})\n", d.name, d.format, d.path);
  o << fmt::format("graphs         {}\n", d.num_graphs());
  o << fmt::format("nodes          {} (per graph: mean {:.2f}, min {}, max {})\n", d.num_nodes(),
                   sizes.to(at::kDouble).mean().item<double>(), sizes.min().item<int64_t>(),
                   sizes.max().item<int64_t>());
  o << fmt::format("edges          {} (directed entries, per graph mean {:.2f})\n", d.graph.num_edges(),
                   static_cast<double>(d.graph.num_edges()) / static_cast<double>(std::max<int64_t>(1, d.num_graphs())));
  const at::Tensor counts = at::bincount(d.labels, {}, d.num_classes);
  std::vector<std::string> classes;
  for (int64_t c = 0; c < d.num_classes; ++c) {
    classes.push_back(fmt::format("{} (label {}): {}", c, d.label_values[c], counts[c].item<int64_t>()));
  }
  o << fmt::format("classes        {}: {}\n", d.num_classes, fmt::join(classes, ", "));
  std::string source;
  if (d.degree_feature_width > 0) {
    source = fmt::format("one-hot in-degree, {} columns (no node labels or attributes)", d.degree_feature_width);
  } else {
    source = fmt::format("{} one-hot node labels + {} attributes", d.num_node_labels, d.num_node_attributes);
  }
  o << fmt::format("features       {} ({})\n", d.num_features(), source);
  o << fmt::format("edge labels    {}\n", d.edge_labels.defined() ? "yes" : "no");
  return o.str();
}

}  // namespace ripple
