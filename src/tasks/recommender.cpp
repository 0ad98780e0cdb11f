// Serving and export of a trained recommendation run. See include/ripple/recommender.h.
#include "ripple/recommender.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/npy.h"
#include "ripple/error.h"
#include "ripple/ranking.h"
#include "ripple/trainer.h"
#include "tasks/recommend_task.h"
#include "train/checkpoint.h"
#include "train/files.h"

namespace fs = std::filesystem;

namespace ripple {

TrainedRecommender load_trained_recommender(const fs::path& run_dir, int64_t unit) {
  const RunConfig c = read_run_config(run_dir);
  if (c.task.kind != "recommend") {
    throw InputError(fmt::format("{}: a {} run; recommending and exporting take a recommendation run "
                                 "(task.kind = \"recommend\")", run_dir.string(), c.task.kind));
  }
  if (unit < 0 || unit >= c.train.seeds) {
    throw InputError(fmt::format("{}: seed index {} is outside the run's {} seed(s)", run_dir.string(), unit,
                                 c.train.seeds));
  }
  const fs::path best = run_dir / fmt::format("seed-{}", unit) / "best.pt";
  if (!fs::exists(best)) {
    throw InputError(fmt::format("{}: seed {} has not finished (no {}); finish it with ripple train --resume {}",
                                 run_dir.string(), unit, best.string(), run_dir.string()));
  }
  tasks::RecommendationTask task(c, tasks::prepare_recommend_data(c));
  const auto seed = static_cast<uint64_t>(c.train.seed + unit);
  train::restore_parameters(task.build_model(seed), train::load_parameters(best), best.string());
  TrainedRecommender out;
  std::tie(out.users, out.items) = task.final_embeddings();
  out.model = c.model.name;
  out.dataset = c.dataset.path;
  out.seed = static_cast<int64_t>(seed);
  out.train = task.data().dataset.train;
  return out;
}

std::vector<ScoredItem> recommend_items(const TrainedRecommender& m, int64_t user, int64_t k) {
  const int64_t num_users = m.users.size(0);
  if (user < 0 || user >= num_users) {
    throw InputError(fmt::format("user {} is outside the dataset's users 0..{}", user, num_users - 1));
  }
  if (k < 1) throw InputError(fmt::format("k must be at least 1, got {}", k));
  at::Tensor scores = at::mm(m.users.narrow(0, user, 1), m.items.t()).contiguous();
  exclude_user_items(scores, at::full({1}, user, at::kLong), m.train);
  const TopK top = top_k_rows(scores, std::min(k, m.items.size(0)));
  std::vector<ScoredItem> out;
  for (int64_t j = 0; j < top.items.size(1); ++j) {
    const int64_t item = top.items[0][j].item<int64_t>();
    if (item < 0) break;
    out.push_back({item, top.scores[0][j].item<float>()});
  }
  return out;
}

void export_embeddings(const TrainedRecommender& m, const fs::path& out_dir) {
  if (fs::exists(out_dir) && (!fs::is_directory(out_dir) || !fs::is_empty(out_dir))) {
    throw InputError(fmt::format("{}: exists and is not an empty directory; choose a new --out", out_dir.string()));
  }
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw FileSystemError(fmt::format("{}: cannot create directory: {}", out_dir.string(), ec.message()));
  train::write_file_atomic(out_dir / "users.npy", io::npy_bytes(m.users.contiguous()));
  train::write_file_atomic(out_dir / "items.npy", io::npy_bytes(m.items.contiguous()));
  const nlohmann::json manifest = {
      {"format", "ripple recommender embeddings, version 1"},
      {"model", m.model},
      {"dataset", m.dataset},
      {"seed", m.seed},
      {"num_users", m.users.size(0)},
      {"num_items", m.items.size(0)},
      {"dim", m.users.size(1)},
      {"users", "users.npy: float32 [num_users, dim], row u = user id u of the dataset"},
      {"items", "items.npy: float32 [num_items, dim], row i = item id i of the dataset"},
      {"score", "score(u, i) = dot(users[u], items[i]); rank a user's items by it, excluding its training items"},
  };
  train::write_file_atomic(out_dir / "manifest.json", manifest.dump(2) + "\n");
}

}  // namespace ripple
