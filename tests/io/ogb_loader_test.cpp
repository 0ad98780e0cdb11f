// The OGB raw-layout loader on the embedded datasets: statistics from their READMEs.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "ripple/dataset.h"
#include "ripple/error.h"
#include "support/cli.h"

namespace ripple {
namespace {

TEST(OgbLoader, CoraMatchesPublishedStatistics) {
  const NodeDataset d = load_ogb_node_dataset(testing::source_path("data/cora"));
  EXPECT_EQ(d.num_nodes(), 2708);
  EXPECT_EQ(d.graph.num_edges(), 10556);
  EXPECT_EQ(d.num_features(), 1433);
  EXPECT_EQ(d.num_classes, 7);
  EXPECT_EQ((d.features != 0).sum().item<int64_t>(), 49216);
  EXPECT_EQ(d.train_idx.numel(), 140);
  EXPECT_EQ(d.valid_idx.numel(), 500);
  EXPECT_EQ(d.test_idx.numel(), 1000);
  EXPECT_TRUE(d.graph.flags().symmetric);
  EXPECT_FALSE(d.graph.flags().has_self_loops);
  const std::vector<int64_t> per_class{351, 217, 418, 818, 426, 298, 180};
  const at::Tensor counts = at::bincount(d.labels);
  for (int c = 0; c < 7; ++c) EXPECT_EQ(counts[c].item<int64_t>(), per_class[c]);
}

TEST(OgbLoader, CiteSeerMatchesPublishedStatistics) {
  const NodeDataset d = load_ogb_node_dataset(testing::source_path("data/citeseer"));
  EXPECT_EQ(d.num_nodes(), 3327);
  EXPECT_EQ(d.graph.num_edges(), 9104);
  EXPECT_EQ(d.num_features(), 3703);
  EXPECT_EQ(d.num_classes, 6);
  EXPECT_EQ(d.train_idx.numel(), 120);
  const at::Tensor isolated = (d.graph.in_degrees() + d.graph.out_degrees()) == 0;
  EXPECT_EQ(isolated.sum().item<int64_t>(), 48);
}

TEST(OgbLoader, UnknownSplitIsAnInputError) {
  try {
    load_ogb_node_dataset(testing::source_path("data/cora"), "random");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("split/random: split directory not found"), std::string::npos) << e.what();
  }
}

TEST(OgbLoader, InfoCommandPrintsStatistics) {
  const auto r = testing::run_ripple("info " + testing::source_path("data/cora"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("nodes          2708"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("train 140, valid 500, test 1000"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace ripple
