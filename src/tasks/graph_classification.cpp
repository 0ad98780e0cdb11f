// Stratified cross-validation for graph classification on the training loop. See
// include/ripple/graph_classification.h.
#include "ripple/graph_classification.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/nn/functional/loss.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include "ripple/error.h"
#include "ripple/graph_batch.h"
#include "ripple/graph_model.h"
#include "ripple/nn/context.h"
#include "ripple/nn/graph_cache.h"
#include "tasks/graph_task.h"
#include "tasks/shuffle.h"
#include "train/loop.h"
#include "train/task.h"
#include "train/units.h"

namespace ripple {
namespace {

using nn::mix64;

// `ids` in a random order that depends only on `key`: sorted by a hash of (key, id).
std::vector<int64_t> shuffled(std::vector<int64_t> ids, uint64_t key) {
  std::sort(ids.begin(), ids.end(), [key](int64_t a, int64_t b) {
    const uint64_t ha = mix64(key ^ mix64(static_cast<uint64_t>(a))), hb = mix64(key ^ mix64(static_cast<uint64_t>(b)));
    return ha != hb ? ha < hb : a < b;
  });
  return ids;
}

at::Tensor to_tensor(const std::vector<int64_t>& v) { return at::tensor(v, at::kLong); }

std::vector<int64_t> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

// The indices of `ids` split per class, in the order given.
std::vector<std::vector<int64_t>> by_class(const std::vector<int64_t>& ids, const at::Tensor& labels,
                                           int64_t num_classes) {
  const int64_t* label = labels.data_ptr<int64_t>();
  std::vector<std::vector<int64_t>> out(num_classes);
  for (int64_t g : ids) out[label[g]].push_back(g);
  return out;
}

struct Split {
  std::vector<int64_t> train, valid, test;
};

// errica protocol: a stratified share of `train` moves to `valid`.
void hold_out_validation(Split& s, const at::Tensor& labels, int64_t num_classes, double fraction, uint64_t key) {
  std::vector<int64_t> keep;
  for (auto& members : by_class(shuffled(s.train, key), labels, num_classes)) {
    const auto n = static_cast<int64_t>(std::llround(fraction * static_cast<double>(members.size())));
    s.valid.insert(s.valid.end(), members.begin(), members.begin() + n);
    keep.insert(keep.end(), members.begin() + n, members.end());
  }
  std::sort(keep.begin(), keep.end());
  std::sort(s.valid.begin(), s.valid.end());
  s.train = keep;
}

// One fold as a task of the training loop: mini-batches of `batch_size` graphs in an order
// keyed by (fold seed, epoch), this rank's share of it in a group; evaluation in batches
// of 512 graphs.
class GraphFoldTask : public train::Task {
 public:
  GraphFoldTask(const GraphDataset& data, const RunConfig& config, Split split, train::Shard shard)
      : data_(data), config_(config), split_(std::move(split)), shard_(shard) {}

  void reshard(train::Shard shard) override { shard_ = shard; }  // each epoch's order reads it

  torch::nn::Module& build_model(uint64_t seed) override {
    seed_ = seed;
    torch::manual_seed(seed);
    model_ = GraphModel(config_.model, data_.num_features(), data_.num_classes);
    return *model_;
  }

  void begin_epoch(int64_t epoch) override {
    epoch_ = epoch;
    model_->train();
    const std::vector<int64_t> all = shuffled(split_.train, mix64(seed_ * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch)));
    order_.clear();
    for (size_t i = static_cast<size_t>(shard_.index); i < all.size(); i += static_cast<size_t>(shard_.count)) {
      order_.push_back(all[i]);
    }
    next_ = 0;
    batch_index_ = 0;
    correct_ = 0;
  }

