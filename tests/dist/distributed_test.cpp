// Distributed training through the binary: `ripple launch` ranks on loopback (Gloo).
// Data parallel full-batch GCN on 2 and 4 ranks ends where one process ends (parameters
// to float reassociation, identical test accuracy, bit-identical across ranks), with its
// traffic in summary.json; graph classification's folds on 2 ranks equal one process with
// twice the batch; ranks started with different configurations or bad launch settings exit
// 2 naming the rank. Lost workers (SIGKILL, SIGSTOP, restarts, elastic groups, rejoining):
// lost_worker_test.cpp. The other strategies through the binary:
// low_communication_cli_test.cpp.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <algorithm>
#include <fstream>
#include <thread>

#include "ripple/config.h"
#include "ripple/graph_model.h"
#include "ripple/model.h"
#include "ripple/trainer.h"
#include "support/cli.h"
#include "support/gcn_runs.h"
#include "support/interaction_files.h"
#include "support/ports.h"
#include "support/processes.h"
#include "train/checkpoint.h"
#include "train/loop.h"

namespace ripple {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::final_fold_parameters;
using testing::final_parameters;
using testing::gcn_args;

TEST(DataParallel, FullBatchGcnOnTwoAndFourRanksEqualsOneProcess) {
  const fs::path tmp = testing::fresh_temp_dir("ddp-gcn");
  const auto one = testing::run_ripple(gcn_args(50, "--run-dir " + (tmp / "one").string()));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const at::Tensor reference = final_parameters(tmp / "one");
  const json one_summary = json::parse(testing::file_text(tmp / "one" / "summary.json"));
  EXPECT_FALSE(one_summary.contains("dist"));
  for (const int ranks : {2, 4}) {
    SCOPED_TRACE(fmt::format("{} ranks", ranks));
    const fs::path dir = tmp / fmt::format("ranks-{}", ranks);
    const auto r = testing::run_ripple(fmt::format("launch --nproc {} -- {}", ranks, gcn_args(50, "--run-dir " + dir.string())));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const at::Tensor params = final_parameters(dir);
    EXPECT_LT((params - reference).abs().max().item<double>(), 1e-5);
    const json s = json::parse(testing::file_text(dir / "summary.json"));
    EXPECT_EQ(s["metrics"]["test_acc"]["mean"], one_summary["metrics"]["test_acc"]["mean"]);
    // Traffic: per step, every rank all-reduces the gradient once (2 (N-1)/N of it under the
    // ring count) and two doubles of step totals.
    const json& d = s["dist"];
    EXPECT_EQ(d["world_size"], ranks);
    EXPECT_EQ(d["strategy"], "ddp");
    EXPECT_EQ(d["evaluation"], "rank 0, its metrics broadcast");
    const double n = ranks, ring = 2 * (n - 1) / n;
    const double gradient_bytes = 4.0 * static_cast<double>(params.numel());
    EXPECT_DOUBLE_EQ(d["bytes"]["gradients"].get<double>(), 50 * n * ring * gradient_bytes);
    EXPECT_DOUBLE_EQ(d["bytes"]["parameters"].get<double>(), n * (n - 1) / n * gradient_bytes);
    EXPECT_GT(d["bytes"]["control"].get<double>(), 0);
    EXPECT_EQ(d["bytes"]["halo"].get<double>(), 0);
    EXPECT_DOUBLE_EQ(d["bytes"]["total"].get<double>(),
                     d["bytes"]["gradients"].get<double>() + d["bytes"]["parameters"].get<double>() +
                         d["bytes"]["control"].get<double>());
    ASSERT_EQ(d["parameter_hash"].size(), 1u);
    // Every other rank logged the same hash into its log beside the run directory.
    const std::string hash = d["parameter_hash"][0];
    for (int rank = 1; rank < ranks; ++rank) {
      const std::string log = testing::file_text(dir / fmt::format("rank-{}.log", rank));
      EXPECT_NE(log.find(fmt::format("rank {}: unit 0 parameters hash {}", rank, hash)), std::string::npos) << log;
    }
    EXPECT_FALSE(fs::exists(dir / "seed-0" / "rank-1.log"));
  }
  // One bucket per parameter, each all-reduced while backward computes the layers below it
  // (dist.overlap_backward), and every bucket after backward: the same end, to reassociation.
  for (const char* overlap : {"true", "false"}) {
    SCOPED_TRACE(fmt::format("overlap {}", overlap));
    const fs::path dir = tmp / fmt::format("small-buckets-{}", overlap);
    const auto r = testing::run_ripple(fmt::format(
        "launch --nproc 2 -- {}",
        gcn_args(50, fmt::format("--set dist.bucket_mb=0.001 --set dist.overlap_backward={} --run-dir {}", overlap,
                                 dir.string()))));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_LT((final_parameters(dir) - reference).abs().max().item<double>(), 1e-5);
    const json s = json::parse(testing::file_text(dir / "summary.json"));
    EXPECT_EQ(s["metrics"]["test_acc"]["mean"], one_summary["metrics"]["test_acc"]["mean"]);
    EXPECT_DOUBLE_EQ(s["dist"]["bytes"]["gradients"].get<double>(),
                     50 * 2 * 1.0 * 4.0 * static_cast<double>(reference.numel()));
  }
}

// Link prediction and recommendation train on their shards of the training interactions:
// the runs learn, and each step all-reduces the whole gradient (for LightGCN the embedding
// tables) once.
TEST(DataParallel, LinkPredictionAndRecommendationTrainOnTwoRanks) {
  const fs::path tmp = testing::fresh_temp_dir("ddp-tasks");
  const auto link = testing::run_ripple(fmt::format(
      "launch --nproc 2 -- train --config {} --set dataset.path={} --set train.epochs=100 --set train.threads=1 "
      "--run-dir {}", testing::source_path("examples/cora_link_gcn.toml"), testing::source_path("data/cora"),
      (tmp / "link").string()));
  ASSERT_EQ(link.exit_code, 0) << link.output;
  const json l = json::parse(testing::file_text(tmp / "link" / "summary.json"));
  EXPECT_GT(l["metrics"]["auc"]["mean"].get<double>(), 0.85);
  EXPECT_EQ(l["dist"]["world_size"], 2);

  const fs::path data = testing::gowalla_subset(tmp / "gowalla", 300, 800);
  const auto rec = testing::run_ripple(fmt::format(
      "launch --nproc 2 -- train --config {} --set dataset.path={} --set train.epochs=3 --set train.threads=1 "
      "--set recommend.batch_size=512 --run-dir {}", testing::source_path("examples/gowalla_lightgcn.toml"),
      data.string(), (tmp / "rec").string()));
  ASSERT_EQ(rec.exit_code, 0) << rec.output;
  const json r = json::parse(testing::file_text(tmp / "rec" / "summary.json"));
  EXPECT_GT(r["metrics"]["recall@20"]["mean"].get<double>(), 0.0);
  const double table_bytes = 4.0 * 64 * (300 + 800);  // user and item embeddings, float32
  const double per_step = 2 * 2 * (2 - 1) / 2.0 * table_bytes;  // 2 ranks, ring all-reduce
  const double steps = r["dist"]["bytes"]["gradients"].get<double>() / per_step;
  EXPECT_GT(steps, 0);
  EXPECT_DOUBLE_EQ(steps, std::round(steps));
}

// Runs `args` (a train command) once as one process and once on 2 ranks, and returns the two
// summaries (empty when a run failed, after reporting it).
std::pair<json, json> one_process_and_two_ranks(const fs::path& tmp, const std::string& args) {
  const auto one = testing::run_ripple(args + " --run-dir " + (tmp / "one").string());
  const auto two = testing::run_ripple("launch --nproc 2 -- " + args + " --run-dir " + (tmp / "two").string());
  if (one.exit_code != 0 || two.exit_code != 0) {
    ADD_FAILURE() << one.output << "\n" << two.output;
    return {};
  }
  return {json::parse(testing::file_text(tmp / "one" / "summary.json")),
          json::parse(testing::file_text(tmp / "two" / "summary.json"))};
}

// Recommendation's evaluation is shared: each rank ranks every second test user and the
// sums are added up. With a learning rate too small to move the model, 2 ranks report what
// one process reports (to the order of the additions).
TEST(DataParallel, RecommendationRanksShareTheEvaluationAndAddUpToOneProcess) {
  const fs::path tmp = testing::fresh_temp_dir("ddp-rec-eval");
  const fs::path data = testing::gowalla_subset(tmp / "gowalla", 300, 800);
  const std::string args = fmt::format(
      "train --config {} --set dataset.path={} --set train.epochs=2 --set train.threads=1 --set train.lr=1e-12 "
      "--set recommend.batch_size=512 ", testing::source_path("examples/gowalla_lightgcn.toml"), data.string());
  const auto [one, two] = one_process_and_two_ranks(tmp, args);
  ASSERT_FALSE(one.is_null());
  const json& a = one["metrics"];
  const json& b = two["metrics"];
  const json& d = two["dist"];
  EXPECT_EQ(d["evaluation"], "shared: every rank evaluates its share, the sums are added up");
  for (const char* name : {"recall@20", "ndcg@20"}) {
    SCOPED_TRACE(name);
    EXPECT_GT(a[name]["mean"].get<double>(), 0.0);
    EXPECT_NEAR(b[name]["mean"].get<double>(), a[name]["mean"].get<double>(), 1e-9);
  }
}

// Link prediction's evaluation is gathered: each rank scores its half of every validation
// and test pair set, and the scores are gathered, so every rank computes the metrics from
// all of them. With a learning rate too small to move the model, 2 ranks report exactly
// what one process reports.
TEST(DataParallel, LinkPredictionRanksScoreTheirShareOfThePairsAndGatherTheScores) {
  const fs::path tmp = testing::fresh_temp_dir("ddp-link-eval");
  const std::string args = fmt::format(
      "train --config {} --set dataset.path={} --set train.epochs=2 --set train.threads=1 --set train.lr=1e-12 ",
      testing::source_path("examples/cora_link_gcn.toml"), testing::source_path("data/cora"));
  const auto [one, two] = one_process_and_two_ranks(tmp, args);
  ASSERT_FALSE(one.is_null());
  const json& a = one["metrics"];
  const json& s = two;
  EXPECT_EQ(s["dist"]["evaluation"],
            "gathered: every rank scores its share, the scores are gathered, rank 0's metrics broadcast");
  for (const char* name : {"auc", "ap", "valid_auc", "valid_loss"}) {
    SCOPED_TRACE(name);
    EXPECT_GT(a[name]["mean"].get<double>(), 0.0);
    EXPECT_NEAR(s["metrics"][name]["mean"].get<double>(), a[name]["mean"].get<double>(), 1e-9);
  }
  // The scores: Cora's validation and test pairs (5 % and 10 % of 5278 edges, as many
  // negatives), each sent once by the rank that scored it, 4 bytes each, in each of the 2
  // epochs' evaluations (the rest of the control traffic is under 1 kB).
  EXPECT_GT(s["dist"]["bytes"]["control"].get<double>(), 0.9 * 2 * 4 * 2 * (0.05 + 0.10) * 5278);
}

// Sampled node classification on replicated data shares its layer-wise evaluation: each
// rank computes every layer for its half of the nodes, and the halves are gathered between
// layers. With a learning rate too small to move the model, 2 ranks report what one process
// reports.
TEST(DataParallel, SampledNodeClassificationRanksShareTheLayerWiseEvaluation) {
  const fs::path tmp = testing::fresh_temp_dir("ddp-node-eval");
  const std::string args = fmt::format(
      "train --config {} --set dataset.path={} --set sampler.fanouts=[8,4] --set train.epochs=2 "
      "--set train.threads=1 --set train.lr=1e-12 ",
      testing::source_path("examples/cora_sage.toml"), testing::source_path("data/cora"));
  const auto [one, two] = one_process_and_two_ranks(tmp, args);
  ASSERT_FALSE(one.is_null());
  const json& a = one["metrics"];
  const json& s = two;
  EXPECT_EQ(s["dist"]["evaluation"], "shared: every rank evaluates its share, the sums are added up");
  for (const char* name : {"train_acc", "valid_acc", "test_acc", "valid_loss"}) {
    SCOPED_TRACE(name);
    EXPECT_GT(a[name]["mean"].get<double>(), 0.0);
    EXPECT_NEAR(s["metrics"][name]["mean"].get<double>(), a[name]["mean"].get<double>(), 1e-6);
  }
  // The hidden layer's rows (2708 nodes x 64 float32), each sent once by the rank that
  // computed it, in each of the 2 epochs' evaluations.
  EXPECT_GE(s["dist"]["bytes"]["halo"].get<double>(), 2 * 2708 * 64 * 4.0);
}

std::vector<json> metric_lines(const fs::path& file) {
  std::ifstream in(file);
  std::vector<json> out;
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

// Graph classification under ddp: every rank runs every fold on its share of each epoch's
// graphs, and evaluates its share of the fold's graphs. Without batch normalization or
// dropout (GCN with a sum readout), 2 ranks with 16 graphs a step each end where one process
// with 32 a step ends, fold by fold, with the same accuracies.
TEST(DataParallel, GraphClassificationOnTwoRanksEqualsOneProcessWithTwiceTheBatch) {
  const fs::path tmp = testing::fresh_temp_dir("ddp-graph");
  const std::string args = fmt::format(
      "train --config {} --set dataset.path={} --set model.name=gcn --set model.dropout=0 --set task.run_folds=2 "
      "--set train.epochs=6 --set train.threads=1 ",
      testing::source_path("examples/mutag_gin.toml"), testing::source_path("data/MUTAG"));
  const auto one = testing::run_ripple(args + "--set train.batch_size=32 --run-dir " + (tmp / "one").string());
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const auto two = testing::run_ripple("launch --nproc 2 -- " + args + "--set train.batch_size=16 --run-dir " +
                                       (tmp / "two").string());
  ASSERT_EQ(two.exit_code, 0) << two.output;
  for (int fold = 0; fold < 2; ++fold) {
    SCOPED_TRACE(fmt::format("fold {}", fold));
    const at::Tensor reference = final_fold_parameters(tmp / "one", fold);
    EXPECT_LT((final_fold_parameters(tmp / "two", fold) - reference).abs().max().item<double>(), 1e-5);
    const std::vector<json> a = metric_lines(tmp / "one" / fmt::format("fold-{}", fold) / "metrics.jsonl");
    const std::vector<json> b = metric_lines(tmp / "two" / fmt::format("fold-{}", fold) / "metrics.jsonl");
    ASSERT_EQ(a.size(), 6u);
    ASSERT_EQ(b.size(), 6u);
    for (size_t e = 0; e < a.size(); ++e) {
      EXPECT_EQ(a[e]["test_acc"], b[e]["test_acc"]) << "epoch " << e + 1;
      // Each rank's share of the training graphs (and of the test fold) counted together.
      EXPECT_EQ(a[e]["train_acc"], b[e]["train_acc"]) << "epoch " << e + 1;
      EXPECT_NEAR(a[e]["loss"].get<double>(), b[e]["loss"].get<double>(), 1e-5) << "epoch " << e + 1;
    }
  }
  const json s = json::parse(testing::file_text(tmp / "two" / "summary.json"));
  EXPECT_EQ(s["dist"]["world_size"], 2);
  EXPECT_EQ(s["metrics"]["test_acc"]["per_fold"], json::parse(testing::file_text(tmp / "one" / "summary.json"))["metrics"]["test_acc"]["per_fold"]);
  EXPECT_GT(s["dist"]["bytes"]["gradients"].get<double>(), 0);
  EXPECT_FALSE(fs::exists(tmp / "two" / "fold-0" / "rank-1.log"));
}

// Partitioned data, halo-only: with a halo of layers + 1 hops each part holds its nodes'
// whole receptive field and degrees, so full-batch GCN on 2 parts (each rank its own part,
// its own training nodes, its own evaluation, reduced) equals one process on the whole graph.
TEST(DataParallel, PartitionedFullBatchGcnWithDeepHaloEqualsOneProcess) {
  const fs::path tmp = testing::fresh_temp_dir("ddp-parts");
  const fs::path parts = tmp / "parts";
  auto r = testing::run_ripple(fmt::format("partition --in {} --parts 2 --method metis --halo 3 --out {}",
                                           testing::source_path("data/cora"), parts.string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string no_dropout = "--set model.dropout=0.0 ";
  r = testing::run_ripple(gcn_args(30, no_dropout + "--run-dir " + (tmp / "one").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string partitioned = no_dropout + "--set dist.data=partitioned --set dataset.path=" + parts.string();
  r = testing::run_ripple("launch --nproc 2 -- " + gcn_args(30, partitioned + " --run-dir " + (tmp / "two").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_LT((final_parameters(tmp / "two") - final_parameters(tmp / "one")).abs().max().item<double>(), 1e-5);
  const json one = json::parse(testing::file_text(tmp / "one" / "summary.json")), two = json::parse(testing::file_text(tmp / "two" / "summary.json"));
  for (const char* m : {"train_acc", "valid_acc", "test_acc"}) {
    EXPECT_NEAR(two["metrics"][m]["mean"].get<double>(), one["metrics"][m]["mean"].get<double>(), 1e-12) << m;
  }
  EXPECT_NEAR(two["metrics"]["valid_loss"]["mean"].get<double>(), one["metrics"]["valid_loss"]["mean"].get<double>(), 1e-5);
  EXPECT_FALSE(two["metrics"].contains("test_acc/weight"));
  EXPECT_EQ(two["dist"]["bytes"]["features"].get<double>(), 0);

  // Three ranks for two parts, and a partition folder read as a whole dataset: exit 2.
  r = testing::run_ripple("launch --nproc 3 -- " + gcn_args(5, partitioned + " --run-dir " + (tmp / "three").string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("holds 2 part(s) but the group has 3 rank(s)"), std::string::npos) << r.output;
  r = testing::run_ripple(gcn_args(5, "--set dataset.path=" + parts.string() + " --run-dir " + (tmp / "whole").string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("is a `ripple partition` folder; train on it with dist.data = \"partitioned\""),
            std::string::npos) << r.output;
}

// Partitioned data, sampled, dist.remote = "fetch": rows and features beyond a one-hop halo
// come from their owners, so two ranks on parts with a 1-hop halo train and evaluate exactly
// as two halo-only ranks on parts whose 3-hop halo holds every row and degree a 2-layer
// model reads (whose sampling is keyed by whole-graph ids, like the owners'): the same
// parameters, bit for bit, and the same metrics, for SAGE and for GCN (whose blocks read
// the whole graph's degrees). Fetching moves feature
// and halo bytes; the halo-only run sends no features.
TEST(DataParallel, PartitionedSamplingFetchingFromOwnersEqualsADeepEnoughHalo) {
  const fs::path tmp = testing::fresh_temp_dir("ddp-fetch");
  for (const int halo : {1, 3}) {
    const auto r = testing::run_ripple(fmt::format("partition --in {} --parts 2 --method metis --halo {} --out {}",
                                                   testing::source_path("data/cora"), halo,
                                                   (tmp / ("halo" + std::to_string(halo))).string()));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  const std::string sampled =
      "--set dist.data=partitioned --set sampler.fanouts=[8,4] --set sampler.batch_size=48 --set train.lr=0.05 ";
  for (const std::string model : {"sage", "gcn"}) {
    const std::string args = sampled + "--set model.name=" + model + " ";
    const fs::path fetch = tmp / (model + "-fetch"), deep = tmp / (model + "-deep");
    auto r = testing::run_ripple("launch --nproc 2 -- " +
                                 gcn_args(12, args + "--set dist.remote=fetch --set dataset.path=" +
                                                 (tmp / "halo1").string() + " --run-dir " + fetch.string()));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = testing::run_ripple("launch --nproc 2 -- " +
                            gcn_args(12, args + "--set dataset.path=" + (tmp / "halo3").string() + " --run-dir " + deep.string()));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(at::equal(final_parameters(fetch), final_parameters(deep))) << model;
    const json a = json::parse(testing::file_text(fetch / "summary.json")), b = json::parse(testing::file_text(deep / "summary.json"));
    for (const char* m : {"train_acc", "valid_acc", "test_acc"}) {
      EXPECT_EQ(a["metrics"][m]["mean"].get<double>(), b["metrics"][m]["mean"].get<double>()) << model << " " << m;
    }
    EXPECT_NEAR(a["metrics"]["valid_loss"]["mean"].get<double>(), b["metrics"]["valid_loss"]["mean"].get<double>(), 1e-5);
    EXPECT_GT(a["metrics"]["test_acc"]["mean"].get<double>(), 0.65) << model;  // it learns (77.0 % and 74.1 % here)
    EXPECT_GT(a["dist"]["bytes"]["features"].get<double>(), 0) << model;
    EXPECT_GT(a["dist"]["bytes"]["halo"].get<double>(), b["dist"]["bytes"]["halo"].get<double>()) << model;
    EXPECT_EQ(b["dist"]["bytes"]["features"].get<double>(), 0) << model;
    if (model != "sage") continue;
    // The runs above fetch the next batch while this one trains (sampler.workers = 1, over a
    // second process group); with sampler.workers = 0 each batch is fetched when it is needed:
    // the same batches, the same end.
    const fs::path in_step = tmp / "sage-fetch-in-step";
    r = testing::run_ripple("launch --nproc 2 -- " +
                            gcn_args(12, args + "--set dist.remote=fetch --set sampler.workers=0 --set dataset.path=" +
                                             (tmp / "halo1").string() + " --run-dir " + in_step.string()));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(at::equal(final_parameters(in_step), final_parameters(fetch)));
    const json c = json::parse(testing::file_text(in_step / "summary.json"));
    EXPECT_EQ(c["metrics"]["test_acc"]["mean"].get<double>(), a["metrics"]["test_acc"]["mean"].get<double>());
    // Fetching ahead also fetches one empty look-ahead at each epoch's end: a few more bytes.
    EXPECT_GE(a["dist"]["bytes"]["halo"].get<double>(), c["dist"]["bytes"]["halo"].get<double>());
    // Evaluating in float16 sends the halo's hidden rows in float16: the same training,
    // fewer halo bytes, nearly the same metrics.
    const fs::path half = tmp / "sage-fetch-half";
    r = testing::run_ripple("launch --nproc 2 -- " +
                            gcn_args(12, args + "--set dist.remote=fetch --set sampler.eval_dtype=float16 "
                                                "--set dataset.path=" + (tmp / "halo1").string() + " --run-dir " +
                                                half.string()));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const json h = json::parse(testing::file_text(half / "summary.json"));
    EXPECT_LT(h["dist"]["bytes"]["halo"].get<double>(), a["dist"]["bytes"]["halo"].get<double>());
    EXPECT_NEAR(h["metrics"]["test_acc"]["mean"].get<double>(), a["metrics"]["test_acc"]["mean"].get<double>(), 0.01);
  }
  // Fetching needs ddp, sampling, partitioned data and a halo.
  const std::pair<std::string, std::string> refused[] = {
      {"--set dist.strategy=diloco", "fetch needs every rank in every step (ddp)"},
      {"--set sampler.fanouts=[]", "fetch serves sampled training"},
  };
  for (const auto& [extra, message] : refused) {
    const auto r = testing::run_ripple("launch --nproc 2 -- " +
                                       gcn_args(2, sampled + "--set dist.remote=fetch --set dataset.path=" +
                                                       (tmp / "halo1").string() + " " + extra));
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << r.output;
  }
  auto r = testing::run_ripple(fmt::format("partition --in {} --parts 2 --method metis --halo 0 --out {}",
                                           testing::source_path("data/cora"), (tmp / "halo0").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = testing::run_ripple("launch --nproc 2 -- " + gcn_args(2, sampled + "--set dist.remote=fetch --set dataset.path=" +
                                                                   (tmp / "halo0").string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("has halo 0: partition with --halo 1 or more"), std::string::npos) << r.output;
}

using testing::rank_pids;
using testing::spawn_ripple;
using testing::wait_exit_code;
using testing::free_port;

TEST(DataParallel, RanksWithDifferentConfigurationsAllExitTwoNamingTheRank) {
  const fs::path tmp = testing::fresh_temp_dir("ddp-mismatch");
  const std::vector<std::string> common = {"WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1",
                                           fmt::format("MASTER_PORT={}", free_port())};
  std::vector<std::string> env0 = common, env1 = common;
  env0.push_back("RANK=0");
  env1.push_back("RANK=1");
  const std::string run = "--run-dir " + (tmp / "run").string();
  const pid_t a = spawn_ripple(gcn_args(5, run), env0, tmp / "rank0.txt");
  const pid_t b = spawn_ripple(gcn_args(5, run + " --set model.hidden=32"), env1, tmp / "rank1.txt");
  EXPECT_EQ(wait_exit_code(a), 2) << testing::file_text(tmp / "rank0.txt");
  EXPECT_EQ(wait_exit_code(b), 2) << testing::file_text(tmp / "rank1.txt");
  EXPECT_NE(testing::file_text(tmp / "rank0.txt").find("rank 0: the resolved configuration of rank(s) 1 differs from rank 0's"),
            std::string::npos) << testing::file_text(tmp / "rank0.txt");
  EXPECT_FALSE(fs::exists(tmp / "run" / "summary.json"));
}

TEST(DataParallel, BadEnvironmentAndLaunchArgumentsExitTwo) {
  const fs::path tmp = testing::fresh_temp_dir("ddp-bad-env");
  auto r = testing::run_ripple(gcn_args(5, "--run-dir " + (tmp / "a").string()), "WORLD_SIZE=2 RANK=2 ");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("RANK=\"2\": expected an integer in 0..1"), std::string::npos) << r.output;
  r = testing::run_ripple(gcn_args(5, "--run-dir " + (tmp / "b").string()), "WORLD_SIZE=2 RANK=0 MASTER_ADDR=127.0.0.1 ");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("MASTER_PORT is not set"), std::string::npos) << r.output;
  r = testing::run_ripple("launch --nproc 2 --master nowhere -- " + gcn_args(5));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("expected HOST:PORT"), std::string::npos) << r.output;
  r = testing::run_ripple("launch --nproc 2 --nnodes 2 -- " + gcn_args(5));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("needs --master"), std::string::npos) << r.output;
  // Both ranks fail at start-up (a missing dataset): the launcher returns their code.
  r = testing::run_ripple("launch --nproc 2 -- " + gcn_args(5, "--set dataset.path=/nonexistent --run-dir " +
                                                                     (tmp / "c").string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

// Two launchers as two nodes (--nnodes 2 --nproc 1, --node-rank 0 and 1, meeting at
// --master) train exactly as one launcher of two ranks: the same final parameters. Once with
// the rendezvous at the loopback address and once at this machine's first other IPv4
// address, when it has one: rank 0's store then serves that address and Gloo binds the
// device of this host's name, as it does across machines. (Both nodes are this machine:
// groups across real machines are not tested here.)
TEST(DataParallel, TwoLaunchersAsTwoNodesTrainAsOneLauncherOfTwoRanks) {
  const fs::path tmp = testing::fresh_temp_dir("two-nodes");
  const auto args = [&](const std::string& name) { return gcn_args(20, "--run-dir " + (tmp / name).string()); };
  const auto one = testing::run_ripple("launch --nproc 2 -- " + args("one"));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  std::vector<std::string> hosts = {"127.0.0.1"};
  if (const std::string address = testing::first_non_loopback_ipv4(); !address.empty()) hosts.push_back(address);
  for (size_t i = 0; i < hosts.size(); ++i) {
    SCOPED_TRACE(hosts[i]);
    const std::string name = fmt::format("nodes-{}", i);
    const std::string nodes = fmt::format("launch --nnodes 2 --nproc 1 --master {}:{}", hosts[i], free_port());
    const pid_t second = spawn_ripple(fmt::format("{} --node-rank 1 -- {}", nodes, args(name)), {},
                                      tmp / (name + "-node-1.txt"));
    const auto first = testing::run_ripple(fmt::format("{} --node-rank 0 -- {}", nodes, args(name)));
    EXPECT_EQ(first.exit_code, 0) << first.output;
    EXPECT_EQ(wait_exit_code(second), 0) << testing::file_text(tmp / (name + "-node-1.txt"));
    EXPECT_NE(first.output.find("rank 0 of 2 pid"), std::string::npos) << first.output;
    EXPECT_NE(testing::file_text(tmp / (name + "-node-1.txt")).find("rank 1 of 2 pid"), std::string::npos);
    EXPECT_TRUE(at::equal(final_parameters(tmp / "one"), final_parameters(tmp / name)));
  }
}

TEST(DataParallel, RunsUnderTorchrun) {
  const fs::path tmp = testing::fresh_temp_dir("ddp-torchrun");
  // Debian's torchrun (torch 1.13) needs --redirects and --tee to start; its agent serves the
  // store, which the ranks then join as clients.
  const std::string cmd = fmt::format(
      "/usr/bin/python3 -m torch.distributed.run --standalone --nproc_per_node 2 --no_python --redirects 1 --tee 1 "
      "{} {} > {} 2>&1", RIPPLE_BINARY, gcn_args(20, "--run-dir " + (tmp / "run").string()), (tmp / "out.txt").string());
  ASSERT_EQ(std::system(cmd.c_str()), 0) << testing::file_text(tmp / "out.txt");
  const json s = json::parse(testing::file_text(tmp / "run" / "summary.json"));
  EXPECT_EQ(s["dist"]["world_size"], 2);
  EXPECT_TRUE(fs::exists(tmp / "run" / "rank-1.log"));
}

TEST(DataParallel, PortInUseExitsTwoNamingRankZero) {
  const fs::path tmp = testing::fresh_temp_dir("ddp-port");
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const int port = ntohs(a.sin_port);
  const auto r = testing::run_ripple(fmt::format("launch --nproc 2 --grace 1 --master 127.0.0.1:{} -- {}", port,
                                                 gcn_args(5, "--set dist.timeout_s=5 --run-dir " + (tmp / "run").string())));
  close(fd);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(fmt::format("rank 0: cannot serve the rendezvous at 127.0.0.1:{}", port)), std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace ripple
