// Link prediction as a training-loop task (internal). See docs/link_prediction.md.
//
// Model: an encoder (any node model of ripple/model.h, output width model.hidden) over the
// training edges, on the node features or on learned embeddings (link.embedding), and a
// decoder scoring a pair from its two embeddings: dot product, an MLP on their Hadamard
// product, or NCN's (Wang et al. 2023, tasks/ncn_decoder.h), which also sums the embeddings
// of the pair's common neighbours (ops::common_neighbors).
// Training: batches of positive training edges (link.batch_size, in an order keyed by seed
// and epoch), each with link.negatives uniform negatives per positive (counter-based,
// keyed by seed, epoch and batch); the encoder runs on the whole graph for each batch (with
// link.mask_targets, on the graph without the batch's positive edges); the
// loss is binary cross-entropy, -log s(pos) averaged plus -log(1 - s(neg)) averaged, as in
// OGB's examples. Evaluation: the scores of every validation and test pair, reported as
// auc, ap and hits@K for the test pairs and valid_auc, valid_ap, valid_hits@K, valid_loss
// for the validation ones. Selection: the highest valid_<link_selection_metric>.
//
// LinkData is loaded once per split: once per run for dataset splits and a fixed
// link.split_seed, else once per seed. A dataset without node features and
// link.embedding = 0 throws SettingError("link.embedding").
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/normalization.h>

#include <memory>

#include "ripple/link_dataset.h"
#include "ripple/model.h"
#include "ripple/settings.h"
#include "tasks/ncn_decoder.h"
#include "train/task.h"

namespace ripple::tasks {

struct LinkData {
  LinkDataset dataset;
  std::unique_ptr<nn::GraphCache> graph;  // the training edges, both directions
  nn::Features features;                  // empty when link.embedding > 0
};

// Loads config.dataset.path (already resolved) as link.split asks: the OGB link layout's
// split dataset.split, or a random split of a node dataset drawn with `split_seed`.
// Throws InputError/SettingError.
std::shared_ptr<LinkData> prepare_link_data(const RunConfig& config, uint64_t split_seed);
// Whether each seed of a run draws its own split (random split, link.split_seed = -1).
bool split_per_seed(const RunConfig& config);

// The encoder's output for one graph: the node embeddings, and for the ncn decoder the rows
// its common neighbours sum (NcnDecoderImpl::neighbour_rows).
struct LinkEncoding {
  at::Tensor h;         // [N, model.hidden]
  at::Tensor cn_rows;   // [N, model.hidden], ncn only
};

class LinkModelImpl : public torch::nn::Module {
 public:
  LinkModelImpl(const RunConfig& config, int64_t num_nodes, int64_t in_features);

  // Node embeddings from the features (ignored with learned embeddings), followed by
  // link.encoder_norm.
  LinkEncoding encode(nn::GraphCache& graph, const nn::Features& x, nn::ForwardContext& ctx);

  // One score (a logit) per column of `pairs` (int64 [2, B]); `graph` (the one encoded)
  // gives the ncn decoder its common neighbours.
  at::Tensor score(const LinkEncoding& e, const at::Tensor& pairs, const Graph& graph, nn::ForwardContext& ctx);

 private:
  LinkSettings link_;
  std::string activation_;
  double decoder_dropout_;
  at::Tensor embedding_;  // [N, link.embedding] when learned
  NodeModel encoder_{nullptr};
  torch::nn::LayerNorm encoder_norm_{nullptr};  // link.encoder_norm = layer
  torch::nn::ModuleList decoder_;  // the mlp decoder's linear layers
  NcnDecoder ncn_{nullptr};
};
TORCH_MODULE(LinkModel);

class LinkPredictionTask : public train::Task {
 public:
  // `shard`: data parallel training; this rank trains on its share of the training
  // interactions (tasks/shuffle.h: shard_of). Evaluation covers all the pairs: with `gather`
  // (GroupStrategy::gather_evaluation) each rank scores its contiguous share of each pair
  // set and the scores are gathered, so every rank computes the metrics from all of them;
  // without, this rank scores every pair.
  LinkPredictionTask(const RunConfig& config, std::shared_ptr<LinkData> data, train::Shard shard = {},
                     train::GatherRows gather = {});
  torch::nn::Module& build_model(uint64_t seed) override;
  void begin_epoch(int64_t epoch) override;
  void reshard(train::Shard shard) override;
  std::optional<train::BatchLoss> next_batch() override;
  train::Metrics evaluate() override;
  train::Selection selection() const override;

 private:
  at::Tensor scores(const LinkEncoding& e, const at::Tensor& pairs);
  // The scores of every pair of `pairs`, this rank's share scored here when gathering.
  at::Tensor all_scores(const LinkEncoding& e, const at::Tensor& pairs);
  const RunConfig& config_;
  std::shared_ptr<LinkData> data_;
  LinkModel model_{nullptr};
  train::Shard shard_;
  train::GatherRows gather_;
  uint64_t seed_ = 0;
  int64_t epoch_ = 0, batch_ = 0, next_ = 0;
  at::Tensor order_;  // int64 [E]: this epoch's order of the training edges
};

}  // namespace ripple::tasks
