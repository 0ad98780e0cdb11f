// End-to-end training benchmark behind `ripple bench`: times full-batch training epochs
// (forward with loss, backward, optimizer step) of one model on a dataset or on a graph
// generated in memory, after warm-up epochs, and reports the median and spread with the
// process's peak resident memory. Bad settings and unreadable datasets throw InputError.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ripple/dataset.h"

namespace ripple {

struct TrainingBenchSettings {
  std::string dataset;         // dataset directory (native or OGB); empty: generate a graph in memory
  std::string split;           // dataset split; empty: "public" if present, else the first
  std::string kind = "rmat";   // generated graph: rmat or uniform
  int64_t nodes = 100000, edges = 2000000, features = 128, classes = 16;
  uint64_t seed = 1;
  std::string model = "gcn";   // gcn, sage or gat (any model name training accepts)
  int64_t layers = 2, hidden = 64, heads = 1;
  double dropout = 0.5;
  int64_t threads = 0;         // 0: as set_intra_op_threads chooses
  int64_t epochs = 10, warmup = 2;
};

struct TrainingBenchResult {
  TrainingBenchSettings settings;
  std::string dataset_name;    // path or "rmat-N-E"
  int64_t nodes = 0, edges = 0, features = 0, threads = 0;
  double epoch_ms_median = 0, epoch_ms_min = 0, epoch_ms_max = 0;
  double forward_ms_median = 0, backward_ms_median = 0, step_ms_median = 0;
  double load_s = 0;           // loading or generating the data
  double peak_rss_mb = 0;      // the process's peak resident set, data included
};

TrainingBenchResult run_training_bench(const TrainingBenchSettings& settings);

// The dataset a benchmark runs on: `settings.dataset` loaded (native or OGB), or a graph
// generated in memory from kind/nodes/edges/features/classes/seed (every node a training
// seed). `name` receives a short name for reports.
NodeDataset load_bench_dataset(const TrainingBenchSettings& settings, std::string& name);

// Sampling throughput behind `ripple bench --sampler`: passes of NeighborLoader over the
// training seeds (sampling the blocks and gathering input features, no model), timed after
// warm-up passes; seeds per second from the median pass. With `train`, it then times
// mini-batch training epochs of data.model (one layer per fanout, data.hidden wide, Adam at
// lr 0.01) on the same loader: sampling, gathering, forward, backward and step per batch,
// without evaluation; epoch_ms_median from the timed epochs.
struct SamplerBenchSettings {
  TrainingBenchSettings data;  // dataset or generated graph, seed, epochs (timed passes), warmup
  std::vector<int64_t> fanouts{15, 10, 5};
  int64_t batch_size = 1024, workers = 1;
  int64_t batches = 0;  // batches per pass; 0: every training seed
  bool replace = false;
  bool train = false;   // also time mini-batch training epochs of data.model
};

struct SamplerBenchResult {
  SamplerBenchSettings settings;
  std::string dataset_name;
  int64_t nodes = 0, edges = 0, batches = 0, seeds = 0;  // per pass
  double pass_ms_median = 0, pass_ms_min = 0, pass_ms_max = 0;
  double seeds_per_second = 0;
  double input_nodes_per_batch = 0;  // mean size of the gathered feature rows
  double epoch_ms_median = 0, epoch_ms_min = 0, epoch_ms_max = 0;  // train only
  double last_epoch_loss = 0;                                        // train only
  int64_t threads = 0;
  double load_s = 0, peak_rss_mb = 0;
};

SamplerBenchResult run_sampler_bench(const SamplerBenchSettings& settings);

// Peak resident set of this process so far, in MiB.
double peak_rss_mb();

}  // namespace ripple
