// Graph-level models. See include/ripple/graph_model.h.
#include "ripple/graph_model.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/nn/modules/batchnorm.h>

#include "ripple/error.h"
#include "ripple/nn/functional.h"
#include "ripple/nn/layers.h"
#include "ripple/ops.h"

namespace ripple {

namespace nn {
at::Tensor readout(const Graph& pool, const at::Tensor& x, const std::string& reduce) {
  return ops::gspmm(pool, "copy_lhs", reduce, x, at::Tensor());
}
}  // namespace nn

bool is_known_graph_model(const std::string& name) {
  return name == "gin" || name == "gcn" || name == "sage" || name == "mlp";
}

GraphModelImpl::GraphModelImpl(const ModelConfig& c, int64_t in_features, int64_t num_classes) : config_(c) {
  if (!is_known_graph_model(c.name)) {
    throw SettingError("model.name", fmt::format("\"{}\" is not a graph-classification model (gin, gcn, sage, mlp)", c.name));
  }
  if (c.layers < 2) throw SettingError("model.layers", "graph models need at least 2 (the input counts as one)");
  if (c.readout != "sum" && c.readout != "mean" && c.readout != "max") {
    throw SettingError("model.readout", fmt::format("expected sum, mean or max, got \"{}\"", c.readout));
  }
  convs_ = register_module("convs", torch::nn::ModuleList());
  norms_ = register_module("norms", torch::nn::ModuleList());
  heads_ = register_module("heads", torch::nn::ModuleList());
  const int64_t h = c.hidden;
  if (c.name == "mlp") {
    int64_t width = in_features;
    for (int64_t i = 0; i + 1 < c.layers; ++i, width = h) heads_->push_back(nn::Linear(width, h, true, false));
    heads_->push_back(nn::Linear(width, num_classes, true, false));
    return;
  }
  for (int64_t i = 0; i + 1 < c.layers; ++i) {
    const int64_t in = i == 0 ? in_features : h;
    if (c.name == "gin") {
      convs_->push_back(nn::GINConv(in, h, h, c.train_eps));
      norms_->push_back(torch::nn::BatchNorm1d(h));
    } else if (c.name == "gcn") {
      convs_->push_back(nn::GCNConv(in, h));
    } else {
      convs_->push_back(nn::SAGEConv(in, h, "mean"));
    }
  }
  if (c.name == "gin") {
    for (int64_t i = 0; i < c.layers; ++i) heads_->push_back(nn::Linear(i == 0 ? in_features : h, num_classes, true, false));
  } else {
    heads_->push_back(nn::Linear(h, num_classes, true, false));
  }
}

at::Tensor GraphModelImpl::forward(nn::GraphCache& graph, const Graph& pool, const at::Tensor& x,
                                   nn::ForwardContext& ctx) {
  const std::string& reduce = config_.readout;
  auto head = [&](size_t i, const at::Tensor& pooled) {
    return heads_->at<nn::LinearImpl>(i).forward(nn::Features(pooled));
  };
  if (config_.name == "mlp") {
    at::Tensor h = nn::readout(pool, x, reduce);
    for (size_t i = 0; i < heads_->size(); ++i) {
      if (i + 1 == heads_->size()) h = nn::dropout(h, config_.dropout, ctx);
      h = head(i, h);
      if (i + 1 < heads_->size()) h = at::relu(h);
    }
    return h;
  }
  at::Tensor h = x;
  if (config_.name == "gin") {
    at::Tensor scores = nn::dropout(head(0, nn::readout(pool, h, reduce)), config_.dropout, ctx);
    for (size_t i = 0; i < convs_->size(); ++i) {
      h = convs_->at<nn::GINConvImpl>(i).forward(graph, nn::Features(h), ctx);
      h = at::relu(norms_->at<torch::nn::BatchNorm1dImpl>(i).forward(h));
      scores = scores + nn::dropout(head(i + 1, nn::readout(pool, h, reduce)), config_.dropout, ctx);
    }
    return scores;
  }
  for (size_t i = 0; i < convs_->size(); ++i) {
    if (config_.name == "gcn") {
      h = convs_->at<nn::GCNConvImpl>(i).forward(graph, nn::Features(h), ctx);
    } else {
      h = convs_->at<nn::SAGEConvImpl>(i).forward(graph, nn::Features(h), ctx);
    }
    h = at::relu(h);
  }
  return head(0, nn::dropout(nn::readout(pool, h, reduce), config_.dropout, ctx));
}

}  // namespace ripple
