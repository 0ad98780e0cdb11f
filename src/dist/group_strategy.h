// What every distributed strategy shares (internal): the Synchronizer (train/synchronizer.h)
// side that is not about how the ranks combine their training, for a group of ranks that
// end every unit holding one model.
//
// begin_unit: rank 0's initial parameters are broadcast (or, resuming after a restart, its
// whole checkpoint: parameters, optimizer moments, loop state, the strategy's state), so
// every rank starts alike. After each epoch rank 0 evaluates and broadcasts its metrics, or,
// on partitioned data, every rank evaluates its own nodes and the weighted sums
// (train::kMetricWeightSuffix) are all-reduced; either way model selection and early
// stopping decide alike on every rank. end_unit lets the strategy settle the final model,
// then compares a hash of the parameters across ranks (DistributedError when they differ;
// skipped for a strategy whose ranks keep models of their own, ranks_agree_at_end).
// Communication failures throw DistributedError naming the rank, unit, epoch and step.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "train/synchronizer.h"

namespace ripple::dist {

class GroupStrategy : public train::Synchronizer {
 public:
  // `log` receives one line per unit with this rank's parameter hash. `reduce_metrics`:
  // partitioned data (see above).
  GroupStrategy(Communicator& comm, bool reduce_metrics, std::function<void(const std::string&)> log);
  void begin_unit(torch::nn::Module& model, train::FlatAdam& optimizer, train::TrainState& state,
                  const std::filesystem::path& checkpoint, int64_t unit) final;
  bool evaluates_here() const final { return reduce_metrics_ || comm_.rank() == 0; }
  void agree_on_metrics(Metrics& metrics, int64_t epoch) final;
  void end_unit(train::FlatAdam& optimizer, int64_t unit) final;

  // The parameter hash of each finished unit (equal on every rank), hex.
  const std::vector<std::string>& parameter_hashes() const { return hashes_; }
  // How often this rank synchronized the model (ddp: every step; diloco: outer steps).
  int64_t synchronizations() const { return syncs_; }

 protected:
  // After begin_unit's broadcast: every rank holds the same parameters and `state`.
  virtual void start_unit(torch::nn::Module& /*model*/, train::FlatAdam& /*optimizer*/,
                          train::TrainState& /*state*/) {}
  // Before end_unit's hash: leave the unit's final model in the parameters.
  virtual void finish_unit(train::FlatAdam& /*optimizer*/) {}
  // Whether every rank ends the unit with the same parameters (checked by their hashes).
  virtual bool ranks_agree_at_end() const { return true; }
  // After the ranks agree on an epoch's metrics: the strategy's own, the same on every rank.
  virtual void add_metrics(Metrics& /*metrics*/) {}
  // "unit U, epoch E, step S", for the messages of failed collectives.
  std::string where(int64_t epoch, int64_t step) const;

  Communicator& comm_;
  int64_t unit_ = 0;
  int64_t syncs_ = 0;

 private:
  void agree_on_task_metrics(Metrics& metrics, const std::string& where);
  void load_broadcast_checkpoint(const at::Tensor& buffer, torch::nn::Module& model, train::FlatAdam& optimizer,
                                 train::TrainState& state);

  bool reduce_metrics_;
  std::function<void(const std::string&)> log_;
  std::vector<std::string> hashes_;
};

// FNV-1a (64 bit) of `size` bytes (parameter and configuration hashes).
uint64_t bytes_hash(const void* data, size_t size);

}  // namespace ripple::dist
