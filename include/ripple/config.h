// Experiment configuration: every documented key (docs/config.md) with its type (integer,
// number, boolean, string or list of integers), default,
// and the rule its value must satisfy. Values come from a TOML file, then `--set key=value`
// overrides. Unknown keys (with the closest valid key suggested), wrong types and invalid
// values throw InputError naming the key and the source (file or --set).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "ripple/model.h"

namespace ripple {

using ConfigValue = std::variant<int64_t, double, bool, std::string, std::vector<int64_t>>;

struct ConfigKey {
  std::string name;   // "section.key"
  ConfigValue default_value;
  std::string doc;
  std::vector<std::string> choices;  // for strings; empty = any
  double min = -1e300, max = 1e300;  // for numbers, inclusive
  bool max_exclusive = false;
};

// The schema, in documentation order.
const std::vector<ConfigKey>& config_schema();

class Config {
 public:
  Config();  // all defaults
  static Config from_file(const std::string& path);

  // "section.key=value"; value is parsed as TOML (so strings may be bare). Throws InputError.
  void set_override(const std::string& assignment);
  void set(const std::string& key, const ConfigValue& value, const std::string& source);

  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  const std::string& get_string(const std::string& key) const;
  const std::vector<int64_t>& get_int_list(const std::string& key) const;

  ModelConfig model() const;
  // The resolved configuration as TOML text (every key, grouped by section).
  std::string to_toml() const;
  // Checks cross-key rules (called before a run starts); throws InputError.
  void validate() const;

 private:
  std::map<std::string, ConfigValue> values_;
};

// Closest schema key by edit distance, or "" when nothing is close.
std::string closest_config_key(const std::string& key);

}  // namespace ripple
