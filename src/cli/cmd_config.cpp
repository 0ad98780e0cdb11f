// `ripple config`: the resolved configuration as TOML (defaults, a --config file, --set
// overrides), checked as `ripple train` checks it; `--markdown` prints docs/config.md's key
// table, generated from the schema.
#include <fmt/format.h>

#include "cli/commands.h"
#include "ripple/config.h"

namespace ripple::cli {

Action add_config_command(CLI::App& app) {
  struct Options {
    std::string config_path;
    std::vector<std::string> overrides;
    bool markdown = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("config", "Print the resolved configuration, or the table of every key");
  cmd->add_option("--config", o->config_path, "TOML configuration file (see docs/config.md)");
  cmd->add_option("--set", o->overrides, "Override a key: section.key=value (repeatable)");
  cmd->add_flag("--markdown", o->markdown, "Print the key table of docs/config.md instead");
  return [o] {
    if (o->markdown) {
      fmt::print("{}", config_markdown_table());
      return 0;
    }
    Config config = o->config_path.empty() ? Config() : Config::from_file(o->config_path);
    for (const std::string& s : o->overrides) config.set_override(s);
    config.validate();
    fmt::print("{}", config.to_toml());
    return 0;
  };
}

}  // namespace ripple::cli
