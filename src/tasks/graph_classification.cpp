// Stratified cross-validation for graph classification. See
// include/ripple/graph_classification.h.
#include "ripple/graph_classification.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/nn/functional/loss.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "ripple/error.h"
#include "ripple/graph_batch.h"
#include "ripple/nn/context.h"
#include "train/flat_adam.h"
#include "train/stats.h"

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

// kErrica: a stratified share of `train` moves to `valid`.
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

struct Scores {
  double accuracy = 0, loss = 0;
};

// Accuracy and mean cross-entropy over `ids`, in evaluation mode, in batches of 512 graphs.
Scores evaluate(GraphModel& model, const GraphDataset& data, const std::vector<int64_t>& ids) {
  if (ids.empty()) return {};
  torch::NoGradGuard no_grad;
  model->eval();
  double correct = 0, loss = 0;
  for (size_t begin = 0; begin < ids.size(); begin += 512) {
    const size_t end = std::min(ids.size(), begin + 512);
    const GraphBatch b = make_graph_batch(data, to_tensor({ids.begin() + begin, ids.begin() + end}));
    nn::GraphCache cache(b.graph);
    nn::ForwardContext ctx;
    const at::Tensor logits = model->forward(cache, b.pool, b.x, ctx);
    correct += logits.argmax(1).eq(b.labels).sum().item<double>();
    loss += torch::nn::functional::cross_entropy(
                logits, b.labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                .item<double>();
  }
  const auto n = static_cast<double>(ids.size());
  return {correct / n, loss / n};
}

FoldResult train_fold(const GraphDataset& data, const GraphTaskConfig& c, int64_t fold, const Split& split,
                      const std::function<void(const GraphEpochRecord&)>& on_epoch) {
  const uint64_t fold_seed = c.seed + static_cast<uint64_t>(fold);
  torch::manual_seed(fold_seed);
  GraphModel model(c.model, data.num_features(), data.num_classes);
  train::FlatAdam optimizer(model->parameters(), c.lr, c.weight_decay);
  FoldResult r;
  r.fold = fold;
  std::vector<double> times;
  for (int64_t epoch = 1; epoch <= c.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    GraphEpochRecord rec;
    rec.fold = fold;
    rec.epoch = epoch;
    rec.lr = c.lr * std::pow(c.lr_gamma, static_cast<double>((epoch - 1) / c.lr_step_size));
    optimizer.set_lr(rec.lr);
    model->train();
    const std::vector<int64_t> order =
        shuffled(split.train, mix64(fold_seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch)));
    double loss_sum = 0, correct = 0;
    int64_t batch_index = 0;
    for (size_t begin = 0; begin < order.size(); begin += c.batch_size, ++batch_index) {
      const size_t end = std::min(order.size(), begin + static_cast<size_t>(c.batch_size));
      const GraphBatch b = make_graph_batch(data, to_tensor({order.begin() + begin, order.begin() + end}));
      nn::GraphCache cache(b.graph);
      nn::ForwardContext ctx{true, fold_seed, epoch, 0, batch_index + 1};
      optimizer.zero_grad();
      const at::Tensor logits = model->forward(cache, b.pool, b.x, ctx);
      const at::Tensor loss = torch::nn::functional::cross_entropy(logits, b.labels);
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<double>() * static_cast<double>(b.num_graphs());
      correct += logits.argmax(1).eq(b.labels).sum().item<double>();
    }
    const auto n = static_cast<double>(std::max<size_t>(order.size(), 1));
    rec.loss = loss_sum / n;
    rec.train_acc = correct / n;  // in training mode, during the epoch
    const Scores valid = evaluate(model, data, split.valid), test = evaluate(model, data, split.test);
    rec.valid_acc = valid.accuracy;
    rec.valid_loss = valid.loss;
    rec.test_acc = test.accuracy;
    rec.epoch_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    times.push_back(rec.epoch_ms);
    r.epochs.push_back(rec);
    if (on_epoch) on_epoch(rec);
  }
  r.epoch_ms_median = train::median(times);
  return r;
}

