// Training progress for the command line: a redrawn bar on a terminal, plain lines (every
// train.log_every epochs) otherwise, so logs stay readable in CI and when piped. Units are
// seeds (node task) or folds (graph task).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "ripple/trainer.h"

namespace ripple::cli {

class Progress {
 public:
  Progress(int64_t units, int64_t log_every, std::string unit_name, FILE* out = stderr);
  void on_epoch(int64_t total_epochs, const EpochRecord& r);
  void on_unit_done(const UnitResult& r);

 private:
  int64_t units_, log_every_;
  std::string unit_name_;
  FILE* out_;
  bool tty_;
};

}  // namespace ripple::cli
