// `ripple train` for task.kind = "graph" (internal): reads the typed task settings out of the
// configuration once, loads the TU dataset, runs the cross-validation and writes the run
// directory:
//   config.toml            the resolved configuration
//   fold-<i>/metrics.jsonl one JSON object per epoch of fold i
//   summary.json           metrics.test_acc {mean, std, per_fold}, the protocol and the
//                          selected epoch(s); written last and atomically
// Bad settings and bad data throw InputError before anything is written. Resuming is not
// supported for this task: an existing run directory is refused.
#pragma once

#include <filesystem>
#include <functional>

#include "ripple/config.h"
#include "ripple/graph_classification.h"

namespace ripple::train {

GraphTaskConfig graph_task_config(const Config& config);

CrossValidationResult run_graph_experiment(const Config& config, const std::filesystem::path& run_dir,
                                           const std::filesystem::path& config_dir,
                                           const std::function<void(const GraphEpochRecord&)>& on_epoch = {});

}  // namespace ripple::train
