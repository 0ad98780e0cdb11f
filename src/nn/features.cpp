#include "ripple/nn/features.h"

#include <ATen/ATen.h>

#include "nn/dense_linear.h"
#include "ripple/nn/functional.h"
#include "ripple/ops.h"
#include "runtime/work_counter.h"

namespace ripple::nn {

Features::Features(at::Tensor dense) : dense_(std::move(dense)) {}

Features Features::from_dense(const at::Tensor& dense, double max_density) {
  Features f(dense);
  if (dense.dim() != 2 || dense.numel() == 0) return f;
  const at::Tensor nz = dense.nonzero();  // [nnz, 2] row-major order = CSC order by node
  if (static_cast<double>(nz.size(0)) > max_density * static_cast<double>(dense.numel())) return f;
  const at::Tensor row = nz.select(1, 0).contiguous(), col = nz.select(1, 1).contiguous();
  GraphBuildOptions o;
  o.dedupe = false;
  f.pattern_ = std::make_shared<const Graph>(Graph::from_bipartite_edges(dense.size(1), dense.size(0), col, row, o));
  f.values_ = dense.index({row, col}).view({-1, 1}).contiguous();
  return f;
}

int64_t Features::rows() const { return dense_.defined() ? dense_.size(0) : pattern_->num_dst(); }
int64_t Features::cols() const { return dense_.defined() ? dense_.size(1) : pattern_->num_src(); }

at::Tensor Features::dense() const {
  if (dense_.defined()) return dense_;
  const CooView& c = pattern_->coo();
  return at::zeros({pattern_->num_dst(), pattern_->num_src()}, values_.options())
      .index_put_({c.dst, c.src}, values_.view(-1));
}

Features Features::dropout(double p, ForwardContext& ctx) const {
  if (!ctx.training || p <= 0.0) return *this;
  if (!is_sparse()) return Features(nn::dropout(dense_, p, ctx));
  Features f;
  f.pattern_ = pattern_;
  f.values_ = nn::dropout(values_, p, ctx);
  return f;
}

Features Features::head(int64_t n) const {
  if (n == rows()) return *this;
  return Features(dense().narrow(0, 0, n));
}

at::Tensor Features::linear(const at::Tensor& weight, const at::Tensor& bias) const {
  at::Tensor out;
  if (is_sparse()) {
    out = ops::gspmm(*pattern_, "mul", "sum", weight.t().contiguous(), values_);
  } else {
    out = dense_linear(dense_, weight, bias);
    // Roofline accounting: this product, and the two backward ones autograd will run for it
    // (gradient of the weight, of the input) when they are needed.
    const auto product = static_cast<uint64_t>(2 * dense_.numel() / std::max<int64_t>(dense_.size(-1), 1) *
                                               weight.size(0) * weight.size(1));
    int passes = 1;
    if (at::GradMode::is_enabled()) passes += static_cast<int>(weight.requires_grad()) + static_cast<int>(dense_.requires_grad());
    work::add_dense_flops(product * static_cast<uint64_t>(passes));
    return out;  // dense_linear added the bias
  }
  return bias.defined() ? out + bias : out;
}

}  // namespace ripple::nn
