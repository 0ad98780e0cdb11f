// The prefetching loader: every seed once per epoch, in batches delivered in order, with the
// right features and labels, identical for any number of workers; errors reach the consumer.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "ripple/dataset.h"
#include "ripple/error.h"
#include "ripple/loader.h"
#include "support/cli.h"
#include "support/cora.h"

namespace ripple {
namespace {

using testing::cora;

LoaderOptions loader_options(int64_t workers, int64_t batch_size = 100) {
  LoaderOptions o;
  o.sampler.fanouts = {5, 3};
  o.sampler.seed = 11;
  o.batch_size = batch_size;
  o.workers = workers;
  o.prefetch = 2;
  return o;
}

std::vector<LoadedBatch> run_epoch(NeighborLoader& loader, int64_t epoch) {
  loader.start_epoch(epoch);
  std::vector<LoadedBatch> out;
  while (auto b = loader.next()) out.push_back(std::move(*b));
  return out;
}

TEST(NeighborLoader, EverySeedOnceWithItsFeaturesAndLabels) {
  const NodeDataset& d = cora();
  NeighborLoader loader(d.graph, d.features, d.labels, d.train_idx, loader_options(2, 32));
  EXPECT_EQ(loader.num_batches(), 5);  // 140 seeds
  const std::vector<LoadedBatch> batches = run_epoch(loader, 0);
  ASSERT_EQ(batches.size(), 5u);
  std::vector<at::Tensor> seeds;
  for (size_t i = 0; i < batches.size(); ++i) {
    const LoadedBatch& b = batches[i];
    EXPECT_EQ(b.index, static_cast<int64_t>(i));
    EXPECT_EQ(b.sample.seeds.numel(), i < 4 ? 32 : 12);
    EXPECT_TRUE(at::equal(b.features, d.features.index_select(0, b.sample.input_nodes())));
    EXPECT_TRUE(at::equal(b.labels, d.labels.index_select(0, b.sample.seeds)));
    seeds.push_back(b.sample.seeds);
  }
  EXPECT_TRUE(at::equal(std::get<0>(at::cat(seeds).sort()), std::get<0>(d.train_idx.sort())));
  EXPECT_FALSE(at::equal(at::cat(seeds), d.train_idx)) << "shuffled";
}

TEST(NeighborLoader, BatchesDoNotDependOnTheNumberOfWorkers) {
  const NodeDataset& d = cora();
  NeighborLoader one(d.graph, d.features, d.labels, d.test_idx, loader_options(1));
  NeighborLoader three(d.graph, d.features, d.labels, d.test_idx, loader_options(3));
  NeighborLoader inline_batches(d.graph, d.features, d.labels, d.test_idx, loader_options(0));  // in next()
  for (int64_t epoch : {0, 1}) {
    const auto a = run_epoch(one, epoch);
    for (NeighborLoader* other : {&three, &inline_batches}) {
      const auto b = run_epoch(*other, epoch);
      ASSERT_EQ(a.size(), b.size());
      for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(b[i].index, static_cast<int64_t>(i));
        EXPECT_TRUE(at::equal(a[i].sample.seeds, b[i].sample.seeds));
        EXPECT_TRUE(at::equal(a[i].sample.input_nodes(), b[i].sample.input_nodes()));
        EXPECT_TRUE(at::equal(a[i].features, b[i].features));
        EXPECT_TRUE(at::equal(a[i].labels, b[i].labels));
      }
    }
  }
  const auto e0 = run_epoch(one, 0), e1 = run_epoch(one, 1);
  EXPECT_FALSE(at::equal(e0[0].sample.seeds, e1[0].sample.seeds)) << "each epoch reshuffles";
}

TEST(NeighborLoader, ReducedPrecisionFeaturesAreGatheredAsFloat32) {
  const NodeDataset& d = cora();
  const at::Tensor half = d.features.to(at::kHalf);
  const at::Tensor nodes = at::tensor({7, 0, 2707, 7}, at::kLong);
  EXPECT_TRUE(at::equal(gather_rows(half, nodes), half.index_select(0, nodes).to(at::kFloat)));
  EXPECT_TRUE(at::equal(gather_rows(d.features.to(at::kBFloat16), nodes),
                        d.features.to(at::kBFloat16).index_select(0, nodes).to(at::kFloat)));
  // Many rows, split over the intra-op pool; 1433 columns also exercise the tail after
  // the 8-wide float16 conversion. Values beyond the 0/1 of Cora's bag of words too.
  const at::Tensor many = at::remainder(at::arange(0, 9000, at::kLong) * 7919, 2708);
  const at::Tensor wide = (d.features * 3.7f - 1.3f).to(at::kHalf);
  const int threads = at::get_num_threads();
  at::set_num_threads(2);  // ctest runs with one thread: split the rows for real
  for (bool parallel : {false, true}) {
    EXPECT_TRUE(at::equal(gather_rows(wide, many, parallel), wide.index_select(0, many).to(at::kFloat)));
    EXPECT_TRUE(at::equal(gather_rows(d.features, many, parallel), d.features.index_select(0, many)));
  }
  at::set_num_threads(threads);
}

TEST(NeighborLoader, WorkerErrorsReachTheConsumerAndStoppingEarlyDoesNotHang) {
  const NodeDataset& d = cora();
  LoaderOptions o = loader_options(2);
  o.edge_weights = at::full({d.graph.num_edges()}, -1.0f);
  NeighborLoader bad(d.graph, d.features, d.labels, d.test_idx, o);
  bad.start_epoch(0);
  EXPECT_THROW(bad.next(), InputError);
  {
    NeighborLoader early(d.graph, d.features, d.labels, d.test_idx, loader_options(2, 10));
    early.start_epoch(0);
    ASSERT_TRUE(early.next().has_value());
  }  // destroyed with batches still being prepared
  EXPECT_THROW(NeighborLoader(d.graph, d.features, d.labels, d.test_idx, loader_options(-1)), InputError);
}

}  // namespace
}  // namespace ripple

