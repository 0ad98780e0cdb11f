// Node classification as a training-loop task (internal): cross-entropy on the training
// nodes of one graph, accuracy on the train/valid/test nodes, selection on validation
// accuracy (ties: lower validation loss).
//
// Full batch: one batch per epoch, the whole graph. Sampled (sampler.fanouts given): the
// epoch's batches come from a NeighborLoader, one block per layer, and evaluation is exact
// layer-wise inference over the full graph (train/minibatch.h).
//
// A shard (data parallel training) trains on its share of the training nodes: every
// shard.count-th, from shard.index, with its own sampling stream; evaluation covers every
// node.
//
// On a part of a partitioned graph (NodeData::part, sampled runs) the batches come from
// sample_on_part (src/sample/part_sampler.h) in the task's own thread, and evaluation is
// layer-wise over the part's own nodes; with dist.remote = "fetch" every batch and every
// evaluation layer exchanges with the other parts, so every rank must call next_batch
// equally often (ddp does: a rank whose batches ran out keeps answering the others').
//
// NodeData is loaded once per run and shared by every seed's task. Errors (a model without
// block support, a fanout count unlike the layer count) throw SettingError naming the field.
#pragma once

#include <filesystem>
#include <future>
#include <memory>
#include <utility>

#include "ripple/loader.h"
#include "ripple/model.h"
#include "ripple/settings.h"
#include "train/minibatch.h"
#include "train/node_data.h"
#include "train/task.h"

namespace ripple::tasks {

class NodeClassificationTask : public train::Task {
 public:
  // `partial`: the data is one part of a partitioned graph; evaluate() covers the part's own
  // split nodes and reports each metric as a weighted sum (train::kMetricWeightSuffix) for
  // the ranks to reduce.
  // `gather` (sampled training on replicated data in a group that shares its evaluation,
  // GroupStrategy::share_evaluation): each rank computes every layer of the layer-wise
  // evaluation for its contiguous share of the nodes (by shard), the shares are gathered
  // after each hidden layer, and evaluate() reports sums over its share's split nodes.
  NodeClassificationTask(const RunConfig& config, train::NodeData& data, train::Shard shard = {}, bool partial = false,
                         train::GatherRows gather = {});
  torch::nn::Module& build_model(uint64_t seed) override;
  void begin_epoch(int64_t epoch) override;
  void reshard(train::Shard shard) override;
  std::optional<train::BatchLoss> next_batch() override;
  train::Metrics evaluate() override;

 private:
  const RunConfig& config_;
  train::NodeData& data_;
  at::Tensor train_idx_, train_labels_;  // this shard's training nodes
  train::Shard shard_;
  // The mini-batch loader of train_idx_ with this shard's sampling stream (full batch: none).
  void make_loader();
  bool partial_ = false;
  train::GatherRows gather_;
  bool shares_evaluation() const;
  // The nodes [first, end) this rank evaluates: all, or its share when sharing.
  std::pair<int64_t, int64_t> evaluated_rows() const;
  train::BlockContext blocks_;  // sampled runs (on a part: degrees by whole-graph id)
  // On a part: the context of its layer-wise evaluation (degrees by local id), the epoch's
  // order of the training nodes, and where the next batch starts in it.
  train::BlockContext part_eval_blocks_;
  at::Tensor part_order_;
  int64_t part_next_ = 0, part_batch_ = 0;
  std::optional<train::BatchLoss> next_part_batch();
  // The next slice of part_order_'s seeds (empty past its end), sampled and fetched now or,
  // with data_.prefetch_remote, in a thread over the fetching group while this batch trains.
  struct PartSeeds {
    at::Tensor seeds;
    std::future<PartBatch> batch;
  };
  PartSeeds start_part_batch(bool in_thread);
  // Fetching ahead: every call of next_part_batch takes the batch sampled ahead and starts
  // the next one, on every rank alike (the fetching group's exchanges match); what is ahead
  // when the epoch ends is waited for and dropped (finish_prefetch).
  std::optional<PartSeeds> ahead_;
  void finish_prefetch();
  std::unique_ptr<NeighborLoader> loader_;
  NodeModel model_{nullptr};
  uint64_t seed_ = 0;
  int64_t epoch_ = 0;
  bool full_batch_done_ = false;

 public:
  ~NodeClassificationTask() override;
};

}  // namespace ripple::tasks
