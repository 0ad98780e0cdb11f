// Chunked full ranking, top K and Recall/NDCG. See include/ripple/ranking.h.
#include "ripple/ranking.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ripple/error.h"
#include "tasks/ranking_kernels.h"

namespace ripple {
namespace {

using ranking_detail::pack_item_panels;
using ranking_detail::packed_panel_floats;
using ranking_detail::RowTopK;
using ranking_detail::rank_users;

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

void check_scores(const at::Tensor& scores, const char* who) {
  if (!scores.defined() || scores.dim() != 2 || scores.scalar_type() != at::kFloat) {
    throw InputError(fmt::format("{}: scores must be a float32 [rows, items] tensor", who));
  }
}

}  // namespace

TopK top_k_rows(const at::Tensor& scores_in, int64_t k) {
  check_scores(scores_in, "top_k_rows");
  if (k < 1) throw InputError(fmt::format("top_k_rows: k must be at least 1, got {}", k));
  const at::Tensor scores = scores_in.contiguous();
  const int64_t rows = scores.size(0), n = scores.size(1);
  TopK out{at::empty({rows, k}, at::kLong), at::empty({rows, k}, at::kFloat)};
  const float* s = scores.data_ptr<float>();
  int64_t* items = out.items.data_ptr<int64_t>();
  float* values = out.scores.data_ptr<float>();
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      RowTopK top(k, items + r * k, values + r * k);
      top.offer(s + r * n, n, 0);
      top.finish();
    }
  });
  return out;
}

void exclude_user_items(at::Tensor& scores, const at::Tensor& users, const UserItems& items) {
  check_scores(scores, "exclude_user_items");
  if (!scores.is_contiguous()) throw InputError("exclude_user_items: scores must be contiguous");
  if (users.dim() != 1 || users.scalar_type() != at::kLong || users.numel() != scores.size(0)) {
    throw InputError(fmt::format("exclude_user_items: users must be int64 [{}] (one per score row)", scores.size(0)));
  }
  const int64_t n = scores.size(1), num_users = items.indptr.numel() - 1;
  const at::Tensor user_ids = users.contiguous();
  const int64_t* user = user_ids.data_ptr<int64_t>();
  const int64_t* indptr = items.indptr.data_ptr<int64_t>();
  const int64_t* item = items.items.data_ptr<int64_t>();
  float* s = scores.data_ptr<float>();
  for (int64_t r = 0; r < users.numel(); ++r) {
    if (user[r] < 0 || user[r] >= num_users) {
      throw InputError(fmt::format("exclude_user_items: users[{}] = {} is outside [0, {})", r, user[r], num_users));
    }
  }
  at::parallel_for(0, users.numel(), 64, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      for (int64_t p = indptr[user[r]]; p < indptr[user[r] + 1]; ++p) {
        if (item[p] < n) s[r * n + item[p]] = kNegInf;
      }
    }
  });
}

std::map<std::string, double> evaluate_full_ranking(const at::Tensor& user_embeddings,
                                                    const at::Tensor& item_embeddings, const UserItems& exclude,
                                                    const UserItems& relevant, const RankingOptions& options) {
  RankingSums s = sum_full_ranking(user_embeddings, item_embeddings, exclude, relevant, options, 0, 1);
  const auto n = static_cast<double>(std::max<int64_t>(s.users, 1));
  for (auto& [name, v] : s.sums) v /= n;
  return s.sums;
}

