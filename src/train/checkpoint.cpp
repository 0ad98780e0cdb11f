// Named, versioned checkpoints. See src/train/checkpoint.h.
#include "train/checkpoint.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/serialize.h>

#include "ripple/error.h"
#include "train/files.h"

namespace ripple::train {
namespace {

using Dict = c10::impl::GenericDict;

Dict make_dict() { return Dict(c10::StringType::get(), c10::AnyType::get()); }

constexpr const char* kFormat = "ripple-checkpoint";

c10::Dict<std::string, at::Tensor> to_dict(const NamedTensors& values) {
  c10::Dict<std::string, at::Tensor> d;
  for (const auto& [name, t] : values) d.insert(name, t);
  return d;
}

c10::Dict<std::string, double> metrics_dict(const Metrics& m) {
  c10::Dict<std::string, double> d;
  for (const auto& [name, v] : m) d.insert(name, v);
  return d;
}

// The flat optimizer buffer `flat` cut into the model's parameters, by name.
NamedTensors per_parameter(torch::nn::Module& model, const at::Tensor& flat) {
  NamedTensors out;
  int64_t offset = 0;
  for (const auto& p : model.named_parameters()) {
    const int64_t n = p.value().numel();
    out[p.key()] = flat.narrow(0, offset, n).view(p.value().sizes());
    offset += n;
  }
  return out;
}

class Reader {
 public:
  Reader(const std::filesystem::path& path) : path_(path.string()) {
    if (!std::filesystem::is_regular_file(path)) throw InputError(fmt::format("{}: file not found", path_));
    const std::string bytes = read_file(path);
    c10::IValue root;
    try {
      root = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
    } catch (const c10::Error& e) {
      refuse_older_format(e);
    }
    if (!root.isGenericDict()) throw InputError(fmt::format("{}: not a Ripple checkpoint (no dictionary)", path_));
    root_ = root.toGenericDict();
    if (!root_.contains("format") || !root_.at("format").isString() || root_.at("format").toStringRef() != kFormat) {
      throw InputError(fmt::format("{}: not a Ripple checkpoint (no format \"{}\")", path_, kFormat));
    }
    const int64_t version = root_.at("version").toInt();
    if (version != kCheckpointVersion) {
      throw InputError(fmt::format("{}: checkpoint format version {}, this Ripple reads version {}", path_, version,
                                   kCheckpointVersion));
    }
  }

  c10::IValue at(const std::string& key) const {
    if (!root_.contains(key)) throw InputError(fmt::format("{}: corrupt checkpoint: no \"{}\"", path_, key));
    return root_.at(key);
  }
  bool has(const std::string& key) const { return root_.contains(key); }
  NamedTensors tensors(const c10::IValue& v) const {
    NamedTensors out;
    for (const auto& e : v.toGenericDict()) out[e.key().toStringRef()] = e.value().toTensor();
    return out;
  }
  const std::string& path() const { return path_; }

 private:
  // Before version 2 checkpoints were TorchScript archives of tensors by position.
  [[noreturn]] void refuse_older_format(const c10::Error& cause) const {
    bool old = false;
    try {
      torch::serialize::InputArchive ar;
      ar.load_from(path_);
      at::Tensor count;
      old = ar.try_read("model_count", count);
    } catch (const c10::Error&) {
    }
    if (old) {
      throw InputError(fmt::format(
          "{}: written by a Ripple before checkpoint format version {} (parameters stored by position, which a "
          "changed model would load silently wrong); this version does not read it: start the run again",
          path_, kCheckpointVersion));
    }
    const std::string what = cause.what_without_backtrace();
    throw InputError(fmt::format("{}: corrupt or not a checkpoint ({})", path_, what.substr(0, what.find('\n'))));
  }

