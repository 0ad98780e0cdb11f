// Sampling-throughput benchmark. See SamplerBenchSettings in include/ripple/bench.h.
#include <ATen/ATen.h>
#include <torch/optim/adam.h>
#include <torch/utils.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "ripple/bench.h"
#include "ripple/error.h"
#include "ripple/loader.h"
#include "ripple/model.h"
#include "ripple/threads.h"
#include "train/minibatch.h"

namespace ripple {
namespace {

// Sorts `v` and returns its median.
double median(std::vector<double>& v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

SamplerBenchResult run_sampler_bench(const SamplerBenchSettings& s) {
  if (s.data.epochs < 1 || s.data.warmup < 0) throw InputError("--epochs must be at least 1 and --warmup non-negative");
  if (s.batches < 0) throw InputError("--batches must be non-negative (0: every training seed)");
  using Clock = std::chrono::steady_clock;
  SamplerBenchResult r;
  r.settings = s;
  r.threads = set_intra_op_threads(s.data.threads);
  const auto load_start = Clock::now();
  const NodeDataset data = load_bench_dataset(s.data, r.dataset_name);
  r.load_s = std::chrono::duration<double>(Clock::now() - load_start).count();
  r.nodes = data.num_nodes();
  r.edges = data.graph.num_edges();
  at::Tensor seeds = data.train_idx;
  if (s.batches > 0) seeds = seeds.slice(0, 0, std::min(seeds.numel(), s.batches * s.batch_size));
  if (seeds.numel() == 0) throw InputError(fmt::format("{}: no training seeds to sample from", r.dataset_name));

  LoaderOptions o;
  o.sampler.fanouts = s.fanouts;
  o.sampler.replace = s.replace;
  o.sampler.seed = s.data.seed;
  o.batch_size = s.batch_size;
  o.workers = s.workers;
  o.prefetch = std::max<int64_t>(1, 2 * s.workers);
  NeighborLoader loader(data.graph, data.features, data.labels, seeds, o);
  r.batches = loader.num_batches();
  r.seeds = seeds.numel();

  std::vector<double> pass_ms;
  double input_nodes = 0;
  for (int64_t pass = 0; pass < s.data.warmup + s.data.epochs; ++pass) {
    const auto t0 = Clock::now();
    loader.start_epoch(pass);
    int64_t rows = 0;
    while (auto b = loader.next()) rows += b->features.size(0);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (pass >= s.data.warmup) {
      pass_ms.push_back(ms);
      input_nodes += static_cast<double>(rows) / static_cast<double>(r.batches);
    }
  }
  const size_t n = pass_ms.size();
  r.pass_ms_median = median(pass_ms);
  r.pass_ms_min = pass_ms.front();
  r.pass_ms_max = pass_ms.back();
  r.seeds_per_second = static_cast<double>(r.seeds) / (r.pass_ms_median / 1000.0);
  r.input_nodes_per_batch = input_nodes / static_cast<double>(n);
  if (s.train) {
    ModelConfig mc;
    mc.name = s.data.model;
    mc.layers = static_cast<int64_t>(s.fanouts.size());
    mc.hidden = s.data.hidden;
    mc.heads = s.data.heads;
    mc.dropout = s.data.dropout;
    torch::manual_seed(s.data.seed);
    NodeModel model(mc, data.num_features(), data.num_classes);
    model->require_blocks(mc.layers, "--model");
    torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(0.01));
    const train::BlockContext context = train::make_block_context(mc.name, false, data.graph);
    std::vector<double> epoch_ms;
    for (int64_t epoch = 0; epoch < s.data.warmup + s.data.epochs; ++epoch) {
      const auto t0 = Clock::now();
      r.last_epoch_loss = train::train_minibatch_epoch(model, optimizer, loader, context, s.data.seed, epoch + 1).loss;
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (epoch >= s.data.warmup) epoch_ms.push_back(ms);
    }
    r.epoch_ms_median = median(epoch_ms);
    r.epoch_ms_min = epoch_ms.front();
    r.epoch_ms_max = epoch_ms.back();
  }
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

}  // namespace ripple
