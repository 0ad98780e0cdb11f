// Graph batches and readouts against per-graph reference loops, forward and backward.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <vector>

#include "ripple/error.h"
#include "ripple/graph_batch.h"
#include "ripple/graph_dataset.h"
#include "ripple/graph_model.h"
#include "support/cli.h"

#include <torch/utils.h>

namespace ripple {
namespace {

const GraphDataset& mutag() {
  static const GraphDataset d = load_tu_dataset(testing::source_path("data/MUTAG"));
  return d;
}

// The batch built one graph at a time from the edge list: (dst, src) pairs in batch ids.
std::vector<std::pair<int64_t, int64_t>> reference_edges(const GraphDataset& d, const std::vector<int64_t>& ids) {
  const at::Tensor src = d.graph.coo().src, dst = d.graph.coo().dst;
  std::vector<std::pair<int64_t, int64_t>> out;
  int64_t offset = 0;
  for (int64_t g : ids) {
    const int64_t begin = d.node_ptr[g].item<int64_t>(), end = d.node_ptr[g + 1].item<int64_t>();
    for (int64_t e = 0; e < d.graph.num_edges(); ++e) {
      const int64_t v = dst[e].item<int64_t>();
      if (v >= begin && v < end) out.emplace_back(v - begin + offset, src[e].item<int64_t>() - begin + offset);
    }
    offset += end - begin;
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(GraphBatch, MatchesAPerGraphLoop) {
  const GraphDataset& d = mutag();
  const std::vector<int64_t> ids{17, 3, 150, 0, 187, 42};
  const GraphBatch b = make_graph_batch(d, at::tensor(ids, at::kLong));
  ASSERT_EQ(b.num_graphs(), 6);
  int64_t total = 0;
  std::vector<at::Tensor> x;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int64_t begin = d.node_ptr[ids[i]].item<int64_t>(), end = d.node_ptr[ids[i] + 1].item<int64_t>();
    EXPECT_EQ(b.node_ptr[i].item<int64_t>(), total);
    EXPECT_EQ(b.labels[i].item<int64_t>(), d.labels[ids[i]].item<int64_t>());
    x.push_back(d.features.slice(0, begin, end));
    total += end - begin;
  }
  EXPECT_EQ(b.graph.num_nodes(), total);
  EXPECT_TRUE(at::equal(b.x, at::cat(x)));
  // CSC of the batch, read back as (dst, src) pairs in CSC order, equals the reference.
  const at::Tensor ptr = b.graph.csc_indptr(), idx = b.graph.csc_indices();
  std::vector<std::pair<int64_t, int64_t>> got;
  for (int64_t v = 0; v < b.graph.num_dst(); ++v) {
    for (int64_t p = ptr[v].item<int64_t>(); p < ptr[v + 1].item<int64_t>(); ++p) got.emplace_back(v, idx[p].item<int64_t>());
  }
  EXPECT_TRUE(std::is_sorted(got.begin(), got.end())) << "rows stay sorted by source";
  EXPECT_EQ(got, reference_edges(d, ids));
  for (int64_t v = 0; v < total; ++v) {
    const int64_t g = b.graph_of_node[v].item<int64_t>();
    EXPECT_TRUE(v >= b.node_ptr[g].item<int64_t>() && v < b.node_ptr[g + 1].item<int64_t>());
  }
  EXPECT_THROW(make_graph_batch(d, at::tensor({1, 1}, at::kLong)), InputError);
  EXPECT_THROW(make_graph_batch(d, at::tensor({188}, at::kLong)), InputError);
}

TEST(Readout, SumMeanMaxMatchPerGraphReductionsForwardAndBackward) {
  // Segments of 3, 0 (an empty graph), 1 and 5 rows; widths around SIMD sizes.
  const at::Tensor node_ptr = at::tensor({0, 3, 3, 4, 9}, at::kLong);
  const Graph pool = segment_graph(node_ptr);
  for (int64_t width : {1, 7, 8, 9, 33}) {
    for (const std::string reduce : {"sum", "mean", "max"}) {
      SCOPED_TRACE(reduce + " width " + std::to_string(width));
      at::manual_seed(width);
      const at::Tensor x0 = at::randn({9, width}, at::kDouble);
      const at::Tensor x = x0.clone().set_requires_grad(true), xr = x0.clone().set_requires_grad(true);
      const at::Tensor out = nn::readout(pool, x, reduce);
      std::vector<at::Tensor> rows;
      for (int64_t g = 0; g < 4; ++g) {
        const at::Tensor seg = xr.slice(0, node_ptr[g].item<int64_t>(), node_ptr[g + 1].item<int64_t>());
        if (seg.size(0) == 0) {
          rows.push_back(at::zeros({width}, at::kDouble));
        } else {
          rows.push_back(reduce == "sum" ? seg.sum(0) : reduce == "mean" ? seg.mean(0) : std::get<0>(seg.max(0)));
        }
      }
      const at::Tensor ref = at::stack(rows);
      ASSERT_TRUE(at::allclose(out, ref));
      const at::Tensor up = at::randn(out.sizes(), out.options());
      (out * up).sum().backward();
      (ref * up).sum().backward();
      EXPECT_TRUE(at::allclose(x.grad(), xr.grad()));
    }
  }
}

// A graph's scores do not depend on the other graphs of its batch (evaluation mode: batch
// norm uses its running statistics), for every graph model.
TEST(GraphModel, ScoresOfAGraphDoNotDependOnItsBatch) {
  const GraphDataset& d = mutag();
  const std::vector<int64_t> ids{5, 77, 130, 2, 160};
  for (const std::string name : {"gin", "gcn", "sage", "mlp"}) {
    for (const std::string reduce : {"sum", "mean", "max"}) {
      SCOPED_TRACE(name + " " + reduce);
      torch::manual_seed(3);
      ModelConfig c;
      c.name = name;
      c.hidden = 16;
      c.layers = 5;
      c.readout = reduce;
      GraphModel model(c, d.num_features(), d.num_classes);
      model->eval();
      torch::NoGradGuard no_grad;
      const GraphBatch all = make_graph_batch(d, at::tensor(ids, at::kLong));
      nn::GraphCache cache(all.graph);
      nn::ForwardContext ctx;
      const at::Tensor together = model->forward(cache, all.pool, all.x, ctx);
      for (size_t i = 0; i < ids.size(); ++i) {
        const GraphBatch one = make_graph_batch(d, at::tensor({ids[i]}, at::kLong));
        nn::GraphCache c1(one.graph);
        const at::Tensor alone = model->forward(c1, one.pool, one.x, ctx);
        EXPECT_TRUE(at::allclose(alone[0], together[i], 1e-5, 1e-6)) << "graph " << ids[i];
      }
    }
  }
}

}  // namespace
}  // namespace ripple
