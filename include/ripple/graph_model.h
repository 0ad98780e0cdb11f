// Graph-level models: node layers, a readout per graph, a classifier on top.
//
//   gin:  the GIN paper's model. `layers` counts the input as a layer, so layers - 1 GIN
//         convolutions (MLP Linear-BatchNorm-ReLU-Linear, then BatchNorm and ReLU), epsilon
//         fixed at 0 (GIN-0) or learned (`train_eps`). Every layer's output, the input
//         included, is read out per graph and mapped to class scores by its own linear
//         layer with dropout; the scores are summed.
//   gcn, sage: layers - 1 convolutions with ReLU, then a readout of the last layer, dropout
//         and a linear classifier.
//   mlp:  the structure-agnostic baseline: the readout of the raw node features (no edges),
//         then an MLP of `layers` - 1 hidden ReLU layers and a linear output.
// Readouts are `readout` in {sum, mean, max}: segment reductions on the kernel algebra.
// Takes the `model.*` settings (ripple/settings.h; heads, norm and the like do not apply).
// Construction throws SettingError for an unknown name or a bad size.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>

#include <string>

#include "ripple/graph.h"
#include "ripple/nn/context.h"
#include "ripple/nn/graph_cache.h"
#include "ripple/settings.h"

namespace ripple {


namespace nn {
// out[b] = REDUCE over the nodes of graph b of x[node]: gspmm(copy_lhs) on the pooling graph.
at::Tensor readout(const Graph& pool, const at::Tensor& x, const std::string& reduce);
}  // namespace nn

class GraphModelImpl : public torch::nn::Module {
 public:
  GraphModelImpl(const ModelConfig& config, int64_t in_features, int64_t num_classes);
  // Class scores [num graphs, num_classes] for a batch: `graph` over its nodes, `pool` from
  // nodes to graphs (see ripple/graph_batch.h).
  at::Tensor forward(nn::GraphCache& graph, const Graph& pool, const at::Tensor& x, nn::ForwardContext& ctx);
  const ModelConfig& config() const { return config_; }

 private:
  ModelConfig config_;
  torch::nn::ModuleList convs_, norms_, heads_;
};
TORCH_MODULE(GraphModel);

bool is_known_graph_model(const std::string& name);

}  // namespace ripple
