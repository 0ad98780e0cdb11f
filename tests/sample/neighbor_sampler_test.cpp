// Neighbour sampling against its definition: blocks chain, every sampled edge exists, counts
// follow the fanouts, draws are uniform (or follow the weights) and do not depend on the
// number of threads.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <map>
#include <set>

#include "ripple/dataset.h"
#include "ripple/error.h"
#include "ripple/sample.h"
#include "support/allocation_probe.h"
#include "support/cli.h"

namespace ripple {
namespace {

const Graph& cora_graph() {
  static const Graph g = load_ogb_node_dataset(testing::source_path("data/cora")).graph;
  return g;
}

// A star: node 0 has in-edges from nodes 1..n.
Graph star(int64_t n) {
  const at::Tensor src = at::arange(1, n + 1, at::kLong), dst = at::zeros({n}, at::kLong);
  return Graph::from_edges(n + 1, src, dst);
}

SamplerOptions options(std::vector<int64_t> fanouts, bool replace = false, uint64_t seed = 7) {
  SamplerOptions o;
  o.fanouts = std::move(fanouts);
  o.replace = replace;
  o.seed = seed;
  return o;
}

TEST(NeighborSampler, BlocksChainAndEverySampledEdgeExists) {
  const Graph& g = cora_graph();
  const at::Tensor seeds = at::arange(0, 2708, 13, at::kLong);
  const SampledBatch b = sample_neighbors(g, seeds, options({5, 3, 2}), 0);
  ASSERT_EQ(b.blocks.size(), 3u);
  EXPECT_TRUE(at::equal(b.blocks.back().src_nodes.slice(0, 0, seeds.numel()), seeds));
  EXPECT_EQ(b.blocks.back().num_dst(), seeds.numel());
  for (size_t l = 0; l + 1 < b.blocks.size(); ++l) {  // layer l's outputs are layer l+1's inputs
    EXPECT_EQ(b.blocks[l].num_dst(), b.blocks[l + 1].num_src());
    EXPECT_TRUE(at::equal(b.blocks[l].src_nodes.slice(0, 0, b.blocks[l].num_dst()), b.blocks[l + 1].src_nodes));
  }
  const at::Tensor ptr = g.csc_indptr(), idx = g.csc_indices(), deg = g.in_degrees();
  const std::vector<int64_t> fanout_of_layer = {2, 3, 5};  // input layer first
  for (size_t l = 0; l < b.blocks.size(); ++l) {
    const Block& blk = b.blocks[l];
    const at::Tensor bp = blk.graph.csc_indptr(), bi = blk.graph.csc_indices();
    EXPECT_EQ(std::get<0>(at::_unique(blk.src_nodes)).numel(), blk.num_src()) << "src_nodes must be distinct";
    for (int64_t v = 0; v < blk.num_dst(); ++v) {
      const int64_t gv = blk.src_nodes[v].item<int64_t>();
      const int64_t n = bp[v + 1].item<int64_t>() - bp[v].item<int64_t>();
      EXPECT_EQ(n, std::min(fanout_of_layer[l], deg[gv].item<int64_t>()));
      std::set<int64_t> seen;
      for (int64_t j = bp[v].item<int64_t>(); j < bp[v + 1].item<int64_t>(); ++j) {
        const int64_t e = blk.edge_ids[j].item<int64_t>();
        // The edge enters gv in the full graph, and its source is the block's source.
        EXPECT_GE(e, ptr[gv].item<int64_t>());
        EXPECT_LT(e, ptr[gv + 1].item<int64_t>());
        EXPECT_EQ(idx[e].item<int64_t>(), blk.src_nodes[bi[j].item<int64_t>()].item<int64_t>());
        EXPECT_TRUE(seen.insert(e).second) << "an edge drawn twice without replacement";
      }
    }
  }
}

TEST(NeighborSampler, FanoutMinusOneKeepsTheWholeNeighbourhood) {
  const Graph& g = cora_graph();
  const at::Tensor seeds = at::tensor({5, 100, 1000}, at::kLong);
  const SampledBatch b = sample_neighbors(g, seeds, options({-1}), 3);
  const Block& blk = b.blocks[0];
  for (int64_t v = 0; v < 3; ++v) {
    const int64_t s = seeds[v].item<int64_t>();
    EXPECT_TRUE(at::equal(blk.edge_ids.slice(0, blk.graph.csc_indptr()[v].item<int64_t>(),
                                             blk.graph.csc_indptr()[v + 1].item<int64_t>()),
                          at::arange(g.csc_indptr()[s].item<int64_t>(), g.csc_indptr()[s + 1].item<int64_t>(), at::kLong)));
  }
}

TEST(NeighborSampler, SameKeysGiveTheSameBatchWhateverTheThreadCount) {
  const Graph& g = cora_graph();
  const at::Tensor seeds = at::randperm(2708, at::TensorOptions().dtype(at::kLong)).slice(0, 0, 600);
  for (bool replace : {false, true}) {
    const int threads = at::get_num_threads();
    at::set_num_threads(1);
    const SampledBatch a = sample_neighbors(g, seeds, options({10, 5}, replace), 4);
    at::set_num_threads(2);
    const SampledBatch b = sample_neighbors(g, seeds, options({10, 5}, replace), 4);
    const SampledBatch other_epoch = sample_neighbors(g, seeds, options({10, 5}, replace), 5);
    at::set_num_threads(threads);
    for (size_t l = 0; l < 2; ++l) {
      EXPECT_TRUE(at::equal(a.blocks[l].src_nodes, b.blocks[l].src_nodes));
      EXPECT_TRUE(at::equal(a.blocks[l].edge_ids, b.blocks[l].edge_ids));
      EXPECT_TRUE(at::equal(a.blocks[l].graph.csc_indices(), b.blocks[l].graph.csc_indices()));
    }
    EXPECT_FALSE(at::equal(a.blocks[1].edge_ids, other_epoch.blocks[1].edge_ids));
  }
  // A node's sample does not depend on the other seeds of its batch.
  const SampledBatch whole = sample_neighbors(g, seeds, options({4}), 9);
  const SampledBatch one = sample_neighbors(g, seeds.slice(0, 17, 18), options({4}), 9);
  const at::Tensor ptr = whole.blocks[0].graph.csc_indptr();
  EXPECT_TRUE(at::equal(one.blocks[0].edge_ids, whole.blocks[0].edge_ids.slice(0, ptr[17].item<int64_t>(),
                                                                                ptr[18].item<int64_t>())));
}

// Chi-square statistic of counts against equal expectation.
double chi_square(const std::vector<int64_t>& counts) {
  double total = 0;
  for (int64_t c : counts) total += static_cast<double>(c);
  const double expected = total / static_cast<double>(counts.size());
  double chi = 0;
  for (int64_t c : counts) chi += (c - expected) * (c - expected) / expected;
  return chi;
}

TEST(NeighborSampler, DrawsAreUniformWithAndWithoutReplacement) {
  const int64_t n = 100;
  const Graph g = star(n);
  for (const auto& [fanout, replace] : {std::pair<int64_t, bool>{10, false}, {60, false}, {10, true}}) {
    std::vector<int64_t> counts(n, 0);
    for (int64_t epoch = 0; epoch < 2000; ++epoch) {
      const SampledBatch b = sample_neighbors(g, at::tensor({int64_t{0}}, at::kLong), options({fanout}, replace), epoch);
      const at::Tensor e = b.blocks[0].edge_ids;
      ASSERT_EQ(e.numel(), fanout);
      for (int64_t j = 0; j < e.numel(); ++j) ++counts[e[j].item<int64_t>()];
    }
    // 99 degrees of freedom: the 99.9% quantile is 148.2, the 0.1% quantile 58.8. Without
    // replacement each draw takes `fanout` of 100 distinct sources, which shrinks the
    // variance by the finite-population factor (1 - fanout / 100). Fixed seeds, so this is
    // exact and repeatable; a biased sampler (say, one favouring low positions) fails it.
    const double chi = chi_square(counts) / (replace ? 1.0 : 1.0 - static_cast<double>(fanout) / n);
    EXPECT_LT(chi, 148.2) << "fanout " << fanout << " replace " << replace;
    EXPECT_GT(chi, 58.8) << "suspiciously even: not random? fanout " << fanout << " replace " << replace;
  }
}

TEST(NeighborSampler, WeightedDrawsFollowTheWeights) {
  const int64_t n = 40;
  const Graph g = star(n);
  // Weights 0 for the first ten sources, 1 for the next twenty, 3 for the last ten.
  at::Tensor w = at::ones({n}, at::kFloat);
  w.slice(0, 0, 10).zero_();
  w.slice(0, 30, 40).fill_(3.0f);
  const at::Tensor weights = w.index_select(0, g.input_edge_ids());  // CSC order
  for (bool replace : {true, false}) {
    std::vector<int64_t> counts(n, 0);
    for (int64_t epoch = 0; epoch < 3000; ++epoch) {
      const SampledBatch b = sample_neighbors(g, at::tensor({int64_t{0}}, at::kLong), options({5}, replace), epoch, weights);
      const at::Tensor e = b.blocks[0].edge_ids;
      ASSERT_EQ(e.numel(), 5);
      for (int64_t j = 0; j < 5; ++j) ++counts[g.csc_indices()[e[j].item<int64_t>()].item<int64_t>() - 1];
    }
    double light = 0, heavy = 0;
    for (int64_t s = 0; s < 10; ++s) EXPECT_EQ(counts[s], 0) << "zero-weight source " << s + 1 << " drawn";
    for (int64_t s = 10; s < 30; ++s) light += counts[s];
    for (int64_t s = 30; s < 40; ++s) heavy += counts[s];
    const double ratio = (heavy / 10) / (light / 20);
    if (replace) {
      EXPECT_NEAR(ratio, 3.0, 0.2);  // with replacement, frequency is proportional to weight
    } else {
      EXPECT_GT(ratio, 2.0);  // without replacement heavy edges saturate, so less than 3
      EXPECT_LT(ratio, 3.0);
    }
  }
  // Only zero weights: nothing to draw.
  const SampledBatch none = sample_neighbors(g, at::tensor({int64_t{0}}, at::kLong), options({5}), 0,
                                             at::zeros({n}, at::kFloat));
  EXPECT_EQ(none.blocks[0].graph.num_edges(), 0);
}

TEST(NeighborSampler, BadArgumentsAreInputErrors) {
  const Graph& g = cora_graph();
  const at::Tensor seeds = at::tensor({1, 2}, at::kLong);
  auto message = [&](auto&& fn) {
    try {
      fn();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message([&] { sample_neighbors(g, seeds, options({5, 0}), 0); }).find("sampler.fanouts[1]"), std::string::npos);
  EXPECT_NE(message([&] { sample_neighbors(g, seeds, options({}), 0); }).find("at least one hop"), std::string::npos);
  EXPECT_NE(message([&] { sample_neighbors(g, at::tensor({1, 2708}, at::kLong), options({5}), 0); }).find("out of range"),
            std::string::npos);
  EXPECT_NE(message([&] { sample_neighbors(g, at::tensor({3, 3}, at::kLong), options({5}), 0); }).find("appears twice"),
            std::string::npos);
  EXPECT_NE(message([&] { sample_neighbors(g, seeds, options({5}), 0, at::ones({7}, at::kFloat)); }).find("edge_weights"),
            std::string::npos);
  at::Tensor negative = at::ones({g.num_edges()}, at::kFloat);
  negative.fill_(-1.0f);
  EXPECT_NE(message([&] { sample_neighbors(g, seeds, options({5}), 0, negative); }).find("non-negative"), std::string::npos);
  // After errors the per-thread scratch is clean: a valid call still works and is exact.
  const SampledBatch b = sample_neighbors(g, seeds, options({-1}), 0);
  EXPECT_EQ(b.blocks[0].graph.num_edges(), (g.in_degrees()[1] + g.in_degrees()[2]).item<int64_t>());
}

// Regression: the sampler converted the whole CSC to int64 on every call (1.6 GB per batch
// on a 200M-edge int32 graph). It now reads the graph's own index type in place: on an
// int32 graph of 2M edges, sampling 8 seeds allocates nothing near the graph's size, and
// gives the same blocks as on the int64 copy of the graph.
TEST(NeighborSampler, Int32GraphIsSampledInPlaceWithoutACopyOfTheCsc) {
  const int64_t n = 200000, per_node = 10;
  const at::Tensor dst = at::arange(n, at::kLong).repeat_interleave(per_node);
  const at::Tensor src = (dst * 7919 + at::arange(per_node, at::kLong).repeat({n}) * 104729 + 1) % n;
  const Graph g64 = Graph::from_edges(n, src, dst);
  const Graph g32 = g64.with_index_type(true);
  ASSERT_EQ(g32.index_type(), at::kInt);
  const at::Tensor seeds = at::tensor({5, 17, 4242, 99999, 123456, 7, 8, 199999}, at::kLong);
  SamplerOptions o = options({4, 3});
  o.parallel = false;
  sample_neighbors(g32, seeds, o, 0);  // sizes the per-thread scratch outside the probe
  size_t largest = 0;
  SampledBatch b32;
  {
    testing::AllocationProbe probe;
    b32 = sample_neighbors(g32, seeds, o, 0);
    largest = probe.largest_bytes();
  }
  EXPECT_LT(largest, size_t{64} << 10) << "a whole-CSC copy would be " << g32.num_edges() * 8 << " bytes";
  const SampledBatch b64 = sample_neighbors(g64, seeds, o, 0);
  ASSERT_EQ(b32.blocks.size(), b64.blocks.size());
  for (size_t l = 0; l < b32.blocks.size(); ++l) {
    EXPECT_TRUE(at::equal(b32.blocks[l].src_nodes, b64.blocks[l].src_nodes));
    EXPECT_TRUE(at::equal(b32.blocks[l].edge_ids, b64.blocks[l].edge_ids));
    EXPECT_TRUE(at::equal(b32.blocks[l].graph.csc_indices(), b64.blocks[l].graph.csc_indices()));
  }
}

}  // namespace
}  // namespace ripple
