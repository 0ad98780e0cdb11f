// Interrupted runs resumed from their checkpoints end exactly as uninterrupted ones, both
// through the library (a test hook stops training mid-run) and through the binary killed
// with SIGKILL. Also: multi-seed summary.json layout, `ripple eval`, and checkpoints that
// do not fit (another model's, or one written before the named format) refused plainly.
// And train.eval_every: evaluating less often leaves training unchanged and selects among
// the evaluated epochs.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <vector>

#include <torch/serialize.h>

#include "ripple/config.h"
#include "ripple/trainer.h"
#include "support/cli.h"

namespace ripple {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string read(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A seed's result.json without its wall-clock field.
json result_without_time(const fs::path& p) {
  json j = json::parse(read(p));
  j.erase("epoch_ms_median");
  j.erase("eval_ms_median");
  return j;
}

RunConfig small_config(const std::string& model) {
  Config c;
  c.set_override("dataset.path=\"" + testing::source_path("data/cora") + "\"");
  c.set_override("dataset.normalize_features=true");
  c.set_override("model.name=" + model);
  c.set_override("train.epochs=30");
  c.set_override("train.checkpoint_every=5");
  c.set_override("train.seeds=2");
  if (model == "gat") {
    c.set_override("model.hidden=8");
    c.set_override("model.heads=2");
  }
  return c.settings();
}

TEST(Resume, InterruptedRunEndsBitIdentical) {
  for (const std::string model : {"gcn", "gat"}) {
    const fs::path tmp = testing::fresh_temp_dir("resume-" + model);
    const RunConfig c = small_config(model);
    run_experiment(c, tmp / "full", false);

    TrainCallbacks stop;
    stop.interrupt_after_epochs = 43;  // seed 0 done, seed 1 stopped at epoch 13 (checkpoint at 10)
    EXPECT_THROW(run_experiment(c, tmp / "cut", false, stop), std::runtime_error);
    EXPECT_FALSE(fs::exists(tmp / "cut" / "summary.json"));
    EXPECT_TRUE(fs::exists(tmp / "cut" / "seed-0" / "result.json"));
    EXPECT_FALSE(fs::exists(tmp / "cut" / "seed-1" / "result.json"));
    run_experiment(c, tmp / "cut", true);

    for (const char* seed : {"seed-0", "seed-1"}) {
      EXPECT_EQ(result_without_time(tmp / "full" / seed / "result.json"),
                result_without_time(tmp / "cut" / seed / "result.json")) << model;
      // Per-epoch metrics match except the wall-clock time fields.
      std::ifstream a(tmp / "full" / seed / "metrics.jsonl"), b(tmp / "cut" / seed / "metrics.jsonl");
      std::string la, lb;
      int lines = 0;
      while (std::getline(a, la)) {
        ASSERT_TRUE(std::getline(b, lb));
        json ja = json::parse(la), jb = json::parse(lb);
        for (const char* time : {"epoch_ms", "eval_ms"}) {
          ja.erase(time);
          jb.erase(time);
        }
        EXPECT_EQ(ja, jb) << model << " " << seed << " line " << lines;
        ++lines;
      }
      EXPECT_FALSE(std::getline(b, lb));
      EXPECT_EQ(lines, 30);
    }
    const json full = json::parse(read(tmp / "full" / "summary.json"));
    const json cut = json::parse(read(tmp / "cut" / "summary.json"));
    EXPECT_EQ(full["metrics"]["test_acc"], cut["metrics"]["test_acc"]);
  }
}

std::vector<json> epoch_lines(const fs::path& p) {
  std::vector<json> out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

TEST(EvalEvery, TrainsTheSameAndSelectsAmongEvaluatedEpochs) {
  const fs::path tmp = testing::fresh_temp_dir("eval-every");
  Config every;
  every.set_override("dataset.path=\"" + testing::source_path("data/cora") + "\"");
  every.set_override("train.epochs=30");
  Config sparse = every;
  sparse.set_override("train.eval_every=4");  // epochs 4, 8, ..., 28 and the last, 30
  run_experiment(every.settings(), tmp / "every", false);
  run_experiment(sparse.settings(), tmp / "sparse", false);

  const std::vector<json> a = epoch_lines(tmp / "every" / "seed-0" / "metrics.jsonl");
  const std::vector<json> b = epoch_lines(tmp / "sparse" / "seed-0" / "metrics.jsonl");
  ASSERT_EQ(a.size(), 30u);
  ASSERT_EQ(b.size(), 30u);
  int64_t best_epoch = 0;
  double best_acc = -1, best_loss = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const int64_t epoch = static_cast<int64_t>(i) + 1;
    EXPECT_EQ(a[i]["loss"], b[i]["loss"]) << "epoch " << epoch;  // training is untouched
    const bool evaluated = epoch % 4 == 0 || epoch == 30;
    EXPECT_EQ(b[i].contains("valid_acc"), evaluated) << "epoch " << epoch;
    if (!evaluated) {
      EXPECT_EQ(b[i]["eval_ms"].get<double>(), 0.0);
      continue;
    }
    EXPECT_EQ(a[i]["test_acc"], b[i]["test_acc"]) << "epoch " << epoch;
    const double acc = a[i]["valid_acc"], loss = a[i]["valid_loss"];
    if (acc > best_acc || (acc == best_acc && loss < best_loss)) {
      best_epoch = epoch;
      best_acc = acc;
      best_loss = loss;
    }
  }
  const json result = json::parse(read(tmp / "sparse" / "seed-0" / "result.json"));
  EXPECT_EQ(result["best_epoch"].get<int64_t>(), best_epoch);
  EXPECT_EQ(result["test_acc"], a[static_cast<size_t>(best_epoch - 1)]["test_acc"]);
  EXPECT_GT(result["eval_ms_median"].get<double>(), 0.0);  // the median skips unevaluated epochs

  // Patience counts evaluations: 1 evaluation without improvement stops the run there.
  Config patient = sparse;
  patient.set_override("train.patience=1");
  patient.set_override("train.epochs=200");
  run_experiment(patient.settings(), tmp / "patient", false);
  const std::vector<json> p = epoch_lines(tmp / "patient" / "seed-0" / "metrics.jsonl");
  ASSERT_FALSE(p.empty());
  EXPECT_LT(p.size(), 200u);
  EXPECT_EQ(p.size() % 4, 0u);
  EXPECT_TRUE(p.back().contains("valid_acc"));
}

TEST(Resume, SummaryHoldsMeanStdAndPerSeedValues) {
  const fs::path tmp = testing::fresh_temp_dir("summary");
  const RunSummary s = run_experiment(small_config("gcn"), tmp / "run", false);
  const json j = json::parse(read(tmp / "run" / "summary.json"));
  const json& t = j["metrics"]["test_acc"];
  ASSERT_EQ(t["per_seed"].size(), 2u);
  const double a = t["per_seed"][0], b = t["per_seed"][1];
  EXPECT_DOUBLE_EQ(t["mean"].get<double>(), (a + b) / 2);
  EXPECT_NEAR(t["std"].get<double>(), std::abs(a - b) / std::sqrt(2.0), 1e-12);
  EXPECT_TRUE(fs::exists(tmp / "run" / "config.toml"));
  EXPECT_TRUE(fs::exists(tmp / "run" / "seed-1" / "best.pt"));
  // `ripple eval` recomputes the best checkpoints' accuracies.
  const auto r = testing::run_ripple("eval " + (tmp / "run").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(fmt::format("{:.4f}", a)), std::string::npos) << r.output;
  // A finished run directory is not overwritten.
  const auto again = testing::run_ripple("train --run-dir " + (tmp / "run").string());
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.output.find("already holds a finished run"), std::string::npos) << again.output;
}

TEST(Resume, KilledProcessResumesToTheSameResult) {
  const fs::path tmp = testing::fresh_temp_dir("kill");
  const std::string common = "train --config " + testing::source_path("examples/cora_gcn.toml") +
                             " --set dataset.path=" + testing::source_path("data/cora") +
                             " --set train.epochs=400 --set train.checkpoint_every=20 --set model.hidden=64";
  ASSERT_EQ(testing::run_ripple(common + " --run-dir " + (tmp / "full").string()).exit_code, 0);

  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string args = common + " --run-dir " + (tmp / "cut").string() + " > /dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", ("exec " + std::string(RIPPLE_BINARY) + " " + args).c_str(), nullptr);
    _exit(127);
  }
  // Kill once the first checkpoint exists (or give up waiting after a while).
  const auto ckpt = tmp / "cut" / "seed-0" / "checkpoint.pt";
  for (int i = 0; i < 600 && !fs::exists(ckpt); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!fs::exists(tmp / "cut" / "summary.json")) {
    const auto r = testing::run_ripple("train --resume " + (tmp / "cut").string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  EXPECT_EQ(result_without_time(tmp / "full" / "seed-0" / "result.json"),
            result_without_time(tmp / "cut" / "seed-0" / "result.json"));
  EXPECT_FALSE(fs::exists(tmp / "cut" / "seed-0" / "checkpoint.pt.tmp"));
}

// An unfinished one-seed run stopped after 12 epochs (checkpoint at epoch 10) in `dir`.
void interrupted_run(const fs::path& dir) {
  RunConfig c = small_config("gcn");
  c.train.seeds = 1;
  TrainCallbacks stop;
  stop.interrupt_after_epochs = 12;
  EXPECT_THROW(run_experiment(c, dir, false, stop), std::runtime_error);
  ASSERT_TRUE(fs::exists(dir / "seed-0" / "checkpoint.pt"));
}

TEST(Resume, CheckpointOfAnotherModelNamesTheFirstMismatchingParameter) {
  const fs::path tmp = testing::fresh_temp_dir("resume-other-model");
  interrupted_run(tmp / "run");
  // The run's configuration edited to a wider model: its checkpoint no longer fits.
  std::string toml = read(tmp / "run" / "config.toml");
  const size_t at = toml.find("hidden = 16");
  ASSERT_NE(at, std::string::npos);
  toml.replace(at, 11, "hidden = 32");
  std::ofstream(tmp / "run" / "config.toml") << toml;
  const auto r = testing::run_ripple("train --resume " + (tmp / "run").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("checkpoint.pt: parameter convs.0.bias has shape 16, the model's is 32"),
            std::string::npos)
      << r.output;
}

TEST(Resume, CheckpointOfTheOldPositionalFormatIsRefusedPlainly) {
  const fs::path tmp = testing::fresh_temp_dir("resume-old-format");
  interrupted_run(tmp / "run");
  // What Ripple wrote before format version 2: a TorchScript archive of tensors by position.
  torch::serialize::OutputArchive old;
  old.write("model_count", torch::tensor(int64_t{1}));
  old.write("model_0", torch::zeros({2, 2}));
  old.save_to((tmp / "run" / "seed-0" / "checkpoint.pt").string());
  const auto r = testing::run_ripple("train --resume " + (tmp / "run").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("written by a Ripple before checkpoint format version 2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("start the run again"), std::string::npos) << r.output;
}

// A checkpoint that cannot be written (the file-size limit fails the write as a full disk
// does) is the file system's failure: exit code 3, the cause named, no temporary file left.
TEST(Resume, FailedCheckpointWriteIsAFileSystemError) {
  const fs::path tmp = testing::fresh_temp_dir("resume-disk-full");
  const auto r = testing::run_ripple("train --config " + testing::source_path("examples/cora_gcn.toml") +
                                         " --set dataset.path=" + testing::source_path("data/cora") +
                                         " --set train.epochs=3 --run-dir " + (tmp / "run").string(),
                                     "ulimit -f 40; ");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("file system error"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("checkpoint.pt.tmp: write failed (File too large)"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(tmp / "run" / "seed-0" / "checkpoint.pt.tmp"));
}

TEST(Resume, CorruptResultFileIsBadInputNamingTheFile) {
  const fs::path tmp = testing::fresh_temp_dir("resume-corrupt-result");
  interrupted_run(tmp / "run");
  std::ofstream(tmp / "run" / "seed-0" / "result.json") << "{\"seed\": 0, \"best_ep";
  const auto r = testing::run_ripple("train --resume " + (tmp / "run").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("seed-0/result.json: malformed result file"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace ripple
