// Full-batch node-classification training.
//
// run_experiment() trains `seeds` models (seed, seed+1, ...) and writes the run directory:
//   config.toml      the resolved configuration (what --resume reads back)
//   seed-<i>/metrics.jsonl   one JSON object per epoch
//   seed-<i>/checkpoint.pt   full state (model, optimizer, best model, epoch, early-stopping
//                            counters); written atomically every train.checkpoint_every epochs
//   seed-<i>/best.pt         parameters of the best-validation epoch
//   seed-<i>/result.json     the seed's final metrics (its presence marks the seed done)
//   summary.json             mean, std and per-seed values of every final metric; written
//                            last and atomically, so a directory without it is not complete.
// Resuming continues every unfinished seed from its last checkpoint; because dropout draws
// from a counter-based stream keyed by (seed, epoch), the result equals an uninterrupted run.
// Throws InputError for bad data or configuration, before anything is written.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "ripple/config.h"

namespace ripple {

struct EpochRecord {
  int64_t epoch = 0;
  double loss = 0, train_acc = 0, valid_acc = 0, valid_loss = 0, test_acc = 0, lr = 0, epoch_ms = 0;
};

struct SeedResult {
  int64_t seed = 0;
  int64_t best_epoch = 0, epochs_run = 0;
  double train_acc = 0, valid_acc = 0, valid_loss = 0, test_acc = 0, epoch_ms_median = 0;
};

struct RunSummary {
  std::vector<SeedResult> seeds;
  double mean(double SeedResult::*field) const;
  double std(double SeedResult::*field) const;  // sample standard deviation (0 for one seed)
};

struct TrainCallbacks {
  // Called after each epoch; `seed_index` counts from 0.
  std::function<void(int64_t seed_index, int64_t total_epochs, const EpochRecord&)> on_epoch;
  std::function<void(int64_t seed_index, const SeedResult&)> on_seed_done;
  // Test hook: stop (throwing std::runtime_error) after this many epochs in this process.
  int64_t interrupt_after_epochs = -1;
};

// `config_dir` resolves a relative dataset.path that does not exist from the working directory.
RunSummary run_experiment(const Config& config, const std::filesystem::path& run_dir, bool resume,
                          const TrainCallbacks& callbacks = {},
                          const std::filesystem::path& config_dir = {});

// Evaluates the best checkpoint of every finished seed of a run directory.
std::vector<SeedResult> evaluate_run(const std::filesystem::path& run_dir);

}  // namespace ripple
