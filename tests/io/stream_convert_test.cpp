// Streaming OGB -> native conversion (include/ripple/convert.h): the same dataset as the
// in-memory path when everything fits in one run and when the edges are spilled in many
// small sorted runs (duplicates and self loops across runs included), the budget checks,
// bad input that leaves neither an output nor temporary run files behind, and a killed
// conversion.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "ripple/convert.h"
#include "ripple/dataset.h"
#include "ripple/error.h"
#include "ripple/native_dataset.h"
#include "support/cli.h"

namespace ripple {
namespace {

namespace fs = std::filesystem;

at::Tensor sorted_ids(const at::Tensor& ids) { return std::get<0>(at::unique_dim(ids.to(at::kLong), 0)); }

// `streamed` (native, from the streaming path) holds the same dataset as `reference`.
void expect_same_dataset(const NodeDataset& streamed, const NodeDataset& reference) {
  ASSERT_EQ(streamed.num_nodes(), reference.num_nodes());
  EXPECT_TRUE(at::equal(streamed.graph.csc_indptr().to(at::kLong), reference.graph.csc_indptr().to(at::kLong)));
  EXPECT_TRUE(at::equal(streamed.graph.csc_indices().to(at::kLong), reference.graph.csc_indices().to(at::kLong)));
  EXPECT_EQ(streamed.graph.flags().sorted, reference.graph.flags().sorted);
  EXPECT_EQ(streamed.graph.flags().deduplicated, reference.graph.flags().deduplicated);
  EXPECT_EQ(streamed.graph.flags().has_self_loops, reference.graph.flags().has_self_loops);
  EXPECT_EQ(streamed.graph.flags().symmetric, reference.graph.flags().symmetric);
  EXPECT_EQ(streamed.num_input_edges, reference.num_input_edges);
  EXPECT_TRUE(at::equal(streamed.features, reference.features));
  EXPECT_TRUE(at::equal(streamed.labels, reference.labels));
  EXPECT_EQ(streamed.num_classes, reference.num_classes);
  EXPECT_EQ(streamed.split_name, reference.split_name);
  EXPECT_TRUE(at::equal(streamed.train_idx, sorted_ids(reference.train_idx)));
  EXPECT_TRUE(at::equal(streamed.valid_idx, sorted_ids(reference.valid_idx)));
  EXPECT_TRUE(at::equal(streamed.test_idx, sorted_ids(reference.test_idx)));
}

// Nothing but `keep` in `dir`: no staging folder, no run folder.
void expect_only(const fs::path& dir, const std::string& keep) {
  for (const auto& e : fs::directory_iterator(dir)) EXPECT_EQ(e.path().filename().string(), keep) << e.path();
}

TEST(StreamConvert, CoraInOneRunIsTheInMemoryDataset) {
  const fs::path tmp = testing::fresh_temp_dir("stream-cora");
  const std::string cora = testing::source_path("data/cora");
  ASSERT_TRUE(can_stream_convert(cora));
  const StreamingConvertReport r = stream_convert_ogb_to_native(cora, (tmp / "out").string(), {});
  EXPECT_EQ(r.runs, 1);
  const NodeDataset reference = load_ogb_node_dataset(cora);
  EXPECT_EQ(r.edges, reference.graph.num_edges());
  expect_same_dataset(load_node_dataset((tmp / "out").string()), reference);
  expect_only(tmp, "out");
}

// RMAT keeps duplicate edges and self loops as drawn and is not symmetric: de-duplication
// must work across runs, and the flags must come out as the in-memory loader finds them.
TEST(StreamConvert, ManySpilledRunsMergeToTheSameGraph) {
  const fs::path tmp = testing::fresh_temp_dir("stream-rmat");
  ASSERT_EQ(testing::run_ripple("generate --kind rmat --nodes 600 --edges 9000 --features 5 --classes 4 --seed 3 "
                                "--format ogb --out " + (tmp / "ogb").string()).exit_code, 0);
  const NodeDataset reference = load_ogb_node_dataset((tmp / "ogb").string(), "random");
  ASSERT_LT(reference.graph.num_edges(), 9000);  // duplicates were drawn
  ASSERT_TRUE(reference.graph.flags().has_self_loops);
  StreamingConvertOptions o;
  o.max_run_edges = 700;
  o.feature_dtype = "float16";
  const StreamingConvertReport r = stream_convert_ogb_to_native((tmp / "ogb").string(), (tmp / "out").string(), o);
  EXPECT_EQ(r.runs, 13);  // ceil(9000 / 700)
  EXPECT_EQ(r.input_edges, 9000);
  NodeDataset streamed = load_node_dataset((tmp / "out").string());
  ASSERT_EQ(streamed.features.scalar_type(), at::kHalf);
  EXPECT_TRUE(at::allclose(streamed.features.to(at::kFloat), reference.features, 0, 2e-3));
  streamed.features = reference.features;  // compared above at float16 precision
  expect_same_dataset(streamed, reference);
  // The symmetric flag: a symmetrised copy of the same edges says yes.
  const NodeDataset sym_ref = [&] {
    NodeDataset d = reference;
    const at::Tensor src = d.graph.coo().src, dst = d.graph.coo().dst;
    GraphBuildOptions b;
    b.symmetrize = true;
    d.graph = Graph::from_edges(d.num_nodes(), src, dst, b);
    return d;
  }();
  ASSERT_TRUE(sym_ref.graph.flags().symmetric);
  const fs::path sym_ogb = tmp / "sym_ogb";
  write_ogb_node_dataset(sym_ref, sym_ogb.string());
  const NodeDataset sym_loaded = load_ogb_node_dataset(sym_ogb.string(), "random");
  stream_convert_ogb_to_native(sym_ogb.string(), (tmp / "sym_out").string(), o);
  const NodeDataset sym_streamed = load_node_dataset((tmp / "sym_out").string());
  EXPECT_TRUE(sym_streamed.graph.flags().symmetric);
  EXPECT_TRUE(at::equal(sym_streamed.graph.csc_indices().to(at::kLong), sym_loaded.graph.csc_indices().to(at::kLong)));
  EXPECT_FALSE(load_node_dataset((tmp / "out").string()).graph.flags().symmetric);
}

TEST(StreamConvert, BudgetIsParsedAndAToSmallOneIsRefusedUpFront) {
  EXPECT_EQ(parse_byte_size("1000", "x"), 1000);
  EXPECT_EQ(parse_byte_size("512M", "x"), int64_t{512} << 20);
  EXPECT_EQ(parse_byte_size("2GiB", "x"), int64_t{2} << 30);
  EXPECT_EQ(parse_byte_size("1.5G", "x"), int64_t{3} << 29);
  EXPECT_EQ(parse_byte_size("64KB", "x"), int64_t{64} << 10);
  for (const char* bad : {"", "G", "-1G", "12Q", "1e40", "nan", "5 G"}) {
    EXPECT_THROW(parse_byte_size(bad, "--memory-budget"), InputError) << bad;
  }
  const fs::path tmp = testing::fresh_temp_dir("stream-budget");
  const auto r = testing::run_ripple("convert --in " + testing::source_path("data/cora") + " --out " +
                                     (tmp / "out").string() + " --memory-budget 1M");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("too small"), std::string::npos) << r.output;
  const auto bad = testing::run_ripple("convert --in " + testing::source_path("data/cora") + " --out " +
                                       (tmp / "out").string() + " --memory-budget lots");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("--memory-budget"), std::string::npos) << bad.output;
  EXPECT_TRUE(fs::is_empty(tmp));
  const auto ok = testing::run_ripple("convert --in " + testing::source_path("data/cora") + " --out " +
                                      (tmp / "out").string() + " --memory-budget 64M");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("streaming: 1 sorted run"), std::string::npos) << ok.output;
}

