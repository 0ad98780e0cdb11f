#include <fmt/format.h>

#include "cli/commands.h"
#include "ripple/dataset.h"
#include "ripple/graph_dataset.h"
#include "ripple/native_dataset.h"

namespace ripple::cli {

Action add_info_command(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto split = std::make_shared<std::string>();
  auto verify = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "info", "Print statistics of a dataset (a native dataset's header is read without touching its arrays)");
  cmd->add_option("dataset", *path, "Dataset directory (native format, OGB raw layout, or a graph-classification collection: TU folder or native)")->required();
  cmd->add_option("--split", *split, "Split to describe (default: public, else the first)");
  cmd->add_flag("--verify", *verify,
                "Native format: map every array, check its CRC-32 and structure, and print full statistics");
  return [path, split, verify] {
    if (is_tu_dataset(*path) || is_native_graph_dataset(*path)) {
      fmt::print("{}", describe_graph_dataset(load_graph_dataset(*path)));
    } else if (is_native_dataset(*path) && !*verify) {
      fmt::print("{}", describe_native_header(*path, read_native_header(*path)));
    } else {
      fmt::print("{}", describe_dataset(load_node_dataset(*path, *split)));
    }
    return 0;
  };
}

}  // namespace ripple::cli
