// Micro-benchmarks of the kernel algebra against a measured copy bandwidth and against the
// unfused LibTorch formulation (index_select + index_add_, edge-sized messages) that plain
// PyG runs. Graphs, the traffic model and the counters are described in bench_common.h.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/csrc/autograd/autograd.h>
#include <benchmark/benchmark.h>

#include <cstring>
#include <map>

#include "bench_common.h"
#include "ripple/link_dataset.h"
#include "ripple/ops.h"

namespace ripple::bench {
namespace {

// STREAM-like copy: read and write 256 MiB, all threads.
void BM_CopyBandwidth(benchmark::State& state) {
  const int64_t n = 64 << 20;
  at::Tensor a = at::ones({n}), b = at::zeros({n});  // both touched before timing
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
  const Graph& g = graph_for(state.range(0));
  state.SetLabel(graph_name(state.range(0)));
  const int64_t f = state.range(1);
  const at::Tensor x = at::randn({g.num_nodes(), f});
  at::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(ops::gspmm(g, "copy_lhs", kNames[kReduce], x, at::Tensor()));
  set_traffic(state, g, f);
}

// The same sum through the six-tensor form, which checks the arrays' values on every call
// (the graph-handle form above checked them once, when the graph was built). Args: graph
// kind, F, and 0: handle form, 1: six-tensor form; side by side at F = 1 and 64.
void BM_GSpmmGraphArrayChecks(benchmark::State& state) {
  const Graph& g = graph_for(state.range(0));
  state.SetLabel(std::string(graph_name(state.range(0))) + (state.range(2) ? " six-tensor" : " handle"));
  const int64_t f = state.range(1);
  const at::Tensor x = at::randn({g.num_nodes(), f});
  const CsrView& r = g.csr();
  using Opt = c10::optional<at::Tensor>;
  static const auto six_tensor =
      c10::Dispatcher::singleton()
          .findSchemaOrThrow("ripple::gspmm", "")
          .typed<at::Tensor(const at::Tensor&, const at::Tensor&, const Opt&, const at::Tensor&, const at::Tensor&,
                            const Opt&, c10::string_view, c10::string_view, const Opt&, const Opt&)>();
  at::NoGradGuard no_grad;
  for (auto _ : state) {
    benchmark::DoNotOptimize(state.range(2) ? six_tensor.call(g.csc_indptr(), g.csc_indices(), c10::nullopt, r.indptr,
                                                              r.indices, Opt(r.eids), "copy_lhs", "sum", Opt(x),
                                                              c10::nullopt)
                                            : ops::gspmm(g, "copy_lhs", "sum", x, at::Tensor()));
  }
  set_traffic(state, g, f);
}

void BM_GSpmmMulEdgeWeight(benchmark::State& state) {
  const Graph& g = graph_for(state.range(0));
  state.SetLabel(graph_name(state.range(0)));
  const int64_t f = state.range(1);
  const at::Tensor x = at::randn({g.num_nodes(), f}), w = at::rand({g.num_edges(), 1});
  at::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(ops::gspmm(g, "mul", "sum", x, w));
  set_traffic(state, g, f);
}

// The unfused formulation: gather source rows per edge, scale, scatter-add by destination.
void BM_UnfusedMulEdgeWeight(benchmark::State& state) {
  const Graph& g = graph_for(state.range(0));
  state.SetLabel(graph_name(state.range(0)));
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
  const Graph& g = graph_for(state.range(0));
  state.SetLabel(graph_name(state.range(0)));
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
  const Graph& g = graph_for(state.range(0));
  state.SetLabel(graph_name(state.range(0)));
  const int64_t f = state.range(1);
  const at::Tensor a = at::randn({g.num_nodes(), f}), b = at::randn({g.num_nodes(), f});
  at::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(ops::gsddmm(g, "dot", a, b, "src", "dst"));
  set_traffic(state, g, f);
}

void BM_EdgeSoftmax(benchmark::State& state) {
  const Graph& g = graph_for(state.range(0));
  state.SetLabel(graph_name(state.range(0)));
  const int64_t heads = state.range(1);
  const at::Tensor s = at::randn({g.num_edges(), heads});
  at::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(ops::edge_softmax(g, s));
  state.SetBytesProcessed(state.iterations() * g.num_edges() * heads * 4 * 3);
}

// Backward of a mean aggregation: the gradient is a gspmm over the reverse graph.
void BM_GSpmmCopyLhsSumBackward(benchmark::State& state) {
  const Graph& g = graph_for(state.range(0));
  state.SetLabel(graph_name(state.range(0)));
  const int64_t f = state.range(1);
  const at::Tensor x = at::randn({g.num_nodes(), f}).set_requires_grad(true);
  const at::Tensor out = ops::gspmm(g, "copy_lhs", "sum", x, at::Tensor());
  const at::Tensor grad = at::randn_like(out);
  for (auto _ : state) benchmark::DoNotOptimize(torch::autograd::grad({out}, {x}, {grad}, /*retain_graph=*/true));
  set_traffic(state, g, f);
}

// GAT's attention logits: per-head scores of source and destination added on each edge.
void BM_GSddmmAdd(benchmark::State& state) {
  const Graph& g = graph_for(state.range(0));
  state.SetLabel(graph_name(state.range(0)));
  const int64_t heads = state.range(1);
  const at::Tensor a = at::randn({g.num_nodes(), heads, 1}), b = at::randn({g.num_nodes(), heads, 1});
  at::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(ops::gsddmm(g, "add", a, b, "src", "dst"));
  state.SetBytesProcessed(state.iterations() * g.num_edges() * (heads * 4 * 3 + g.csc_indices().element_size()));
}

void BM_GSddmmDotBackward(benchmark::State& state) {
  const Graph& g = graph_for(state.range(0));
  state.SetLabel(graph_name(state.range(0)));
  const int64_t f = state.range(1);
  const at::Tensor a = at::randn({g.num_nodes(), f}).set_requires_grad(true);
  const at::Tensor b = at::randn({g.num_nodes(), f}).set_requires_grad(true);
  const at::Tensor out = ops::gsddmm(g, "dot", a, b, "src", "dst");
  const at::Tensor grad = at::randn_like(out);
  for (auto _ : state) benchmark::DoNotOptimize(torch::autograd::grad({out}, {a, b}, {grad}, /*retain_graph=*/true));
  set_traffic(state, g, f, 2);
}

void BM_EdgeSoftmaxBackward(benchmark::State& state) {
  const Graph& g = graph_for(state.range(0));
  state.SetLabel(graph_name(state.range(0)));
  const int64_t heads = state.range(1);
  const at::Tensor s = at::randn({g.num_edges(), heads}).set_requires_grad(true);
  const at::Tensor out = ops::edge_softmax(g, s);
  const at::Tensor grad = at::randn_like(out);
  for (auto _ : state) benchmark::DoNotOptimize(torch::autograd::grad({out}, {s}, {grad}, /*retain_graph=*/true));
  state.SetBytesProcessed(state.iterations() * g.num_edges() * heads * 4 * 4);
}

void feature_grid(benchmark::internal::Benchmark* b) {
  for (int kind : {0, 1}) {
    for (int f : {16, 64, 128, 256}) b->Args({kind, f});
  }
  b->ArgNames({"graph", "F"})->Unit(benchmark::kMillisecond)->UseRealTime();
}

BENCHMARK(BM_GSpmmCopyLhs<0>)->Name("BM_GSpmmCopyLhsSum")->Apply(feature_grid);
// Index width and node order at F = 128: int32 indices, RCM and degree reordering.
BENCHMARK(BM_GSpmmCopyLhs<0>)->Name("BM_GSpmmCopyLhsSumOrder")->Args({2, 128})->Args({3, 128})->Args({4, 128})
    ->Args({5, 128})->ArgNames({"graph", "F"})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GSpmmGraphArrayChecks)->ArgsProduct({{0, 1}, {1, 64}, {0, 1}})->ArgNames({"graph", "F", "six_tensor"})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GSpmmCopyLhs<1>)->Name("BM_GSpmmCopyLhsMean")->Apply(feature_grid);
