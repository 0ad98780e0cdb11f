// Layers against dense-matrix formulas on small graphs, the fused and materialized message
// paths against each other, and the sparse feature path against the dense one.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/torch.h>

#include "ops/reference.h"
#include "ripple/error.h"
#include "ripple/nn/functional.h"
#include "ripple/nn/layers.h"

namespace ripple {
namespace {

using nn::Features;
using nn::ForwardContext;
using nn::GraphCache;

// Dense adjacency A[v][u] = number of edges u -> v.
at::Tensor dense_adjacency(const Graph& g) {
  at::Tensor a = at::zeros({g.num_dst(), g.num_src()}, at::kDouble);
  const CooView& c = g.coo();
  for (int64_t e = 0; e < g.num_edges(); ++e) {
    a[c.dst[e].item<int64_t>()][c.src[e].item<int64_t>()] += 1;
  }
  return a;
}

Graph small_graph() {
  // 5 nodes, an isolated node (4), asymmetric edges.
  return Graph::from_edges(5, at::tensor(std::vector<int64_t>{0, 1, 2, 2, 3, 1}, at::kLong),
                           at::tensor(std::vector<int64_t>{1, 2, 0, 3, 1, 0}, at::kLong));
}

TEST(Layers, GCNConvEqualsNormalizedAdjacencyProduct) {
  torch::manual_seed(0);
  GraphCache g(small_graph());
  nn::GCNConv conv(3, 2);
  conv->to(at::kDouble);
  const at::Tensor x = at::randn({5, 3}, at::kDouble);
  ForwardContext ctx;
  const at::Tensor out = conv->forward(g, x, ctx);
  const at::Tensor a = dense_adjacency(g.with_self_loops());
  const at::Tensor d = a.sum(1).pow(-0.5);
  const at::Tensor a_hat = d.view({-1, 1}) * a * d.view({1, -1});
  const at::Tensor expected = a_hat.matmul(x.matmul(conv->lin->weight.t())) + conv->bias;
  EXPECT_TRUE(at::allclose(out, expected, 1e-6, 1e-8));
  // Wider output than input takes the aggregate-first path: same result.
  torch::manual_seed(0);
  nn::GCNConv wide(3, 6);
  wide->to(at::kDouble);
  const at::Tensor expected_wide = a_hat.matmul(x.matmul(wide->lin->weight.t())) + wide->bias;
  EXPECT_TRUE(at::allclose(wide->forward(g, x, ctx), expected_wide, 1e-6, 1e-8));
}

TEST(Layers, FusedAndMaterializedMessagesAgree) {
  torch::manual_seed(1);
  GraphCache g(testing::random_graph(40, 200, 3));
  const at::Tensor x = at::randn({40, 6}, at::kDouble);
  ForwardContext ctx;
  nn::GCNConv gcn(6, 4);
  nn::SAGEConv sage(6, 4, "max");
  nn::GATConv gat(6, 3, 2, true, 0.2, 0.0);
  for (torch::nn::Module* m : std::vector<torch::nn::Module*>{gcn.get(), sage.get(), gat.get()}) m->to(at::kDouble);
  const at::Tensor a = gcn->forward(g, x, ctx), b = sage->forward(g, x, ctx), c = gat->forward(g, x, ctx);
  gcn->set_materialize(true);
  sage->set_materialize(true);
  gat->set_materialize(true);
  EXPECT_TRUE(at::allclose(a, gcn->forward(g, x, ctx), 1e-10, 1e-12));
  EXPECT_TRUE(at::allclose(b, sage->forward(g, x, ctx), 1e-10, 1e-12));
  EXPECT_TRUE(at::allclose(c, gat->forward(g, x, ctx), 1e-10, 1e-12));
}

TEST(Layers, SAGEConvMeanSumMaxMatchDenseFormulas) {
  const Graph base = small_graph();
  GraphCache g(base);
  const at::Tensor x = at::randn({5, 3}, at::kDouble);
  const at::Tensor a = dense_adjacency(base);
  const at::Tensor deg = a.sum(1, true).clamp_min(1);
  ForwardContext ctx;
  for (const std::string aggr : {"mean", "sum", "max"}) {
    torch::manual_seed(2);
    nn::SAGEConv conv(3, 2, aggr);
    conv->to(at::kDouble);
    at::Tensor agg;
    if (aggr == "sum") agg = a.matmul(x);
    else if (aggr == "mean") agg = a.matmul(x) / deg;
    else {
      std::vector<at::Tensor> rows;
      for (int64_t v = 0; v < 5; ++v) {
        const at::Tensor nbr = a[v].nonzero().view(-1);
        rows.push_back(nbr.numel() ? std::get<0>(x.index_select(0, nbr).max(0)) : at::zeros({3}, at::kDouble));
      }
      agg = at::stack(rows);
    }
    const at::Tensor expected = agg.matmul(conv->lin_l->weight.t()) + conv->lin_l->bias + x.matmul(conv->lin_r->weight.t());
    EXPECT_TRUE(at::allclose(conv->forward(g, x, ctx), expected, 1e-8, 1e-10)) << aggr;
  }
}

TEST(Layers, SimpleConvAggregatesWithoutWeightsWithAndWithoutTheRoot) {
  const Graph base = small_graph();
  GraphCache g(base);
  const at::Tensor x = at::randn({5, 3}, at::kDouble).requires_grad_(true);
  const at::Tensor a = dense_adjacency(base);
  const at::Tensor deg = a.sum(1, true).clamp_min(1);
  ForwardContext ctx;
  for (const std::string aggr : {"mean", "sum"}) {
    for (const std::string root : {"none", "sum"}) {
      nn::SimpleConv conv(aggr, root);
      EXPECT_TRUE(conv->parameters().empty());
      at::Tensor expected = aggr == "sum" ? a.matmul(x) : a.matmul(x) / deg;
      if (root == "sum") expected = expected + x;
      const at::Tensor got = conv->forward(g, Features(x), ctx);
      EXPECT_TRUE(at::allclose(got, expected, 1e-8, 1e-10)) << aggr << " " << root;
      // Backward: the gradient of sum(w * out) is (A^T w, scaled for mean) plus w for the root.
      const at::Tensor w = at::randn_like(expected);
      const at::Tensor grad_got = torch::autograd::grad({(got * w).sum()}, {x})[0];
      const at::Tensor grad_want = torch::autograd::grad({(expected * w).sum()}, {x})[0];
      EXPECT_TRUE(at::allclose(grad_got, grad_want, 1e-8, 1e-10)) << aggr << " " << root;
    }
  }
  EXPECT_THROW(nn::SimpleConv("min", "sum"), SettingError);
  EXPECT_THROW(nn::SimpleConv("sum", "cat"), SettingError);
}

TEST(Layers, GATConvMatchesDenseAttention) {
  torch::manual_seed(3);
  const Graph base = small_graph();
  GraphCache g(base);
  nn::GATConv conv(3, 2, 2, /*concat=*/true, 0.2, 0.0);
  conv->to(at::kDouble);
  const at::Tensor x = at::randn({5, 3}, at::kDouble);
  ForwardContext ctx;
  const at::Tensor out = conv->forward(g, x, ctx);
  const at::Tensor adj = dense_adjacency(g.with_self_loops()) > 0;
  const at::Tensor h = x.matmul(conv->lin->weight.t()).view({5, 2, 2});
  std::vector<at::Tensor> heads;
  for (int64_t k = 0; k < 2; ++k) {
    const at::Tensor hk = h.select(1, k);
    const at::Tensor s = (hk * conv->att_src[0][k]).sum(1), t = (hk * conv->att_dst[0][k]).sum(1);
    at::Tensor e = at::leaky_relu(t.view({-1, 1}) + s.view({1, -1}), 0.2);  // e[v][u]
    e = e.masked_fill(~adj, -1e30);
    heads.push_back(at::softmax(e, 1).matmul(hk));
  }
  const at::Tensor expected = at::cat(heads, 1) + conv->bias;
  EXPECT_TRUE(at::allclose(out, expected, 1e-8, 1e-10));
}

TEST(Layers, GINConvAndAPPNP) {
  torch::manual_seed(4);
  const Graph base = small_graph();
  GraphCache g(base);
  const at::Tensor x = at::randn({5, 3}, at::kDouble);
  ForwardContext ctx;
  nn::GINConv gin(3, 2, 4, false);
  gin->to(at::kDouble);
  gin->eval();  // batch norm with running statistics (initially mean 0, var 1)
  const at::Tensor a = dense_adjacency(base);
  const at::Tensor pre = (x + a.matmul(x)).matmul(gin->lin1->weight.t()) + gin->lin1->bias;
  const at::Tensor expected = at::relu(pre / std::sqrt(1 + 1e-5)).matmul(gin->lin2->weight.t()) + gin->lin2->bias;
  EXPECT_TRUE(at::allclose(gin->forward(g, x, ctx), expected, 1e-8, 1e-10));
  // A learnable eps weighs the node's own row (1 + eps) and gets a gradient.
  nn::GINConv gin_eps(3, 2, 4, true);
  gin_eps->to(at::kDouble);
  gin_eps->eval();
  {
    at::NoGradGuard no_grad;
    gin_eps->eps.fill_(0.3);
  }
  const at::Tensor pre_eps = (1.3 * x + a.matmul(x)).matmul(gin_eps->lin1->weight.t()) + gin_eps->lin1->bias;
  const at::Tensor out_eps = gin_eps->forward(g, x, ctx);
  EXPECT_TRUE(at::allclose(out_eps, at::relu(pre_eps / std::sqrt(1 + 1e-5)).matmul(gin_eps->lin2->weight.t()) +
                                        gin_eps->lin2->bias,
                           1e-8, 1e-10));
  out_eps.sum().backward();
  EXPECT_TRUE(gin_eps->eps.grad().defined());

  nn::APPNPPropagation appnp(3, 0.1);
  const at::Tensor al = dense_adjacency(g.with_self_loops());
  const at::Tensor d = al.sum(1).pow(-0.5);
  const at::Tensor a_hat = d.view({-1, 1}) * al * d.view({1, -1});
  at::Tensor h = x;
  for (int i = 0; i < 3; ++i) h = 0.9 * a_hat.matmul(h) + 0.1 * x;
  EXPECT_TRUE(at::allclose(appnp->forward(g, x), h, 1e-6, 1e-7));  // float32 edge weights
}

TEST(Features, SparseLinearAndDropoutMatchDense) {
  torch::manual_seed(5);
  at::Tensor dense = (at::rand({50, 40}) < 0.05).to(at::kFloat) * at::rand({50, 40});
  const Features sparse = Features::from_dense(dense, 0.2);
  ASSERT_TRUE(sparse.is_sparse());
  const at::Tensor w = at::randn({8, 40}).set_requires_grad(true), b = at::randn({8});
  const at::Tensor w2 = w.detach().clone().set_requires_grad(true);
  const at::Tensor ys = sparse.linear(w, b), yd = Features(dense).linear(w2, b);
  EXPECT_TRUE(at::allclose(ys, yd, 1e-5, 1e-6));
  ys.sum().backward();
  yd.sum().backward();
  EXPECT_TRUE(at::allclose(w.grad(), w2.grad(), 1e-5, 1e-6));
  // Dropout on the sparse rows keeps exactly the zeros of the dense matrix zero.
  ForwardContext ctx{true, 7, 1, 0};
  const at::Tensor dropped = sparse.dropout(0.5, ctx).dense();
  EXPECT_TRUE(at::equal(dropped.masked_select(dense == 0), at::zeros({(dense == 0).sum().item<int64_t>()})));
  const at::Tensor kept = dropped.masked_select(dense != 0);
  EXPECT_TRUE(at::allclose(kept.masked_select(kept != 0), (dense * 2).masked_select((dropped != 0))));
}

TEST(Dropout, CounterBasedDeterministicAndUnbiased) {
  ForwardContext a{true, 11, 3, 0}, b{true, 11, 3, 0}, c{true, 11, 4, 0};
  const at::Tensor x = at::ones({100000});
  const at::Tensor ya = nn::dropout(x, 0.3, a), yb = nn::dropout(x, 0.3, b), yc = nn::dropout(x, 0.3, c);
  EXPECT_TRUE(at::equal(ya, yb));
  EXPECT_FALSE(at::equal(ya, yc));
  const double kept = (ya != 0).to(at::kDouble).mean().item<double>();
  EXPECT_NEAR(kept, 0.7, 0.01);
  EXPECT_NEAR(ya.mean().item<double>(), 1.0, 0.015);
  // Independent of the thread count.
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  ForwardContext d{true, 11, 3, 0};
  EXPECT_TRUE(at::equal(nn::dropout(x, 0.3, d), ya));
  at::set_num_threads(threads);
  ForwardContext eval{false, 11, 3, 0};
  EXPECT_TRUE(at::equal(nn::dropout(x, 0.3, eval), x));
}

TEST(Dropout, GradientIsMaskedLikeTheForward) {
  // The backward regenerates the mask from the key: the gradient must equal the forward's
  // mask (0 or 1/(1-p)) element for element, for float and double, and match x * mask.
  for (const auto dtype : {at::kFloat, at::kDouble}) {
    ForwardContext a{true, 5, 2, 0}, b{true, 5, 2, 0};
    const at::Tensor x = at::randn({300, 7}, at::TensorOptions().dtype(dtype)).requires_grad_(true);
    const at::Tensor y = nn::dropout(x, 0.4, a);
    const at::Tensor upstream = at::randn({300, 7}, at::TensorOptions().dtype(dtype));
    y.backward(upstream);
    const at::Tensor mask = nn::dropout(at::ones({300, 7}, at::TensorOptions().dtype(dtype)), 0.4, b);
    EXPECT_TRUE(at::allclose(y, x.detach() * mask));
    EXPECT_TRUE(at::allclose(x.grad(), upstream * mask));
    const double kept = (mask != 0).to(at::kDouble).mean().item<double>();
    EXPECT_NEAR(kept, 0.6, 0.05);
  }
}

TEST(Dropout, FusedReluDropoutEqualsTheTwoPassesForwardAndBackward) {
  // Same bits as dropout(relu(x)) with the same context, in both passes, for float and
  // double; and the same key drawn (the next dropout after either matches too).
  for (const auto dtype : {at::kFloat, at::kDouble}) {
    ForwardContext fused_ctx{true, 9, 4, 0, 2}, plain_ctx{true, 9, 4, 0, 2};
    at::manual_seed(1);
    const at::Tensor x0 = at::randn({1000, 33}, at::TensorOptions().dtype(dtype));
    const at::Tensor upstream = at::randn({1000, 33}, at::TensorOptions().dtype(dtype));
    const at::Tensor xf = x0.clone().requires_grad_(true), xp = x0.clone().requires_grad_(true);
    const at::Tensor yf = nn::relu_dropout(xf, 0.3, fused_ctx);
    const at::Tensor yp = nn::dropout(at::relu(xp), 0.3, plain_ctx);
    EXPECT_TRUE(at::equal(yf, yp));
    yf.backward(upstream);
    yp.backward(upstream);
    EXPECT_TRUE(at::equal(xf.grad(), xp.grad()));
    EXPECT_GT((yf == 0).sum().item<int64_t>(), 1000 * 33 / 2);  // ReLU's zeros and dropout's
    const at::Tensor ones = at::ones({50}, at::TensorOptions().dtype(dtype));
    EXPECT_TRUE(at::equal(nn::dropout(ones, 0.5, fused_ctx), nn::dropout(ones, 0.5, plain_ctx)));
  }
  ForwardContext eval{false, 9, 4, 0};
  const at::Tensor x = at::randn({10, 4});
  EXPECT_TRUE(at::equal(nn::relu_dropout(x, 0.3, eval), at::relu(x)));
}

}  // namespace
}  // namespace ripple
