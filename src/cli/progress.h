// Training progress for the command line: a redrawn bar on a terminal, plain lines (every
// train.log_every epochs) otherwise, so logs stay readable in CI and when piped.
#pragma once

#include <cstdint>
#include <cstdio>

#include "ripple/trainer.h"

namespace ripple::cli {

class Progress {
 public:
  Progress(int64_t seeds, int64_t log_every, FILE* out = stderr);
  void on_epoch(int64_t seed_index, int64_t total_epochs, const EpochRecord& r);
  void on_seed_done(int64_t seed_index, const SeedResult& r);

 private:
  int64_t seeds_, log_every_;
  FILE* out_;
  bool tty_;
};

}  // namespace ripple::cli
