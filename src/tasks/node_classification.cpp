// Node classification on the training loop. See src/tasks/node_task.h.
#include "tasks/node_task.h"
#include "tasks/shuffle.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/loss.h>
#include <torch/utils.h>

namespace ripple::tasks {
namespace {

double accuracy(const at::Tensor& logits, const at::Tensor& labels, const at::Tensor& idx) {
  if (idx.numel() == 0) return 0.0;
  return logits.index_select(0, idx).argmax(1).eq(labels.index_select(0, idx)).to(at::kDouble).mean().item<double>();
}

}  // namespace

NodeClassificationTask::NodeClassificationTask(const RunConfig& config, train::NodeData& data, train::Shard shard,
                                               bool partial)
    : config_(config), data_(data), shard_(shard), partial_(partial) {
  const NodeDataset& ds = data_.dataset;
  train_idx_ = shard_of(ds.train_idx, shard);
  train_labels_ = ds.labels.index_select(0, train_idx_);
  if (data_.minibatch) {
    blocks_ = train::make_block_context(config.model.name, config.dataset.normalize_features, ds.graph);
  }
}

torch::nn::Module& NodeClassificationTask::build_model(uint64_t seed) {
  seed_ = seed;
  torch::manual_seed(seed);
  model_ = NodeModel(config_.model, data_.dataset.num_features(), data_.dataset.num_classes);
  make_loader();
  return *model_;
}

void NodeClassificationTask::make_loader() {
  if (!data_.minibatch) return;
  const NodeDataset& ds = data_.dataset;
  loader_ = std::make_unique<NeighborLoader>(ds.graph, ds.features, ds.labels, train_idx_,
                                             train::loader_options(config_.sampler, shard_key(seed_, shard_)));
}

void NodeClassificationTask::reshard(train::Shard shard) {
  if (partial_) throw std::logic_error("a partition's task trains on its own nodes; it cannot take another's share");
  shard_ = shard;
  train_idx_ = shard_of(data_.dataset.train_idx, shard);
  train_labels_ = data_.dataset.labels.index_select(0, train_idx_);
  if (!model_.is_empty()) make_loader();
}

void NodeClassificationTask::begin_epoch(int64_t epoch) {
  epoch_ = epoch;
  full_batch_done_ = false;
  model_->train();
  if (loader_) loader_->start_epoch(epoch);
}

std::optional<train::BatchLoss> NodeClassificationTask::next_batch() {
  if (loader_) {
    std::optional<LoadedBatch> batch = loader_->next();
    if (!batch) return std::nullopt;
    std::vector<nn::GraphCache> blocks;
    blocks.reserve(batch->sample.blocks.size());
    for (const Block& b : batch->sample.blocks) blocks.push_back(train::block_cache(b, blocks_));
    nn::ForwardContext ctx{true, seed_, epoch_, 0, batch->index + 1};
    const at::Tensor logits =
        model_->forward_blocks(blocks, nn::Features(train::prepare_rows(batch->features, blocks_)), ctx);
    return train::BatchLoss{torch::nn::functional::cross_entropy(logits, batch->labels), batch->labels.numel()};
  }
  if (full_batch_done_ || train_idx_.numel() == 0) return std::nullopt;  // done, or a shard without training nodes
  full_batch_done_ = true;
  nn::ForwardContext ctx{true, seed_, epoch_, 0};
  const at::Tensor logits = model_->forward(*data_.graph, data_.features, ctx);
  return train::BatchLoss{torch::nn::functional::cross_entropy(logits.index_select(0, train_idx_), train_labels_),
                          train_idx_.numel()};
}

train::Metrics NodeClassificationTask::evaluate() {
  torch::NoGradGuard no_grad;
  model_->eval();
  at::Tensor logits;
  if (data_.minibatch) {
    const std::string& dtype = config_.sampler.eval_dtype;
    logits = train::layerwise_inference(model_, data_.dataset.graph, data_.dataset.features, blocks_,
                                        config_.sampler.eval_batch_size,
                                        dtype == "float16" ? at::kHalf : (dtype == "bfloat16" ? at::kBFloat16 : at::kFloat));
  } else {
    nn::ForwardContext ctx{false, seed_, 0, 0};
    logits = model_->forward(*data_.graph, data_.features, ctx);
  }
  const NodeDataset& ds = data_.dataset;
  if (partial_) {
    // Sums over this part's nodes with their counts, for the ranks to reduce.
    train::Metrics m;
    const std::pair<const char*, const at::Tensor*> sets[] = {
        {"train_acc", &ds.train_idx}, {"valid_acc", &ds.valid_idx}, {"test_acc", &ds.test_idx}};
    for (const auto& [name, idx] : sets) {
      const auto n = static_cast<double>(idx->numel());
      m[name] = accuracy(logits, ds.labels, *idx) * n;
      m[std::string(name) + train::kMetricWeightSuffix] = n;
    }
    m["valid_loss"] = ds.valid_idx.numel() == 0 ? 0.0
                                                : torch::nn::functional::cross_entropy(
                                                      logits.index_select(0, ds.valid_idx),
                                                      ds.labels.index_select(0, ds.valid_idx),
                                                      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                                                      .item<double>();
    m[std::string("valid_loss") + train::kMetricWeightSuffix] = static_cast<double>(ds.valid_idx.numel());
    return m;
  }
  const double valid_loss =
      ds.valid_idx.numel() == 0
          ? 0.0
          : torch::nn::functional::cross_entropy(logits.index_select(0, ds.valid_idx), ds.labels.index_select(0, ds.valid_idx))
                .item<double>();
  return {{"train_acc", accuracy(logits, ds.labels, ds.train_idx)},
          {"valid_acc", accuracy(logits, ds.labels, ds.valid_idx)},
          {"valid_loss", valid_loss},
          {"test_acc", accuracy(logits, ds.labels, ds.test_idx)}};
}

}  // namespace ripple::tasks
