// Ripple's dense products (src/ops/cpu/dense_gemm.h) against plain double-precision loops,
// and dense_linear (src/nn/dense_linear.h), forward and backward, against ATen's linear:
// every block shape the kernel table holds (1-6 rows, 1-4 vectors), inner dimensions across
// the depth blocking, row counts across gemm_reduce's chunks and slices, and results that do
// not depend on the thread count.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <cmath>
#include <vector>

#include "nn/dense_linear.h"
#include "ops/cpu/dense_gemm.h"

namespace ripple {
namespace {

namespace dense = ops::cpu::dense;

// Fails where |got - expected| exceeds a float rounding bound for sums of `terms` products
// whose magnitudes add up to `scale`.
void expect_close(double got, double expected, double scale, int64_t terms, const std::string& where) {
  const double bound = 1e-6 * scale * std::sqrt(static_cast<double>(terms) + 1.0) + 1e-6;
  ASSERT_LE(std::fabs(got - expected), bound) << where << ": got " << got << ", expected " << expected;
}

// gemm_rows against a double loop, B given as a matrix [k][n] (transposed = false) or as
// W [n][k] read transposed, with and without a bias; C has a row stride past n whose extra
// columns must stay untouched.
void check_gemm_rows(int64_t m, int64_t n, int64_t k, bool transposed, bool with_bias) {
  at::manual_seed(m * 1000 + n * 10 + k);
  const at::Tensor a = at::randn({m, k}) , b = transposed ? at::randn({n, k}) : at::randn({k, n});
  const at::Tensor bias = at::randn({n});
  const int64_t ldc = n + 3;
  std::vector<float> c(static_cast<size_t>(std::max<int64_t>(m, 1) * ldc), 7.0f);
  const int64_t b_row = transposed ? 1 : n, b_col = transposed ? k : 1;
  dense::gemm_rows(m, n, k, a.data_ptr<float>(), k, b.data_ptr<float>(), b_row, b_col,
                   with_bias ? bias.data_ptr<float>() : nullptr, c.data(), ldc);
  const float* ap = a.data_ptr<float>();
  const float* bp = b.data_ptr<float>();
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double expected = with_bias ? bias[j].item<double>() : 0.0, scale = std::fabs(expected);
      for (int64_t t = 0; t < k; ++t) {
        const double product = static_cast<double>(ap[i * k + t]) * bp[t * b_row + j * b_col];
        expected += product;
        scale += std::fabs(product);
      }
      expect_close(c[static_cast<size_t>(i * ldc + j)], expected, scale, k,
                   "m " + std::to_string(m) + " n " + std::to_string(n) + " k " + std::to_string(k) + " at (" +
                       std::to_string(i) + ", " + std::to_string(j) + ")");
    }
    for (int64_t j = n; j < ldc; ++j) ASSERT_EQ(c[static_cast<size_t>(i * ldc + j)], 7.0f) << "past column " << n;
  }
}

TEST(DenseGemm, RowsMatchAPlainLoopForEveryBlockShape) {
  // m: 1-6 rows alone and with a partial last block; n: 1-4 vectors per panel, and two panels
  // with a partial second one; k: empty, short, one depth block, and across two and three.
  for (const int64_t m : {1, 5, 6, 13}) {
    // (One vector is 8 columns with AVX2: 8 and 24 end in a panel of a single vector there.)
    for (const int64_t n : {dense::kColumnMultiple, 3 * dense::kColumnMultiple, int64_t{16}, int64_t{32}, int64_t{48},
                            int64_t{64}, int64_t{80}, int64_t{176}}) {
      for (const int64_t k : {0, 1, 7}) {
        check_gemm_rows(m, n, k, false, true);
        check_gemm_rows(m, n, k, true, false);
      }
    }
  }
  for (const int64_t k : {256, 300, 530}) {
    check_gemm_rows(20, 80, k, false, true);
    check_gemm_rows(20, 80, k, true, false);
    check_gemm_rows(7, 64, k, true, true);
  }
}

