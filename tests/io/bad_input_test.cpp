// The bad-input corpus (tests/data/bad, made by tests/data/make_bad_inputs.py): every
// defective dataset gives exit code 2 and a message naming the file and line, from both
// `ripple info` and `ripple train`, and `train` leaves no run directory behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/cli.h"

namespace ripple {
namespace {

namespace fs = std::filesystem;
using testing::run_ripple;

std::string read_expectation(const fs::path& dir) {
  std::ifstream in(dir / "expect.txt");
  std::string line;
  std::getline(in, line);
  return line;
}

TEST(BadInput, EveryCorpusCaseFailsCleanlyWithExitCode2) {
  const fs::path corpus = testing::source_path("tests/data/bad");
  const fs::path tmp = testing::fresh_temp_dir("bad-input");
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(corpus)) {
    const std::string name = entry.path().filename().string();
    const std::string expected = read_expectation(entry.path());
    SCOPED_TRACE(name);
    const auto info = run_ripple("info " + entry.path().string());
    EXPECT_EQ(info.exit_code, 2) << info.output;
    EXPECT_NE(info.output.find(expected), std::string::npos) << "expected '" << expected << "' in:\n" << info.output;
    EXPECT_EQ(info.output.find("internal error"), std::string::npos);

    const fs::path run_dir = tmp / name;
    const auto train = run_ripple("train --set dataset.path=" + entry.path().string() + " --run-dir " + run_dir.string());
    EXPECT_EQ(train.exit_code, 2) << train.output;
    EXPECT_NE(train.output.find(expected), std::string::npos) << train.output;
    EXPECT_FALSE(fs::exists(run_dir)) << "a failed run must not leave a run directory";
    ++cases;
  }
  EXPECT_GE(cases, 14);
}

TEST(BadInput, MissingDatasetDirectory) {
  const auto r = run_ripple("info /nonexistent/dataset");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("/nonexistent/dataset: dataset directory not found"), std::string::npos) << r.output;
}

TEST(BadInput, ConfigurationErrorsNameTheKey) {
  const fs::path tmp = testing::fresh_temp_dir("bad-config");
  struct Case {
    std::string args, expected;
  };
  const std::vector<Case> cases = {
      {"--set model.hiden=32", "unknown configuration key 'model.hiden'; did you mean 'model.hidden'?"},
      {"--set train.hidden=32", "did you mean 'model.hidden'?"},
      {"--set model.hidden=-4", "--set model.hidden=-4: model.hidden: must be >= 1, got -4"},
      {"--set model.dropout=1.5", "model.dropout: must be in [0, 1), got 1.5"},
      {"--set model.hidden=wide", "model.hidden: must be an integer, got \"wide\""},
      {"--set model.name=transformer", "model.name: must be one of gcn, sage, gat, gatv2, gin, appnp, sgc, mlp"},
      {"--set model.hidden", "expected section.key=value"},
      {"--config " + testing::source_path("tests/data/configs/unknown_key.toml"),
       "unknown_key.toml:5: unknown configuration key 'model.drop_out'; did you mean 'model.dropout'?"},
      {"--config " + testing::source_path("tests/data/configs/bad_syntax.toml"), "bad_syntax.toml:3: invalid TOML"},
      {"--config /nonexistent.toml", "/nonexistent.toml: cannot read configuration file"},
      {"--seeds 0", "--seeds"},
      {"--frobnicate", "frobnicate"},
  };
  for (const Case& c : cases) {
    const fs::path run_dir = tmp / "run";
    const auto r = run_ripple("train " + c.args + " --run-dir " + run_dir.string());
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.expected), std::string::npos) << c.args << "\nexpected: " << c.expected << "\ngot: " << r.output;
    EXPECT_FALSE(fs::exists(run_dir)) << c.args;
  }
}

TEST(BadInput, ResumeOfANonRunDirectory) {
  const fs::path tmp = testing::fresh_temp_dir("bad-resume");
  const auto r = run_ripple("train --resume " + tmp.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("not a run directory"), std::string::npos) << r.output;
}

TEST(Cli, HelpAndUnknownSubcommand) {
  for (const char* sub : {"train", "eval", "info"}) {
    const auto r = run_ripple(std::string(sub) + " --help");
    EXPECT_EQ(r.exit_code, 0) << sub;
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << r.output;
  }
  EXPECT_EQ(run_ripple("explode").exit_code, 2);
  EXPECT_EQ(run_ripple("").exit_code, 2);
}

}  // namespace
}  // namespace ripple
