#include <fmt/format.h>

#include "cli/commands.h"
#include "ripple/generate.h"

namespace ripple::cli {

Action add_generate_command(CLI::App& app) {
  auto o = std::make_shared<GenerateOptions>();
  auto out = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("generate", "Write a seeded synthetic dataset (native format or OGB raw layout)");
  cmd->add_option("--kind", o->kind, "csbm (learnable), rmat or uniform")->capture_default_str();
  cmd->add_option("--format", o->format, "native or ogb")->capture_default_str();
  cmd->add_option("--feature-dtype", o->feature_dtype, "native: float32, float16 or bfloat16")->capture_default_str();
  cmd->add_option("--p-in", o->p_in, "csbm: probability that an edge stays in its block")->capture_default_str();
  cmd->add_option("--signal", o->signal, "csbm: weight of the class mean in the features")->capture_default_str();
  cmd->add_option("--train-fraction", o->train_fraction, "csbm: share of nodes in the train split (valid and test halve the rest)")
      ->capture_default_str();
  cmd->add_option("--nodes", o->nodes, "Number of nodes")->capture_default_str();
  cmd->add_option("--edges", o->edges, "Number of directed edges")->capture_default_str();
  cmd->add_option("--features", o->features, "Features per node (standard normal)")->capture_default_str();
  cmd->add_option("--classes", o->classes, "Number of label classes")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  cmd->add_option("--out", *out, "Output directory (must not exist)")->required();
  return [o, out] {
    write_generated_dataset(*o, *out);
    fmt::print("wrote {} ({}, {} format, {} nodes, {} edges requested, {} features, {} classes, split 'random')\n",
               *out, o->kind, o->format, o->nodes, o->edges, o->features, o->classes);
    return 0;
  };
}

}  // namespace ripple::cli
