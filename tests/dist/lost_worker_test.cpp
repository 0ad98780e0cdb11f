// Lost workers through the binary: `ripple launch` ranks on loopback (Gloo), one of them
// killed (SIGKILL) or stopped (SIGSTOP) mid-run. Without dist.elastic the whole group ends
// with a diagnosis and no process left behind, or, under --max-restarts, resumes to the
// uninterrupted result; with dist.elastic the survivors regroup and finish, and under
// --max-rejoins the killed rank is started again and rejoins, proving its state with a
// parameter hash. The group side on thread ranks: diloco_test.cpp.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "support/cli.h"
#include "support/gcn_runs.h"
#include "support/ports.h"
#include "support/processes.h"

namespace ripple {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using testing::alive;
using testing::final_parameters;
using testing::free_port;
using testing::gcn_args;
using testing::rank_pids;
using testing::spawn_ripple;
using testing::wait_exit_code;

// A 3-rank launch of a GCN run of `epochs` into tmp/run (`launch_flags` after --grace 1);
// returns once rank 0 has written a few epochs' metrics.
struct LongRun {
  pid_t launcher;
  std::map<int, pid_t> ranks;
  fs::path log;
};

LongRun start_long_run(const fs::path& tmp, const std::string& extra, const std::string& launch_flags = "",
                       int epochs = 100000) {
  LongRun run;
  run.log = tmp / "launch.txt";
  const fs::path dir = tmp / "run";
  run.launcher = spawn_ripple(fmt::format("launch --nproc 3 --grace 1 {} -- {}", launch_flags,
                                          gcn_args(epochs, extra + " --run-dir " + dir.string())),
                              {}, run.log);
  run.ranks = rank_pids(run.log, 3);
  const fs::path metrics = dir / "seed-0" / "metrics.jsonl";
  for (int i = 0; i < 1500; ++i) {
    if (fs::exists(metrics) && testing::file_text(metrics).size() > 2000) break;  // a few epochs done
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return run;
}

// How a long run ended after `signal` was sent to one rank.
struct Ending {
  int code = 0;
  double seconds = 0;  // from the signal to the launcher's exit
  std::string log;
};

Ending signal_rank_and_wait(LongRun& run, int rank, int signal) {
  const auto sent = Clock::now();
  kill(run.ranks[rank], signal);
  Ending e;
  e.code = wait_exit_code(run.launcher);
  e.seconds = std::chrono::duration<double>(Clock::now() - sent).count();
  e.log = testing::file_text(run.log);
  return e;
}

TEST(LostWorker, KilledRankEndsTheGroupWithEveryProcessGone) {
  const fs::path tmp = testing::fresh_temp_dir("ddp-kill");
  LongRun run = start_long_run(tmp, "");
  ASSERT_EQ(run.ranks.size(), 3u) << testing::file_text(run.log);
  const auto [code, seconds, log] = signal_rank_and_wait(run, 1, SIGKILL);
  EXPECT_NE(code, 0) << log;
  EXPECT_LT(seconds, 10) << log;
  for (const auto& [rank, pid] : run.ranks) EXPECT_FALSE(alive(pid)) << "rank " << rank;
  // The launcher may tear the survivors down before they notice the lost peer themselves.
  EXPECT_NE(log.find("rank 1 was killed by signal 9"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(tmp / "run" / "summary.json"));
}

TEST(LostWorker, StoppedRankIsReportedWithinTheTimeoutAndTornDown) {
  const fs::path tmp = testing::fresh_temp_dir("ddp-stop");
  LongRun run = start_long_run(tmp, "--set dist.timeout_s=3");
  ASSERT_EQ(run.ranks.size(), 3u) << testing::file_text(run.log);
  const auto [code, seconds, log] = signal_rank_and_wait(run, 2, SIGSTOP);
  EXPECT_EQ(code, 4) << log;  // the survivors' DistributedError
  // Reported within the timeout (3 s) + 1 s; the stopped rank killed after the 1 s grace.
  EXPECT_LT(seconds, 3 + 1 + 1 + 1.5) << log;
  EXPECT_NE(log.find("distributed error: rank 0:"), std::string::npos) << log;
  // The survivors' census names the stopped rank and its last reported progress.
  EXPECT_NE(log.find("rank(s) 2 did not answer"), std::string::npos) << log;
  EXPECT_NE(log.find("rank 2 last reported: finished the training steps of unit 0, epoch "), std::string::npos) << log;
  for (const auto& [rank, pid] : run.ranks) EXPECT_FALSE(alive(pid)) << "rank " << rank;
}

// A seed's result.json without its wall-clock fields.
json result_without_time(const fs::path& p) {
  json j = json::parse(testing::file_text(p));
  j.erase("epoch_ms_median");
  j.erase("eval_ms_median");
  return j;
}

TEST(LostWorker, KilledRankUnderMaxRestartsResumesToTheUninterruptedResult) {
  const fs::path tmp = testing::fresh_temp_dir("ddp-restart");
  const auto args = [&](const std::string& name) {
    return gcn_args(300, "--set train.checkpoint_every=20 --set model.hidden=64 --run-dir " + (tmp / name).string());
  };
  const auto full = testing::run_ripple("launch --nproc 3 -- " + args("full"));
  ASSERT_EQ(full.exit_code, 0) << full.output;

  const fs::path log = tmp / "launch.txt";
  const pid_t launcher = spawn_ripple("launch --nproc 3 --grace 1 --max-restarts 1 -- " + args("cut"), {}, log);
  std::map<int, pid_t> ranks = rank_pids(log, 3);
  ASSERT_EQ(ranks.size(), 3u) << testing::file_text(log);
  const fs::path ckpt = tmp / "cut" / "seed-0" / "checkpoint.pt";
  for (int i = 0; i < 1500 && !fs::exists(ckpt); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  kill(ranks[1], SIGKILL);
  EXPECT_EQ(wait_exit_code(launcher), 0) << testing::file_text(log);
  const std::string text = testing::file_text(log);
  ASSERT_NE(text.find("restarting every rank (restart 1 of 1)"), std::string::npos) << text;
  EXPECT_EQ(result_without_time(tmp / "full" / "seed-0" / "result.json"),
            result_without_time(tmp / "cut" / "seed-0" / "result.json"));
  EXPECT_TRUE(at::equal(final_parameters(tmp / "full"), final_parameters(tmp / "cut")));
  const json s = json::parse(testing::file_text(tmp / "cut" / "summary.json"));
  EXPECT_EQ(s["dist"]["parameter_hash"], json::parse(testing::file_text(tmp / "full" / "summary.json"))["dist"]["parameter_hash"]);
}

// dist.elastic under ripple launch --elastic: rank 1 of 3, killed with SIGKILL a few epochs
// into a diloco run (and a gossip run), is dropped; ranks 0 and 2 regroup, share the
// training nodes between them and finish without a restart, still agreeing on the model
// (end_unit's hash check), and summary.json records the membership. Rank 0 cannot be lost:
// the survivors then end naming it.
TEST(LostWorker, ElasticGroupDropsAKilledRankAndTheSurvivorsFinish) {
  for (const std::string strategy : {"diloco", "gossip"}) {
    SCOPED_TRACE(strategy);
    const fs::path tmp = testing::fresh_temp_dir("elastic-" + strategy);
    const fs::path dir = tmp / "run";
    LongRun run = start_long_run(tmp, fmt::format("--set dist.strategy={} --set dist.sync_every=4 --set "
                                                  "dist.elastic=true --set dist.regroup_window_s=3", strategy),
                                 "--elastic", 400);
    ASSERT_EQ(run.ranks.size(), 3u) << testing::file_text(run.log);
    kill(run.ranks[1], SIGKILL);
    EXPECT_EQ(wait_exit_code(run.launcher), 0) << testing::file_text(run.log);
    const std::string text = testing::file_text(run.log);
    EXPECT_NE(text.find("rank 1 was killed by signal 9 (Killed); --elastic: the other ranks go on without it"),
              std::string::npos) << text;
    EXPECT_NE(text.find("rank 0: the group lost rank(s) 1 at "), std::string::npos) << text;
    // The survivors take over rank 1's share of the training nodes (replicated data).
    EXPECT_NE(text.find("rank 0: trains on share 1 of 2 of the training examples from this epoch on"),
              std::string::npos) << text;
    EXPECT_NE(testing::file_text(dir / "rank-2.log").find("rank 2: trains on share 2 of 2 of the training examples"),
              std::string::npos);
    const json s = json::parse(testing::file_text(dir / "summary.json"));
    EXPECT_GT(s["metrics"]["test_acc"]["mean"].get<double>(), 0.75);
    EXPECT_EQ(s["dist"]["world_size"], 3);
    const json& membership = s["dist"]["membership"];
    ASSERT_EQ(membership.size(), 2u) << s.dump(1);
    EXPECT_EQ(membership[0]["ranks"], json::parse("[0, 1, 2]"));
    EXPECT_EQ(membership[1]["generation"], 1);
    EXPECT_EQ(membership[1]["ranks"], json::parse("[0, 2]"));
    EXPECT_EQ(membership[1]["lost"], json::parse("[1]"));
    EXPECT_EQ(json::parse(testing::file_text(dir / "seed-0" / "result.json"))["epochs_run"], 400);
    // Rank 1's bytes count up to its last report: some epochs' rounds, under the total.
    const json& lost = s["dist"]["lost_ranks"]["1"];
    EXPECT_GT(lost["bytes_total"].get<double>(), 0) << s["dist"].dump(1);
    EXPECT_LT(lost["bytes_total"].get<double>(), s["dist"]["bytes"]["total"].get<double>() / 3);
    EXPECT_NE(lost["last_report"].get<std::string>().find("finished the training steps of unit 0, epoch "),
              std::string::npos) << lost;
  }
  const fs::path tmp = testing::fresh_temp_dir("elastic-rank0");
  LongRun run = start_long_run(tmp, "--set dist.strategy=diloco --set dist.elastic=true --set dist.regroup_window_s=1",
                               "--elastic");
  ASSERT_EQ(run.ranks.size(), 3u) << testing::file_text(run.log);
  kill(run.ranks[0], SIGKILL);
  EXPECT_EQ(wait_exit_code(run.launcher), 4) << testing::file_text(run.log);
  // Found lost when regrouping, or before, when a survivor reports its progress there or reads
  // the answer rank 0 shares each epoch (the ranks waiting to rejoin).
  const std::string rank1 = testing::file_text(tmp / "run" / "rank-1.log");
  EXPECT_NE(rank1.find("distributed error: rank 1: "), std::string::npos) << rank1;
  EXPECT_NE(rank1.find("rank 0's store"), std::string::npos) << rank1;
  for (const auto& [rank, pid] : run.ranks) EXPECT_FALSE(alive(pid)) << "rank " << rank;
}

// ripple launch --elastic --max-rejoins 1: rank 1 of 3, killed with SIGKILL a few epochs
// into a diloco run (and a gossip run without the final merge), is started again; the group
// admits it at the end of an epoch, hands it rank 0's state, and it proves it with a parameter
// hash equal to every peer's (diloco: the global model) or to rank 0's (gossip: every rank
// keeps its own model). It then trains its share to the end: diloco's ranks end with one
// model, the joiner's hash among them.
TEST(LostWorker, ElasticGroupTakesBackARestartedRankThatProvesItsState) {
  for (const std::string strategy : {"diloco", "gossip"}) {
    SCOPED_TRACE(strategy);
    const fs::path tmp = testing::fresh_temp_dir("rejoin-" + strategy);
    const fs::path dir = tmp / "run";
    LongRun run = start_long_run(tmp,
                                 fmt::format("--set dist.strategy={} --set dist.sync_every=4 --set dist.elastic=true {} "
                                             "--set dist.regroup_window_s=3", strategy,
                                             strategy == "gossip" ? "--set dist.final_merge=false" : ""),
                                 "--elastic --max-rejoins 1", 800);
    ASSERT_EQ(run.ranks.size(), 3u) << testing::file_text(run.log);
    kill(run.ranks[1], SIGKILL);
    EXPECT_EQ(wait_exit_code(run.launcher), 0) << testing::file_text(run.log);
    const std::string text = testing::file_text(run.log), rank1 = testing::file_text(dir / "rank-1.log");
    EXPECT_NE(text.find("ripple launch: starting rank 1 again to rejoin the group"), std::string::npos) << text;
    EXPECT_NE(text.find("rank 0: admits rank(s) 1 after epoch "), std::string::npos) << text;
    const json s = json::parse(testing::file_text(dir / "summary.json"));
    const json& membership = s["dist"]["membership"];
    ASSERT_EQ(membership.size(), 3u) << s.dump(1);
    EXPECT_EQ(membership[1]["lost"], json::parse("[1]"));
    EXPECT_EQ(membership[2]["generation"], 2);
    EXPECT_EQ(membership[2]["ranks"], json::parse("[0, 1, 2]"));
    EXPECT_EQ(membership[2]["joined"], json::parse("[1]"));
    EXPECT_EQ(membership[2]["cause"], "rank(s) 1 rejoined");
    // The proof, as the joiner logged it: its hash equal to its peers'.
    const std::string proof = membership[2]["parameter_hash"].get<std::string>();
    EXPECT_EQ(proof.size(), 16u);
    EXPECT_NE(rank1.find("rank 1: rank(s) 1 rejoined in unit 0 after epoch "), std::string::npos) << rank1;
    EXPECT_NE(rank1.find(fmt::format("parameter hash {} equal to {}", proof,
                                     strategy == "diloco" ? "every peer's" : "rank 0's")), std::string::npos) << rank1;
    // It trains its share to the end, and with diloco ends with the others' model.
    EXPECT_NE(rank1.find("rank 1: trains on share 2 of 3 of the training examples"), std::string::npos) << rank1;
    if (strategy == "diloco") {
      EXPECT_NE(rank1.find("rank 1: unit 0 parameters hash " + s["dist"]["parameter_hash"][0].get<std::string>()),
                std::string::npos) << rank1;
    }
    EXPECT_EQ(json::parse(testing::file_text(dir / "seed-0" / "result.json"))["epochs_run"], 800);
    EXPECT_GT(s["metrics"]["test_acc"]["mean"].get<double>(), 0.75);
    // The first life's bytes count up to its last report, beside the second's.
    EXPECT_GT(s["dist"]["lost_ranks"]["1"]["bytes_total"].get<double>(), 0) << s["dist"].dump(1);
  }
}

// A rank started to rejoin where no group can take it back exits 2 before it connects:
// rank 0 (its process is the rendezvous), a group that is not elastic; so does --max-rejoins
// without --elastic.
TEST(LostWorker, RejoinIsRefusedWhereNoGroupCanTakeTheRankBack) {
  const fs::path tmp = testing::fresh_temp_dir("rejoin-refused");
  const std::vector<std::string> common = {"WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", "RIPPLE_REJOIN=1",
                                           fmt::format("MASTER_PORT={}", free_port())};
  std::vector<std::string> rank0 = common, rank1 = common;
  rank0.push_back("RANK=0");
  rank1.push_back("RANK=1");
  const std::string run = "--set dist.strategy=diloco --run-dir " + (tmp / "run").string();
  const pid_t a = spawn_ripple(gcn_args(5, run + " --set dist.elastic=true"), rank0, tmp / "rank0.txt");
  EXPECT_EQ(wait_exit_code(a), 2);
  EXPECT_NE(testing::file_text(tmp / "rank0.txt").find("RIPPLE_REJOIN=1 on rank 0: rank 0 serves the rendezvous"),
            std::string::npos) << testing::file_text(tmp / "rank0.txt");
  const pid_t b = spawn_ripple(gcn_args(5, run), rank1, tmp / "rank1.txt");
  EXPECT_EQ(wait_exit_code(b), 2);
  EXPECT_NE(testing::file_text(tmp / "rank1.txt").find("rank 1: RIPPLE_REJOIN=1 (started again to rejoin) but "
                                                      "dist.elastic is false"), std::string::npos)
      << testing::file_text(tmp / "rank1.txt");
  const auto r = testing::run_ripple("launch --nproc 2 --max-rejoins 1 -- " + gcn_args(5, run));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--max-rejoins needs --elastic"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(tmp / "run" / "summary.json"));
}

TEST(LostWorker, ElasticIsRefusedWhereALostRankCannotBeDropped) {
  const fs::path tmp = testing::fresh_temp_dir("elastic-refused");
  for (const std::string strategy : {"ddp", "streaming-diloco"}) {
    const auto r = testing::run_ripple(gcn_args(5, fmt::format("--set dist.strategy={} --set dist.sync_every=8 "
                                                               "--set dist.elastic=true --run-dir {}", strategy,
                                                               (tmp / strategy).string())));
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("dist.elastic: dropping a lost rank is built for local-sgd, diloco and gossip; "
                            "dist.strategy is \"" + strategy + "\""), std::string::npos) << r.output;
  }
}

// Streaming DiLoCo restarted after a lost rank continues from the checkpointed global model
// with its outer momentum and its round count: the fragments' rotation goes on where it
// stood, so the finished run has taken every one of its 150 rounds (300 steps, a round every
// 2), not only those after the restart.
TEST(LostWorker, KilledStreamingDilocoRankResumesTheOuterStateAndTheRotation) {
  const fs::path tmp = testing::fresh_temp_dir("streaming-restart");
  const fs::path dir = tmp / "cut";
  const fs::path log = tmp / "launch.txt";
  const pid_t launcher = spawn_ripple(
      "launch --nproc 3 --grace 1 --max-restarts 1 -- " +
          gcn_args(300, "--set train.checkpoint_every=20 --set dist.strategy=streaming-diloco --set dist.sync_every=4 "
                        "--set dist.fragments=2 --run-dir " + dir.string()),
      {}, log);
  std::map<int, pid_t> ranks = rank_pids(log, 3);
  ASSERT_EQ(ranks.size(), 3u) << testing::file_text(log);
  const fs::path ckpt = dir / "seed-0" / "checkpoint.pt";
  for (int i = 0; i < 1500 && !fs::exists(ckpt); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  kill(ranks[1], SIGKILL);
  EXPECT_EQ(wait_exit_code(launcher), 0) << testing::file_text(log);
  const std::string text = testing::file_text(log);
  ASSERT_NE(text.find("restarting every rank (restart 1 of 1)"), std::string::npos) << text;
  const json s = json::parse(testing::file_text(dir / "summary.json"));
  EXPECT_GT(s["metrics"]["test_acc"]["mean"].get<double>(), 0.75);
  EXPECT_LT(s["dist"]["synchronizations_per_rank"].get<double>(), 150);  // counted since the restart
  const RunConfig c = read_run_config(dir);
  NodeModel model(c.model, 1433, 7);
  train::FlatAdam optimizer = train::make_optimizer(c.train, *model);
  train::TrainState state;
  train::load_checkpoint(ckpt, *model, optimizer, state);
  ASSERT_EQ(state.strategy_state.count("streaming_rounds"), 1u);
  EXPECT_EQ(state.strategy_state.at("streaming_rounds").item<int64_t>(), 150);
  EXPECT_GT(state.strategy_state.at("outer_momentum").abs().max().item<double>(), 0);
}

}  // namespace
}  // namespace ripple
