#include <fmt/format.h>

#include "cli/commands.h"
#include "ripple/dataset.h"

namespace ripple::cli {

Action add_info_command(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto split = std::make_shared<std::string>("public");
  CLI::App* cmd = app.add_subcommand("info", "Print statistics of a dataset (OGB raw layout)");
  cmd->add_option("dataset", *path, "Dataset directory")->required();
  cmd->add_option("--split", *split, "Split folder under split/")->capture_default_str();
  return [path, split] {
    fmt::print("{}", describe_dataset(load_ogb_node_dataset(*path, *split)));
    return 0;
  };
}

}  // namespace ripple::cli
