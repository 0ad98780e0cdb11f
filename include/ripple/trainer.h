// Training runs and their run directories, for every task (task.kind).
//
// run_experiment() validates the settings, loads the data, and trains the task's units
// (node and link tasks: `train.seeds` seeds, seed, seed+1, ...; graph task: the cross-validation
// folds) through the one training loop, writing:
//   config.toml              the resolved configuration (what --resume reads back)
//   <unit>/metrics.jsonl     one JSON object per epoch (<unit> is seed-<i> or fold-<i>)
//   <unit>/checkpoint.pt     resumable state by name, versioned; every train.checkpoint_every epochs
//   <unit>/best.pt           parameters and buffers, by name, of the selected epoch
//   <unit>/result.json       the unit's selected metrics (its presence marks the unit done)
//   summary.json             metrics.NAME {mean, std, per_seed | per_fold}; written last and
//                            atomically, so a directory without it is not complete.
// Resuming continues every unfinished unit from its last checkpoint; random streams are
// counter-based, keyed by (seed, epoch, batch), so the result equals an uninterrupted run.
// Errors: SettingError/InputError for bad settings or data, before anything is written;
// FileSystemError when the run directory cannot be written.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ripple/settings.h"

namespace ripple {

// Named values of one evaluation ("train_acc", "valid_acc", "valid_loss", "test_acc", ...).
using Metrics = std::map<std::string, double>;

struct EpochRecord {
  int64_t unit = 0, epoch = 0;
  double loss = 0, lr = 0, epoch_ms = 0;  // epoch_ms: the training step, without evaluation
  double eval_ms = 0;                     // the evaluation after the epoch
  Metrics metrics;
  double metric(const std::string& name) const;  // 0 when the task does not report it
};

// One trained unit (a seed of the node task, a fold of the graph task).
struct UnitResult {
  int64_t unit = 0, seed = 0;
  int64_t best_epoch = 0, epochs_run = 0;  // best_epoch: the selected epoch
  double epoch_ms_median = 0, eval_ms_median = 0;
  Metrics metrics;                         // at best_epoch
  std::vector<EpochRecord> history;        // every epoch, also those of earlier processes
  double metric(const std::string& name) const;
};

struct RunSummary {
  std::string task;      // "node_classification", "graph_classification" or "link_prediction"
  std::string protocol;  // graph task: gin or errica
  int64_t selected_epoch = 0;  // graph task, gin protocol: the one epoch chosen for every fold
  std::vector<UnitResult> units;
  double mean(const std::string& metric) const;
  // Sample standard deviation over the units (0 for one); population for the graph task,
  // as the GIN paper reports it.
  double std(const std::string& metric) const;
};

struct TrainCallbacks {
  std::function<void(const EpochRecord&)> on_epoch;
  std::function<void(const UnitResult&)> on_unit_done;
  // A distributed run (docs/distributed.md): called once this process has joined its group,
  // with its rank, the group's size and the run directory rank 0 chose (which only rank 0
  // writes; the CLI puts the other ranks' logs beside it).
  std::function<void(int rank, int world_size, const std::filesystem::path& run_dir)> on_joined_group;
  // Lines a run reports besides its epochs (a distributed rank's parameter hash).
  std::function<void(const std::string&)> on_message;
  // Test hook: stop (throwing std::runtime_error) after this many epochs in this process.
  int64_t interrupt_after_epochs = -1;
};

// `config.dataset.path` must already be resolved (see resolve_dataset_path in the CLI).
// When the environment names a group (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, as
// `ripple launch` and torchrun set them), this process trains as one rank of it
// (dist.strategy): the ranks check that they were given the same configuration (InputError
// naming the ranks otherwise), rank 0's `run_dir` is used, and only rank 0 writes it.
// DistributedError when a peer is lost.
RunSummary run_experiment(const RunConfig& config, const std::filesystem::path& run_dir, bool resume,
                          const TrainCallbacks& callbacks = {});

// The resolved settings a run directory was trained with (its config.toml). InputError
// when the directory has none or it is malformed.
RunConfig read_run_config(const std::filesystem::path& run_dir);

// Node task: evaluates best.pt of every finished seed of a run directory.
std::vector<UnitResult> evaluate_run(const std::filesystem::path& run_dir);

}  // namespace ripple
