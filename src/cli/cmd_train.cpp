#include <fmt/format.h>

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/progress.h"
#include "ripple/config.h"
#include "ripple/error.h"
#include "ripple/trainer.h"
#include "train/node_data.h"

namespace fs = std::filesystem;

namespace ripple::cli {
namespace {

// A distributed rank other than 0 writes its output to <run dir>/rank-<r>.log, beside rank 0's
// files (on its own machine when the group spans several).
void redirect_output_to_log(const fs::path& run_dir, int rank) {
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  const fs::path log = run_dir / fmt::format("rank-{}.log", rank);
  std::fflush(stdout);
  std::fflush(stderr);
  if (!std::freopen(log.c_str(), "a", stdout)) throw_file_error(log.string(), "cannot open the rank's log", errno);
  if (dup2(fileno(stdout), fileno(stderr)) < 0) throw_file_error(log.string(), "cannot redirect stderr", errno);
}

struct TrainOptions {
  std::string config_path;
  std::vector<std::string> overrides;
  int64_t seeds = 0;
  std::string run_dir;
  std::string resume_dir;
};

std::string default_run_dir(const RunConfig& c) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&t));
  const std::string dataset = fs::path(c.dataset.path).filename().string();
  return fmt::format("runs/{}_{}_{}", dataset, c.model.name, stamp);
}

void print_result(const RunConfig& c, const RunSummary& s, const fs::path& run_dir) {
  if (s.task == "graph_classification") {
    fmt::print("model {} on {}: test accuracy {:.2f} ± {:.2f} % over {} fold(s), {} protocol{}\n", c.model.name,
               c.dataset.path, 100 * s.mean("test_acc"), 100 * s.std("test_acc"), s.units.size(), s.protocol,
               s.protocol == "gin" ? fmt::format(" (epoch {} chosen on mean test accuracy: optimistic)", s.selected_epoch)
                                   : "");
  } else if (s.task == "link_prediction") {
    std::string line = fmt::format("model {} ({} decoder) on {}, {} split:", c.model.name, c.link.decoder,
                                   c.dataset.path, c.link.split);
    std::vector<std::string> names = {"auc", "ap"};
    for (const int64_t k : c.link.hits_k) names.push_back(fmt::format("hits@{}", k));
    for (const std::string& n : names) line += fmt::format(" {} {:.4f} ± {:.4f}", n, s.mean(n), s.std(n));
    const std::string selected = link_selection_metric(c);
    fmt::print("{} over {} seed(s) (valid {} {:.4f})\n", line, s.units.size(), selected, s.mean("valid_" + selected));
  } else if (s.task == "recommendation") {
    std::string line = fmt::format("model {} on {}:", c.model.name, c.dataset.path);
    for (const int64_t k : c.recommend.k) {
      for (const std::string& n : {fmt::format("recall@{}", k), fmt::format("ndcg@{}", k)}) {
        line += fmt::format(" {} {:.4f} ± {:.4f}", n, s.mean(n), s.std(n));
      }
    }
    fmt::print("{} over {} seed(s) (last epoch)\n", line, s.units.size());
  } else {
    fmt::print("model {} on {}: test accuracy {:.2f} ± {:.2f} % over {} seed(s) (valid {:.2f} %)\n", c.model.name,
               c.dataset.path, 100 * s.mean("test_acc"), 100 * s.std("test_acc"), s.units.size(),
               100 * s.mean("valid_acc"));
  }
  fmt::print("run directory: {}\n", run_dir.string());
}

int run_train(const TrainOptions& o) {
  Config config;
  fs::path run_dir;
  const bool resume = !o.resume_dir.empty();
  if (resume) {
    run_dir = o.resume_dir;
    if (!fs::is_regular_file(run_dir / "config.toml")) {
      throw InputError(fmt::format("{}: not a run directory (no config.toml) to resume", run_dir.string()));
    }
    if (!o.config_path.empty() || !o.overrides.empty() || o.seeds > 0) {
      throw InputError("--resume takes the run's own configuration; drop --config, --set and --seeds");
    }
    config = Config::from_file((run_dir / "config.toml").string());
  } else {
    fs::path config_dir;
    if (!o.config_path.empty()) {
      config = Config::from_file(o.config_path);
      config_dir = fs::path(o.config_path).parent_path();
    }
    for (const std::string& s : o.overrides) config.set_override(s);
    if (o.seeds > 0) config.set("train.seeds", o.seeds, "--seeds");
    const std::string& path = config.settings().dataset.path;
    if (!path.empty()) {
      config.set("dataset.path", train::resolve_dataset_path(path, config_dir).string(), config.source_of("dataset.path"));
    }
    run_dir = o.run_dir.empty() ? fs::path(default_run_dir(config.settings())) : fs::path(o.run_dir);
  }
  config.validate();  // the one check, with the source of a bad field
  const RunConfig& c = config.settings();
  const bool graph = c.task.kind == "graph";
  Progress progress(graph ? (c.task.run_folds ? c.task.run_folds : c.task.folds) : c.train.seeds, c.train.log_every,
                    graph ? "fold" : "seed", shown_metrics(c));
  TrainCallbacks cb;
  cb.on_epoch = [&](const EpochRecord& r) { progress.on_epoch(c.train.epochs, r); };
  cb.on_unit_done = [&](const UnitResult& r) { progress.on_unit_done(r); };
  cb.on_message = [](const std::string& line) { fmt::print("{}\n", line); };
  cb.on_joined_group = [&](int rank, int world_size, const fs::path& dir) {
    run_dir = dir;  // rank 0's choice
    if (rank > 0) redirect_output_to_log(dir, rank);
    fmt::print("rank {} of {}: run directory {}\n", rank, world_size, dir.string());
  };
  RunSummary summary;
  try {
    summary = run_experiment(c, run_dir, resume, cb);
  } catch (const SettingError& e) {  // a rule only the data can check: say where the field was set
    throw InputError(fmt::format("{}: {}", config.source_of(e.field()), e.what()));
  }
  print_result(c, summary, run_dir);
  return 0;
}

}  // namespace

Action add_train_command(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App* cmd = app.add_subcommand("train", "Train a model (node classification, link prediction, recommendation, or graph classification by cross-validation)");
  cmd->add_option("--config", o->config_path, "TOML configuration file (see docs/config.md)");
  cmd->add_option("--set", o->overrides, "Override a key: section.key=value (repeatable)");
  cmd->add_option("--seeds", o->seeds, "Number of seeds to run (report mean and std)")->check(CLI::PositiveNumber);
  cmd->add_option("--run-dir", o->run_dir, "Run directory (default runs/<dataset>_<model>_<time>)");
  cmd->add_option("--resume", o->resume_dir, "Continue the unfinished run in this directory");
  return [o] { return run_train(*o); };
}

}  // namespace ripple::cli
