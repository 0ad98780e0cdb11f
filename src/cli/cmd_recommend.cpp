// `ripple recommend` and `ripple export`: a trained recommendation run's top items for a user,
// and its final embeddings as NumPy arrays. See include/ripple/recommender.h.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "ripple/recommender.h"

namespace ripple::cli {

Action add_recommend_command(CLI::App& app) {
  struct Options {
    std::string run_dir;
    int64_t user = -1, k = 20, seed_index = 0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("recommend", "Print a user's top items from a trained recommendation run");
  cmd->add_option("run_dir", o->run_dir, "Run directory written by `ripple train` (task.kind = \"recommend\")")->required();
  cmd->add_option("--user", o->user, "User id (0-based, as in the dataset's files)")->required();
  cmd->add_option("--k", o->k, "How many items")->check(CLI::PositiveNumber);
  cmd->add_option("--seed-index", o->seed_index, "Which seed of the run (0: the first)")->check(CLI::NonNegativeNumber);
  return [o] {
    const TrainedRecommender model = load_trained_recommender(o->run_dir, o->seed_index);
    const std::vector<ScoredItem> top = recommend_items(model, o->user, o->k);
    fmt::print("{:>5} {:>10} {:>12}\n", "rank", "item", "score");
    for (size_t r = 0; r < top.size(); ++r) fmt::print("{:>5} {:>10} {:>12.6f}\n", r + 1, top[r].item, top[r].score);
    return 0;
  };
}

Action add_export_command(CLI::App& app) {
  struct Options {
    std::string run_dir, out;
    int64_t seed_index = 0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("export", "Write a trained recommendation run's final embeddings as .npy arrays");
  cmd->add_option("run_dir", o->run_dir, "Run directory written by `ripple train` (task.kind = \"recommend\")")->required();
  cmd->add_option("--out", o->out, "Directory to create (or an empty one) for users.npy, items.npy, manifest.json")
      ->required();
  cmd->add_option("--seed-index", o->seed_index, "Which seed of the run (0: the first)")->check(CLI::NonNegativeNumber);
  return [o] {
    const TrainedRecommender model = load_trained_recommender(o->run_dir, o->seed_index);
    export_embeddings(model, o->out);
    fmt::print("wrote {}/users.npy [{}, {}], items.npy [{}, {}], manifest.json\n", o->out, model.users.size(0),
               model.users.size(1), model.items.size(0), model.items.size(1));
    return 0;
  };
}

}  // namespace ripple::cli
