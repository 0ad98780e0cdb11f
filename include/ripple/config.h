// The configuration schema and the parser that fills a RunConfig (ripple/settings.h) from
// a TOML file and `--set key=value` overrides.
//
// Each schema entry names a key ("section.key"), binds it to one field of RunConfig, and
// gives its documentation and the rule its value must satisfy (choices, inclusive range).
// The default is the field's own default in settings.h; docs/config.md is generated from
// the schema (`ripple config --markdown`, checked by a test). Unknown keys (with the closest
// valid key suggested), wrong types and values out of range throw InputError naming the key
// and the source (file:line or --set). No LibTorch here.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "ripple/settings.h"

namespace ripple {

using ConfigValue = std::variant<int64_t, double, bool, std::string, std::vector<int64_t>>;

struct ConfigKey {
  std::string name;  // "section.key", also the field's path in RunConfig
  std::string doc;
  std::vector<std::string> choices;  // for strings; empty = any
  double min = -1e300, max = 1e300;  // for numbers, inclusive
  bool max_exclusive = false;
  bool zero_allowed = true;          // for lists: whether 0 is a valid element
  ConfigValue default_value;         // read from RunConfig{}
  std::function<ConfigValue(const RunConfig&)> get;
  std::function<void(RunConfig&, const ConfigValue&)> put;
};

// The schema, in documentation order.
const std::vector<ConfigKey>& config_schema();
const ConfigKey* find_config_key(const std::string& name);

// Checks `value` against the key's rule; throws SettingError naming the key.
void check_config_value(const ConfigKey& key, const ConfigValue& value);

// docs/config.md's table, generated from the schema.
std::string config_markdown_table();

class Config {
 public:
  Config() = default;  // all defaults
  explicit Config(const RunConfig& settings) : settings_(settings) {}
  static Config from_file(const std::string& path);

  // "section.key=value"; value is parsed as TOML (so strings may be bare). Throws InputError.
  void set_override(const std::string& assignment);
  void set(const std::string& key, const ConfigValue& value, const std::string& source);

  const RunConfig& settings() const { return settings_; }
  // Where a key was last set ("FILE:LINE", "--set ...", "--seeds"); "default" otherwise.
  std::string source_of(const std::string& key) const;
  // The resolved configuration as TOML text (every key, grouped by section).
  std::string to_toml() const;
  // validate_run_config(), with the failing field's source prepended: the one check at the
  // command-line boundary. Throws InputError.
  void validate() const;

 private:
  RunConfig settings_;
  std::map<std::string, std::string> sources_;
};

// Closest schema key by edit distance, or "" when nothing is close.
std::string closest_config_key(const std::string& key);

}  // namespace ripple