TEST(DenseGemm, ReduceMatchesAPlainLoopAcrossChunksAndSlices) {
  // m: none, one row, within a chunk, a chunk and a bit, a slice and a bit, several slices.
  for (const int64_t m : {0, 1, 100, 257, 2049, 4500}) {
    for (const auto& [p, n] : std::vector<std::pair<int64_t, int64_t>>{
             {1, 16}, {5, 48}, {13, 80}, {6, 64}, {7, dense::kColumnMultiple}, {3, 3 * dense::kColumnMultiple}}) {
      at::manual_seed(m + p * 31 + n);
      const at::Tensor g = at::randn({m, p + 2}), x = at::randn({m, n});  // G with a row stride past p
      const int64_t ldc = n + 1;
      std::vector<float> c(static_cast<size_t>(p * ldc), 7.0f);
      dense::gemm_reduce(m, p, n, g.data_ptr<float>(), p + 2, x.data_ptr<float>(), n, c.data(), ldc);
      const auto ga = g.accessor<float, 2>();
      const auto xa = x.accessor<float, 2>();
      for (int64_t i = 0; i < p; ++i) {
        for (int64_t j = 0; j < n; ++j) {
          double expected = 0, scale = 0;
          for (int64_t r = 0; r < m; ++r) {
            const double product = static_cast<double>(ga[r][i]) * xa[r][j];
            expected += product;
            scale += std::fabs(product);
          }
          expect_close(c[static_cast<size_t>(i * ldc + j)], expected, scale, m,
                       "m " + std::to_string(m) + " p " + std::to_string(p) + " n " + std::to_string(n));
        }
        ASSERT_EQ(c[static_cast<size_t>(i * ldc + n)], 7.0f);
      }
    }
  }
}

TEST(DenseGemm, ResultsDoNotDependOnTheThreadCount) {
  at::manual_seed(3);
  const int64_t m = 5000, p = 48, n = 64;
  const at::Tensor g = at::randn({m, p}), x = at::randn({m, n}), w = at::randn({n, n});
  const int threads = at::get_num_threads();
  std::vector<std::vector<float>> reduced, rows;
  for (const int t : {1, 2, 3}) {
    at::set_num_threads(t);
    reduced.emplace_back(static_cast<size_t>(p * n));
    dense::gemm_reduce(m, p, n, g.data_ptr<float>(), p, x.data_ptr<float>(), n, reduced.back().data(), n);
    rows.emplace_back(static_cast<size_t>(m * n));
    dense::gemm_rows(m, n, n, x.data_ptr<float>(), n, w.data_ptr<float>(), 1, n, nullptr, rows.back().data(), n);
  }
  at::set_num_threads(threads);
  EXPECT_EQ(reduced[0], reduced[1]);
  EXPECT_EQ(reduced[0], reduced[2]);
  EXPECT_EQ(rows[0], rows[1]);
  EXPECT_EQ(rows[0], rows[2]);
}

// dense_linear and its gradients against at::linear in double precision.
void check_dense_linear(const at::Tensor& x_in, int64_t out, bool with_bias) {
  const int64_t in = x_in.size(-1);
  const at::Tensor x = x_in.detach().requires_grad_(true);
  const at::Tensor w = at::randn({out, in}).requires_grad_(true);
  const at::Tensor b = with_bias ? at::randn({out}).requires_grad_(true) : at::Tensor();
  const at::Tensor y = nn::dense_linear(x, w, b);
  const at::Tensor upstream = at::randn(y.sizes());
  torch::autograd::backward({y}, {upstream});

  const at::Tensor xd = x.detach().to(at::kDouble).requires_grad_(true);
  const at::Tensor wd = w.detach().to(at::kDouble).requires_grad_(true);
  const at::Tensor bd = with_bias ? b.detach().to(at::kDouble).requires_grad_(true) : at::Tensor();
  const at::Tensor yd = at::linear(xd, wd, bd);
  torch::autograd::backward({yd}, {upstream.to(at::kDouble)});

  const double tol = 1e-4;
  EXPECT_TRUE(at::allclose(y.to(at::kDouble), yd, tol, tol)) << "forward";
  EXPECT_TRUE(at::allclose(x.grad().to(at::kDouble), xd.grad(), tol, tol)) << "gradient of x";
  EXPECT_TRUE(at::allclose(w.grad().to(at::kDouble), wd.grad(), tol, tol)) << "gradient of the weight";
  if (with_bias) {
    EXPECT_TRUE(at::allclose(b.grad().to(at::kDouble), bd.grad(), tol, tol)) << "gradient of the bias";
  }
}

