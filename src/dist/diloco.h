// dist.strategy = "diloco" and "local-sgd": training that synchronizes every H steps instead
// of every step (internal), the Synchronizer of the training loop (train/synchronizer.h).
//
// DiLoCo (Douillard et al. 2023): every rank keeps the last synchronized model (the global
// model) and takes H = dist.sync_every steps of its own optimizer (the inner Adam, whose
// moments stay per rank) on its own examples. Then the ranks all-reduce their change
// (global - local), weighted by the examples each trained on since the last synchronization;
// the weighted mean is the outer gradient of a Nesterov SGD step (PyTorch's SGD with
// nesterov=True, dist.outer_lr, dist.outer_momentum) on the global model, which every rank
// then continues from. local-sgd is the same with outer lr 1 and no momentum: the new
// global model is the ranks' weighted mean. Traffic per synchronization: one all-reduce of
// the parameters and one of two numbers, instead of a gradient all-reduce per step. With
// dist.compress = fp16, int8 or int4 the changes travel quantized instead
// (dist/quantize.h: an all-gather of the messages, summed in float32 on every rank); the
// global model, the outer momentum and the inner steps stay float32.
//
// The rounds and epochs follow dist/periodic_strategy.h. Evaluation, model selection, checkpoints and the unit's
// final model see the global model; the outer momentum is in the checkpoint
// (TrainState::strategy_state). A group resumed after a restart continues from the last
// checkpointed global model with rank 0's inner optimizer state on every rank, so unlike
// ddp its result is not bit-identical to an uninterrupted run.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <optional>
#include <string>

#include "dist/periodic_strategy.h"
#include "dist/quantize.h"
#include "ripple/settings.h"

namespace ripple::dist {

// One outer step: PyTorch's SGD with Nesterov momentum (no dampening) on `params` given the
// outer gradient `grad`: buf = momentum * buf + grad; params -= lr * (grad + momentum * buf).
void outer_nesterov_step(const at::Tensor& params, const at::Tensor& grad, const at::Tensor& buf, double lr,
                         double momentum);

class DiLoCo final : public PeriodicStrategy {
 public:
  // settings.strategy "local-sgd" ignores outer_lr and outer_momentum (1 and 0).
  DiLoCo(Communicator& comm, const DistSettings& settings, bool reduce_metrics,
         std::function<void(const std::string&)> log);
  void enter_evaluation(train::FlatAdam& optimizer) override;
  void leave_evaluation(train::FlatAdam& optimizer) override;

 protected:
  void start_unit(torch::nn::Module& model, train::FlatAdam& optimizer, train::TrainState& state) override;
  void finish_unit(train::FlatAdam& optimizer) override;
  // The outer step on the examples-weighted mean change.
  void exchange(train::FlatAdam& optimizer, int64_t examples_here, double examples_all,
                const std::string& at) override;

 private:
  double outer_lr_, outer_momentum_;
  std::optional<WirePrecision> wire_;  // the quantized exchange, when dist.compress asks
  at::Tensor global_, momentum_, local_, change_;
};

}  // namespace ripple::dist
