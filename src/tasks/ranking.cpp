// Chunked full ranking, top K and Recall/NDCG. See include/ripple/ranking.h.
#include "ripple/ranking.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "ripple/error.h"

namespace ripple {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr int64_t kBlock = 16;  // scores tested against the threshold at once

// The top k of one row into items/values (descending, ties to the lower column).
void top_k_row(const float* row, int64_t n, int64_t k, int64_t* items, float* values) {
  int64_t filled = 0;
  float threshold = kNegInf;  // a score must beat this to enter
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(b + kBlock, n);
    int any = 0;
    for (int64_t j = b; j < e; ++j) any |= row[j] > threshold ? 1 : 0;
    if (!any) continue;
    for (int64_t j = b; j < e; ++j) {
      const float s = row[j];
      if (!(s > threshold)) continue;
      int64_t p = std::min(filled, k - 1);  // drop the last when full
      while (p > 0 && values[p - 1] < s) {
        values[p] = values[p - 1];
        items[p] = items[p - 1];
        --p;
      }
      values[p] = s;
      items[p] = j;
      if (filled < k) ++filled;
      if (filled == k) threshold = values[k - 1];
    }
  }
  for (int64_t p = filled; p < k; ++p) {
    items[p] = -1;
    values[p] = kNegInf;
  }
}

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
    for (int64_t r = begin; r < end; ++r) top_k_row(s + r * n, n, k, items + r * k, values + r * k);
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
  const at::Tensor items_t = item_embeddings.to(at::kFloat).t().contiguous();
  const at::Tensor all_users = at::from_blob(users.data(), {num_eval}, at::kLong);
  const int64_t* rel_ptr = relevant.indptr.data_ptr<int64_t>();
  const int64_t* rel_items = relevant.items.data_ptr<int64_t>();
  std::vector<double> discount(static_cast<size_t>(k_max));
  for (int64_t j = 0; j < k_max; ++j) discount[static_cast<size_t>(j)] = 1.0 / std::log2(static_cast<double>(j) + 2.0);
  for (int64_t first = 0; first < num_eval; first += options.chunk) {
    const int64_t rows = std::min(options.chunk, num_eval - first);
    const at::Tensor chunk_users = all_users.narrow(0, first, rows);
    at::Tensor scores = at::mm(user_embeddings.index_select(0, chunk_users).to(at::kFloat), items_t);
    exclude_user_items(scores, chunk_users, exclude);
    const TopK top = top_k_rows(scores, k_max);
    const int64_t* top_items = top.items.data_ptr<int64_t>();
    at::parallel_for(0, rows, 64, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t u = users[static_cast<size_t>(first + r)];
        const int64_t* rel_begin = rel_items + rel_ptr[u];
        const int64_t* rel_end = rel_items + rel_ptr[u + 1];
        const auto num_rel = static_cast<int64_t>(rel_end - rel_begin);
        for (size_t q = 0; q < num_k; ++q) {
          const int64_t k = options.k[q];
          double hits = 0, dcg = 0, ideal = 0;
          for (int64_t j = 0; j < k; ++j) {
            const int64_t item = top_items[r * k_max + j];
            if (item >= 0 && std::binary_search(rel_begin, rel_end, item)) {
              hits += 1;
              dcg += discount[static_cast<size_t>(j)];
            }
            if (j < num_rel) ideal += discount[static_cast<size_t>(j)];
          }
          const size_t at = static_cast<size_t>(first + r) * num_k + q;
          recall[at] = hits / static_cast<double>(num_rel);
          ndcg[at] = dcg / ideal;
        }
      }
    });
  }
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
