// Graph construction, flags and views against hand-worked examples.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "ripple/error.h"
#include "ripple/graph.h"

namespace ripple {
namespace {

at::Tensor ids(std::vector<int64_t> v) { return at::tensor(v, at::kLong); }
std::vector<int64_t> vec(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

TEST(Graph, BuildsDestinationMajorCscWithDedupe) {
  // Edges (src->dst): 2->0, 1->0, 1->0 (duplicate), 0->2, 2->2 (loop), 0->1
  const Graph g = Graph::from_edges(4, ids({2, 1, 1, 0, 2, 0}), ids({0, 0, 0, 2, 2, 1}));
  EXPECT_EQ(vec(g.csc_indptr()), (std::vector<int64_t>{0, 2, 3, 5, 5}));
  EXPECT_EQ(vec(g.csc_indices()), (std::vector<int64_t>{1, 2, 0, 0, 2}));
  EXPECT_EQ(vec(g.input_edge_ids()), (std::vector<int64_t>{1, 0, 5, 3, 4}));
  EXPECT_TRUE(g.flags().has_self_loops);
  EXPECT_TRUE(g.flags().symmetric);  // 1<->0 and 2<->0 both ways, plus a loop
  EXPECT_FALSE(Graph::from_edges(3, ids({0}), ids({1})).flags().symmetric);
  EXPECT_EQ(vec(g.in_degrees()), (std::vector<int64_t>{2, 1, 2, 0}));
  EXPECT_EQ(vec(g.out_degrees()), (std::vector<int64_t>{2, 1, 2, 0}));
}

TEST(Graph, KeepsDuplicatesWhenAsked) {
  GraphBuildOptions o;
  o.dedupe = false;
  const Graph g = Graph::from_edges(3, ids({1, 1}), ids({0, 0}), o);
  EXPECT_EQ(g.num_edges(), 2);
}

TEST(Graph, CsrViewMapsBackToCscPositions) {
  const Graph g = Graph::from_edges(4, ids({2, 1, 0, 2, 0}), ids({0, 0, 2, 2, 1}));
  const CsrView& r = g.csr();
  EXPECT_EQ(vec(r.indptr), (std::vector<int64_t>{0, 2, 3, 5, 5}));
  EXPECT_EQ(vec(r.indices), (std::vector<int64_t>{1, 2, 0, 0, 2}));
  // Every CSR entry (u -> v) points at a CSC position holding source u in row v.
  const auto ptr = vec(g.csc_indptr()), src = vec(g.csc_indices()), eid = vec(r.eids), dst = vec(r.indices);
  const auto rptr = vec(r.indptr);
  for (int64_t u = 0; u < 4; ++u) {
    for (int64_t q = rptr[u]; q < rptr[u + 1]; ++q) {
      EXPECT_EQ(src[eid[q]], u);
      EXPECT_GE(eid[q], ptr[dst[q]]);
      EXPECT_LT(eid[q], ptr[dst[q] + 1]);
    }
  }
  EXPECT_EQ(vec(g.coo().dst), (std::vector<int64_t>{0, 0, 1, 2, 2}));
}

TEST(Graph, SymmetrizeAndSelfLoops) {
  const Graph g = Graph::from_edges(3, ids({0, 1, 1}), ids({1, 2, 1}));
  const Graph s = g.symmetrized();
  EXPECT_TRUE(s.flags().symmetric);
  EXPECT_EQ(s.num_edges(), 5);  // 0<->1, 1<->2, 1->1
  const Graph loops = g.with_self_loops();
  EXPECT_EQ(loops.num_edges(), 2 + 3);  // the existing loop is replaced, one per node
  EXPECT_TRUE(loops.flags().has_self_loops);
  const Graph none = g.without_self_loops();
  EXPECT_EQ(none.num_edges(), 2);
  EXPECT_FALSE(none.flags().has_self_loops);
}

TEST(Graph, GcnNormMatchesHandComputation) {
  // Path 0 - 1 - 2 with self loops: degrees (in, with loops) 2, 3, 2.
  const Graph g = Graph::from_edges(3, ids({0, 1, 1, 2}), ids({1, 0, 2, 1})).with_self_loops();
  const at::Tensor w = g.gcn_norm();
  const auto ptr = vec(g.csc_indptr()), src = vec(g.csc_indices());
  const double deg[3] = {2, 3, 2};
  for (int64_t v = 0; v < 3; ++v) {
    for (int64_t p = ptr[v]; p < ptr[v + 1]; ++p) {
      EXPECT_NEAR(w[p].item<float>(), 1.0 / std::sqrt(deg[src[p]] * deg[v]), 1e-6);
    }
  }
}

TEST(Graph, Int32IndicesGiveTheSameStructure) {
  const Graph a = Graph::from_edges(5, ids({0, 3, 4, 4}), ids({1, 1, 0, 2}));
  const Graph b = a.with_index_type(true);
  EXPECT_EQ(b.index_type(), at::kInt);
  EXPECT_EQ(vec(a.csc_indices()), vec(b.csc_indices()));
  EXPECT_EQ(vec(a.csr().eids), vec(b.csr().eids));
}

TEST(Graph, RejectsOutOfRangeAndNegativeIds) {
  EXPECT_THROW(Graph::from_edges(3, ids({0, 3}), ids({1, 1})), InputError);
  EXPECT_THROW(Graph::from_edges(3, ids({0, -1}), ids({1, 1})), InputError);
  EXPECT_THROW(Graph::from_edges(3, ids({0}), ids({1, 1})), InputError);
  try {
    Graph::from_edges(3, ids({0, 1}), ids({1, 7}));
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "edge 1: destination node id 7 is out of range [0, 3)");
  }
}

TEST(Graph, EmptyAndIsolated) {
  const Graph g = Graph::from_edges(4, ids({}), ids({}));
  EXPECT_EQ(g.num_edges(), 0);
  EXPECT_EQ(vec(g.csc_indptr()), (std::vector<int64_t>{0, 0, 0, 0, 0}));
  EXPECT_EQ(g.csr().indices.numel(), 0);
  EXPECT_EQ(g.with_self_loops().num_edges(), 4);
}

TEST(Graph, FromCscValidates) {
  EXPECT_NO_THROW(Graph::from_csc(3, ids({0, 1, 2}), ids({2, 0}), {}));
  EXPECT_THROW(Graph::from_csc(3, ids({0, 2, 1}), ids({2, 0}), {}), InputError);
  EXPECT_THROW(Graph::from_csc(3, ids({0, 1, 2}), ids({5, 0}), {}), InputError);
}

// The rows' order, as operators that intersect rows need it: the first row that is not
// strictly ascending, found in one pass whatever the flags claim, and cached with the views
// (a copy answers from the same cache without looking again).
TEST(Graph, FirstRowNotStrictlyAscendingIsFoundOnceAndShared) {
  EXPECT_EQ(Graph::from_edges(5, ids({0, 3, 1, 4, 2}), ids({1, 1, 2, 2, 4})).first_row_not_strictly_ascending(), -1);
  for (const bool int32 : {false, true}) {
    // Row 1 repeats source 0, row 2 is descending: row 1 comes first.
    const Graph g = Graph::from_csc(3, ids({0, 1, 3, 5}), ids({2, 0, 0, 2, 1}), {}).with_index_type(int32);
    EXPECT_EQ(g.first_row_not_strictly_ascending(), 1) << int32;
    const Graph copy = g;
    copy.csc_indices().copy_(at::tensor({0, 0, 1, 1, 2}, g.index_type()));  // now rows 1 and 2 look fine...
    EXPECT_EQ(copy.first_row_not_strictly_ascending(), 1) << "answered from the shared cache";
  }
  EXPECT_EQ(Graph().first_row_not_strictly_ascending(), -1);
}

}  // namespace
}  // namespace ripple
