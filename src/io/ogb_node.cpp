// Loader for OGB raw-layout node property prediction datasets. See include/ripple/dataset.h.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <filesystem>
#include <sstream>

#include "io/gz_csv.h"
#include "io/ogb_files.h"
#include "ripple/dataset.h"
#include "ripple/error.h"

namespace fs = std::filesystem;

namespace ripple {
namespace io {

std::string locate_ogb_file(const fs::path& dir, const std::string& stem, bool required) {
  const fs::path gz = dir / (stem + ".csv.gz");
  if (fs::is_regular_file(gz)) return gz.string();
  const fs::path plain = dir / (stem + ".csv");
  if (fs::is_regular_file(plain)) return plain.string();
  if (required) throw InputError(fmt::format("{}: missing file (expected {}.csv.gz)", gz.string(), stem));
  return {};
}

fs::path ogb_raw_dir(const std::string& dir) {
  if (!fs::is_directory(dir)) throw InputError(fmt::format("{}: dataset directory not found", dir));
  const fs::path raw = fs::path(dir) / "raw";
  if (!fs::is_directory(raw)) {
    throw InputError(fmt::format("{}: not an OGB raw-layout dataset (no raw/ directory)", dir));
  }
  return raw;
}

int64_t read_ogb_count(const std::string& path) {
  const std::vector<int64_t> v = io::read_int_column(path);
  if (v.size() != 1) {
    throw InputError(fmt::format("{}: expected one line with a count, got {} lines (multi-graph files "
                                 "are for graph property prediction)", path, v.size()));
  }
  if (v[0] < 0) throw InputError(fmt::format("{}:1: count must be non-negative, got {}", path, v[0]));
  return v[0];
}

at::Tensor read_ogb_matrix(const std::string& path, int64_t rows, const char* what) {
  io::CsvReader r(path);
  std::vector<float> row;
  std::string_view line;
  int64_t cols = -1;
  std::vector<float> data;
  int64_t n = 0;
  while (r.next_line(line)) {
    r.parse_floats(line, row);
    if (cols < 0) {
      cols = static_cast<int64_t>(row.size());
      data.reserve(static_cast<size_t>(rows) * cols);
    } else if (static_cast<int64_t>(row.size()) != cols) {
      r.fail(fmt::format("expected {} columns (as on line 1), got {}", cols, row.size()));
    }
    if (++n > rows) r.fail(fmt::format("more {} rows than the {} expected", what, rows));
    data.insert(data.end(), row.begin(), row.end());
  }
  if (n == 0) throw InputError(fmt::format("{}: file is empty", path));
  if (n != rows) throw InputError(fmt::format("{}: expected {} lines (one per {}), got {}", path, rows, what, n));
  at::Tensor t = at::empty({rows, cols}, at::kFloat);
  std::copy(data.begin(), data.end(), t.data_ptr<float>());
  return t;
}

}  // namespace io

namespace {

using io::locate_ogb_file;
using io::read_ogb_count;
using io::read_ogb_matrix;

at::Tensor read_split(const fs::path& dir, const std::string& name, int64_t num_nodes) {
  const std::string path = locate_ogb_file(dir, name, true);
  const std::vector<int64_t> ids = io::read_int_column(path);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= num_nodes) {
      throw InputError(fmt::format("{}:{}: node id {} out of range [0, {})", path, i + 1, ids[i], num_nodes));
    }
  }
  return at::tensor(ids, at::kLong);
}

}  // namespace

