#include "train/checkpoint.h"

#include <fmt/format.h>
#include <torch/serialize.h>

#include "ripple/error.h"

namespace ripple::train {

std::vector<at::Tensor> snapshot_parameters(torch::nn::Module& model) {
  std::vector<at::Tensor> out;
  for (const auto& p : model.parameters()) out.push_back(p.detach().clone());
  for (const auto& b : model.buffers()) out.push_back(b.detach().clone());
  return out;
}

void restore_parameters(torch::nn::Module& model, const std::vector<at::Tensor>& values) {
  torch::NoGradGuard no_grad;
  auto params = model.parameters();
  auto buffers = model.buffers();
  if (values.size() != params.size() + buffers.size()) {
    throw InputError(fmt::format("checkpoint holds {} tensors, the model has {}", values.size(),
                                 params.size() + buffers.size()));
  }
  size_t i = 0;
  for (auto& p : params) {
    if (p.sizes() != values[i].sizes()) throw InputError("checkpoint tensor shape differs from the model's");
    p.copy_(values[i++]);
  }
  for (auto& b : buffers) b.copy_(values[i++]);
}

namespace {
void write_tensors(torch::serialize::OutputArchive& ar, const std::string& prefix, const std::vector<at::Tensor>& v) {
  ar.write(prefix + "_count", torch::tensor(static_cast<int64_t>(v.size())));
  for (size_t i = 0; i < v.size(); ++i) ar.write(prefix + "_" + std::to_string(i), v[i]);
}

std::vector<at::Tensor> read_tensors(torch::serialize::InputArchive& ar, const std::string& prefix) {
  at::Tensor count;
  ar.read(prefix + "_count", count);
  std::vector<at::Tensor> v(count.item<int64_t>());
  for (size_t i = 0; i < v.size(); ++i) ar.read(prefix + "_" + std::to_string(i), v[i]);
  return v;
}

void save_archive(torch::serialize::OutputArchive& ar, const std::filesystem::path& path) {
  const std::string tmp = path.string() + ".tmp";
  try {
    ar.save_to(tmp);
  } catch (const c10::Error& e) {
    throw InputError(fmt::format("{}: cannot write checkpoint", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw InputError(fmt::format("{}: cannot rename into place: {}", path.string(), ec.message()));
}

template <typename F>
void with_archive(const std::filesystem::path& path, F&& f) {
  if (!std::filesystem::is_regular_file(path)) throw InputError(fmt::format("{}: file not found", path.string()));
  try {
    torch::serialize::InputArchive ar;
    ar.load_from(path.string());
    f(ar);
  } catch (const c10::Error& e) {
    throw InputError(fmt::format("{}: corrupt or incompatible checkpoint", path.string()));
  }
}
}  // namespace

void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, const TrainState& s) {
  torch::serialize::OutputArchive ar;
  write_tensors(ar, "model", snapshot_parameters(model));
  write_tensors(ar, "best", s.best_parameters);
  torch::serialize::OutputArchive opt;
  optimizer.save(opt);
  ar.write("optimizer", opt);
  ar.write("state", torch::tensor({static_cast<double>(s.epoch), static_cast<double>(s.best_epoch), s.best_valid_acc,
                                   s.best_valid_loss, s.best_test_acc, s.best_train_acc, s.min_valid_loss,
                                   s.max_valid_acc, static_cast<double>(s.bad_epochs)},
                                  torch::kDouble));
  ar.write("epoch_ms", torch::tensor(s.epoch_ms.empty() ? std::vector<double>{} : s.epoch_ms, torch::kDouble));
  save_archive(ar, path);
}

void load_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, TrainState& s) {
  with_archive(path, [&](torch::serialize::InputArchive& ar) {
    restore_parameters(model, read_tensors(ar, "model"));
    s.best_parameters = read_tensors(ar, "best");
    torch::serialize::InputArchive opt;
    ar.read("optimizer", opt);
    optimizer.load(opt);
    at::Tensor st, ms;
    ar.read("state", st);
    ar.read("epoch_ms", ms);
    const double* v = st.data_ptr<double>();
    s.epoch = static_cast<int64_t>(v[0]);
    s.best_epoch = static_cast<int64_t>(v[1]);
    s.best_valid_acc = v[2];
    s.best_valid_loss = v[3];
    s.best_test_acc = v[4];
    s.best_train_acc = v[5];
    s.min_valid_loss = v[6];
    s.max_valid_acc = v[7];
    s.bad_epochs = static_cast<int64_t>(v[8]);
    s.epoch_ms.assign(ms.data_ptr<double>(), ms.data_ptr<double>() + ms.numel());
  });
}

void save_parameters(const std::filesystem::path& path, const std::vector<at::Tensor>& values) {
  torch::serialize::OutputArchive ar;
  write_tensors(ar, "model", values);
  save_archive(ar, path);
}

std::vector<at::Tensor> load_parameters(const std::filesystem::path& path) {
  std::vector<at::Tensor> out;
  with_archive(path, [&](torch::serialize::InputArchive& ar) { out = read_tensors(ar, "model"); });
  return out;
}

}  // namespace ripple::train
