// Resumable training state of one seed and its on-disk form (internal).
#pragma once

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <filesystem>
#include <vector>

namespace ripple::train {

struct TrainState {
  int64_t epoch = 0;  // last completed epoch
  int64_t best_epoch = 0;
  double best_valid_acc = -1, best_valid_loss = 1e300, best_test_acc = 0, best_train_acc = 0;
  double min_valid_loss = 1e300, max_valid_acc = -1;
  int64_t bad_epochs = 0;
  std::vector<double> epoch_ms;
  std::vector<at::Tensor> best_parameters;  // parameters then buffers, at best_epoch
};

// Written to a temporary file and renamed. Throws InputError on I/O failure.
void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, const TrainState& state);
// Restores model, optimizer and state; throws InputError for a missing or corrupt file.
void load_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, TrainState& state);

std::vector<at::Tensor> snapshot_parameters(torch::nn::Module& model);
void restore_parameters(torch::nn::Module& model, const std::vector<at::Tensor>& values);
void save_parameters(const std::filesystem::path& path, const std::vector<at::Tensor>& values);
std::vector<at::Tensor> load_parameters(const std::filesystem::path& path);

}  // namespace ripple::train
