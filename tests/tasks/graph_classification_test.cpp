// Graph classification: stratified folds, both model-selection protocols, reproducibility,
// short learning runs on MUTAG (the full 10-fold reproductions are `make reproduce`), and
// the command line.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

#include "ripple/error.h"
#include "ripple/graph_classification.h"
#include "ripple/trainer.h"
#include "support/cli.h"

namespace ripple {
namespace {

const GraphDataset& mutag() {
  static const GraphDataset d = load_tu_dataset(testing::source_path("data/MUTAG"));
  return d;
}

TEST(StratifiedFolds, PartitionTheGraphsWithBalancedClassesAndDependOnTheSeed) {
  const GraphDataset& d = mutag();
  const std::vector<at::Tensor> folds = stratified_folds(d.labels, d.num_classes, 10, 3);
  ASSERT_EQ(folds.size(), 10u);
  std::set<int64_t> seen;
  for (const at::Tensor& f : folds) {
    EXPECT_TRUE(f.numel() == 18 || f.numel() == 19) << f.numel();  // 188 graphs
    const at::Tensor per_class = at::bincount(d.labels.index_select(0, f), {}, 2);
    EXPECT_TRUE(per_class[0].item<int64_t>() == 6 || per_class[0].item<int64_t>() == 7);  // 63 of class 0
    for (int64_t i = 0; i < f.numel(); ++i) EXPECT_TRUE(seen.insert(f[i].item<int64_t>()).second);
  }
  EXPECT_EQ(seen.size(), 188u);
  EXPECT_TRUE(at::equal(folds[4], stratified_folds(d.labels, d.num_classes, 10, 3)[4]));
  EXPECT_FALSE(at::equal(folds[4], stratified_folds(d.labels, d.num_classes, 10, 4)[4]));
}

RunConfig short_config(const std::string& model, const std::string& protocol, int64_t epochs) {
  RunConfig c;  // the GIN paper's settings (examples/mutag_gin.toml), narrower and shorter
  c.dataset.path = testing::source_path("data/MUTAG");
  c.task.kind = "graph";
  c.task.protocol = protocol;
  c.task.folds = 10;
  c.task.run_folds = 3;
  c.model.name = model;
  c.model.hidden = 32;
  c.model.layers = 5;
  c.train.epochs = epochs;
  c.train.weight_decay = 0;
  c.train.lr_schedule = "step";
  c.train.lr_step_size = 50;
  c.train.seed = 1;
  return c;
}

// GIN-0 learns MUTAG: on three of the ten folds, after 40 epochs, the GIN protocol's mean
// test accuracy is well above the majority class (66.5 %). The full protocol (10 folds,
// 350 epochs, `make reproduce`) reaches the published 89.4 +- 5.6 within its spread.
TEST(GraphClassificationLearning, GinLearnsMutagAndTheGinProtocolPicksOneEpoch) {
  const RunSummary r = cross_validate(mutag(), short_config("gin", "gin", 40));
  ASSERT_EQ(r.units.size(), 3u);
  EXPECT_GE(r.mean("test_acc"), 0.80) << "mean test accuracy " << r.mean("test_acc");
  EXPECT_GE(r.selected_epoch, 1);
  for (const UnitResult& f : r.units) {
    ASSERT_EQ(f.history.size(), 40u);
    EXPECT_EQ(f.best_epoch, r.selected_epoch);
    EXPECT_EQ(f.metric("test_acc"), f.history[r.selected_epoch - 1].metric("test_acc"));
    EXPECT_LT(f.history.back().loss, f.history.front().loss);
  }
  double best = 0;  // the chosen epoch has the best mean test accuracy
  for (int64_t e = 0; e < 40; ++e) {
    double m = 0;
    for (const UnitResult& f : r.units) m += f.history[e].metric("test_acc") / 3;
    best = std::max(best, m);
  }
  EXPECT_NEAR(r.mean("test_acc"), best, 1e-12);
}

TEST(GraphClassificationLearning, ErricaProtocolSelectsOnValidationAndRunsAreReproducible) {
  const RunConfig c = short_config("gin", "errica", 15);
  const RunSummary a = cross_validate(mutag(), c), b = cross_validate(mutag(), c);
  ASSERT_EQ(a.units.size(), 3u);
  for (size_t i = 0; i < a.units.size(); ++i) {
    const UnitResult& f = a.units[i];
    for (const EpochRecord& e : f.history) {
      EXPECT_LE(e.metric("valid_acc"), f.history[f.best_epoch - 1].metric("valid_acc"));
      EXPECT_EQ(e.loss, b.units[i].history[e.epoch - 1].loss) << "same seed, same run";
    }
    EXPECT_EQ(f.metric("test_acc"), f.history[f.best_epoch - 1].metric("test_acc"));
  }
  EXPECT_EQ(a.mean("test_acc"), b.mean("test_acc"));
  EXPECT_GE(a.mean("test_acc"), 0.70);
}

// The structure-agnostic baseline generalizes on MUTAG (it is as good as a GNN there, as
// Errica et al. report); GCN and SAGE with max and mean readouts fit their training folds.
// (Their MUTAG test accuracy after 30 epochs stays near the majority class, 63-68 %, while
// they fit 80 % of the training graphs: reported in docs/graph_classification.md.)
TEST(GraphClassificationLearning, BaselineGeneralizesAndEveryReadoutTrains) {
  for (const std::string model : {"mlp", "gcn", "sage"}) {
    RunConfig c = short_config(model, "gin", 30);
    c.task.run_folds = 2;
    c.model.readout = model == "sage" ? "mean" : (model == "gcn" ? "max" : "sum");
    const RunSummary r = cross_validate(mutag(), c);
    if (model == "mlp") {
      EXPECT_GE(r.mean("test_acc"), 0.75) << model;
    }
    for (const UnitResult& f : r.units) {
      EXPECT_LT(f.history.back().loss, 0.85 * f.history.front().loss) << model;
      EXPECT_GE(f.history.back().metric("train_acc"), 0.72) << model;
    }
  }
}

TEST(GraphClassification, BadSettingsAreInputErrors) {
  RunConfig c = short_config("gin", "gin", 1);
  c.task.folds = 64;  // class 0 of MUTAG has 63 graphs
  EXPECT_THROW(cross_validate(mutag(), c), SettingError);
  c = short_config("gat", "gin", 1);
  EXPECT_THROW(cross_validate(mutag(), c), SettingError);
}

// A graph run is a run directory like any other: interrupted mid-fold, resumed, it ends as
// an uninterrupted one.
TEST(GraphClassification, InterruptedCrossValidationResumesToTheSameResult) {
  const auto dir = testing::fresh_temp_dir("graph-resume");
  RunConfig c = short_config("gin", "errica", 6);
  c.task.run_folds = 2;
  c.model.hidden = 16;
  c.train.checkpoint_every = 2;
  const RunSummary full = run_experiment(c, dir / "full", false);
  TrainCallbacks stop;
  stop.interrupt_after_epochs = 9;  // fold 0 done, fold 1 stopped after epoch 3 (checkpoint at 2)
  EXPECT_THROW(run_experiment(c, dir / "cut", false, stop), std::runtime_error);
  EXPECT_TRUE(std::filesystem::exists(dir / "cut" / "fold-0" / "result.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "cut" / "fold-1" / "checkpoint.pt"));
  const RunSummary resumed = run_experiment(c, dir / "cut", true);
  ASSERT_EQ(resumed.units.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(full.units[i].best_epoch, resumed.units[i].best_epoch);
    EXPECT_EQ(full.units[i].metrics, resumed.units[i].metrics);
    ASSERT_EQ(resumed.units[i].history.size(), 6u);
    for (size_t e = 0; e < 6; ++e) EXPECT_EQ(full.units[i].history[e].loss, resumed.units[i].history[e].loss);
  }
}

TEST(GraphClassification, CommandLineWritesTheSummaryAndRejectsBadConfigurations) {
  const auto dir = testing::fresh_temp_dir("graph-cli");
  const std::string base = "train --config " + testing::source_path("examples/mutag_gin.toml") +
                           " --set dataset.path=" + testing::source_path("data/MUTAG");
  const testing::CommandResult ok = testing::run_ripple(
      base + " --set train.epochs=3 --set task.run_folds=2 --set model.hidden=16 --run-dir " + (dir / "run").string());
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("over 2 fold(s), gin protocol"), std::string::npos) << ok.output;
  std::ifstream in(dir / "run" / "summary.json");
  const nlohmann::json s = nlohmann::json::parse(in);
  EXPECT_EQ(s["metrics"]["test_acc"]["per_fold"].size(), 2u);
  EXPECT_EQ(s["protocol"], "gin");
  EXPECT_TRUE(std::filesystem::exists(dir / "run" / "fold-1" / "metrics.jsonl"));
  EXPECT_TRUE(std::filesystem::exists(dir / "run" / "config.toml"));

  const testing::CommandResult gat = testing::run_ripple(base + " --set model.name=gat --run-dir " + (dir / "gat").string());
  EXPECT_EQ(gat.exit_code, 2) << gat.output;
  EXPECT_NE(gat.output.find("model.name"), std::string::npos) << gat.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "gat"));
  const testing::CommandResult again = testing::run_ripple(base + " --set train.epochs=1 --run-dir " + (dir / "run").string());
  EXPECT_EQ(again.exit_code, 2) << again.output;
  const testing::CommandResult node = testing::run_ripple(
      "train --set task.kind=graph --set dataset.path=" + testing::source_path("data/cora") + " --set model.name=gin --run-dir " +
      (dir / "cora").string());
  EXPECT_EQ(node.exit_code, 2) << node.output;
  EXPECT_NE(node.output.find("not a TU dataset"), std::string::npos) << node.output;
}

}  // namespace
}  // namespace ripple
