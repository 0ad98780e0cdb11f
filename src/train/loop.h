// The one training loop: every command that trains (`ripple train` for every task, full
// batch or sampled, and `ripple bench`) runs train_epoch(), and every run directory unit
// (a seed, a fold) runs train_unit() (internal).
//
// train_epoch: for each batch of the task, zero the gradients, forward and loss (the task),
// backward, synchronize, update (FlatAdam). The Synchronizer (train/synchronizer.h) is the
// one place a distributed strategy exchanges gradients, parameters or metrics; a single
// process passes none.
//
// train_unit: epochs 1..train.epochs with the learning-rate schedule, evaluation after each
// epoch (or every train.eval_every epochs and the last), model selection and early stopping
// by the task's Selection among the evaluated epochs, and, when `dir` is given, the unit's
// files:
//   metrics.jsonl   one JSON object per epoch (epoch, loss, lr, epoch_ms, eval_ms and the
//                   metrics; no metrics and eval_ms 0 for an epoch that was not evaluated)
//   checkpoint.pt   resumable state (train/checkpoint.h), every train.checkpoint_every epochs
//   best.pt         parameters and buffers, by name, at the selected epoch
//   result.json     the selected epoch's metrics (its presence marks the unit done)
// An existing checkpoint.pt is resumed; counter-based random streams keyed by (seed, epoch,
// batch) make the result equal an uninterrupted run. Errors: InputError for a checkpoint of
// another model or format, FileSystemError when the files cannot be written.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "ripple/settings.h"
#include "ripple/trainer.h"
#include "train/flat_adam.h"
#include "train/synchronizer.h"
#include "train/task.h"

namespace ripple::train {

struct EpochStats {
  double loss = 0;  // mean over the epoch's examples
  int64_t examples = 0;
  double forward_ms = 0, backward_ms = 0, update_ms = 0;  // summed over the batches
};

// With a synchronizer, `loss` and `examples` are over every rank.
EpochStats train_epoch(Task& task, FlatAdam& optimizer, int64_t epoch, Synchronizer* synchronizer = nullptr);

// The optimizer train.optimizer/lr/weight_decay ask for, over `model`'s parameters.
FlatAdam make_optimizer(const TrainSettings& train, torch::nn::Module& model);

// Trains `task`'s model from `seed` for train.epochs (or until patience runs out). `dir`
// empty: nothing is written and nothing resumed (a distributed run's ranks other than 0).
// `epochs_this_process` counts epochs for the interrupt hook across units.
UnitResult train_unit(Task& task, const TrainSettings& train, int64_t unit, uint64_t seed,
                      const std::filesystem::path& dir, const TrainCallbacks& callbacks,
                      int64_t& epochs_this_process, Synchronizer* synchronizer = nullptr);

// What result.json holds: seed, best_epoch, epochs_run, epoch_ms_median, eval_ms_median and
// the metrics.
nlohmann::json unit_result_json(const UnitResult& result);

// A finished unit's result.json and metrics.jsonl read back (history included). Throws
// InputError naming the file when either is malformed.
UnitResult read_unit_result(const std::filesystem::path& dir, int64_t unit);
// The same from the two files' texts (sent by another rank); `origin` names them in errors.
UnitResult unit_result_from_text(const std::string& result_json, const std::string& metrics_jsonl, int64_t unit,
                                 const std::string& origin);

}  // namespace ripple::train
