#include "ops/reference.h"

#include <random>
#include <vector>

namespace ripple::testing {

namespace {
at::Tensor apply_op(const std::string& op, const at::Tensor& l, const at::Tensor& r) {
  if (op == "copy_lhs") return l;
  if (op == "copy_rhs") return r;
  if (op == "add") return l + r;
  if (op == "sub") return l - r;
  if (op == "mul") return l * r;
  if (op == "div") return l / r;
  if (op == "dot") return (l * r).sum(-1, /*keepdim=*/true);
  throw std::runtime_error("reference: unknown op " + op);
}

at::Tensor rows_for(const at::Tensor& t, const std::string& target, const at::Tensor& src,
                    const at::Tensor& dst) {
  if (target == "edge") return t;
  return t.index_select(0, target == "src" ? src : dst);
}
}  // namespace

at::Tensor reference_gspmm(const Graph& g, const std::string& op, const std::string& reduce,
                           const at::Tensor& lhs, const at::Tensor& rhs) {
  const CooView& c = g.coo();
  const at::Tensor l = op == "copy_rhs" ? at::Tensor() : lhs.index_select(0, c.src);
  const at::Tensor msg = apply_op(op, l, rhs);
  const at::Tensor ptr = g.csc_indptr().to(at::kLong);
  std::vector<at::Tensor> rows;
  for (int64_t v = 0; v < g.num_dst(); ++v) {
    const int64_t b = ptr[v].item<int64_t>(), e = ptr[v + 1].item<int64_t>();
    if (b == e) {
      rows.push_back(at::zeros(msg.sizes().slice(1), msg.options()));
      continue;
    }
    const at::Tensor m = msg.slice(0, b, e);
    if (reduce == "sum") rows.push_back(m.sum(0));
    else if (reduce == "mean") rows.push_back(m.mean(0));
    else if (reduce == "max") rows.push_back(std::get<0>(m.max(0)));
    else rows.push_back(std::get<0>(m.min(0)));
  }
  return at::stack(rows);
}

at::Tensor reference_gsddmm(const Graph& g, const std::string& op, const at::Tensor& lhs,
                            const at::Tensor& rhs, const std::string& lt, const std::string& rt) {
  const CooView& c = g.coo();
  return apply_op(op, rows_for(lhs, lt, c.src, c.dst), rows_for(rhs, rt, c.src, c.dst));
}

at::Tensor reference_edge_softmax(const Graph& g, const at::Tensor& x) {
  const at::Tensor ptr = g.csc_indptr().to(at::kLong);
  std::vector<at::Tensor> parts;
  for (int64_t v = 0; v < g.num_dst(); ++v) {
    const int64_t b = ptr[v].item<int64_t>(), e = ptr[v + 1].item<int64_t>();
    if (b < e) parts.push_back(at::softmax(x.slice(0, b, e), 0));
  }
  return parts.empty() ? x.clone() : at::cat(parts);
}

Graph awkward_graph(bool int32) {
  // 7 nodes: node 5 isolated, node 6 only a source; self loops at 0 and 3; (1->2) twice.
  const std::vector<int64_t> s{0, 1, 1, 1, 2, 3, 3, 4, 6, 0, 2, 6, 4};
  const std::vector<int64_t> d{0, 2, 2, 0, 1, 3, 4, 3, 0, 1, 4, 2, 2};
  GraphBuildOptions o;
  o.dedupe = false;
  o.int32_indices = int32;
  return Graph::from_edges(7, at::tensor(s, at::kLong), at::tensor(d, at::kLong), o);
}

Graph empty_graph(int64_t nodes) {
  return Graph::from_edges(nodes, at::empty({0}, at::kLong), at::empty({0}, at::kLong));
}

Graph random_graph(int64_t nodes, int64_t edges, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> pick(0, nodes - 1);
  std::vector<int64_t> s(edges), d(edges);
  for (int64_t i = 0; i < edges; ++i) {
    s[i] = pick(rng);
    d[i] = pick(rng);
  }
  GraphBuildOptions o;
  o.dedupe = false;
  return Graph::from_edges(nodes, at::tensor(s, at::kLong), at::tensor(d, at::kLong), o);
}

}  // namespace ripple::testing
