// Run directories for every task: validation, config.toml, the units through the one loop,
// resume, summary.json. See include/ripple/trainer.h.
#include "ripple/trainer.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/utils.h>

#include <cmath>

#include "ripple/config.h"
#include "ripple/error.h"
#include "ripple/graph_classification.h"
#include "ripple/graph_model.h"
#include "ripple/threads.h"
#include "tasks/graph_task.h"
#include "tasks/link_task.h"
#include "tasks/node_task.h"
#include "tasks/recommend_task.h"
#include "train/checkpoint.h"
#include "train/distributed_run.h"
#include "train/files.h"
#include "train/loop.h"
#include "train/node_data.h"
#include "train/units.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace ripple {
namespace {

// A unit's value of `name`: a metric, or the median epoch_ms / eval_ms.
double unit_value(const UnitResult& r, const std::string& name) {
  if (name == "epoch_ms") return r.epoch_ms_median;
  if (name == "eval_ms") return r.eval_ms_median;
  return r.metric(name);
}

json metric_json(const RunSummary& s, const std::string& name, const char* per_unit) {
  json per = json::array();
  for (const UnitResult& r : s.units) per.push_back(unit_value(r, name));
  return {{"mean", s.mean(name)}, {"std", s.std(name)}, {per_unit, per}};
}

json summary_json(const RunConfig& c, const RunSummary& s) {
  const bool graph = s.task == "graph_classification";
  const char* per_unit = graph ? "per_fold" : "per_seed";
  json metrics;
  for (const auto& [name, v] : s.units.front().metrics) metrics[name] = metric_json(s, name, per_unit);
  json per = json::array();
  for (const UnitResult& r : s.units) per.push_back(train::unit_result_json(r));
  metrics["epoch_ms"] = metric_json(s, "epoch_ms", per_unit);
  metrics["eval_ms"] = metric_json(s, "eval_ms", per_unit);
  json out = {{"task", s.task}, {"model", c.model.name}, {"dataset", c.dataset.path}, {"metrics", metrics}};
  if (graph) {
    out["protocol"] = s.protocol;
    out["selection"] = s.protocol == "gin"
                           ? "optimistic: one epoch for every fold, the one with the best mean test accuracy (GIN paper)"
                           : "per fold, the epoch with the best validation accuracy (Errica et al.)";
    out["selected_epoch"] = s.selected_epoch;
    out["folds"] = c.task.folds;
    out["folds_run"] = s.units.size();
    out["per_fold"] = per;
  } else {
    if (s.task == "link_prediction") {
      out["split"] = c.link.split;
      if (c.link.split == "random") {
        out["split_seed"] = tasks::split_per_seed(c) ? json("each seed its own (train.seed + i)") : json(c.link.split_seed);
      }
      out["selection"] = fmt::format("per seed, the epoch with the best valid_{}", link_selection_metric(c));
    }
    if (s.task == "recommendation") {
      out["selection"] = "the last epoch (no validation split, as in the LightGCN paper's protocol)";
    }
    out["seeds"] = per;
  }
  return out;
}

// Node classification and link prediction: `train.seeds` units; `make_task(i)` builds unit
// i's task.
template <typename MakeTask>
RunSummary run_seeds(const RunConfig& c, const char* task_name, const fs::path& run_dir, const TrainCallbacks& cb,
                     const train::RunGroup& group, const MakeTask& make_task) {
  RunSummary summary;
  summary.task = task_name;
  summary.units = train::run_units(group, run_dir, c.train.seeds, "seed", cb,
                                   [&](int64_t i, const fs::path& dir, const TrainCallbacks& unit_cb, int64_t& epochs) {
                                     auto task = make_task(i);
                                     return train::train_unit(task, c.train, i, static_cast<uint64_t>(c.train.seed + i),
                                                              dir, unit_cb, epochs, group.synchronizer());
                                   });
  return summary;
}

}  // namespace

double RunSummary::mean(const std::string& metric) const {
  if (units.empty()) return 0;
  double t = 0;
  for (const UnitResult& r : units) t += unit_value(r, metric);
  return t / static_cast<double>(units.size());
}

double RunSummary::std(const std::string& metric) const {
  if (units.size() < 2) return 0;
  const double m = mean(metric);
  double t = 0;
  for (const UnitResult& r : units) {
    const double x = unit_value(r, metric);
    t += (x - m) * (x - m);
  }
  const auto n = static_cast<double>(units.size());
  return std::sqrt(t / (task == "graph_classification" ? n : n - 1));
}

