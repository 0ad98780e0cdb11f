// The kernels' boundary checks: every operand against its target's row count and every
// index value against the rows it selects, through the dispatcher as Python reaches it.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <functional>
#include <string>

#include "ops/dispatch.h"
#include "ops/reference.h"
#include "ripple/graph.h"
#include "ripple/ops.h"

namespace ripple {
namespace {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const c10::Error& e) {
    return e.what();
  }
  return "(no error)";
}

// ripple::edge_softmax through the dispatcher, as Python calls it (src/ops/edge_softmax.cpp).
at::Tensor raw_edge_softmax(const at::Tensor& indptr, const c10::optional<at::Tensor>& eids, const at::Tensor& x) {
  static auto op = ops::dispatch::handle<at::Tensor(const at::Tensor&, const c10::optional<at::Tensor>&,
                                                    const at::Tensor&)>("ripple::edge_softmax");
  return op.call(indptr, eids, x);
}

struct RawGraph {
  at::Tensor indptr, indices, rev_indptr, rev_indices, rev_eids;
};

RawGraph raw(const Graph& g) {
  return {g.csc_indptr(), g.csc_indices(), g.csr().indptr, g.csr().indices, g.csr().eids};
}

// Regression: gsddmm never checked the rows of a src-targeted operand and read past it.
TEST(OperandCheck, GsddmmShortSourceOperandIsAnError) {
  const Graph g = testing::awkward_graph();
  const RawGraph r = raw(g);
  const at::Tensor dst_rows = at::randn({g.num_dst(), 4}), short_src = at::randn({2, 4});
  const std::string m = error_of([&] {
    ops::dispatch::gsddmm(r.indptr, r.indices, {}, r.rev_indptr, r.rev_indices, r.rev_eids, "dot", dst_rows,
                          short_src, "dst", "src");
  });
  EXPECT_NE(m.find("rhs is a source operand and must have 7 rows"), std::string::npos) << m;
  const std::string raw_kernel = error_of([&] {
    ops::dispatch::gsddmm_forward(r.indptr, r.indices, {}, "add", short_src, dst_rows, "src", "dst", g.num_src());
  });
  EXPECT_NE(raw_kernel.find("lhs is a source operand"), std::string::npos) << raw_kernel;
}

TEST(OperandCheck, IndexValuesBeyondTheirOperandAreErrors) {
  for (bool int32 : {false, true}) {
    const Graph g = testing::awkward_graph(int32);
    const RawGraph r = raw(g);
    const at::Tensor x = at::randn({g.num_src(), 3}), w = at::randn({g.num_edges(), 3});
    at::Tensor bad = r.indices.clone();
    bad[3] = g.num_src();
    std::string m = error_of([&] {
      ops::dispatch::gspmm(r.indptr, bad, {}, r.rev_indptr, r.rev_indices, r.rev_eids, "copy_lhs", "sum", x, {});
    });
    EXPECT_NE(m.find("indices[3] = 7 is not a source node id in [0, 7)"), std::string::npos) << m;
    bad = r.indices.clone();
    bad[0] = -1;
    m = error_of([&] { ops::dispatch::gsddmm_forward(r.indptr, bad, {}, "add", x, x, "src", "src", g.num_src()); });
    EXPECT_NE(m.find("indices[0] = -1"), std::string::npos) << m;
    at::Tensor eids = at::arange(g.num_edges(), r.indices.options());
    eids[1] = g.num_edges() + 5;
    m = error_of([&] { raw_edge_softmax(r.indptr, eids, w); });
    EXPECT_NE(m.find("eids[1]"), std::string::npos) << m;
    m = error_of([&] {
      ops::dispatch::gspmm_forward(r.indptr, r.indices, eids, "copy_rhs", "sum", {}, w, g.num_src());
    });
    EXPECT_NE(m.find("eids[1]"), std::string::npos) << m;
    at::Tensor ptr = r.indptr.clone();
    ptr[2] = ptr[3].item<int64_t>() + 1;
    m = error_of([&] { raw_edge_softmax(ptr, {}, w); });
    EXPECT_NE(m.find("non-decreasing"), std::string::npos) << m;
    at::Tensor rev_bad = r.rev_indices.clone();
    rev_bad[0] = g.num_dst() + 1;
    m = error_of([&] {
      ops::dispatch::gspmm_mul_sum_backward(r.rev_indptr, rev_bad, r.rev_eids, at::randn({g.num_dst(), 2, 3}),
                                            at::randn({g.num_src(), 2, 3}), at::randn({g.num_edges(), 2, 1}));
    });
    EXPECT_NE(m.find("indices[0]"), std::string::npos) << m;
  }
}

TEST(OperandCheck, IndptrThatDisagreesWithIndicesIsAnError) {
  const Graph g = testing::awkward_graph();
  const RawGraph r = raw(g);
  const at::Tensor x = at::randn({g.num_src(), 3});
  const std::string m = error_of([&] {
    ops::dispatch::gspmm_forward(r.indptr, r.indices.slice(0, 1), {}, "copy_lhs", "sum", x, {}, g.num_src());
  });
  EXPECT_NE(m.find("indptr ends at"), std::string::npos) << m;
}

// The Graph form of edge_softmax checks the graph's indptr when the graph is built, not on each
// call: with its (shared) indptr made non-monotone afterwards, the raw form refuses the array
// while the Graph form, forward and backward, reads it as it is (every read stays in bounds).
TEST(OperandCheck, EdgeSoftmaxOnAGraphChecksItsIndptrOnceNotPerCall) {
  const Graph g =
      Graph::from_csc(3, at::tensor({0, 2, 3, 5}, at::kLong), at::tensor({0, 1, 2, 0, 1}, at::kLong), GraphFlags{});
  at::Tensor ptr = g.csc_indptr();  // the graph's own storage
  ptr[1] = 3;
  ptr[2] = 2;
  const at::Tensor w = at::randn({5, 2}).requires_grad_();
  const std::string m = error_of([&] { raw_edge_softmax(ptr, {}, w); });
  EXPECT_NE(m.find("non-decreasing"), std::string::npos) << m;
  const at::Tensor y = ops::edge_softmax(g, w);
  y.sum().backward();
  EXPECT_TRUE(w.grad().defined());
  // Outside the Graph form the mark is gone again.
  EXPECT_NE(error_of([&] { raw_edge_softmax(ptr, {}, w.detach()); }).find("non-decreasing"),
            std::string::npos);
}

}  // namespace
}  // namespace ripple
