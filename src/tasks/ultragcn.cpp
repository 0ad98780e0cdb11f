// UltraGCN's item-item graph and loss. See src/tasks/recommend_task.h.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <vector>

#include "tasks/recommend_task.h"
#include "tasks/ultragcn_negatives.h"

namespace ripple::tasks {

UltraGcnGraph build_ultragcn_graph(const InteractionDataset& d, int64_t k) {
  const int64_t users = d.num_users, items = d.num_items;
  const int64_t* user_ptr = d.train.indptr.data_ptr<int64_t>();
  const int64_t* user_items = d.train.items.data_ptr<int64_t>();
  // Item-major view of the training interactions.
  std::vector<int64_t> item_ptr(static_cast<size_t>(items + 1), 0), item_users(static_cast<size_t>(d.train.size()));
  for (int64_t p = 0; p < d.train.size(); ++p) ++item_ptr[static_cast<size_t>(user_items[p] + 1)];
  for (int64_t i = 0; i < items; ++i) item_ptr[static_cast<size_t>(i + 1)] += item_ptr[static_cast<size_t>(i)];
  {
    std::vector<int64_t> fill(item_ptr.begin(), item_ptr.end() - 1);
    for (int64_t u = 0; u < users; ++u) {
      for (int64_t p = user_ptr[u]; p < user_ptr[u + 1]; ++p) {
        item_users[static_cast<size_t>(fill[static_cast<size_t>(user_items[p])]++)] = u;
      }
    }
  }
  UltraGcnGraph g;
  g.user_beta = at::zeros({users}, at::kFloat);
  g.item_beta = at::zeros({items}, at::kFloat);
  float* ub = g.user_beta.data_ptr<float>();
  float* ib = g.item_beta.data_ptr<float>();
  for (int64_t u = 0; u < users; ++u) {
    const auto du = static_cast<double>(user_ptr[u + 1] - user_ptr[u]);
    ub[u] = du > 0 ? static_cast<float>(std::sqrt(du + 1) / du) : 0.0f;
  }
  for (int64_t i = 0; i < items; ++i) {
    ib[i] = static_cast<float>(1 / std::sqrt(static_cast<double>(item_ptr[static_cast<size_t>(i + 1)] -
                                                                    item_ptr[static_cast<size_t>(i)]) + 1));
  }
  g.neighbors = at::empty({items, k}, at::kLong);
  g.weights = at::zeros({items, k}, at::kFloat);
  if (k == 0) return g;
  // g_i = sum_j G_ij with G = R^T R: the degrees of item i's users, summed.
  std::vector<double> co_degree(static_cast<size_t>(items), 0);
  for (int64_t i = 0; i < items; ++i) {
    for (int64_t p = item_ptr[static_cast<size_t>(i)]; p < item_ptr[static_cast<size_t>(i + 1)]; ++p) {
      const int64_t u = item_users[static_cast<size_t>(p)];
      co_degree[static_cast<size_t>(i)] += static_cast<double>(user_ptr[u + 1] - user_ptr[u]);
    }
  }
  int64_t* nb = g.neighbors.data_ptr<int64_t>();
  float* wt = g.weights.data_ptr<float>();
  at::parallel_for(0, items, 256, [&](int64_t begin, int64_t end) {
    std::vector<double> count(static_cast<size_t>(items), 0);
    std::vector<int64_t> touched;
    std::vector<std::pair<double, int64_t>> best;  // (omega, item), best first
    for (int64_t i = begin; i < end; ++i) {
      touched.clear();
      for (int64_t p = item_ptr[static_cast<size_t>(i)]; p < item_ptr[static_cast<size_t>(i + 1)]; ++p) {
        const int64_t u = item_users[static_cast<size_t>(p)];
        for (int64_t q = user_ptr[u]; q < user_ptr[u + 1]; ++q) {
          const int64_t j = user_items[q];
          if (count[static_cast<size_t>(j)] == 0) touched.push_back(j);
          count[static_cast<size_t>(j)] += 1;
        }
      }
      const double gi = co_degree[static_cast<size_t>(i)];
      const double denominator = gi - count[static_cast<size_t>(i)];  // g_i - G_ii
      best.clear();
      for (const int64_t j : touched) {
        const double c = count[static_cast<size_t>(j)];
        count[static_cast<size_t>(j)] = 0;
        if (j == i || denominator <= 0) continue;
        const std::pair<double, int64_t> entry{c / denominator * std::sqrt(gi / co_degree[static_cast<size_t>(j)]), j};
        auto better = [](const std::pair<double, int64_t>& a, const std::pair<double, int64_t>& b) {
          return a.first > b.first || (a.first == b.first && a.second < b.second);
        };
        if (static_cast<int64_t>(best.size()) == k && !better(entry, best.back())) continue;
        if (static_cast<int64_t>(best.size()) == k) best.pop_back();
        best.insert(std::upper_bound(best.begin(), best.end(), entry, better), entry);
      }
      for (int64_t r = 0; r < k; ++r) {
        const bool has = r < static_cast<int64_t>(best.size());
        nb[i * k + r] = has ? best[static_cast<size_t>(r)].second : i;  // padding: the item itself, weight 0
        wt[i * k + r] = has ? static_cast<float>(best[static_cast<size_t>(r)].first) : 0.0f;
      }
    }
  });
  return g;
}

at::Tensor ultragcn_loss(const at::Tensor& embedding, const RecommendData& data, const RecommendSettings& s,
                         const at::Tensor& users, const at::Tensor& pos, const at::Tensor& neg) {
  const UltraGcnGraph& g = data.ultragcn;
  const int64_t num_users = data.dataset.num_users, batch = users.numel();
  const at::Tensor e_user = embedding.index_select(0, users);
  const at::Tensor e_pos = embedding.index_select(0, pos + num_users);
  const at::Tensor pos_score = (e_user * e_pos).sum(1);
  const at::Tensor pos_weight =
      s.pos_weight_base + s.pos_weight_degree * g.user_beta.index_select(0, users) * g.item_beta.index_select(0, pos);
  // Binary cross-entropy on logits: -log s(x) = softplus(-x), -log(1 - s(x)) = softplus(x).
  at::Tensor loss = (pos_weight * at::softplus(-pos_score)).sum();
  if (s.negative_weight > 0) {
    loss = loss + ultragcn_negative_loss(embedding, num_users, users, neg, g.user_beta, g.item_beta,
                                         s.neg_weight_base, s.neg_weight_degree, s.negative_weight);
  }
  if (g.neighbors.size(1) > 0 && s.item_weight > 0) {
    const at::Tensor neighbors = g.neighbors.index_select(0, pos);  // [batch, K]
    const at::Tensor omega = g.weights.index_select(0, pos);
    const at::Tensor e_nb = embedding.index_select(0, neighbors.view(-1) + num_users).view({batch, neighbors.size(1), -1});
    const at::Tensor nb_score = at::bmm(e_nb, e_user.unsqueeze(2)).squeeze(2);
    loss = loss + s.item_weight * (omega * at::softplus(-nb_score)).sum();
  }
  return loss;
}

}  // namespace ripple::tasks
