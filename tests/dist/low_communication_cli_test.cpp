// Synchronizing less often and sending less, through the binary (`ripple launch` ranks on
// loopback): DiLoCo, gossip, EF21 top-k, quantized gradients and changes (with and without
// error feedback), Streaming DiLoCo and the simulated link each send exactly the bytes
// their algorithm needs, keep the ranks consistent and still learn. The algorithms are
// checked against reference loops in the other tests/dist/ files.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <vector>

#include "dist/diloco.h"
#include "dist/quantize.h"
#include "support/cli.h"
#include "support/gcn_runs.h"

namespace ripple {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::final_parameters;
using testing::gcn_args;

// DiLoCo through the binary: full-batch GCN takes one step per epoch, so sync_every = 5
// synchronizes every fifth epoch; the run learns, sends no gradients, one parameter
// all-reduce per outer step, ends with one model on both ranks and checkpoints the outer
// momentum. Tests/dist/diloco_test.cpp checks the algorithm against a reference loop.
TEST(LowCommunication, DilocoOnTwoRanksLearnsWithOneParameterExchangePerOuterStep) {
  const fs::path tmp = testing::fresh_temp_dir("diloco-gcn");
  const fs::path dir = tmp / "diloco";
  const auto r = testing::run_ripple(fmt::format(
      "launch --nproc 2 -- {}", gcn_args(100, "--set dist.strategy=diloco --set dist.sync_every=5 --run-dir " +
                                                  dir.string())));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json s = json::parse(testing::file_text(dir / "summary.json"));
  EXPECT_GT(s["metrics"]["test_acc"]["mean"].get<double>(), 0.75);
  const json& d = s["dist"];
  EXPECT_EQ(d["strategy"], "diloco");
  EXPECT_EQ(d["sync_every"], 5);
  EXPECT_EQ(d["synchronizations_per_rank"].get<double>(), 20);
  const RunConfig c = read_run_config(dir);
  NodeModel model(c.model, 1433, 7);
  train::FlatAdam optimizer = train::make_optimizer(c.train, *model);
  train::TrainState state;
  train::load_checkpoint(dir / "seed-0" / "checkpoint.pt", *model, optimizer, state);
  const double bytes = 4.0 * static_cast<double>(optimizer.flat_params().numel());
  // Both ranks: the initial broadcast ((N-1)/N each) and 20 ring all-reduces (2 (N-1)/N each).
  EXPECT_DOUBLE_EQ(d["bytes"]["parameters"].get<double>(), bytes + 20 * 2 * bytes);
  EXPECT_EQ(d["bytes"]["gradients"].get<double>(), 0);
  EXPECT_DOUBLE_EQ(d["peak_collective_bytes"].get<double>(), bytes);
  ASSERT_EQ(state.strategy_state.count("outer_momentum"), 1u);
  EXPECT_EQ(state.strategy_state.at("outer_momentum").numel(), optimizer.flat_params().numel());
  EXPECT_GT(state.strategy_state.at("outer_momentum").abs().max().item<double>(), 0);
  const std::string log = testing::file_text(dir / "rank-1.log");
  EXPECT_NE(log.find(fmt::format("rank 1: unit 0 parameters hash {}", d["parameter_hash"][0].get<std::string>())),
            std::string::npos) << log;
}

// Gossip through the binary on 3 ranks in a ring: every fifth epoch each rank averages with
// its two neighbours by point-to-point messages (no parameter all-reduce but the final merge),
// the epochs' metrics carry the consensus distance, the summary names the topology and
// counts the diagnostics apart from the training bytes, and the merged model learns.
// Tests/dist/gossip_test.cpp checks the algorithm against a reference loop.
TEST(LowCommunication, GossipOnThreeRanksLearnsAndReportsTheConsensusDistance) {
  const fs::path tmp = testing::fresh_temp_dir("gossip-gcn");
  const fs::path dir = tmp / "gossip";
  const auto r = testing::run_ripple(fmt::format(
      "launch --nproc 3 -- {}", gcn_args(100, "--set dist.strategy=gossip --set dist.sync_every=5 --run-dir " +
                                                  dir.string())));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json s = json::parse(testing::file_text(dir / "summary.json"));
  EXPECT_GT(s["metrics"]["test_acc"]["mean"].get<double>(), 0.75);
  const json& d = s["dist"];
  EXPECT_EQ(d["strategy"], "gossip");
  EXPECT_EQ(d["gossip"]["topology"], "ring");
  EXPECT_EQ(d["gossip"]["final_merge"], true);
  EXPECT_EQ(d["synchronizations_per_rank"].get<double>(), 20);
  const double n = 3;
  const double bytes = 4.0 * static_cast<double>(final_parameters(dir).numel());
  // The initial broadcast ((N-1)/N per rank), 20 exchanges of one model with each of two
  // neighbours, and the final merge's all-reduce (2 (N-1)/N per rank).
  // (Per-rank counts of 2/3 of a size: sums within a byte.)
  EXPECT_NEAR(d["bytes"]["parameters"].get<double>(), (n - 1) * bytes + 20 * n * 2 * bytes + 2 * (n - 1) * bytes, 1);
  EXPECT_EQ(d["bytes"]["gradients"].get<double>(), 0);
  // Each of the 100 evaluations all-reduces the parameters and the squared distance.
  EXPECT_NEAR(d["bytes"]["diagnostics"].get<double>(), 100 * 2 * (n - 1) * (bytes + 8), 1);
  EXPECT_DOUBLE_EQ(d["bytes"]["total"].get<double>(),
                   d["bytes"]["parameters"].get<double>() + d["bytes"]["control"].get<double>());
  // The distance per epoch: the ranks drift apart between exchanges (after epoch 4 of 5
  // steps) and an exchange on a ring of 3 is the mean (after epoch 5: zero up to rounding).
  std::vector<double> distance;
  std::ifstream metrics(dir / "seed-0" / "metrics.jsonl");
  for (std::string line; std::getline(metrics, line);) {
    distance.push_back(json::parse(line)["consensus_distance"].get<double>());
  }
  ASSERT_EQ(distance.size(), 100u);
  EXPECT_GT(distance[3], 1e-3);
  EXPECT_LT(distance[4], 1e-5);
}

// EF21 top-k on ddp: each step all-gathers one message of 2 k int32 per rank instead of
// all-reducing the gradient, the ranks stay identical (end_unit's hash check), and at 10 %
// the run still learns. Compression with another strategy is refused.
TEST(LowCommunication, Ef21TopKOnDdpSendsItsMessagesAndLearns) {
  const fs::path tmp = testing::fresh_temp_dir("ef21");
  const fs::path dir = tmp / "ef21";
  auto r = testing::run_ripple(fmt::format(
      "launch --nproc 2 -- {}", gcn_args(100, "--set dist.compress=ef21-topk --set dist.compress_ratio=0.1 "
                                              "--run-dir " + dir.string())));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json s = json::parse(testing::file_text(dir / "summary.json"));
  EXPECT_GT(s["metrics"]["test_acc"]["mean"].get<double>(), 0.75);
  const RunConfig c = read_run_config(dir);
  NodeModel model(c.model, 1433, 7);
  double k = 0;  // entries per message: ceil(0.1 size) per parameter tensor
  for (const at::Tensor& p : model->parameters()) k += std::ceil(0.1 * static_cast<double>(p.numel()));
  // 100 steps, 2 ranks, each sending its (N-1) = 1 message of k indices and k values.
  EXPECT_DOUBLE_EQ(s["dist"]["bytes"]["gradients"].get<double>(), 100 * 2 * 1 * (2 * k * 4));
  EXPECT_EQ(s["dist"]["compress"]["method"], "ef21-topk");
  r = testing::run_ripple(gcn_args(5, "--set dist.strategy=diloco --set dist.compress=ef21-topk --run-dir " +
                                          (tmp / "refused").string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("dist.compress: ef21-topk compresses ddp's gradients; dist.strategy is \"diloco\""),
            std::string::npos)
      << r.output;
}

// Quantized exchanges through the binary: ddp with int8 gradients, DiLoCo with int4
// parameter changes and ddp with int4 gradients and error feedback each send all-gathered
// messages of their exact size, keep the ranks identical (end_unit's hash check) and still
// learn.
TEST(LowCommunication, QuantizedGradientsAndChangesSendTheirMessagesAndLearn) {
  const fs::path tmp = testing::fresh_temp_dir("quantized");
  struct Case {
    const char* strategy;
    const char* precision;
    bool error_feedback;
  };
  for (const auto& [strategy, precision, feedback] :
       {Case{"ddp", "int8", false}, Case{"diloco", "int4", false}, Case{"ddp", "int4", true}}) {
    SCOPED_TRACE(fmt::format("{} {}{}", strategy, precision, feedback ? " with error feedback" : ""));
    const fs::path dir = tmp / fmt::format("{}-{}", strategy, precision);
    const auto r = testing::run_ripple(fmt::format(
        "launch --nproc 2 -- {}", gcn_args(100, fmt::format("--set dist.strategy={} --set dist.sync_every=5 "
                                                            "--set dist.compress={} --set dist.error_feedback={} "
                                                            "--run-dir {}",
                                                            strategy, precision, feedback, dir.string()))));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const json s = json::parse(testing::file_text(dir / "summary.json"));
    EXPECT_GT(s["metrics"]["test_acc"]["mean"].get<double>(), 0.75);
    const int64_t n = final_parameters(dir).numel();
    const double bytes = 4.0 * static_cast<double>(n);
    const double message = static_cast<double>(dist::quantized_message_bytes(dist::wire_precision(precision), n));
    const json& d = s["dist"];
    if (std::string(strategy) == "ddp") {
      // 100 steps, 2 ranks, each sending its one message to the other.
      EXPECT_DOUBLE_EQ(d["bytes"]["gradients"].get<double>(), 100 * 2 * message);
    } else {
      // The initial broadcast and 20 outer steps of one message per rank.
      EXPECT_DOUBLE_EQ(d["bytes"]["parameters"].get<double>(), bytes + 20 * 2 * message);
    }
    EXPECT_EQ(d["compress"]["method"], precision);
    EXPECT_EQ(d["compress"]["error_feedback"], feedback);
  }
}

// Streaming DiLoCo through the binary: two fragments synchronized in turn, every second step,
// as int4 messages whose exchange overlaps with the next step; the summary names the
// fragments, every message has its fragment's exact size, and the model learns.
// Tests/dist/streaming_diloco_test.cpp checks the algorithm against a reference loop.
TEST(LowCommunication, StreamingDilocoSendsOneQuantizedFragmentPerRoundAndLearns) {
  const fs::path tmp = testing::fresh_temp_dir("streaming");
  const fs::path dir = tmp / "streaming";
  const auto r = testing::run_ripple(fmt::format(
      "launch --nproc 2 -- {}", gcn_args(100, "--set dist.strategy=streaming-diloco --set dist.sync_every=4 "
                                              "--set dist.fragments=2 --set dist.overlap_steps=1 "
                                              "--set dist.compress=int4 --run-dir " + dir.string())));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json s = json::parse(testing::file_text(dir / "summary.json"));
  EXPECT_GT(s["metrics"]["test_acc"]["mean"].get<double>(), 0.75);
  const json& d = s["dist"];
  EXPECT_EQ(d["strategy"], "streaming-diloco");
  EXPECT_EQ(d["streaming"]["fragments"], 2);
  EXPECT_EQ(d["streaming"]["overlap_steps"], 1);
  // 100 steps, a round every 2: 50 rounds, 25 per fragment.
  EXPECT_EQ(d["synchronizations_per_rank"].get<double>(), 50);
  const int64_t n = final_parameters(dir).numel();
  double messages = 0, largest = 0;  // one rank's messages over the 50 rounds
  for (int64_t f = 0; f < 2; ++f) {
    const auto [begin, end] = dist::fragment_bounds(n, 2, f);
    const auto message = static_cast<double>(dist::quantized_message_bytes(dist::WirePrecision::int4, end - begin));
    messages += 25 * message;
    largest = std::max(largest, message);
  }
  // The initial broadcast ((N-1)/N of the model per rank), then each rank's messages.
  EXPECT_DOUBLE_EQ(d["bytes"]["parameters"].get<double>(), 4.0 * static_cast<double>(n) + 2 * messages);
  // The peak per synchronization: one fragment's message, about an eighth of the float32
  // model's all-reduce over two fragments (the initial broadcast is set-up, not counted).
  EXPECT_DOUBLE_EQ(d["peak_collective_bytes"].get<double>(), largest);
}

// dist.link_mbps: each collective is followed by what its bytes need on the simulated link.
TEST(LowCommunication, SimulatedLinkMakesCollectivesLastWhatTheirBytesNeed) {
  const fs::path tmp = testing::fresh_temp_dir("link");
  const fs::path dir = tmp / "ddp";
  const auto r = testing::run_ripple(fmt::format(
      "launch --nproc 2 -- {}", gcn_args(10, "--set dist.link_mbps=20 --run-dir " + dir.string())));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json d = json::parse(testing::file_text(dir / "summary.json"))["dist"];
  EXPECT_EQ(d["link"]["mbps"].get<double>(), 20);
  const double bytes_per_rank = d["bytes"]["total"].get<double>() / 2;
  const double link_ms = bytes_per_rank * 8 / (20 * 1e3);  // about 0.4 s for 10 steps of GCN
  EXPECT_GT(link_ms, 300);
  EXPECT_GE(d["collective_ms_per_rank"].get<double>(), link_ms);
}

}  // namespace
}  // namespace ripple
