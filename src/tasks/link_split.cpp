// The seeded random edge split and the message-passing graph of link prediction. See
// include/ripple/link_dataset.h.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unordered_set>
#include <vector>

#include "graph/pair_set.h"
#include "ripple/error.h"
#include "ripple/link_dataset.h"
#include "ripple/nn/context.h"

namespace ripple {
namespace {

using nn::mix64;

// Pair keys (PairSet::key) as an int64 [2, n] tensor of (min, max) columns.
at::Tensor pairs_tensor(const std::vector<uint64_t>& keys) {
  at::Tensor t = at::empty({2, static_cast<int64_t>(keys.size())}, at::kLong);
  int64_t* u = t[0].data_ptr<int64_t>();
  int64_t* v = t[1].data_ptr<int64_t>();
  for (size_t i = 0; i < keys.size(); ++i) {
    u[i] = static_cast<int64_t>(keys[i] >> 32);
    v[i] = static_cast<int64_t>(keys[i] & 0xFFFFFFFFull);
  }
  return t;
}

// `count` distinct pairs u < v, not adjacent in `edges`, none in `taken` (which grows).
at::Tensor sample_non_edges(int64_t num_nodes, int64_t count, const PairSet& edges, std::unordered_set<uint64_t>& taken,
                            uint64_t key) {
  std::vector<uint64_t> out;
  out.reserve(static_cast<size_t>(count));
  const auto n = static_cast<uint64_t>(num_nodes);
  const double pairs = 0.5 * static_cast<double>(n) * static_cast<double>(n - 1);
  if (static_cast<double>(count + static_cast<int64_t>(taken.size() + edges.size())) > 0.5 * pairs) {
    throw InputError(fmt::format("the graph is too dense to sample {} non-edges for a random link split ({} nodes)",
                                 count, num_nodes));
  }
  for (uint64_t i = 0; static_cast<int64_t>(out.size()) < count; ++i) {
    const uint64_t r = mix64(key + i * 0xD1B54A32D192ED03ull);
    const auto u = static_cast<int64_t>((r >> 32) % n), v = static_cast<int64_t>((r & 0xFFFFFFFFull) % n);
    if (u == v || edges.contains(u, v)) continue;
    const uint64_t k = PairSet::key(u, v);
    if (!taken.insert(k).second) continue;
    out.push_back(k);
  }
  std::sort(out.begin(), out.end());
  return pairs_tensor(out);
}

// Whether every training edge has entries of its own in `full` (its message graph): two, or
// one for a self loop. Then the entries of two different edges never coincide, and dropping
// an edge drops exactly its entries.
bool training_edges_are_distinct_pairs(const at::Tensor& train_edges, const Graph& full) {
  const GraphFlags& f = full.flags();
  if (!f.sorted || !f.deduplicated || !f.symmetric || full.index_type() != at::kLong) return false;
  // A loop among the training edges is a loop of `full`: count them only when it has any.
  const int64_t loops = f.has_self_loops ? train_edges[0].eq(train_edges[1]).sum().item<int64_t>() : 0;
  return full.num_edges() == 2 * train_edges.size(1) - loops;
}

// The CSC position of source `u` in destination row `v`, whose sources ascend.
int64_t position_in_row(const int64_t* indptr, const int64_t* indices, int64_t u, int64_t v) {
  const int64_t* begin = indices + indptr[v];
  const int64_t* end = indices + indptr[v + 1];
  const int64_t* it = std::lower_bound(begin, end, u);
  if (it == end || *it != u) {
    throw std::logic_error(fmt::format("message graph: training edge ({}, {}) has no entry", u, v));
  }
  return it - indices;
}

// `full` without both entries of each training edge at the positions `rows` (valid, and the
// edges distinct pairs: training_edges_are_distinct_pairs). The kept entries are copied in
// order, so rows stay sorted and the result is the graph a rebuild from the kept edges gives.
Graph without_training_edges(const Graph& full, const at::Tensor& train_edges, const at::Tensor& rows) {
  const int64_t* indptr = full.csc_indptr().data_ptr<int64_t>();
  const int64_t* indices = full.csc_indices().data_ptr<int64_t>();
  const at::Tensor src = train_edges[0].contiguous(), dst = train_edges[1].contiguous();
  const int64_t* s = src.data_ptr<int64_t>();
  const int64_t* d = dst.data_ptr<int64_t>();
  const int64_t* r = rows.data_ptr<int64_t>();
  std::vector<int64_t> dropped;
  dropped.reserve(2 * static_cast<size_t>(rows.numel()));
  for (int64_t i = 0; i < rows.numel(); ++i) {
    const int64_t u = s[r[i]], v = d[r[i]];
    dropped.push_back(position_in_row(indptr, indices, u, v));
    if (u != v) dropped.push_back(position_in_row(indptr, indices, v, u));
  }
  std::sort(dropped.begin(), dropped.end());
  dropped.erase(std::unique(dropped.begin(), dropped.end()), dropped.end());  // a position given twice

  const int64_t n = full.num_dst(), edges = full.num_edges();
  at::Tensor out_indptr = at::empty({n + 1}, at::kLong);
  at::Tensor out_indices = at::empty({edges - static_cast<int64_t>(dropped.size())}, at::kLong);
  int64_t* op = out_indptr.data_ptr<int64_t>();
  int64_t* oi = out_indices.data_ptr<int64_t>();
  int64_t from = 0, written = 0;
  for (const int64_t p : dropped) {
    std::copy(indices + from, indices + p, oi + written);
    written += p - from;
    from = p + 1;
  }
  std::copy(indices + from, indices + edges, oi + written);
  size_t before = 0;  // dropped positions below the current row's end
  op[0] = 0;
  for (int64_t v = 0; v < n; ++v) {
    while (before < dropped.size() && dropped[before] < indptr[v + 1]) ++before;
    op[v + 1] = indptr[v + 1] - static_cast<int64_t>(before);
  }

  GraphFlags flags = full.flags();
  if (flags.has_self_loops) {  // the only loops may have gone
    flags.has_self_loops = false;
    for (int64_t v = 0; v < n && !flags.has_self_loops; ++v) {
      flags.has_self_loops = std::binary_search(oi + op[v], oi + op[v + 1], v);
    }
  }
  return Graph::from_csc(full.num_src(), out_indptr, out_indices, flags);
}

}  // namespace

Graph LinkDataset::message_graph() const {
  GraphBuildOptions options;
  options.symmetrize = true;
  return Graph::from_edges(num_nodes, train_edges[0], train_edges[1], options);
}

Graph LinkDataset::message_graph_without(const at::Tensor& removed, const Graph* full) const {
  const at::Tensor rows = removed.to(at::kLong).contiguous();
  const int64_t m = train_edges.size(1);
  const int64_t* r = rows.data_ptr<int64_t>();
  for (int64_t i = 0; i < rows.numel(); ++i) {
    if (r[i] < 0 || r[i] >= m) {
      throw std::out_of_range(fmt::format("message_graph_without: position {} is not among the {} training edges",
                                          r[i], m));
    }
  }
  if (full != nullptr && training_edges_are_distinct_pairs(train_edges, *full)) {
    return without_training_edges(*full, train_edges, rows);
  }
  at::Tensor keep = at::ones({m}, at::kBool);
  keep.index_fill_(0, rows, false);
  const at::Tensor kept = train_edges.index_select(1, keep.nonzero().squeeze(1));
  GraphBuildOptions options;
  options.symmetrize = true;
  return Graph::from_edges(num_nodes, kept[0], kept[1], options);
}

LinkDataset split_links_randomly(const NodeDataset& data, double valid_fraction, double test_fraction, uint64_t seed) {
  const int64_t n = data.num_nodes();
  if (n >= (int64_t{1} << 32)) throw InputError(fmt::format("{}: link splits take graphs below 2^32 nodes", data.path));
  // Every undirected non-loop edge once, as the key (min << 32 | max), in a seeded order.
  const CooView& coo = data.graph.coo();
  const at::Tensor src = coo.src.to(at::kLong).contiguous(), dst = coo.dst.to(at::kLong).contiguous();
  const PairSet edges(src.data_ptr<int64_t>(), dst.data_ptr<int64_t>(), src.numel());
  std::vector<uint64_t> keys;
  keys.reserve(edges.size());
  for (const uint64_t k : edges.keys()) {
    if ((k >> 32) != (k & 0xFFFFFFFFull)) keys.push_back(k);  // self loops are not split
  }
  const uint64_t order_key = mix64(seed ^ 0x11AC5E7ull);
  std::sort(keys.begin(), keys.end(), [order_key](uint64_t a, uint64_t b) {
    const uint64_t ha = mix64(order_key ^ a), hb = mix64(order_key ^ b);
    return ha != hb ? ha < hb : a < b;
  });
  const auto total = static_cast<int64_t>(keys.size());
  const auto n_valid = static_cast<int64_t>(std::floor(valid_fraction * static_cast<double>(total)));
  const auto n_test = static_cast<int64_t>(std::floor(test_fraction * static_cast<double>(total)));
  if (n_valid < 1 || n_test < 1 || n_valid + n_test >= total) {
    throw InputError(fmt::format("{}: {} undirected edges cannot be split {}/{}/{} into non-empty train, valid and "
                                 "test sets", data.path, total, total - n_valid - n_test, n_valid, n_test));
  }

  LinkDataset out;
  out.path = data.path;
  out.split_name = fmt::format("random-{}", seed);
  out.num_nodes = n;
  out.features = data.features.to(at::kFloat);
  const auto t0 = static_cast<size_t>(n_test), t1 = static_cast<size_t>(n_test + n_valid);
  auto sorted_slice = [&](size_t b, size_t e) {
    std::vector<uint64_t> part(keys.begin() + static_cast<std::ptrdiff_t>(b), keys.begin() + static_cast<std::ptrdiff_t>(e));
    std::sort(part.begin(), part.end());
    return pairs_tensor(part);
  };
  out.test_pos = sorted_slice(0, t0);
  out.valid_pos = sorted_slice(t0, t1);
  out.train_edges = sorted_slice(t1, keys.size());
  std::unordered_set<uint64_t> taken;
  out.test_neg = sample_non_edges(n, n_test, edges, taken, mix64(seed ^ 0x7E57ull));
  out.valid_neg = sample_non_edges(n, n_valid, edges, taken, mix64(seed ^ 0xFA11Dull));
  return out;
}

}  // namespace ripple
