// One native dataset per part, with its halo, and the partition book. See
// include/ripple/partition.h.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>

#include "io/gz_writer.h"
#include "io/npy.h"
#include "ripple/error.h"
#include "ripple/native_dataset.h"
#include "ripple/partition.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace ripple {
namespace {

std::string dtype_name(at::ScalarType t) {
  if (t == at::kHalf) return "float16";
  if (t == at::kBFloat16) return "bfloat16";
  return "float32";
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw_file_error(path.string(), "cannot write", errno);
}

// Reads one node's feature row as float32, whatever the stored dtype (float16 and bfloat16
// widen exactly, so a part stores the same values as its source).
class FeatureRows {
 public:
  explicit FeatureRows(const at::Tensor& features)
      : features_(features.contiguous()), width_(features.size(1)), row_(static_cast<size_t>(width_)) {}
  const float* row(int64_t v) {
    switch (features_.scalar_type()) {
      case at::kFloat: return features_.data_ptr<float>() + v * width_;
      case at::kHalf: return widened(features_.data_ptr<at::Half>() + v * width_);
      case at::kBFloat16: return widened(features_.data_ptr<at::BFloat16>() + v * width_);
      default: throw InputError(fmt::format("partition: features of dtype {}: expected a floating type",
                                            c10::toString(features_.scalar_type())));
    }
  }

 private:
  template <typename T>
  const float* widened(const T* in) {
    for (int64_t j = 0; j < width_; ++j) row_[static_cast<size_t>(j)] = static_cast<float>(in[j]);
    return row_.data();
  }
  at::Tensor features_;
  int64_t width_;
  std::vector<float> row_;
};

// Part p's nodes (owned, then the halo ring by ring, each ring in ascending global id), its
// graph over them and its split; streamed into a native dataset at `dir` one node at a
// time, so memory stays at the node lists whatever the features and edges weigh.
// `local_of` is a scratch array of -1 per global node, restored before returning.
template <typename Index>
PartitionStats write_part(const NodeDataset& d, const int32_t* owner, const int8_t* split_of, int32_t p, int64_t halo,
                          const fs::path& dir, std::vector<int64_t>& local_of) {
  const Index* indptr = d.graph.csc_indptr().data_ptr<Index>();
  const Index* indices = d.graph.csc_indices().data_ptr<Index>();
  const int64_t n = d.num_nodes();
  std::vector<int64_t> nodes;
  for (int64_t v = 0; v < n; ++v) {
    if (owner[v] == p) {
      local_of[static_cast<size_t>(v)] = static_cast<int64_t>(nodes.size());
      nodes.push_back(v);
    }
  }
  const auto owned = static_cast<int64_t>(nodes.size());
  // Ring h: upstream neighbours of ring h-1 not placed yet.
  std::vector<int64_t> inner_end = {owned};  // nodes[0, inner_end[h]) are rings 0..h
  size_t ring_begin = 0;
  for (int64_t h = 1; h <= halo; ++h) {
    std::vector<int64_t> ring;
    for (size_t i = ring_begin; i < nodes.size(); ++i) {
      const int64_t v = nodes[i];
      for (Index e = indptr[v]; e < indptr[v + 1]; ++e) {
        const auto u = static_cast<size_t>(indices[e]);
        if (local_of[u] == -1) {
          local_of[u] = -2;  // found; numbered below
          ring.push_back(static_cast<int64_t>(u));
        }
      }
    }
    std::sort(ring.begin(), ring.end());
    ring_begin = nodes.size();
    for (const int64_t u : ring) {
      local_of[static_cast<size_t>(u)] = static_cast<int64_t>(nodes.size());
      nodes.push_back(u);
    }
    inner_end.push_back(static_cast<int64_t>(nodes.size()));
  }
  // Every in-edge of the nodes of rings 0..halo-1; the outermost ring's rows stay empty.
  // Without a halo, the own nodes keep the edges among themselves.
  const int64_t with_edges = inner_end[static_cast<size_t>(halo > 0 ? halo - 1 : 0)];
  const auto local = static_cast<int64_t>(nodes.size());
  int64_t max_edges = 0;
  for (int64_t i = 0; i < with_edges; ++i) {
    const int64_t v = nodes[static_cast<size_t>(i)];
    max_edges += static_cast<int64_t>(indptr[v + 1] - indptr[v]);
  }
  NativeNodeStreamWriter::Options w;
  w.num_nodes = local;
  w.num_features = d.num_features();
  w.num_classes = d.num_classes;
  w.max_edges = max_edges;
  w.feature_dtype = dtype_name(d.features.scalar_type());
  w.split_name = d.split_name.empty() ? "public" : d.split_name;
  w.flags.sorted = true;
  w.flags.deduplicated = d.graph.flags().deduplicated;
  w.flags.symmetric = false;
  NativeNodeStreamWriter writer(dir.string(), w);
  FeatureRows features(d.features);
  const at::Tensor labels = d.labels.to(at::kLong).contiguous();
  const int64_t* label = labels.data_ptr<int64_t>();
  std::vector<int64_t> row;
  at::Tensor owners = at::empty({local}, at::kInt);
  int32_t* owner_of_local = owners.data_ptr<int32_t>();
  for (int64_t i = 0; i < local; ++i) {
    const int64_t v = nodes[static_cast<size_t>(i)];
    row.clear();
    if (i < with_edges) {
      for (Index e = indptr[v]; e < indptr[v + 1]; ++e) {
        const int64_t u = local_of[static_cast<size_t>(indices[e])];
        if (u < 0) continue;  // halo 0: only the edges among the own nodes
        row.push_back(u);
        w.flags.has_self_loops = w.flags.has_self_loops || indices[e] == v;
      }
      std::sort(row.begin(), row.end());
    }
    writer.add_node(row.data(), static_cast<int64_t>(row.size()), features.row(v), label[v],
                    i < owned ? split_of[v] : -1);
    owner_of_local[i] = owner[v];
  }
  writer.set_flags(w.flags);
  writer.add_array("partition/global_id", at::tensor(nodes, at::kLong));
  writer.add_array("partition/owner", owners);
  const int64_t edges = writer.num_edges();
  writer.finish();
  for (const int64_t v : nodes) local_of[static_cast<size_t>(v)] = -1;
  return {owned, local - owned, edges};
}

}  // namespace

