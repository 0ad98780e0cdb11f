// dist.strategy = "units" through the binary: `ripple launch` ranks on loopback, each
// training whole folds or seeds by itself. Every unit ends exactly as in one process (the
// same single-threaded computation), rank 0's run directory holds every unit's files, a
// rank killed under --max-restarts resumes to the uninterrupted result, and a stopped rank
// is named by the rank waiting for its units; what units cannot do is refused.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ripple/trainer.h"
#include "support/cli.h"
#include "support/gcn_runs.h"
#include "support/processes.h"

namespace ripple {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Each line of a metrics.jsonl without its wall-clock fields.
std::vector<json> epochs_without_time(const fs::path& file) {
  std::ifstream in(file);
  std::vector<json> out;
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line);
    j.erase("epoch_ms");
    j.erase("eval_ms");
    out.push_back(j);
  }
  return out;
}

json result_without_time(const fs::path& file) {
  json j = json::parse(testing::file_text(file));
  j.erase("epoch_ms_median");
  j.erase("eval_ms_median");
  return j;
}

std::string mutag_args(int folds, int epochs, const std::string& extra) {
  return fmt::format("train --config {} --set dataset.path={} --set task.run_folds={} --set train.epochs={} "
                     "--set train.threads=1 {}",
                     testing::source_path("examples/mutag_gin.toml"), testing::source_path("data/MUTAG"), folds,
                     epochs, extra);
}

// GIN on MUTAG, 3 folds on 2 ranks (folds 0 and 2 on rank 0, fold 1 on rank 1): every fold
// trains as in one process, epoch by epoch, and the summary is the same.
TEST(Units, FoldsOnTwoRanksEqualOneProcess) {
  const fs::path tmp = testing::fresh_temp_dir("units-folds");
  const auto one = testing::run_ripple(mutag_args(3, 5, "--run-dir " + (tmp / "one").string()));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const auto two = testing::run_ripple("launch --nproc 2 -- " +
                                       mutag_args(3, 5, "--set dist.strategy=units --run-dir " + (tmp / "two").string()));
  ASSERT_EQ(two.exit_code, 0) << two.output;
  for (int fold = 0; fold < 3; ++fold) {
    SCOPED_TRACE(fmt::format("fold {}", fold));
    const fs::path a = tmp / "one" / fmt::format("fold-{}", fold), b = tmp / "two" / fmt::format("fold-{}", fold);
    const std::vector<json> expected = epochs_without_time(a / "metrics.jsonl");
    ASSERT_EQ(expected.size(), 5u);
    EXPECT_EQ(epochs_without_time(b / "metrics.jsonl"), expected);
    EXPECT_EQ(result_without_time(b / "result.json"), result_without_time(a / "result.json"));
    EXPECT_TRUE(at::equal(testing::final_fold_parameters(tmp / "two", fold), testing::final_fold_parameters(tmp / "one", fold)));
    EXPECT_TRUE(fs::is_regular_file(b / "best.pt"));
  }
  const json s1 = json::parse(testing::file_text(tmp / "one" / "summary.json"));
  const json s2 = json::parse(testing::file_text(tmp / "two" / "summary.json"));
  EXPECT_EQ(s2["metrics"]["test_acc"], s1["metrics"]["test_acc"]);
  EXPECT_EQ(s2["selected_epoch"], s1["selected_epoch"]);
  EXPECT_EQ(s2["dist"]["strategy"], "units");
  EXPECT_EQ(s2["dist"]["bytes"]["gradients"], 0.0);
  EXPECT_EQ(s2["dist"]["bytes"]["parameters"], 0.0);
  EXPECT_GT(s2["dist"]["bytes"]["control"].get<double>(), 0.0);  // the folders sent at the end
  EXPECT_FALSE(s2["dist"].contains("parameter_hash"));
  // Rank 1 trained fold 1 and logged it beside the run directory; rank 0's log shows every fold.
  EXPECT_NE(testing::file_text(tmp / "two" / "rank-1.log").find("fold 2/3"), std::string::npos)
      << testing::file_text(tmp / "two" / "rank-1.log");
}

