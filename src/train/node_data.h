// Inputs of a node-classification run, prepared once and shared by all seeds (internal).
#pragma once

#include <filesystem>
#include <memory>

#include "ripple/config.h"
#include "ripple/dataset.h"
#include "ripple/nn/features.h"
#include "ripple/nn/graph_cache.h"

namespace ripple::train {

struct NodeData {
  NodeDataset dataset;
  std::unique_ptr<nn::GraphCache> graph;
  nn::Features features;  // full-batch runs: float32, normalized, maybe sparse
  bool minibatch = false;  // sampler.fanouts given: features stay in dataset.features as stored
};

// Resolves dataset.path (working directory first, then `config_dir`), loads the dataset and
// applies dataset.symmetrize / dataset.normalize_features (mini-batch runs normalize the
// gathered rows instead, so a memory-mapped feature matrix is never copied). Throws InputError.
NodeData prepare_node_data(const Config& config, const std::filesystem::path& config_dir);
std::filesystem::path resolve_dataset_path(const Config& config, const std::filesystem::path& config_dir);

}  // namespace ripple::train
