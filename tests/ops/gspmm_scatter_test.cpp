// The source gradient of gspmm(copy_lhs, sum) scattered along the CSC
// (ops::cpu::gspmm_sum_to_sources, what backward uses on fan-out graphs without a reverse
// view) against a plain loop that adds each source's edges in ascending destination order:
// the same bits, for float and double, int32 and int64 graphs, repeated edges, unsorted
// rows, widths that split into partial slabs and source counts that span several blocks;
// and through autograd, the same bits as the gather over the reverse view.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "ops/cpu/kernels.h"
#include "ripple/graph.h"
#include "ripple/ops.h"

namespace ripple {
namespace {

// `num_dst` destinations with `per_row` random sources each from [0, num_src); repeated
// edges kept unless `dedupe` (rows strictly ascending then, which the blocks need).
Graph fan_out_graph(int64_t num_src, int64_t num_dst, int64_t per_row, bool int32, bool dedupe = false) {
  at::manual_seed(num_src * 31 + num_dst);
  const at::Tensor src = at::randint(0, num_src, {num_dst * per_row}, at::kLong);
  const at::Tensor dst = at::arange(num_dst, at::kLong).repeat_interleave(per_row);
  GraphBuildOptions o;
  o.dedupe = dedupe;
  o.int32_indices = int32;
  return Graph::from_bipartite_edges(num_src, num_dst, src, dst, o);
}

// out[u] = grad[v1] + grad[v2] + ... over u's edges in ascending v (CSC order within a row),
// accumulated in the grad's own type from zero, as every kernel of the library sums.
template <typename T>
at::Tensor plain_scatter(const Graph& g, const at::Tensor& grad) {
  const at::Tensor ptr = g.csc_indptr().to(at::kLong), idx = g.csc_indices().to(at::kLong);
  const int64_t len = grad.size(1);
  at::Tensor out = at::zeros({g.num_src(), len}, grad.options());
  const T* gr = grad.data_ptr<T>();
  T* o = out.data_ptr<T>();
  const int64_t* p = ptr.data_ptr<int64_t>();
  const int64_t* ix = idx.data_ptr<int64_t>();
  for (int64_t v = 0; v < g.num_dst(); ++v) {
    for (int64_t e = p[v]; e < p[v + 1]; ++e) {
      for (int64_t k = 0; k < len; ++k) o[ix[e] * len + k] += gr[v * len + k];
    }
  }
  return out;
}

TEST(GSpmmScatter, SourceGradientEqualsAPlainLoopBitForBit) {
  struct Case {
    int64_t num_src, num_dst, per_row, len;
    bool dedupe;
  };
  // Widths: one column, a partial slab, several slabs. With repeated edges the rows are not
  // strictly ascending (one block); deduplicated, 200 sources of 2,048 columns span several
  // 256 KiB blocks of output rows.
  for (const Case c : {Case{50, 400, 9, 1, false}, Case{50, 400, 9, 7, false}, Case{50, 400, 9, 300, false},
                       Case{200, 800, 20, 2048, false}, Case{200, 800, 20, 2048, true}}) {
    for (const bool int32 : {false, true}) {
      const Graph g = fan_out_graph(c.num_src, c.num_dst, c.per_row, int32, c.dedupe);
      ASSERT_EQ(g.first_row_not_strictly_ascending() < 0, c.dedupe);
      const std::string what = "src " + std::to_string(c.num_src) + " len " + std::to_string(c.len) +
                               (int32 ? " int32" : " int64") + (c.dedupe ? " deduplicated" : "");
      const at::Tensor grad_f = at::randn({c.num_dst, c.len});
      EXPECT_TRUE(at::equal(ops::cpu::gspmm_sum_to_sources(g, grad_f), plain_scatter<float>(g, grad_f))) << what;
      const at::Tensor grad_d = at::randn({c.num_dst, c.len}, at::kDouble);
      EXPECT_TRUE(at::equal(ops::cpu::gspmm_sum_to_sources(g, grad_d), plain_scatter<double>(g, grad_d))) << what;
    }
  }
}

// Rows not ascending: one block over all sources, still every edge once; a wrong row count
// is an error, zero columns an empty result.
TEST(GSpmmScatter, UnsortedRowsTakeOneBlock) {
  GraphFlags flags;
  flags.sorted = false;
  const at::Tensor ptr = at::tensor({0, 3, 5, 6, 8, 9, 10, 12, 13, 14}, at::kLong);
  const at::Tensor idx = at::tensor({1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1}, at::kLong);
  const Graph g = Graph::from_csc(2, ptr, idx, flags);
  ASSERT_GE(g.first_row_not_strictly_ascending(), 0);
  const at::Tensor grad = at::randn({9, 33});
  EXPECT_TRUE(at::equal(ops::cpu::gspmm_sum_to_sources(g, grad), plain_scatter<float>(g, grad)));
  EXPECT_THROW(ops::cpu::gspmm_sum_to_sources(g, at::randn({8, 33})), c10::Error);
  EXPECT_EQ(ops::cpu::gspmm_sum_to_sources(g, at::randn({9, 0})).sizes(), (std::vector<int64_t>{2, 0}));
}

// Backward on a fan-out graph scatters (no reverse view gets built) and gives the same bits
// as the gather over the reverse view of a copy of the graph whose view was built first.
TEST(GSpmmScatter, BackwardScattersWithoutAReverseViewAndMatchesTheGather) {
  const Graph scattered = fan_out_graph(60, 500, 12, false);
  const Graph gathered = Graph::from_csc(60, scattered.csc_indptr(), scattered.csc_indices(), scattered.flags());
  gathered.csr();
  const at::Tensor x = at::randn({60, 96}), grad = at::randn({500, 96});
  const at::Tensor x1 = x.clone().requires_grad_(true), x2 = x.clone().requires_grad_(true);
  ops::gspmm(scattered, "copy_lhs", "sum", x1, at::Tensor()).backward(grad);
  ops::gspmm(gathered, "copy_lhs", "sum", x2, at::Tensor()).backward(grad);
  EXPECT_FALSE(scattered.has_csr_view());
  EXPECT_TRUE(at::equal(x1.grad(), x2.grad()));
  EXPECT_TRUE(at::equal(x1.grad(), plain_scatter<float>(scattered, grad)));
}

}  // namespace
}  // namespace ripple
