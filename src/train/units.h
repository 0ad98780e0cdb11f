// The units of a run directory (internal): the seeds of the node, link and recommendation
// tasks and the folds of the graph task, each trained once through the one loop.
//
// run_units: unit u's files (train/loop.h) go to RUN_DIR/<kind>-u on the ranks that write
// files. A unit whose result.json is there (in a group that trains one model together: as
// rank 0 sees it) is read back, not trained again.
//
// dist.strategy = "units": rank r trains, by itself, the units u with u mod N = r, and
// writes their folders; every epoch it reports its progress. Then it waits for the other
// ranks (one whose report does not change for dist.timeout_s fails the run, naming it: a
// stopped rank), and each unit's owner sends its folder's files to every rank. Rank 0 writes
// them into its run directory, so summary.json, `ripple eval` and `--resume` find every unit
// there, also across machines with no shared file system; every rank returns every result.
// A restarted group (ripple launch --max-restarts) finds each rank's finished units in its
// folders and resumes the others from their checkpoints.
//
// Errors: DistributedError when a peer is lost, InputError for a malformed result.json,
// FileSystemError when a folder cannot be read or written.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "ripple/trainer.h"
#include "train/distributed_run.h"

namespace ripple::train {

// Trains unit `unit` into `dir` (empty: write nothing), with these callbacks and the epoch
// count of the interrupt hook (train_unit's arguments).
using TrainOneUnit = std::function<UnitResult(int64_t unit, const std::filesystem::path& dir,
                                              const TrainCallbacks& callbacks, int64_t& epochs_this_process)>;

// Units 0..count-1 in order. `kind` names their folders: "seed" or "fold".
std::vector<UnitResult> run_units(const RunGroup& group, const std::filesystem::path& run_dir, int64_t count,
                                  const std::string& kind, const TrainCallbacks& callbacks,
                                  const TrainOneUnit& train_one);

}  // namespace ripple::train