RunSummary run_experiment(const RunConfig& c, const fs::path& requested_run_dir, bool resume, const TrainCallbacks& cb) {
  validate_run_config(c);
  const bool graph = c.task.kind == "graph", link = c.task.kind == "link", recommend = c.task.kind == "recommend";
  fs::path run_dir = requested_run_dir;
  const train::RunGroup group = train::join_run_group(c, resume, run_dir, cb);  // may turn a restart into a resume
  const bool writer = group.writes_files();
  if (writer && !resume && fs::exists(run_dir / "summary.json")) {
    throw InputError(fmt::format("{}: already holds a finished run; choose another --run-dir", run_dir.string()));
  }
  set_intra_op_threads(c.train.threads);
  // Every input error surfaces before anything is written: data, then the model.
  train::NodeData node_data;
  GraphDataset graph_data;
  std::shared_ptr<tasks::LinkData> link_data;  // per seed when each seed draws its own split
  std::shared_ptr<tasks::RecommendData> recommend_data;
  if (recommend) {
    recommend_data = tasks::prepare_recommend_data(c);
  } else if (link) {
    const auto split_seed = static_cast<uint64_t>(tasks::split_per_seed(c) ? c.train.seed : c.link.split_seed);
    link_data = tasks::prepare_link_data(c, split_seed);
    tasks::LinkModel probe(c, link_data->dataset.num_nodes, c.link.embedding > 0 ? 0 : link_data->features.cols());
  } else if (graph) {
    TuOptions options;
    options.max_degree_feature = c.dataset.max_degree_feature;
    graph_data = load_graph_dataset(c.dataset.path, options);
    GraphModel probe(c.model, graph_data.num_features(), graph_data.num_classes);
  } else if (c.dist.data == "partitioned") {
    node_data = train::load_partition(c, group.comm.get());
  } else {
    if (fs::is_regular_file(fs::path(c.dataset.path) / "partition.json")) {
      throw SettingError("dist.data", fmt::format("{} is a `ripple partition` folder; train on it with dist.data = "
                                                  "\"partitioned\"", c.dataset.path));
    }
    node_data = train::prepare_node_data(c);
    NodeModel probe(c.model, node_data.dataset.num_features(), node_data.dataset.num_classes);
  }
  if (writer && !resume) {
    if (fs::exists(run_dir / "config.toml")) {
      throw InputError(fmt::format("{}: holds an unfinished run; continue it with --resume {}", run_dir.string(),
                                   run_dir.string()));
    }
    fs::create_directories(run_dir);
    train::write_file_atomic(run_dir / "config.toml", Config(c).to_toml());
  }
  // Replicated data: each rank trains on its share; partitioned: on its own part, whole.
  const bool partitioned = c.dist.data == "partitioned";
  const train::Shard shard =
      group.comm && !partitioned && !group.splits_units ? train::Shard{group.comm->rank(), group.comm->world_size()}
                                                        : train::Shard{};
  RunSummary summary;
  if (graph) {
    summary = tasks::cross_validate_in_group(graph_data, c, cb, run_dir, group, shard);
  } else if (recommend) {
    summary = run_seeds(c, "recommendation", run_dir, cb, group,
                        [&](int64_t) { return tasks::RecommendationTask(c, recommend_data, shard); });
  } else if (link) {
    summary = run_seeds(c, "link_prediction", run_dir, cb, group, [&](int64_t i) {
      const bool own = tasks::split_per_seed(c) && i > 0;
      train::GatherRows gather;
      if (group.strategy && group.strategy->evaluation_gathered()) {
        gather = [&group](const at::Tensor& rows) {
          return group.comm->gather_rows(rows, dist::Traffic::control, "all-gather of the evaluation's link scores");
        };
      }
      return tasks::LinkPredictionTask(
          c, own ? tasks::prepare_link_data(c, static_cast<uint64_t>(c.train.seed + i)) : link_data, shard,
          std::move(gather));
    });
  } else {
    train::GatherRows gather;
    if (group.strategy && group.strategy->evaluation_shared() && !partitioned) {
      gather = [&group](const at::Tensor& rows) {
        return group.comm->gather_rows(rows, dist::Traffic::halo, "all-gather of the evaluation's layer outputs");
      };
    }
    summary = run_seeds(c, "node_classification", run_dir, cb, group, [&](int64_t) {
      return tasks::NodeClassificationTask(c, node_data, shard, partitioned && group.comm, gather);
    });
  }
  json out = summary_json(c, summary);
  if (group.comm) out["dist"] = train::dist_summary_json(c, group);  // a collective: every rank takes part
  if (writer) train::write_file_atomic(run_dir / "summary.json", out.dump(2) + "\n");
  return summary;
}

RunConfig read_run_config(const fs::path& run_dir) {
  if (!fs::is_regular_file(run_dir / "config.toml")) {
    throw InputError(fmt::format("{}: not a run directory (no config.toml)", run_dir.string()));
  }
  return Config::from_file((run_dir / "config.toml").string()).settings();
}

std::vector<UnitResult> evaluate_run(const fs::path& run_dir) {
  const RunConfig c = read_run_config(run_dir);
  if (c.task.kind != "node") {
    throw InputError(fmt::format("{}: ripple eval re-evaluates node-classification runs; this is a {} run, whose "
                                 "summary.json holds its evaluation", run_dir.string(), c.task.kind));
  }
  if (c.dist.data == "partitioned") {
    throw InputError(fmt::format("{}: a run on partitioned data; its summary.json holds the evaluation (ripple eval "
                                 "opens whole datasets)", run_dir.string()));
  }
  train::NodeData data = train::prepare_node_data(c);
  std::vector<UnitResult> out;
  for (int64_t i = 0; i < c.train.seeds; ++i) {
    const fs::path best = run_dir / fmt::format("seed-{}", i) / "best.pt";
    if (!fs::exists(best)) continue;
    tasks::NodeClassificationTask task(c, data);
    const auto seed = static_cast<uint64_t>(c.train.seed + i);
    torch::nn::Module& model = task.build_model(seed);
    train::restore_parameters(model, train::load_parameters(best), best.string());
    UnitResult r;
    r.unit = i;
    r.seed = static_cast<int64_t>(seed);
    r.metrics = task.evaluate();
    out.push_back(r);
  }
  if (out.empty()) throw InputError(fmt::format("{}: no finished seed (no seed-*/best.pt)", run_dir.string()));
  return out;
}

}  // namespace ripple
