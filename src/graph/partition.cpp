// Which part owns each node: METIS, linear deterministic greedy, or random. See
// include/ripple/partition.h.
#include "ripple/partition.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <metis.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "ripple/error.h"
#include "ripple/nn/context.h"

namespace ripple {
namespace {

at::Tensor metis_parts(const Graph& graph, const PartitionOptions& o) {
  // METIS wants a symmetric adjacency without self loops, where CSC and CSR coincide.
  const Graph sym = graph.without_self_loops().symmetrized();
  if (sym.num_edges() >= std::numeric_limits<idx_t>::max()) {
    throw InputError(fmt::format("partition: METIS (32-bit indices) cannot take {} symmetrized edges; use --method ldg",
                                 sym.num_edges()));
  }
  at::Tensor xadj = sym.csc_indptr().to(at::kInt).contiguous(), adjncy = sym.csc_indices().to(at::kInt).contiguous();
  idx_t nodes = static_cast<idx_t>(graph.num_nodes()), constraints = 1, parts = static_cast<idx_t>(o.parts), cut = 0;
  std::vector<idx_t> part(static_cast<size_t>(nodes));
  idx_t options[METIS_NOPTIONS];
  METIS_SetDefaultOptions(options);
  options[METIS_OPTION_SEED] = static_cast<idx_t>(o.seed % 1000003);
  options[METIS_OPTION_NUMBERING] = 0;
  const int status = METIS_PartGraphKway(&nodes, &constraints, xadj.data_ptr<int32_t>(), adjncy.data_ptr<int32_t>(),
                                         nullptr, nullptr, nullptr, &parts, nullptr, nullptr, options, &cut, part.data());
  if (status != METIS_OK) {
    throw std::runtime_error(fmt::format("METIS_PartGraphKway failed with status {} ({})", status,
                                         status == METIS_ERROR_MEMORY ? "out of memory" : "error"));
  }
  return at::tensor(std::vector<int32_t>(part.begin(), part.end()), at::kInt);
}

// One pass in id order; neighbours are the in-neighbours of the CSC (all of them on a
// symmetric graph).
template <typename Index>
at::Tensor ldg_parts(const Graph& graph, int64_t parts) {
  const int64_t n = graph.num_nodes();
  const Index* indptr = graph.csc_indptr().data_ptr<Index>();
  const Index* indices = graph.csc_indices().data_ptr<Index>();
  at::Tensor out = at::full({n}, -1, at::kInt);
  int32_t* assigned = out.data_ptr<int32_t>();
  const double capacity = static_cast<double>((n + parts - 1) / parts);
  std::vector<int64_t> size(static_cast<size_t>(parts), 0), count(static_cast<size_t>(parts), 0);
  for (int64_t v = 0; v < n; ++v) {
    for (Index e = indptr[v]; e < indptr[v + 1]; ++e) {
      const int32_t p = assigned[indices[e]];
      if (p >= 0) ++count[static_cast<size_t>(p)];
    }
    int64_t best = -1;
    double best_score = -1;
    for (int64_t p = 0; p < parts; ++p) {
      const auto sp = static_cast<size_t>(p);
      if (static_cast<double>(size[sp]) >= capacity) continue;  // full
      const double score = static_cast<double>(count[sp]) * (1.0 - static_cast<double>(size[sp]) / capacity);
      // Ties (no placed neighbour anywhere, say) go to the least filled part, then the lowest.
      if (score > best_score || (score == best_score && size[sp] < size[static_cast<size_t>(best)])) {
        best = p;
        best_score = score;
      }
    }
    assigned[v] = static_cast<int32_t>(best);
    ++size[static_cast<size_t>(best)];
    std::fill(count.begin(), count.end(), 0);
  }
  return out;
}

at::Tensor random_parts(int64_t n, int64_t parts, uint64_t seed) {
  at::Tensor out = at::empty({n}, at::kInt);
  int32_t* p = out.data_ptr<int32_t>();
  for (int64_t v = 0; v < n; ++v) {
    p[v] = static_cast<int32_t>(nn::mix64(seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(v)) %
                                static_cast<uint64_t>(parts));
  }
  return out;
}

template <typename Index>
int64_t edge_cut_of(const Graph& graph, const int32_t* part) {
  const Index* indptr = graph.csc_indptr().data_ptr<Index>();
  const Index* indices = graph.csc_indices().data_ptr<Index>();
  int64_t cut = 0;
  for (int64_t v = 0; v < graph.num_nodes(); ++v) {
    for (Index e = indptr[v]; e < indptr[v + 1]; ++e) cut += part[indices[e]] != part[v];
  }
  return cut;
}

}  // namespace

at::Tensor assign_parts(const Graph& graph, const PartitionOptions& o) {
  const int64_t n = graph.num_nodes();
  if (o.parts < 1 || o.parts > n) {
    throw InputError(fmt::format("partition: --parts {}: expected 1..{} (the node count)", o.parts, n));
  }
  if (o.parts == 1) return at::zeros({n}, at::kInt);
  if (o.method == "metis") return metis_parts(graph, o);
  if (o.method == "random") return random_parts(n, o.parts, o.seed);
  if (o.method == "ldg") {
    return graph.index_type() == at::kInt ? ldg_parts<int32_t>(graph, o.parts) : ldg_parts<int64_t>(graph, o.parts);
  }
  throw InputError(fmt::format("partition: --method {}: expected metis, ldg or random", o.method));
}

int64_t partition_memory_need(const Graph& graph, const std::string& method) {
  // Per node: the assignment (4 bytes) and the random one it is compared with (4), the split
  // (1), the writer's local ids (8), the part's node list (8), a halo ring (8), owners (4)
  // and global ids (8) of the part being written; plus the writer's buffers and the runtime
  // (measured: 520 MiB of anonymous memory for 10M nodes, 4 parts, halo 1).
  const int64_t writer = 45 * graph.num_nodes() + (int64_t{96} << 20);
  if (method != "metis") return writer;
  // Symmetrizing plus METIS's coarsening levels: 693 MB for a 200k/4M csbm graph, 3.97 GB
  // for a 1M/20M one (directed, so up to twice the edges once symmetrized), beyond LDG.
  const int64_t symmetrized_edges = graph.flags().symmetric ? graph.num_edges() : 2 * graph.num_edges();
  return writer + 100 * symmetrized_edges;
}

void check_partition_budget(const Graph& graph, const PartitionOptions& o, int64_t resident_bytes) {
  if (o.memory_budget <= 0) return;
  const int64_t need = partition_memory_need(graph, o.method) + resident_bytes;
  if (need <= o.memory_budget) return;
  const auto mib = [](int64_t bytes) { return (bytes + (1 << 20) - 1) >> 20; };
  const int64_t streaming = partition_memory_need(graph, "ldg") + resident_bytes;
  const std::string loaded =
      resident_bytes > 0
          ? fmt::format(", {} MiB of it the dataset loaded into memory (convert it to the native format, which is "
                        "mapped, with `ripple convert --memory-budget`)",
                        mib(resident_bytes))
          : "";
  throw InputError(fmt::format(
      "partition: --method {} needs about {} MiB for this graph ({} nodes, {} edges{}), more than --memory-budget {} "
      "MiB; {}",
      o.method, mib(need), graph.num_nodes(), graph.num_edges(), loaded, mib(o.memory_budget),
      streaming <= o.memory_budget
          ? fmt::format("--method ldg or random need about {} MiB", mib(streaming))
          : fmt::format("every method needs at least {} MiB", mib(streaming))));
}

int64_t edge_cut(const Graph& graph, const at::Tensor& assignment) {
  const at::Tensor a = assignment.to(at::kInt).contiguous();
  return graph.index_type() == at::kInt ? edge_cut_of<int32_t>(graph, a.data_ptr<int32_t>())
                                        : edge_cut_of<int64_t>(graph, a.data_ptr<int32_t>());
}

}  // namespace ripple
