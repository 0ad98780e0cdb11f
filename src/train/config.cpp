#include "ripple/config.h"

#include <fmt/format.h>

#include <toml++/toml.h>

#include <algorithm>
#include <sstream>

#include "ripple/error.h"
#include "ripple/graph_model.h"
#include "ripple/nn/functional.h"

namespace ripple {

namespace {

ConfigKey key(std::string name, ConfigValue def, std::string doc, std::vector<std::string> choices = {},
              double lo = -1e300, double hi = 1e300, bool hi_exclusive = false) {
  return ConfigKey{std::move(name), std::move(def), std::move(doc), std::move(choices), lo, hi, hi_exclusive};
}

const ConfigKey* find_key(const std::string& name) {
  for (const ConfigKey& k : config_schema()) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

const char* type_name(const ConfigValue& v) {
  switch (v.index()) {
    case 0: return "an integer";
    case 1: return "a number";
    case 2: return "true or false";
    case 3: return "a string";
    default: return "a list of integers";
  }
}

std::string format_value(const ConfigValue& v) {
  switch (v.index()) {
    case 0: return std::to_string(std::get<int64_t>(v));
    case 1: {
      std::string s = fmt::format("{}", std::get<double>(v));
      if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
      return s;
    }
    case 2: return std::get<bool>(v) ? "true" : "false";
    case 4: return fmt::format("[{}]", fmt::join(std::get<std::vector<int64_t>>(v), ", "));
    default: {
      std::ostringstream o;
      o << toml::value<std::string>(std::get<std::string>(v));
      return o.str();
    }
  }
}

// Converts a TOML node to the schema type of `k`; throws naming the key and source.
ConfigValue convert(const ConfigKey& k, const toml::node& node, const std::string& source) {
  const ConfigValue& def = k.default_value;
  auto mismatch = [&]() -> InputError {
    std::ostringstream got;
    node.visit([&](auto&& n) {
      if constexpr (toml::is_string<decltype(n)>) got << '"' << n.get() << '"';
      else if constexpr (toml::is_value<decltype(n)>) got << n.get();
      else if constexpr (toml::is_array<decltype(n)>) got << "an array";
      else got << "a table";
    });
    return InputError(fmt::format("{}: {} must be {}, got {}", source, k.name, type_name(def), got.str()));
  };
  switch (def.index()) {
    case 0:
      if (auto v = node.as_integer()) return v->get();
      throw mismatch();
    case 1:
      if (auto v = node.as_floating_point()) return v->get();
      if (auto v = node.as_integer()) return static_cast<double>(v->get());
      throw mismatch();
    case 2:
      if (auto v = node.as_boolean()) return v->get();
      throw mismatch();
    case 3:
      if (auto v = node.as_string()) return v->get();
      throw mismatch();
    default: {
      const toml::array* a = node.as_array();
      if (!a) throw mismatch();
      std::vector<int64_t> out;
      for (const toml::node& e : *a) {
        const auto* i = e.as_integer();
        if (!i) throw mismatch();
        out.push_back(i->get());
      }
      return out;
    }
  }
}

void check_rule(const ConfigKey& k, const ConfigValue& v, const std::string& source) {
  if (auto s = std::get_if<std::string>(&v)) {
    if (!k.choices.empty() && std::find(k.choices.begin(), k.choices.end(), *s) == k.choices.end()) {
      std::string list;
      for (const auto& c : k.choices) list += (list.empty() ? "" : ", ") + c;
      throw InputError(fmt::format("{}: {} must be one of {}, got \"{}\"", source, k.name, list, *s));
    }
    return;
  }
  if (auto list = std::get_if<std::vector<int64_t>>(&v)) {
    for (const int64_t e : *list) check_rule(k, ConfigValue(e), source);
    return;
  }
  double x = 0;
  if (auto i = std::get_if<int64_t>(&v)) x = static_cast<double>(*i);
  else if (auto d = std::get_if<double>(&v)) x = *d;
  else return;
  const bool too_high = k.max_exclusive ? x >= k.max : x > k.max;
  if (x < k.min || too_high) {
    std::string range;
    if (k.min > -1e300 && k.max < 1e300) range = fmt::format("in [{}, {}{}", k.min, k.max, k.max_exclusive ? ")" : "]");
    else if (k.min > -1e300) range = fmt::format(">= {}", k.min);
    else range = fmt::format("{} {}", k.max_exclusive ? "<" : "<=", k.max);
    throw InputError(fmt::format("{}: {} must be {}, got {}", source, k.name, range, format_value(v)));
  }
}

std::string unknown_key_message(const std::string& name, const std::string& source) {
  const std::string near = closest_config_key(name);
  return fmt::format("{}: unknown configuration key '{}'{}", source, name,
                     near.empty() ? " (see docs/config.md)" : fmt::format("; did you mean '{}'?", near));
}

}  // namespace

const std::vector<ConfigKey>& config_schema() {
  static const std::vector<ConfigKey> schema = {
      key("dataset.path", std::string("data/cora"), "Dataset directory, native format or OGB raw layout, see docs/formats.md (relative paths: to the working directory, else to the config file)."),
      key("dataset.split", std::string("public"), "Split name (OGB: folder under DIR/split/; native: listed in header.json)."),
      key("dataset.normalize_features", false, "Divide each feature row by its sum (PyG's NormalizeFeatures)."),
      key("dataset.symmetrize", false, "Add the reverse of every edge before training."),
      key("dataset.max_degree_feature", int64_t{64}, "Graph classification on a TU dataset with neither node labels nor attributes: nodes get one-hot in-degrees, degrees above this sharing the last column.", {}, 1, 100000),
      key("task.kind", std::string("node"), "node (node classification on one graph) or graph (graph classification by cross-validation on a TU dataset, see docs/graph_classification.md).", {"node", "graph"}),
      key("task.protocol", std::string("gin"), "Graph classification: gin (the GIN paper's: epoch with the best mean test accuracy over the folds, optimistic) or errica (Errica et al.: epoch chosen on a validation split of each training fold).", {"gin", "errica"}),
      key("task.folds", int64_t{10}, "Graph classification: stratified cross-validation folds.", {}, 2, 1000),
      key("task.run_folds", int64_t{0}, "Graph classification: train only the first this many folds (0: all of them); for short checks.", {}, 0, 1000),
      key("task.valid_fraction", 0.1, "Graph classification, errica protocol: share of each training fold held out for validation.", {}, 0.0, 1.0, true),
      key("model.name", std::string("gcn"), "Model: gcn, sage, gat, gatv2, gin, appnp, sgc or mlp.",
          {"gcn", "sage", "gat", "gatv2", "gin", "appnp", "sgc", "mlp"}),
      key("model.hidden", int64_t{16}, "Hidden width (per head for GAT).", {}, 1),
      key("model.layers", int64_t{2}, "Number of layers (linear layers of the MLP for appnp/mlp).", {}, 1, 64),
      key("model.heads", int64_t{8}, "Attention heads of hidden GAT/GATv2 layers.", {}, 1, 256),
      key("model.out_heads", int64_t{1}, "Attention heads of the output GAT/GATv2 layer (averaged).", {}, 1, 256),
      key("model.dropout", 0.5, "Dropout probability on the input of every layer.", {}, 0.0, 1.0, true),
      key("model.input_dropout", -1.0, "Dropout on the input features; negative means model.dropout.", {}, -1.0, 1.0, true),
      key("model.attn_dropout", 0.6, "Dropout on attention coefficients (GAT/GATv2).", {}, 0.0, 1.0, true),
      key("model.norm", std::string("none"), "Normalization after hidden layers: none, batch or layer.", {"none", "batch", "layer"}),
      key("model.residual", false, "Add each hidden layer's input to its output when widths match."),
      key("model.activation", std::string("relu"), "Activation after hidden layers.",
          {"relu", "elu", "gelu", "leaky_relu", "tanh", "identity"}),
      key("model.aggr", std::string("mean"), "GraphSAGE neighbour aggregation: mean, sum or max.", {"mean", "sum", "max"}),
      key("model.k", int64_t{10}, "Propagation steps for appnp and sgc.", {}, 0, 1000),
      key("model.alpha", 0.1, "Teleport probability of APPNP.", {}, 0.0, 1.0),
      key("model.negative_slope", 0.2, "LeakyReLU slope inside GAT attention.", {}, 0.0, 1.0),
      key("model.train_eps", false, "Learn GIN's epsilon."),
      key("model.readout", std::string("sum"), "Graph classification: how node rows become one row per graph (sum, mean or max).", {"sum", "mean", "max"}),
      key("train.optimizer", std::string("adam"), "adam (L2 weight decay, as PyTorch's Adam) or adamw (decoupled).", {"adam", "adamw"}),
      key("train.lr", 0.01, "Learning rate.", {}, 1e-12, 10.0),
      key("train.weight_decay", 5e-4, "Weight decay.", {}, 0.0, 1.0),
      key("train.epochs", int64_t{200}, "Maximum number of epochs.", {}, 1, 1000000),
      key("train.patience", int64_t{0}, "Stop after this many epochs without a better validation accuracy or loss; 0 disables early stopping.", {}, 0),
      key("train.lr_schedule", std::string("constant"), "constant, cosine (to 0 at train.epochs) or step.", {"constant", "cosine", "step"}),
      key("train.lr_step_size", int64_t{50}, "Epochs between decays for the step schedule.", {}, 1),
      key("train.lr_gamma", 0.5, "Decay factor of the step schedule.", {}, 0.0, 1.0),
      key("train.checkpoint_every", int64_t{10}, "Write a resumable checkpoint every this many epochs (0: only at the end).", {}, 0),
      key("train.seed", int64_t{0}, "Seed of the first run; run i uses seed + i.", {}, 0),
      key("train.batch_size", int64_t{32}, "Graph classification: graphs per mini-batch.", {}, 1),
      key("train.seeds", int64_t{1}, "Number of seeds to run (the --seeds flag overrides).", {}, 1, 1000),
      key("train.sparse_feature_density", 0.1, "Keep input features as sparse rows when at most this fraction is non-zero.", {}, 0.0, 1.0),
      key("train.threads", int64_t{0}, "Intra-op threads; 0 uses OMP_NUM_THREADS if set, else every core this process may run on.", {}, 0, 4096),
      key("train.log_every", int64_t{10}, "Epochs between progress lines when output is not a terminal.", {}, 1),
      key("sampler.fanouts", std::vector<int64_t>{}, "Neighbours sampled per layer for mini-batch training, from the seeds inward (PyG's num_neighbors: [15, 10, 5] keeps 15 per seed, 10 per neighbour, 5 per neighbour's neighbour); -1 keeps every neighbour; one entry per layer; empty trains full-batch.", {}, -1, 1e9),
      key("sampler.batch_size", int64_t{1024}, "Seed (training) nodes per mini-batch.", {}, 1),
      key("sampler.workers", int64_t{1},
          "Threads sampling and gathering features ahead of training (0: none, each batch is prepared when needed, "
          "in parallel on the training threads).",
          {}, 0, 256),
      key("sampler.replace", false, "Sample neighbours with replacement."),
      key("sampler.eval_batch_size", int64_t{4096}, "Destination nodes per batch of the layer-wise full-graph inference that evaluates mini-batch runs.", {}, 1),
  };
  return schema;
}

std::string closest_config_key(const std::string& name) {
  std::string best;
  size_t best_d = std::string::npos;
  for (const ConfigKey& k : config_schema()) {
    const size_t d = edit_distance(name, k.name);
    if (d < best_d) {
      best_d = d;
      best = k.name;
    }
    // A correct leaf under the wrong section ("train.hidden") also counts as close.
    const auto leaf = k.name.substr(k.name.find('.') + 1);
    const auto pos = name.find('.');
    if (pos != std::string::npos && name.substr(pos + 1) == leaf && best_d > 1) {
      best_d = 1;
      best = k.name;
    }
  }
  return best_d <= std::max<size_t>(3, name.size() / 3) ? best : "";
}

Config::Config() {
  for (const ConfigKey& k : config_schema()) values_[k.name] = k.default_value;
}

Config Config::from_file(const std::string& path) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    if (e.source().begin.line == 0) throw InputError(fmt::format("{}: cannot read configuration file", path));
    throw InputError(fmt::format("{}:{}: invalid TOML: {}", path, e.source().begin.line, e.description()));
  }
  Config c;
  for (auto&& [section, node] : table) {
    const std::string s(section.str());
    const toml::table* inner = node.as_table();
    if (!inner) {
      throw InputError(unknown_key_message(s, path) + " (keys live in [dataset], [model], [train] and [sampler] tables)");
    }
    for (auto&& [name, value] : *inner) {
      const std::string full = s + "." + std::string(name.str());
      const ConfigKey* k = find_key(full);
      const std::string where = fmt::format("{}:{}", path, value.source().begin.line);
      if (!k) throw InputError(unknown_key_message(full, where));
      c.set(full, convert(*k, value, where), where);
    }
  }
  return c;
}

