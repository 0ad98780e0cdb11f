// Mini-batch training and layer-wise inference. See src/train/minibatch.h.
#include "train/minibatch.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/loss.h>

#include <algorithm>
#include <vector>

#include "ripple/error.h"
#include "ripple/nn/graph_cache.h"
#include "ripple/sample.h"

namespace ripple::train {
namespace {

at::Tensor prepare_rows(at::Tensor x, const BlockContext& context) {
  if (context.normalize_features) x = x / x.sum(1, /*keepdim=*/true).clamp_min(1.0);
  return x;
}

nn::GraphCache block_cache(const Block& block, const BlockContext& context) {
  if (!context.full_degree.defined()) return nn::GraphCache(block.graph);
  return nn::GraphCache::for_block(block.graph, context.full_degree.index_select(0, block.src_nodes));
}

}  // namespace

BlockContext make_block_context(const std::string& model_name, bool normalize_features, const Graph& graph) {
  BlockContext c;
  c.normalize_features = normalize_features;
  if (model_name == "gcn") c.full_degree = nn::GraphCache::full_gcn_degree(graph);
  return c;
}

BlockContext make_block_context(const Config& config, const Graph& graph) {
  return make_block_context(config.get_string("model.name"), config.get_bool("dataset.normalize_features"), graph);
}

LoaderOptions loader_options(const Config& config, uint64_t seed) {
  LoaderOptions o;
  o.sampler.fanouts = config.get_int_list("sampler.fanouts");
  o.sampler.replace = config.get_bool("sampler.replace");
  o.sampler.seed = seed;
  o.batch_size = config.get_int("sampler.batch_size");
  o.workers = config.get_int("sampler.workers");
  o.prefetch = std::max<int64_t>(2, 2 * o.workers);
  return o;
}

void check_minibatch_model(const Config& config, const NodeModel& model) {
  model->require_blocks(static_cast<int64_t>(config.get_int_list("sampler.fanouts").size()), "sampler.fanouts");
}

MinibatchEpoch train_minibatch_epoch(NodeModel& model, torch::optim::Optimizer& optimizer, NeighborLoader& loader,
                                     const BlockContext& context, uint64_t seed, int64_t epoch) {
  MinibatchEpoch r;
  double loss_sum = 0;
  model->train();
  loader.start_epoch(epoch);
  while (auto batch = loader.next()) {
    std::vector<nn::GraphCache> blocks;
    blocks.reserve(batch->sample.blocks.size());
    for (const Block& b : batch->sample.blocks) blocks.push_back(block_cache(b, context));
    nn::ForwardContext ctx{true, seed, epoch, 0, batch->index + 1};
    optimizer.zero_grad();
    const at::Tensor logits = model->forward_blocks(blocks, nn::Features(prepare_rows(batch->features, context)), ctx);
    const at::Tensor loss = torch::nn::functional::cross_entropy(logits, batch->labels);
    loss.backward();
    optimizer.step();
    const int64_t n = batch->labels.numel();
    loss_sum += loss.item<double>() * static_cast<double>(n);
    r.seeds += n;
    ++r.batches;
  }
  r.loss = r.seeds > 0 ? loss_sum / static_cast<double>(r.seeds) : 0.0;
  return r;
}

at::Tensor layerwise_inference(NodeModel& model, const Graph& graph, const at::Tensor& features,
                               const BlockContext& context, int64_t batch_size) {
  at::NoGradGuard no_grad;
  model->eval();
  nn::ForwardContext ctx{false, 0, 0, 0, 0};
  SamplerOptions every_neighbour;
  every_neighbour.fanouts = {-1};
  const int64_t n = graph.num_nodes();
  at::Tensor h;  // the previous layer's output for every node
  for (int64_t layer = 0; layer < model->layers(); ++layer) {
    at::Tensor out;
    for (int64_t begin = 0; begin < n; begin += batch_size) {
      const int64_t end = std::min(n, begin + batch_size);
      const SampledBatch s = sample_neighbors(graph, at::arange(begin, end, at::kLong), every_neighbour, 0);
      const Block& block = s.blocks.front();
      const at::Tensor x = layer == 0 ? prepare_rows(gather_rows(features, block.src_nodes), context)
                                      : h.index_select(0, block.src_nodes);
      nn::GraphCache cache = block_cache(block, context);
      const at::Tensor y = model->forward_layer(static_cast<size_t>(layer), cache, nn::Features(x), ctx);
      if (!out.defined()) out = at::empty({n, y.size(1)}, y.options());
      out.narrow(0, begin, end - begin).copy_(y);
    }
    h = out;
  }
  return h;
}

}  // namespace ripple::train
