// The typed settings of a run, one struct per configuration section. These are what the
// library takes; the defaults written here are the only defaults (the configuration schema
// in ripple/config.h reads them from a default-constructed RunConfig). No LibTorch here.
//
// A RunConfig built by hand in C++ is checked by validate_run_config(), which throws
// SettingError naming the field ("model.layers") with what was expected; the command line
// maps that field to where the user wrote it (file and line, or --set).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ripple {

struct DatasetSettings {
  std::string path = "data/cora";  // native or OGB directory (node tasks), TU folder (graph task)
  std::string split = "public";
  bool normalize_features = false;
  bool symmetrize = false;
  int64_t max_degree_feature = 64;  // TU datasets without node labels or attributes
};

struct TaskSettings {
  std::string kind = "node";     // node, graph, link or recommend
  std::string protocol = "gin";  // graph: gin or errica
  int64_t folds = 10;
  int64_t run_folds = 0;         // graph: train only the first run_folds folds (0: all)
  double valid_fraction = 0.1;   // graph, errica: share of each training fold held out
};

// Node and graph models (the `model.*` keys); see ripple/model.h and ripple/graph_model.h.
struct ModelConfig {
  std::string name = "gcn";
  int64_t hidden = 16;
  int64_t layers = 2;
  int64_t heads = 8;
  int64_t out_heads = 1;
  double dropout = 0.5;
  double input_dropout = -1;  // < 0: same as dropout
  double attn_dropout = 0.6;
  std::string norm = "none";
  bool residual = false;
  std::string activation = "relu";
  std::string aggr = "mean";
  std::string combine_root = "none";  // simple: none, or sum (add each node's own row)
  int64_t k = 10;
  double alpha = 0.1;
  double negative_slope = 0.2;
  bool train_eps = false;
  std::string readout = "sum";  // graph models
};

struct TrainSettings {
  std::string optimizer = "adam";  // adam (L2 decay) or adamw (decoupled)
  double lr = 0.01;
  double weight_decay = 5e-4;
  int64_t epochs = 200;
  int64_t patience = 0;  // evaluations without improvement
  int64_t eval_every = 1;  // evaluate on epochs that are multiples of it, and the last
  std::string lr_schedule = "constant";  // constant, cosine or step
  int64_t lr_step_size = 50;
  double lr_gamma = 0.5;
  int64_t checkpoint_every = 10;
  int64_t seed = 0;
  int64_t batch_size = 32;  // graph task: graphs per batch
  int64_t seeds = 1;
  double sparse_feature_density = 0.1;
  int64_t threads = 0;
  int64_t log_every = 10;
  double clip_grad_norm = 0;  // > 0: scale gradients whose global L2 norm exceeds this
};

struct SamplerSettings {
  std::vector<int64_t> fanouts;  // empty: full-batch training
  int64_t batch_size = 1024;
  int64_t workers = 1;
  bool replace = false;
  int64_t eval_batch_size = 4096;
  std::string eval_dtype = "float32";  // storage of the hidden layers' outputs in that inference
};

// Link prediction (task.kind = "link"); see docs/link_prediction.md.
struct LinkSettings {
  std::string split = "random";     // random (split any graph's edges) or dataset (OGB link layout)
  double valid_fraction = 0.05;     // random split: share of the undirected edges held out
  double test_fraction = 0.1;
  int64_t split_seed = -1;          // random split: fixed for every seed of the run; -1: each seed
                                    // draws its own split (seed train.seed + i), as the GAE paper averages
  int64_t embedding = 0;            // > 0: learned node embeddings of this width replace the features
  std::string decoder = "dot";      // dot, mlp (on the Hadamard product) or ncn (tasks/ncn_decoder.h)
  int64_t decoder_layers = 3;       // mlp decoder: linear layers; ncn: those of its output MLP
  double decoder_dropout = -1.0;    // mlp and ncn decoders' dropout; negative: model.dropout
  std::string encoder_norm = "none";  // none, or layer: LayerNorm and model.activation on the encoder's output
  bool ncn_tail_activation = false;  // ncn: its branches end on their ReLU, without a last linear layer
  bool mask_targets = false;        // training: each batch's positive edges leave the encoder's graph
  int64_t batch_size = 0;           // positive training edges per batch; 0: all in one batch
  int64_t negatives = 1;            // negatives sampled per positive training edge
  std::string negative_mode = "uniform";  // uniform pairs, or per_source (corrupt the destination)
  bool reject_edges = false;        // redraw negatives that are training edges or self loops
  std::vector<int64_t> hits_k = {20};     // Hits@K reported for each K
  std::string select = "auto";      // validation metric of model selection: auc, ap, hits@K; auto: auc
                                    // for random splits, hits@(first K) for dataset splits
};

