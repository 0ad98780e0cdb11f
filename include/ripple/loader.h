// NeighborLoader: mini-batches for training on graphs too large for full-batch passes.
// Each epoch shuffles the seed nodes (a counter-based permutation of (seed, epoch)), cuts
// them into batches, and has worker threads sample each batch's blocks and gather its
// input features (converted to float32; from a memory map they are read on demand) and
// seed labels, up to `prefetch` batches ahead of the consumer. Batches come out in order
// and are identical whatever the number of workers. With workers = 0 there are no worker
// threads: next() samples and gathers the batch itself, in parallel on the intra-op
// (OpenMP) pool - on a machine with few cores a busy worker thread would otherwise
// compete with the model's parallel regions for the same cores.
//
// A worker's exception (for example InputError from bad weights) is rethrown by next().
// Destroying the loader mid-epoch stops and joins the workers.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <optional>

#include "ripple/sample.h"

namespace ripple {

struct LoaderOptions {
  SamplerOptions sampler;
  int64_t batch_size = 1024;
  int64_t workers = 1;    // threads sampling and gathering ahead of the consumer (0: in next())
  int64_t prefetch = 4;   // batches prepared ahead at most (bounds memory)
  bool shuffle = true;
  at::Tensor edge_weights;  // optional, see sample_neighbors
};

struct LoadedBatch {
  int64_t index = 0;          // batch number within the epoch
  SampledBatch sample;
  at::Tensor features;        // float32 [input nodes, F]
  at::Tensor labels;          // int64 [seeds], or undefined when the loader has no labels
};

class NeighborLoader {
 public:
  // `graph`, `features` and `labels` must outlive the loader. `seeds`: int64 node ids.
  NeighborLoader(const Graph& graph, at::Tensor features, at::Tensor labels, at::Tensor seeds, LoaderOptions options);
  ~NeighborLoader();
  NeighborLoader(const NeighborLoader&) = delete;
  NeighborLoader& operator=(const NeighborLoader&) = delete;

  int64_t num_batches() const;
  // Starts an epoch (stopping any unfinished one) and its workers.
  void start_epoch(int64_t epoch);
  // The next batch of the epoch in order, or nullopt after the last one.
  std::optional<LoadedBatch> next();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Rows `nodes` of `features` (any floating dtype, possibly memory-mapped) as float32;
// `parallel` splits the rows over the intra-op pool.
at::Tensor gather_rows(const at::Tensor& features, const at::Tensor& nodes, bool parallel = false);

}  // namespace ripple
