#include <fmt/format.h>

#include "cli/commands.h"
#include "ripple/trainer.h"

namespace ripple::cli {

Action add_eval_command(CLI::App& app) {
  auto run_dir = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("eval", "Evaluate the best checkpoints of a run directory");
  cmd->add_option("run_dir", *run_dir, "Run directory written by `ripple train`")->required();
  return [run_dir] {
    RunSummary s;
    s.task = "node_classification";
    s.units = evaluate_run(*run_dir);
    fmt::print("{:>6} {:>10} {:>10} {:>10}\n", "seed", "train", "valid", "test");
    for (const UnitResult& r : s.units) {
      fmt::print("{:>6} {:>10.4f} {:>10.4f} {:>10.4f}\n", r.seed, r.metric("train_acc"), r.metric("valid_acc"),
                 r.metric("test_acc"));
    }
    fmt::print("{:>6} {:>10.4f} {:>10.4f} {:>10.4f}\n", "mean", s.mean("train_acc"), s.mean("valid_acc"),
               s.mean("test_acc"));
    fmt::print("{:>6} {:>10.4f} {:>10.4f} {:>10.4f}\n", "std", s.std("train_acc"), s.std("valid_acc"),
               s.std("test_acc"));
    return 0;
  };
}

}  // namespace ripple::cli