// Recommendation from implicit feedback (task.kind = "recommend"); see docs/recommendation.md.
struct RecommendSettings {
  int64_t batch_size = 2048;        // positive (user, item) training pairs per batch
  int64_t negatives = 1;            // negative items drawn per positive
  // lightgcn: BPR over every negative, averaged (mean), or over the highest-scored one only
  // (hardest: dynamic negative sampling).
  std::string negative_loss = "mean";
  // An epoch's positives: every training interaction once (interactions), or as many draws of
  // a uniform user and then one of that user's items (users: LightGCN's code).
  std::string sampling = "interactions";
  double init_std = 0.1;            // initial embeddings: normal with this standard deviation
  double l2 = 1e-4;                 // lightgcn (BPR): weight of the L2 norm of the batch's initial embeddings
  std::vector<int64_t> k = {20};    // Recall@K and NDCG@K reported for each K
  int64_t eval_chunk = 256;         // users an evaluation thread ranks together (ranking.h)
  // ultragcn (Mao et al. 2021): weights of the constraint loss and the item-item graph.
  double negative_weight = 300;     // the negatives' share of the loss
  double pos_weight_base = 1e-6;    // a positive (u, i) weighs base + degree_factor * beta(u, i)
  double pos_weight_degree = 1;
  double neg_weight_base = 1e-6;    // a negative (u, j) weighs base + degree_factor * beta(u, j)
  double neg_weight_degree = 1;
  int64_t item_neighbors = 10;      // K of the item-item graph (most similar items per item)
  double item_weight = 5e-4;        // weight of the item-item loss
};

// Training across processes (docs/distributed.md). Read when the process is one rank of a
// group (the torchrun variables RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT are set, as
// `ripple launch` and torchrun set them); a single process ignores them.
struct DistSettings {
  // ddp: gradients all-reduced every step; local-sgd: parameters averaged every sync_every
  // steps; diloco: the averaged change of the parameters drives an outer Nesterov step;
  // streaming-diloco: the same per fragment, in turn, overlapped with the next steps;
  // gossip: every sync_every steps each rank averages with its peers only; units: each rank
  // trains whole units (seeds, folds) of its own, no exchange until their results.
  std::string strategy = "ddp";
  int64_t sync_every = 50;      // local-sgd, (streaming-)diloco, gossip: steps between synchronizations (H)
  double outer_lr = 0.7;        // diloco: outer learning rate (DiLoCo's published value)
  double outer_momentum = 0.9;  // diloco: outer Nesterov momentum
  int64_t fragments = 4;        // streaming-diloco: parameter fragments, one synchronized every H / fragments steps
  int64_t overlap_steps = 1;    // streaming-diloco: inner steps a fragment's exchange overlaps with
  double fragment_mix = 0.5;    // streaming-diloco: share of the rank's own fragment kept when the global one arrives
  std::string gossip_topology = "ring";  // gossip: ring (both ring neighbours) or random (pairs)
  bool final_merge = true;      // gossip: average every rank's model once at the end of a unit
  // none; ef21-topk (ddp: top-k with EF21 error feedback); fp16, int8, int4 (ddp, local-sgd,
  // diloco: the gradient or the parameter change sent quantized, dist/quantize.h)
  std::string compress = "none";
  double compress_ratio = 0.01;   // ef21-topk: share of each parameter tensor's entries sent
  bool error_feedback = false;    // ddp with fp16/int8/int4: what a message rounds off joins the next one
  double link_mbps = 0;         // > 0: a simulated link of this rate follows every collective
  double link_latency_ms = 0;   // with link_mbps: latency added per message of a collective
  double timeout_s = 300;        // a collective waiting longer than this fails, naming the rank
  bool elastic = false;          // local-sgd, diloco, gossip: a lost rank is dropped, the others go on
  double regroup_window_s = 5;   // elastic: how long survivors wait for each other when they regroup
  double bucket_mb = 25;         // gradients are all-reduced in buckets of this size
  bool overlap_backward = true;  // ddp uncompressed: each bucket's all-reduce starts once backward has filled it
  // replicated: every rank opens the whole dataset; partitioned: dataset.path is a
  // `ripple partition` folder and rank r opens only part-r (node task).
  std::string data = "replicated";
  std::string remote = "halo-only";  // partitioned: halo-only (nothing beyond the halo is seen) or fetch (from the owners)
};

struct RunConfig {
  DatasetSettings dataset;
  TaskSettings task;
  ModelConfig model;
  TrainSettings train;
  SamplerSettings sampler;
  LinkSettings link;
  RecommendSettings recommend;
  DistSettings dist;
};

// The learning rate of `epoch` (1-based) under train.lr_schedule.
double scheduled_learning_rate(const TrainSettings& train, int64_t epoch);

// The validation metric link prediction selects its epoch on: link.select, or for "auto",
// auc on random splits and hits@(first of link.hits_k) on dataset splits.
std::string link_selection_metric(const RunConfig& config);

// Every range and choice of the schema plus the rules between fields (graph task models,
// fanouts, folds). Throws SettingError on the first violation.
void validate_run_config(const RunConfig& config);

}  // namespace ripple
