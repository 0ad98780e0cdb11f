// Sampling-throughput benchmark. See SamplerBenchSettings in include/ripple/bench.h.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "ripple/bench.h"
#include "ripple/error.h"
#include "ripple/loader.h"
#include "ripple/model.h"
#include "ripple/threads.h"
#include "tasks/node_task.h"
#include "train/loop.h"
#include "train/stats.h"

namespace ripple {
SamplerBenchResult run_sampler_bench(const SamplerBenchSettings& s) {
  if (s.data.epochs < 1) throw SettingError("epochs", "must be at least 1");
  if (s.data.warmup < 0) throw SettingError("warmup", "must be non-negative");
  if (s.batches < 0) throw SettingError("batches", "must be non-negative (0: every training seed)");
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
  r.pass_ms_median = train::median(pass_ms);
  r.pass_ms_min = *std::min_element(pass_ms.begin(), pass_ms.end());
  r.pass_ms_max = *std::max_element(pass_ms.begin(), pass_ms.end());
  r.seeds_per_second = static_cast<double>(r.seeds) / (r.pass_ms_median / 1000.0);
  r.input_nodes_per_batch = input_nodes / static_cast<double>(n);
  if (s.train) {
    TrainingBenchSettings model = s.data;
    model.layers = static_cast<int64_t>(s.fanouts.size());
    RunConfig config = bench_run_config(model);
    config.sampler.fanouts = s.fanouts;
    config.sampler.replace = s.replace;
    config.sampler.batch_size = s.batch_size;
    config.sampler.workers = s.workers;
    validate_run_config(config);
    NodeDataset subset = data;
    subset.train_idx = seeds;
    train::NodeData node_data = train::make_node_data(std::move(subset), config);
    tasks::NodeClassificationTask task(config, node_data);  // the loop's own epoch, as ripple train runs it
    train::FlatAdam optimizer = train::make_optimizer(config.train, task.build_model(s.data.seed));
    std::vector<double> epoch_ms;
    for (int64_t epoch = 0; epoch < s.data.warmup + s.data.epochs; ++epoch) {
      const auto t0 = Clock::now();
      r.last_epoch_loss = train::train_epoch(task, optimizer, epoch + 1).loss;
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (epoch >= s.data.warmup) epoch_ms.push_back(ms);
    }
    r.epoch_ms_median = train::median(epoch_ms);
    r.epoch_ms_min = *std::min_element(epoch_ms.begin(), epoch_ms.end());
    r.epoch_ms_max = *std::max_element(epoch_ms.begin(), epoch_ms.end());
  }
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

}  // namespace ripple
