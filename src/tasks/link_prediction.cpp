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
    : link_(c.link),
      activation_(c.model.activation),
      decoder_dropout_(c.link.decoder_dropout >= 0 ? c.link.decoder_dropout : c.model.dropout) {
  int64_t in = in_features;
  if (link_.embedding > 0) {
    in = link_.embedding;
    const double bound = std::sqrt(6.0 / static_cast<double>(num_nodes + in));  // Xavier-uniform, as OGB's examples
    embedding_ = register_parameter("embedding", at::empty({num_nodes, in}, at::kFloat).uniform_(-bound, bound));
  }
  encoder_ = register_module("encoder", NodeModel(c.model, in, c.model.hidden));
  if (link_.encoder_norm == "layer") {
    encoder_norm_ = register_module("encoder_norm",
                                    torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.model.hidden})));
  } else if (link_.encoder_norm != "none") {
    throw SettingError("link.encoder_norm", "expected none or layer, got '" + link_.encoder_norm + "'");
  }
  decoder_ = register_module("decoder", torch::nn::ModuleList());
  if (link_.decoder == "ncn") {
    ncn_ = register_module("ncn", NcnDecoder(c.model.hidden, link_.decoder_layers, decoder_dropout_, link_.ncn_tail_activation));
  } else if (link_.decoder == "mlp") {
    for (int64_t i = 0; i < link_.decoder_layers; ++i) {
      const bool last = i + 1 == link_.decoder_layers;
      decoder_->push_back(nn::Linear(c.model.hidden, last ? 1 : c.model.hidden, true, false));
    }
  }
}

LinkEncoding LinkModelImpl::encode(nn::GraphCache& graph, const nn::Features& x, nn::ForwardContext& ctx) {
  LinkEncoding e;
  e.h = encoder_->forward(graph, embedding_.defined() ? nn::Features(embedding_) : x, ctx);
  if (encoder_norm_) e.h = nn::activate(encoder_norm_->forward(e.h), activation_);
  if (ncn_) e.cn_rows = ncn_->neighbour_rows(e.h, ctx);
  return e;
}

at::Tensor LinkModelImpl::score(const LinkEncoding& e, const at::Tensor& pairs, const Graph& graph,
                                nn::ForwardContext& ctx) {
  if (ncn_) return ncn_->forward(e.h, e.cn_rows, pairs, graph, ctx);
  if (decoder_->is_empty()) return (e.h.index_select(0, pairs[0]) * e.h.index_select(0, pairs[1])).sum(1);
  // The pairs' Hadamard products as a gSDDMM over the graph whose edges are the pairs: one
  // pass that writes each product once (h stays in cache), its backward two gSpMMs. Its rows
  // come in that graph's CSC order; the scores go back to the pairs' order at the end.
  const Graph pair_graph = Graph::from_edges(e.h.size(0), pairs[0], pairs[1], {.dedupe = false});
  at::Tensor x = ops::gsddmm(pair_graph, "mul", e.h, e.h, "src", "dst");
  const size_t layers = decoder_->size();
  for (size_t i = 0; i + 1 < layers; ++i) {
    x = nn::relu_dropout(decoder_->at<nn::LinearImpl>(i).forward(x), decoder_dropout_, ctx);
  }
  const at::Tensor scores = decoder_->at<nn::LinearImpl>(layers - 1).forward(x).squeeze(1);
  return at::zeros_like(scores).index_copy(0, pair_graph.input_edge_ids(), scores);
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
  const at::Tensor positions = order_.narrow(0, next_, size);
  const at::Tensor pos = data_->dataset.train_edges.index_select(1, positions);
  next_ += size;
  ++batch_;
  const uint64_t key = shard_key(mix64(mix64(mix64(seed_ ^ 0x4E6A71FEull) + static_cast<uint64_t>(epoch_)) +
                                       static_cast<uint64_t>(batch_)), shard_);
  const at::Tensor neg = sample_negative_pairs(data_->dataset.num_nodes, pos, config_.link.negatives,
                                               config_.link.negative_mode == "per_source", key,
                                               config_.link.reject_edges ? &data_->graph->base() : nullptr);
  nn::ForwardContext ctx{true, seed_, epoch_, 0, batch_};
  std::optional<nn::GraphCache> masked;
  if (config_.link.mask_targets) masked.emplace(data_->dataset.message_graph_without(positions, &data_->graph->base()));
  nn::GraphCache& graph = masked ? *masked : *data_->graph;
  const LinkEncoding e = model_->encode(graph, data_->features, ctx);
  const at::Tensor loss = link_loss(model_->score(e, pos, graph.base(), ctx), model_->score(e, neg, graph.base(), ctx));
  return train::BatchLoss{loss, size};
}

at::Tensor LinkPredictionTask::scores(const LinkEncoding& e, const at::Tensor& pairs) {
  std::vector<at::Tensor> parts;
  nn::ForwardContext ctx;
  for (int64_t b = 0; b < pairs.size(1); b += kScoreChunk) {
    parts.push_back(model_->score(e, pairs.narrow(1, b, std::min(kScoreChunk, pairs.size(1) - b)),
                                  data_->graph->base(), ctx));
  }
  return at::cat(parts);
}

at::Tensor LinkPredictionTask::all_scores(const LinkEncoding& e, const at::Tensor& pairs) {
  if (!gather_ || shard_.count == 1) return scores(e, pairs);
  const auto [begin, end] = shard_.range(pairs.size(1));
  return gather_(scores(e, pairs.narrow(1, begin, end - begin)));
}

train::Metrics LinkPredictionTask::evaluate() {
  torch::NoGradGuard no_grad;
  model_->eval();
  nn::ForwardContext ctx;
  const LinkEncoding e = model_->encode(*data_->graph, data_->features, ctx);
  const LinkDataset& d = data_->dataset;
  train::Metrics m;
  auto report = [&](const std::string& prefix, const at::Tensor& pos_pairs, const at::Tensor& neg_pairs) {
    const at::Tensor pos = all_scores(e, pos_pairs), neg = all_scores(e, neg_pairs);
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
