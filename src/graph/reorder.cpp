// Node reorderings for locality. See include/ripple/reorder.h.
#include "ripple/reorder.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "ripple/error.h"

namespace ripple {
namespace {

// Undirected adjacency (in- and out-neighbours, self loops dropped) as int64 CSR.
void undirected_adjacency(const Graph& g, std::vector<int64_t>& ptr, std::vector<int64_t>& adj) {
  const int64_t n = g.num_nodes();
  const at::Tensor src = g.coo().src.to(at::kLong).contiguous(), dst = g.coo().dst.to(at::kLong).contiguous();
  const int64_t* s = src.data_ptr<int64_t>();
  const int64_t* d = dst.data_ptr<int64_t>();
  const int64_t m = src.numel();
  ptr.assign(n + 1, 0);
  for (int64_t i = 0; i < m; ++i) {
    if (s[i] == d[i]) continue;
    ++ptr[s[i] + 1];
    ++ptr[d[i] + 1];
  }
  std::partial_sum(ptr.begin(), ptr.end(), ptr.begin());
  adj.resize(ptr[n]);
  std::vector<int64_t> fill(ptr.begin(), ptr.end() - 1);
  for (int64_t i = 0; i < m; ++i) {
    if (s[i] == d[i]) continue;
    adj[fill[s[i]]++] = d[i];
    adj[fill[d[i]]++] = s[i];
  }
}

at::Tensor order_to_new_ids(const std::vector<int64_t>& order) {
  at::Tensor new_id = at::empty({static_cast<int64_t>(order.size())}, at::kLong);
  int64_t* out = new_id.data_ptr<int64_t>();
  for (size_t i = 0; i < order.size(); ++i) out[order[i]] = static_cast<int64_t>(i);
  return new_id;
}

std::vector<int64_t> reverse_cuthill_mckee(const Graph& g) {
  const int64_t n = g.num_nodes();
  std::vector<int64_t> ptr, adj;
  undirected_adjacency(g, ptr, adj);
  auto degree = [&](int64_t v) { return ptr[v + 1] - ptr[v]; };
  std::vector<int64_t> by_degree(n);
  std::iota(by_degree.begin(), by_degree.end(), 0);
  std::stable_sort(by_degree.begin(), by_degree.end(),
                   [&](int64_t a, int64_t b) { return degree(a) < degree(b); });
  std::vector<char> seen(n, 0);
  std::vector<int64_t> order;
  order.reserve(n);
  std::vector<int64_t> frontier;
  for (int64_t start : by_degree) {  // one breadth-first sweep per component
    if (seen[start]) continue;
    seen[start] = 1;
    size_t head = order.size();
    order.push_back(start);
    while (head < order.size()) {
      const int64_t v = order[head++];
      frontier.clear();
      for (int64_t p = ptr[v]; p < ptr[v + 1]; ++p) {
        const int64_t u = adj[p];
        if (!seen[u]) {
          seen[u] = 1;
          frontier.push_back(u);
        }
      }
      std::stable_sort(frontier.begin(), frontier.end(),
                       [&](int64_t a, int64_t b) { return degree(a) < degree(b); });
      order.insert(order.end(), frontier.begin(), frontier.end());
    }
  }
  std::reverse(order.begin(), order.end());
  return order;
}

// Relabelled graph and, for each of its CSC positions, the CSC position in `g` it came from.
std::pair<Graph, at::Tensor> relabel_with_edge_map(const Graph& g, const at::Tensor& new_id) {
  if (g.is_bipartite()) throw InputError("reordering needs a graph whose sources and destinations are the same nodes");
  if (new_id.dim() != 1 || new_id.size(0) != g.num_nodes()) {
    throw InputError(fmt::format("permutation has {} entries for {} nodes", new_id.numel(), g.num_nodes()));
  }
  const at::Tensor ids = new_id.to(at::kLong);
  const at::Tensor src = ids.index_select(0, g.coo().src.to(at::kLong));
  const at::Tensor dst = ids.index_select(0, g.coo().dst.to(at::kLong));
  GraphBuildOptions o;
  o.dedupe = false;
  o.int32_indices = g.index_type() == at::kInt;
  Graph built = Graph::from_edges(g.num_nodes(), src, dst, o);
  at::Tensor edge_map = built.input_edge_ids();
  return {Graph::from_csc(g.num_nodes(), built.csc_indptr(), built.csc_indices(), g.flags()), edge_map};
}

}  // namespace

at::Tensor reorder_permutation(const Graph& g, const std::string& method, uint64_t seed) {
  if (g.is_bipartite()) throw InputError("reordering needs a graph whose sources and destinations are the same nodes");
  const int64_t n = g.num_nodes();
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (method == "none") {
  } else if (method == "random") {
    std::mt19937_64 rng(seed);
    std::shuffle(order.begin(), order.end(), rng);
  } else if (method == "degree") {
    const at::Tensor deg = g.in_degrees().contiguous();
    const int64_t* d = deg.data_ptr<int64_t>();
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return d[a] > d[b]; });
  } else if (method == "rcm") {
    order = reverse_cuthill_mckee(g);
  } else {
    throw InputError(fmt::format("--reorder must be none, degree, rcm or random, got '{}'", method));
  }
  return order_to_new_ids(order);
}

Graph relabel_nodes(const Graph& g, const at::Tensor& new_id) { return relabel_with_edge_map(g, new_id).first; }

NodeDataset permute_dataset(const NodeDataset& data, const at::Tensor& new_id) {
  auto [graph, edge_map] = relabel_with_edge_map(data.graph, new_id);
  const at::Tensor ids = new_id.to(at::kLong);
  // old_of[new] = old: rows of per-node tensors are gathered in new-id order.
  const at::Tensor old_of = at::empty_like(ids).scatter_(0, ids, at::arange(ids.numel(), ids.options()));
  NodeDataset out;
  out.path = data.path;
  out.split_name = data.split_name;
  out.graph = std::move(graph);
  out.features = data.features.index_select(0, old_of);
  out.labels = data.labels.index_select(0, old_of);
  if (data.edge_features.defined()) out.edge_features = data.edge_features.index_select(0, edge_map);
  out.num_classes = data.num_classes;
  out.num_input_edges = data.num_input_edges;
  auto remap = [&](const at::Tensor& idx) { return std::get<0>(ids.index_select(0, idx).sort()); };
  out.train_idx = remap(data.train_idx);
  out.valid_idx = remap(data.valid_idx);
  out.test_idx = remap(data.test_idx);
  return out;
}

}  // namespace ripple