// Node classification's seeds the same way, 3 seeds on 2 ranks.
TEST(Units, SeedsOnTwoRanksEqualOneProcess) {
  const fs::path tmp = testing::fresh_temp_dir("units-seeds");
  const auto one = testing::run_ripple(testing::gcn_args(30, "--seeds 3 --run-dir " + (tmp / "one").string()));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const auto two = testing::run_ripple(
      "launch --nproc 2 -- " + testing::gcn_args(30, "--seeds 3 --set dist.strategy=units --run-dir " + (tmp / "two").string()));
  ASSERT_EQ(two.exit_code, 0) << two.output;
  for (int seed = 0; seed < 3; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    const std::string name = fmt::format("seed-{}", seed);
    EXPECT_EQ(result_without_time(tmp / "two" / name / "result.json"), result_without_time(tmp / "one" / name / "result.json"));
    EXPECT_EQ(epochs_without_time(tmp / "two" / name / "metrics.jsonl"),
              epochs_without_time(tmp / "one" / name / "metrics.jsonl"));
  }
  const json s1 = json::parse(testing::file_text(tmp / "one" / "summary.json"));
  const json s2 = json::parse(testing::file_text(tmp / "two" / "summary.json"));
  EXPECT_EQ(s2["metrics"]["test_acc"], s1["metrics"]["test_acc"]);
  EXPECT_EQ(s2["dist"]["world_size"], 2);
}

