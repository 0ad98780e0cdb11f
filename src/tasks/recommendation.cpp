// Recommendation (LightGCN with BPR, UltraGCN) on the training loop. See src/tasks/recommend_task.h.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/utils.h>

#include <algorithm>

#include "ripple/error.h"
#include "ripple/nn/context.h"
#include "ripple/ranking.h"
#include "ripple/sample.h"
#include "tasks/lightgcn_propagation.h"
#include "tasks/recommend_task.h"
#include "tasks/shuffle.h"

namespace ripple::tasks {
namespace {

using nn::mix64;

// The distinct values of `ids` (int64, each in [0, n)) ascending, and the position of each
// entry of `ids` among them.
std::pair<at::Tensor, at::Tensor> distinct_ids(const at::Tensor& ids, int64_t n) {
  std::vector<int64_t> slot(static_cast<size_t>(n), -1);
  const int64_t* id = ids.data_ptr<int64_t>();
  for (int64_t i = 0; i < ids.numel(); ++i) slot[static_cast<size_t>(id[i])] = 0;
  std::vector<int64_t> distinct;
  for (int64_t v = 0; v < n; ++v) {
    if (slot[static_cast<size_t>(v)] == 0) {
      slot[static_cast<size_t>(v)] = static_cast<int64_t>(distinct.size());
      distinct.push_back(v);
    }
  }
  at::Tensor position = at::empty_like(ids);
  int64_t* pos = position.data_ptr<int64_t>();
  for (int64_t i = 0; i < ids.numel(); ++i) pos[i] = slot[static_cast<size_t>(id[i])];
  return {at::tensor(distinct, at::kLong), position};
}

}  // namespace

std::shared_ptr<RecommendData> prepare_recommend_data(const RunConfig& c) {
  auto out = std::make_shared<RecommendData>();
  RecommendData& d = *out;
  d.dataset = load_interactions(c.dataset.path);
  d.pairs = d.dataset.train_pairs();
  const at::Tensor item_nodes = d.pairs[1] + d.dataset.num_users;
  GraphBuildOptions options;
  options.symmetrize = true;
  d.graph = Graph::from_edges(d.dataset.num_users + d.dataset.num_items, d.pairs[0].contiguous(), item_nodes, options);
  d.weights = d.graph.gcn_norm().unsqueeze(1).contiguous();
  if (c.model.name == "ultragcn") d.ultragcn = build_ultragcn_graph(d.dataset, c.recommend.item_neighbors);
  return out;
}

LightGCNImpl::LightGCNImpl(int64_t num_nodes, int64_t dim, int64_t layers, double init_std) : layers_(layers) {
  embedding_ = register_parameter("embedding", at::empty({num_nodes, dim}, at::kFloat).normal_(0.0, init_std));
}

at::Tensor LightGCNImpl::propagate(const Graph& graph, const at::Tensor& weights) {
  return lightgcn_propagate_all(graph, weights, embedding_, layers_);
}

at::Tensor LightGCNImpl::propagate_rows(const Graph& graph, const at::Tensor& weights, const at::Tensor& rows) {
  return lightgcn_propagate_rows(graph, weights, embedding_, rows, layers_);
}

RecommendationTask::RecommendationTask(const RunConfig& config, std::shared_ptr<RecommendData> data,
                                       train::Shard shard)
    : config_(config), data_(std::move(data)), shard_(shard) {}

void RecommendationTask::reshard(train::Shard shard) { shard_ = shard; }  // each epoch's order reads it

torch::nn::Module& RecommendationTask::build_model(uint64_t seed) {
  seed_ = seed;
  torch::manual_seed(seed);
  const InteractionDataset& d = data_->dataset;
  const int64_t layers = config_.model.name == "ultragcn" ? 0 : config_.model.layers;
  model_ = LightGCN(d.num_users + d.num_items, config_.model.hidden, layers, config_.recommend.init_std);
  return *model_;
}

void RecommendationTask::begin_epoch(int64_t epoch) {
  epoch_ = epoch;
  batch_ = 0;
  next_ = 0;
  model_->train();
  order_ = shard_of(shuffled_order(data_->pairs.size(1), mix64(mix64(seed_ ^ 0xB9A5EEDull) + static_cast<uint64_t>(epoch))),
                    shard_);
}

std::optional<train::BatchLoss> RecommendationTask::next_batch() {
  const int64_t total = order_.numel();
  if (next_ >= total) return std::nullopt;
  const int64_t size = std::min(config_.recommend.batch_size, total - next_);
  const at::Tensor pos_pairs = data_->pairs.index_select(1, order_.narrow(0, next_, size));
  next_ += size;
  ++batch_;
  const InteractionDataset& d = data_->dataset;
  const at::Tensor users = pos_pairs[0].contiguous();
  const uint64_t key = shard_key(mix64(mix64(mix64(seed_ ^ 0xB9A4E6ull) + static_cast<uint64_t>(epoch_)) +
                                       static_cast<uint64_t>(batch_)), shard_);
  const int64_t negatives = config_.recommend.negatives;
  const at::Tensor neg = sample_negative_items(d.train, d.num_items, users.repeat_interleave(negatives), key);
  if (config_.model.name == "ultragcn") {
    return train::BatchLoss{ultragcn_loss(model_->initial(), *data_, config_.recommend, users, pos_pairs[1], neg), size};
  }
  const at::Tensor nodes = at::cat({users, pos_pairs[1] + d.num_users, neg + d.num_users});
  const auto [rows, position] = distinct_ids(nodes, d.num_users + d.num_items);
  const at::Tensor f = model_->propagate_rows(data_->graph, data_->weights, rows).index_select(0, position);
  const at::Tensor f_user = f.narrow(0, 0, size), f_pos = f.narrow(0, size, size);
  const at::Tensor f_neg = f.narrow(0, 2 * size, size * negatives).view({size, negatives, -1});
  // BPR: one term per (positive, negative) pair, averaged.
  const at::Tensor margin = (f_user.unsqueeze(1) * (f_pos.unsqueeze(1) - f_neg)).sum(2);
  const at::Tensor e0 = model_->initial().index_select(0, nodes);
  const at::Tensor l2 = e0.pow(2).sum() * (0.5 / static_cast<double>(size));
  const at::Tensor loss = at::softplus(-margin).mean() + config_.recommend.l2 * l2;
  return train::BatchLoss{loss, size};
}

std::pair<at::Tensor, at::Tensor> RecommendationTask::final_embeddings() {
  torch::NoGradGuard no_grad;
  model_->eval();
  const at::Tensor f = model_->propagate(data_->graph, data_->weights);
  const int64_t users = data_->dataset.num_users;
  return {f.narrow(0, 0, users), f.narrow(0, users, data_->dataset.num_items)};
}

train::Metrics RecommendationTask::evaluate() {
  const auto [users, items] = final_embeddings();
  RankingOptions options;
  options.k = config_.recommend.k;
  options.chunk = config_.recommend.eval_chunk;
  const InteractionDataset& d = data_->dataset;
  if (shard_.count == 1) return evaluate_full_ranking(users, items, d.train, d.test, options);
  // In a group every rank ranks its share of the users; the strategy adds up the shares
  // (GroupStrategy::share_evaluation).
  const RankingSums share = sum_full_ranking(users, items, d.train, d.test, options, shard_.index, shard_.count);
  train::Metrics m;
  for (const auto& [name, sum] : share.sums) {
    m[name] = sum;
    m[name + train::kMetricWeightSuffix] = static_cast<double>(share.users);
  }
  return m;
}

train::Selection RecommendationTask::selection() const {
  train::Selection s;
  s.maximize = fmt::format("recall@{}", config_.recommend.k.front());
  s.minimize = "";
  s.last_epoch = true;
  return s;
}

}  // namespace ripple::tasks
