// Training progress for the command line: a redrawn bar on a terminal, plain lines (every
// train.log_every epochs) otherwise, so logs stay readable in CI and when piped. Units are
// seeds (node and link tasks) or folds (graph task).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "ripple/settings.h"
#include "ripple/trainer.h"

namespace ripple::cli {

// The metrics a task's progress line shows: its training, validation and test figures
// (train empty: none; a missing validation metric shows as "-").
struct ShownMetrics {
  std::string train = "train_acc", valid = "valid_acc", test = "test_acc";
};

// What `config`'s task reports: accuracies, link prediction's selection metric, or
// recommendation's first Recall@K (test only: it has no validation split).
ShownMetrics shown_metrics(const RunConfig& config);

class Progress {
 public:
  Progress(int64_t units, int64_t log_every, std::string unit_name, ShownMetrics shown = {}, FILE* out = stderr);
  void on_epoch(int64_t total_epochs, const EpochRecord& r);
  void on_unit_done(const UnitResult& r);

 private:
  int64_t units_, log_every_;
  std::string unit_name_;
  ShownMetrics shown_;
  FILE* out_;
  bool tty_;
};

}  // namespace ripple::cli
