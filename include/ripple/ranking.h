// Full-ranking evaluation of recommenders: every item scored for every user, each user's
// training items excluded, Recall@K and NDCG@K over the held-out items (the LightGCN/NGCF
// protocol). The users x items score matrix never exists: each thread takes a chunk of users
// and passes the items over them a cache-sized tile at a time, keeping only each row's top K
// (src/tasks/ranking_kernels.h).
//
// Shapes are checked: a mismatch throws InputError naming the argument.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ripple/interactions.h"

namespace ripple {

struct TopK {
  at::Tensor items;   // int64 [rows, k], best first; -1 where a row has fewer than k rankable entries
  at::Tensor scores;  // float32 [rows, k]; -inf where items is -1
};

// The k largest entries of each row of `scores` (float32 [rows, n]), descending; equal scores
// rank the lower column first; -inf and NaN entries are never chosen.
TopK top_k_rows(const at::Tensor& scores, int64_t k);

// Sets scores[r, i] = -inf for every item i of user users[r] in `items` (float32 [rows, n],
// users int64 [rows]).
void exclude_user_items(at::Tensor& scores, const at::Tensor& users, const UserItems& items);

struct RankingOptions {
  std::vector<int64_t> k = {20};
  int64_t chunk = 256;  // users a thread ranks together (32-256 within 6% on Gowalla: BM_FullRanking)
};

// Scores user_embeddings[u] . item_embeddings[i] for every user with `relevant` items and
// every item, excluding the user's `exclude` items, and returns "recall@K" and "ndcg@K"
// (means over those users) for each K. recall@K: the share of the user's relevant items in
// its top K; ndcg@K: DCG of the top K (gain 1 per relevant item, discount log2(rank + 1))
// over the DCG of an ideal ranking of min(K, relevant) items.
std::map<std::string, double> evaluate_full_ranking(const at::Tensor& user_embeddings,
                                                    const at::Tensor& item_embeddings, const UserItems& exclude,
                                                    const UserItems& relevant, const RankingOptions& options);

// One share of that evaluation (a rank's, in a distributed run): the users with relevant
// items are numbered in id order and those numbered shard, shard + shards, ... are scored.
// Gives the sums of recall@K and ndcg@K over them and their count, so that the shares' sums
// and counts add up to the whole evaluation's. InputError for a share that does not exist.
struct RankingSums {
  std::map<std::string, double> sums;
  int64_t users = 0;
};
RankingSums sum_full_ranking(const at::Tensor& user_embeddings, const at::Tensor& item_embeddings,
                             const UserItems& exclude, const UserItems& relevant, const RankingOptions& options,
                             int64_t shard, int64_t shards);

}  // namespace ripple
