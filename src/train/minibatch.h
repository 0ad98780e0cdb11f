// Mini-batch node classification on sampled blocks, and the layer-wise full-graph
// inference that evaluates it (internal to src/train; used by the trainer and the bench).
//
// An epoch draws its batches from a NeighborLoader (shuffled training seeds, blocks sampled
// and features gathered by worker threads ahead of the step) and takes one optimizer step
// per batch. Inference runs the model one layer at a time over all nodes,
// `batch_size` destinations at a time with every neighbour kept, so it equals the
// full-batch forward while holding only one layer's [N, width] output at once.
// Errors (a model without block support, a fanout count unlike the layer count) throw
// InputError before the first step.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/optim/optimizer.h>

#include "ripple/config.h"
#include "ripple/loader.h"
#include "ripple/model.h"

namespace ripple::train {

// What a block needs besides its graph: the full graph's GCN degrees (defined only for
// models that weight edges that way) and whether gathered rows are normalized.
struct BlockContext {
  at::Tensor full_degree;  // float32 [num_nodes] or undefined
  bool normalize_features = false;
};

BlockContext make_block_context(const Config& config, const Graph& graph);
BlockContext make_block_context(const std::string& model_name, bool normalize_features, const Graph& graph);

// Loader options from the sampler.* keys; `seed` keys the shuffles and samples.
LoaderOptions loader_options(const Config& config, uint64_t seed);

// Checks that `model` can train on config's fanouts (InputError naming the key otherwise).
void check_minibatch_model(const Config& config, const NodeModel& model);

struct MinibatchEpoch {
  double loss = 0;        // mean over the epoch's seeds
  int64_t batches = 0;
  int64_t seeds = 0;
};

MinibatchEpoch train_minibatch_epoch(NodeModel& model, torch::optim::Optimizer& optimizer, NeighborLoader& loader,
                                     const BlockContext& context, uint64_t seed, int64_t epoch);

// Logits [N, classes] of every node, in eval mode.
at::Tensor layerwise_inference(NodeModel& model, const Graph& graph, const at::Tensor& features,
                               const BlockContext& context, int64_t batch_size);

}  // namespace ripple::train
