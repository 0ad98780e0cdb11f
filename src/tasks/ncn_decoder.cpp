// NCN's link predictor. See src/tasks/ncn_decoder.h.
#include "tasks/ncn_decoder.h"

#include <ATen/ATen.h>

#include "ripple/nn/functional.h"
#include "ripple/ops.h"

namespace ripple::tasks {
namespace {

torch::nn::LayerNorm layer_norm(int64_t width) { return torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})); }

}  // namespace

NcnDecoderImpl::NcnDecoderImpl(int64_t width, int64_t layers, double dropout, bool tail_activation)
    : dropout_(dropout) {
  TORCH_CHECK(layers >= 1, "NCN decoder: layers must be at least 1, got ", layers);
  node_in_ = register_module("node_in", nn::Linear(width, width, true, false));
  node_out_ = register_module("node_out", nn::Linear(width, width, true, false));
  node_norm_ = register_module("node_norm", layer_norm(width));
  pair_in_ = register_module("pair_in", nn::Linear(width, width, true, false));
  pair_norm_ = register_module("pair_norm", layer_norm(width));
  cn_in_ = register_module("cn_in", nn::Linear(width, width, true, false));
  cn_out_ = register_module("cn_out", nn::Linear(width, width, true, false));
  cn_norm_ = register_module("cn_norm", layer_norm(width));
  if (!tail_activation) {
    pair_tail_ = register_module("pair_tail", nn::Linear(width, width, true, false));
    cn_tail_ = register_module("cn_tail", nn::Linear(width, width, true, false));
  }
  beta_ = register_parameter("beta", at::ones({1}));
  out_linears_ = register_module("out_linears", torch::nn::ModuleList());
  out_norms_ = register_module("out_norms", torch::nn::ModuleList());
  for (int64_t i = 0; i < layers; ++i) {
    const bool last = i + 1 == layers;
    out_linears_->push_back(nn::Linear(width, last ? 1 : width, true, false));
    if (!last) out_norms_->push_back(layer_norm(width));
  }
}

at::Tensor NcnDecoderImpl::drop_relu(const at::Tensor& x, nn::ForwardContext& ctx) {
  return nn::relu_dropout(x, dropout_, ctx);  // the same values and draws as relu(dropout(x)), in one pass
}

at::Tensor NcnDecoderImpl::neighbour_rows(const at::Tensor& h, nn::ForwardContext& ctx) {
  const at::Tensor x = drop_relu(node_in_->forward(h), ctx);
  return h + drop_relu(node_norm_->forward(node_out_->forward(x)), ctx);
}

at::Tensor NcnDecoderImpl::forward(const at::Tensor& h, const at::Tensor& rows, const at::Tensor& pairs,
                                   const Graph& graph, nn::ForwardContext& ctx) {
  const at::Tensor product = h.index_select(0, pairs[0]) * h.index_select(0, pairs[1]);
  at::Tensor pair = drop_relu(pair_norm_->forward(pair_in_->forward(product)), ctx);
  const at::Tensor cn = ops::gspmm(ops::common_neighbors(graph, pairs), "copy_lhs", "sum", rows, at::Tensor());
  const at::Tensor cn_hidden = drop_relu(cn_in_->forward(cn), ctx);
  at::Tensor cn_branch = drop_relu(cn_norm_->forward(cn_out_->forward(cn_hidden)), ctx);
  if (pair_tail_) {
    pair = pair_tail_->forward(pair);
    cn_branch = cn_tail_->forward(cn_branch);
  }
  at::Tensor x = pair + beta_ * cn_branch;
  const size_t hidden = out_norms_->size();
  for (size_t i = 0; i < hidden; ++i) {
    x = drop_relu(out_norms_[i]->as<torch::nn::LayerNormImpl>()->forward(out_linears_[i]->as<nn::LinearImpl>()->forward(x)),
                  ctx);
  }
  return out_linears_[hidden]->as<nn::LinearImpl>()->forward(x).squeeze(1);
}

}  // namespace ripple::tasks
