#include "train/node_data.h"

#include <ATen/ATen.h>

namespace ripple::train {

std::filesystem::path resolve_dataset_path(const std::string& path, const std::filesystem::path& config_dir) {
  const std::filesystem::path p(path);
  if (p.is_absolute() || std::filesystem::exists(p) || config_dir.empty()) return std::filesystem::absolute(p);
  const std::filesystem::path beside = config_dir / p;
  return std::filesystem::exists(beside) ? std::filesystem::absolute(beside) : std::filesystem::absolute(p);
}

NodeData prepare_node_data(const RunConfig& config) {
  return make_node_data(load_node_dataset(config.dataset.path, config.dataset.split), config);
}

NodeData make_node_data(NodeDataset dataset, const RunConfig& config) {
  NodeData d;
  d.dataset = std::move(dataset);
  if (config.dataset.symmetrize) d.dataset.graph = d.dataset.graph.symmetrized();
  d.graph = std::make_unique<nn::GraphCache>(d.dataset.graph);
  d.minibatch = !config.sampler.fanouts.empty();
  if (d.minibatch) {
    d.dataset.features = d.dataset.features.contiguous();
    return d;
  }
  d.features = full_batch_features(d.dataset.features, config);
  return d;
}

nn::Features full_batch_features(const at::Tensor& stored, const RunConfig& config) {
  at::Tensor x = stored.to(at::kFloat);  // native datasets may store float16
  if (config.dataset.normalize_features) x = x / x.sum(1, /*keepdim=*/true).clamp_min(1.0);
  return nn::Features::from_dense(x, config.train.sparse_feature_density);
}

}  // namespace ripple::train