BENCHMARK(BM_GSpmmCopyLhs<2>)->Name("BM_GSpmmCopyLhsMax")->Apply(feature_grid);
BENCHMARK(BM_GSpmmMulEdgeWeight)->Apply(feature_grid);
BENCHMARK(BM_UnfusedMulEdgeWeight)->Apply(feature_grid);
BENCHMARK(BM_GSpmmMulEdgeWeightBackward)->Apply(feature_grid);
BENCHMARK(BM_GSddmmDot)->Apply(feature_grid);
BENCHMARK(BM_GSpmmCopyLhsSumBackward)->Apply(feature_grid);
BENCHMARK(BM_GSddmmDotBackward)->Apply(feature_grid);
BENCHMARK(BM_GSddmmAdd)->Args({0, 1})->Args({0, 4})->Args({1, 1})->Args({1, 4})
    ->ArgNames({"graph", "heads"})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_EdgeSoftmaxBackward)->Args({0, 1})->Args({0, 4})->Args({1, 1})->Args({1, 4})
    ->ArgNames({"graph", "heads"})->Unit(benchmark::kMillisecond)->UseRealTime();
// The benchmark graph made simple and undirected (what link prediction's message graph is):
// symmetrized, duplicate edges merged, in the same index type.
const Graph& simple_undirected(int64_t variant) {
  static std::map<int64_t, Graph> cache;
  auto it = cache.find(variant);
  if (it != cache.end()) return it->second;
  const Graph& g = graph_for(variant);
  GraphBuildOptions o;
  o.symmetrize = true;
  o.int32_indices = g.index_type() == at::kInt;
  const CooView& coo = g.coo();
  return cache.emplace(variant, Graph::from_edges(g.num_nodes(), coo.src.to(at::kLong), coo.dst.to(at::kLong), o))
      .first->second;
}

