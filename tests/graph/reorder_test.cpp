// Locality reordering: permutations are valid, each method does what it promises, and a
// permuted dataset gives the same model outputs up to the permutation.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/torch.h>

#include <set>

#include "ripple/dataset.h"
#include "ripple/error.h"
#include "ripple/model.h"
#include "ripple/native_dataset.h"
#include "ripple/reorder.h"
#include "support/cli.h"

namespace ripple {
namespace {

namespace fs = std::filesystem;

bool is_permutation(const at::Tensor& p) {
  return at::equal(std::get<0>(p.sort()), at::arange(p.numel(), at::kLong));
}

// Largest |new_id[u] - new_id[v]| over edges.
int64_t bandwidth(const Graph& g) {
  return (g.coo().src.to(at::kLong) - g.coo().dst.to(at::kLong)).abs().max().item<int64_t>();
}

Graph shuffled_path(int64_t n) {
  // A path 0-1-2-...-(n-1), both directions, under a fixed scrambling of ids.
  const at::Tensor scramble = at::arange(n, at::kLong).mul(7).remainder(n);  // 7 is coprime with n
  const at::Tensor a = scramble.slice(0, 0, n - 1), b = scramble.slice(0, 1, n);
  return Graph::from_edges(n, at::cat({a, b}), at::cat({b, a}));
}

TEST(Reorder, EveryMethodGivesAPermutation) {
  const Graph g = shuffled_path(100);
  for (const char* m : {"none", "random", "degree", "rcm"}) {
    const at::Tensor p = reorder_permutation(g, m, 3);
    ASSERT_EQ(p.numel(), 100) << m;
    EXPECT_TRUE(is_permutation(p)) << m;
  }
  EXPECT_TRUE(at::equal(reorder_permutation(g, "none"), at::arange(100, at::kLong)));
  EXPECT_THROW(reorder_permutation(g, "metis-ish"), InputError);
}

TEST(Reorder, RcmRecoversAPathsBandwidthOfOne) {
  const Graph g = shuffled_path(101);
  EXPECT_GT(bandwidth(g), 50);
  EXPECT_EQ(bandwidth(relabel_nodes(g, reorder_permutation(g, "rcm"))), 1);
}

TEST(Reorder, DegreeOrderPutsHubsFirst) {
  // Node 5 receives from everyone, node 2 from three nodes, the rest from one.
  std::vector<int64_t> src, dst;
  for (int64_t u = 0; u < 10; ++u) {
    if (u != 5) src.push_back(u), dst.push_back(5);
  }
  for (int64_t u : {0, 1, 3}) src.push_back(u), dst.push_back(2);
  for (int64_t v : {0, 1, 3, 4, 6, 7, 8, 9}) src.push_back(5), dst.push_back(v);
  const Graph g = Graph::from_edges(10, at::tensor(src), at::tensor(dst));
  const at::Tensor p = reorder_permutation(g, "degree");
  EXPECT_EQ(p[5].item<int64_t>(), 0);
  EXPECT_EQ(p[2].item<int64_t>(), 1);
  const at::Tensor deg = relabel_nodes(g, p).in_degrees();
  EXPECT_TRUE(at::equal(deg, std::get<0>(deg.sort(0, /*descending=*/true))));
}

TEST(Reorder, RelabelKeepsEdgesAndIndexType) {
  const Graph g = shuffled_path(40).with_index_type(true);
  const at::Tensor p = reorder_permutation(g, "random", 9);
  const Graph r = relabel_nodes(g, p);
  EXPECT_EQ(r.index_type(), at::kInt);
  EXPECT_EQ(r.num_edges(), g.num_edges());
  std::set<std::pair<int64_t, int64_t>> expected, got;
  for (int64_t i = 0; i < g.num_edges(); ++i) {
    expected.insert({p[g.coo().src[i].item<int64_t>()].item<int64_t>(), p[g.coo().dst[i].item<int64_t>()].item<int64_t>()});
    got.insert({r.coo().src[i].item<int64_t>(), r.coo().dst[i].item<int64_t>()});
  }
  EXPECT_EQ(expected, got);
}

// Evaluation-mode logits of a seeded model, as a function of the dataset.
at::Tensor logits_of(const NodeDataset& d, const std::string& model) {
  ModelConfig mc;
  mc.name = model;
  mc.heads = 2;
  torch::manual_seed(11);
  NodeModel m(mc, d.num_features(), d.num_classes);
  m->eval();
  torch::NoGradGuard no_grad;
  nn::GraphCache cache(d.graph);
  nn::ForwardContext ctx;
  return m->forward(cache, nn::Features::from_dense(d.features, 0.1), ctx);
}

TEST(Reorder, PermutedCoraGivesTheSameOutputsUpToThePermutation) {
  const NodeDataset cora = load_ogb_node_dataset(testing::source_path("data/cora"));
  for (const char* method : {"rcm", "degree"}) {
    const at::Tensor p = reorder_permutation(cora.graph, method);
    const NodeDataset permuted = permute_dataset(cora, p);
    EXPECT_TRUE(at::equal(permuted.labels.index_select(0, p), cora.labels));
    EXPECT_TRUE(at::equal(permuted.features.index_select(0, p), cora.features));
    EXPECT_TRUE(at::equal(permuted.train_idx, std::get<0>(p.index_select(0, cora.train_idx).sort())));
    for (const char* model : {"gcn", "gat", "sage"}) {
      const at::Tensor a = logits_of(cora, model), b = logits_of(permuted, model).index_select(0, p);
      EXPECT_TRUE(at::allclose(a, b, 1e-4, 1e-5)) << method << " " << model << " max diff "
                                                  << (a - b).abs().max().item<double>();
    }
  }
}

TEST(Convert, WritesAReorderedDatasetThatLoads) {
  const fs::path tmp = testing::fresh_temp_dir("convert");
  const auto r = testing::run_ripple("convert --in " + testing::source_path("data/cora") + " --out " +
                                     (tmp / "cora-rcm").string() + " --reorder rcm --format ogb");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const NodeDataset a = load_ogb_node_dataset(testing::source_path("data/cora"));
  const NodeDataset b = load_ogb_node_dataset((tmp / "cora-rcm").string());
  EXPECT_EQ(b.num_nodes(), a.num_nodes());
  EXPECT_EQ(b.graph.num_edges(), a.graph.num_edges());
  EXPECT_EQ(b.train_idx.numel(), a.train_idx.numel());
  // The mapping file takes old ids to new ones; features and labels follow it exactly.
  const at::Tensor p = reorder_permutation(a.graph, "rcm");
  EXPECT_TRUE(at::equal(b.features.index_select(0, p), a.features));
  EXPECT_TRUE(at::equal(b.labels.index_select(0, p), a.labels));
  EXPECT_TRUE(fs::exists(tmp / "cora-rcm" / "mapping" / "new-id.csv.gz"));
  EXPECT_LT(bandwidth(b.graph), bandwidth(a.graph));

  // The native format (the default) carries the mapping as an array.
  const auto n = testing::run_ripple("convert --in " + testing::source_path("data/cora") + " --out " +
                                     (tmp / "cora-rcm-native").string() + " --reorder rcm");
  ASSERT_EQ(n.exit_code, 0) << n.output;
  const NodeDataset c = load_node_dataset((tmp / "cora-rcm-native").string());
  EXPECT_TRUE(at::equal(c.features.index_select(0, p), a.features));
  EXPECT_TRUE(at::equal(c.graph.csc_indices(), b.graph.csc_indices()));
  const NativeHeader h = read_native_header((tmp / "cora-rcm-native").string());
  ASSERT_NE(h.find("mapping/new_id"), nullptr);
  EXPECT_EQ(h.find("mapping/new_id")->shape, std::vector<int64_t>{2708});
}

TEST(Convert, RefusesBadArgumentsAndLeavesNothingBehind) {
  const fs::path tmp = testing::fresh_temp_dir("convert-bad");
  const std::string cora = testing::source_path("data/cora");
  auto r = testing::run_ripple("convert --in " + cora + " --out " + (tmp / "x").string() + " --reorder sideways");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--reorder"), std::string::npos) << r.output;
  r = testing::run_ripple("convert --in " + (tmp / "missing").string() + " --out " + (tmp / "y").string());
  EXPECT_EQ(r.exit_code, 2);
  fs::create_directories(tmp / "exists");
  r = testing::run_ripple("convert --in " + cora + " --out " + (tmp / "exists").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("already exists"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(tmp / "x"));
  EXPECT_FALSE(fs::exists(tmp / "y"));
  for (const auto& e : fs::directory_iterator(tmp)) {
    EXPECT_EQ(e.path().filename().string().find(".partial"), std::string::npos) << e.path();
  }
}

}  // namespace
}  // namespace ripple