void Config::set_override(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError(fmt::format("--set {}: expected section.key=value", assignment));
  }
  const std::string name = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  const std::string source = "--set " + assignment;
  const ConfigKey* k = find_key(name);
  if (!k) throw InputError(unknown_key_message(name, "--set"));
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + text);
  } catch (const toml::parse_error&) {
    // Bare words are strings: --set model.name=gat
    parsed = toml::table{{"v", text}};
  }
  set(name, convert(*k, *parsed.get("v"), source), source);
}

void Config::set(const std::string& name, const ConfigValue& value, const std::string& source) {
  const ConfigKey* k = find_key(name);
  if (!k) throw InputError(unknown_key_message(name, source));
  check_rule(*k, value, source);
  values_[name] = value;
}

int64_t Config::get_int(const std::string& k) const { return std::get<int64_t>(values_.at(k)); }
double Config::get_float(const std::string& k) const { return std::get<double>(values_.at(k)); }
bool Config::get_bool(const std::string& k) const { return std::get<bool>(values_.at(k)); }
const std::string& Config::get_string(const std::string& k) const { return std::get<std::string>(values_.at(k)); }
const std::vector<int64_t>& Config::get_int_list(const std::string& k) const {
  return std::get<std::vector<int64_t>>(values_.at(k));
}