// Common neighbours of 65,536 pairs that are edges of the graph (what link prediction asks
// for its positives), then the NCN aggregation over them (gspmm copy_lhs sum, width 256).
// Bytes: both adjacency rows read once per pair (the merge's traffic); items: rows' entries
// stepped over.
void BM_CommonNeighbors(benchmark::State& state) {
  const Graph& g = simple_undirected(state.range(0));
  state.SetLabel(graph_name(state.range(0)));
  const int64_t batch = 65536;
  const CooView& coo = g.coo();
  const at::Tensor pick = at::randint(0, g.num_edges(), {batch}, at::kLong);
  const at::Tensor pairs = at::stack({coo.src.index_select(0, pick), coo.dst.index_select(0, pick)}).to(at::kLong);
  const at::Tensor deg = g.in_degrees();
  const double entries = (deg.index_select(0, pairs[0]) + deg.index_select(0, pairs[1])).sum().item<double>();
  const bool aggregate = state.range(1) == 1;
  const bool raw_arrays = state.range(2) == 1;
  const at::Tensor x = at::randn({g.num_nodes(), 256});
  at::NoGradGuard no_grad;
  int64_t found = 0;
  // raw_arrays: the operator as Python calls it with loose tensors, which checks the whole
  // graph on every call; otherwise the Graph form, checked once per graph.
  static const auto raw = c10::Dispatcher::singleton()
                              .findSchemaOrThrow("ripple::common_neighbors", "")
                              .typed<std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&,
                                                                        const at::Tensor&)>();
  for (auto _ : state) {
    if (raw_arrays) {
      found = std::get<1>(raw.call(g.csc_indptr(), g.csc_indices(), pairs)).numel();
      benchmark::DoNotOptimize(found);
      continue;
    }
    const Graph cn = ops::common_neighbors(g, pairs);
    found = cn.num_edges();
    if (aggregate) benchmark::DoNotOptimize(ops::gspmm(cn, "copy_lhs", "sum", x, at::Tensor()));
    benchmark::DoNotOptimize(found);
  }
  const double index_bytes = g.index_type() == at::kInt ? 4 : 8;
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * entries * index_bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * entries));
  state.counters["common_per_pair"] = static_cast<double>(found) / batch;
}
BENCHMARK(BM_CommonNeighbors)->Args({0, 0, 0})->Args({0, 0, 1})->Args({1, 0, 0})->Args({1, 0, 1})->Args({2, 0, 0})
    ->Args({2, 0, 1})->Args({1, 1, 0})->ArgNames({"graph", "aggregate", "raw_arrays"})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
