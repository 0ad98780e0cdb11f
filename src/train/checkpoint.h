// Checkpoints: a unit's resumable training state, and parameter files, by name and versioned
// (internal).
//
// The file is a pickled dictionary (torch.load in Python reads it):
//   format "ripple-checkpoint", version 2,
//   parameters / buffers / best: {qualified name: tensor},
//   optimizer: {step, exp_avg: {name: tensor}, exp_avg_sq: {name: tensor}},
//   state: {epoch, best_epoch, bad_epochs, best_maximize, best_minimize},
//   best_metrics: {name: value}, epoch_ms: [double],
//   strategy: {name: tensor} (a distributed strategy's own state; absent when it has none).
// Loading checks every name and shape against the model and names the first mismatch.
// A file written before version 2 (parameters by position) is recognised and refused with
// a message that says so. Errors: InputError (missing, corrupt, other model, old format),
// FileSystemError (cannot write or rename).
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "train/flat_adam.h"
#include "train/task.h"

namespace ripple::train {

inline constexpr int64_t kCheckpointVersion = 2;

using NamedTensors = std::map<std::string, at::Tensor>;

struct TrainState {
  int64_t epoch = 0;  // last completed epoch
  int64_t best_epoch = 0;
  double best_maximize = -1e300, best_minimize = 1e300;  // at best_epoch (selection)
  double max_seen = -1e300, min_seen = 1e300;             // running bests (patience)
  int64_t bad_epochs = 0;
  Metrics best_metrics;
  std::vector<double> epoch_ms;
  NamedTensors best_parameters;  // parameters and buffers at best_epoch
  NamedTensors strategy_state;   // the distributed strategy's (train/synchronizer.h)
};

// Parameters then buffers of `model`, cloned, by qualified name.
NamedTensors snapshot_parameters(torch::nn::Module& model);
// Copies `values` into the model; every name must be present with the same shape.
void restore_parameters(torch::nn::Module& model, const NamedTensors& values, const std::string& source);

void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& model, const FlatAdam& optimizer,
                     const TrainState& state);
void load_checkpoint(const std::filesystem::path& path, torch::nn::Module& model, FlatAdam& optimizer,
                     TrainState& state);

void save_parameters(const std::filesystem::path& path, const NamedTensors& values);
NamedTensors load_parameters(const std::filesystem::path& path);

}  // namespace ripple::train