TEST(DenseLinear, ForwardAndBackwardMatchATen) {
  at::manual_seed(11);
  ASSERT_EQ(nn::dense_linear_uses_own_kernels(at::randn({300, 32}), at::randn({48, 32})), dense::kAvailable);
  check_dense_linear(at::randn({300, 32}), 48, true);
  check_dense_linear(at::randn({300, 32}), 48, false);
  check_dense_linear(at::randn({32, 300}).t(), 64, true);  // a transposed (non-contiguous) input
  // ATen's path: too few rows, an output width not a multiple of 16, three dimensions.
  EXPECT_FALSE(nn::dense_linear_uses_own_kernels(at::randn({10, 32}), at::randn({48, 32})));
  EXPECT_FALSE(nn::dense_linear_uses_own_kernels(at::randn({300, 32}), at::randn({1, 32})));
  EXPECT_FALSE(nn::dense_linear_uses_own_kernels(at::randn({2, 150, 32}), at::randn({48, 32})));
  check_dense_linear(at::randn({10, 32}), 48, true);
  check_dense_linear(at::randn({300, 32}), 1, true);
  check_dense_linear(at::randn({2, 150, 32}), 48, true);
}

TEST(DenseLinear, OnlyTheGradientsAskedForAreComputed) {
  at::manual_seed(12);
  const at::Tensor x = at::randn({200, 16});  // no gradient wanted
  const at::Tensor w = at::randn({32, 16}).requires_grad_(true);
  nn::dense_linear(x, w, at::Tensor()).sum().backward();
  ASSERT_TRUE(w.grad().defined());
  // d/dW of sum(x W^T) is the column sums of x, in every row.
  EXPECT_TRUE(at::allclose(w.grad(), x.sum(0).expand({32, 16}), 1e-4, 1e-4));
  EXPECT_FALSE(x.grad().defined());
}

// A gradient penalty, d/dW of |d(sum y^2)/dx|^2, needs the backward's own graph.
TEST(DenseLinear, SecondDerivativesMatchATen) {
  at::manual_seed(13);
  const at::Tensor x0 = at::randn({200, 32}), w0 = at::randn({48, 32}), b0 = at::randn({48});
  auto penalty_gradient = [&](bool ripple) {
    const at::Tensor x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true);
    const at::Tensor b = b0.clone().requires_grad_(true);
    const at::Tensor y = ripple ? nn::dense_linear(x, w, b) : at::linear(x, w, b);
    const at::Tensor gx = torch::autograd::grad({y.pow(2).sum()}, {x}, {}, true, true)[0];
    gx.pow(2).sum().backward();
    return std::make_pair(w.grad(), b.grad());
  };
  ASSERT_TRUE(nn::dense_linear_uses_own_kernels(x0, w0) || !dense::kAvailable);
  const auto [w_ripple, b_ripple] = penalty_gradient(true);
  const auto [w_aten, b_aten] = penalty_gradient(false);
  ASSERT_TRUE(w_ripple.defined() && b_ripple.defined());
  EXPECT_TRUE(at::allclose(w_ripple, w_aten, 1e-4, 1e-2)) << (w_ripple - w_aten).abs().max().item<double>();
  EXPECT_TRUE(at::allclose(b_ripple, b_aten, 1e-4, 1e-2)) << (b_ripple - b_aten).abs().max().item<double>();
}

}  // namespace
}  // namespace ripple
