// ripple::common_neighbors against a reference built from std::set intersections, on int64
// and int32 graphs whose degrees are skewed enough to take both the merge and the
// binary-search paths, and by bitsets (dense graphs); its bad inputs; and the NCN aggregation
// over it (a gspmm) with its gradient against a plain loop.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <set>
#include <vector>

#include "ops/cpu/kernels.h"
#include "ripple/graph.h"
#include "ripple/ops.h"

namespace ripple {
namespace {

// A symmetric graph: node 0 a hub joined to every node, the rest sparse random.
Graph skewed_graph(int64_t n, bool int32) {
  at::manual_seed(5);
  at::Tensor src = at::randint(1, n, {6 * n}, at::kLong), dst = at::randint(1, n, {6 * n}, at::kLong);
  const at::Tensor hub = at::zeros({n - 1}, at::kLong), rest = at::arange(1, n, at::kLong);
  src = at::cat({src, hub});
  dst = at::cat({dst, rest});
  GraphBuildOptions o;
  o.symmetrize = true;
  o.int32_indices = int32;
  return Graph::from_edges(n, src, dst, o);
}

std::vector<std::set<int64_t>> neighbour_sets(const Graph& g) {
  const at::Tensor ptr = g.csc_indptr().to(at::kLong), idx = g.csc_indices().to(at::kLong);
  std::vector<std::set<int64_t>> out(g.num_nodes());
  for (int64_t v = 0; v < g.num_nodes(); ++v) {
    for (int64_t p = ptr[v].item<int64_t>(); p < ptr[v + 1].item<int64_t>(); ++p) out[v].insert(idx[p].item<int64_t>());
  }
  return out;
}

// The common-neighbour graph of `pairs` equals the std::set intersections, pair by pair.
void expect_set_intersections(const Graph& g, const Graph& cn, const at::Tensor& pairs, const std::string& what) {
  const auto sets = neighbour_sets(g);
  const int64_t batch = pairs.size(1);
  ASSERT_EQ(cn.num_dst(), batch);
  ASSERT_EQ(cn.num_src(), g.num_nodes());
  EXPECT_EQ(cn.index_type(), g.index_type());
  const at::Tensor ptr = cn.csc_indptr().to(at::kLong), idx = cn.csc_indices().to(at::kLong);
  for (int64_t i = 0; i < batch; ++i) {
    const int64_t u = pairs[0][i].item<int64_t>(), v = pairs[1][i].item<int64_t>();
    std::vector<int64_t> expected;
    for (const int64_t x : sets[u]) {
      if (sets[v].count(x)) expected.push_back(x);
    }
    std::vector<int64_t> got;
    for (int64_t p = ptr[i].item<int64_t>(); p < ptr[i + 1].item<int64_t>(); ++p) got.push_back(idx[p].item<int64_t>());
    ASSERT_EQ(got, expected) << "pair " << i << " (" << u << ", " << v << ") " << what;
  }
}

const std::pair<ops::cpu::IntersectMethod, const char*> kMethods[] = {
    {ops::cpu::IntersectMethod::kMerge, "merge"}, {ops::cpu::IntersectMethod::kBitset, "bitset"}};

TEST(CommonNeighbors, EqualSetIntersectionsOnInt64AndInt32Graphs) {
  for (const bool int32 : {false, true}) {
    const Graph g = skewed_graph(300, int32);
    at::manual_seed(9);
    at::Tensor pairs = at::randint(0, 300, {2, 400}, at::kLong);
    pairs.index_put_({0, at::indexing::Slice(0, 50)}, 0);  // hub pairs: the binary-search path
    pairs.index_put_({1, 60}, pairs[0][60]);               // a node paired with itself
    const std::string type = int32 ? "int32" : "int64";
    expect_set_intersections(g, ops::common_neighbors(g, pairs), pairs, type + " auto");
    for (const auto& [method, name] : kMethods) {
      const auto [ptr, idx] = ops::cpu::common_neighbors_graph(g, pairs, method);
      expect_set_intersections(g, Graph::from_csc(300, ptr, idx, GraphFlags{}), pairs, type + " " + name);
      EXPECT_GT(ptr[50].item<int64_t>(), 0) << "hub pairs share neighbours";
    }
  }
}

// Dense rows, as ogbl-ddi's, with node counts on and off a word's 64 bits, an isolated node
// and self loops: the bitsets' words, their last partial word and their empty rows.
TEST(CommonNeighbors, BitsetsAndMergeAgreeOnDenseGraphs) {
  for (const int64_t n : {64, 130}) {
    at::manual_seed(n);
    at::Tensor keep = at::rand({n, n}) < 0.4;
    keep.index_put_({n - 1}, false);
    keep.index_put_({at::indexing::Slice(), n - 1}, false);  // node n - 1 is isolated
    const at::Tensor edges = keep.nonzero().t().contiguous();
    GraphBuildOptions o;
    o.symmetrize = true;
    const Graph g = Graph::from_edges(n, edges[0], edges[1], o);
    at::Tensor pairs = at::randint(0, n, {2, 500}, at::kLong);
    pairs.index_put_({0, 0}, n - 1);
    pairs.index_put_({1, 1}, pairs[0][1]);
    for (const auto& [method, name] : kMethods) {
      const auto [ptr, idx] = ops::cpu::common_neighbors_graph(g, pairs, method);
      expect_set_intersections(g, Graph::from_csc(n, ptr, idx, GraphFlags{}), pairs,
                               std::string(name) + " n=" + std::to_string(n));
    }
  }
}

// Bitsets where a row is long against the words a bitset takes (ogbl-ddi: 4,267 nodes, mean
// degree 500), merges on sparse graphs (Cora), for tiny batches and past 64 MiB of bitsets.
TEST(CommonNeighbors, ChoosesBitsetsForDenseGraphsOnly) {
  using ops::cpu::choose_intersect_method;
  using ops::cpu::IntersectMethod;
  EXPECT_EQ(choose_intersect_method(4267, 2135822, 24576), IntersectMethod::kBitset);
  EXPECT_EQ(choose_intersect_method(2708, 10556, 24576), IntersectMethod::kMerge);
  EXPECT_EQ(choose_intersect_method(4267, 2135822, 1), IntersectMethod::kMerge);
  EXPECT_EQ(choose_intersect_method(200000, 400000000, 65536), IntersectMethod::kMerge);
  EXPECT_EQ(choose_intersect_method(0, 0, 0), IntersectMethod::kMerge);
}

TEST(CommonNeighbors, RejectsUnsortedRowsOutOfRangePairsAndBadShapes) {
  const Graph g = skewed_graph(50, false);
  EXPECT_THROW(ops::common_neighbors(g, at::tensor({0, 50}, at::kLong).view({2, 1})), c10::Error);
  EXPECT_THROW(ops::common_neighbors(g, at::tensor({0, 1, 2}, at::kLong).view({3, 1})), c10::Error);
  EXPECT_THROW(ops::common_neighbors(g, at::tensor({0, 1}, at::kInt).view({2, 1})), c10::Error);
  GraphFlags flags;
  flags.sorted = false;
  const Graph unsorted = Graph::from_csc(3, at::tensor({0, 2, 3, 4}, at::kLong), at::tensor({2, 1, 0, 0}, at::kLong), flags);
  try {
    ops::common_neighbors(unsorted, at::tensor({0, 1}, at::kLong).view({2, 1}));
    FAIL() << "unsorted rows accepted";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("row 0 of the graph is not strictly ascending"), std::string::npos) << e.what();
  }
  const at::Tensor none = at::empty({2, 0}, at::kLong);
  EXPECT_EQ(ops::common_neighbors(g, none).num_edges(), 0);
}

// NCN's term: for each pair, the sum of its common neighbours' rows, and its gradient.
TEST(CommonNeighbors, AggregationAndGradientMatchAPlainLoop) {
  const Graph g = skewed_graph(120, false);
  const auto sets = neighbour_sets(g);
  const at::Tensor pairs = at::randint(0, 120, {2, 64}, at::kLong);
  const at::Tensor x = at::randn({120, 5}, at::kDouble).requires_grad_(true);
  const at::Tensor w = at::randn({64, 5}, at::kDouble);
  const at::Tensor out = ops::gspmm(ops::common_neighbors(g, pairs), "copy_lhs", "sum", x, at::Tensor());
  (out * w).sum().backward();
  at::Tensor expected = at::zeros({64, 5}, at::kDouble), grad = at::zeros({120, 5}, at::kDouble);
  for (int64_t i = 0; i < 64; ++i) {
    const int64_t u = pairs[0][i].item<int64_t>(), v = pairs[1][i].item<int64_t>();
    for (const int64_t k : sets[u]) {
      if (!sets[v].count(k)) continue;
      expected[i] += x.detach()[k];
      grad[k] += w[i];
    }
  }
  EXPECT_TRUE(at::allclose(out, expected, 1e-12, 1e-12));
  EXPECT_TRUE(at::allclose(x.grad(), grad, 1e-12, 1e-12));
}

}  // namespace
}  // namespace ripple
