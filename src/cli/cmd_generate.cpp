#include <fmt/format.h>

#include "cli/commands.h"
#include "ripple/generate.h"

namespace ripple::cli {

Action add_generate_command(CLI::App& app) {
  auto o = std::make_shared<GenerateOptions>();
  auto out = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("generate", "Write a seeded synthetic dataset (OGB raw layout)");
  cmd->add_option("--kind", o->kind, "rmat or uniform")->capture_default_str();
  cmd->add_option("--nodes", o->nodes, "Number of nodes")->capture_default_str();
  cmd->add_option("--edges", o->edges, "Number of directed edges")->capture_default_str();
  cmd->add_option("--features", o->features, "Features per node (standard normal)")->capture_default_str();
  cmd->add_option("--classes", o->classes, "Number of label classes (uniform)")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  cmd->add_option("--out", *out, "Output directory (must not exist)")->required();
  return [o, out] {
    write_generated_dataset(*o, *out);
    fmt::print("wrote {} ({} nodes, {} edges, {} features, {} classes, split 'random')\n", *out, o->nodes,
               o->edges, o->features, o->classes);
    return 0;
  };
}

}  // namespace ripple::cli
