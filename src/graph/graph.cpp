// Graph construction, validation and cached views. See include/ripple/graph.h.
#include "ripple/graph.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <numeric>
#include <vector>

#include "ripple/error.h"

namespace ripple {

struct Graph::Views {
  std::once_flag csr_once;
  std::once_flag coo_once;
  std::once_flag ascending_once;
  CsrView csr;
  CooView coo;
  int64_t first_unascending_row = -1;
};

namespace {

struct Edge {
  int64_t dst;
  int64_t src;
  int64_t input_id;
};

at::Tensor to_int64_vector_tensor(const std::vector<int64_t>& values) {
  auto t = at::empty({static_cast<int64_t>(values.size())}, at::kLong);
  std::copy(values.begin(), values.end(), t.data_ptr<int64_t>());
  return t;
}

template <typename T>
void check_ids(const T* p, int64_t n, int64_t bound, const char* what) {
  for (int64_t i = 0; i < n; ++i) {
    if (p[i] < 0 || static_cast<int64_t>(p[i]) >= bound) {
      throw InputError(fmt::format("edge {}: {} node id {} is out of range [0, {})", i, what,
                                   static_cast<int64_t>(p[i]), bound));
    }
  }
}

void check_ids(const at::Tensor& ids, int64_t bound, const char* what) {
  check_ids(ids.data_ptr<int64_t>(), ids.numel(), bound, what);
}

// Sorts by (dst, src, input id): counting sort on dst, then a sort within each row.
std::vector<Edge> sort_destination_major(std::vector<Edge> edges, int64_t num_dst) {
  std::vector<int64_t> start(num_dst + 1, 0);
  for (const Edge& e : edges) start[e.dst + 1]++;
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<Edge> sorted(edges.size());
  std::vector<int64_t> cursor(start.begin(), start.end() - 1);
  for (const Edge& e : edges) sorted[cursor[e.dst]++] = e;
  for (int64_t v = 0; v < num_dst; ++v) {
    std::sort(sorted.begin() + start[v], sorted.begin() + start[v + 1],
              [](const Edge& a, const Edge& b) {
                return a.src != b.src ? a.src < b.src : a.input_id < b.input_id;
              });
  }
  return sorted;
}

bool is_symmetric(const std::vector<int64_t>& indptr, const std::vector<int64_t>& indices) {
  // Edge (u -> v) is stored in row v; symmetric means row u holds v as well.
  const int64_t n = static_cast<int64_t>(indptr.size()) - 1;
  for (int64_t v = 0; v < n; ++v) {
    for (int64_t p = indptr[v]; p < indptr[v + 1]; ++p) {
      const int64_t u = indices[p];
      if (!std::binary_search(indices.begin() + indptr[u], indices.begin() + indptr[u + 1], v))
        return false;
    }
  }
  return true;
}

}  // namespace

Graph Graph::from_edges(int64_t num_nodes, const at::Tensor& src, const at::Tensor& dst,
                        const GraphBuildOptions& options) {
  return from_bipartite_edges(num_nodes, num_nodes, src, dst, options);
}

Graph Graph::from_bipartite_edges(int64_t num_src, int64_t num_dst, const at::Tensor& src_in,
                                  const at::Tensor& dst_in, const GraphBuildOptions& options) {
  if (num_src < 0 || num_dst < 0) throw InputError("graph: negative node count");
  if (src_in.dim() != 1 || dst_in.dim() != 1 || src_in.numel() != dst_in.numel()) {
    throw InputError(fmt::format("graph: src and dst must be 1-D of equal length, got {} and {}",
                                 src_in.numel(), dst_in.numel()));
  }
  const bool square = num_src == num_dst;
  if (!square && options.symmetrize) throw InputError("graph: symmetrize needs a square graph");
  // Self loops on a bipartite block join destination v to source v (a sampled block lists
  // its destinations first among its sources), so they need num_src >= num_dst.
  if (num_src < num_dst && options.self_loops != SelfLoops::kKeep) {
    throw InputError("graph: self-loop options need num_src >= num_dst");
  }
  const at::Tensor src = src_in.to(at::kLong).contiguous();
  const at::Tensor dst = dst_in.to(at::kLong).contiguous();
  check_ids(src, num_src, "source");
  check_ids(dst, num_dst, "destination");

  const int64_t m = src.numel();
  const int64_t* s = src.data_ptr<int64_t>();
  const int64_t* d = dst.data_ptr<int64_t>();
  std::vector<Edge> edges;
  edges.reserve(options.symmetrize ? 2 * m : m);
  const bool drop_loops = options.self_loops != SelfLoops::kKeep;
  for (int64_t i = 0; i < m; ++i) {
    if (drop_loops && s[i] == d[i]) continue;
    edges.push_back({d[i], s[i], i});
    if (options.symmetrize && s[i] != d[i]) edges.push_back({s[i], d[i], i});
  }
  if (options.self_loops == SelfLoops::kAdd) {
    for (int64_t v = 0; v < num_dst; ++v) edges.push_back({v, v, -1});
  }
  edges = sort_destination_major(std::move(edges), num_dst);
  if (options.dedupe) {
    auto last = std::unique(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) {
      return a.dst == b.dst && a.src == b.src;
    });
    edges.erase(last, edges.end());
  }