void check(const GraphDataset& data, const GraphTaskConfig& c) {
  if (c.folds < 2) throw InputError(fmt::format("task.folds: expected at least 2, got {}", c.folds));
  if (c.run_folds < 0 || c.run_folds > c.folds) {
    throw InputError(fmt::format("task.run_folds: expected 0 (all) to task.folds ({}), got {}", c.folds, c.run_folds));
  }
  const at::Tensor counts = at::bincount(data.labels, {}, data.num_classes);
  const int64_t smallest = counts.min().item<int64_t>();
  if (smallest < c.folds) {
    throw InputError(fmt::format("task.folds: {} folds need at least {} graphs of every class; the smallest class "
                                 "of {} has {}",
                                 c.folds, c.folds, data.path, smallest));
  }
  if (c.batch_size < 1) throw InputError("train.batch_size: expected at least 1");
  if (c.protocol == CvProtocol::kErrica && !(c.valid_fraction > 0 && c.valid_fraction < 1)) {
    throw InputError(fmt::format("task.valid_fraction: expected a share in (0, 1), got {}", c.valid_fraction));
  }
}

}  // namespace

const char* protocol_name(CvProtocol p) { return p == CvProtocol::kGinPaper ? "gin" : "errica"; }

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

CrossValidationResult cross_validate(const GraphDataset& data, const GraphTaskConfig& c,
                                     const std::function<void(const GraphEpochRecord&)>& on_epoch) {
  check(data, c);
  const std::vector<at::Tensor> folds = stratified_folds(data.labels, data.num_classes, c.folds, c.seed);
  const int64_t run = c.run_folds == 0 ? c.folds : c.run_folds;
  CrossValidationResult result;
  result.protocol = c.protocol;
  for (int64_t f = 0; f < run; ++f) {
    Split s;
    s.test = to_vector(folds[f]);
    for (int64_t o = 0; o < c.folds; ++o) {
      if (o != f) {
        const std::vector<int64_t> part = to_vector(folds[o]);
        s.train.insert(s.train.end(), part.begin(), part.end());
      }
    }
    std::sort(s.train.begin(), s.train.end());
    if (c.protocol == CvProtocol::kErrica) {
      hold_out_validation(s, data.labels, data.num_classes, c.valid_fraction, mix64(c.seed + 0x5A11D + f));
    }
    result.folds.push_back(train_fold(data, c, f, s, on_epoch));
  }
  if (c.protocol == CvProtocol::kGinPaper) {
    double best = -1;
    for (int64_t e = 0; e < c.epochs; ++e) {
      double mean = 0;
      for (const FoldResult& r : result.folds) mean += r.epochs[e].test_acc;
      if (mean > best) {
        best = mean;
        result.common_epoch = e + 1;
      }
    }
    for (FoldResult& r : result.folds) {
      r.selected_epoch = result.common_epoch;
      r.test_acc = r.epochs[result.common_epoch - 1].test_acc;
    }
  } else {
    for (FoldResult& r : result.folds) {
      const GraphEpochRecord* best = &r.epochs.front();
      for (const GraphEpochRecord& e : r.epochs) {
        if (e.valid_acc > best->valid_acc || (e.valid_acc == best->valid_acc && e.valid_loss < best->valid_loss)) best = &e;
      }
      r.selected_epoch = best->epoch;
      r.test_acc = best->test_acc;
    }
  }
  double sum = 0, sq = 0;
  for (const FoldResult& r : result.folds) sum += r.test_acc;
  const auto n = static_cast<double>(result.folds.size());
  result.mean = sum / n;
  for (const FoldResult& r : result.folds) sq += (r.test_acc - result.mean) * (r.test_acc - result.mean);
  result.std = std::sqrt(sq / n);
  return result;
}

}  // namespace ripple
