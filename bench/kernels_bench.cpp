// Micro-benchmarks of the kernel algebra against a measured copy bandwidth and against the
// unfused LibTorch formulation (index_select + index_add_, edge-sized messages) that plain
// PyG runs. Each result reports bytes through SetBytesProcessed under the no-reuse traffic
// model (every gathered row read from memory), and counters for the perfect-reuse model.
//
// Traffic model for aggregation over E edges, F float features, N nodes, int64 indices:
//   no reuse:      E*F*4 (gathered rows) + N*F*4 (output) + E*8 (indices) + N*8 (indptr)
//   perfect reuse: N*F*4 (each input row once) + N*F*4 (output) + E*8 + N*8
// Graph sizes are picked with RIPPLE_BENCH_NODES / RIPPLE_BENCH_EDGES (default 100k / 2M).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>

#include "ripple/generate.h"
#include "ripple/ops.h"

namespace ripple::bench {
namespace {

int64_t env_or(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoll(v) : fallback;
}

const Graph& graph_for(int kind) {
  static std::map<int, std::unique_ptr<Graph>> cache;
  auto& g = cache[kind];
  if (!g) {
    g = std::make_unique<Graph>(ripple::make_graph(kind == 0 ? "uniform" : "rmat", env_or("RIPPLE_BENCH_NODES", 100000),
                                           env_or("RIPPLE_BENCH_EDGES", 2000000), 1));
    g->csr();
    g->coo();
  }
  return *g;
}

void set_traffic(benchmark::State& state, const Graph& g, int64_t f) {
  const double n = static_cast<double>(g.num_nodes()), e = static_cast<double>(g.num_edges());
  const double no_reuse = e * f * 4 + n * f * 4 + e * 8 + n * 8;
  const double reuse = 2 * n * f * 4 + e * 8 + n * 8;
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * no_reuse));
  state.counters["reuse_GBps"] = benchmark::Counter(state.iterations() * reuse / 1e9, benchmark::Counter::kIsRate);
  state.counters["GFLOPs"] = benchmark::Counter(state.iterations() * e * f / 1e9, benchmark::Counter::kIsRate);
}

// STREAM-like copy: read and write 256 MiB, all threads.
void BM_CopyBandwidth(benchmark::State& state) {
  const int64_t n = 64 << 20;
  at::Tensor a = at::ones({n}), b = at::empty({n});
  for (auto _ : state) {
    const float* src = a.data_ptr<float>();
    float* dst = b.data_ptr<float>();
    at::parallel_for(0, n, 1 << 20, [&](int64_t begin, int64_t end) {
      std::memcpy(dst + begin, src + begin, (end - begin) * sizeof(float));
    });
    benchmark::DoNotOptimize(dst);
  }
  state.SetBytesProcessed(state.iterations() * n * 8);
}
BENCHMARK(BM_CopyBandwidth)->Unit(benchmark::kMillisecond)->UseRealTime();

// Args: graph kind (0 uniform, 1 rmat), feature width.
template <int kReduce>
void BM_GSpmmCopyLhs(benchmark::State& state) {
  static const char* kNames[] = {"sum", "mean", "max"};
  const Graph& g = graph_for(static_cast<int>(state.range(0)));
  const int64_t f = state.range(1);
  const at::Tensor x = at::randn({g.num_nodes(), f});
  at::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(ops::gspmm(g, "copy_lhs", kNames[kReduce], x, at::Tensor()));
  set_traffic(state, g, f);
}

void BM_GSpmmMulEdgeWeight(benchmark::State& state) {
  const Graph& g = graph_for(static_cast<int>(state.range(0)));
  const int64_t f = state.range(1);
  const at::Tensor x = at::randn({g.num_nodes(), f}), w = at::rand({g.num_edges(), 1});
  at::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(ops::gspmm(g, "mul", "sum", x, w));
  set_traffic(state, g, f);
}

// The unfused formulation: gather source rows per edge, scale, scatter-add by destination.
void BM_UnfusedMulEdgeWeight(benchmark::State& state) {
  const Graph& g = graph_for(static_cast<int>(state.range(0)));
  const int64_t f = state.range(1);
  const at::Tensor x = at::randn({g.num_nodes(), f}), w = at::rand({g.num_edges(), 1});
  at::NoGradGuard no_grad;
  for (auto _ : state) {
    at::Tensor msg = x.index_select(0, g.coo().src) * w;
    benchmark::DoNotOptimize(at::zeros({g.num_nodes(), f}).index_add_(0, g.coo().dst, msg));
  }
  set_traffic(state, g, f);
}

void BM_GSpmmMulEdgeWeightBackward(benchmark::State& state) {
  const Graph& g = graph_for(static_cast<int>(state.range(0)));
  const int64_t f = state.range(1);
  const at::Tensor x = at::randn({g.num_nodes(), f}).set_requires_grad(true), w = at::rand({g.num_edges(), 1});
  const at::Tensor grad = at::randn({g.num_nodes(), f});
  for (auto _ : state) {
    const at::Tensor out = ops::gspmm(g, "mul", "sum", x, w);
    out.backward(grad);
    x.mutable_grad().reset();
  }
  set_traffic(state, g, 2 * f);
}

void BM_GSddmmDot(benchmark::State& state) {
  const Graph& g = graph_for(static_cast<int>(state.range(0)));
  const int64_t f = state.range(1);
  const at::Tensor a = at::randn({g.num_nodes(), f}), b = at::randn({g.num_nodes(), f});
  at::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(ops::gsddmm(g, "dot", a, b, "src", "dst"));
  set_traffic(state, g, f);
}

void BM_EdgeSoftmax(benchmark::State& state) {
  const Graph& g = graph_for(static_cast<int>(state.range(0)));
  const int64_t heads = state.range(1);
  const at::Tensor s = at::randn({g.num_edges(), heads});
  at::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(ops::edge_softmax(g, s));
  state.SetBytesProcessed(state.iterations() * g.num_edges() * heads * 4 * 3);
}

void feature_grid(benchmark::internal::Benchmark* b) {
  for (int kind : {0, 1}) {
    for (int f : {16, 64, 128, 256}) b->Args({kind, f});
  }
  b->ArgNames({"rmat", "F"})->Unit(benchmark::kMillisecond)->UseRealTime();
}

BENCHMARK(BM_GSpmmCopyLhs<0>)->Name("BM_GSpmmCopyLhsSum")->Apply(feature_grid);
BENCHMARK(BM_GSpmmCopyLhs<1>)->Name("BM_GSpmmCopyLhsMean")->Apply(feature_grid);
BENCHMARK(BM_GSpmmCopyLhs<2>)->Name("BM_GSpmmCopyLhsMax")->Apply(feature_grid);
BENCHMARK(BM_GSpmmMulEdgeWeight)->Apply(feature_grid);
BENCHMARK(BM_UnfusedMulEdgeWeight)->Apply(feature_grid);
BENCHMARK(BM_GSpmmMulEdgeWeightBackward)->Apply(feature_grid);
BENCHMARK(BM_GSddmmDot)->Apply(feature_grid);
BENCHMARK(BM_EdgeSoftmax)->Args({0, 1})->Args({0, 4})->Args({1, 1})->Args({1, 4})
    ->ArgNames({"rmat", "heads"})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace ripple::bench

BENCHMARK_MAIN();
