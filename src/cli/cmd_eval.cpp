#include <fmt/format.h>

#include "cli/commands.h"
#include "ripple/trainer.h"

namespace ripple::cli {

Action add_eval_command(CLI::App& app) {
  auto run_dir = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("eval", "Evaluate the best checkpoints of a run directory");
  cmd->add_option("run_dir", *run_dir, "Run directory written by `ripple train`")->required();
  return [run_dir] {
    const std::vector<SeedResult> results = evaluate_run(*run_dir);
    RunSummary s{results};
    fmt::print("{:>6} {:>10} {:>10} {:>10}\n", "seed", "train", "valid", "test");
    for (const SeedResult& r : results) {
      fmt::print("{:>6} {:>10.4f} {:>10.4f} {:>10.4f}\n", r.seed, r.train_acc, r.valid_acc, r.test_acc);
    }
    fmt::print("{:>6} {:>10.4f} {:>10.4f} {:>10.4f}\n", "mean", s.mean(&SeedResult::train_acc),
               s.mean(&SeedResult::valid_acc), s.mean(&SeedResult::test_acc));
    fmt::print("{:>6} {:>10.4f} {:>10.4f} {:>10.4f}\n", "std", s.std(&SeedResult::train_acc),
               s.std(&SeedResult::valid_acc), s.std(&SeedResult::test_acc));
    return 0;
  };
}

}  // namespace ripple::cli
