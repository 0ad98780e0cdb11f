// Subcommands of the `ripple` command line. Each registers its options on the CLI11 app
// and returns the action to run after parsing. Actions throw InputError for bad input
// (exit code 2) or FileSystemError (exit code 3) and return the process exit code otherwise.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace ripple::cli {

using Action = std::function<int()>;

Action add_train_command(CLI::App& app);
Action add_eval_command(CLI::App& app);
Action add_info_command(CLI::App& app);
Action add_generate_command(CLI::App& app);
Action add_convert_command(CLI::App& app);
Action add_bench_command(CLI::App& app);
Action add_config_command(CLI::App& app);
Action add_recommend_command(CLI::App& app);
Action add_export_command(CLI::App& app);
Action add_launch_command(CLI::App& app);
Action add_partition_command(CLI::App& app);

}  // namespace ripple::cli
