// The dense side of a training step.
// Dropout on a [2708, 1433] (Cora-sized) and a [100k, 128] activation: Ripple's counter-based
// mask (nn::dropout) against LibTorch's at::dropout, whose bernoulli_ draws one scalar at a
// time from a stateful generator in Debian's MKL-less build.
// Linear transforms through LibTorch's BLAS (OpenBLAS when installed) for the skinny shapes
// GNNs make, a layer's forward and backward through LibTorch and through Ripple's kernels,
// and Cora's bag-of-words input as Ripple runs it: sparse rows times the weight.
#include <ATen/ATen.h>
#include <benchmark/benchmark.h>

#include "ripple/nn/features.h"
#include "nn/dense_linear.h"
#include "ripple/nn/functional.h"

namespace ripple::bench {
namespace {

const int64_t kShapes[][2] = {{2708, 1433}, {100000, 128}};

void BM_DropoutRipple(benchmark::State& state) {
  const at::Tensor x = at::randn({kShapes[state.range(0)][0], kShapes[state.range(0)][1]});
  nn::ForwardContext ctx{true, 1, 1, 0};
  for (auto _ : state) benchmark::DoNotOptimize(nn::dropout(x, 0.5, ctx));
  state.SetItemsProcessed(state.iterations() * x.numel());
}

void BM_DropoutLibTorch(benchmark::State& state) {
  const at::Tensor x = at::randn({kShapes[state.range(0)][0], kShapes[state.range(0)][1]});
  for (auto _ : state) benchmark::DoNotOptimize(at::dropout(x, 0.5, /*train=*/true));
  state.SetItemsProcessed(state.iterations() * x.numel());
}

BENCHMARK(BM_DropoutRipple)->Arg(0)->Arg(1)->ArgName("shape")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_DropoutLibTorch)->Arg(0)->Arg(1)->ArgName("shape")->Unit(benchmark::kMillisecond)->UseRealTime();

// [rows, in] x [in, out]: Cora's first layer, 100k / 1M-node hidden layers, and a hidden
// layer of ogbl-ddi's link predictor (65,536 pairs of width 256).
const int64_t kLinear[][3] = {{2708, 1433, 16}, {100000, 128, 128}, {1000000, 128, 256}, {65536, 256, 256}};

// The product through LibTorch's BLAS.
void BM_LinearDense(benchmark::State& state) {
  const auto& s = kLinear[state.range(0)];
  const at::Tensor x = at::randn({s[0], s[1]}), w = at::randn({s[2], s[1]});
  for (auto _ : state) benchmark::DoNotOptimize(at::mm(x, w.t()));
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * s[0] * s[1] * s[2] * state.iterations() / 1e9,
                                                benchmark::Counter::kIsRate);
}

// A dense layer's forward and backward (gradients of the input and the weight: three
// products), as LibTorch runs it (at::matmul) and as Ripple's layers do (nn::dense_linear:
// its own kernels on AVX-512 builds, src/ops/cpu/dense_gemm.h).
void linear_step(benchmark::State& state, bool ripple_kernels) {
  const auto& s = kLinear[state.range(0)];
  at::manual_seed(0);
  const at::Tensor x = at::randn({s[0], s[1]}).requires_grad_(true);
  const at::Tensor w = at::randn({s[2], s[1]}).requires_grad_(true);
  const at::Tensor upstream = at::randn({s[0], s[2]});
  for (auto _ : state) {
    const at::Tensor y = ripple_kernels ? nn::dense_linear(x, w, at::Tensor()) : at::matmul(x, w.t());
    y.backward(upstream);
    x.mutable_grad() = at::Tensor();
    w.mutable_grad() = at::Tensor();
  }
  state.counters["GFLOPs"] = benchmark::Counter(3 * 2.0 * s[0] * s[1] * s[2] * state.iterations() / 1e9,
                                                benchmark::Counter::kIsRate);
}
void BM_LinearStepLibTorch(benchmark::State& state) { linear_step(state, false); }
void BM_LinearStepRipple(benchmark::State& state) { linear_step(state, true); }

// Cora-like input: 1.3% of 2708 x 1433 entries are 1, kept as sparse rows.
void BM_LinearSparseFeatures(benchmark::State& state) {
  at::manual_seed(0);
  const at::Tensor dense = (at::rand({2708, 1433}) < 0.0127).to(at::kFloat);
  const nn::Features x = nn::Features::from_dense(dense, 0.1);
  const at::Tensor w = at::randn({16, 1433});
  for (auto _ : state) benchmark::DoNotOptimize(x.linear(w, at::Tensor()));
}

BENCHMARK(BM_LinearDense)->Arg(0)->Arg(1)->Arg(2)->Arg(3)->ArgName("shape")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_LinearStepLibTorch)->Arg(1)->Arg(3)->ArgName("shape")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_LinearStepRipple)->Arg(1)->Arg(3)->ArgName("shape")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_LinearSparseFeatures)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace ripple::bench