  std::optional<train::BatchLoss> next_batch() override {
    if (next_ >= order_.size()) return std::nullopt;
    const size_t end = std::min(order_.size(), next_ + static_cast<size_t>(config_.train.batch_size));
    const GraphBatch b = make_graph_batch(data_, to_tensor({order_.begin() + next_, order_.begin() + end}));
    next_ = end;
    nn::GraphCache cache(b.graph);
    // Dropout streams: the run's own for one process; per rank in a group (shard_key).
    nn::ForwardContext ctx{true, tasks::shard_key(seed_, shard_), epoch_, 0, ++batch_index_};
    const at::Tensor logits = model_->forward(cache, b.pool, b.x, ctx);
    correct_ += logits.argmax(1).eq(b.labels).sum().item<double>();
    return train::BatchLoss{torch::nn::functional::cross_entropy(logits, b.labels), b.num_graphs()};
  }

  // errica: the validation split chooses the fold's epoch; gin: the rule across folds does.
  train::Selection selection() const override {
    train::Selection s;
    s.last_epoch = config_.task.protocol == "gin";
    return s;
  }

  // Without a validation split (the gin protocol) there are no validation metrics. In a group
  // every rank scores its share of the graphs and reports sums with their weights; the
  // strategy adds the shares up (GroupStrategy::share_evaluation).
  train::Metrics evaluate() override {
    const bool shared = shard_.count > 1;
    train::Metrics m;
    const auto report = [&](const std::string& name, double sum, double count) {
      m[name] = shared ? sum : sum / std::max(count, 1.0);
      if (shared) m[name + train::kMetricWeightSuffix] = count;
    };
    report("train_acc", correct_, static_cast<double>(order_.size()));  // in training mode, during the epoch
    const ScoreSums test = score(share(split_.test));
    report("test_acc", test.correct, test.count);
    if (!split_.valid.empty()) {
      const ScoreSums valid = score(share(split_.valid));
      report("valid_acc", valid.correct, valid.count);
      report("valid_loss", valid.loss, valid.count);
    }
    return m;
  }

 private:
  struct ScoreSums {
    double correct = 0, loss = 0, count = 0;
  };

  // The graphs of `ids` this rank evaluates: the i-th of them when i % count == index.
  std::vector<int64_t> share(const std::vector<int64_t>& ids) const {
    if (shard_.count == 1) return ids;
    std::vector<int64_t> mine;
    for (size_t i = static_cast<size_t>(shard_.index); i < ids.size(); i += static_cast<size_t>(shard_.count)) {
      mine.push_back(ids[i]);
    }
    return mine;
  }

