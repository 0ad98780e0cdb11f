// A trained recommendation run (task.kind = "recommend") loaded for serving: the final user
// and item embeddings of one seed's selected epoch, a user's top items, and the export of
// the embeddings as NumPy arrays. See docs/recommendation.md.
//
// Errors: InputError (exit code 2) for a directory that is not a finished recommendation run
// (no config.toml, another task, no seed-<i>/best.pt), a user id outside the dataset, an
// export directory that already holds files; FileSystemError when files cannot be written.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "ripple/interactions.h"

namespace ripple {

struct TrainedRecommender {
  std::string model, dataset;
  int64_t seed = 0;
  at::Tensor users, items;  // float32 [num_users, dim], [num_items, dim]; score = dot product
  UserItems train;          // each user's training items, never recommended to it
};

// Seed `unit` (0-based: the run's seed-<unit>) of the run in `run_dir`.
TrainedRecommender load_trained_recommender(const std::filesystem::path& run_dir, int64_t unit = 0);

struct ScoredItem {
  int64_t item = 0;
  float score = 0;
};

// The user's k best items by score, best first (ties: lower item id), its training items
// excluded; fewer than k when the user has interacted with nearly every item.
std::vector<ScoredItem> recommend_items(const TrainedRecommender& model, int64_t user, int64_t k);

// Writes out_dir/users.npy, items.npy (float32, C order, row = id) and manifest.json (model,
// dataset, seed, counts, width, how to score), manifest last. out_dir may exist if empty.
void export_embeddings(const TrainedRecommender& model, const std::filesystem::path& out_dir);

}  // namespace ripple