  std::string path_;
  Dict root_ = make_dict();
};

void copy_checked(at::Tensor& into, const at::Tensor& from, const std::string& name, const std::string& source) {
  if (into.sizes() != from.sizes()) {
    throw InputError(fmt::format("{}: parameter {} has shape {}, the model's is {} (a checkpoint of another model?)",
                                 source, name, fmt::join(from.sizes(), "x"), fmt::join(into.sizes(), "x")));
  }
  into.copy_(from);
}

}  // namespace

NamedTensors snapshot_parameters(torch::nn::Module& model) {
  NamedTensors out;  // a module never has a parameter and a buffer of the same name
  for (const auto& p : model.named_parameters()) out[p.key()] = p.value().detach().clone();
  for (const auto& b : model.named_buffers()) out[b.key()] = b.value().detach().clone();
  return out;
}

void restore_parameters(torch::nn::Module& model, const NamedTensors& values, const std::string& source) {
  torch::NoGradGuard no_grad;
  size_t used = 0;
  auto restore = [&](const std::string& name, at::Tensor into) {
    const auto it = values.find(name);
    if (it == values.end()) {
      throw InputError(fmt::format("{}: no parameter {} (a checkpoint of another model?)", source, name));
    }
    copy_checked(into, it->second, name, source);
    ++used;
  };
  for (const auto& p : model.named_parameters()) restore(p.key(), p.value());
  for (const auto& b : model.named_buffers()) restore(b.key(), b.value());
  if (used != values.size()) {
    for (const auto& [name, t] : values) {
      if (!model.named_parameters().contains(name) && !model.named_buffers().contains(name)) {
        throw InputError(fmt::format("{}: holds parameter {}, which the model does not have (a checkpoint of "
                                     "another model?)", source, name));
      }
    }
  }
}

void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& model, const FlatAdam& optimizer,
                     const TrainState& s) {
  Dict root = make_dict(), opt = make_dict(), state = make_dict();
  root.insert("format", std::string(kFormat));
  root.insert("version", kCheckpointVersion);
  NamedTensors params, buffers;
  for (const auto& p : model.named_parameters()) params[p.key()] = p.value().detach();
  for (const auto& b : model.named_buffers()) buffers[b.key()] = b.value().detach();
  root.insert("parameters", to_dict(params));
  root.insert("buffers", to_dict(buffers));
  root.insert("best", to_dict(s.best_parameters));
  opt.insert("step", optimizer.steps());
  opt.insert("exp_avg", to_dict(per_parameter(model, optimizer.exp_avg())));
  opt.insert("exp_avg_sq", to_dict(per_parameter(model, optimizer.exp_avg_sq())));
  root.insert("optimizer", opt);
  state.insert("epoch", s.epoch);
  state.insert("best_epoch", s.best_epoch);
  state.insert("bad_epochs", s.bad_epochs);
  state.insert("best_maximize", s.best_maximize);
  state.insert("best_minimize", s.best_minimize);
  state.insert("max_seen", s.max_seen);
  state.insert("min_seen", s.min_seen);
  root.insert("state", state);
  root.insert("best_metrics", metrics_dict(s.best_metrics));
  root.insert("epoch_ms", c10::List<double>(s.epoch_ms));
  if (!s.strategy_state.empty()) root.insert("strategy", to_dict(s.strategy_state));
  const std::vector<char> bytes = torch::pickle_save(root);
  write_file_atomic(path, std::string(bytes.begin(), bytes.end()));
}

void load_checkpoint(const std::filesystem::path& path, torch::nn::Module& model, FlatAdam& optimizer,
                     TrainState& s) {
  const Reader r(path);
  try {
    NamedTensors values = r.tensors(r.at("parameters"));
    for (auto& [name, t] : r.tensors(r.at("buffers"))) values[name] = t;
    restore_parameters(model, values, r.path());
    s.best_parameters = r.tensors(r.at("best"));
    const auto opt = r.at("optimizer").toGenericDict();
    optimizer.set_steps(opt.at("step").toInt());
    const std::pair<const char*, at::Tensor> moments[] = {{"exp_avg", optimizer.exp_avg()},
                                                          {"exp_avg_sq", optimizer.exp_avg_sq()}};
    for (const auto& [which, flat] : moments) {
      NamedTensors into = per_parameter(model, flat);
      const NamedTensors from = r.tensors(opt.at(which));
      torch::NoGradGuard no_grad;
      for (auto& [name, t] : into) {
        const auto it = from.find(name);
        if (it == from.end()) throw InputError(fmt::format("{}: no optimizer state for {}", r.path(), name));
        copy_checked(t, it->second, name, r.path());
      }
    }
    const auto state = r.at("state").toGenericDict();
    s.epoch = state.at("epoch").toInt();
    s.best_epoch = state.at("best_epoch").toInt();
    s.bad_epochs = state.at("bad_epochs").toInt();
    s.best_maximize = state.at("best_maximize").toDouble();
    s.best_minimize = state.at("best_minimize").toDouble();
    s.max_seen = state.at("max_seen").toDouble();
    s.min_seen = state.at("min_seen").toDouble();
    s.best_metrics.clear();
    for (const auto& e : r.at("best_metrics").toGenericDict()) s.best_metrics[e.key().toStringRef()] = e.value().toDouble();
    s.epoch_ms = r.at("epoch_ms").toDoubleList().vec();
    s.strategy_state.clear();
    if (r.has("strategy")) {
      for (const auto& [name, t] : r.tensors(r.at("strategy"))) s.strategy_state[name] = t.clone();
    }
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    throw InputError(fmt::format("{}: corrupt checkpoint ({})", r.path(), what.substr(0, what.find('\n'))));
  }
}

void save_parameters(const std::filesystem::path& path, const NamedTensors& values) {
  Dict root = make_dict();
  root.insert("format", std::string(kFormat));
  root.insert("version", kCheckpointVersion);
  root.insert("parameters", to_dict(values));
  const std::vector<char> bytes = torch::pickle_save(root);
  write_file_atomic(path, std::string(bytes.begin(), bytes.end()));
}

NamedTensors load_parameters(const std::filesystem::path& path) {
  const Reader r(path);
  try {
    return r.tensors(r.at("parameters"));
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    throw InputError(fmt::format("{}: corrupt parameter file ({})", r.path(), what.substr(0, what.find('\n'))));
  }
}

}  // namespace ripple::train