// Rank 1 is killed while training its second seed: the restarted group finds each rank's
// finished seeds, resumes rank 1's from its checkpoint and ends as the uninterrupted run.
TEST(Units, KilledRankUnderMaxRestartsResumesToTheUninterruptedResult) {
  const fs::path tmp = testing::fresh_temp_dir("units-restart");
  const auto args = [&](const std::string& name) {
    return testing::gcn_args(200, "--seeds 4 --set dist.strategy=units --set train.checkpoint_every=20 --run-dir " +
                                      (tmp / name).string());
  };
  const auto full = testing::run_ripple("launch --nproc 2 -- " + args("full"));
  ASSERT_EQ(full.exit_code, 0) << full.output;

  const fs::path log = tmp / "launch.txt";
  const pid_t launcher = testing::spawn_ripple("launch --nproc 2 --grace 1 --max-restarts 1 -- " + args("cut"), {}, log);
  std::map<int, pid_t> ranks = testing::rank_pids(log, 2);
  ASSERT_EQ(ranks.size(), 2u) << testing::file_text(log);
  const fs::path ckpt = tmp / "cut" / "seed-3" / "checkpoint.pt";  // rank 1's second seed
  for (int i = 0; i < 3000 && !fs::exists(ckpt); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(fs::exists(ckpt)) << testing::file_text(log);
  kill(ranks[1], SIGKILL);
  EXPECT_EQ(testing::wait_exit_code(launcher), 0) << testing::file_text(log);
  const std::string text = testing::file_text(log);
  ASSERT_NE(text.find("restarting every rank (restart 1 of 1)"), std::string::npos) << text;
  for (int seed = 0; seed < 4; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    const std::string name = fmt::format("seed-{}", seed);
    EXPECT_EQ(result_without_time(tmp / "cut" / name / "result.json"), result_without_time(tmp / "full" / name / "result.json"));
  }
  EXPECT_EQ(json::parse(testing::file_text(tmp / "cut" / "summary.json"))["metrics"]["test_acc"],
            json::parse(testing::file_text(tmp / "full" / "summary.json"))["metrics"]["test_acc"]);
}

// Rank 1 is stopped (SIGSTOP) after its first epochs: rank 0 trains its fold, waits for rank 1's, and ends
// the run naming rank 1 once its progress report has not changed for dist.timeout_s. The
// stop often lands while rank 1 sends that epoch's report, which blocks rank 0's store (the
// next test): then rank 0's store calls time out instead, and it names rank 1 all the same.
TEST(Units, StoppedRankIsNamedByTheRankWaitingForItsUnits) {
  const fs::path tmp = testing::fresh_temp_dir("units-stop");
  const fs::path log = tmp / "launch.txt";
  const pid_t launcher = testing::spawn_ripple(
      "launch --nproc 2 --grace 1 -- " +
          mutag_args(2, 150, "--set dist.strategy=units --set dist.timeout_s=3 --run-dir " + (tmp / "run").string()),
      {}, log);
  std::map<int, pid_t> ranks = testing::rank_pids(log, 2);
  ASSERT_EQ(ranks.size(), 2u) << testing::file_text(log);
  // Stopped after its second epoch's line (before it joins, rank 0 would fail at the
  // rendezvous; the progress report of an epoch follows its line, so after the second line
  // the first epoch's report is in).
  const fs::path metrics = tmp / "run" / "fold-1" / "metrics.jsonl";
  const auto epochs_written = [&] {
    const std::string text = testing::file_text(metrics);
    return std::count(text.begin(), text.end(), '\n');
  };
  // Up to 2 minutes: under the sanitizers on a loaded machine start-up takes tens of seconds.
  for (int i = 0; i < 24000 && epochs_written() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (epochs_written() < 2) {
    kill(launcher, SIGTERM);  // forwarded to the ranks; the test fails instead of stopping a rank mid-rendezvous
    testing::wait_exit_code(launcher);
    FAIL() << "rank 1 reported no epoch within 2 minutes:\n" << testing::file_text(log);
  }
  kill(ranks[1], SIGSTOP);
  const auto stopped = Clock::now();
  const int code = testing::wait_exit_code(launcher, std::chrono::seconds(120));
  const double seconds = std::chrono::duration<double>(Clock::now() - stopped).count();
  const std::string text = testing::file_text(log);
  EXPECT_EQ(code, 4) << text;  // rank 0's DistributedError
  EXPECT_NE(text.find("rank 0 exited with code 4"), std::string::npos) << text;  // by itself, not killed
  const bool silent = text.find("rank 0: waiting for rank 1 (folds-trained): it has reported no progress for 3 s "
                                "(last report: fold-1, epoch ") != std::string::npos;
  const bool blocked =
      text.find("rank 0: waiting for rank 1 (folds-trained): rank 0's store did not answer") != std::string::npos;
  EXPECT_TRUE(silent || blocked) << text;
  EXPECT_LT(seconds, 120) << text;
  for (const auto& [rank, pid] : ranks) EXPECT_FALSE(testing::alive(pid)) << "rank " << rank;
  EXPECT_FALSE(fs::exists(tmp / "run" / "summary.json"));
}

// A client that sends half a request to rank 0's store and goes silent (what a rank stopped
// in the middle of one does) blocks the store's server for good. Both ranks' store calls
// then time out: each ends by itself with a DistributedError naming the rank it waited
// for, and rank 0 does not hang destroying the blocked store.
TEST(Units, HalfARequestToTheStoreEndsTheRunWithoutAHang) {
  const fs::path tmp = testing::fresh_temp_dir("units-half-request");
  const fs::path log = tmp / "launch.txt";
  const pid_t launcher = testing::spawn_ripple(
      "launch --nproc 2 --grace 30 -- " +
          mutag_args(2, 150, "--set dist.strategy=units --set dist.timeout_s=3 --run-dir " + (tmp / "run").string()),
      {}, log);
  testing::KillUnlessReaped end_run{launcher};  // an assertion failing before the wait ends the run
  ASSERT_EQ(testing::rank_pids(log, 2).size(), 2u) << testing::file_text(log);
  const std::string started = testing::file_text(log);
  std::smatch port;
  ASSERT_TRUE(std::regex_search(started, port, std::regex(R"(rendezvous 127\.0\.0\.1:(\d+))"))) << started;
  // Both ranks train (rank 1 has reported an epoch) before the store is blocked.
  const fs::path metrics = tmp / "run" / "fold-1" / "metrics.jsonl";
  for (int i = 0; i < 24000 && testing::file_text(metrics).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(std::stoi(port[1].str())));
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0) << std::strerror(errno);
  // A "set" request's type byte and 3 of the 8 bytes of its key's length.
  const unsigned char half[] = {0, 5, 0, 0};
  ASSERT_EQ(send(fd, half, sizeof half, 0), static_cast<ssize_t>(sizeof half));
  const int code = testing::wait_exit_code(launcher, std::chrono::seconds(120));
  end_run.reaped = true;
  close(fd);
  const std::string text = testing::file_text(log);
  EXPECT_EQ(code, 4) << text;
  EXPECT_NE(text.find("rank 0 exited with code 4"), std::string::npos) << text;
  EXPECT_NE(text.find("rank 0: waiting for rank 1 (folds-trained): rank 0's store did not answer"), std::string::npos)
      << text;
  EXPECT_FALSE(fs::exists(tmp / "run" / "summary.json"));
}

// What units cannot do is refused before anything runs (exit 2, naming the key).
TEST(Units, ElasticCompressionAndPartitionsAreRefused) {
  const fs::path tmp = testing::fresh_temp_dir("units-refused");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--set dist.elastic=true", "dist.elastic: units has no group step to drop a lost rank from"},
      {"--set dist.compress=int8", "dist.compress: units exchanges nothing during training"},
      {"--set dist.data=partitioned", "dist.data: units trains every unit on the whole dataset"}};
  for (const auto& [set, message] : cases) {
    SCOPED_TRACE(set);
    const auto r = testing::run_ripple(
        testing::gcn_args(5, "--set dist.strategy=units " + set + " --run-dir " + (tmp / "run").string()));
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(tmp / "run"));
  }
}

}  // namespace
}  // namespace ripple
