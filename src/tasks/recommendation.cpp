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

at::Tensor bpr_loss(const at::Tensor& f_user, const at::Tensor& f_pos, const at::Tensor& f_neg, const at::Tensor& e0_user,
                    const at::Tensor& e0_pos, const at::Tensor& e0_neg, double l2, bool hardest) {
  const int64_t size = f_user.size(0);
  const at::Tensor margin = (f_user.unsqueeze(1) * (f_pos.unsqueeze(1) - f_neg)).sum(2);  // [size, negatives]
  at::Tensor bpr, neg_norms = e0_neg.pow(2).sum(2);                                      // [size, negatives]
  if (hardest) {
    // Dynamic negative sampling: the candidate scored highest (smallest margin) is the negative.
    const at::Tensor pick = std::get<1>(margin.detach().min(1, true));
    bpr = at::softplus(-margin.gather(1, pick)).mean();
    neg_norms = neg_norms.gather(1, pick);
  } else {
    bpr = at::softplus(-margin).mean();  // one term per (positive, negative) pair, averaged
  }
  const at::Tensor norms = e0_user.pow(2).sum() + e0_pos.pow(2).sum() + neg_norms.sum();
  return bpr + norms * (0.5 * l2 / static_cast<double>(size));
}

at::Tensor user_uniform_positives(const UserItems& train, int64_t n, uint64_t key) {
  const at::Tensor counts = train.indptr.narrow(0, 1, train.indptr.numel() - 1) - train.indptr.narrow(0, 0, train.indptr.numel() - 1);
  const at::Tensor active = counts.gt(0).nonzero().view({-1}).contiguous();
  if (active.numel() == 0) throw InputError("recommend.sampling = \"users\": no user has a training interaction");
  const int64_t* users = active.data_ptr<int64_t>();
  const int64_t* indptr = train.indptr.data_ptr<int64_t>();
  const auto num_active = static_cast<uint64_t>(active.numel());
  at::Tensor out = at::empty({n}, at::kLong);
  int64_t* p = out.data_ptr<int64_t>();
  at::parallel_for(0, n, 1 << 14, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const uint64_t r = mix64(key + static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull);
      const int64_t user = users[uniform_below(r, num_active)];
      const auto items = static_cast<uint64_t>(indptr[user + 1] - indptr[user]);
      p[i] = indptr[user] + static_cast<int64_t>(uniform_below(mix64(r ^ 0xD1B54A32D192ED03ull), items));
    }
  });
  return out;
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
  const int64_t n = data_->pairs.size(1);
  const uint64_t key = mix64(mix64(seed_ ^ 0xB9A5EEDull) + static_cast<uint64_t>(epoch));
  order_ = shard_of(config_.recommend.sampling == "users" ? user_uniform_positives(data_->dataset.train, n, key)
                                                           : shuffled_order(n, key),
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
  const at::Tensor e0 = model_->initial().index_select(0, nodes);
  const at::Tensor loss = bpr_loss(f_user, f_pos, f_neg, e0.narrow(0, 0, size), e0.narrow(0, size, size),
                                   e0.narrow(0, 2 * size, size * negatives).view({size, negatives, -1}),
                                   config_.recommend.l2, config_.recommend.negative_loss == "hardest");
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