NodeDataset load_ogb_node_dataset(const std::string& dir_in, const std::string& split) {
  const fs::path dir(dir_in);
  const fs::path raw = io::ogb_raw_dir(dir_in);
  NodeDataset d;
  d.path = dir_in;
  d.split_name = split;
  const int64_t n = read_ogb_count(locate_ogb_file(raw, "num-node-list", true));
  const int64_t m = read_ogb_count(locate_ogb_file(raw, "num-edge-list", true));

  const std::string edge_path = locate_ogb_file(raw, "edge", true);
  std::vector<int64_t> src, dst, row;
  src.reserve(m);
  dst.reserve(m);
  {
    io::CsvReader r(edge_path);
    std::string_view line;
    while (r.next_line(line)) {
      r.parse_ints(line, row);
      if (row.size() != 2) r.fail(fmt::format("expected 2 columns (src,dst), got {}", row.size()));
      for (int k = 0; k < 2; ++k) {
        if (row[k] < 0 || row[k] >= n) {
          r.fail(fmt::format("node id {} out of range [0, {})", row[k], n));
        }
      }
      src.push_back(row[0]);
      dst.push_back(row[1]);
    }
    if (static_cast<int64_t>(src.size()) != m) {
      throw InputError(fmt::format("{}: expected {} edges (num-edge-list), got {}", edge_path, m, src.size()));
    }
  }
  d.num_input_edges = m;
  d.graph = Graph::from_edges(n, at::tensor(src, at::kLong), at::tensor(dst, at::kLong));

  d.features = read_ogb_matrix(locate_ogb_file(raw, "node-feat", true), n, "node");
  const std::string label_path = locate_ogb_file(raw, "node-label", true);
  const std::vector<int64_t> labels = io::read_int_column(label_path, n);
  int64_t max_label = -1;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0) {
      throw InputError(fmt::format("{}:{}: label must be a non-negative class id, got {}", label_path, i + 1, labels[i]));
    }
    max_label = std::max(max_label, labels[i]);
  }
  d.labels = at::tensor(labels, at::kLong);
  d.num_classes = max_label + 1;

  const std::string edge_feat = locate_ogb_file(raw, "edge-feat", false);
  if (!edge_feat.empty()) {
    const at::Tensor ef = read_ogb_matrix(edge_feat, m, "edge");
    d.edge_features = ef.index_select(0, d.graph.input_edge_ids());
  }

  const fs::path split_dir = dir / "split" / split;
  if (!fs::is_directory(split_dir)) {
    throw InputError(fmt::format("{}: split directory not found (dataset.split = \"{}\")", split_dir.string(), split));
  }
  d.train_idx = read_split(split_dir, "train", n);
  d.valid_idx = read_split(split_dir, "valid", n);
  d.test_idx = read_split(split_dir, "test", n);
  return d;
}

std::string describe_dataset(const NodeDataset& d) {
  std::ostringstream s;
  const at::Tensor deg = d.graph.in_degrees().to(at::kDouble);
  const int64_t nnz = (d.features != 0).sum().item<int64_t>();
  const int64_t isolated = ((d.graph.in_degrees() + d.graph.out_degrees()) == 0).sum().item<int64_t>();
  const auto& f = d.graph.flags();
  s << fmt::format("dataset        {}\n", d.path);
  s << fmt::format("nodes          {}\n", d.num_nodes());
  s << fmt::format("edges          {} stored ({} lines in edge file)\n", d.graph.num_edges(), d.num_input_edges);
  s << fmt::format("in-degree      mean {:.2f}, max {}\n", d.num_nodes() ? deg.mean().item<double>() : 0.0,
                   d.num_nodes() ? deg.max().item<double>() : 0.0);
  s << fmt::format("isolated nodes {}\n", isolated);
  s << fmt::format("symmetric      {}\nself loops     {}\n", f.symmetric ? "yes" : "no", f.has_self_loops ? "yes" : "no");
  s << fmt::format("features       {} per node, density {:.4f}\n", d.num_features(),
                   d.features.numel() ? static_cast<double>(nnz) / d.features.numel() : 0.0);
  s << fmt::format("edge features  {}\n", d.edge_features.defined() ? std::to_string(d.edge_features.size(1)) : "none");
  s << fmt::format("classes        {}\n", d.num_classes);
  s << fmt::format("split '{}'     train {}, valid {}, test {}\n", d.split_name, d.train_idx.numel(),
                   d.valid_idx.numel(), d.test_idx.numel());
  return s.str();
}

}  // namespace ripple