  // Correct predictions and summed cross-entropy over `ids`, in evaluation mode.
  ScoreSums score(const std::vector<int64_t>& ids) {
    ScoreSums sums;
    sums.count = static_cast<double>(ids.size());
    if (ids.empty()) return sums;
    torch::NoGradGuard no_grad;
    model_->eval();
    for (size_t begin = 0; begin < ids.size(); begin += 512) {
      const size_t end = std::min(ids.size(), begin + 512);
      const GraphBatch b = make_graph_batch(data_, to_tensor({ids.begin() + begin, ids.begin() + end}));
      nn::GraphCache cache(b.graph);
      nn::ForwardContext ctx;
      const at::Tensor logits = model_->forward(cache, b.pool, b.x, ctx);
      sums.correct += logits.argmax(1).eq(b.labels).sum().item<double>();
      sums.loss += torch::nn::functional::cross_entropy(
                       logits, b.labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                       .item<double>();
    }
    return sums;
  }

  const GraphDataset& data_;
  const RunConfig& config_;
  Split split_;
  train::Shard shard_;
  GraphModel model_{nullptr};
  uint64_t seed_ = 0;
  int64_t epoch_ = 0, batch_index_ = 0;
  std::vector<int64_t> order_;
  size_t next_ = 0;
  double correct_ = 0;
};

void check(const GraphDataset& data, const RunConfig& c) {
  validate_run_config(c);
  const at::Tensor counts = at::bincount(data.labels, {}, data.num_classes);
  const int64_t smallest = counts.min().item<int64_t>();
  if (smallest < c.task.folds) {
    throw SettingError("task.folds", fmt::format("{} folds need at least {} graphs of every class; the smallest "
                                                 "class of {} has {}",
                                                 c.task.folds, c.task.folds, data.path, smallest));
  }
}

// The GIN paper's rule: the epoch with the best test accuracy averaged over the folds,
// the same for every fold; each fold's metrics become that epoch's. Only evaluated epochs
// compete (train.eval_every, the same schedule for every fold).
int64_t select_common_epoch(std::vector<UnitResult>& folds) {
  size_t epochs = folds.front().history.size();
  for (const UnitResult& f : folds) epochs = std::min(epochs, f.history.size());
  double best = -1;
  int64_t chosen = 0;
  for (size_t e = 0; e < epochs; ++e) {
    if (folds.front().history[e].metrics.empty()) continue;
    double mean = 0;
    for (const UnitResult& f : folds) mean += f.history[e].metric("test_acc");
    if (mean > best) {
      best = mean;
      chosen = static_cast<int64_t>(e) + 1;
    }
  }
  for (UnitResult& f : folds) {
    f.best_epoch = chosen;
    f.metrics = f.history[static_cast<size_t>(chosen - 1)].metrics;
  }
  return chosen;
}

}  // namespace

std::vector<at::Tensor> stratified_folds(const at::Tensor& labels, int64_t num_classes, int64_t k, uint64_t seed) {
  std::vector<int64_t> all(labels.numel());
  std::iota(all.begin(), all.end(), 0);
  std::vector<std::vector<int64_t>> folds(k);
  int64_t next = 0;
  for (const auto& members : by_class(shuffled(all, mix64(seed ^ 0xF01D5EEDull)), labels.contiguous(), num_classes)) {
    for (int64_t g : members) folds[next++ % k].push_back(g);
  }
  std::vector<at::Tensor> out;
  for (auto& f : folds) {
    std::sort(f.begin(), f.end());
    out.push_back(to_tensor(f));
  }
  return out;
}

RunSummary cross_validate(const GraphDataset& data, const RunConfig& c, const TrainCallbacks& callbacks,
                          const std::filesystem::path& run_dir) {
  return tasks::cross_validate_in_group(data, c, callbacks, run_dir, train::RunGroup{}, train::Shard{});
}

RunSummary tasks::cross_validate_in_group(const GraphDataset& data, const RunConfig& c, const TrainCallbacks& callbacks,
                                          const std::filesystem::path& run_dir, const train::RunGroup& group,
                                          train::Shard shard) {
  check(data, c);
  const std::vector<at::Tensor> folds = stratified_folds(data.labels, data.num_classes, c.task.folds,
                                                         static_cast<uint64_t>(c.train.seed));
  const int64_t run = c.task.run_folds == 0 ? c.task.folds : c.task.run_folds;
  const bool errica = c.task.protocol == "errica";
  RunSummary summary;
  summary.task = "graph_classification";
  summary.protocol = c.task.protocol;
  summary.units = train::run_units(
      group, run_dir, run, "fold", callbacks,
      [&](int64_t f, const std::filesystem::path& dir, const TrainCallbacks& unit_callbacks, int64_t& epochs) {
        Split s;
        s.test = to_vector(folds[f]);
        for (int64_t o = 0; o < c.task.folds; ++o) {
          if (o != f) {
            const std::vector<int64_t> part = to_vector(folds[o]);
            s.train.insert(s.train.end(), part.begin(), part.end());
          }
        }
        std::sort(s.train.begin(), s.train.end());
        if (errica) {
          hold_out_validation(s, data.labels, data.num_classes, c.task.valid_fraction,
                              mix64(static_cast<uint64_t>(c.train.seed) + 0x5A11D + static_cast<uint64_t>(f)));
        }
        GraphFoldTask task(data, c, std::move(s), shard);
        return train::train_unit(task, c.train, f, static_cast<uint64_t>(c.train.seed + f), dir, unit_callbacks, epochs,
                                 group.synchronizer());
      });
  // The gin rule needs every fold's history: a rank other than 0 lacks those of folds
  // finished before a restart, and its summary is not written.
  const bool histories = std::all_of(summary.units.begin(), summary.units.end(),
                                     [](const UnitResult& u) { return !u.history.empty(); });
  if (!errica && histories) summary.selected_epoch = select_common_epoch(summary.units);
  return summary;
}

}  // namespace ripple
