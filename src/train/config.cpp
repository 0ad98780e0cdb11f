// The configuration schema, its parser and the checks of a RunConfig. See ripple/config.h
// and ripple/settings.h.
#include "ripple/config.h"

#include <fmt/format.h>

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>

#include "ripple/error.h"
#include "ripple/graph_model.h"

namespace ripple {

namespace {

// A schema entry bound to `RunConfig::*section.*field`; its default is the field's default.
template <typename Section, typename T>
ConfigKey key(std::string name, Section RunConfig::*section, T Section::*field, std::string doc,
              std::vector<std::string> choices = {}, double lo = -1e300, double hi = 1e300,
              bool hi_exclusive = false) {
  static_assert(std::is_constructible_v<ConfigValue, T>, "a setting must have a schema type");
  ConfigKey k;
  k.name = std::move(name);
  k.doc = std::move(doc);
  k.choices = std::move(choices);
  k.min = lo;
  k.max = hi;
  k.max_exclusive = hi_exclusive;
  k.get = [section, field](const RunConfig& c) { return ConfigValue(c.*section.*field); };
  k.put = [section, field](RunConfig& c, const ConfigValue& v) { c.*section.*field = std::get<T>(v); };
  k.default_value = k.get(RunConfig{});
  return k;
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
    return InputError(fmt::format("{}: {}: must be {}, got {}", source, k.name, type_name(def), got.str()));
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

std::string range_text(const ConfigKey& k) {
  if (k.min > -1e300 && k.max < 1e300) return fmt::format("in [{}, {}{}", k.min, k.max, k.max_exclusive ? ")" : "]");
  if (k.min > -1e300) return fmt::format(">= {}", k.min);
  if (k.max < 1e300) return fmt::format("{} {}", k.max_exclusive ? "<" : "<=", k.max);
  return "";
}

std::string unknown_key_message(const std::string& name, const std::string& source) {
  const std::string near = closest_config_key(name);
  return fmt::format("{}: unknown configuration key '{}'{}", source, name,
                     near.empty() ? " (see docs/config.md)" : fmt::format("; did you mean '{}'?", near));
}

// "FILE:LINE: " or "--set ...: " for InputErrors about one key.
InputError at_source(const std::string& source, const SettingError& e) {
  return InputError(fmt::format("{}: {}", source, e.what()));
}

}  // namespace

const std::vector<ConfigKey>& config_schema() {
  static const std::vector<ConfigKey> schema = [] {
    std::vector<ConfigKey> s = {
      key("dataset.path", &RunConfig::dataset, &DatasetSettings::path, "Dataset directory, native format or OGB raw layout, see docs/formats.md (relative paths: to the working directory, else to the config file)."),
      key("dataset.split", &RunConfig::dataset, &DatasetSettings::split, "Split name (OGB: folder under DIR/split/; native: listed in header.json)."),
      key("dataset.normalize_features", &RunConfig::dataset, &DatasetSettings::normalize_features, "Divide each feature row by its sum (PyG's NormalizeFeatures)."),
      key("dataset.symmetrize", &RunConfig::dataset, &DatasetSettings::symmetrize, "Add the reverse of every edge before training."),
      key("dataset.max_degree_feature", &RunConfig::dataset, &DatasetSettings::max_degree_feature, "Graph classification on a TU dataset with neither node labels nor attributes: nodes get one-hot in-degrees, degrees above this sharing the last column.", {}, 1, 100000),
      key("task.kind", &RunConfig::task, &TaskSettings::kind, "node (node classification on one graph), graph (graph classification by cross-validation on a TU dataset, see docs/graph_classification.md) link (link prediction, see docs/link_prediction.md) or recommend (top-K recommendation from user-item interactions, see docs/recommendation.md).", {"node", "graph", "link", "recommend"}),
      key("task.protocol", &RunConfig::task, &TaskSettings::protocol, "Graph classification: gin (the GIN paper's: epoch with the best mean test accuracy over the folds, optimistic) or errica (Errica et al.: epoch chosen on a validation split of each training fold).", {"gin", "errica"}),
      key("task.folds", &RunConfig::task, &TaskSettings::folds, "Graph classification: stratified cross-validation folds.", {}, 2, 1000),
      key("task.run_folds", &RunConfig::task, &TaskSettings::run_folds, "Graph classification: train only the first this many folds (0: all of them); for short checks.", {}, 0, 1000),
      key("task.valid_fraction", &RunConfig::task, &TaskSettings::valid_fraction, "Graph classification, errica protocol: share of each training fold held out for validation.", {}, 0.0, 1.0, true),
      key("model.name", &RunConfig::model, &ModelConfig::name, "Model: graph layers of GCN, GraphSAGE, GAT, GATv2 or GIN; APPNP (MLP then personalized-PageRank propagation); SGC (linear on A_hat^k X); MLP (no edges); simple (PyG's SimpleConv: neighbours aggregated without weights, the input's width kept, so model.hidden must equal it). Graph classification takes gin, gcn, sage or mlp. Recommendation takes lightgcn (learned user and item embeddings of width model.hidden, model.layers propagation steps) or ultragcn (embeddings of width model.hidden trained on UltraGCN's constraint losses, no message passing).",
          {"gcn", "sage", "gat", "gatv2", "gin", "appnp", "sgc", "mlp", "simple", "lightgcn", "ultragcn"}),
      key("model.hidden", &RunConfig::model, &ModelConfig::hidden, "Hidden width (per head for GAT).", {}, 1),
      key("model.layers", &RunConfig::model, &ModelConfig::layers, "Number of layers (linear layers of the MLP for appnp/mlp).", {}, 1, 64),
      key("model.heads", &RunConfig::model, &ModelConfig::heads, "Attention heads of hidden GAT/GATv2 layers.", {}, 1, 256),
      key("model.out_heads", &RunConfig::model, &ModelConfig::out_heads, "Attention heads of the output GAT/GATv2 layer (averaged).", {}, 1, 256),
      key("model.dropout", &RunConfig::model, &ModelConfig::dropout, "Dropout probability on the input of every layer.", {}, 0.0, 1.0, true),
      key("model.input_dropout", &RunConfig::model, &ModelConfig::input_dropout, "Dropout on the input features; negative means model.dropout.", {}, -1.0, 1.0, true),
      key("model.attn_dropout", &RunConfig::model, &ModelConfig::attn_dropout, "Dropout on attention coefficients (GAT/GATv2).", {}, 0.0, 1.0, true),
      key("model.norm", &RunConfig::model, &ModelConfig::norm, "Normalization after hidden layers: none, batch or layer.", {"none", "batch", "layer"}),
      key("model.residual", &RunConfig::model, &ModelConfig::residual, "Add each hidden layer's input to its output when widths match."),
      key("model.activation", &RunConfig::model, &ModelConfig::activation, "Activation after hidden layers.",
          {"relu", "elu", "gelu", "leaky_relu", "tanh", "identity"}),
      key("model.aggr", &RunConfig::model, &ModelConfig::aggr, "GraphSAGE and simple neighbour aggregation: mean, sum or max.", {"mean", "sum", "max"}),
      key("model.combine_root", &RunConfig::model, &ModelConfig::combine_root, "simple: none, or sum to add each node's own row to its aggregated neighbours (PyG's combine_root).", {"none", "sum"}),
      key("model.k", &RunConfig::model, &ModelConfig::k, "Propagation steps for appnp and sgc.", {}, 0, 1000),
      key("model.alpha", &RunConfig::model, &ModelConfig::alpha, "Teleport probability of APPNP.", {}, 0.0, 1.0),
      key("model.negative_slope", &RunConfig::model, &ModelConfig::negative_slope, "LeakyReLU slope inside GAT attention.", {}, 0.0, 1.0),
      key("model.train_eps", &RunConfig::model, &ModelConfig::train_eps, "Learn GIN's epsilon."),
      key("model.readout", &RunConfig::model, &ModelConfig::readout, "Graph classification: how node rows become one row per graph (sum, mean or max).", {"sum", "mean", "max"}),
      key("train.optimizer", &RunConfig::train, &TrainSettings::optimizer, "adam (L2 weight decay, as PyTorch's Adam) or adamw (decoupled).", {"adam", "adamw"}),
      key("train.lr", &RunConfig::train, &TrainSettings::lr, "Learning rate.", {}, 1e-12, 10.0),
      key("train.weight_decay", &RunConfig::train, &TrainSettings::weight_decay, "Weight decay.", {}, 0.0, 1.0),
      key("train.epochs", &RunConfig::train, &TrainSettings::epochs, "Maximum number of epochs.", {}, 1, 1000000),
      key("train.patience", &RunConfig::train, &TrainSettings::patience, "Stop after this many evaluations (epochs, with train.eval_every 1) without a better validation accuracy or loss; 0 disables early stopping.", {}, 0),
      key("train.eval_every", &RunConfig::train, &TrainSettings::eval_every, "Evaluate only after epochs that are multiples of this, and after the last (OGB's eval_steps); model selection and patience see only those epochs. Evaluation draws no random numbers, so training is the same for any value.", {}, 1, 1000000),
      key("train.lr_schedule", &RunConfig::train, &TrainSettings::lr_schedule, "constant, cosine (to 0 at train.epochs) or step.", {"constant", "cosine", "step"}),
      key("train.lr_step_size", &RunConfig::train, &TrainSettings::lr_step_size, "Epochs between decays for the step schedule.", {}, 1),
      key("train.lr_gamma", &RunConfig::train, &TrainSettings::lr_gamma, "Decay factor of the step schedule.", {}, 0.0, 1.0),
      key("train.checkpoint_every", &RunConfig::train, &TrainSettings::checkpoint_every, "Write a resumable checkpoint every this many epochs (0: only at the end).", {}, 0),
      key("train.seed", &RunConfig::train, &TrainSettings::seed, "Seed of the first run; run i uses seed + i.", {}, 0),
      key("train.batch_size", &RunConfig::train, &TrainSettings::batch_size, "Graph classification: graphs per mini-batch.", {}, 1),
      key("train.seeds", &RunConfig::train, &TrainSettings::seeds, "Number of seeds to run (the --seeds flag overrides).", {}, 1, 1000),
      key("train.sparse_feature_density", &RunConfig::train, &TrainSettings::sparse_feature_density, "Keep input features as sparse rows when at most this fraction is non-zero.", {}, 0.0, 1.0),
      key("train.threads", &RunConfig::train, &TrainSettings::threads, "Intra-op threads; 0 uses OMP_NUM_THREADS if set, else every core this process may run on.", {}, 0, 4096),
      key("train.log_every", &RunConfig::train, &TrainSettings::log_every, "Epochs between progress lines when output is not a terminal.", {}, 1),
      key("train.clip_grad_norm", &RunConfig::train, &TrainSettings::clip_grad_norm, "Scale the gradient down to this global L2 norm when it is larger, after synchronization and before the update (PyTorch's clip_grad_norm_); 0 disables.", {}, 0.0),
      key("sampler.fanouts", &RunConfig::sampler, &SamplerSettings::fanouts, "Neighbours sampled per layer for mini-batch training, from the seeds inward (PyG's num_neighbors: [15, 10, 5] keeps 15 per seed, 10 per neighbour, 5 per neighbour's neighbour); -1 keeps every neighbour; one entry per layer; empty trains full-batch.", {}, -1, 1e9),
      key("sampler.batch_size", &RunConfig::sampler, &SamplerSettings::batch_size, "Seed (training) nodes per mini-batch.", {}, 1),
      key("sampler.workers", &RunConfig::sampler, &SamplerSettings::workers, "Threads sampling and gathering features ahead of training (0: none, each batch is prepared when needed, "
          "in parallel on the training threads). With dist.remote = fetch, 1 or more: one thread samples and fetches the next batch over a second process group while this one trains.",
          {}, 0, 256),
      key("sampler.replace", &RunConfig::sampler, &SamplerSettings::replace, "Sample neighbours with replacement."),
      key("sampler.eval_batch_size", &RunConfig::sampler, &SamplerSettings::eval_batch_size, "Destination nodes per batch of the layer-wise full-graph inference that evaluates mini-batch runs.", {}, 1),
      key("sampler.eval_dtype", &RunConfig::sampler, &SamplerSettings::eval_dtype, "Storage type of the hidden layers' outputs that the layer-wise inference holds for every node between layers (the layers compute in float32; the logits stay float32): float16 or bfloat16 halve that memory, which on a 10M-node graph at width 64 is 2.6 GB per layer in float32.", {"float32", "float16", "bfloat16"}),
      key("link.split", &RunConfig::link, &LinkSettings::split, "Link prediction: random (hold out a seeded share of any graph's undirected edges, with as many sampled non-edges) or dataset (the OGB link layout's split/<dataset.split>/ positives and negatives).", {"random", "dataset"}),
      key("link.valid_fraction", &RunConfig::link, &LinkSettings::valid_fraction, "Random split: share of the undirected edges held out for validation.", {}, 0.0, 1.0, true),
      key("link.test_fraction", &RunConfig::link, &LinkSettings::test_fraction, "Random split: share of the undirected edges held out for test.", {}, 0.0, 1.0, true),
      key("link.split_seed", &RunConfig::link, &LinkSettings::split_seed, "Random split: its seed, shared by every seed of the run; -1 gives each seed its own split (seeded by that run's train.seed + i), averaging over splits as the GAE paper does.", {}, -1),
      key("link.embedding", &RunConfig::link, &LinkSettings::embedding, "Learned node embeddings of this width as the encoder's input, in place of node features (needed for a graph without features, e.g. ogbl-ddi); 0: use the features.", {}, 0),
      key("link.decoder", &RunConfig::link, &LinkSettings::decoder, "Score of a node pair from its two embeddings: dot (inner product), mlp (an MLP on their Hadamard product) or ncn (Neural Common Neighbor as its authors' code lays it out: an MLP on the sum of a branch on the Hadamard product and a branch on the summed embeddings of the pair's common neighbours, LayerNorm in each; docs/link_prediction.md).", {"dot", "mlp", "ncn"}),
      key("link.decoder_layers", &RunConfig::link, &LinkSettings::decoder_layers, "mlp decoder: linear layers (width model.hidden, ReLU and dropout between them, one output); ncn: the linear layers of its output MLP.", {}, 1, 64),
      key("link.decoder_dropout", &RunConfig::link, &LinkSettings::decoder_dropout, "Dropout inside the mlp and ncn decoders; negative means model.dropout.", {}, -1.0, 1.0, true),
      key("link.encoder_norm", &RunConfig::link, &LinkSettings::encoder_norm, "What follows the encoder's last layer: none, or layer (LayerNorm, then model.activation; it keeps sum-aggregated embeddings at unit scale).", {"none", "layer"}),
      key("link.ncn_tail_activation", &RunConfig::link, &LinkSettings::ncn_tail_activation, "ncn decoder: its pair and common-neighbour branches end on their ReLU (the NCN authors' --tailact) instead of a further linear layer."),
      key("link.mask_targets", &RunConfig::link, &LinkSettings::mask_targets, "Training: remove each batch's positive edges (both directions) from the graph its encoder and common neighbours read, so that no target edge is among its own inputs (NCN's maskinput); evaluation reads every training edge."),
      key("link.batch_size", &RunConfig::link, &LinkSettings::batch_size, "Positive training edges per batch (each batch runs the encoder on the whole graph); 0: one batch of all of them.", {}, 0),
      key("link.negatives", &RunConfig::link, &LinkSettings::negatives, "Negative pairs sampled per positive training edge.", {}, 1, 1000),
      key("link.negative_mode", &RunConfig::link, &LinkSettings::negative_mode, "uniform (both endpoints uniform over the nodes) or per_source (keep the positive's source, draw the destination).", {"uniform", "per_source"}),
      key("link.reject_edges", &RunConfig::link, &LinkSettings::reject_edges, "Draw a negative pair again while it is a training edge (either direction) or a self loop, as PyG's negative_sampling does in OGB's ddi example and NCN's code; false keeps every draw, as OGB's collab example (on ogbl-ddi, 12% of the node pairs are training edges)."),
      key("link.hits_k", &RunConfig::link, &LinkSettings::hits_k, "Hits@K reported for each K (OGB evaluator: a positive counts when it scores above the K-th best negative).", {}, 1, 1e9),
      key("link.select", &RunConfig::link, &LinkSettings::select, "Validation metric that chooses the epoch: auc, ap or hits@K (K in link.hits_k); auto: auc for random splits, hits@(first of link.hits_k) for dataset splits."),
      key("recommend.batch_size", &RunConfig::recommend, &RecommendSettings::batch_size, "Recommendation: positive (user, item) training interactions per batch, each with recommend.negatives uniformly drawn negative items the user has not interacted with (BPR).", {}, 1),
      key("recommend.negatives", &RunConfig::recommend, &RecommendSettings::negatives, "Recommendation: negative items drawn per positive interaction, uniformly among the items the user has not interacted with (lightgcn: one BPR term per negative, averaged; ultragcn: 1500 in its Gowalla set-up).", {}, 1, 100000),
      key("recommend.negative_loss", &RunConfig::recommend, &RecommendSettings::negative_loss, "Recommendation, lightgcn: mean (one BPR term per drawn negative, averaged) or hardest (dynamic negative sampling, Zhang et al. 2013: of the recommend.negatives drawn candidates, only the one the current model scores highest for the user enters the BPR loss and the L2 penalty).", {"mean", "hardest"}),
      key("recommend.sampling", &RunConfig::recommend, &RecommendSettings::sampling, "Recommendation: the positives of an epoch. interactions: every training interaction once, in a shuffled order (PyG's LightGCN example); users: as many draws as there are training interactions, each a user drawn uniformly among those with training items and then one of that user's items uniformly (the LightGCN and NGCF authors' code; a user's weight in the loss does not grow with their activity, as in Recall@K averaged over users).", {"interactions", "users"}),
      key("recommend.init_std", &RunConfig::recommend, &RecommendSettings::init_std, "Recommendation: standard deviation of the normal initial embeddings (LightGCN's code 0.1, UltraGCN's 1e-4).", {}, 0.0, 10.0),
      key("recommend.l2", &RunConfig::recommend, &RecommendSettings::l2, "Recommendation, lightgcn: weight of the L2 penalty on the batch's initial (layer-0) user and item embeddings, 1/2 of their squared norms over the batch size (LightGCN's).", {}, 0.0, 1.0),
      key("recommend.k", &RunConfig::recommend, &RecommendSettings::k, "Recommendation: Recall@K and NDCG@K reported for each K (full ranking over every item, each user's training items excluded).", {}, 1, 1e6),
      key("recommend.eval_chunk", &RunConfig::recommend, &RecommendSettings::eval_chunk, "Recommendation: users an evaluation thread ranks together, the items passing over them a cache-sized tile at a time (memory per thread: eval_chunk x (dim + K) values).", {}, 1),
      key("recommend.negative_weight", &RunConfig::recommend, &RecommendSettings::negative_weight, "ultragcn: weight of the negatives' (averaged) loss beside the positive's.", {}, 0.0),
      key("recommend.pos_weight_base", &RunConfig::recommend, &RecommendSettings::pos_weight_base, "ultragcn: a positive (u, i) weighs pos_weight_base + pos_weight_degree * beta(u, i), beta(u, i) = sqrt(d_u + 1) / d_u / sqrt(d_i + 1) (its w1).", {}, 0.0),
      key("recommend.pos_weight_degree", &RunConfig::recommend, &RecommendSettings::pos_weight_degree, "ultragcn: see recommend.pos_weight_base (its w2).", {}, 0.0),
      key("recommend.neg_weight_base", &RunConfig::recommend, &RecommendSettings::neg_weight_base, "ultragcn: a negative (u, j) weighs neg_weight_base + neg_weight_degree * beta(u, j) (its w3).", {}, 0.0),
      key("recommend.neg_weight_degree", &RunConfig::recommend, &RecommendSettings::neg_weight_degree, "ultragcn: see recommend.neg_weight_base (its w4).", {}, 0.0),
      key("recommend.item_neighbors", &RunConfig::recommend, &RecommendSettings::item_neighbors, "ultragcn: K of the item-item graph, each item's K most similar items by co-occurrence (omega); 0 drops the item-item loss.", {}, 0, 1000),
      key("recommend.item_weight", &RunConfig::recommend, &RecommendSettings::item_weight, "ultragcn: weight of the item-item loss (its lambda).", {}, 0.0),
      key("dist.strategy", &RunConfig::dist, &DistSettings::strategy, "Distributed training (a run launched by ripple launch or torchrun; see docs/distributed.md): ddp (data parallel: each rank trains on its share of the training examples and the gradients are all-reduced every step, which equals one process training on all of them); local-sgd (each rank takes dist.sync_every steps of its own, then the parameters are averaged); diloco (DiLoCo: after dist.sync_every inner steps the averaged change of the parameters is the gradient of an outer Nesterov step, dist.outer_lr and dist.outer_momentum; local-sgd is diloco with outer lr 1 and no momentum); streaming-diloco (Streaming DiLoCo: the parameters cut into dist.fragments slices, one synchronized as in diloco every dist.sync_every / dist.fragments steps in turn, its exchange overlapped with the next dist.overlap_steps steps, then mixed in by dist.fragment_mix); gossip (every dist.sync_every steps each rank averages its parameters with its peers in dist.gossip_topology, with no all-reduce of the parameters; dist.final_merge averages all ranks once at the end); units (no exchange during training: each rank trains whole units of the run by itself, seeds or cross-validation folds, unit u on rank u mod N, and rank 0 gathers their files and results for summary.json; for runs of many seeds or folds).", {"ddp", "local-sgd", "diloco", "streaming-diloco", "gossip", "units"}),
      key("dist.sync_every", &RunConfig::dist, &DistSettings::sync_every, "Distributed, local-sgd, diloco, streaming-diloco and gossip: training steps each rank takes between two synchronizations (DiLoCo's H; streaming-diloco: of each fragment); the count runs on across epochs.", {}, 1, 100000000),
      key("dist.outer_lr", &RunConfig::dist, &DistSettings::outer_lr, "Distributed, diloco and streaming-diloco: learning rate of the outer Nesterov step (0.7 as published).", {}, 1e-6, 10.0),
      key("dist.outer_momentum", &RunConfig::dist, &DistSettings::outer_momentum, "Distributed, diloco and streaming-diloco: momentum of the outer Nesterov step (0.9 as published; 0 is plain outer SGD).", {}, 0.0, 1.0, true),
      key("dist.fragments", &RunConfig::dist, &DistSettings::fragments, "Distributed, streaming-diloco: contiguous slices of equal size the flat parameter vector is cut into; one is synchronized every dist.sync_every / dist.fragments steps, in turn (the largest collective is a fragment, not the model). Must divide dist.sync_every.", {}, 1, 4096),
      key("dist.overlap_steps", &RunConfig::dist, &DistSettings::overlap_steps, "Distributed, streaming-diloco: inner steps each rank takes while a fragment's exchange travels, before its outer step is applied (0: wait for it). At most dist.sync_every / dist.fragments.", {}, 0, 100000000),
      key("dist.fragment_mix", &RunConfig::dist, &DistSettings::fragment_mix, "Distributed, streaming-diloco: when a fragment's outer step arrives, the rank's own fragment becomes fragment_mix * its own + (1 - fragment_mix) * the global one (0: replaced by the global one, as in diloco; 1 would never take it).", {}, 0.0, 1.0, true),
      key("dist.gossip_topology", &RunConfig::dist, &DistSettings::gossip_topology, "Distributed, gossip: ring (each rank averages with its two ring neighbours, rank +- 1: a third each; with 2 ranks, the other rank: a half each) or random (a new random pairing of the ranks every round, shared by all of them; each pair averages, a half each; with an odd number of ranks one rank sits the round out).", {"ring", "random"}),
      key("dist.final_merge", &RunConfig::dist, &DistSettings::final_merge, "Distributed, gossip: average every rank's parameters once at the end of each unit (one all-reduce; \"a single merging suffices\"); the model evaluated each epoch is then that average too. false: every rank ends with its own model, and rank 0's (or on partitioned data each rank's own) is evaluated."),
      key("dist.error_feedback", &RunConfig::dist, &DistSettings::error_feedback, "Distributed, with dist.compress = fp16, int8 or int4 (ddp, local-sgd, diloco, streaming-diloco): keep what each rank's quantized message (a gradient, or a parameter change) rounds off and add it to the rank's next message of the same values (error feedback, as EF-SGD), so rounding delays an update instead of losing it; the residual starts at zero in every unit, also a resumed one. Sends the same bytes."),
      key("dist.compress", &RunConfig::dist, &DistSettings::compress, "Distributed: none (tensors sent whole in float32); ef21-topk (ddp: EF21 error feedback, each rank sends the largest dist.compress_ratio of each parameter tensor's entries of the change of its gradient estimate, as index-value pairs by all-gather; every rank sums them in rank order in float32); fp16, int8 or int4 (ddp, local-sgd, diloco, streaming-diloco: the gradient or the parameter change sent as half floats, or as 8- or 4-bit integers with one float32 scale per block of 128 values, by all-gather; every rank decodes and sums them in rank order in float32; what the messages round off is lost unless dist.error_feedback keeps it).", {"none", "ef21-topk", "fp16", "int8", "int4"}),
      key("dist.compress_ratio", &RunConfig::dist, &DistSettings::compress_ratio, "Distributed, ef21-topk: share of each parameter tensor's entries sent per step (at least one).", {}, 1e-6, 1.0),
      key("dist.link_mbps", &RunConfig::dist, &DistSettings::link_mbps, "Distributed: a simulated link of this many megabits per second; after each collective a rank waits the time its counted bytes need on it (0: no simulation).", {}, 0.0, 1e6),
      key("dist.link_latency_ms", &RunConfig::dist, &DistSettings::link_latency_ms, "Distributed: with the simulated link, milliseconds added per message a collective sends in sequence (a ring all-reduce over N ranks sends 2 (N-1)).", {}, 0.0, 10000.0),
      key("dist.timeout_s", &RunConfig::dist, &DistSettings::timeout_s, "Distributed: seconds a collective may wait for the other ranks before the run fails, naming the rank and what it was doing (a stopped or unreachable peer).", {}, 1.0, 86400.0),
      key("dist.elastic", &RunConfig::dist, &DistSettings::elastic, "Distributed, local-sgd, diloco and gossip: a rank that is lost (killed, crashed, cut off) is dropped and the others go on without it, regrouped into a new process group, instead of the run failing; on replicated data the survivors take over its share of the training examples from the next epoch (a lost part of partitioned data is not trained on again), and summary.json's dist.membership records each change. Rank 0 (which holds the rendezvous and writes the run directory) cannot be lost. Run under ripple launch --elastic, which leaves the survivors running (torchrun restarts the whole group instead); with --max-rejoins it also starts a lost rank again, and on replicated data the group takes it back at the end of an epoch."),
      key("dist.regroup_window_s", &RunConfig::dist, &DistSettings::regroup_window_s, "Distributed, elastic: seconds the survivors of a lost rank wait for each other before they regroup; a survivor that reaches the regrouping later is left out (and fails).", {}, 0.05, 3600.0),
      key("dist.data", &RunConfig::dist, &DistSettings::data, "Distributed: replicated (every rank opens the whole dataset and trains on its share of the training examples) or partitioned (dataset.path is a `ripple partition` folder of as many parts as ranks; rank r opens only part-r, trains on its own training nodes and evaluates its own nodes; node task).", {"replicated", "partitioned"}),
      key("dist.remote", &RunConfig::dist, &DistSettings::remote, "Distributed, partitioned: halo-only (each part sees its nodes and their stored halo, nothing beyond it: LLCG's learn-locally setting; exact for a full-batch model whose layers the halo covers) or fetch (sampled ddp: a neighbour list or input feature row the part lacks is fetched from the node's owner, one exchange per hop and one for the features in every step, and evaluation fetches the halo's layer outputs; the batches are then the whole graph's; needs parts with a halo of 1 hop or more).", {"halo-only", "fetch"}),
      key("dist.overlap_backward", &RunConfig::dist, &DistSettings::overlap_backward, "Distributed, ddp without dist.compress: start each gradient bucket's all-reduce as soon as backward has filled it (buckets of dist.bucket_mb taken from the last parameters back, as PyTorch DDP's), so communication overlaps the rest of backward; the first step of each unit only counts how many gradients each parameter receives. false: every bucket after backward."),
      key("dist.bucket_mb", &RunConfig::dist, &DistSettings::bucket_mb, "Distributed, ddp: megabytes of gradient all-reduced per collective (PyTorch DDP's bucket_cap_mb).", {}, 0.001, 4096.0),
    };
    for (ConfigKey& k : s) {
      if (k.name == "sampler.fanouts") k.zero_allowed = false;  // 0 neighbours would cut the graph
    }
    return s;
  }();
  return schema;
}

const ConfigKey* find_config_key(const std::string& name) {
  for (const ConfigKey& k : config_schema()) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

void check_config_value(const ConfigKey& k, const ConfigValue& v) {
  if (auto s = std::get_if<std::string>(&v)) {
    if (!k.choices.empty() && std::find(k.choices.begin(), k.choices.end(), *s) == k.choices.end()) {
      throw SettingError(k.name, fmt::format("must be one of {}, got \"{}\"", fmt::join(k.choices, ", "), *s));
    }
    return;
  }
  if (auto list = std::get_if<std::vector<int64_t>>(&v)) {
    for (const int64_t e : *list) {
      if (e == 0 && !k.zero_allowed) {
        throw SettingError(k.name, "0 would cut the graph; use -1 (every neighbour) or a positive count");
      }
      check_config_value(k, ConfigValue(e));
    }
    return;
  }
  double x = 0;
  if (auto i = std::get_if<int64_t>(&v)) x = static_cast<double>(*i);
  else if (auto d = std::get_if<double>(&v)) x = *d;
  else return;
  const bool too_high = k.max_exclusive ? x >= k.max : x > k.max;
  if (x < k.min || too_high || std::isnan(x)) {
    throw SettingError(k.name, fmt::format("must be {}, got {}", range_text(k), format_value(v)));
  }
}

std::string config_markdown_table() {
  std::string out = "| key | default | meaning | allowed |\n| --- | --- | --- | --- |\n";
  for (const ConfigKey& k : config_schema()) {
    std::string allowed = k.choices.empty() ? range_text(k) : fmt::format("{}", fmt::join(k.choices, ", "));
    if (k.default_value.index() == 4 && !allowed.empty()) allowed = "each " + allowed + (k.zero_allowed ? "" : ", not 0");
    out += fmt::format("| `{}` | `{}` | {} | {} |\n", k.name, format_value(k.default_value), k.doc, allowed);
  }
  return out;
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
      throw InputError(unknown_key_message(s, path) +
                       " (keys live in [dataset], [task], [model], [train], [sampler], [link], [recommend] and [dist] tables)");
    }
    for (auto&& [name, value] : *inner) {
      const std::string full = s + "." + std::string(name.str());
      const ConfigKey* k = find_config_key(full);
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
  const ConfigKey* k = find_config_key(name);
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
  const ConfigKey* k = find_config_key(name);
  if (!k) throw InputError(unknown_key_message(name, source));
  if (value.index() != k->default_value.index()) {
    throw InputError(fmt::format("{}: {}: must be {}", source, name, type_name(k->default_value)));
  }
  try {
    check_config_value(*k, value);
  } catch (const SettingError& e) {
    throw at_source(source, e);
  }
  k->put(settings_, value);
  sources_[name] = source;
}

std::string Config::source_of(const std::string& key) const {
  const auto it = sources_.find(key);
  return it == sources_.end() ? "default" : it->second;
}

void Config::validate() const {
  try {
    validate_run_config(settings_);
  } catch (const SettingError& e) {
    throw at_source(source_of(e.field()), e);
  }
}

std::string Config::to_toml() const {
  std::string out, section;
  for (const ConfigKey& k : config_schema()) {
    const std::string s = k.name.substr(0, k.name.find('.'));
    if (s != section) {
      if (!section.empty()) out += '\n';
      out += fmt::format("[{}]\n", s);
      section = s;
    }
    out += fmt::format("{} = {}\n", k.name.substr(k.name.find('.') + 1), format_value(k.get(settings_)));
  }
  return out;
}

double scheduled_learning_rate(const TrainSettings& t, int64_t epoch) {
  if (t.lr_schedule == "cosine") {
    return t.lr * 0.5 * (1.0 + std::cos(std::numbers::pi * static_cast<double>(epoch - 1) / static_cast<double>(t.epochs)));
  }
  if (t.lr_schedule == "step") return t.lr * std::pow(t.lr_gamma, static_cast<double>((epoch - 1) / t.lr_step_size));
  return t.lr;
}

std::string link_selection_metric(const RunConfig& c) {
  if (c.link.select != "auto") return c.link.select;
  if (c.link.split == "random" || c.link.hits_k.empty()) return "auc";
  return fmt::format("hits@{}", c.link.hits_k.front());
}

namespace {

void validate_link_settings(const RunConfig& c) {
  if (!c.sampler.fanouts.empty()) {
    throw SettingError("sampler.fanouts", "link prediction runs its encoder on the whole graph; leave it empty");
  }
  if (c.model.name == "sgc") {
    throw SettingError("model.name", "sgc caches A_hat^k X of fixed inputs; link prediction takes gcn, sage, gat, "
                                     "gatv2, gin, appnp or mlp");
  }
  if (c.link.split == "random" && c.link.valid_fraction + c.link.test_fraction >= 1.0) {
    throw SettingError("link.test_fraction", fmt::format("link.valid_fraction + link.test_fraction = {} leaves no "
                                                         "training edges; their sum must be below 1",
                                                         c.link.valid_fraction + c.link.test_fraction));
  }
  const std::string& s = c.link.select;
  if (s == "auto" || s == "auc" || s == "ap") return;
  if (s.rfind("hits@", 0) == 0) {
    for (const int64_t k : c.link.hits_k) {
      if (s == fmt::format("hits@{}", k)) return;
    }
    throw SettingError("link.select", fmt::format("\"{}\" is not reported; link.hits_k is [{}]", s,
                                                  fmt::join(c.link.hits_k, ", ")));
  }
  throw SettingError("link.select", fmt::format("must be auto, auc, ap or hits@K, got \"{}\"", s));
}

}  // namespace

void validate_run_config(const RunConfig& c) {
  for (const ConfigKey& k : config_schema()) check_config_value(k, k.get(c));
  if (c.dataset.path.empty()) throw SettingError("dataset.path", "must not be empty");
  if (c.task.kind == "node" && !c.sampler.fanouts.empty()) {
    if (c.model.name == "appnp" || c.model.name == "sgc") {
      throw SettingError("sampler.fanouts", fmt::format("model {} propagates over the whole graph; mini-batch training "
                                                        "supports gcn, sage, gat, gatv2, gin and mlp", c.model.name));
    }
    if (static_cast<int64_t>(c.sampler.fanouts.size()) != c.model.layers) {
      throw SettingError("sampler.fanouts", fmt::format("{} hops for a model of {} layers (model.layers); give one "
                                                        "fanout per layer", c.sampler.fanouts.size(), c.model.layers));
    }
  }
  const bool recommender = c.model.name == "lightgcn" || c.model.name == "ultragcn";
  if (c.task.kind == "recommend" && !recommender) {
    throw SettingError("model.name", fmt::format("\"{}\" is not a recommender; task.kind = \"recommend\" takes lightgcn or ultragcn",
                                                 c.model.name));
  }
  if (c.task.kind != "recommend" && recommender) {
    throw SettingError("model.name", fmt::format("{} is a recommender; it needs task.kind = \"recommend\"", c.model.name));
  }
  if (c.task.kind == "recommend" && c.recommend.k.empty()) {
    throw SettingError("recommend.k", "must list at least one K, e.g. [20]");
  }
  if (c.task.kind == "recommend" && c.model.name == "ultragcn" && c.recommend.negative_loss != "mean") {
    throw SettingError("recommend.negative_loss", "ultragcn weighs every negative in its constraint loss; \"hardest\" is for lightgcn");
  }
  if (c.task.kind == "recommend" && !c.sampler.fanouts.empty()) {
    throw SettingError("sampler.fanouts", "recommendation propagates over the whole interaction graph; leave it empty");
  }
  if (c.dist.data == "partitioned" && c.task.kind != "node") {
    throw SettingError("dist.data", fmt::format("partitioned data is for the node task; task.kind is \"{}\"", c.task.kind));
  }
  if (c.dist.remote == "fetch") {
    if (c.dist.data != "partitioned") {
      throw SettingError("dist.remote", "fetching from the owners is for partitioned data; set dist.data = \"partitioned\"");
    }
    if (c.sampler.fanouts.empty()) {
      throw SettingError("dist.remote", "fetch serves sampled training; set sampler.fanouts (a full-batch model on parts "
                                        "uses the halo: partition with --halo of the layers + 1 and keep halo-only)");
    }
    if (c.dist.strategy != "ddp") {
      throw SettingError("dist.remote", fmt::format("fetch needs every rank in every step (ddp); dist.strategy is \"{}\", "
                                                    "whose ranks step on their own between synchronizations (use halo-only)",
                                                    c.dist.strategy));
    }
  }
  if (c.dist.compress == "ef21-topk" && c.dist.strategy != "ddp") {
    throw SettingError("dist.compress", fmt::format("ef21-topk compresses ddp's gradients; dist.strategy is \"{}\" (the "
                                                    "quantized fp16, int8 and int4 also serve local-sgd and (streaming-)diloco)",
                                                    c.dist.strategy));
  }
  if (c.dist.strategy == "streaming-diloco") {
    if (c.dist.sync_every % c.dist.fragments != 0) {
      throw SettingError("dist.fragments", fmt::format("{} does not divide dist.sync_every = {} (a fragment is "
                                                       "synchronized every sync_every / fragments steps)",
                                                       c.dist.fragments, c.dist.sync_every));
    }
    if (c.dist.overlap_steps > c.dist.sync_every / c.dist.fragments) {
      throw SettingError("dist.overlap_steps", fmt::format("{} exceeds the {} steps between two fragments' rounds "
                                                           "(dist.sync_every / dist.fragments)", c.dist.overlap_steps,
                                                           c.dist.sync_every / c.dist.fragments));
    }
  }
  if (c.dist.strategy == "units") {
    if (c.dist.data == "partitioned") {
      throw SettingError("dist.data", "units trains every unit on the whole dataset; partitioned data needs a strategy "
                                      "that trains one model across the parts (ddp, local-sgd, diloco, gossip)");
    }
    if (c.dist.compress != "none") {
      throw SettingError("dist.compress", "units exchanges nothing during training; there is nothing to compress: use none");
    }
    if (c.dist.elastic) {
      throw SettingError("dist.elastic", "units has no group step to drop a lost rank from; use ripple launch "
                                         "--max-restarts: the restarted ranks skip their finished units and resume "
                                         "the others from their checkpoints");
    }
  }
  if (c.dist.elastic && c.dist.strategy != "local-sgd" && c.dist.strategy != "diloco" && c.dist.strategy != "gossip") {
    throw SettingError("dist.elastic", fmt::format("dropping a lost rank is built for local-sgd, diloco and gossip; "
                                                   "dist.strategy is \"{}\" ({})", c.dist.strategy,
                                                   c.dist.strategy == "ddp"
                                                       ? "use ripple launch --max-restarts to restart the group from "
                                                         "its last checkpoint"
                                                       : "its exchange in flight cannot be taken back"));
  }
  if (c.dist.error_feedback && (c.dist.strategy == "gossip" || (c.dist.compress != "fp16" &&
                                                                  c.dist.compress != "int8" && c.dist.compress != "int4"))) {
    throw SettingError("dist.error_feedback", fmt::format("applies to quantized messages (dist.compress = fp16, int8 or "
                                                          "int4: ddp's gradients, the parameter changes of local-sgd, "
                                                          "diloco and streaming-diloco); dist.strategy is \"{}\" and "
                                                          "dist.compress \"{}\" (ef21-topk has its own)",
                                                          c.dist.strategy, c.dist.compress));
  }
  if (c.dist.compress != "none" && c.dist.strategy == "gossip") {
    throw SettingError("dist.compress", "gossip sends whole models, not changes; quantizing them would round the models "
                                        "themselves: use none");
  }
  if (c.dist.data == "partitioned" && c.dataset.symmetrize) {
    throw SettingError("dataset.symmetrize", "would add reversed edges into a part's outer halo ring; symmetrize the "
                                             "dataset before `ripple partition`");
  }
  if (c.task.kind == "link") validate_link_settings(c);
  if (c.task.kind == "graph") {
    if (!is_known_graph_model(c.model.name)) {
      throw SettingError("model.name", fmt::format("\"{}\" has no graph-classification form; task.kind = \"graph\" "
                                                   "takes gin, gcn, sage or mlp", c.model.name));
    }
    if (c.model.layers < 2) throw SettingError("model.layers", "graph models need at least 2 (the input counts as one)");
    if (!c.sampler.fanouts.empty()) {
      throw SettingError("sampler.fanouts", "graph classification trains on whole graphs; leave it empty");
    }
    if (c.task.run_folds > c.task.folds) {
      throw SettingError("task.run_folds", fmt::format("{} is more than task.folds ({})", c.task.run_folds, c.task.folds));
    }
  }
}

}  // namespace ripple
