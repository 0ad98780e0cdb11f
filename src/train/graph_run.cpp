// Graph-classification runs and their run directory. See src/train/graph_run.h.
#include "train/graph_run.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ripple/error.h"
#include "ripple/threads.h"
#include "train/files.h"
#include "train/node_data.h"
#include "train/stats.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace ripple::train {

GraphTaskConfig graph_task_config(const Config& c) {
  GraphTaskConfig t;
  t.model.name = c.get_string("model.name");
  t.model.hidden = c.get_int("model.hidden");
  t.model.layers = c.get_int("model.layers");
  t.model.dropout = c.get_float("model.dropout");
  t.model.train_eps = c.get_bool("model.train_eps");
  t.model.readout = c.get_string("model.readout");
  t.protocol = c.get_string("task.protocol") == "errica" ? CvProtocol::kErrica : CvProtocol::kGinPaper;
  t.folds = c.get_int("task.folds");
  t.run_folds = c.get_int("task.run_folds");
  t.valid_fraction = c.get_float("task.valid_fraction");
  t.epochs = c.get_int("train.epochs");
  t.batch_size = c.get_int("train.batch_size");
  t.lr = c.get_float("train.lr");
  t.weight_decay = c.get_float("train.weight_decay");
  const std::string& schedule = c.get_string("train.lr_schedule");
  if (schedule == "cosine") throw InputError("train.lr_schedule: graph classification takes constant or step");
  t.lr_step_size = schedule == "step" ? c.get_int("train.lr_step_size") : t.epochs + 1;
  t.lr_gamma = c.get_float("train.lr_gamma");
  t.seed = static_cast<uint64_t>(c.get_int("train.seed"));
  return t;
}

namespace {

json epoch_json(const GraphEpochRecord& r) {
  return {{"epoch", r.epoch},         {"loss", r.loss},           {"train_acc", r.train_acc},
          {"valid_acc", r.valid_acc}, {"valid_loss", r.valid_loss}, {"test_acc", r.test_acc},
          {"lr", r.lr},               {"epoch_ms", r.epoch_ms}};
}

}  // namespace

CrossValidationResult run_graph_experiment(const Config& c, const fs::path& run_dir, const fs::path& config_dir,
                                           const std::function<void(const GraphEpochRecord&)>& on_epoch) {
  c.validate();
  const GraphTaskConfig task = graph_task_config(c);
  if (fs::exists(run_dir / "config.toml")) {
    throw InputError(fmt::format("{}: already holds a run; choose another --run-dir (graph classification runs "
                                 "cannot be resumed)",
                                 run_dir.string()));
  }
  set_intra_op_threads(c.get_int("train.threads"));
  const fs::path dataset_path = resolve_dataset_path(c, config_dir);
  TuOptions options;
  options.max_degree_feature = c.get_int("dataset.max_degree_feature");
  const GraphDataset data = load_tu_dataset(dataset_path.string(), options);
  GraphModel probe(task.model, data.num_features(), data.num_classes);  // model errors before writing

  fs::create_directories(run_dir);
  Config resolved = c;
  resolved.set("dataset.path", dataset_path.string(), "resolved path");
  write_file_atomic(run_dir / "config.toml", resolved.to_toml());
  const CrossValidationResult result = cross_validate(data, task, on_epoch);

  json per_fold = json::array(), folds = json::array();
  for (const FoldResult& f : result.folds) {
    per_fold.push_back(f.test_acc);
    std::string lines;
    for (const GraphEpochRecord& r : f.epochs) lines += epoch_json(r).dump() + "\n";
    const fs::path dir = run_dir / fmt::format("fold-{}", f.fold);
    fs::create_directories(dir);
    write_file_atomic(dir / "metrics.jsonl", lines);
    folds.push_back({{"fold", f.fold}, {"selected_epoch", f.selected_epoch}, {"test_acc", f.test_acc},
                     {"epoch_ms_median", f.epoch_ms_median}});
  }
  std::vector<double> ms;
  for (const FoldResult& f : result.folds) ms.push_back(f.epoch_ms_median);
  const json summary = {
      {"task", "graph_classification"},
      {"model", task.model.name},
      {"dataset", dataset_path.string()},
      {"protocol", protocol_name(task.protocol)},
      {"selection", task.protocol == CvProtocol::kGinPaper
                        ? "optimistic: one epoch for every fold, the one with the best mean test accuracy (GIN paper)"
                        : "per fold, the epoch with the best validation accuracy (Errica et al.)"},
      {"selected_epoch", result.common_epoch},
      {"folds_run", result.folds.size()},
      {"folds", task.folds},
      {"metrics",
       {{"test_acc", {{"mean", result.mean}, {"std", result.std}, {"per_fold", per_fold}}},
        {"epoch_ms", {{"median", median(ms)}}}}},
      {"per_fold", folds}};
  write_file_atomic(run_dir / "summary.json", summary.dump(2) + "\n");
  return result;
}

}  // namespace ripple::train
