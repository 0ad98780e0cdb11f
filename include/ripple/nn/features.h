// Features: node input features, dense and, when mostly zeros (bag-of-words inputs such as
// Cora's), also as sparse rows. Dropout then acts on the stored non-zeros only (the zeros
// would stay zero anyway, so the distribution is the same as dense dropout) and the first
// linear transform becomes a gspmm over the (node x feature) bipartite graph: the 2708 x 1433
// Cora input costs 49k multiply-adds per output column instead of 3.9M.
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>

#include "ripple/graph.h"
#include "ripple/nn/context.h"

namespace ripple::nn {

class Features {
 public:
  Features() = default;
  Features(at::Tensor dense);  // NOLINT: implicit, so dense tensors pass where Features go

  // Keeps a sparse form too when the fraction of non-zeros is at most `max_density`.
  static Features from_dense(const at::Tensor& dense, double max_density);

  bool is_sparse() const { return pattern_ != nullptr; }
  int64_t rows() const;
  int64_t cols() const;
  // The dense matrix (materialized from the sparse values after dropout).
  at::Tensor dense() const;

  Features dropout(double p, ForwardContext& ctx) const;
  // The first `n` rows (a bipartite block's destinations); dense unless n == rows().
  Features head(int64_t n) const;
  // x @ weight^T (+ bias if defined); weight is [out, in] as in torch::nn::Linear.
  at::Tensor linear(const at::Tensor& weight, const at::Tensor& bias) const;

 private:
  at::Tensor dense_;                 // undefined when only sparse values are current
  std::shared_ptr<const Graph> pattern_;  // dst = node rows, src = feature columns
  at::Tensor values_;                // [nnz, 1] in the pattern's CSC order
};

}  // namespace ripple::nn