RankingSums sum_full_ranking(const at::Tensor& user_embeddings, const at::Tensor& item_embeddings,
                             const UserItems& exclude, const UserItems& relevant, const RankingOptions& options,
                             int64_t shard, int64_t shards) {
  if (user_embeddings.dim() != 2 || item_embeddings.dim() != 2 || user_embeddings.size(1) != item_embeddings.size(1)) {
    throw InputError("evaluate_full_ranking: user and item embeddings must be [users, d] and [items, d]");
  }
  const int64_t num_users = user_embeddings.size(0);
  if (exclude.indptr.numel() != num_users + 1 || relevant.indptr.numel() != num_users + 1) {
    throw InputError(fmt::format("evaluate_full_ranking: interactions of {} and {} users for {} user embeddings",
                                 exclude.indptr.numel() - 1, relevant.indptr.numel() - 1, num_users));
  }
  if (options.k.empty() || options.chunk < 1) throw InputError("evaluate_full_ranking: needs a K and a chunk >= 1");
  if (shards < 1 || shard < 0 || shard >= shards) {
    throw InputError(fmt::format("evaluate_full_ranking: share {} of {} does not exist", shard, shards));
  }
  const int64_t k_max = *std::max_element(options.k.begin(), options.k.end());
  std::vector<int64_t> users;
  for (int64_t u = 0, numbered = 0; u < num_users; ++u) {
    if (relevant.count(u) > 0 && numbered++ % shards == shard) users.push_back(u);
  }
  const auto num_eval = static_cast<int64_t>(users.size());
  const size_t num_k = options.k.size();
  // Per evaluated user and K: recall and NDCG, summed in user order afterwards.
  std::vector<double> recall(users.size() * num_k), ndcg(users.size() * num_k);
  const int64_t n = item_embeddings.size(0), d = item_embeddings.size(1);
  const at::Tensor item_rows = item_embeddings.to(at::kFloat).contiguous();
  at::Tensor panels = at::empty({packed_panel_floats(n, d)}, at::kFloat);
  pack_item_panels(item_rows.data_ptr<float>(), n, d, panels.data_ptr<float>());
  const at::Tensor user_rows =
      user_embeddings.index_select(0, at::from_blob(users.data(), {num_eval}, at::kLong)).to(at::kFloat).contiguous();
  const int64_t* rel_ptr = relevant.indptr.data_ptr<int64_t>();
  const int64_t* rel_items = relevant.items.data_ptr<int64_t>();
  std::vector<double> discount(static_cast<size_t>(k_max));
  for (int64_t j = 0; j < k_max; ++j) discount[static_cast<size_t>(j)] = 1.0 / std::log2(static_cast<double>(j) + 2.0);
  // Places past the number of items are empty: rank no more than that.
  const int64_t k_ranked = std::max<int64_t>(1, std::min(k_max, n));
  rank_users(users, user_rows.data_ptr<float>(), panels.data_ptr<float>(), n, d, exclude, k_ranked, options.chunk,
             [&](int64_t r, const int64_t* top_items) {
               const int64_t u = users[static_cast<size_t>(r)];
               const int64_t* rel_begin = rel_items + rel_ptr[u];
               const int64_t* rel_end = rel_items + rel_ptr[u + 1];
               const auto num_rel = static_cast<int64_t>(rel_end - rel_begin);
               for (size_t q = 0; q < num_k; ++q) {
                 const int64_t k = options.k[q];
                 double hits = 0, dcg = 0, ideal = 0;
                 for (int64_t j = 0; j < k; ++j) {
                   const int64_t item = j < k_ranked ? top_items[j] : -1;
                   if (item >= 0 && std::binary_search(rel_begin, rel_end, item)) {
                     hits += 1;
                     dcg += discount[static_cast<size_t>(j)];
                   }
                   if (j < num_rel) ideal += discount[static_cast<size_t>(j)];
                 }
                 const size_t at = static_cast<size_t>(r) * num_k + q;
                 recall[at] = hits / static_cast<double>(num_rel);
                 ndcg[at] = dcg / ideal;
               }
             });
  RankingSums out;
  out.users = num_eval;
  for (size_t q = 0; q < num_k; ++q) {
    double r = 0, d = 0;
    for (size_t i = 0; i < users.size(); ++i) {
      r += recall[i * num_k + q];
      d += ndcg[i * num_k + q];
    }
    out.sums[fmt::format("recall@{}", options.k[q])] = r;
    out.sums[fmt::format("ndcg@{}", options.k[q])] = d;
  }
  return out;
}

}  // namespace ripple