ModelConfig Config::model() const {
  ModelConfig m;
  m.name = get_string("model.name");
  m.hidden = get_int("model.hidden");
  m.layers = get_int("model.layers");
  m.heads = get_int("model.heads");
  m.out_heads = get_int("model.out_heads");
  m.dropout = get_float("model.dropout");
  m.input_dropout = get_float("model.input_dropout");
  m.attn_dropout = get_float("model.attn_dropout");
  m.norm = get_string("model.norm");
  m.residual = get_bool("model.residual");
  m.activation = get_string("model.activation");
  m.aggr = get_string("model.aggr");
  m.k = get_int("model.k");
  m.alpha = get_float("model.alpha");
  m.negative_slope = get_float("model.negative_slope");
  m.train_eps = get_bool("model.train_eps");
  return m;
}

void Config::validate() const {
  if (get_string("dataset.path").empty()) throw InputError("dataset.path: must not be empty");
  if (get_string("task.kind") == "graph") {
    const std::string& m = get_string("model.name");
    if (!is_known_graph_model(m)) {
      throw InputError(fmt::format("model.name: \"{}\" has no graph-classification form; task.kind = \"graph\" takes "
                                   "gin, gcn, sage or mlp", m));
    }
    if (!get_int_list("sampler.fanouts").empty()) {
      throw InputError("sampler.fanouts: graph classification trains on whole graphs; leave it empty");
    }
    if (get_int("task.run_folds") > get_int("task.folds")) {
      throw InputError(fmt::format("task.run_folds: {} is more than task.folds ({})", get_int("task.run_folds"),
                                   get_int("task.folds")));
    }
  }
  for (const int64_t f : get_int_list("sampler.fanouts")) {
    if (f == 0) throw InputError("sampler.fanouts: 0 neighbours would cut the graph; use -1 (all) or a positive count");
  }
}

std::string Config::to_toml() const {
  std::string out, section;
  for (const ConfigKey& k : config_schema()) {
    const std::string s = k.name.substr(0, k.name.find('.'));
    if (s != section) {
      out += (section.empty() ? "" : "\n") + fmt::format("[{}]\n", s);
      section = s;
    }
    out += fmt::format("{} = {}\n", k.name.substr(k.name.find('.') + 1), format_value(values_.at(k.name)));
  }
  return out;
}

}  // namespace ripple
