// The distributed side of the training loop (internal): what the one loop (train/loop.h)
// asks of a strategy that trains one model across processes. A single process has none.
//
// Every rank runs the same loop on its own share of the examples. The loop calls, in order:
// begin_unit once, after the writing rank has loaded the unit's checkpoint if it had one
// (every rank then takes that rank's parameters, optimizer and loop state), before_backward
// after each forward that gave this rank a batch (so that a strategy may synchronize
// gradients as backward produces them), synchronize_step
// after each backward (also after a rank's own batches ran out, with zero examples, until
// it returns zero examples: every rank's are out), after_update after each optimizer step,
// enter_evaluation before each evaluation (the model then holds what is evaluated, selected
// and checkpointed: the one model the ranks agree on), agree_on_metrics after it (on the
// ranks where evaluates_here(); so model selection and early stopping decide the same on
// every rank), leave_evaluation once the epoch's record and checkpoint are written, and
// end_unit once, which leaves the final model in the parameters. A strategy's own state
// (DiLoCo's outer momentum) lives in TrainState::strategy_state, so checkpoints carry it.
// Implementations throw DistributedError naming the rank and the step when a peer is lost.
#pragma once

#include <torch/nn/module.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "ripple/trainer.h"
#include "train/checkpoint.h"
#include "train/flat_adam.h"
#include "train/task.h"

namespace ripple::train {

// One step's totals over every rank.
struct StepTotals {
  int64_t examples = 0;  // 0: every rank's epoch is over (the step is not taken)
  double loss_sum = 0;   // sum over the examples of their loss
};

class Synchronizer {
 public:
  virtual ~Synchronizer() = default;
  virtual void begin_unit(torch::nn::Module& model, FlatAdam& optimizer, TrainState& state,
                          const std::filesystem::path& checkpoint, int64_t unit) = 0;
  // Before backward of a batch of this rank's, with its `examples` and `loss_sum` (what
  // synchronize_step then receives again).
  virtual void before_backward(FlatAdam& /*optimizer*/, int64_t /*examples*/, double /*loss_sum*/, int64_t /*epoch*/,
                               int64_t /*step*/) {}
  // After backward: `examples` and `loss_sum` are this rank's (0 when its batches ran out,
  // its gradient then being zero). Leaves in the optimizer's gradient what the update uses.
  virtual StepTotals synchronize_step(FlatAdam& optimizer, int64_t examples, double loss_sum, int64_t epoch,
                                      int64_t step) = 0;
  // After the optimizer step of a step that synchronize_step let through.
  virtual void after_update(FlatAdam& /*optimizer*/, int64_t /*epoch*/, int64_t /*step*/) {}
  virtual void enter_evaluation(FlatAdam& /*optimizer*/) {}
  virtual void leave_evaluation(FlatAdam& /*optimizer*/) {}
  // Whether this rank runs the task's evaluation; agree_on_metrics then gives every rank
  // the metrics.
  virtual bool evaluates_here() const = 0;
  virtual void agree_on_metrics(Metrics& metrics, int64_t epoch) = 0;
  virtual void end_unit(FlatAdam& optimizer, int64_t unit) = 0;
  // Before each epoch: a share of the training examples this rank is to train on from now
  // on, once, when the group has changed (an elastic group's survivors on replicated data
  // take over a lost rank's share); otherwise nothing.
  virtual std::optional<Shard> new_shard() { return std::nullopt; }
};

}  // namespace ripple::train
