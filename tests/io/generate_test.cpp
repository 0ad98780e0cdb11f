// `ripple generate`: seeded, loadable by the OGB loader, complete-or-absent output.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

#include "ripple/dataset.h"
#include "ripple/error.h"
#include "ripple/generate.h"
#include "ripple/native_dataset.h"
#include "support/cli.h"

namespace ripple {
namespace {

namespace fs = std::filesystem;

TEST(Generate, WritesALoadableDatasetDeterministically) {
  const fs::path tmp = testing::fresh_temp_dir("generate");
  for (const char* kind : {"rmat", "uniform"}) {
    // The native format holds the same graph (de-duplicated, as the loaders build it).
    const std::string native_args = fmt::format(
        "generate --kind {} --nodes 500 --edges 4000 --features 8 --classes 3 --seed 5 --format native --out {}", kind,
        (tmp / (std::string(kind) + "_native")).string());
    ASSERT_EQ(testing::run_ripple(native_args).exit_code, 0);
    const std::string args = fmt::format("generate --kind {} --nodes 500 --edges 4000 --features 8 --classes 3 --seed 5", kind);
    const auto a = testing::run_ripple(args + " --out " + (tmp / (std::string(kind) + "_a")).string());
    const auto b = testing::run_ripple(args + " --out " + (tmp / (std::string(kind) + "_b")).string());
    ASSERT_EQ(a.exit_code, 0) << a.output;
    ASSERT_EQ(b.exit_code, 0) << b.output;
    const NodeDataset da = load_ogb_node_dataset((tmp / (std::string(kind) + "_a")).string(), "random");
    const NodeDataset db = load_ogb_node_dataset((tmp / (std::string(kind) + "_b")).string(), "random");
    EXPECT_EQ(da.num_nodes(), 500);
    EXPECT_EQ(da.num_input_edges, 4000);
    EXPECT_EQ(da.num_features(), 8);
    EXPECT_LE(da.num_classes, 3);
    EXPECT_EQ(da.train_idx.numel() + da.valid_idx.numel() + da.test_idx.numel(), 500);
    EXPECT_TRUE(at::equal(da.features, db.features));
    EXPECT_TRUE(at::equal(da.graph.csc_indices(), db.graph.csc_indices()));
    const NodeDataset dn = load_node_dataset((tmp / (std::string(kind) + "_native")).string());
    EXPECT_TRUE(at::equal(dn.graph.csc_indices().to(at::kLong), da.graph.csc_indices().to(at::kLong)));
    EXPECT_TRUE(at::equal(dn.train_idx, da.train_idx));
    EXPECT_TRUE(at::allclose(dn.features, da.features, 0, 1e-4));
  }
  // RMAT is skewed: its largest in-degree is far above the uniform graph's.
  const NodeDataset r = load_ogb_node_dataset((tmp / "rmat_a").string(), "random");
  const NodeDataset u = load_ogb_node_dataset((tmp / "uniform_a").string(), "random");
  EXPECT_GT(r.graph.in_degrees().max().item<int64_t>(), 2 * u.graph.in_degrees().max().item<int64_t>());
}

// R-MAT's Graph500 probabilities, destination by destination: on 2^10 nodes the hub (ids
// 0 before the permutation) receives a = 0.76^10 of the edges as a destination, sends the
// same share as a source, and 0.57^10 of all edges join it to itself. Binomial standard
// deviations at 400k edges: 155 and 38 edges; the bounds are more than 3 of them.
TEST(Generate, RmatFollowsTheGraph500Probabilities) {
  const int64_t edges = 400000;
  const Graph g = make_graph("rmat", 1024, edges, 11);
  EXPECT_EQ(g.num_edges(), edges);  // duplicates and self loops kept as drawn
  const at::Tensor in = g.in_degrees(), out = g.out_degrees();
  const int64_t hub = in.argmax().item<int64_t>();
  EXPECT_EQ(out.argmax().item<int64_t>(), hub);
  const double share = std::pow(0.76, 10) * edges;
  EXPECT_NEAR(in[hub].item<int64_t>(), share, 0.02 * share);
  EXPECT_NEAR(out[hub].item<int64_t>(), share, 0.02 * share);
  const at::Tensor row = g.csc_indices().to(at::kLong).slice(0, g.csc_indptr()[hub].item<int64_t>(),
                                                              g.csc_indptr()[hub + 1].item<int64_t>());
  const double loops = std::pow(0.57, 10) * edges;
  EXPECT_NEAR((row == hub).sum().item<int64_t>(), loops, 0.1 * loops);
  // Uniform: every node's in-degree near edges / nodes.
  const Graph u = make_graph("uniform", 1024, edges, 11);
  EXPECT_EQ(u.num_edges(), edges);
  EXPECT_LT(u.in_degrees().max().item<int64_t>(), 1.2 * edges / 1024);
  EXPECT_GT(u.in_degrees().min().item<int64_t>(), 0.8 * edges / 1024);
}

// The per-node draws run in parallel; the files do not depend on the thread count.
TEST(Generate, OutputDoesNotDependOnTheThreadCount) {
  const fs::path tmp = testing::fresh_temp_dir("generate-threads");
  for (const char* kind : {"rmat", "csbm"}) {
    const std::string args = fmt::format(
        "generate --kind {} --nodes 20000 --edges 200000 --features 5 --classes 3 --format native --out ", kind);
    ASSERT_EQ(testing::run_ripple(args + (tmp / (std::string(kind) + "1")).string(), "OMP_NUM_THREADS=1 ").exit_code, 0);
    ASSERT_EQ(testing::run_ripple(args + (tmp / (std::string(kind) + "2")).string(), "OMP_NUM_THREADS=2 ").exit_code, 0);
    const NativeHeader a = read_native_header((tmp / (std::string(kind) + "1")).string());
    const NativeHeader b = read_native_header((tmp / (std::string(kind) + "2")).string());
    ASSERT_EQ(a.arrays.size(), b.arrays.size());
    for (size_t i = 0; i < a.arrays.size(); ++i) {
      EXPECT_EQ(a.arrays[i].name, b.arrays[i].name);
      EXPECT_EQ(a.arrays[i].crc32, b.arrays[i].crc32) << kind << " " << a.arrays[i].name;
    }
  }
}

TEST(Generate, CsbmIsTheSameGraphInBothFormatsAndStreamsFloat16) {
  const fs::path tmp = testing::fresh_temp_dir("generate-csbm");
  const std::string args = "generate --kind csbm --nodes 700 --edges 7000 --features 6 --classes 3 --seed 9";
  ASSERT_EQ(testing::run_ripple(args + " --format native --out " + (tmp / "n").string()).exit_code, 0);
  ASSERT_EQ(testing::run_ripple(args + " --format ogb --out " + (tmp / "o").string()).exit_code, 0);
  const auto h = testing::run_ripple(args + " --format native --feature-dtype float16 --out " + (tmp / "h").string());
  ASSERT_EQ(h.exit_code, 0) << h.output;
  const NodeDataset n = load_node_dataset((tmp / "n").string());
  const NodeDataset o = load_node_dataset((tmp / "o").string());
  const NodeDataset half = load_node_dataset((tmp / "h").string());
  EXPECT_EQ(n.split_name, "random");
  EXPECT_EQ(n.num_classes, 3);
  // Every node receives edges / nodes = 10 draws; repeats and self loops are dropped.
  const at::Tensor degree = n.graph.in_degrees();
  EXPECT_LE(degree.max().item<int64_t>(), 10);
  EXPECT_GE(degree.min().item<int64_t>(), 7);
  EXPECT_TRUE(n.graph.flags().deduplicated);
  EXPECT_FALSE(n.graph.flags().has_self_loops);
  EXPECT_EQ(n.graph.csc_indices().scalar_type(), at::kInt);  // 7000 edges fit int32
  EXPECT_TRUE(at::equal(n.graph.csc_indptr().to(at::kLong), o.graph.csc_indptr().to(at::kLong)));
  EXPECT_TRUE(at::equal(n.graph.csc_indices().to(at::kLong), o.graph.csc_indices().to(at::kLong)));
  EXPECT_TRUE(at::equal(n.labels, o.labels));
  EXPECT_TRUE(at::equal(n.train_idx, o.train_idx));
  EXPECT_TRUE(at::equal(n.test_idx, o.test_idx));
  EXPECT_TRUE(at::allclose(n.features, o.features, 0, 1e-4));  // the OGB layout keeps four decimals
  EXPECT_EQ(half.features.scalar_type(), at::kHalf);
  EXPECT_TRUE(at::allclose(half.features.to(at::kFloat), n.features, 0, 5e-3));
  // Labels are blocks: most of a node's in-neighbours share its label (p_in = 0.8, 3 classes).
  const at::Tensor dst = at::repeat_interleave(degree);
  const at::Tensor same = n.labels.index_select(0, n.graph.csc_indices().to(at::kLong)) == n.labels.index_select(0, dst);
  const double homophily = same.to(at::kDouble).mean().item<double>();
  EXPECT_GT(homophily, 0.8);
  EXPECT_LT(homophily, 0.9);
}

// --train-fraction moves nodes between the splits and nothing else.
TEST(Generate, CsbmTrainFractionOnlyResizesTheSplit) {
  const fs::path tmp = testing::fresh_temp_dir("generate-csbm-fraction");
  const std::string args = "generate --kind csbm --nodes 4000 --edges 20000 --features 4 --classes 3 --seed 5 --format native";
  ASSERT_EQ(testing::run_ripple(args + " --out " + (tmp / "default").string()).exit_code, 0);
  ASSERT_EQ(testing::run_ripple(args + " --train-fraction 0.1 --out " + (tmp / "small").string()).exit_code, 0);
  const NodeDataset d = load_node_dataset((tmp / "default").string());
  const NodeDataset s = load_node_dataset((tmp / "small").string());
  EXPECT_TRUE(at::equal(d.graph.csc_indices(), s.graph.csc_indices()));
  EXPECT_TRUE(at::equal(d.labels, s.labels));
  EXPECT_TRUE(at::equal(d.features, s.features));
  const double n = 4000;
  EXPECT_NEAR(d.train_idx.numel() / n, 0.6, 0.03);
  EXPECT_NEAR(s.train_idx.numel() / n, 0.1, 0.02);
  EXPECT_NEAR(s.valid_idx.numel() / n, 0.45, 0.03);
  EXPECT_NEAR(s.test_idx.numel() / n, 0.45, 0.03);
  // Same per-node draw: the small train split is a subset of the default one.
  const at::Tensor in_default = at::isin(s.train_idx, d.train_idx);
  EXPECT_TRUE(in_default.all().item<bool>());
  EXPECT_EQ(testing::run_ripple(args + " --train-fraction 0 --out " + (tmp / "zero").string()).exit_code, 2);
  EXPECT_EQ(testing::run_ripple("generate --kind rmat --train-fraction 0.3 --out " + (tmp / "rmat").string()).exit_code, 2);
  EXPECT_FALSE(fs::exists(tmp / "zero"));
  EXPECT_FALSE(fs::exists(tmp / "rmat"));
}

// The learnable graph must separate a model that reads edges from one that cannot.
TEST(Generate, CsbmNeedsTheGraphToBeLearned) {
  const fs::path tmp = testing::fresh_temp_dir("generate-csbm-learn");
  ASSERT_EQ(testing::run_ripple("generate --kind csbm --nodes 3000 --edges 30000 --features 32 --classes 4 "
                                "--seed 3 --format native --out " + (tmp / "g").string())
                .exit_code,
            0);
  auto test_acc = [&](const std::string& model) {
    const fs::path run = tmp / ("run-" + model);
    const auto r = testing::run_ripple(fmt::format(
        "train --set dataset.path={} --set dataset.split=random --set model.name={} --set model.hidden=32 "
        "--set train.epochs=100 --run-dir {}",
        (tmp / "g").string(), model, run.string()));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::ifstream in(run / "summary.json");
    return nlohmann::json::parse(in)["metrics"]["test_acc"]["mean"].get<double>();
  };
  const double mlp = test_acc("mlp"), sage = test_acc("sage");
  std::printf("csbm 3000/30000: MLP %.3f, GraphSAGE %.3f\n", mlp, sage);
  EXPECT_LT(mlp, 0.55);
  EXPECT_GT(sage, 0.9);
}

TEST(NativeStreamWriter, AbandonedWriteLeavesNothingAndCountsAreChecked) {
  const fs::path tmp = testing::fresh_temp_dir("stream-writer");
  NativeNodeStreamWriter::Options o;
  o.num_nodes = 3;
  o.num_features = 2;
  o.num_classes = 2;
  o.max_edges = 4;
  const float x[2] = {1.0f, 2.0f};
  const int64_t src[2] = {0, 2};
  {
    NativeNodeStreamWriter w((tmp / "abandoned").string(), o);
    w.add_node(src, 2, x, 1, 0);
  }
  EXPECT_TRUE(fs::is_empty(tmp));
  NativeNodeStreamWriter w((tmp / "ok").string(), o);
  w.add_node(src, 2, x, 1, 0);
  EXPECT_THROW(w.finish(), InputError);  // 1 of 3 nodes
  const int64_t bad[1] = {3};
  EXPECT_THROW(w.add_node(bad, 1, x, 0, 0), InputError);
  EXPECT_THROW(w.add_node(src, 2, x, 2, 0), InputError);  // label 2 of 2 classes
  w.add_node(src, 1, x, 0, 1);
  w.add_node(src, 0, x, 0, 2);
  w.add_array("extra/ids", at::arange(3, at::kLong) * 7);
  EXPECT_THROW(w.add_array("extra/ids", at::arange(3, at::kLong)), InputError);  // given twice
  EXPECT_THROW(w.add_array("features", at::arange(3, at::kLong)), InputError);   // a standard array's name
  w.finish();
  const NodeDataset d = load_node_dataset((tmp / "ok").string());
  EXPECT_TRUE(at::equal(load_native_array((tmp / "ok").string(), "extra/ids", "int64", 3), at::arange(3, at::kLong) * 7));
  EXPECT_EQ(d.graph.num_edges(), 3);
  EXPECT_EQ(d.train_idx.numel(), 1);
  EXPECT_EQ(d.valid_idx.numel(), 1);
  EXPECT_EQ(d.test_idx.numel(), 1);
  EXPECT_EQ(d.labels[0].item<int64_t>(), 1);
}

TEST(Generate, RefusesBadArgumentsAndExistingOutput) {
  const fs::path tmp = testing::fresh_temp_dir("generate-bad");
  EXPECT_EQ(testing::run_ripple("generate --kind grid --out " + (tmp / "x").string()).exit_code, 2);
  EXPECT_EQ(testing::run_ripple("generate --nodes 0 --out " + (tmp / "y").string()).exit_code, 2);
  EXPECT_EQ(testing::run_ripple("generate --format parquet --out " + (tmp / "y").string()).exit_code, 2);
  EXPECT_EQ(testing::run_ripple("generate --kind csbm --p-in 1.5 --out " + (tmp / "y").string()).exit_code, 2);
  EXPECT_EQ(testing::run_ripple("generate --feature-dtype float16 --out " + (tmp / "y").string()).exit_code, 2);
  EXPECT_FALSE(fs::exists(tmp / "y"));
  EXPECT_FALSE(fs::exists(tmp / "x"));
  fs::create_directories(tmp / "exists");
  const auto r = testing::run_ripple("generate --out " + (tmp / "exists").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("already exists"), std::string::npos) << r.output;
  // No partial directories are left beside the output.
  for (const auto& e : fs::directory_iterator(tmp)) {
    EXPECT_EQ(e.path().filename().string().find(".partial"), std::string::npos) << e.path();
  }
}

}  // namespace
}  // namespace ripple