  std::vector<int64_t> indptr(num_dst + 1, 0), indices(edges.size()), ids(edges.size());
  bool loops = false;
  for (size_t p = 0; p < edges.size(); ++p) {
    indptr[edges[p].dst + 1]++;
    indices[p] = edges[p].src;
    ids[p] = edges[p].input_id;
    loops = loops || edges[p].src == edges[p].dst;
  }
  std::partial_sum(indptr.begin(), indptr.end(), indptr.begin());

  Graph g;
  g.num_src_ = num_src;
  g.num_dst_ = num_dst;
  g.indptr_ = to_int64_vector_tensor(indptr);
  g.indices_ = to_int64_vector_tensor(indices);
  g.input_edge_ids_ = to_int64_vector_tensor(ids);
  g.flags_.sorted = true;
  g.flags_.deduplicated = options.dedupe;
  g.flags_.has_self_loops = loops;
  g.flags_.symmetric = square && (options.symmetrize || is_symmetric(indptr, indices));
  g.views_ = std::make_shared<Views>();
  return options.int32_indices ? g.with_index_type(true) : g;
}

Graph Graph::from_csc(int64_t num_src, at::Tensor indptr, at::Tensor indices, GraphFlags flags) {
  if (indptr.dim() != 1 || indptr.numel() < 1) throw InputError("graph: indptr must be 1-D, non-empty");
  if (indices.dim() != 1) throw InputError("graph: indices must be 1-D");
  if (indptr.scalar_type() != indices.scalar_type() ||
      (indptr.scalar_type() != at::kLong && indptr.scalar_type() != at::kInt)) {
    throw InputError("graph: indptr and indices must share an int32 or int64 dtype");
  }
  Graph g;
  g.num_src_ = num_src;
  g.num_dst_ = indptr.numel() - 1;
  g.indptr_ = indptr.contiguous();
  g.indices_ = indices.contiguous();
  // Checked in their stored type: a mapped int32 graph of 200M edges must not be widened
  // (1.6 GB) just to be validated.
  AT_DISPATCH_INDEX_TYPES(g.indices_.scalar_type(), "from_csc", [&] {
    const index_t* p = g.indptr_.data_ptr<index_t>();
    if (p[0] != 0 || static_cast<int64_t>(p[g.num_dst_]) != indices.numel()) {
      throw InputError(fmt::format("graph: indptr must start at 0 and end at {} (the edge count)",
                                   indices.numel()));
    }
    for (int64_t v = 0; v < g.num_dst_; ++v) {
      if (p[v + 1] < p[v]) throw InputError(fmt::format("graph: indptr decreases at row {}", v));
    }
    check_ids(g.indices_.data_ptr<index_t>(), indices.numel(), num_src, "source");
  });
  g.flags_ = flags;
  g.views_ = std::make_shared<Views>();
  return g;
}

at::Tensor Graph::input_edge_ids() const {
  return input_edge_ids_.defined() ? input_edge_ids_ : at::arange(num_edges(), at::kLong);
}

int64_t Graph::num_edges() const { return indices_.defined() ? indices_.numel() : 0; }

at::ScalarType Graph::index_type() const {
  return indptr_.defined() ? indptr_.scalar_type() : at::kLong;
}

int64_t Graph::first_row_not_strictly_ascending() const {
  if (!views_) return -1;  // an empty graph
  std::call_once(views_->ascending_once, [&] {
    std::atomic<int64_t> first{std::numeric_limits<int64_t>::max()};
    AT_DISPATCH_INDEX_TYPES(indices_.scalar_type(), "first_row_not_strictly_ascending", [&] {
      const index_t* ptr = indptr_.data_ptr<index_t>();
      const index_t* idx = indices_.data_ptr<index_t>();
      at::parallel_for(0, num_dst_, 1024, [&](int64_t begin, int64_t end) {
        for (int64_t v = begin; v < end && v < first.load(std::memory_order_relaxed); ++v) {
          for (index_t p = ptr[v] + 1; p < ptr[v + 1]; ++p) {
            if (idx[p] <= idx[p - 1]) {
              int64_t seen = first.load();
              while (v < seen && !first.compare_exchange_weak(seen, v)) {
              }
              break;
            }
          }
        }
      });
    });
    const int64_t row = first.load();
    views_->first_unascending_row = row == std::numeric_limits<int64_t>::max() ? -1 : row;
  });
  return views_->first_unascending_row;
}

