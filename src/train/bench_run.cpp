// End-to-end training benchmark. See include/ripple/bench.h.
#include "ripple/bench.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <filesystem>

#include "ripple/config.h"
#include "ripple/dataset.h"
#include "ripple/error.h"
#include "ripple/generate.h"
#include "ripple/model.h"
#include "ripple/settings.h"
#include "ripple/threads.h"
#include "tasks/node_task.h"
#include "train/loop.h"
#include "runtime/work_counter.h"
#include "train/stats.h"

namespace fs = std::filesystem;

namespace ripple {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

NodeDataset generated_dataset(const TrainingBenchSettings& s) {
  if (s.features < 1) throw SettingError("features", "must be at least 1");
  if (s.classes < 2) throw SettingError("classes", "must be at least 2");
  NodeDataset d;
  d.graph = make_graph(s.kind, s.nodes, s.edges, s.seed);
  at::manual_seed(static_cast<uint64_t>(s.seed));
  d.features = at::randn({s.nodes, s.features});
  d.labels = at::randint(s.classes, {s.nodes}, at::kLong);
  d.num_classes = s.classes;
  d.train_idx = at::arange(s.nodes, at::kLong);  // every node carries loss
  d.valid_idx = d.test_idx = at::empty({0}, at::kLong);
  return d;
}

void check(const TrainingBenchSettings& s) {
  if (s.epochs < 1) throw SettingError("epochs", "must be at least 1");
  if (s.warmup < 0) throw SettingError("warmup", "must be non-negative");
}

}  // namespace

NodeDataset load_bench_dataset(const TrainingBenchSettings& s, std::string& name) {
  if (s.dataset.empty()) {
    name = fmt::format("{}-{}-{}", s.kind, s.nodes, s.edges);
    return generated_dataset(s);
  }
  name = fs::path(s.dataset).lexically_normal().filename().string();
  if (name.empty()) name = fs::path(s.dataset).lexically_normal().parent_path().filename().string();
  return load_node_dataset(s.dataset, s.split);
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

MachineBounds measure_machine_bounds() {
  auto best_ms = [](const std::function<void()>& f) {
    f();  // warm-up: first touch of the buffers, BLAS thread start
    double best = 1e300;
    for (int i = 0; i < 3; ++i) {
      const auto t0 = Clock::now();
      f();
      best = std::min(best, ms_since(t0));
    }
    return best;
  };
  MachineBounds b;
  at::manual_seed(0);
  for (const auto [m, k, n] : {std::array<int64_t, 3>{1024, 1024, 1024}, std::array<int64_t, 3>{16384, 256, 256}}) {
    const at::Tensor x = at::randn({m, k}), w = at::randn({k, n});
    at::Tensor y = at::empty({m, n});
    const double ms = best_ms([&] { at::mm_out(y, x, w); });
    b.gemm_gflops = std::max(b.gemm_gflops, 2.0 * static_cast<double>(m * k * n) / (ms * 1e6));
  }
  const at::Tensor src = at::ones({int64_t{64} << 20});
  at::Tensor dst = at::empty_like(src);
  const double ms = best_ms([&] { dst.copy_(src); });
  b.copy_gbps = 2.0 * static_cast<double>(src.nbytes()) / (ms * 1e6);
  return b;
}

RunConfig bench_run_config(const TrainingBenchSettings& s) {
  RunConfig c;
  c.model.name = s.model;
  c.model.layers = s.layers;
  c.model.hidden = s.hidden;
  c.model.heads = s.heads;
  c.model.dropout = s.dropout;
  c.train.threads = s.threads;
  c.train.seed = static_cast<int64_t>(s.seed);
  Config config(c);
  for (const std::string& o : s.overrides) config.set_override(o);
  validate_run_config(config.settings());
  return config.settings();
}

TrainingBenchResult run_training_bench(const TrainingBenchSettings& s) {
  check(s);
  const RunConfig config = bench_run_config(s);
  TrainingBenchResult r;
  r.settings = s;
  r.threads = set_intra_op_threads(s.threads);
  const auto load_start = Clock::now();
  train::NodeData data = train::make_node_data(load_bench_dataset(s, r.dataset_name), config);
  r.nodes = data.dataset.num_nodes();
  r.edges = data.dataset.graph.num_edges();
  r.features = data.dataset.num_features();
  r.load_s = ms_since(load_start) / 1000.0;

  // Exactly what `ripple train` runs per epoch: the node task's batches through the loop.
  tasks::NodeClassificationTask task(config, data);
  train::FlatAdam optimizer = train::make_optimizer(config.train, task.build_model(s.seed));
  std::vector<double> epoch_ms, forward_ms, backward_ms, step_ms;
  work::Totals before;
  for (int64_t epoch = 1; epoch <= s.warmup + s.epochs; ++epoch) {
    if (epoch == s.warmup + 1) before = work::totals();
    const auto t0 = Clock::now();
    const train::EpochStats e = train::train_epoch(task, optimizer, epoch);
    if (epoch > s.warmup) {
      epoch_ms.push_back(ms_since(t0));
      forward_ms.push_back(e.forward_ms);
      backward_ms.push_back(e.backward_ms);
      step_ms.push_back(e.update_ms);
    }
  }
  r.epoch_ms_median = train::median(epoch_ms);
  r.epoch_ms_min = *std::min_element(epoch_ms.begin(), epoch_ms.end());
  r.epoch_ms_max = *std::max_element(epoch_ms.begin(), epoch_ms.end());
  r.forward_ms_median = train::median(forward_ms);
  r.backward_ms_median = train::median(backward_ms);
  r.step_ms_median = train::median(step_ms);
  const work::Totals after = work::totals();
  const auto epochs = static_cast<double>(s.epochs);
  r.dense_gflop = static_cast<double>(after.dense_flops - before.dense_flops) / epochs / 1e9;
  r.graph_gb = static_cast<double>(after.graph_bytes - before.graph_bytes) / epochs / 1e9;
  r.peak_rss_mb = peak_rss_mb();  // before the yardsticks' own 512 MiB of buffers
  const MachineBounds machine = measure_machine_bounds();
  r.gemm_gflops = machine.gemm_gflops;
  r.copy_gbps = machine.copy_gbps;
  r.bound_ms = 1e3 * (r.dense_gflop / r.gemm_gflops + r.graph_gb / r.copy_gbps);
  r.of_bound = r.bound_ms / r.epoch_ms_median;
  return r;
}

}  // namespace ripple
