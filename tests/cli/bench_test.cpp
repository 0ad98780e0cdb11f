// `ripple bench` (end-to-end epoch timing) and the thread-count policy.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "ripple/bench.h"
#include "ripple/threads.h"
#include "support/cli.h"

namespace ripple {
namespace {

using json = nlohmann::json;

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '{') out.push_back(json::parse(line));
  }
  return out;
}

void expect_sane(const json& j) {
  for (const char* key : {"model", "epoch_ms_median", "epoch_ms_min", "epoch_ms_max", "peak_rss_mb", "forward_ms_median",
                          "backward_ms_median", "step_ms_median", "nodes", "edges", "threads", "bound_ms",
                          "of_bound", "dense_gflop", "graph_gb"}) {
    EXPECT_TRUE(j.contains(key)) << key << " missing in " << j.dump();
  }
  EXPECT_GT(j.at("epoch_ms_min").get<double>(), 0);
  EXPECT_LE(j.at("epoch_ms_min").get<double>(), j.at("epoch_ms_median").get<double>());
  EXPECT_LE(j.at("epoch_ms_median").get<double>(), j.at("epoch_ms_max").get<double>());
  EXPECT_GT(j.at("peak_rss_mb").get<double>(), 10);
}

TEST(BenchCommand, TimesADatasetAsJson) {
  const auto r = testing::run_ripple("bench --dataset " + testing::source_path("tests/data/good_tiny") +
                                     " --model gcn --layers 2 --hidden 8 --epochs 3 --warmup 1 --output json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto rows = json_lines(r.output);
  ASSERT_EQ(rows.size(), 1u) << r.output;
  expect_sane(rows[0]);
  EXPECT_EQ(rows[0].at("model"), "gcn");
  EXPECT_EQ(rows[0].at("epochs"), 3);
}

TEST(BenchCommand, AGridRunsEveryConfigurationInItsOwnProcess) {
  const auto r = testing::run_ripple("bench --kind uniform --nodes 300 --edges 2000 --features 8 --classes 3 "
                                     "--model gcn,sage,gat --heads 2 --hidden 4,8 --epochs 2 --warmup 0 --output json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto rows = json_lines(r.output);
  ASSERT_EQ(rows.size(), 6u) << r.output;
  for (const json& j : rows) {
    expect_sane(j);
    EXPECT_EQ(j.at("nodes"), 300);
    EXPECT_EQ(j.at("edges"), 2000);
  }
  EXPECT_EQ(rows[0].at("model"), "gcn");
  EXPECT_EQ(rows[5].at("model"), "gat");
  EXPECT_EQ(rows[5].at("hidden"), 8);
}

// The roofline's dense work is the layers' matrix products, forward and backward. A 2-layer
// GCN on N nodes, F features, H hidden, C classes: forward 2N(FH + HC); backward the weight
// gradients 2N(FH + HC) and the hidden input's gradient 2NHC (the features need none).
TEST(BenchRoofline, CountsTheDenseProductsOfAnEpochAndReportsTheBound) {
  TrainingBenchSettings s;
  s.kind = "uniform";
  s.nodes = 300;
  s.edges = 2000;
  s.features = 8;
  s.classes = 3;
  s.hidden = 4;
  s.epochs = 2;
  s.warmup = 1;
  const TrainingBenchResult r = run_training_bench(s);
  const double n = 300, f = 8, h = 4, c = 3;
  EXPECT_NEAR(r.dense_gflop * 1e9, 2 * n * (2 * f * h + 3 * h * c), 1e-3);
  // Graph bytes: at least each layer's forward aggregation reads every edge's gathered row.
  EXPECT_GT(r.graph_gb * 1e9, 2000.0 * (h + c) * 4);
  EXPECT_GT(r.gemm_gflops, 0.1);
  EXPECT_GT(r.copy_gbps, 0.1);
  EXPECT_NEAR(r.bound_ms, 1e3 * (r.dense_gflop / r.gemm_gflops + r.graph_gb / r.copy_gbps), 1e-9);
  EXPECT_NEAR(r.of_bound, r.bound_ms / r.epoch_ms_median, 1e-12);
}

// --set takes any run setting, as `ripple train` does; comma-separated values are a grid
// axis, and a list value keeps its commas.
TEST(BenchCommand, SetOverridesFormAGridOfRunSettings) {
  const auto r = testing::run_ripple(
      "bench --kind uniform --nodes 300 --edges 2000 --features 8 --classes 3 --model sage --hidden 4 "
      "--set model.aggr=mean,max --set train.optimizer=adamw --epochs 1 --warmup 0 --output json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto rows = json_lines(r.output);
  ASSERT_EQ(rows.size(), 2u) << r.output;
  EXPECT_EQ(rows[0].at("set"), "model.aggr=mean train.optimizer=adamw");
  EXPECT_EQ(rows[1].at("set"), "model.aggr=max train.optimizer=adamw");
  const auto bad = testing::run_ripple("bench --kind uniform --nodes 300 --edges 2000 --set model.aggr=median");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("model.aggr: must be one of mean, sum, max"), std::string::npos) << bad.output;
}

TEST(BenchCommand, MarkdownAndCsvTables) {
  const std::string base = "bench --kind rmat --nodes 200 --edges 1000 --features 4 --epochs 1 --warmup 0 --output ";
  auto r = testing::run_ripple(base + "csv");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.rfind("model,dataset,nodes,edges", 0), 0u) << r.output;
  r = testing::run_ripple(base + "md");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("| model | dataset |"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("| gcn | rmat-200-1000 |"), std::string::npos) << r.output;
}

TEST(BenchCommand, RefusesBadSettings) {
  EXPECT_EQ(testing::run_ripple("bench --model transformer-xl --nodes 100 --edges 100").exit_code, 2);
  EXPECT_EQ(testing::run_ripple("bench --epochs 0 --nodes 100 --edges 100").exit_code, 2);
  EXPECT_EQ(testing::run_ripple("bench --output yaml").exit_code, 2);
  EXPECT_EQ(testing::run_ripple("bench --dataset /nonexistent/dir").exit_code, 2);
  // A bad configuration inside a grid stops the grid with exit code 2 as well.
  EXPECT_EQ(testing::run_ripple("bench --nodes 100 --edges 100 --model gcn,nope --epochs 1").exit_code, 2);
}

TEST(Threads, ExplicitRequestsWinAndZeroChooses) {
  const int before = at::get_num_threads();
  EXPECT_GE(available_cores(), 1);
  EXPECT_EQ(set_intra_op_threads(3), 3);
  EXPECT_EQ(at::get_num_threads(), 3);
  EXPECT_GE(set_intra_op_threads(0), 1);
  at::set_num_threads(before);
}

}  // namespace
}  // namespace ripple