bool Graph::has_csr_view() const { return views_ && views_->csr.indptr.defined(); }

const CsrView& Graph::csr() const {
  std::call_once(views_->csr_once, [this] {
    const at::Tensor ptr = indptr_.to(at::kLong);
    const at::Tensor idx = indices_.to(at::kLong);
    const int64_t* p = ptr.data_ptr<int64_t>();
    const int64_t* s = idx.data_ptr<int64_t>();
    const int64_t e = num_edges();
    auto out_ptr = at::zeros({num_src_ + 1}, at::kLong);
    auto out_idx = at::empty({e}, at::kLong);
    auto out_eid = at::empty({e}, at::kLong);
    int64_t* op = out_ptr.data_ptr<int64_t>();
    for (int64_t i = 0; i < e; ++i) op[s[i] + 1]++;
    for (int64_t u = 0; u < num_src_; ++u) op[u + 1] += op[u];
    std::vector<int64_t> cursor(op, op + num_src_);
    int64_t* oi = out_idx.data_ptr<int64_t>();
    int64_t* oe = out_eid.data_ptr<int64_t>();
    for (int64_t v = 0; v < num_dst_; ++v) {
      for (int64_t q = p[v]; q < p[v + 1]; ++q) {
        const int64_t slot = cursor[s[q]]++;
        oi[slot] = v;
        oe[slot] = q;
      }
    }
    const auto type = index_type();
    views_->csr = {out_ptr.to(type), out_idx.to(type), out_eid.to(type)};
  });
  return views_->csr;
}

const CooView& Graph::coo() const {
  std::call_once(views_->coo_once, [this] {
    const at::Tensor deg = in_degrees();
    const at::Tensor dst = at::repeat_interleave(at::arange(num_dst_, at::kLong), deg);
    views_->coo = {indices_.to(at::kLong), dst};
  });
  return views_->coo;
}

// Both read the arrays in their own index type: converting a mapped int32 CSC to int64
// first would copy the whole graph.
at::Tensor Graph::in_degrees() const {
  return (indptr_.slice(0, 1) - indptr_.slice(0, 0, num_dst_)).to(at::kLong);
}

at::Tensor Graph::out_degrees() const {
  return at::bincount(indices_, {}, num_src_).to(at::kLong);
}

at::Tensor Graph::gcn_norm() const {
  const at::Tensor deg = in_degrees().to(at::kFloat);
  const at::Tensor inv_sqrt = at::where(deg > 0, deg.pow(-0.5), at::zeros_like(deg));
  const CooView& c = coo();
  // With in-degrees on both ends (as PyG), sources use the in-degree of the same node id.
  at::Tensor src_deg = num_src_ == num_dst_ ? inv_sqrt.index_select(0, c.src)
                                            : at::ones({num_edges()}, at::kFloat);
  return src_deg * inv_sqrt.index_select(0, c.dst);
}

namespace {
Graph rebuild(const Graph& g, const GraphBuildOptions& options) {
  const CooView& c = g.coo();
  return Graph::from_bipartite_edges(g.num_src(), g.num_dst(), c.src, c.dst, options);
}
}  // namespace

Graph Graph::with_self_loops() const {
  GraphBuildOptions o;
  o.dedupe = flags_.deduplicated;
  o.self_loops = SelfLoops::kAdd;
  o.int32_indices = index_type() == at::kInt;
  return rebuild(*this, o);
}

Graph Graph::without_self_loops() const {
  GraphBuildOptions o;
  o.dedupe = flags_.deduplicated;
  o.self_loops = SelfLoops::kRemove;
  o.int32_indices = index_type() == at::kInt;
  return rebuild(*this, o);
}

Graph Graph::symmetrized() const {
  GraphBuildOptions o;
  o.dedupe = true;
  o.symmetrize = true;
  o.int32_indices = index_type() == at::kInt;
  return rebuild(*this, o);
}

Graph Graph::with_index_type(bool int32_indices) const {
  const auto type = int32_indices ? at::kInt : at::kLong;
  if (type == index_type()) return *this;
  if (int32_indices && num_edges() > std::numeric_limits<int32_t>::max()) {
    throw InputError("graph: too many edges for int32 indices");
  }
  Graph g = *this;
  g.indptr_ = indptr_.to(type);
  g.indices_ = indices_.to(type);
  g.views_ = std::make_shared<Views>();
  return g;
}

}  // namespace ripple
