// End-to-end training benchmark. See include/ripple/bench.h.
#include "ripple/bench.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "ripple/dataset.h"
#include "ripple/error.h"
#include "ripple/generate.h"
#include "ripple/model.h"
#include "ripple/threads.h"

namespace fs = std::filesystem;

namespace ripple {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

NodeDataset generated_dataset(const TrainingBenchSettings& s) {
  if (s.features < 1 || s.classes < 2) throw InputError("--features must be >= 1 and --classes >= 2");
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
  if (!is_known_model(s.model)) throw InputError(fmt::format("--model: unknown model '{}'", s.model));
  if (s.layers < 1 || s.hidden < 1 || s.heads < 1) throw InputError("--layers, --hidden and --heads must be at least 1");
  if (s.epochs < 1 || s.warmup < 0) throw InputError("--epochs must be at least 1 and --warmup non-negative");
  if (s.dropout < 0 || s.dropout >= 1) throw InputError("--dropout must be in [0, 1)");
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

TrainingBenchResult run_training_bench(const TrainingBenchSettings& s) {
  check(s);
  TrainingBenchResult r;
  r.settings = s;
  r.threads = set_intra_op_threads(s.threads);
  const auto load_start = Clock::now();
  const NodeDataset data = load_bench_dataset(s, r.dataset_name);
  r.nodes = data.num_nodes();
  r.edges = data.graph.num_edges();
  r.features = data.num_features();
  const nn::Features x = nn::Features::from_dense(data.features.to(at::kFloat), 0.1);
  nn::GraphCache graph(data.graph);
  r.load_s = ms_since(load_start) / 1000.0;

  ModelConfig mc;
  mc.name = s.model;
  mc.layers = s.layers;
  mc.hidden = s.hidden;
  mc.heads = s.heads;
  mc.dropout = s.dropout;
  torch::manual_seed(s.seed);
  NodeModel model(mc, data.num_features(), data.num_classes);
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(0.01).weight_decay(5e-4));
  const at::Tensor train_labels = data.labels.index_select(0, data.train_idx);
  model->train();

  std::vector<double> epoch_ms, forward_ms, backward_ms, step_ms;
  for (int64_t epoch = 1; epoch <= s.warmup + s.epochs; ++epoch) {
    const auto t0 = Clock::now();
    nn::ForwardContext ctx{true, s.seed, epoch, 0};
    optimizer.zero_grad();
    const at::Tensor logits = model->forward(graph, x, ctx);
    const at::Tensor loss =
        torch::nn::functional::cross_entropy(logits.index_select(0, data.train_idx), train_labels);
    const double f = ms_since(t0);
    const auto t1 = Clock::now();
    loss.backward();
    const double b = ms_since(t1);
    const auto t2 = Clock::now();
    optimizer.step();
    const double o = ms_since(t2);
    if (epoch > s.warmup) {
      epoch_ms.push_back(ms_since(t0));
      forward_ms.push_back(f);
      backward_ms.push_back(b);
      step_ms.push_back(o);
    }
  }
  r.epoch_ms_median = median_of(epoch_ms);
  r.epoch_ms_min = *std::min_element(epoch_ms.begin(), epoch_ms.end());
  r.epoch_ms_max = *std::max_element(epoch_ms.begin(), epoch_ms.end());
  r.forward_ms_median = median_of(forward_ms);
  r.backward_ms_median = median_of(backward_ms);
  r.step_ms_median = median_of(step_ms);
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

}  // namespace ripple
