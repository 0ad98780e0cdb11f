#include "ripple/model.h"

#include <fmt/format.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/normalization.h>

#include "ripple/error.h"
#include "ripple/nn/functional.h"
#include "ripple/nn/layers.h"
#include "ripple/ops.h"

namespace ripple {

using nn::Features;

bool is_known_model(const std::string& n) {
  return n == "gcn" || n == "sage" || n == "gat" || n == "gatv2" || n == "gin" || n == "appnp" ||
         n == "sgc" || n == "mlp" || n == "simple";
}

NodeModelImpl::NodeModelImpl(const ModelConfig& c, int64_t in, int64_t classes) : config_(c) {
  if (!is_known_model(c.name)) throw SettingError("model.name", "unknown model '" + c.name + "'");
  if (c.layers < 1) throw SettingError("model.layers", "must be at least 1");
  if (c.name == "simple" && in != classes) {
    throw SettingError("model.name", fmt::format("simple layers keep their input's width ({}), but the model must "
                                                 "output {} columns", in, classes));
  }
  convs_ = register_module("convs", torch::nn::ModuleList());
  norms_ = register_module("norms", torch::nn::ModuleList());
  const bool attention = c.name == "gat" || c.name == "gatv2";
  const int64_t layers = c.name == "sgc" ? 1 : c.layers;
  int64_t width = in;
  for (int64_t i = 0; i < layers; ++i) {
    const bool last = i + 1 == layers;
    const int64_t out = c.name == "simple" ? in : last ? classes : c.hidden;  // simple keeps the width
    const int64_t heads = last ? c.out_heads : c.heads;
    if (c.name == "gcn") convs_->push_back(nn::GCNConv(width, out));
    else if (c.name == "sage") convs_->push_back(nn::SAGEConv(width, out, c.aggr));
    else if (c.name == "gat") convs_->push_back(nn::GATConv(width, out, heads, !last, c.negative_slope, c.attn_dropout));
    else if (c.name == "gatv2") convs_->push_back(nn::GATv2Conv(width, out, heads, !last, c.negative_slope, c.attn_dropout));
    else if (c.name == "gin") convs_->push_back(nn::GINConv(width, out, c.hidden, c.train_eps));
    else if (c.name == "simple") convs_->push_back(nn::SimpleConv(c.aggr, c.combine_root));
    else convs_->push_back(nn::Linear(width, out, true, false));
    width = attention && !last ? out * heads : out;
    if (!last) {
      if (c.norm == "batch") norms_->push_back(torch::nn::BatchNorm1d(width));
      else if (c.norm == "layer") norms_->push_back(torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
      else if (c.norm != "none") throw SettingError("model.norm", "expected none, batch or layer, got '" + c.norm + "'");
    }
  }
  if (c.name == "appnp") {
    propagation_ = register_module("propagation", nn::APPNPPropagation(c.k, c.alpha));
  }
}

at::Tensor NodeModelImpl::run_layer(size_t i, nn::GraphCache& g, const Features& x, nn::ForwardContext& ctx) {
  const auto& m = convs_[i];
  if (auto* conv = m->as<nn::GCNConvImpl>()) return conv->forward(g, x, ctx);
  if (auto* conv = m->as<nn::SAGEConvImpl>()) return conv->forward(g, x, ctx);
  if (auto* conv = m->as<nn::GATConvImpl>()) return conv->forward(g, x, ctx);
  if (auto* conv = m->as<nn::GATv2ConvImpl>()) return conv->forward(g, x, ctx);
  if (auto* conv = m->as<nn::GINConvImpl>()) return conv->forward(g, x, ctx);
  if (auto* conv = m->as<nn::SimpleConvImpl>()) return conv->forward(g, x, ctx);
  return m->as<nn::LinearImpl>()->forward(x.head(g.base().num_dst()));
}

at::Tensor NodeModelImpl::forward_layer(size_t i, nn::GraphCache& g, const Features& x, nn::ForwardContext& ctx) {
  const ModelConfig& c = config_;
  const double p = i == 0 ? (c.input_dropout >= 0 ? c.input_dropout : c.dropout) : c.dropout;
  at::Tensor y = run_layer(i, g, x.dropout(p, ctx), ctx);
  if (i + 1 == convs_->size()) return y;
  if (c.norm == "batch") y = norms_[i]->as<torch::nn::BatchNorm1dImpl>()->forward(y);
  if (c.norm == "layer") y = norms_[i]->as<torch::nn::LayerNormImpl>()->forward(y);
  y = nn::activate(y, c.activation);
  // Residual from the previous hidden layer's output (this layer's input) when widths match.
  if (c.residual && i > 0 && x.cols() == y.size(1)) y = y + x.head(y.size(0)).dense();
  return y;
}

at::Tensor NodeModelImpl::forward_blocks(std::vector<nn::GraphCache>& blocks, const Features& x,
                                         nn::ForwardContext& ctx) {
  TORCH_CHECK(static_cast<int64_t>(blocks.size()) == layers(), "forward_blocks: ", blocks.size(),
              " blocks for a model of ", layers(), " layers");
  Features h = x;
  for (size_t i = 0; i < blocks.size(); ++i) h = Features(forward_layer(i, blocks[i], h, ctx));
  return h.dense();
}

at::Tensor NodeModelImpl::forward(nn::GraphCache& g, const Features& x, nn::ForwardContext& ctx) {
  const ModelConfig& c = config_;
  Features h = x;
  if (c.name == "sgc") {
    if (!sgc_cache_.defined()) {
      at::NoGradGuard no_grad;
      at::Tensor p = x.dense();
      for (int64_t i = 0; i < c.k; ++i) p = ops::gspmm(g.with_self_loops(), "mul", "sum", p, g.gcn_weights());
      sgc_cache_ = p;
    }
    h = Features(sgc_cache_);
  }
  at::Tensor y;
  for (size_t i = 0; i < convs_->size(); ++i) {
    y = forward_layer(i, g, h, ctx);
    h = Features(y);
  }
  if (c.name == "appnp") y = propagation_->forward(g, y);
  return y;
}

}  // namespace ripple