// Defects found only deep in the stream (after runs were spilled) still leave nothing.
TEST(StreamConvert, BadInputLeavesNoOutputAndNoRunFiles) {
  const fs::path tmp = testing::fresh_temp_dir("stream-bad");
  ASSERT_EQ(testing::run_ripple("generate --kind uniform --nodes 300 --edges 3000 --features 3 --classes 3 "
                                "--format ogb --out " + (tmp / "good").string()).exit_code, 0);
  StreamingConvertOptions o;
  o.max_run_edges = 500;
  const auto copy_with = [&](const std::string& name, const std::string& file, const std::string& text) {
    const fs::path dir = tmp / name;
    fs::copy(tmp / "good", dir, fs::copy_options::recursive);
    fs::remove(dir / "raw" / (file + ".csv.gz"));
    std::ofstream(dir / "raw" / (file + ".csv")) << text;
    return dir;
  };
  // Edge line 2801 names node 300: after five runs went to disk.
  std::string edges;
  for (int i = 0; i < 2800; ++i) edges += std::to_string(i % 300) + "," + std::to_string((i * 7) % 300) + "\n";
  edges += "5,300\n";
  for (int i = 0; i < 199; ++i) edges += "1,2\n";
  const fs::path bad_edge = copy_with("bad_edge", "edge", edges);
  std::string err;
  try {
    stream_convert_ogb_to_native(bad_edge.string(), (tmp / "out_edge").string(), o);
  } catch (const InputError& e) {
    err = e.what();
  }
  EXPECT_NE(err.find("edge.csv:2801: node id 300 out of range"), std::string::npos) << err;
  // Too few feature rows: found while writing the last nodes.
  std::string rows;
  for (int i = 0; i < 299; ++i) rows += "0.5,1,2\n";
  const fs::path short_feat = copy_with("short_feat", "node-feat", rows);
  err.clear();
  try {
    stream_convert_ogb_to_native(short_feat.string(), (tmp / "out_feat").string(), o);
  } catch (const InputError& e) {
    err = e.what();
  }
  EXPECT_NE(err.find("expected 300 lines (one per node), got 299"), std::string::npos) << err;
  for (const auto& e : fs::directory_iterator(tmp)) {
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(name == "good" || name == "bad_edge" || name == "short_feat") << name;
  }
  // Through the command line: exit code 2, the file and line named.
  const auto r = testing::run_ripple("convert --in " + bad_edge.string() + " --out " + (tmp / "cli").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("edge.csv:2801"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(tmp / "cli"));
}

// SIGKILL part-way through a spilling conversion: no output appears (only NAME.partial-PID
// or NAME.runs-PID litter beside it, and a partial directory has no header); the next
// conversion to the same name succeeds and sweeps a dead process's litter, while a live
// process's (a concurrent writer's) is kept.
TEST(StreamConvert, KilledConversionLeavesNoOutputAndTheNextOneSweepsItsLitter) {
  const fs::path tmp = testing::fresh_temp_dir("stream-kill");
  const fs::path in = tmp / "in", out = tmp / "out";
  ASSERT_EQ(testing::run_ripple("generate --kind uniform --nodes 50000 --edges 3000000 --features 4 --classes 3 "
                                "--format ogb --out " + in.string()).exit_code, 0);
  const std::string convert = "convert --in " + in.string() + " --out " + out.string() + " --memory-budget 41M";

  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", ("exec " + std::string(RIPPLE_BINARY) + " " + convert + " > /dev/null 2>&1").c_str(),
          nullptr);
    _exit(127);
  }
  const fs::path runs = out.string() + ".runs-" + std::to_string(pid);
  const fs::path partial = out.string() + ".partial-" + std::to_string(pid);
  // Kill once the first sorted run is on disk (or give up waiting after a while).
  for (int i = 0; i < 2000 && !fs::exists(runs / "run-0.bin"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!fs::exists(out)) {  // the kill landed mid-conversion (it all but always does)
    EXPECT_TRUE(fs::exists(runs) || fs::exists(partial));
    EXPECT_FALSE(fs::exists(partial / "header.json"));
  }
  fs::remove_all(out);

  // Litter of a process that has exited, and of one that is alive (this test).
  const pid_t gone = fork();
  ASSERT_GE(gone, 0);
  if (gone == 0) _exit(0);
  waitpid(gone, &status, 0);
  const std::string live = std::to_string(getpid());
  for (const std::string& suffix : {".partial-" + std::to_string(gone), ".runs-" + std::to_string(gone),
                                    ".partial-" + live, ".runs-" + live}) {
    fs::create_directories(out.string() + suffix);
    std::ofstream(out.string() + suffix + "/x.bin") << "litter";
  }
  const auto r = testing::run_ripple(convert);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("sorted run(s)"), std::string::npos) << r.output;  // spilled: more than one
  EXPECT_EQ(r.output.find("streaming: 1 sorted"), std::string::npos) << r.output;
  EXPECT_EQ(load_node_dataset(out.string()).graph.num_nodes(), 50000);
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(tmp)) left.push_back(e.path().filename().string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"in", "out", "out.partial-" + live, "out.runs-" + live}));
}

}  // namespace
}  // namespace ripple
