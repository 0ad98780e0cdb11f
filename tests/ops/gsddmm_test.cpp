// gsddmm and edge_softmax against edge-loop references, forward and backward.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "ops/gradcheck.h"
#include "ops/reference.h"
#include "ripple/ops.h"

namespace ripple {
namespace {

const std::vector<int64_t> kWidths{1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 256, 257};

at::Tensor operand(const Graph& g, const std::string& target, std::vector<int64_t> feat, uint64_t seed) {
  at::manual_seed(seed);
  const int64_t rows = target == "edge" ? g.num_edges() : g.num_nodes();
  feat.insert(feat.begin(), rows);
  return at::rand(feat, at::kDouble) + 0.5;
}

class GSddmmTest : public ::testing::TestWithParam<std::tuple<std::string, std::string, std::string>> {};

TEST_P(GSddmmTest, ForwardAndBackwardMatchReference) {
  const auto& [op, lt, rt] = GetParam();
  for (bool int32 : {false, true}) {
    const Graph g = testing::awkward_graph(int32);
    for (int64_t heads : {1, 4}) {
      for (int64_t width : kWidths) {
        for (bool broadcast_rhs : {false, true}) {
          if (broadcast_rhs && op == "dot") continue;
          SCOPED_TRACE(::testing::Message() << op << " " << lt << "," << rt << " heads=" << heads
                                            << " width=" << width << " bcast=" << broadcast_rhs);
          const at::Tensor l0 = operand(g, lt, {heads, width}, width * 7 + heads);
          const at::Tensor r0 = operand(g, rt, {heads, broadcast_rhs ? 1 : width}, width * 11 + heads);
          at::Tensor l = l0.clone().set_requires_grad(true), r = r0.clone().set_requires_grad(true);
          at::Tensor lr = l0.clone().set_requires_grad(true), rr = r0.clone().set_requires_grad(true);
          const at::Tensor out = ops::gsddmm(g, op, l, r, lt, rt);
          const at::Tensor ref = testing::reference_gsddmm(g, op, lr, rr, lt, rt);
          ASSERT_EQ(out.sizes(), ref.sizes());
          EXPECT_TRUE(at::allclose(out, ref, 1e-10, 1e-12));
          const at::Tensor up = at::randn(out.sizes(), out.options());
          (out * up).sum().backward();
          (ref * up).sum().backward();
          EXPECT_TRUE(at::allclose(l.grad(), lr.grad(), 1e-9, 1e-11)) << "lhs grad";
          EXPECT_TRUE(at::allclose(r.grad(), rr.grad(), 1e-9, 1e-11)) << "rhs grad";
        }
      }
    }
  }
}

TEST_P(GSddmmTest, FiniteDifferenceGradients) {
  const auto& [op, lt, rt] = GetParam();
  const Graph g = testing::awkward_graph();
  const at::Tensor l = operand(g, lt, {2, 3}, 1), r = operand(g, rt, {2, 3}, 2);
  EXPECT_LT(testing::gradcheck_max_error([&](const at::Tensor& x) { return ops::gsddmm(g, op, x, r, lt, rt); }, l), 1e-6);
  EXPECT_LT(testing::gradcheck_max_error([&](const at::Tensor& x) { return ops::gsddmm(g, op, l, x, lt, rt); }, r), 1e-6);
}

INSTANTIATE_TEST_SUITE_P(
    AllOps, GSddmmTest,
    ::testing::Combine(::testing::Values("add", "sub", "mul", "div", "dot"),
                       ::testing::Values("src", "edge", "dst"), ::testing::Values("src", "edge", "dst")),
    [](const auto& info) {
      return std::get<0>(info.param) + "_" + std::get<1>(info.param) + "_" + std::get<2>(info.param);
    });

TEST(EdgeSoftmax, MatchesReferenceForwardAndBackward) {
  for (bool int32 : {false, true}) {
    const Graph g = testing::awkward_graph(int32);
    for (int64_t heads : {1, 4}) {
      for (int64_t width : {1, 8, 33}) {
        at::manual_seed(heads * 100 + width);
        const at::Tensor x0 = at::randn({g.num_edges(), heads, width}, at::kDouble) * 3;
        at::Tensor x = x0.clone().set_requires_grad(true), xr = x0.clone().set_requires_grad(true);
        const at::Tensor y = ops::edge_softmax(g, x);
        const at::Tensor yr = testing::reference_edge_softmax(g, xr);
        EXPECT_TRUE(at::allclose(y, yr, 1e-10, 1e-12));
        const at::Tensor up = at::randn(y.sizes(), y.options());
        (y * up).sum().backward();
        (yr * up).sum().backward();
        EXPECT_TRUE(at::allclose(x.grad(), xr.grad(), 1e-9, 1e-11));
      }
    }
  }
}

TEST(EdgeSoftmax, FiniteDifferencesAndStabilityWithLargeScores) {
  const Graph g = testing::awkward_graph();
  const at::Tensor x = at::randn({g.num_edges(), 2}, at::kDouble);
  EXPECT_LT(testing::gradcheck_max_error([&](const at::Tensor& t) { return ops::edge_softmax(g, t); }, x), 1e-6);
  const at::Tensor big = at::full({g.num_edges(), 1}, 1000.0, at::kFloat);
  const at::Tensor y = ops::edge_softmax(g, big);
  EXPECT_FALSE(at::isnan(y).any().item<bool>());
  // Each non-empty destination's weights sum to one.
  const at::Tensor sums = ops::gspmm(g, "copy_rhs", "sum", at::Tensor(), y);
  const at::Tensor deg = g.in_degrees();
  EXPECT_TRUE(at::allclose(sums.view(-1), (deg > 0).to(at::kFloat)));
}

TEST(GSddmm, EmptyGraphAndDotBetweenHeads) {
  const Graph empty = testing::empty_graph(4);
  const at::Tensor x = at::randn({4, 2, 3}, at::kDouble).set_requires_grad(true);
  const at::Tensor out = ops::gsddmm(empty, "dot", x, x, "src", "dst");
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{0, 2, 1}));
  out.sum().backward();
  EXPECT_TRUE(at::equal(x.grad(), at::zeros_like(x)));
  EXPECT_THROW(ops::gsddmm(testing::awkward_graph(), "dot", at::randn({7, 3}), at::randn({7, 4})), c10::Error);
}

TEST(EdgeSoftmax, EmptyGraph) {
  const Graph g = testing::empty_graph(3);
  const at::Tensor y = ops::edge_softmax(g, at::empty({0, 2}));
  EXPECT_EQ(y.numel(), 0);
}

}  // namespace
}  // namespace ripple
