// The graph crosses the dispatcher once, as a handle (src/ops/graph_handle.h): the C++ ops
// build the reverse view only when a backward pass needs it, then reuse it, and the handle
// forms give what the six-tensor forms give, forward and backward.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include "ops/dispatch.h"
#include "ripple/graph.h"
#include "ripple/ops.h"

namespace ripple {
namespace {

Graph random_graph(int64_t nodes, int64_t edges, uint64_t seed) {
  at::manual_seed(seed);
  return Graph::from_edges(nodes, at::randint(nodes, {edges}, at::kLong), at::randint(nodes, {edges}, at::kLong));
}

TEST(GraphHandle, ReverseViewIsBuiltOnlyForABackwardPassAndOnce) {
  const Graph g = random_graph(50, 300, 1);
  const at::Tensor x = at::randn({50, 8}), w = at::randn({g.num_edges(), 1});
  {
    at::NoGradGuard no_grad;
    ops::gspmm(g, "mul", "sum", x, w);
    ops::gsddmm(g, "dot", x, x, "src", "dst");
  }
  EXPECT_FALSE(g.has_csr_view()) << "inference must not build the reverse view";
  const at::Tensor xg = x.clone().requires_grad_(true);
  const at::Tensor out = ops::gspmm(g, "mul", "sum", xg, w);
  EXPECT_FALSE(g.has_csr_view()) << "a forward pass alone must not build it";
  out.sum().backward();
  ASSERT_TRUE(g.has_csr_view());
  const at::Tensor built = g.csr().indptr;
  ops::gspmm(g, "mul", "sum", xg, w).sum().backward();
  EXPECT_TRUE(g.csr().indptr.is_same(built)) << "the second backward reuses the first one's view";
}

TEST(GraphHandle, HandleFormsEqualTheSixTensorForms) {
  const Graph g = random_graph(40, 250, 2);
  const CsrView& r = g.csr();
  for (const char* reduce : {"sum", "mean", "max"}) {
    SCOPED_TRACE(reduce);
    const at::Tensor x1 = at::randn({40, 6}).requires_grad_(true), w1 = at::randn({g.num_edges(), 6}).requires_grad_(true);
    const at::Tensor x2 = x1.detach().clone().requires_grad_(true), w2 = w1.detach().clone().requires_grad_(true);
    const at::Tensor up = at::randn({40, 6});
    const at::Tensor a = ops::dispatch::gspmm_graph(c10::make_intrusive<ops::GraphHandle>(g), "mul", reduce, x1, w1);
    const at::Tensor b = ops::dispatch::gspmm(g.csc_indptr(), g.csc_indices(), {}, r.indptr, r.indices, r.eids, "mul",
                                              reduce, x2, w2);
    EXPECT_TRUE(at::equal(a, b));
    (a * up).sum().backward();
    (b * up).sum().backward();
    EXPECT_TRUE(at::allclose(x1.grad(), x2.grad()));
    EXPECT_TRUE(at::allclose(w1.grad(), w2.grad()));
  }
  const at::Tensor s1 = at::randn({40, 5}).requires_grad_(true), d1 = at::randn({40, 5}).requires_grad_(true);
  const at::Tensor s2 = s1.detach().clone().requires_grad_(true), d2 = d1.detach().clone().requires_grad_(true);
  const at::Tensor a = ops::dispatch::gsddmm_graph(c10::make_intrusive<ops::GraphHandle>(g), "mul", s1, d1, "src", "dst");
  const at::Tensor b = ops::dispatch::gsddmm(g.csc_indptr(), g.csc_indices(), {}, r.indptr, r.indices, r.eids, "mul",
                                             s2, d2, "src", "dst");
  EXPECT_TRUE(at::equal(a, b));
  a.sum().backward();
  b.sum().backward();
  EXPECT_TRUE(at::allclose(s1.grad(), s2.grad()));
  EXPECT_TRUE(at::allclose(d1.grad(), d2.grad()));
}

}  // namespace
}  // namespace ripple
