// A training run's place in a distributed group (internal to src/train/trainer.cpp):
// joining the group the torchrun variables name, the checks every rank makes at start-up,
// the data a rank opens, and summary.json's `dist` section. docs/distributed.md.
//
// join_run_group: a single process (no WORLD_SIZE, or 1) gets an empty group. Otherwise it
// connects (src/dist/communicator.h), compares every rank's configuration with rank 0's
// (InputError naming the ranks that differ), takes rank 0's run directory and, on a restart
// of the group, whether rank 0 holds this run unfinished (then `resume` becomes true); the
// `--resume DIR` is an InputError. DistributedError when a peer is lost.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>

#include "dist/communicator.h"
#include "dist/group_strategy.h"
#include "ripple/settings.h"
#include "ripple/trainer.h"
#include "train/node_data.h"
#include "train/synchronizer.h"

namespace ripple::train {

// This process's place in a distributed run: empty for a single process.
struct RunGroup {
  std::unique_ptr<dist::Communicator> comm;
  std::unique_ptr<dist::GroupStrategy> strategy;  // none for units
  // dist.strategy = "units": each rank trains whole units of its own (train/units.h).
  bool splits_units = false;
  bool writes_files() const { return !comm || comm->rank() == 0; }
  bool trains_unit(int64_t unit) const { return !splits_units || unit % comm->world_size() == comm->rank(); }
  Synchronizer* synchronizer() const { return strategy.get(); }
};

// Whether the unit whose files go to `dir` (empty on ranks that write none) is finished,
// as rank 0 sees it: every rank of a group gets rank 0's answer under `key` (under units,
// the rank that trains it: its own answer).
bool unit_finished(const RunGroup& group, const std::filesystem::path& dir, const std::string& key);

RunGroup join_run_group(const RunConfig& config, bool& resume, std::filesystem::path& run_dir,
                        const TrainCallbacks& callbacks);

// dist.data = "partitioned": this rank's part of the `ripple partition` folder at
// dataset.path (`comm`: the group; null for one process, which opens part 0 of a one-part
// folder). Sampled runs also get the part's sampling view, with the whole graph's degrees
// (an all-reduce), and with dist.remote = "fetch" the exchange with the other parts.
// InputError when the part count differs from the group's size, a part is missing, the
// folder has no partition book, or fetching is asked of parts without a halo.
NodeData load_partition(const RunConfig& config, dist::Communicator* comm);

// summary.json's `dist` section: the traffic of every rank together (a collective: every
// rank calls it).
nlohmann::json dist_summary_json(const RunConfig& config, const RunGroup& group);

}  // namespace ripple::train
