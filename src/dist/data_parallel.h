// dist.strategy = "ddp": synchronous data parallel training (internal), the Synchronizer of
// the training loop (train/synchronizer.h) for a group of ranks.
//
// Each rank computes the mean loss over its own share of a step's examples; before the
// update every rank's gradient is weighted by its share (examples / examples of all ranks)
// and the weighted gradients are summed by all-reduce, in buckets of dist.bucket_mb. The sum
// is the gradient of the mean loss over every rank's examples: exactly what one process
// computes on all of them, up to floating-point reassociation. Every rank then takes the
// same Adam step, so parameters stay identical; end_unit proves it by comparing a hash of
// the parameters across ranks (DistributedError when they differ).
//
// Rank 0 broadcasts its initial parameters at the start of a unit (or, resuming after a
// restart, its whole checkpoint: parameters, optimizer moments, loop state). After each
// epoch rank 0 evaluates and broadcasts its metrics, or, on partitioned data, every rank
// evaluates its own nodes and the sums are all-reduced; either way model selection and
// early stopping decide alike on every rank. Communication failures throw
// DistributedError naming the rank, unit, epoch and step.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "ripple/settings.h"
#include "train/synchronizer.h"

namespace ripple::dist {

class DataParallel final : public train::Synchronizer {
 public:
  // `log` receives one line per unit with this rank's parameter hash.
  // `reduce_metrics` (partitioned data): every rank evaluates its own part and the weighted
  // metrics (train::kMetricWeightSuffix) are summed over the ranks; otherwise rank 0
  // evaluates and broadcasts.
  DataParallel(Communicator& comm, const DistSettings& settings, bool reduce_metrics,
               std::function<void(const std::string&)> log);
  void begin_unit(torch::nn::Module& model, train::FlatAdam& optimizer, train::TrainState& state,
                  const std::filesystem::path& checkpoint, int64_t unit) override;
  train::StepTotals synchronize_step(train::FlatAdam& optimizer, int64_t examples, double loss_sum, int64_t epoch,
                                     int64_t step) override;
  bool evaluates_here() const override { return reduce_metrics_ || comm_.rank() == 0; }
  void agree_on_metrics(Metrics& metrics, int64_t epoch) override;
  void end_unit(train::FlatAdam& optimizer, int64_t unit) override;

  // The parameter hash of each finished unit (equal on every rank), hex.
  const std::vector<std::string>& parameter_hashes() const { return hashes_; }

 private:
  Communicator& comm_;
  int64_t bucket_elements_;
  bool reduce_metrics_;
  std::function<void(const std::string&)> log_;
  int64_t unit_ = 0;
  std::vector<std::string> hashes_;
};

// FNV-1a (64 bit) of `size` bytes (parameter and configuration hashes).
uint64_t bytes_hash(const void* data, size_t size);

}  // namespace ripple::dist
