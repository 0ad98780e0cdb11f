// Node classification on the training loop. See src/tasks/node_task.h.
#include "tasks/node_task.h"
#include "tasks/shuffle.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/loss.h>
#include <torch/utils.h>

#include <algorithm>

#include "dist/remote_rows.h"

namespace ripple::tasks {
namespace {

double accuracy(const at::Tensor& logits, const at::Tensor& labels, const at::Tensor& idx) {
  if (idx.numel() == 0) return 0.0;
  return logits.index_select(0, idx).argmax(1).eq(labels.index_select(0, idx)).to(at::kDouble).mean().item<double>();
}

}  // namespace

NodeClassificationTask::NodeClassificationTask(const RunConfig& config, train::NodeData& data, train::Shard shard,
                                               bool partial, train::GatherRows gather)
    : config_(config), data_(data), shard_(shard), partial_(partial), gather_(std::move(gather)) {
  const NodeDataset& ds = data_.dataset;
  train_idx_ = shard_of(ds.train_idx, shard);
  train_labels_ = ds.labels.index_select(0, train_idx_);
  if (data_.part) {
    blocks_.normalize_features = part_eval_blocks_.normalize_features = config.dataset.normalize_features;
    if (config.model.name == "gcn") {
      blocks_.full_degree = data_.part->gcn_degree();
      part_eval_blocks_.full_degree = data_.part->gcn_degree().index_select(0, data_.part->global_id());
    }
  } else if (data_.minibatch) {
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
  if (!data_.minibatch || data_.part) return;
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
  if (data_.part) {
    finish_prefetch();  // the previous epoch's last look ahead
    const uint64_t key = nn::mix64(seed_ ^ (0x9A27000000000000ull + static_cast<uint64_t>(epoch)));
    part_order_ = train_idx_.index_select(0, shuffled_order(train_idx_.numel(), key));
    part_next_ = part_batch_ = 0;
  }
}

NodeClassificationTask::PartSeeds NodeClassificationTask::start_part_batch(bool in_thread) {
  // Every part takes the same steps: a part with fewer training nodes has smaller batches.
  const int64_t n = part_order_.numel(),
                size = data_.part_steps > 0 ? (n + data_.part_steps - 1) / data_.part_steps : config_.sampler.batch_size;
  PartSeeds next;
  next.seeds = part_order_.slice(0, std::min(part_next_, n), std::min(part_next_ + size, n));
  part_next_ += size;
  const auto sample = [part = data_.part, features = data_.dataset.features, seeds = next.seeds,
                       options = train::loader_options(config_.sampler, seed_).sampler, epoch = epoch_,
                       remote = in_thread ? data_.prefetch_remote : data_.remote] {
    return sample_on_part(*part, features, seeds, options, epoch, remote.get());
  };
  if (in_thread) {
    next.batch = std::async(std::launch::async, sample);
  } else {
    std::promise<PartBatch> now;
    now.set_value(sample());
    next.batch = now.get_future();
  }
  return next;
}

void NodeClassificationTask::finish_prefetch() {
  if (!ahead_) return;
  PartSeeds pending = std::move(*ahead_);
  ahead_.reset();
  pending.batch.get();  // its exchanges ran on every rank; a failure surfaces here
}

bool NodeClassificationTask::shares_evaluation() const {
  return gather_ && data_.minibatch && !data_.part && shard_.count > 1;
}

std::pair<int64_t, int64_t> NodeClassificationTask::evaluated_rows() const {
  const int64_t n = data_.dataset.num_nodes();
  return shares_evaluation() ? shard_.range(n) : std::pair<int64_t, int64_t>{0, n};
}

NodeClassificationTask::~NodeClassificationTask() {
  if (ahead_ && ahead_->batch.valid()) ahead_->batch.wait();  // the thread reads this task's data
}

std::optional<train::BatchLoss> NodeClassificationTask::next_part_batch() {
  const int64_t n = part_order_.numel();
  if (part_next_ >= n && !data_.remote) return std::nullopt;  // halo only: nobody waits for this rank
  // With fetching, a rank whose batches ran out still samples nothing, to answer the others.
  PartSeeds current;
  if (data_.prefetch_remote) {
    if (!ahead_) ahead_ = start_part_batch(true);
    current = std::move(*ahead_);
    ahead_.reset();
    current.batch.wait();  // one thread at a time on the fetching group: its exchanges stay in order
    ahead_ = start_part_batch(true);  // fetched while this batch trains
  } else {
    current = start_part_batch(false);
  }
  const PartBatch batch = current.batch.get();
  const at::Tensor& seeds = current.seeds;
  if (seeds.numel() == 0) return std::nullopt;
  std::vector<nn::GraphCache> blocks;
  blocks.reserve(batch.sample.blocks.size());
  for (const Block& b : batch.sample.blocks) blocks.push_back(train::block_cache(b, blocks_));
  nn::ForwardContext ctx{true, seed_, epoch_, 0, ++part_batch_};
  const at::Tensor logits = model_->forward_blocks(blocks, nn::Features(train::prepare_rows(batch.features, blocks_)), ctx);
  const at::Tensor labels = data_.dataset.labels.index_select(0, seeds);
  return train::BatchLoss{torch::nn::functional::cross_entropy(logits, labels), labels.numel()};
}

std::optional<train::BatchLoss> NodeClassificationTask::next_batch() {
  if (data_.part) return next_part_batch();
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
  finish_prefetch();  // the epoch's last look ahead, before the evaluation's exchanges
  torch::NoGradGuard no_grad;
  model_->eval();
  at::Tensor logits;
  if (data_.minibatch) {
    const std::string& dtype = config_.sampler.eval_dtype;
    const at::ScalarType storage = dtype == "float16" ? at::kHalf : (dtype == "bfloat16" ? at::kBFloat16 : at::kFloat);
    if (data_.part) {
      // A part's own nodes; with fetching, the halo's rows of each layer come from their owners.
      train::PartInference fetch{0, data_.part->owned(), [&](at::Tensor& h) { data_.remote->complete_halo_rows(h); }};
      logits = train::layerwise_inference(model_, data_.part->graph(), data_.dataset.features, part_eval_blocks_,
                                          config_.sampler.eval_batch_size, storage, data_.remote ? &fetch : nullptr);
    } else if (shares_evaluation()) {
      const auto [first, end] = evaluated_rows();
      train::PartInference share{first, end, [&](at::Tensor& h) { h = gather_(h.narrow(0, first, end - first)); }};
      logits = train::layerwise_inference(model_, data_.dataset.graph, data_.dataset.features, blocks_,
                                          config_.sampler.eval_batch_size, storage, &share);
    } else {
      logits = train::layerwise_inference(model_, data_.dataset.graph, data_.dataset.features, blocks_,
                                          config_.sampler.eval_batch_size, storage);
    }
  } else {
    nn::ForwardContext ctx{false, seed_, 0, 0};
    logits = model_->forward(*data_.graph, data_.features, ctx);
  }
  const NodeDataset& ds = data_.dataset;
  if (partial_ || shares_evaluation()) {
    // Sums over this part's (or this share's) split nodes with their counts, for the ranks
    // to reduce.
    const auto [first, end] = evaluated_rows();
    const auto mine = [&, first = first, end = end](const at::Tensor& idx) {
      return partial_ ? idx : idx.masked_select(idx.ge(first).logical_and(idx.lt(end)));
    };
    train::Metrics m;
    const std::pair<const char*, const at::Tensor*> sets[] = {
        {"train_acc", &ds.train_idx}, {"valid_acc", &ds.valid_idx}, {"test_acc", &ds.test_idx}};
    for (const auto& [name, all] : sets) {
      const at::Tensor idx = mine(*all);
      const auto n = static_cast<double>(idx.numel());
      m[name] = n == 0 ? 0.0 : accuracy(logits, ds.labels, idx) * n;
      m[std::string(name) + train::kMetricWeightSuffix] = n;
    }
    const at::Tensor valid = mine(ds.valid_idx);
    m["valid_loss"] = valid.numel() == 0 ? 0.0
                                         : torch::nn::functional::cross_entropy(
                                               logits.index_select(0, valid), ds.labels.index_select(0, valid),
                                               torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                                               .item<double>();
    m[std::string("valid_loss") + train::kMetricWeightSuffix] = static_cast<double>(valid.numel());
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
