// ripple::common_neighbors against a reference built from std::set intersections, on int64
// and int32 graphs whose degrees are skewed enough to take both the merge and the
// binary-search paths; its bad inputs; and the NCN aggregation over it (a gspmm) with its
// gradient against a plain loop.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <set>
#include <vector>

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

TEST(CommonNeighbors, EqualSetIntersectionsOnInt64AndInt32Graphs) {
  for (const bool int32 : {false, true}) {
    const Graph g = skewed_graph(300, int32);
    const auto sets = neighbour_sets(g);
    at::manual_seed(9);
    at::Tensor pairs = at::randint(0, 300, {2, 400}, at::kLong);
    pairs.index_put_({0, at::indexing::Slice(0, 50)}, 0);  // hub pairs: the binary-search path
    pairs.index_put_({1, 60}, pairs[0][60]);               // a node paired with itself
    const Graph cn = ops::common_neighbors(g, pairs);
    ASSERT_EQ(cn.num_dst(), 400);
    ASSERT_EQ(cn.num_src(), 300);
    EXPECT_EQ(cn.index_type(), int32 ? at::kInt : at::kLong);
    const at::Tensor ptr = cn.csc_indptr().to(at::kLong), idx = cn.csc_indices().to(at::kLong);
    for (int64_t i = 0; i < 400; ++i) {
      const int64_t u = pairs[0][i].item<int64_t>(), v = pairs[1][i].item<int64_t>();
      std::vector<int64_t> expected;
      for (const int64_t x : sets[u]) {
        if (sets[v].count(x)) expected.push_back(x);
      }
      std::vector<int64_t> got;
      for (int64_t p = ptr[i].item<int64_t>(); p < ptr[i + 1].item<int64_t>(); ++p) got.push_back(idx[p].item<int64_t>());
      ASSERT_EQ(got, expected) << "pair " << i << " (" << u << ", " << v << ") int32 " << int32;
    }
    EXPECT_GT(ptr[50].item<int64_t>(), 0) << "hub pairs share neighbours";
  }
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