// NCN's common-neighbour aggregation for one batch as training runs it: 24,576 pairs that
// are edges of the graph, their common neighbours, the sum of the neighbours' rows (width
// 256), and the gradient of that sum back to the rows (a gspmm over the reverse of the
// common-neighbour graph, whose CSR is built on the way). Args: graph kind; stage 0: common
// neighbours only, 1: and the forward sum, 2: and the backward. Items: common neighbours.
void BM_NcnAggregation(benchmark::State& state) {
  const Graph& g = simple_undirected(state.range(0));
  state.SetLabel(graph_name(state.range(0)));
  const int64_t stage = state.range(1);
  const CooView& coo = g.coo();
  const at::Tensor pick = at::randint(0, g.num_edges(), {24576}, at::kLong);
  const at::Tensor pairs = at::stack({coo.src.index_select(0, pick), coo.dst.index_select(0, pick)}).to(at::kLong);
  const at::Tensor rows = at::randn({g.num_nodes(), 256}).requires_grad_(stage == 2);
  int64_t found = 0;
  for (auto _ : state) {
    const Graph cn = ops::common_neighbors(g, pairs);
    found = cn.num_edges();
    if (stage == 0) continue;
    const at::Tensor sum = ops::gspmm(cn, "copy_lhs", "sum", rows, at::Tensor());
    if (stage == 2) {
      rows.mutable_grad() = at::Tensor();
      sum.backward(at::ones_like(sum));
    }
    benchmark::DoNotOptimize(sum.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * found);
  state.counters["common_per_pair"] = static_cast<double>(found) / static_cast<double>(pairs.size(1));
}
BENCHMARK(BM_NcnAggregation)->Args({0, 0})->Args({0, 1})->Args({0, 2})->ArgNames({"graph", "stage"})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
// The graph one NCN training batch reads under link.mask_targets: the message graph without
// the batch's 24,576 training edges, in both directions. Arg 0: rebuilt from the kept edges
// (a sort of every edge); 1: cut out of the full message graph (one copy of its arrays).
// Items: edges of the full graph.
void BM_MaskedMessageGraph(benchmark::State& state) {
  const Graph& g = simple_undirected(0);
  state.SetLabel(graph_name(0));
  LinkDataset data;
  data.num_nodes = g.num_nodes();
  const CooView& coo = g.coo();
  const at::Tensor src = coo.src.to(at::kLong), dst = coo.dst.to(at::kLong);
  data.train_edges = at::stack({src, dst}).index_select(1, src.lt(dst).nonzero().squeeze(1)).contiguous();
  const Graph full = data.message_graph();
  const at::Tensor removed = at::randperm(data.train_edges.size(1), at::kLong).narrow(0, 0, 24576);
  const bool cut = state.range(0) == 1;
  int64_t kept = 0;
  for (auto _ : state) {
    kept = data.message_graph_without(removed, cut ? &full : nullptr).num_edges();
    benchmark::DoNotOptimize(kept);
  }
  state.SetItemsProcessed(state.iterations() * full.num_edges());
  state.counters["kept_fraction"] = static_cast<double>(kept) / static_cast<double>(full.num_edges());
}
BENCHMARK(BM_MaskedMessageGraph)->Arg(0)->Arg(1)->ArgName("cut")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_EdgeSoftmax)->Args({0, 1})->Args({0, 4})->Args({1, 1})->Args({1, 4})
    ->ArgNames({"graph", "heads"})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace ripple::bench