namespace ripple {
namespace {

TEST(SamplerBench, ReportsSeedsPerSecondEpochTimesAndRefusesBadSettings) {
  auto r = testing::run_ripple("bench --dataset " + testing::source_path("data/cora") +
                               " --sampler --fanouts 10,5 --batch-size 32 --workers 1,2 --epochs 2 --warmup 0 --output json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int rows = 0;
  for (size_t pos = 0; (pos = r.output.find("\"seeds_per_second\":", pos)) != std::string::npos; ++pos) {
    const double v = std::stod(r.output.substr(pos + 19));
    EXPECT_GT(v, 0.0) << r.output;
    ++rows;
  }
  EXPECT_EQ(rows, 2) << r.output;
  EXPECT_NE(r.output.find("\"seeds\":140"), std::string::npos) << r.output;  // Cora's public training split
  r = testing::run_ripple("bench --dataset " + testing::source_path("data/cora") +
                          " --sampler --model sage,gcn --fanouts 10,5 --batch-size 32 --epochs 2 --warmup 0 --output json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  rows = 0;
  for (size_t pos = 0; (pos = r.output.find("\"epoch_ms_median\":", pos)) != std::string::npos; ++pos) {
    EXPECT_GT(std::stod(r.output.substr(pos + 18)), 0.0) << r.output;
    ++rows;
  }
  EXPECT_EQ(rows, 2) << r.output;
  EXPECT_NE(r.output.find("\"model\":\"gcn\""), std::string::npos) << r.output;
  r = testing::run_ripple("bench --dataset " + testing::source_path("data/cora") + " --sampler --model appnp");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("mini-batch training supports"), std::string::npos) << r.output;
  r = testing::run_ripple("bench --dataset " + testing::source_path("data/cora") + " --sampler --fanouts 10,0");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("sampler.fanouts[1]"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace ripple