PartitionReport write_partitions(const NodeDataset& d, const at::Tensor& assignment, const PartitionOptions& o,
                                 const std::string& out_dir) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t n = d.num_nodes();
  if (o.halo < 0) throw InputError(fmt::format("partition: --halo {}: expected 0 or more hops", o.halo));
  const at::Tensor owner = assignment.to(at::kInt).contiguous();
  if (owner.numel() != n) {
    throw InputError(fmt::format("partition: {} assignments for {} nodes", owner.numel(), n));
  }
  at::Tensor split_of = at::full({n}, -1, at::kChar);
  const at::Tensor* parts_of_split[3] = {&d.train_idx, &d.valid_idx, &d.test_idx};
  for (int8_t s = 0; s < 3; ++s) {
    if (parts_of_split[s]->defined() && parts_of_split[s]->numel() > 0) split_of.index_fill_(0, *parts_of_split[s], s);
  }
  PartitionReport report;
  report.options = o;
  report.num_nodes = n;
  report.num_edges = d.graph.num_edges();
  report.edge_cut = edge_cut(d.graph, owner);
  const at::Tensor sizes = at::bincount(owner.to(at::kLong), {}, o.parts);
  report.balance = sizes.max().item<double>() / (static_cast<double>(n) / static_cast<double>(o.parts));

  io::StagedDirectory staged{fs::path(out_dir)};
  std::vector<int64_t> local_of(static_cast<size_t>(n), -1);
  for (int32_t p = 0; p < o.parts; ++p) {
    const fs::path dir = staged.path() / fmt::format("part-{}", p);
    report.parts.push_back(d.graph.index_type() == at::kInt
                               ? write_part<int32_t>(d, owner.data_ptr<int32_t>(), split_of.data_ptr<int8_t>(), p, o.halo,
                                                     dir, local_of)
                               : write_part<int64_t>(d, owner.data_ptr<int32_t>(), split_of.data_ptr<int8_t>(), p, o.halo,
                                                     dir, local_of));
  }
  write_bytes(staged.path() / "assignment.npy", io::npy_bytes(owner));
  report.write_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  report.peak_rss_bytes = static_cast<int64_t>(usage.ru_maxrss) * 1024;
  json parts = json::array();
  for (size_t p = 0; p < report.parts.size(); ++p) {
    const PartitionStats& s = report.parts[p];
    parts.push_back({{"dir", fmt::format("part-{}", p)}, {"owned", s.owned}, {"halo_nodes", s.halo_nodes},
                     {"edges", s.edges}});
  }
  const json book = {{"format", "ripple-partition"},
                     {"version", 1},
                     {"dataset", d.path},
                     {"split", d.split_name},
                     {"num_nodes", n},
                     {"num_edges", report.num_edges},
                     {"method", o.method},
                     {"parts", o.parts},
                     {"halo", o.halo},
                     {"seed", o.seed},
                     {"edge_cut", report.edge_cut},
                     {"edge_cut_fraction", report.num_edges ? static_cast<double>(report.edge_cut) / report.num_edges : 0.0},
                     {"balance", report.balance},
                     {"part", parts}};
  write_bytes(staged.path() / "partition.json", book.dump(2) + "\n");  // last: marks a complete book
  staged.commit();
  return report;
}

}  // namespace ripple
