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

GraphTaskConfig short_config(const std::string& model, CvProtocol protocol, int64_t epochs) {
  GraphTaskConfig c;
  c.model.name = model;
  c.model.hidden = 32;
  c.protocol = protocol;
  c.folds = 10;
  c.run_folds = 3;
  c.epochs = epochs;
  c.lr_step_size = 50;
  c.seed = 1;
  return c;
}

// GIN-0 learns MUTAG: on three of the ten folds, after 40 epochs, the GIN protocol's mean
// test accuracy is well above the majority class (66.5 %). The full protocol (10 folds,
// 350 epochs, `make reproduce`) reaches the published 89.4 +- 5.6 within its spread.
TEST(GraphClassificationLearning, GinLearnsMutagAndTheGinProtocolPicksOneEpoch) {
  const CrossValidationResult r = cross_validate(mutag(), short_config("gin", CvProtocol::kGinPaper, 40));
  ASSERT_EQ(r.folds.size(), 3u);
  EXPECT_GE(r.mean, 0.80) << "mean test accuracy " << r.mean;
  EXPECT_GE(r.common_epoch, 1);
  for (const FoldResult& f : r.folds) {
    EXPECT_EQ(f.selected_epoch, r.common_epoch);
    EXPECT_EQ(f.test_acc, f.epochs[r.common_epoch - 1].test_acc);
    EXPECT_LT(f.epochs.back().loss, f.epochs.front().loss);
  }
  double best = 0;  // the chosen epoch has the best mean test accuracy
  for (int64_t e = 0; e < 40; ++e) {
    double m = 0;
    for (const FoldResult& f : r.folds) m += f.epochs[e].test_acc / 3;
    best = std::max(best, m);
  }
  EXPECT_NEAR(r.mean, best, 1e-12);
}

TEST(GraphClassificationLearning, ErricaProtocolSelectsOnValidationAndRunsAreReproducible) {
  const GraphTaskConfig c = short_config("gin", CvProtocol::kErrica, 15);
  const CrossValidationResult a = cross_validate(mutag(), c), b = cross_validate(mutag(), c);
  ASSERT_EQ(a.folds.size(), 3u);
  for (size_t i = 0; i < a.folds.size(); ++i) {
    const FoldResult& f = a.folds[i];
    for (const GraphEpochRecord& e : f.epochs) {
      EXPECT_LE(e.valid_acc, f.epochs[f.selected_epoch - 1].valid_acc);
      EXPECT_EQ(e.loss, b.folds[i].epochs[e.epoch - 1].loss) << "same seed, same run";
    }
    EXPECT_EQ(f.test_acc, f.epochs[f.selected_epoch - 1].test_acc);
  }
  EXPECT_EQ(a.mean, b.mean);
  EXPECT_GE(a.mean, 0.70);
}

// The structure-agnostic baseline generalizes on MUTAG (it is as good as a GNN there, as
// Errica et al. report); GCN and SAGE with max and mean readouts fit their training folds.
// (Their MUTAG test accuracy after 30 epochs stays near the majority class, 63-68 %, while
// they fit 80 % of the training graphs: reported in docs/graph_classification.md.)
TEST(GraphClassificationLearning, BaselineGeneralizesAndEveryReadoutTrains) {
  for (const std::string model : {"mlp", "gcn", "sage"}) {
    GraphTaskConfig c = short_config(model, CvProtocol::kGinPaper, 30);
    c.run_folds = 2;
    c.model.readout = model == "sage" ? "mean" : (model == "gcn" ? "max" : "sum");
    const CrossValidationResult r = cross_validate(mutag(), c);
    if (model == "mlp") EXPECT_GE(r.mean, 0.75) << model;
    for (const FoldResult& f : r.folds) {
      EXPECT_LT(f.epochs.back().loss, 0.85 * f.epochs.front().loss) << model;
      EXPECT_GE(f.epochs.back().train_acc, 0.72) << model;
    }
  }
}

TEST(GraphClassification, BadSettingsAreInputErrors) {
  GraphTaskConfig c = short_config("gin", CvProtocol::kGinPaper, 1);
  c.folds = 64;  // class 0 of MUTAG has 63 graphs
  EXPECT_THROW(cross_validate(mutag(), c), InputError);
  c = short_config("gat", CvProtocol::kGinPaper, 1);
  EXPECT_THROW(cross_validate(mutag(), c), InputError);
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
