// Inputs of a node-classification run, prepared once and shared by all seeds (internal).
#pragma once

#include <filesystem>
#include <memory>

#include "ripple/settings.h"
#include "ripple/dataset.h"
#include "ripple/nn/features.h"
#include "ripple/nn/graph_cache.h"
#include "sample/part_sampler.h"

namespace ripple::dist {
class GroupRemoteRows;
}  // namespace ripple::dist
#include "sample/part_sampler.h"

namespace ripple::dist {
class GroupRemoteRows;
}

namespace ripple::train {

struct NodeData {
  NodeDataset dataset;
  std::unique_ptr<nn::GraphCache> graph;
  nn::Features features;  // full-batch runs: float32, normalized, maybe sparse
  bool minibatch = false;  // sampler.fanouts given: features stay in dataset.features as stored
  // dist.data = "partitioned", sampled: the part as its sampler sees it, and (dist.remote =
  // "fetch") how the other parts' rows are reached; null otherwise.
  std::shared_ptr<PartGraph> part;
  std::shared_ptr<dist::GroupRemoteRows> remote;
  // With sampler.workers > 0: the same exchange over a second process group of the ranks,
  // used by a thread that samples the next training batch while this one trains.
  std::shared_ptr<dist::GroupRemoteRows> prefetch_remote;
  // On a part: the training steps of an epoch, the same on every part (that of the part with
  // the most training nodes at sampler.batch_size), so that every step has every part's nodes.
  int64_t part_steps = 0;
};

// Loads config.dataset.path (already resolved) and applies dataset.symmetrize /
// dataset.normalize_features (mini-batch runs normalize the gathered rows instead, so a
// memory-mapped feature matrix is never copied). Throws InputError.
NodeData prepare_node_data(const RunConfig& config);
// The same for a dataset already in memory (benchmarks, generated graphs).
NodeData make_node_data(NodeDataset dataset, const RunConfig& config);

// A dataset's stored features as the full-batch model reads them: float32, divided by
// their row sums when dataset.normalize_features, sparse rows when train.sparse_feature_density
// allows.
nn::Features full_batch_features(const at::Tensor& stored, const RunConfig& config);

// dataset.path as the user meant it: from the working directory if it exists there, else
// beside the configuration file (`config_dir`); absolute.
std::filesystem::path resolve_dataset_path(const std::string& path, const std::filesystem::path& config_dir);

}  // namespace ripple::train
