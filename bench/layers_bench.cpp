// Whole layers, forward + backward, Ripple's fused operators against the same layer written
// with plain LibTorch operators over an edge index (index_select, index_add_, scatter_reduce,
// edge-sized messages: what PyG runs without compiled extensions). Both sides use the same
// weights and graph; the counters give the peak resident memory each adds (peak_MB).
//   GCN:  64 -> 64 and 128 -> 128;  SAGE (mean): 128 -> 128;  GAT: 128 -> heads x 64 (heads 1 or 4).
#include <ATen/ATen.h>
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "bench_common.h"
#include "ripple/nn/graph_cache.h"
#include "ripple/memory.h"
#include "ripple/nn/layers.h"

namespace ripple::bench {
namespace {

constexpr int64_t kIn = 128;

at::Tensor in_degree_float(const Graph& g) { return g.in_degrees().to(at::kFloat).clamp_min(1).unsqueeze(1); }

// One fused or unfused forward + backward per iteration; `step` returns the output. The peak
// memory is that of one untimed step with the allocator's cache of free buffers emptied and
// off, so that it is the step's own working set.
template <typename Step>
void run_layer(benchmark::State& state, const Graph& g, int64_t width, Step step) {
  state.SetLabel(graph_name(state.range(0)));
  {
    const size_t cache_limit = set_cached_memory_limit(0);
    PeakMemory peak;
    peak.reset();
    const at::Tensor out = step();
    out.backward(at::ones_like(out));
    state.counters["peak_MB"] = peak.peak_mb();
    set_cached_memory_limit(cache_limit);
  }
  for (auto _ : state) {
    const at::Tensor out = step();
    out.backward(at::ones_like(out));
  }
  set_traffic(state, g, width, 2);  // forward aggregation + its backward
}

// Args: graph, width (in = out).
void BM_GCNConv(benchmark::State& state) {
  const Graph& base = graph_for(state.range(0));
  const int64_t f = state.range(1);
  nn::GraphCache cache(base);
  torch::manual_seed(0);
  nn::GCNConv conv(f, f);
  const at::Tensor x = at::randn({base.num_nodes(), f});
  nn::ForwardContext ctx;
  cache.gcn_weights();
  run_layer(state, cache.with_self_loops(), f, [&] { return conv->forward(cache, x, ctx); });
}

void BM_GCNConvUnfused(benchmark::State& state) {
  const Graph& base = graph_for(state.range(0));
  nn::GraphCache cache(base);
  const Graph& g = cache.with_self_loops();
  const int64_t f = state.range(1);
  const at::Tensor src = g.coo().src.to(at::kLong), dst = g.coo().dst.to(at::kLong), w = cache.gcn_weights();
  torch::manual_seed(0);
  torch::nn::Linear lin(torch::nn::LinearOptions(f, f).bias(false));
  const at::Tensor bias = torch::zeros({f}, torch::requires_grad());
  const at::Tensor x = at::randn({base.num_nodes(), f});
  run_layer(state, g, f, [&] {
    const at::Tensor h = lin->forward(x);
    const at::Tensor msg = h.index_select(0, src) * w;
    return at::zeros_like(h).index_add(0, dst, msg) + bias;
  });
}

void BM_SAGEConv(benchmark::State& state) {
  const Graph& g = graph_for(state.range(0));
  nn::GraphCache cache(g);
  torch::manual_seed(0);
  nn::SAGEConv conv(kIn, kIn, "mean");
  const at::Tensor x = at::randn({g.num_nodes(), kIn});
  nn::ForwardContext ctx;
  run_layer(state, g, kIn, [&] { return conv->forward(cache, x, ctx); });
}

void BM_SAGEConvUnfused(benchmark::State& state) {
  const Graph& g = graph_for(state.range(0));
  const at::Tensor src = g.coo().src.to(at::kLong), dst = g.coo().dst.to(at::kLong), deg = in_degree_float(g);
  torch::manual_seed(0);
  torch::nn::Linear lin_l(torch::nn::LinearOptions(kIn, kIn)), lin_r(torch::nn::LinearOptions(kIn, kIn).bias(false));
  const at::Tensor x = at::randn({g.num_nodes(), kIn});
  run_layer(state, g, kIn, [&] {
    const at::Tensor agg = at::zeros_like(x).index_add(0, dst, x.index_select(0, src)) / deg;
    return lin_l->forward(agg) + lin_r->forward(x);
  });
}

void BM_GATConv(benchmark::State& state) {
  const Graph& base = graph_for(state.range(0));
  const int64_t heads = state.range(1), width = 64;
  nn::GraphCache cache(base);
  torch::manual_seed(0);
  nn::GATConv conv(kIn, width, heads, /*concat=*/true, 0.2, /*attn_dropout=*/0.0);
  const at::Tensor x = at::randn({base.num_nodes(), kIn});
  nn::ForwardContext ctx;
  run_layer(state, cache.with_self_loops(), heads * width, [&] { return conv->forward(cache, x, ctx); });
}

// GAT as PyG's GATConv computes it: per-edge logits, a scatter-max / exp / scatter-sum
// softmax, and [E, heads, 64] messages scattered into the destinations.
void BM_GATConvUnfused(benchmark::State& state) {
  const Graph& base = graph_for(state.range(0));
  const int64_t heads = state.range(1), width = 64;
  nn::GraphCache cache(base);
  const Graph& g = cache.with_self_loops();
  const at::Tensor src = g.coo().src.to(at::kLong), dst = g.coo().dst.to(at::kLong);
  const int64_t n = base.num_nodes();
  torch::manual_seed(0);
  torch::nn::Linear lin(torch::nn::LinearOptions(kIn, heads * width).bias(false));
  const at::Tensor att_src = torch::randn({1, heads, width}, torch::requires_grad());
  const at::Tensor att_dst = torch::randn({1, heads, width}, torch::requires_grad());
  const at::Tensor bias = torch::zeros({heads * width}, torch::requires_grad());
  const at::Tensor x = at::randn({n, kIn});
  const at::Tensor dst_h = dst.unsqueeze(1).expand({-1, heads});
  run_layer(state, g, heads * width, [&] {
    const at::Tensor h = lin->forward(x).view({n, heads, width});
    const at::Tensor a_src = (h * att_src).sum(-1), a_dst = (h * att_dst).sum(-1);  // [N, H]
    const at::Tensor e = at::leaky_relu(a_src.index_select(0, src) + a_dst.index_select(0, dst), 0.2);
    const at::Tensor e_max = at::full({n, heads}, -std::numeric_limits<float>::infinity())
                                 .scatter_reduce(0, dst_h, e.detach(), "amax", /*include_self=*/true);
    const at::Tensor ex = (e - e_max.index_select(0, dst)).exp();
    const at::Tensor denom = at::zeros({n, heads}).index_add(0, dst, ex);
    const at::Tensor alpha = ex / denom.index_select(0, dst);
    const at::Tensor msg = h.index_select(0, src) * alpha.unsqueeze(-1);  // [E, H, D]
    return at::zeros({n, heads, width}).index_add(0, dst, msg).reshape({n, heads * width}) + bias;
  });
}

void graphs(benchmark::internal::Benchmark* b) {
  b->Args({0})->Args({1})->ArgNames({"graph"})->Unit(benchmark::kMillisecond)->UseRealTime();
}
void gat_graphs(benchmark::internal::Benchmark* b) {
  for (int g : {0, 1}) {
    for (int heads : {1, 4}) b->Args({g, heads});
  }
  b->ArgNames({"graph", "heads"})->Unit(benchmark::kMillisecond)->UseRealTime();
}

void gcn_graphs(benchmark::internal::Benchmark* b) {
  for (int g : {0, 1}) {
    for (int f : {64, 128}) b->Args({g, f});
  }
  b->ArgNames({"graph", "F"})->Unit(benchmark::kMillisecond)->UseRealTime();
}

BENCHMARK(BM_GCNConv)->Apply(gcn_graphs);
BENCHMARK(BM_GCNConvUnfused)->Apply(gcn_graphs);
BENCHMARK(BM_SAGEConv)->Apply(graphs);
BENCHMARK(BM_SAGEConvUnfused)->Apply(graphs);
BENCHMARK(BM_GATConv)->Apply(gat_graphs);
BENCHMARK(BM_GATConvUnfused)->Apply(gat_graphs);

}  // namespace
}  // namespace ripple::bench
