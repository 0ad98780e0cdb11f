// Recommendation as a training-loop task (internal). See docs/recommendation.md.
//
// Data: an InteractionDataset; users and items form one graph of num_users + num_items
// nodes (user u is node u, item i node num_users + i), every training interaction an edge
// in both directions, with LightGCN's symmetric weights 1/sqrt(deg(u) deg(i)).
// Model: LightGCN (He et al. 2020): learned layer-0 embeddings E0 (model.hidden wide,
// normal with std 0.1), E_{l+1} = A_hat E_l for model.layers steps, the final embedding the
// mean of E0..E_L; a score is the dot product of a user's and an item's final embeddings.
// Training: batches of recommend.batch_size training interactions (an order keyed by seed
// and epoch; recommend.sampling = "users" draws them by user instead, as LightGCN's code),
// each with recommend.negatives negative items the user lacks (counter-based, keyed by seed,
// epoch and batch); BPR loss -log s(score(u, pos) - score(u, neg)) averaged over the pairs,
// plus recommend.l2 x 1/2 (|E0_u|^2 + |E0_pos|^2 + |E0_neg|^2) summed over the batch / batch
// size. recommend.negative_loss = "hardest" keeps, of each positive's negatives, only the one
// scored highest (dynamic negative sampling) in both terms.
// Only the batch's rows of the last layer are computed (tasks/lightgcn_propagation.h). Evaluation: full ranking
// (ripple/ranking.h) on the test interactions, training items excluded: recall@K, ndcg@K.
// UltraGCN (Mao et al. 2021; model.name = "ultragcn"): the same embeddings without
// propagation (a score is the dot product of the layer-0 embeddings), trained on its
// constraint loss: per positive (u, i) and its recommend.negatives negatives j, binary
// cross-entropy on the scores weighted by base + degree_factor * beta, beta(u, i) =
// sqrt(d_u + 1) / d_u / sqrt(d_i + 1), the negatives' mean times recommend.negative_weight;
// plus recommend.item_weight times -omega(i, j) log s(score(u, j)) over the
// recommend.item_neighbors items j most similar to i on the item-item co-occurrence graph
// G = R^T R, omega(i, j) = G_ij / (g_i - G_ii) sqrt(g_i / g_j), g_i = sum_j G_ij. Summed over
// the batch (as the authors' code, whose hyper-parameters assume it); its L2 term is
// train.weight_decay (Adam's coupled decay has the same gradient).
// Selection: the last epoch (the papers report no validation split).
#pragma once

#include <torch/nn/module.h>

#include <memory>

#include "ripple/graph.h"
#include "ripple/interactions.h"
#include "ripple/settings.h"
#include "train/task.h"

namespace ripple::tasks {

// UltraGCN's constants: beta(u, i) = user_beta[u] * item_beta[i]; each item's most similar
// items and their omega weights (padded with the item itself, weight 0).
struct UltraGcnGraph {
  at::Tensor user_beta, item_beta;  // float32 [users], [items]
  at::Tensor neighbors;             // int64 [items, K]
  at::Tensor weights;               // float32 [items, K]
};

struct RecommendData {
  InteractionDataset dataset;
  UltraGcnGraph ultragcn;  // ultragcn only
  Graph graph;         // users then items, each training interaction in both directions
  at::Tensor weights;  // float32 [num_edges, 1], CSC order: 1/sqrt(deg(src) deg(dst))
  at::Tensor pairs;    // int64 [2, train interactions]: (user, item)
};

// Loads config.dataset.path (already resolved). Throws InputError.
std::shared_ptr<RecommendData> prepare_recommend_data(const RunConfig& config);

// UltraGCN's constants with the k most similar items per item (deterministic: ties go to the
// lower item id; independent of the thread count).
UltraGcnGraph build_ultragcn_graph(const InteractionDataset& dataset, int64_t k);
// UltraGCN's loss for positives (users[b], pos[b]) and negatives neg[b * n + j] (item ids),
// embedding [users + items, d].
at::Tensor ultragcn_loss(const at::Tensor& embedding, const RecommendData& data, const RecommendSettings& settings,
                         const at::Tensor& users, const at::Tensor& pos, const at::Tensor& neg);

// LightGCN's BPR loss for a batch of `size` positives with N negatives each: final
// embeddings f_user, f_pos [size, d], f_neg [size, N, d] and the initial (layer-0) ones e0_*
// of the same shapes. mean: softplus(score(u, neg) - score(u, pos)) averaged over the size x N
// pairs, plus l2 / 2 x the squared norms of every e0 row / size. hardest: only each positive's
// highest-scored negative (ties: the first) enters both terms; the others get no gradient.
at::Tensor bpr_loss(const at::Tensor& f_user, const at::Tensor& f_pos, const at::Tensor& f_neg, const at::Tensor& e0_user,
                    const at::Tensor& e0_pos, const at::Tensor& e0_neg, double l2, bool hardest);

// An epoch's positives drawn by user (recommend.sampling = "users"): n positions in the
// user-major training interactions (InteractionDataset::train_pairs, train.items), each a user
// drawn uniformly among those with training items, then one of that user's items uniformly.
// Counter-based on `key`: the same key gives the same draws on any thread count and after a
// resume. int64 [n]. Throws InputError when no user has a training item.
at::Tensor user_uniform_positives(const UserItems& train, int64_t n, uint64_t key);

class LightGCNImpl : public torch::nn::Module {
 public:
  // Embeddings normal with standard deviation init_std; layers = 0 is UltraGCN's model.
  LightGCNImpl(int64_t num_nodes, int64_t dim, int64_t layers, double init_std);
  // The final embedding of every node, [num_nodes, dim], without gradient.
  at::Tensor propagate(const Graph& graph, const at::Tensor& weights);
  // The final embeddings of `rows` (int64, ascending, distinct), [rows, dim]: every layer but
  // the last on the whole graph, the last only for `rows`.
  at::Tensor propagate_rows(const Graph& graph, const at::Tensor& weights, const at::Tensor& rows);
  const at::Tensor& initial() const { return embedding_; }

 private:
  int64_t layers_;
  at::Tensor embedding_;  // E0, [num_nodes, dim]
};
TORCH_MODULE(LightGCN);

class RecommendationTask : public train::Task {
 public:
  // `shard`: data parallel training; this rank trains on its share of the training
  // interactions (tasks/shuffle.h: shard_of) and ranks its share of the test users
  // (sum_full_ranking), reported as sums with their weights (train::kMetricWeightSuffix)
  // for the group to add up.
  RecommendationTask(const RunConfig& config, std::shared_ptr<RecommendData> data, train::Shard shard = {});
  torch::nn::Module& build_model(uint64_t seed) override;
  void begin_epoch(int64_t epoch) override;
  void reshard(train::Shard shard) override;
  std::optional<train::BatchLoss> next_batch() override;
  train::Metrics evaluate() override;
  train::Selection selection() const override;
  // The final user [num_users, dim] and item [num_items, dim] embeddings of the current model.
  std::pair<at::Tensor, at::Tensor> final_embeddings();
  const RecommendData& data() const { return *data_; }

 private:
  const RunConfig& config_;
  std::shared_ptr<RecommendData> data_;
  LightGCN model_{nullptr};
  train::Shard shard_;
  uint64_t seed_ = 0;
  int64_t epoch_ = 0, batch_ = 0, next_ = 0;
  at::Tensor order_;  // int64 [train interactions]: this epoch's order
};

}  // namespace ripple::tasks
