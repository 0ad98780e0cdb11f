// What a task gives the training loop (internal to the library).
//
// A task owns its data and split, builds its model, cuts an epoch into batches and computes
// each batch's loss, evaluates the model, and names the metric its model selection
// maximizes. The loop (train/loop.h) owns everything else: the optimizer, the learning-rate
// schedule, the update and its synchronization hook, early stopping, checkpoints and the
// metrics file. Node classification (full batch and sampled) and graph classification are
// tasks (src/tasks/); a new task implements this interface and nothing in the loop.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "ripple/trainer.h"

namespace ripple::train {

using ripple::Metrics;  // ripple/trainer.h

// The loss of one training batch, computed in training mode with autograd on.
struct BatchLoss {
  at::Tensor loss;       // scalar, mean over the batch's examples
  int64_t examples = 0;  // weight of this batch in the epoch's mean loss
};

// Model selection and early stopping: the best epoch has the highest `maximize`, ties broken
// by the lowest `minimize`; patience counts epochs in which neither improved on its best.
// `last_epoch`: no selection inside the unit (the last epoch counts; a rule across units,
// like the GIN paper's, chooses later) and no early stopping.
struct Selection {
  std::string maximize = "valid_acc";
  std::string minimize = "valid_loss";
  bool last_epoch = false;
};

// A metric NAME reported beside NAME/weight is a weighted mean: a distributed run whose ranks
// each evaluate their own examples (dist.data = "partitioned") sums both over the ranks and
// reports NAME = sum / weight (train/synchronizer.h). A task reports them so only when asked.
inline constexpr const char* kMetricWeightSuffix = "/weight";

// Which share of the training examples a task trains on: the examples i with
// i % count == index (one rank's share in data parallel training; {0, 1}: all of them).
struct Shard {
  int index = 0, count = 1;
  // This share of `n` items as one contiguous range [first, end) (shares in index order).
  std::pair<int64_t, int64_t> range(int64_t n) const { return {n * index / count, n * (index + 1) / count}; }
};

// A group's gather for a task's evaluation (dist::Communicator::gather_rows): every rank
// passes its rows and gets every rank's, concatenated in rank order. A collective: every
// rank calls it, the same number of times.
using GatherRows = std::function<at::Tensor(const at::Tensor&)>;

class Task {
 public:
  virtual ~Task() = default;
  // A fresh model whose initialization depends only on `seed`; the task keeps it.
  virtual torch::nn::Module& build_model(uint64_t seed) = 0;
  // Starts training epoch `epoch` (1-based): training mode, shuffles, samplers.
  virtual void begin_epoch(int64_t epoch) = 0;
  // The next batch's loss, or nothing when the epoch is over.
  virtual std::optional<BatchLoss> next_batch() = 0;
  // Every metric of the current model, in evaluation mode without gradients.
  virtual Metrics evaluate() = 0;
  // Trains on `shard` from the next begin_epoch on (an elastic group's survivors take over
  // a lost rank's share). A task that cannot throws std::logic_error.
  virtual void reshard(Shard /*shard*/) { throw std::logic_error("this task trains on one fixed share"); }
  virtual Selection selection() const { return {}; }
};

}  // namespace ripple::train
