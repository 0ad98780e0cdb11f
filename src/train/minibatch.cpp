// Mini-batch training and layer-wise inference. See src/train/minibatch.h.
#include "train/minibatch.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <vector>

#include "ripple/error.h"
#include "ripple/nn/graph_cache.h"
#include "ripple/sample.h"

namespace ripple::train {
at::Tensor prepare_rows(at::Tensor x, const BlockContext& context) {
  if (context.normalize_features) x = x / x.sum(1, /*keepdim=*/true).clamp_min(1.0);
  return x;
}

nn::GraphCache block_cache(const Block& block, const BlockContext& context) {
  if (!context.full_degree.defined()) return nn::GraphCache(block.graph);
  return nn::GraphCache::for_block(block.graph, context.full_degree.index_select(0, block.src_nodes));
}

BlockContext make_block_context(const std::string& model_name, bool normalize_features, const Graph& graph) {
  BlockContext c;
  c.normalize_features = normalize_features;
  if (model_name == "gcn") c.full_degree = nn::GraphCache::full_gcn_degree(graph);
  return c;
}

LoaderOptions loader_options(const SamplerSettings& sampler, uint64_t seed) {
  LoaderOptions o;
  o.sampler.fanouts = sampler.fanouts;
  o.sampler.replace = sampler.replace;
  o.sampler.seed = seed;
  o.batch_size = sampler.batch_size;
  o.workers = sampler.workers;
  o.prefetch = std::max<int64_t>(2, 2 * o.workers);
  return o;
}

at::Tensor layerwise_inference(NodeModel& model, const Graph& graph, const at::Tensor& features,
                               const BlockContext& context, int64_t batch_size, at::ScalarType storage,
                               const PartInference* part) {
  at::NoGradGuard no_grad;
  model->eval();
  nn::ForwardContext ctx{false, 0, 0, 0, 0};
  SamplerOptions every_neighbour;
  every_neighbour.fanouts = {-1};
  const int64_t n = graph.num_nodes(), first = part != nullptr ? part->first_row : 0,
                rows = part != nullptr ? part->end_row : n;
  at::Tensor h;  // the previous layer's output for every node, as `storage` (logits: float32)
  for (int64_t layer = 0; layer < model->layers(); ++layer) {
    const bool last = layer + 1 == model->layers();
    at::Tensor out;
    for (int64_t begin = first; begin < rows; begin += batch_size) {
      const int64_t end = std::min(rows, begin + batch_size);
      const SampledBatch s = sample_neighbors(graph, at::arange(begin, end, at::kLong), every_neighbour, 0);
      const Block& block = s.blocks.front();
      const at::Tensor x = layer == 0 ? prepare_rows(gather_rows(features, block.src_nodes), context)
                                      : h.index_select(0, block.src_nodes).to(at::kFloat);
      nn::GraphCache cache = block_cache(block, context);
      const at::Tensor y = model->forward_layer(static_cast<size_t>(layer), cache, nn::Features(x), ctx);
      if (!out.defined()) {
        const auto options = y.options().dtype(last ? y.scalar_type() : storage);
        out = first > 0 || rows < n ? at::zeros({n, y.size(1)}, options) : at::empty({n, y.size(1)}, options);
      }
      out.narrow(0, begin, end - begin).copy_(y);
    }
    if (part != nullptr && !last) part->complete_rows(out);
    h = out;
  }
  return h;
}

}  // namespace ripple::train
