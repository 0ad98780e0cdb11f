// NCN's link predictor (src/tasks/ncn_decoder.h) against a dense reference written from
// the layout its header documents, forward and backward; and the graph a batch reads under
// link.mask_targets (LinkDataset::message_graph_without, cut from the full graph or rebuilt).
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/nn/modules/normalization.h>
#include <torch/utils.h>

#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ripple/graph.h"
#include "ripple/link_dataset.h"
#include "ripple/nn/context.h"
#include "tasks/ncn_decoder.h"

namespace ripple {
namespace {

constexpr int64_t kNodes = 14, kWidth = 6;

// A seeded random undirected graph without self loops, as [2, E] with each edge once.
at::Tensor random_edges(uint64_t seed) {
  at::manual_seed(seed);
  const at::Tensor a = at::rand({kNodes, kNodes}) < 0.35;
  const at::Tensor upper = at::triu(a, 1).nonzero().t().contiguous();
  return upper;
}

at::Tensor dense_adjacency(const at::Tensor& edges) {
  at::Tensor a = at::zeros({kNodes, kNodes});
  for (int64_t e = 0; e < edges.size(1); ++e) {
    const int64_t u = edges[0][e].item<int64_t>(), v = edges[1][e].item<int64_t>();
    a[u][v] = 1;
    a[v][u] = 1;
  }
  return a;
}

// The parameter `name` of `m` (e.g. "cn_in.weight").
at::Tensor param(const torch::nn::Module& m, const std::string& name) { return m.named_parameters()[name]; }

at::Tensor reference_linear(const torch::nn::Module& m, const std::string& name, const at::Tensor& x) {
  return x.matmul(param(m, name + ".weight").t()) + param(m, name + ".bias");
}

at::Tensor reference_layer_norm(const torch::nn::Module& m, const std::string& name, const at::Tensor& x) {
  const at::Tensor mean = x.mean(1, true);
  const at::Tensor var = (x - mean).pow(2).mean(1, true);
  return (x - mean) / (var + 1e-5).sqrt() * param(m, name + ".weight") + param(m, name + ".bias");
}

// The header's layout, without dropout (evaluation), with a dense adjacency `a`.
at::Tensor reference_scores(const torch::nn::Module& m, const at::Tensor& h, const at::Tensor& pairs,
                            const at::Tensor& a, int64_t layers, bool tail_activation) {
  auto lin = [&](const std::string& n, const at::Tensor& x) { return reference_linear(m, n, x); };
  auto ln = [&](const std::string& n, const at::Tensor& x) { return reference_layer_norm(m, n, x); };
  const at::Tensor rows = h + at::relu(ln("node_norm", lin("node_out", at::relu(lin("node_in", h)))));
  const at::Tensor u = pairs[0], v = pairs[1];
  const at::Tensor both = a.index_select(0, u) * a.index_select(0, v);  // [B, N]: common neighbours
  const at::Tensor cn = both.matmul(rows);
  at::Tensor pair = at::relu(ln("pair_norm", lin("pair_in", h.index_select(0, u) * h.index_select(0, v))));
  at::Tensor cn_branch = at::relu(ln("cn_norm", lin("cn_out", at::relu(lin("cn_in", cn)))));
  if (!tail_activation) {
    pair = lin("pair_tail", pair);
    cn_branch = lin("cn_tail", cn_branch);
  }
  at::Tensor x = pair + param(m, "beta") * cn_branch;
  for (int64_t i = 0; i + 1 < layers; ++i) {
    x = at::relu(ln("out_norms." + std::to_string(i), lin("out_linears." + std::to_string(i), x)));
  }
  return lin("out_linears." + std::to_string(layers - 1), x).squeeze(1);
}

TEST(NcnDecoder, ScoresAndGradientsMatchADenseReferenceOfItsLayout) {
  const at::Tensor edges = random_edges(3);
  GraphBuildOptions options;
  options.symmetrize = true;
  const Graph graph = Graph::from_edges(kNodes, edges[0], edges[1], options);
  const at::Tensor a = dense_adjacency(edges);
  const at::Tensor pairs = at::stack({at::arange(0, 10, at::kLong), at::arange(4, 14, at::kLong)});
  ASSERT_GT(((a.index_select(0, pairs[0]) * a.index_select(0, pairs[1])).sum(1) > 0).sum().item<int64_t>(), 3)
      << "the graph must give several pairs common neighbours";

  for (const auto& [layers, tail_activation] : {std::pair{1, false}, std::pair{3, false}, std::pair{3, true}}) {
    SCOPED_TRACE(fmt::format("{} layers, tail activation {}", layers, tail_activation));
    torch::manual_seed(7);
    tasks::NcnDecoder decoder(kWidth, layers, 0.4, tail_activation);
    EXPECT_EQ(decoder->named_parameters().contains("cn_tail.weight"), !tail_activation);
    {
      at::NoGradGuard no_grad;  // LayerNorm starts at weight 1, bias 0: move every parameter
      for (auto& p : decoder->parameters()) p.add_(at::randn_like(p) * 0.3);
    }
    decoder->eval();
    const at::Tensor h = at::randn({kNodes, kWidth}).requires_grad_(true);
    const at::Tensor h_ref = h.detach().clone().requires_grad_(true);

    nn::ForwardContext ctx;
    const at::Tensor rows = decoder->neighbour_rows(h, ctx);
    const at::Tensor got = decoder->forward(h, rows, pairs, graph, ctx);
    const at::Tensor want = reference_scores(*decoder, h_ref, pairs, a, layers, tail_activation);
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_TRUE(at::allclose(got, want, 1e-4, 1e-5)) << got << "\n" << want;

    const at::Tensor weights = at::randn({pairs.size(1)});
    (got * weights).sum().backward();
    const at::Tensor grad_got = h.grad(), grad_params = param(*decoder, "cn_in.weight").grad().clone();
    const at::Tensor grad_beta = param(*decoder, "beta").grad().clone();
    decoder->zero_grad();
    (want * weights).sum().backward();
    EXPECT_TRUE(at::allclose(grad_got, h_ref.grad(), 1e-4, 1e-5));
    EXPECT_TRUE(at::allclose(grad_params, param(*decoder, "cn_in.weight").grad(), 1e-4, 1e-5));
    EXPECT_TRUE(at::allclose(grad_beta, param(*decoder, "beta").grad(), 1e-4, 1e-5));
  }
}

TEST(NcnDecoder, TrainingModeDropsOutAndEvaluationDoesNot) {
  const at::Tensor edges = random_edges(5);
  GraphBuildOptions options;
  options.symmetrize = true;
  const Graph graph = Graph::from_edges(kNodes, edges[0], edges[1], options);
  const at::Tensor pairs = at::stack({at::arange(0, 7, at::kLong), at::arange(7, 14, at::kLong)});
  torch::manual_seed(1);
  tasks::NcnDecoder decoder(kWidth, 2, 0.5, false);
  const at::Tensor h = at::randn({kNodes, kWidth});
  auto scores = [&](bool training, int64_t batch) {
    nn::ForwardContext ctx{training, 11, 1, 0, batch};
    return decoder->forward(h, decoder->neighbour_rows(h, ctx), pairs, graph, ctx);
  };
  EXPECT_TRUE(at::equal(scores(false, 0), scores(false, 1)));
  EXPECT_TRUE(at::equal(scores(true, 2), scores(true, 2)));  // counter-based: the same key, the same mask
  EXPECT_FALSE(at::allclose(scores(true, 2), scores(false, 2)));
}

// A link dataset of kNodes nodes whose training edges are `edges`.
LinkDataset dataset_of(const at::Tensor& edges) {
  LinkDataset d;
  d.num_nodes = kNodes;
  d.train_edges = edges;
  return d;
}

TEST(LinkDataset, MessageGraphWithoutABatchDropsExactlyItsEdgesInBothDirections) {
  const LinkDataset d = dataset_of(random_edges(9));
  const int64_t total = d.train_edges.size(1);
  ASSERT_GT(total, 10);
  const at::Tensor removed = at::tensor(std::vector<int64_t>{1, 4, 5, total - 1}, at::kLong);
  const Graph g = d.message_graph_without(removed);

  std::set<std::pair<int64_t, int64_t>> want;
  std::set<int64_t> gone(removed.data_ptr<int64_t>(), removed.data_ptr<int64_t>() + removed.numel());
  for (int64_t e = 0; e < total; ++e) {
    if (gone.count(e) > 0) continue;
    const int64_t u = d.train_edges[0][e].item<int64_t>(), v = d.train_edges[1][e].item<int64_t>();
    want.insert({u, v});
    want.insert({v, u});
  }
  std::set<std::pair<int64_t, int64_t>> got;
  const CooView& coo = g.coo();
  for (int64_t e = 0; e < coo.src.numel(); ++e) {
    got.insert({coo.src[e].item<int64_t>(), coo.dst[e].item<int64_t>()});
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(coo.src.numel(), static_cast<int64_t>(want.size()));
  EXPECT_EQ(g.num_nodes(), kNodes);
  EXPECT_EQ(d.message_graph().num_edges(), 2 * total);
}

// The masked graph cut out of the full message graph against a rebuild from the kept edges:
// the same CSC arrays and flags, for distinct edges (the cut) and for repeated pairs and self
// loops (which fall back to the rebuild).
void expect_cut_equals_rebuild(const LinkDataset& d, const std::vector<int64_t>& removed_rows) {
  const at::Tensor removed = at::tensor(removed_rows, at::kLong);
  const Graph full = d.message_graph();
  const Graph cut = d.message_graph_without(removed, &full);
  const Graph rebuilt = d.message_graph_without(removed);
  EXPECT_TRUE(at::equal(cut.csc_indptr(), rebuilt.csc_indptr()));
  EXPECT_TRUE(at::equal(cut.csc_indices(), rebuilt.csc_indices()));
  EXPECT_EQ(cut.flags().sorted, rebuilt.flags().sorted);
  EXPECT_EQ(cut.flags().deduplicated, rebuilt.flags().deduplicated);
  EXPECT_EQ(cut.flags().has_self_loops, rebuilt.flags().has_self_loops);
  EXPECT_EQ(cut.flags().symmetric, rebuilt.flags().symmetric);
  EXPECT_EQ(cut.num_src(), rebuilt.num_src());
}

TEST(LinkDataset, MessageGraphCutFromTheFullGraphEqualsTheRebuild) {
  LinkDataset d = dataset_of(random_edges(21));
  const int64_t total = d.train_edges.size(1);
  ASSERT_GT(total, 10);
  expect_cut_equals_rebuild(d, {0, 3, total - 1});
  expect_cut_equals_rebuild(d, {2, 2, 7});  // a position twice
  expect_cut_equals_rebuild(d, {});
  std::vector<int64_t> all(static_cast<size_t>(total));
  for (int64_t e = 0; e < total; ++e) all[static_cast<size_t>(e)] = e;
  expect_cut_equals_rebuild(d, all);

  // Self loops: removing the only one clears has_self_loops.
  d.train_edges = at::cat({random_edges(22), at::tensor(std::vector<int64_t>{5, 5}, at::kLong).view({2, 1})}, 1);
  const int64_t loop = d.train_edges.size(1) - 1;
  expect_cut_equals_rebuild(d, {loop});
  expect_cut_equals_rebuild(d, {0, 1});
  EXPECT_FALSE(d.message_graph_without(at::tensor(std::vector<int64_t>{loop}, at::kLong), nullptr).flags().has_self_loops);

  // A pair given twice (once reversed): dropping one copy keeps the pair (the rebuild).
  const at::Tensor base = random_edges(23);
  d.train_edges = at::cat({base, base.narrow(1, 0, 1).flip(0)}, 1);
  expect_cut_equals_rebuild(d, {0});
  expect_cut_equals_rebuild(d, {d.train_edges.size(1) - 1});

  EXPECT_THROW(d.message_graph_without(at::tensor(std::vector<int64_t>{d.train_edges.size(1)}, at::kLong)),
               std::out_of_range);
}

}  // namespace
}  // namespace ripple
