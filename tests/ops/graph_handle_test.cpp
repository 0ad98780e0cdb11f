// The graph crosses the dispatcher once, as a handle (src/ops/graph_handle.h): the C++ ops
// build the reverse view only when a backward pass needs it, then reuse it, and the handle
// forms give what the six-tensor forms give, forward and backward.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <functional>
#include <string>

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

// A built graph's arrays are checked once, at construction: the handle forms check only
// their operands (a short one is still an error), and the trust ends with the call, so the
// six-tensor forms still check the values of arrays they are given.
TEST(GraphHandle, HandleFormsCheckOperandsAndTheTrustEndsWithTheCall) {
  const Graph g = random_graph(30, 120, 3);
  const CsrView& r = g.csr();
  const auto handle = c10::make_intrusive<ops::GraphHandle>(g);
  const auto error_of = [](const std::function<void()>& fn) -> std::string {
    try {
      fn();
    } catch (const c10::Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  std::string m = error_of([&] { ops::dispatch::gspmm_graph(handle, "copy_lhs", "sum", at::randn({29, 4}), {}); });
  EXPECT_NE(m.find("lhs is a source operand and must have 30 rows"), std::string::npos) << m;
  const at::Tensor x = at::randn({30, 4}).requires_grad_(true);
  ops::dispatch::gspmm_graph(handle, "copy_lhs", "sum", x, {}).sum().backward();
  at::Tensor bad = g.csc_indices().clone();
  bad[5] = 30;
  m = error_of([&] {
    ops::dispatch::gspmm(g.csc_indptr(), bad, {}, r.indptr, r.indices, r.eids, "copy_lhs", "sum", x, {});
  });
  EXPECT_NE(m.find("indices[5] = 30 is not a source node id in [0, 30)"), std::string::npos) << m;
  // Arrays handed in from Python are copied: changing the caller's tensor changes nothing.
  at::Tensor indptr = g.csc_indptr().clone(), indices = g.csc_indices().clone();
  const auto own = c10::make_intrusive<ops::GraphHandle>(indptr, indices, int64_t{30});
  indices.fill_(1000000);
  const at::Tensor y = at::randn({30, 4});
  EXPECT_TRUE(at::equal(ops::dispatch::gspmm_graph(own, "copy_lhs", "sum", y, {}),
                        ops::dispatch::gspmm_graph(handle, "copy_lhs", "sum", y, {})));
}

}  // namespace
}  // namespace ripple
