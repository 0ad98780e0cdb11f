// Link prediction on the training loop. See src/tasks/link_task.h.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/utils.h>

#include "ripple/dataset.h"
#include "ripple/error.h"
#include "ripple/link_metrics.h"
#include "ripple/nn/functional.h"
#include "ripple/nn/layers.h"
#include "ripple/ops.h"
#include "ripple/sample.h"
#include "tasks/link_task.h"
#include "tasks/shuffle.h"
#include "train/node_data.h"

namespace ripple::tasks {
namespace {

using nn::mix64;

constexpr int64_t kScoreChunk = 65536;  // pairs scored at once in evaluation

// -log s(pos) averaged plus -log(1 - s(neg)) averaged (s: the logistic function).
at::Tensor link_loss(const at::Tensor& pos, const at::Tensor& neg) {
  return at::softplus(-pos).mean() + at::softplus(neg).mean();
}

}  // namespace

bool split_per_seed(const RunConfig& c) { return c.link.split == "random" && c.link.split_seed < 0; }

std::shared_ptr<LinkData> prepare_link_data(const RunConfig& c, uint64_t split_seed) {
  auto out = std::make_shared<LinkData>();
  LinkData& d = *out;
  if (c.link.split == "dataset") {
    d.dataset = load_ogb_link_dataset(c.dataset.path, c.dataset.split);
  } else {
    d.dataset = split_links_randomly(load_node_dataset(c.dataset.path), c.link.valid_fraction, c.link.test_fraction,
                                     split_seed);
  }
  d.graph = std::make_unique<nn::GraphCache>(d.dataset.message_graph());
  if (c.link.embedding == 0) {
    if (!d.dataset.features.defined()) {
      throw SettingError("link.embedding", fmt::format("{} has no node features; set link.embedding to the width "
                                                       "of learned node embeddings", c.dataset.path));
    }
    d.features = train::full_batch_features(d.dataset.features, c);
  }
  return out;
}

LinkModelImpl::LinkModelImpl(const RunConfig& c, int64_t num_nodes, int64_t in_features)
    : link_(c.link), dropout_(c.model.dropout) {
  int64_t in = in_features;
  if (link_.embedding > 0) {
    in = link_.embedding;
    const double bound = std::sqrt(6.0 / static_cast<double>(num_nodes + in));  // Xavier-uniform, as OGB's examples
    embedding_ = register_parameter("embedding", at::empty({num_nodes, in}, at::kFloat).uniform_(-bound, bound));
  }
  encoder_ = register_module("encoder", NodeModel(c.model, in, c.model.hidden));
  decoder_ = register_module("decoder", torch::nn::ModuleList());
  if (link_.decoder != "dot") {
    for (int64_t i = 0; i < link_.decoder_layers; ++i) {
      const bool last = i + 1 == link_.decoder_layers;
      const int64_t in = i == 0 && link_.decoder == "ncn" ? 2 * c.model.hidden : c.model.hidden;
      decoder_->push_back(nn::Linear(in, last ? 1 : c.model.hidden, true, false));
    }
  }
}

at::Tensor LinkModelImpl::encode(nn::GraphCache& graph, const nn::Features& x, nn::ForwardContext& ctx) {
  return encoder_->forward(graph, embedding_.defined() ? nn::Features(embedding_) : x, ctx);
}

at::Tensor LinkModelImpl::score(const at::Tensor& h, const at::Tensor& pairs, const Graph& graph,
                                nn::ForwardContext& ctx) {
  at::Tensor x = h.index_select(0, pairs[0]) * h.index_select(0, pairs[1]);
  if (decoder_->is_empty()) return x.sum(1);
  if (link_.decoder == "ncn") {
    x = at::cat({x, ops::gspmm(ops::common_neighbors(graph, pairs), "copy_lhs", "sum", h, at::Tensor())}, 1);
  }
  const size_t layers = decoder_->size();
  for (size_t i = 0; i + 1 < layers; ++i) {
    x = nn::dropout(at::relu(decoder_->at<nn::LinearImpl>(i).forward(x)), dropout_, ctx);
  }
  return decoder_->at<nn::LinearImpl>(layers - 1).forward(x).squeeze(1);
}

LinkPredictionTask::LinkPredictionTask(const RunConfig& config, std::shared_ptr<LinkData> data, train::Shard shard,
                                       train::GatherRows gather)
    : config_(config), data_(std::move(data)), shard_(shard), gather_(std::move(gather)) {}

void LinkPredictionTask::reshard(train::Shard shard) { shard_ = shard; }  // each epoch's order reads it

torch::nn::Module& LinkPredictionTask::build_model(uint64_t seed) {
  seed_ = seed;
  torch::manual_seed(seed);
  const int64_t in = config_.link.embedding > 0 ? 0 : data_->features.cols();
  model_ = LinkModel(config_, data_->dataset.num_nodes, in);
  return *model_;
}

void LinkPredictionTask::begin_epoch(int64_t epoch) {
  epoch_ = epoch;
  batch_ = 0;
  next_ = 0;
  model_->train();
  const uint64_t key = mix64(mix64(seed_ ^ 0x0DE5EEDull) + static_cast<uint64_t>(epoch));
  order_ = shard_of(shuffled_order(data_->dataset.train_edges.size(1), key), shard_);
}

std::optional<train::BatchLoss> LinkPredictionTask::next_batch() {
  const int64_t total = order_.numel();
  if (next_ >= total) return std::nullopt;
  const int64_t size = config_.link.batch_size == 0 ? total : std::min(config_.link.batch_size, total - next_);
  const at::Tensor pos = data_->dataset.train_edges.index_select(1, order_.narrow(0, next_, size));
  next_ += size;
  ++batch_;
  const uint64_t key = shard_key(mix64(mix64(mix64(seed_ ^ 0x4E6A71FEull) + static_cast<uint64_t>(epoch_)) +
                                       static_cast<uint64_t>(batch_)), shard_);
  const at::Tensor neg = sample_negative_pairs(data_->dataset.num_nodes, pos, config_.link.negatives,
                                               config_.link.negative_mode == "per_source", key);
  nn::ForwardContext ctx{true, seed_, epoch_, 0, batch_};
  const at::Tensor h = model_->encode(*data_->graph, data_->features, ctx);
  const Graph& graph = data_->graph->base();
  const at::Tensor loss = link_loss(model_->score(h, pos, graph, ctx), model_->score(h, neg, graph, ctx));
  return train::BatchLoss{loss, size};
}

at::Tensor LinkPredictionTask::scores(const at::Tensor& h, const at::Tensor& pairs) {
  std::vector<at::Tensor> parts;
  nn::ForwardContext ctx;
  for (int64_t b = 0; b < pairs.size(1); b += kScoreChunk) {
    parts.push_back(model_->score(h, pairs.narrow(1, b, std::min(kScoreChunk, pairs.size(1) - b)),
                                  data_->graph->base(), ctx));
  }
  return at::cat(parts);
}

at::Tensor LinkPredictionTask::all_scores(const at::Tensor& h, const at::Tensor& pairs) {
  if (!gather_ || shard_.count == 1) return scores(h, pairs);
  const auto [begin, end] = shard_.range(pairs.size(1));
  return gather_(scores(h, pairs.narrow(1, begin, end - begin)));
}

train::Metrics LinkPredictionTask::evaluate() {
  torch::NoGradGuard no_grad;
  model_->eval();
  nn::ForwardContext ctx;
  const at::Tensor h = model_->encode(*data_->graph, data_->features, ctx);
  const LinkDataset& d = data_->dataset;
  train::Metrics m;
  auto report = [&](const std::string& prefix, const at::Tensor& pos_pairs, const at::Tensor& neg_pairs) {
    const at::Tensor pos = all_scores(h, pos_pairs), neg = all_scores(h, neg_pairs);
    m[prefix + "auc"] = roc_auc(pos, neg);
    m[prefix + "ap"] = average_precision(pos, neg);
    for (const int64_t k : config_.link.hits_k) m[fmt::format("{}hits@{}", prefix, k)] = hits_at_k(pos, neg, k);
    if (!prefix.empty()) m[prefix + "loss"] = link_loss(pos, neg).item<double>();
  };
  report("valid_", d.valid_pos, d.valid_neg);
  report("", d.test_pos, d.test_neg);
  return m;
}

train::Selection LinkPredictionTask::selection() const {
  train::Selection s;
  s.maximize = "valid_" + link_selection_metric(config_);
  s.minimize = "valid_loss";
  return s;
}

}  // namespace ripple::tasks
