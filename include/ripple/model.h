// Node-classification models assembled from configuration (the `model.*` keys).
//
//   gcn, sage, gat, gatv2, gin: a stack of `layers` graph layers, hidden width `hidden`
//     (GAT: `heads` heads of `hidden` each, concatenated; the output layer has `out_heads`
//     heads, averaged), each hidden layer followed by normalization (`norm`), `activation`,
//     an optional residual connection (between equal widths) and dropout.
//   appnp: an MLP of `layers` linear layers, then `k` steps of personalized PageRank (`alpha`).
//   sgc:   one linear layer on A_hat^k X (propagated once and cached).
//   mlp:   `layers` linear layers, no edges (the baseline every GNN should beat).
// Construction throws SettingError for an unknown name or invalid combination.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>

#include <string>
#include <vector>

#include "ripple/nn/context.h"
#include "ripple/nn/features.h"
#include "ripple/nn/graph_cache.h"
#include "ripple/nn/layers.h"
#include "ripple/settings.h"

namespace ripple {


class NodeModelImpl : public torch::nn::Module {
 public:
  NodeModelImpl(const ModelConfig& config, int64_t in_features, int64_t num_classes);
  // Logits [N, num_classes].
  at::Tensor forward(nn::GraphCache& graph, const nn::Features& x, nn::ForwardContext& ctx);

  // Mini-batch forward on sampled blocks, one per layer, input layer first (see
  // ripple/sample.h): logits of the last block's destinations. The block count must equal
  // layers() and the model must be layer-local (not appnp or sgc): validate_run_config
  // checks both for sampled runs.
  at::Tensor forward_blocks(std::vector<nn::GraphCache>& blocks, const nn::Features& x, nn::ForwardContext& ctx);
  // Layer i alone (dropout on its input, the layer, and for hidden layers norm, activation
  // and residual): what forward runs per layer, and what layer-wise inference runs per batch.
  at::Tensor forward_layer(size_t i, nn::GraphCache& graph, const nn::Features& x, nn::ForwardContext& ctx);
  int64_t layers() const { return static_cast<int64_t>(convs_->size()); }
  const ModelConfig& config() const { return config_; }

 private:
  at::Tensor run_layer(size_t i, nn::GraphCache& graph, const nn::Features& x, nn::ForwardContext& ctx);
  ModelConfig config_;
  torch::nn::ModuleList convs_;
  torch::nn::ModuleList norms_;
  nn::APPNPPropagation propagation_{nullptr};
  at::Tensor sgc_cache_;  // A_hat^k X for sgc, built on first forward
};
TORCH_MODULE(NodeModel);

bool is_known_model(const std::string& name);

}  // namespace ripple
