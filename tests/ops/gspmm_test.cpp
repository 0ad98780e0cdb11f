// gspmm against the edge-loop reference: forward, backward (vs autograd of the reference)
// and finite differences, over widths around SIMD boundaries, 1 and 4 heads, broadcasting,
// int32/int64 indices, and graphs with isolated nodes, self loops and duplicate edges.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <tuple>

#include "ops/gradcheck.h"
#include "ops/reference.h"
#include "ripple/ops.h"

namespace ripple {
namespace {

using testing::awkward_graph;

const std::vector<int64_t> kWidths{1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 256, 257};

struct Operands {
  at::Tensor lhs, rhs;
};

// rhs_mode 0: same shape as lhs; 1: [E, H, 1] (per-head edge weight); 2: [E] scalar (heads == 1).
Operands make_operands(const Graph& g, int64_t heads, int64_t width, int rhs_mode, at::ScalarType t) {
  at::manual_seed(static_cast<uint64_t>(heads * 1000 + width * 3 + rhs_mode));
  const auto o = at::TensorOptions().dtype(t);
  Operands ops;
  ops.lhs = at::randn({g.num_src(), heads, width}, o);
  if (rhs_mode == 0) ops.rhs = at::rand({g.num_edges(), heads, width}, o) + 0.5;
  else if (rhs_mode == 1) ops.rhs = at::rand({g.num_edges(), heads, 1}, o) + 0.5;
  else ops.rhs = at::rand({g.num_edges(), 1, 1}, o) + 0.5;
  return ops;
}

class GSpmmTest : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(GSpmmTest, ForwardAndBackwardMatchReference) {
  const auto& [op, reduce] = GetParam();
  for (bool int32 : {false, true}) {
    const Graph g = awkward_graph(int32);
    for (int64_t heads : {1, 4}) {
      for (int64_t width : kWidths) {
        for (int rhs_mode : {0, 1}) {
          if (op == "copy_lhs" && rhs_mode == 1) continue;
          Operands a = make_operands(g, heads, width, rhs_mode, at::kDouble);
          at::Tensor lhs = a.lhs.clone().set_requires_grad(true);
          at::Tensor rhs = a.rhs.clone().set_requires_grad(true);
          at::Tensor lhs_ref = a.lhs.clone().set_requires_grad(true);
          at::Tensor rhs_ref = a.rhs.clone().set_requires_grad(true);
          const at::Tensor out = ops::gspmm(g, op, reduce, lhs, rhs);
          const at::Tensor ref = testing::reference_gspmm(g, op, reduce, lhs_ref, rhs_ref);
          SCOPED_TRACE(::testing::Message() << op << "/" << reduce << " heads=" << heads << " width="
                                            << width << " rhs_mode=" << rhs_mode << " int32=" << int32);
          ASSERT_EQ(out.sizes(), ref.sizes());
          EXPECT_TRUE(at::allclose(out, ref, 1e-10, 1e-12));
          const at::Tensor up = at::randn(out.sizes(), out.options());
          (out * up).sum().backward();
          (ref * up).sum().backward();
          if (op != "copy_rhs") {
            EXPECT_TRUE(at::allclose(lhs.grad(), lhs_ref.grad(), 1e-9, 1e-11)) << "lhs grad";
          }
          if (op != "copy_lhs") {
            EXPECT_TRUE(at::allclose(rhs.grad(), rhs_ref.grad(), 1e-9, 1e-11)) << "rhs grad";
          }
        }
      }
    }
  }
}

TEST_P(GSpmmTest, FiniteDifferenceGradients) {
  const auto& [op, reduce] = GetParam();
  const Graph g = awkward_graph();
  Operands a = make_operands(g, 2, 3, 1, at::kDouble);
  if (op != "copy_lhs") a.rhs = a.rhs.expand({g.num_edges(), 2, 3}).contiguous() + at::rand({g.num_edges(), 2, 3}, at::kDouble);
  if (op != "copy_rhs") {
    const double err = testing::gradcheck_max_error(
        [&](const at::Tensor& x) { return ops::gspmm(g, op, reduce, x, a.rhs); }, a.lhs);
    EXPECT_LT(err, 1e-6) << op << "/" << reduce << " lhs";
  }
  if (op != "copy_lhs") {
    const double err = testing::gradcheck_max_error(
        [&](const at::Tensor& x) { return ops::gspmm(g, op, reduce, a.lhs, x); }, a.rhs);
    EXPECT_LT(err, 1e-6) << op << "/" << reduce << " rhs";
  }
}

TEST_P(GSpmmTest, FloatMatchesDouble) {
  const auto& [op, reduce] = GetParam();
  const Graph g = testing::random_graph(300, 2000, 7);
  Operands a = make_operands(g, 4, 33, op == "copy_lhs" ? 0 : 1, at::kDouble);
  const at::Tensor d = ops::gspmm(g, op, reduce, a.lhs, a.rhs);
  const at::Tensor f = ops::gspmm(g, op, reduce, a.lhs.to(at::kFloat), a.rhs.to(at::kFloat));
  EXPECT_TRUE(at::allclose(f.to(at::kDouble), d, 1e-4, 1e-4));
  EXPECT_TRUE(at::allclose(d, testing::reference_gspmm(g, op, reduce, a.lhs, a.rhs), 1e-10, 1e-12));
}

INSTANTIATE_TEST_SUITE_P(
    AllOps, GSpmmTest,
    ::testing::Combine(::testing::Values("copy_lhs", "copy_rhs", "add", "sub", "mul", "div"),
                       ::testing::Values("sum", "mean", "max", "min")),
    [](const auto& info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param); });

TEST(GSpmm, EmptyGraphGivesZeros) {
  const Graph g = testing::empty_graph(5);
  const at::Tensor x = at::randn({5, 4}).set_requires_grad(true);
  for (const char* reduce : {"sum", "mean", "max", "min"}) {
    const at::Tensor out = ops::gspmm(g, "copy_lhs", reduce, x, at::Tensor());
    EXPECT_TRUE(at::equal(out, at::zeros({5, 4})));
    out.sum().backward();
    EXPECT_TRUE(at::equal(x.grad(), at::zeros({5, 4})));
    x.mutable_grad().reset();
  }
}

// With both gradients wanted, mul/sum with a per-head edge weight takes the fused backward
// (one pass over the reverse graph); each gradient alone takes the unfused kernels. The two
// must agree exactly, in float, on 1 and 4 heads, with 1 and 2 threads.
TEST(GSpmm, FusedMulBackwardEqualsTheUnfusedKernels) {
  const int saved_threads = at::get_num_threads();
  for (int threads : {1, 2}) {
    at::set_num_threads(threads);
    for (bool int32 : {false, true}) {
      const Graph g = awkward_graph(int32);
      for (int64_t heads : {1, 4}) {
        for (int64_t width : {7, 64, 65}) {
          for (const char* reduce : {"sum", "mean"}) {
            Operands a = make_operands(g, heads, width, 1, at::kFloat);
            const at::Tensor up = at::randn({g.num_dst(), heads, width});
            auto grads = [&](bool want_x, bool want_w) {
              at::Tensor x = a.lhs.clone().set_requires_grad(want_x);
              at::Tensor w = a.rhs.clone().set_requires_grad(want_w);
              (ops::gspmm(g, "mul", reduce, x, w) * up).sum().backward();
              return std::make_pair(x.grad(), w.grad());
            };
            const auto both = grads(true, true);
            SCOPED_TRACE(::testing::Message() << "threads=" << threads << " int32=" << int32 << " heads=" << heads
                                              << " width=" << width << " " << reduce);
            EXPECT_TRUE(at::equal(both.first, grads(true, false).first));
            EXPECT_TRUE(at::equal(both.second, grads(false, true).second));
          }
        }
      }
    }
  }
  at::set_num_threads(saved_threads);
}

TEST(GSpmm, ScalarEdgeWeightBroadcastsOverFeatures) {
  const Graph g = awkward_graph();
  const at::Tensor x = at::randn({7, 5}, at::kDouble);
  const at::Tensor w = at::rand({g.num_edges()}, at::kDouble).view({-1, 1});
  EXPECT_TRUE(at::allclose(ops::gspmm(g, "mul", "sum", x, w), testing::reference_gspmm(g, "mul", "sum", x, w)));
}

TEST(GSpmm, RejectsWrongShapesWithClearMessages) {
  const Graph g = awkward_graph();
  try {
    ops::gspmm(g, "mul", "sum", at::randn({3, 4}), at::randn({g.num_edges(), 4}));
    FAIL() << "expected an error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("must have 7 rows"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ops::gspmm(g, "mul", "sum", at::randn({7, 4}), at::randn({g.num_edges(), 3})), c10::Error);
  EXPECT_THROW(ops::gspmm(g, "pow", "sum", at::randn({7, 4}), at::randn({g.num_edges(), 4})), c10::Error);
  EXPECT_THROW(ops::gspmm(g, "mul", "prod", at::randn({7, 4}), at::randn({g.num_edges(), 4})), c10::Error);
}

// Float sums of rows of whole vectors run in registers, one pass per group of columns: each
// element must be the same bits as a plain float loop that adds the edges in CSC order, for
// widths of one pass, several, and several with a shorter last one; int32 and int64 graphs
// (with empty rows, self loops and duplicate edges); one thread and two.
TEST(GSpmm, FloatSumsInRegistersEqualAPlainLoopBitForBit) {
  const int before = at::get_num_threads();
  for (const bool int32 : {false, true}) {
    const Graph g = awkward_graph(int32);
    const at::Tensor indptr = g.csc_indptr().to(at::kLong), indices = g.csc_indices().to(at::kLong);
    for (const int64_t width : {8, 16, 64, 72, 128, 256, 264, 520}) {
      at::manual_seed(width);
      const at::Tensor x = at::randn({g.num_src(), width});
      at::Tensor sum = at::zeros({g.num_dst(), width}), mean = at::zeros({g.num_dst(), width});
      const auto xa = x.accessor<float, 2>();
      auto sa = sum.accessor<float, 2>(), ma = mean.accessor<float, 2>();
      for (int64_t v = 0; v < g.num_dst(); ++v) {
        const int64_t begin = indptr[v].item<int64_t>(), end = indptr[v + 1].item<int64_t>();
        for (int64_t k = 0; k < width; ++k) {
          float acc = 0;
          for (int64_t p = begin; p < end; ++p) acc += xa[indices[p].item<int64_t>()][k];
          sa[v][k] = acc;
          ma[v][k] = end > begin ? acc * (1.0f / static_cast<float>(end - begin)) : 0.0f;
        }
      }
      for (const int threads : {1, 2}) {
        at::set_num_threads(threads);
        SCOPED_TRACE(::testing::Message() << "width=" << width << " int32=" << int32 << " threads=" << threads);
        EXPECT_TRUE(at::equal(ops::gspmm(g, "copy_lhs", "sum", x, at::Tensor()), sum));
        EXPECT_TRUE(at::equal(ops::gspmm(g, "copy_lhs", "mean", x, at::Tensor()), mean));
      }
    }
  }
  at::set_num_threads(before);
}

// Outputs of 32 MiB and more take the non-temporal store path of the sum kernel; it must
// give the same values, with one thread and with several.
TEST(GSpmm, LargeOutputsMatchReference) {
  const Graph g = testing::random_graph(70000, 300000, 5);
  at::manual_seed(3);
  const at::Tensor x = at::randn({g.num_src(), 128}), w = at::rand({g.num_edges(), 1});
  const int before = at::get_num_threads();
  for (int threads : {1, 2}) {
    at::set_num_threads(threads);
    for (const char* reduce : {"sum", "mean"}) {
      SCOPED_TRACE(::testing::Message() << reduce << " threads=" << threads);
      EXPECT_TRUE(at::allclose(ops::gspmm(g, "copy_lhs", reduce, x, at::Tensor()),
                               testing::reference_gspmm(g, "copy_lhs", reduce, x, at::Tensor()), 1e-5, 1e-5));
      EXPECT_TRUE(at::allclose(ops::gspmm(g, "mul", reduce, x, w), testing::reference_gspmm(g, "mul", reduce, x, w),
                               1e-5, 1e-5));
    }
  }
  at::set_num_threads(before);
}

}  // namespace
}  // namespace ripple
