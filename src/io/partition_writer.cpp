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

// Part p's nodes (owned, then the halo ring by ring, each ring in ascending global id), its
// graph over them and its split; written as a native dataset at `dir`. `local_of` is a
// scratch array of -1 per global node, restored before returning.
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
  at::Tensor out_indptr = at::zeros({local + 1}, at::kLong);
  int64_t* op = out_indptr.data_ptr<int64_t>();
  std::vector<int64_t> out_indices;
  bool self_loops = false;
  for (int64_t i = 0; i < local; ++i) {
    const int64_t v = nodes[static_cast<size_t>(i)];
    const size_t row_begin = out_indices.size();
    if (i < with_edges) {
      for (Index e = indptr[v]; e < indptr[v + 1]; ++e) {
        const int64_t u = local_of[static_cast<size_t>(indices[e])];
        if (u < 0) continue;  // halo 0: only the edges among the own nodes
        out_indices.push_back(u);
        self_loops = self_loops || indices[e] == v;
      }
      std::sort(out_indices.begin() + static_cast<std::ptrdiff_t>(row_begin), out_indices.end());
    }
    op[i + 1] = static_cast<int64_t>(out_indices.size());
  }
  GraphFlags flags;
  flags.sorted = true;
  flags.deduplicated = d.graph.flags().deduplicated;
  flags.has_self_loops = self_loops;
  flags.symmetric = false;
  const at::Tensor global = at::tensor(nodes, at::kLong);
  NodeDataset part;
  part.split_name = d.split_name;
  part.graph = Graph::from_csc(local, out_indptr, at::tensor(out_indices, at::kLong), flags)
                   .with_index_type(d.graph.index_type() == at::kInt);
  part.features = d.features.index_select(0, global);
  part.labels = d.labels.index_select(0, global);
  part.num_classes = d.num_classes;
  part.num_input_edges = part.graph.num_edges();
  std::vector<int64_t> splits[3];
  for (int64_t i = 0; i < owned; ++i) {
    const int8_t s = split_of[nodes[static_cast<size_t>(i)]];
    if (s >= 0) splits[s].push_back(i);
  }
  part.train_idx = at::tensor(splits[0], at::kLong);
  part.valid_idx = at::tensor(splits[1], at::kLong);
  part.test_idx = at::tensor(splits[2], at::kLong);
  at::Tensor owners = at::empty({local}, at::kInt);
  for (int64_t i = 0; i < local; ++i) owners.data_ptr<int32_t>()[i] = owner[nodes[static_cast<size_t>(i)]];
  NativeWriteOptions options;
  options.feature_dtype = dtype_name(d.features.scalar_type());
  options.extra_arrays = {{"partition/global_id", global}, {"partition/owner", owners}};
  write_native_node_dataset(part, dir.string(), options);
  for (const int64_t v : nodes) local_of[static_cast<size_t>(v)] = -1;
  return {owned, local - owned, part.graph.num_edges()};
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
