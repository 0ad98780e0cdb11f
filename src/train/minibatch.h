// Pieces of mini-batch node classification on sampled blocks (internal; used by the node
// task and the sampler bench): the block context, loader options from the sampler
// settings, a block's graph cache, and the layer-wise full-graph inference that evaluates
// sampled runs. Inference runs the model one layer at a time over all nodes, `batch_size`
// destinations at a time with every neighbour kept, so it equals the full-batch forward
// (up to the rounding of a reduced storage type) while holding only the previous and the
// current layer's [N, width] outputs.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>

#include "ripple/settings.h"
#include "ripple/loader.h"
#include "ripple/model.h"

namespace ripple::train {

// What a block needs besides its graph: the full graph's GCN degrees (defined only for
// models that weight edges that way) and whether gathered rows are normalized.
struct BlockContext {
  at::Tensor full_degree;  // float32 [num_nodes] or undefined
  bool normalize_features = false;
};

BlockContext make_block_context(const std::string& model_name, bool normalize_features, const Graph& graph);

// Loader options from the sampler settings; `seed` keys the shuffles and samples.
LoaderOptions loader_options(const SamplerSettings& sampler, uint64_t seed);

// The input rows of a block as the model sees them (normalized when the context says so).
at::Tensor prepare_rows(at::Tensor x, const BlockContext& context);
// The graph cache of a sampled block: GCN weights from the full graph's degrees.
nn::GraphCache block_cache(const Block& block, const BlockContext& context);

// A share of a layer-wise evaluation: outputs are computed for the rows [first_row,
// end_row) only, and after each hidden layer `complete_rows` fills the other rows (a part's
// halo rows, fetched from their owners, dist.remote = "fetch"; or the other ranks' shares of
// a replicated graph, gathered); the logits of the other rows stay zero.
struct PartInference {
  int64_t first_row = 0, end_row = 0;
  std::function<void(at::Tensor&)> complete_rows;
};

// Logits [N, classes] of every node, in eval mode. Hidden layers' outputs are held for
// every node as `storage` (float32, or float16/bfloat16 to halve that memory) and read
// back as float32; the logits are float32.
at::Tensor layerwise_inference(NodeModel& model, const Graph& graph, const at::Tensor& features,
                               const BlockContext& context, int64_t batch_size,
                               at::ScalarType storage = at::kFloat, const PartInference* part = nullptr);

}  // namespace ripple::train
