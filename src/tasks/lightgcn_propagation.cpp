// LightGCN propagation with its own backward. See src/tasks/lightgcn_propagation.h.
#include "tasks/lightgcn_propagation.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include "ops/graph_handle.h"
#include "ripple/ops.h"

namespace ripple::tasks {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

at::Tensor times_a(const Graph& graph, const at::Tensor& weights, const at::Tensor& h) {
  return ops::gspmm(graph, "mul", "sum", h, weights);
}

// out[r] = sum over the CSC row of rows[r] of w[p] * h[src(p)]: (A h)[rows].
at::Tensor times_a_rows(const Graph& graph, const at::Tensor& weights, const at::Tensor& h, const at::Tensor& rows) {
  const int64_t d = h.size(1), n = rows.numel();
  at::Tensor out = at::zeros({n, d}, h.options());
  const int64_t* indptr = graph.csc_indptr().data_ptr<int64_t>();
  const int64_t* indices = graph.csc_indices().data_ptr<int64_t>();
  const float* w = weights.data_ptr<float>();
  const float* x = h.data_ptr<float>();
  const int64_t* row = rows.data_ptr<int64_t>();
  float* y = out.data_ptr<float>();
  at::parallel_for(0, n, 64, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      float* acc = y + r * d;
      for (int64_t p = indptr[row[r]]; p < indptr[row[r] + 1]; ++p) {
        const float* src = x + indices[p] * d;
        const float wp = w[p];
        for (int64_t j = 0; j < d; ++j) acc[j] += wp * src[j];
      }
    }
  });
  return out;
}

// out[s] = sum over the CSC row of s of w[p] * g[slot[src(p)]] for sources with a slot:
// (A_rows)^T g for a symmetric A, g [rows, d], slot[v] the row of node v or -1.
at::Tensor times_a_rows_transposed(const Graph& graph, const at::Tensor& weights, const at::Tensor& g,
                                   const std::vector<int64_t>& slot) {
  const int64_t d = g.size(1), n = graph.num_dst();
  at::Tensor out = at::zeros({n, d}, g.options());
  const int64_t* indptr = graph.csc_indptr().data_ptr<int64_t>();
  const int64_t* indices = graph.csc_indices().data_ptr<int64_t>();
  const float* w = weights.data_ptr<float>();
  const float* x = g.data_ptr<float>();
  float* y = out.data_ptr<float>();
  at::parallel_for(0, n, 256, [&](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; ++s) {
      float* acc = y + s * d;
      for (int64_t p = indptr[s]; p < indptr[s + 1]; ++p) {
        const int64_t r = slot[static_cast<size_t>(indices[p])];
        if (r < 0) continue;
        const float* src = x + r * d;
        const float wp = w[p];
        for (int64_t j = 0; j < d; ++j) acc[j] += wp * src[j];
      }
    }
  });
  return out;
}

class PropagateRowsFunction : public torch::autograd::Function<PropagateRowsFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& embedding, ops::GraphRef graph,
                            const at::Tensor& weights, const at::Tensor& rows, int64_t layers) {
    const Graph& g = graph->graph();
    at::Tensor h = embedding.contiguous(), sum = h.index_select(0, rows);
    for (int64_t l = 0; l + 1 < layers; ++l) {
      h = times_a(g, weights, h);
      sum.add_(h.index_select(0, rows));
    }
    if (layers > 0) sum.add_(times_a_rows(g, weights, h, rows));
    ctx->saved_data["graph"] = graph;
    ctx->saved_data["layers"] = layers;
    ctx->saved_data["num_nodes"] = embedding.size(0);
    ctx->save_for_backward({weights, rows});
    return sum.div_(static_cast<double>(layers + 1));
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const Graph& g = ctx->saved_data["graph"].toCustomClass<ops::GraphHandle>()->graph();
    const int64_t layers = ctx->saved_data["layers"].toInt();
    const int64_t num_nodes = ctx->saved_data["num_nodes"].toInt();
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& weights = saved[0];
    const at::Tensor& rows = saved[1];
    const at::Tensor share = (grads[0] / static_cast<double>(layers + 1)).contiguous();
    at::Tensor grad;
    if (layers == 0) {
      grad = at::zeros({num_nodes, share.size(1)}, share.options());
    } else {
      std::vector<int64_t> slot(static_cast<size_t>(num_nodes), -1);
      const int64_t* row = rows.data_ptr<int64_t>();
      for (int64_t r = 0; r < rows.numel(); ++r) slot[static_cast<size_t>(row[r])] = r;
      grad = times_a_rows_transposed(g, weights, share, slot);  // through the last layer
      for (int64_t l = 0; l + 1 < layers; ++l) {
        grad.index_add_(0, rows, share);  // E_{L-1-l}[rows] in the mean
        grad = times_a(g, weights, grad);
      }
    }
    grad.index_add_(0, rows, share);  // E0[rows]
    return {grad, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor lightgcn_propagate_rows(const Graph& graph, const at::Tensor& weights, const at::Tensor& embedding,
                                   const at::Tensor& rows, int64_t layers) {
  return PropagateRowsFunction::apply(embedding, c10::make_intrusive<ops::GraphHandle>(graph), weights, rows, layers);
}

at::Tensor lightgcn_propagate_all(const Graph& graph, const at::Tensor& weights, const at::Tensor& embedding,
                                  int64_t layers) {
  at::NoGradGuard no_grad;
  at::Tensor h = embedding.contiguous(), sum = h.clone();
  for (int64_t l = 0; l < layers; ++l) {
    h = times_a(graph, weights, h);
    sum.add_(h);
  }
  return sum.div_(static_cast<double>(layers + 1));
}

}  // namespace ripple::tasks
