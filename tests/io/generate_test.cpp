// `ripple generate`: seeded, loadable by the OGB loader, complete-or-absent output.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "ripple/dataset.h"
#include "ripple/generate.h"
#include "support/cli.h"

namespace ripple {
namespace {

namespace fs = std::filesystem;

TEST(Generate, WritesALoadableDatasetDeterministically) {
  const fs::path tmp = testing::fresh_temp_dir("generate");
  for (const char* kind : {"rmat", "uniform"}) {
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
  }
  // RMAT is skewed: its largest in-degree is far above the uniform graph's.
  const NodeDataset r = load_ogb_node_dataset((tmp / "rmat_a").string(), "random");
  const NodeDataset u = load_ogb_node_dataset((tmp / "uniform_a").string(), "random");
  EXPECT_GT(r.graph.in_degrees().max().item<int64_t>(), 2 * u.graph.in_degrees().max().item<int64_t>());
}

TEST(Generate, RefusesBadArgumentsAndExistingOutput) {
  const fs::path tmp = testing::fresh_temp_dir("generate-bad");
  EXPECT_EQ(testing::run_ripple("generate --kind grid --out " + (tmp / "x").string()).exit_code, 2);
  EXPECT_EQ(testing::run_ripple("generate --nodes 0 --out " + (tmp / "y").string()).exit_code, 2);
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
