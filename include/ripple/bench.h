// End-to-end training benchmark behind `ripple bench`: times full-batch training epochs of
// one model on a dataset or on a graph generated in memory, after warm-up epochs, and
// reports the median and spread with the process's peak resident memory. An epoch is the
// training loop's own (the node task's batch through forward with loss, backward and the
// optimizer step), so a benchmark times exactly what `ripple train` runs. Bad settings throw
// SettingError naming the field; unreadable datasets throw InputError.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ripple/dataset.h"
#include "ripple/settings.h"

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
  // "section.key=value" overrides of the run settings, as `ripple train --set` takes them,
  // applied after the fields above: a benchmark can time anything training runs.
  std::vector<std::string> overrides;
};

struct TrainingBenchResult {
  TrainingBenchSettings settings;
  std::string dataset_name;    // path or "rmat-N-E"
  int64_t nodes = 0, edges = 0, features = 0, threads = 0;
  double epoch_ms_median = 0, epoch_ms_min = 0, epoch_ms_max = 0;
  double forward_ms_median = 0, backward_ms_median = 0, step_ms_median = 0;
  double load_s = 0;           // loading or generating the data
  double peak_rss_mb = 0;      // the process's peak resident set, data included
  // Roofline: the bound this machine allows for an epoch's work, and how close it came.
  // dense_gflop: the layers' matrix products (forward and backward); graph_gb: the bytes the
  // graph kernels move under a no-reuse model (runtime/work_counter.h). bound_ms = dense at
  // the measured GEMM peak + graph bytes at the measured copy bandwidth (elementwise work
  // uncounted, so it is a lower bound); of_bound = bound_ms / epoch_ms_median.
  double dense_gflop = 0, graph_gb = 0;
  double gemm_gflops = 0, copy_gbps = 0;
  double bound_ms = 0, of_bound = 0;
};

// This machine's yardsticks, measured once per process on the current thread count: the
// best float32 GEMM throughput (GFLOP/s, best of 3 of a square and a tall-skinny product) and the copy
// bandwidth (GB/s, bytes read plus written by a 256 MiB copy).
struct MachineBounds {
  double gemm_gflops = 0, copy_gbps = 0;
};
MachineBounds measure_machine_bounds();

TrainingBenchResult run_training_bench(const TrainingBenchSettings& settings);

// The run settings a benchmark trains with: the model fields from `settings`, then its
// overrides; everything else (optimizer, learning rate, weight decay) at the defaults
// `ripple train` uses.
// Throws SettingError naming the field (model.layers; epochs, features: the bench's own).
RunConfig bench_run_config(const TrainingBenchSettings& settings);

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
