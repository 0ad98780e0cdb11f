// What every distributed strategy shares (internal): the Synchronizer (train/synchronizer.h)
// side that is not about how the ranks combine their training, for a group of ranks that
// end every unit holding one model.
//
// begin_unit: rank 0's initial parameters are broadcast (or, resuming after a restart, its
// whole checkpoint: parameters, optimizer moments, loop state, the strategy's state), so
// every rank starts alike. After each epoch rank 0 evaluates and broadcasts its metrics, or,
// on partitioned data (or with share_evaluation), every rank evaluates its own share and the
// weighted sums (train::kMetricWeightSuffix) are all-reduced; either way model selection and
// early stopping decide alike on every rank. end_unit lets the strategy settle the final model,
// then compares a hash of the parameters across ranks (DistributedError when they differ;
// skipped for a strategy whose ranks keep models of their own, ranks_agree_at_end).
// Communication failures throw DistributedError naming the rank, unit, epoch and step.
//
// Elastic groups (set_elastic, dist.elastic; local-sgd, diloco, gossip): every step of
// collectives runs through survive(). When one fails (a peer lost), the survivors regroup
// (Communicator::regroup), log it, and run the step again in the smaller group, which goes
// on to the end. Each step is written so that running it again is harmless: it recomputes
// what it sends from state the failed attempt left untouched, and changes state only after
// its last collective, one that finishes on every rank or on none (in an elastic group every
// collective does, Communicator::set_all_or_none; gossip closes its point-to-point round
// with an all-reduce). The survivors must have failed in the same step
// (Communicator::regroup checks). The lost rank's work since its last round is lost. On
// replicated data the survivors cut the training examples into shares among themselves from
// the next epoch on (new_shard); a lost part of partitioned data is not trained on again.
//
// Rejoining (elastic groups on replicated data): a lost rank started again
// (Communicator::joining) waits in begin_unit of the unit the group trains until the members
// admit it at the end of one of their epochs (leave_evaluation, before the strategy's
// resume_training). Then rank 0 sends its checkpoint (the evaluated model, optimizer, loop
// and strategy state, as a restarted group would load it) and the joiner continues from it
// with the group's round schedule; every rank all-gathers its parameter hash, and the
// joiner's must equal its peers' (every peer's where the ranks agree on the evaluated model,
// rank 0's otherwise), else DistributedError.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
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
  bool evaluates_here() const final { return every_rank_evaluates(); }
  // The strategy's prepare_evaluation; then, when every rank evaluates, rank 0's floating
  // buffers (batch normalization's running statistics, which each rank updates on its own
  // batches, as DDP without SyncBatchNorm) on every rank, as DDP's broadcast_buffers does.
  void enter_evaluation(train::FlatAdam& optimizer) final;
  // Admits the ranks waiting to rejoin (elastic groups), then the strategy's resume_training.
  void leave_evaluation(train::FlatAdam& optimizer) final;
  // A rejoining rank skips the units its group has finished (train/units.h).
  bool skips_unit(int64_t unit);
  void agree_on_metrics(Metrics& metrics, int64_t epoch) final;
  void end_unit(train::FlatAdam& optimizer, int64_t unit) final;
  // Replicated data whose task evaluates a share per rank (recommendation: its share of the
  // test users) as weighted sums: every rank evaluates and the sums are all-reduced, as on
  // partitioned data. Call before the first unit.
  void share_evaluation() { reduce_metrics_ = true; }
  bool evaluation_shared() const { return reduce_metrics_; }
  // Replicated data whose task scores its share of the examples on every rank and gathers
  // the scores (link prediction, through Communicator::gather_rows): every rank evaluates
  // (the evaluation holds collectives), every rank computes the same metrics from the same
  // scores, and rank 0's are broadcast. Not for elastic groups: a rank lost inside the
  // evaluation would end the run. Call before the first unit.
  void gather_evaluation() { gather_evaluation_ = true; }
  bool evaluation_gathered() const { return gather_evaluation_; }
  // Replicated data after a regroup: this rank's share among the survivors.
  std::optional<train::Shard> new_shard() final;

  // The parameter hash of each finished unit (equal on every rank), hex.
  const std::vector<std::string>& parameter_hashes() const { return hashes_; }
  // How often this rank synchronized the model (ddp: every step; diloco: outer steps).
  int64_t synchronizations() const { return syncs_; }
  // Lost peers are dropped instead of ending the run; survivors wait up to `window` for
  // each other when they regroup.
  void set_elastic(std::chrono::milliseconds window);
  // Runs `step` (collectives every rank runs alike); in an elastic group, when it throws
  // DistributedError, regroups and runs it again (`at` names the point for the log). Throws
  // what regrouping throws, and the failure itself when the group is not elastic.
  void survive(const std::string& at, const std::function<void()>& step);

 protected:
  // After begin_unit's broadcast: every rank holds the same parameters and `state`.
  virtual void start_unit(torch::nn::Module& /*model*/, train::FlatAdam& /*optimizer*/,
                          train::TrainState& /*state*/) {}
  // Before end_unit's hash: leave the unit's final model in the parameters.
  virtual void finish_unit(train::FlatAdam& /*optimizer*/) {}
  // Whether every rank ends the unit with the same parameters (checked by their hashes).
  virtual bool ranks_agree_at_end() const { return true; }
  // Before each evaluation: put the model to be evaluated in the parameters.
  virtual void prepare_evaluation(train::FlatAdam& /*optimizer*/) {}
  // After each evaluation (and admission): put the model trained on back in the parameters.
  virtual void resume_training(train::FlatAdam& /*optimizer*/) {}
  // Where the group stands in its round schedule (PeriodicStrategy: steps since the last
  // round), handed to a joiner, which takes it after start_unit.
  virtual int64_t round_phase() const { return 0; }
  virtual void set_round_phase(int64_t /*phase*/) {}
  // After the ranks agree on an epoch's metrics: the strategy's own, the same on every rank.
  virtual void add_metrics(Metrics& /*metrics*/) {}
  // "unit U, epoch E, step S", for the messages of failed collectives.
  std::string where(int64_t epoch, int64_t step) const;
  bool elastic() const { return regroup_window_.has_value(); }

  Communicator& comm_;
  int64_t unit_ = 0;
  int64_t syncs_ = 0;

 private:
  void agree_on_task_metrics(Metrics& metrics, const std::string& where);
  bool every_rank_evaluates() const { return reduce_metrics_ || gather_evaluation_ || comm_.rank() == 0; }
  void share_buffers();
  void load_broadcast_checkpoint(const at::Tensor& buffer, torch::nn::Module& model, train::FlatAdam& optimizer,
                                 train::TrainState& state);
  // Rank 0's `bytes` on every rank (empty elsewhere): the size, then the bytes, broadcast.
  at::Tensor broadcast_bytes(const std::string& bytes, Traffic kind, const std::string& what);
  // The joiner's side of an admission (from begin_unit) and the members' (leave_evaluation).
  void rejoin(torch::nn::Module& model, train::FlatAdam& optimizer, train::TrainState& state);
  void admit_joiners(train::FlatAdam& optimizer);
  // The members' `admit` (the joiner's: none), then rank 0's checkpoint to the joiners
  // (loaded there into `load_into`), then the hash proof.
  void hand_over_state(const std::string& checkpoint, const std::vector<int>& joined, train::FlatAdam& optimizer,
                       train::TrainState* load_into, const std::function<void()>& admit);

  bool partitioned_;     // each part stays with its rank
  bool reduce_metrics_;  // every rank evaluates its share; the weighted sums are all-reduced
  bool gather_evaluation_ = false;  // every rank evaluates its share; the task gathers the scores
  torch::nn::Module* model_ = nullptr;  // the unit's, from begin_unit
  train::TrainState* state_ = nullptr;  // the unit's loop state, from begin_unit
  std::optional<std::chrono::milliseconds> regroup_window_;  // set: elastic
  int64_t steps_ = 0;                                        // survive() calls: the position regroup compares
  int64_t shard_unit_ = -1, shard_generation_ = 0;           // the unit and group of the last new_shard()
  std::function<void(const std::string&)> log_;
  std::vector<std::string> hashes_;
};

// FNV-1a (64 bit) of `size` bytes (parameter and configuration hashes).
uint64_t bytes_hash(const void* data, size_t size);

}  // namespace ripple::dist
