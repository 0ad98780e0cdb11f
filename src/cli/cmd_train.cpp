#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "cli/commands.h"
#include "cli/progress.h"
#include "ripple/config.h"
#include "ripple/error.h"
#include "ripple/trainer.h"
#include "train/graph_run.h"

namespace fs = std::filesystem;

namespace ripple::cli {
namespace {

struct TrainOptions {
  std::string config_path;
  std::vector<std::string> overrides;
  int64_t seeds = 0;
  std::string run_dir;
  std::string resume_dir;
};

std::string default_run_dir(const Config& c) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&t));
  const std::string dataset = fs::path(c.get_string("dataset.path")).filename().string();
  return fmt::format("runs/{}_{}_{}", dataset, c.get_string("model.name"), stamp);
}

int run_graph_train(const Config& config, const fs::path& run_dir, const fs::path& config_dir) {
  const int64_t log_every = config.get_int("train.log_every");
  auto on_epoch = [&](const GraphEpochRecord& r) {
    if (r.epoch % log_every == 0 || r.epoch == 1) {
      fmt::print(stderr, "fold {} epoch {:4d}  loss {:.4f}  train {:.2f} %  valid {:.2f} %  test {:.2f} %  {:.0f} ms\n",
                 r.fold, r.epoch, r.loss, 100 * r.train_acc, 100 * r.valid_acc, 100 * r.test_acc, r.epoch_ms);
    }
  };
  const CrossValidationResult result = train::run_graph_experiment(config, run_dir, config_dir, on_epoch);
  const bool gin = result.protocol == CvProtocol::kGinPaper;
  fmt::print("model {} on {}: test accuracy {:.2f} ± {:.2f} % over {} fold(s), {} protocol{}\n",
             config.get_string("model.name"), config.get_string("dataset.path"), 100 * result.mean,
             100 * result.std, result.folds.size(), protocol_name(result.protocol),
             gin ? fmt::format(" (epoch {} chosen on mean test accuracy: optimistic)", result.common_epoch) : "");
  fmt::print("run directory: {}\n", run_dir.string());
  return 0;
}

int run_train(const TrainOptions& o) {
  Config config;
  fs::path config_dir;
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
    config_dir = run_dir;
  } else {
    if (!o.config_path.empty()) {
      config = Config::from_file(o.config_path);
      config_dir = fs::path(o.config_path).parent_path();
    }
    for (const std::string& s : o.overrides) config.set_override(s);
    if (o.seeds > 0) config.set("train.seeds", o.seeds, "--seeds");
    run_dir = o.run_dir.empty() ? fs::path(default_run_dir(config)) : fs::path(o.run_dir);
  }
  if (config.get_string("task.kind") == "graph") return run_graph_train(config, run_dir, config_dir);
  Progress progress(config.get_int("train.seeds"), config.get_int("train.log_every"));
  TrainCallbacks cb;
  cb.on_epoch = [&](int64_t s, int64_t total, const EpochRecord& r) { progress.on_epoch(s, total, r); };
  cb.on_seed_done = [&](int64_t s, const SeedResult& r) { progress.on_seed_done(s, r); };
  const RunSummary summary = run_experiment(config, run_dir, resume, cb, config_dir);
  fmt::print("model {} on {}: test accuracy {:.2f} ± {:.2f} % over {} seed(s) (valid {:.2f} %)\n",
             config.get_string("model.name"), config.get_string("dataset.path"),
             100 * summary.mean(&SeedResult::test_acc), 100 * summary.std(&SeedResult::test_acc),
             summary.seeds.size(), 100 * summary.mean(&SeedResult::valid_acc));
  fmt::print("run directory: {}\n", run_dir.string());
  return 0;
}

}  // namespace

Action add_train_command(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App* cmd = app.add_subcommand("train", "Train a model (node classification, or graph classification by cross-validation)");
  cmd->add_option("--config", o->config_path, "TOML configuration file (see docs/config.md)");
  cmd->add_option("--set", o->overrides, "Override a key: section.key=value (repeatable)");
  cmd->add_option("--seeds", o->seeds, "Number of seeds to run (report mean and std)")->check(CLI::PositiveNumber);
  cmd->add_option("--run-dir", o->run_dir, "Run directory (default runs/<dataset>_<model>_<time>)");
  cmd->add_option("--resume", o->resume_dir, "Continue the unfinished run in this directory");
  return [o] { return run_train(*o); };
}

}  // namespace ripple::cli
