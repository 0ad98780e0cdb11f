// Loader for OGB raw-layout link property prediction datasets. See include/ripple/link_dataset.h.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "io/gz_csv.h"
#include "io/ogb_files.h"
#include "ripple/error.h"
#include "ripple/link_dataset.h"
#include "graph/pair_set.h"

namespace fs = std::filesystem;

namespace ripple {
namespace {

// The pairs of one file, one "u,v" per line, every id in [0, num_nodes).
struct PairFile {
  std::string path;
  std::vector<int64_t> src, dst;
};

PairFile read_pairs(const std::string& path, int64_t num_nodes) {
  PairFile f{path, {}, {}};
  io::CsvReader r(path);
  std::string_view line;
  std::vector<int64_t> row;
  while (r.next_line(line)) {
    r.parse_ints(line, row);
    if (row.size() != 2) r.fail(fmt::format("expected 2 columns (a node pair u,v), got {}", row.size()));
    for (const int64_t id : row) {
      if (id < 0 || id >= num_nodes) r.fail(fmt::format("node id {} out of range [0, {})", id, num_nodes));
    }
    f.src.push_back(row[0]);
    f.dst.push_back(row[1]);
  }
  if (f.src.empty()) throw InputError(fmt::format("{}: no pairs (the file is empty)", path));
  return f;
}

at::Tensor to_pairs_tensor(const PairFile& f) {
  const auto n = static_cast<int64_t>(f.src.size());
  at::Tensor t = at::empty({2, n}, at::kLong);
  std::copy(f.src.begin(), f.src.end(), t[0].data_ptr<int64_t>());
  std::copy(f.dst.begin(), f.dst.end(), t[1].data_ptr<int64_t>());
  return t;
}

// Throws naming the first pair of `f` (1-based line) that is also in `other`.
void check_disjoint(const PairFile& f, const PairSet& other, const std::string& other_path) {
  for (size_t i = 0; i < f.src.size(); ++i) {
    if (other.contains(f.src[i], f.dst[i])) {
      throw InputError(fmt::format("{}:{}: pair ({}, {}) is also in {}; training, validation and test positives "
                                   "must be disjoint",
                                   f.path, i + 1, f.src[i], f.dst[i], other_path));
    }
  }
}

}  // namespace

LinkDataset load_ogb_link_dataset(const std::string& dir_in, const std::string& split) {
  const fs::path dir(dir_in);
  const fs::path raw = io::ogb_raw_dir(dir_in);
  const fs::path split_dir = dir / "split" / split;
  if (!fs::is_directory(split_dir)) {
    throw InputError(fmt::format("{}: split directory not found (dataset.split = \"{}\"; link.split = \"dataset\" "
                                 "reads the OGB link layout's split/NAME/valid_edge.csv.gz and the like)",
                                 split_dir.string(), split));
  }
  LinkDataset d;
  d.path = dir_in;
  d.split_name = split;
  d.num_nodes = io::read_ogb_count(io::locate_ogb_file(raw, "num-node-list", true));

  const PairFile train = read_pairs(io::locate_ogb_file(raw, "edge", true), d.num_nodes);
  const PairFile valid = read_pairs(io::locate_ogb_file(split_dir, "valid_edge", true), d.num_nodes);
  const PairFile test = read_pairs(io::locate_ogb_file(split_dir, "test_edge", true), d.num_nodes);
  const PairSet train_set(train.src, train.dst);
  check_disjoint(valid, train_set, train.path);
  check_disjoint(test, train_set, train.path);
  check_disjoint(test, PairSet(valid.src, valid.dst), valid.path);

  d.train_edges = to_pairs_tensor(train);
  d.valid_pos = to_pairs_tensor(valid);
  d.test_pos = to_pairs_tensor(test);
  d.valid_neg = to_pairs_tensor(read_pairs(io::locate_ogb_file(split_dir, "valid_edge_neg", true), d.num_nodes));
  d.test_neg = to_pairs_tensor(read_pairs(io::locate_ogb_file(split_dir, "test_edge_neg", true), d.num_nodes));

  const std::string feat = io::locate_ogb_file(raw, "node-feat", false);
  if (!feat.empty()) d.features = io::read_ogb_matrix(feat, d.num_nodes, "node");
  return d;
}

}  // namespace ripple
